//! Images as pods meet them: `--pull` of `apply` and `run`, kubelet's
//! `Pulling`/`Pulled` events. Root, each test with its own `--root`.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::process::Output;

use common::{Pod, Root};

/// `apply -f` of `yaml` (written as `<name>.yaml`) with `args` added.
fn apply(root: &Root, name: &str, yaml: &str, args: &[&str]) -> Output {
    let file = root.path().join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    let mut all = vec!["apply", "-f", file.to_str().unwrap()];
    all.extend_from_slice(args);
    root.run(&all)
}

fn one_container(name: &str, image: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n    \
         - {{ name: app, image: \"{image}\", command: [sleep, \"600\"] }}\n"
    )
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn pull_never_runs_an_untagged_image_that_is_present() {
    let Some((_g, root)) = common::start(
        "pull_never_runs_an_untagged_image_that_is_present",
        "pull-never-present",
        common::shared,
    ) else {
        return;
    };
    // `busybox` has no tag: Kubernetes' policy is Always, which cannot
    // work on this host (no registry); --pull=never uses the store's
    // busybox:latest.
    let out = apply(
        &root,
        "present",
        &one_container("present", "busybox"),
        &["--pull=never"],
    );
    let _pod = Pod {
        root: &root,
        name: "present".to_owned(),
    };
    assert!(out.status.success(), "{}", stderr(&out));
    let inspect: serde_json::Value =
        serde_json::from_str(&root.ok(&["image", "inspect", "busybox:latest"])).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&root.ok(&["get", "pod", "present", "-o", "json"])).unwrap();
    let status = &json["status"]["containerStatuses"][0];
    assert_eq!(status["imageID"], inspect[0]["Id"], "{json:#}");
    assert!(status["state"]["running"].is_object(), "{json:#}");
    let describe = root.ok(&["describe", "pod", "present"]);
    assert!(
        describe.contains(r#"Container image "busybox" already present on machine"#),
        "{describe}"
    );
    assert!(!describe.contains("Pulling"), "{describe}");
}

#[test]
fn pull_never_refuses_an_absent_image_with_err_image_never_pull() {
    let Some((_g, root)) = common::start(
        "pull_never_refuses_an_absent_image_with_err_image_never_pull",
        "pull-never-absent",
        common::shared,
    ) else {
        return;
    };
    // busybox:9.9 would be IfNotPresent; --pull=never forbids the pull.
    let out = apply(
        &root,
        "absent",
        &one_container("absent", "busybox:9.9"),
        &["--pull=never"],
    );
    let _pod = Pod {
        root: &root,
        name: "absent".to_owned(),
    };
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(
            r#"ErrImageNeverPull: Container image "busybox:9.9" is not present with pull policy of Never"#
        ),
        "{err}"
    );
    assert_eq!(root.pod_leftovers(), Vec::<std::path::PathBuf>::new());

    let run = root.run(&[
        "run",
        "--rm",
        "--pull=never",
        "--network",
        "none",
        "busybox:9.9",
        "true",
    ]);
    assert_eq!(run.status.code(), Some(125), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("ErrImageNeverPull: Container image \"busybox:9.9\" is not present"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn pull_is_podmans_three_words() {
    let tmp = peapod_testkit::TempDir::new("pull-words");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_peapod"))
        .arg("--root")
        .arg(tmp.path())
        .args(["apply", "-f", "x.yaml", "--pull=newer"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("always") && err.contains("missing") && err.contains("never"),
        "{err}"
    );
}
