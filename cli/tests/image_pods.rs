//! Images as pods meet them: `--pull` of `apply` and `run`, kubelet's
//! `Pulling`/`Pulled` events. Root, each test with its own `--root`.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;
#[path = "../../image/tests/common/layout.rs"]
mod layout;
#[path = "../../image/tests/common/registry.rs"]
mod registry;

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

#[test]
fn image_rm_refuses_an_image_a_pod_uses_and_prune_keeps_it() {
    let Some((_g, root)) = common::start(
        "image_rm_refuses_an_image_a_pod_uses_and_prune_keeps_it",
        "image-in-use",
        common::shared,
    ) else {
        return;
    };
    let rootfs = peapod_testkit::busybox_rootfs()
        .to_str()
        .unwrap()
        .to_owned();
    let id = root
        .ok(&[
            "image",
            "import",
            "-c",
            "ENV IN_USE=yes",
            &rootfs,
            "localhost/inuse:1",
        ])
        .trim()
        .to_owned();
    let out = apply(
        &root,
        "user",
        &one_container("user", "localhost/inuse:1"),
        &[],
    );
    let pod = Pod {
        root: &root,
        name: "user".to_owned(),
    };
    assert!(out.status.success(), "{}", stderr(&out));

    let refused = root.run(&["image", "rm", "localhost/inuse:1"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains(r#"image "localhost/inuse:1" is in use by pod default/user"#),
        "{}",
        stderr(&refused)
    );
    let by_id = root.run(&["image", "rm", &id]);
    assert!(
        stderr(&by_id).contains("is in use by pod default/user"),
        "{}",
        stderr(&by_id)
    );

    // prune -a removes every other image, not this one.
    let pruned = root.ok(&["image", "prune", "-a"]);
    assert!(!pruned.contains(&id[7..]), "{pruned}");
    assert!(!pruned.is_empty(), "the busybox tags no pod uses go");
    let ls = root.ok(&["image", "ls", "--no-trunc"]);
    assert!(
        ls.contains("localhost/inuse") && !ls.contains("busybox"),
        "{ls}"
    );

    // --force takes the name; the image stays, unnamed, for the pod.
    let forced = root.ok(&["image", "rm", "--force", "localhost/inuse:1"]);
    assert_eq!(forced.trim(), "Untagged: localhost/inuse:1");
    let ls = root.ok(&["image", "ls", "--no-trunc"]);
    assert!(ls.contains("<none>") && ls.contains(&id), "{ls}");
    assert_eq!(
        pod.sh("app", "echo $IN_USE; cat /bin/busybox | wc -c")
            .lines()
            .next(),
        Some("yes")
    );
    assert_eq!(root.ok(&["image", "prune"]), "", "still used");

    drop(pod);
    assert_eq!(root.ok(&["image", "prune"]).trim(), &id[7..]);
    assert_eq!(root.ok(&["image", "ls", "-q"]), "");
}

#[test]
fn a_docker_io_mirror_in_registries_conf_serves_image_busybox() {
    let Some((_g, root)) = common::start(
        "a_docker_io_mirror_in_registries_conf_serves_image_busybox",
        "mirror",
        common::shared,
    ) else {
        return;
    };
    // The mirror holds a busybox of three layers, the last adding /hello.
    let dir = root.path().join("layout");
    std::fs::create_dir_all(&dir).unwrap();
    layout::add_image(
        &dir,
        "busybox",
        &layout::three_layers(peapod_testkit::busybox_rootfs()),
        "/bin/sh",
    );
    let reg = registry::Registry::start(None);
    reg.push(&dir, "busybox", "hub/library/busybox:latest", None);
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(
        root.path().join("etc/registries.conf"),
        format!(
            "unqualified-search-registries = [\"docker.io\"]\n\n[[registry]]\n\
             prefix = \"docker.io\"\nlocation = \"docker.io\"\n\n[[registry.mirror]]\n\
             location = \"{}/hub\"\ninsecure = true\n",
            reg.host()
        ),
    )
    .unwrap();

    // `busybox` is Always: pulled, and docker.io is out of reach here.
    let out = apply(
        &root,
        "mirrored",
        &one_container("mirrored", "busybox"),
        &[],
    );
    let pod = Pod {
        root: &root,
        name: "mirrored".to_owned(),
    };
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(pod.sh("app", "cat /hello"), "world\n");
    let describe = root.ok(&["describe", "pod", "mirrored"]);
    assert!(
        describe.contains(r#"Pulling image "busybox""#),
        "{describe}"
    );
    let pulled = describe
        .lines()
        .find(|l| l.contains("Successfully pulled image"))
        .unwrap_or_else(|| panic!("{describe}"));
    assert!(
        pulled.contains(r#"Successfully pulled image "busybox" in "#)
            && pulled.contains(" including waiting). Image size: "),
        "{pulled}"
    );
    // Stored under the name the pod gave, not the mirror's.
    let inspect: serde_json::Value =
        serde_json::from_str(&root.ok(&["image", "inspect", "docker.io/library/busybox:latest"]))
            .unwrap();
    assert_eq!(inspect[0]["LayerDirs"].as_array().unwrap().len(), 3);
    assert!(!root.ok(&["image", "ls"]).contains(&reg.host()));

    // busybox:1.30.1 is in the store (imported, no /hello) and would be
    // IfNotPresent: --pull=always pulls the mirror's anyway.
    reg.push(&dir, "busybox", "hub/library/busybox:1.30.1", None);
    let out = apply(
        &root,
        "always",
        &one_container("always", "busybox:1.30.1"),
        &["--pull=always"],
    );
    let always = Pod {
        root: &root,
        name: "always".to_owned(),
    };
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(always.sh("app", "cat /hello"), "world\n");
    drop(always);
    // `busybox` (Always by Kubernetes' rule) with --pull=missing: the
    // store has it, no pull.
    let out = apply(
        &root,
        "missing",
        &one_container("missing", "busybox"),
        &["--pull=missing"],
    );
    let _missing = Pod {
        root: &root,
        name: "missing".to_owned(),
    };
    assert!(out.status.success(), "{}", stderr(&out));
    let describe = root.ok(&["describe", "pod", "missing"]);
    assert!(
        describe.contains(r#"Container image "busybox" already present on machine"#)
            && !describe.contains("Pulling"),
        "{describe}"
    );

    // A tag neither the mirror nor (unreachable) docker.io has.
    let out = apply(
        &root,
        "absent",
        &one_container("absent", "busybox:9.9"),
        &[],
    );
    let _absent = Pod {
        root: &root,
        name: "absent".to_owned(),
    };
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(r#"ErrImagePull: Failed to pull image "busybox:9.9": "#),
        "{}",
        stderr(&out)
    );

    // A file peapod would not follow is refused, naming it.
    std::fs::write(
        root.path().join("etc/registries.conf"),
        "[aliases]\nbusybox = \"quay.io/x/busybox\"\n",
    )
    .unwrap();
    let refused = root.run(&["image", "pull", "busybox"]);
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(
        err.contains(&format!("{}/etc/registries.conf", root.path().display()))
            && err.contains("aliases"),
        "{err}"
    );
}

/// The files and folders of `dir`, relative, sorted (`d ` folders).
fn tree(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            if p.is_dir() && !p.is_symlink() {
                out.push(format!("d {rel}"));
                pending.push(p);
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

/// The mount points a pod needs on its image's root and the image lacks
/// (`/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`, a volume's folder
/// below a missing one) come from one layer per image, made once: no
/// container's upper layer on disk gets a copy of them (before, each
/// container's overlay copied `/etc` and `/usr` up and made them there:
/// six inodes a container, as many removals at delete), the containers
/// see them as before, and the layer goes with its image.
#[test]
fn mount_points_come_from_one_layer_per_image_not_from_copies_per_container() {
    let Some((_g, root)) = common::start(
        "mount_points_come_from_one_layer_per_image_not_from_copies_per_container",
        "mount-point-layer",
        common::shared,
    ) else {
        return;
    };
    let yaml = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n    \
             - {{ name: one, image: busybox:1.30.1, command: [sleep, \"600\"], \
             volumeMounts: [{{ name: logs, mountPath: /usr/logs/data }}] }}\n    \
             - {{ name: two, image: busybox:1.30.1, command: [sleep, \"600\"], \
             volumeMounts: [{{ name: logs, mountPath: /usr/logs/data }}] }}\n  \
             volumes: [{{ name: logs, emptyDir: {{}} }}]\n"
        )
    };
    let pods = [
        root.apply("mpl-a", &yaml("mpl-a")),
        root.apply("mpl-b", &yaml("mpl-b")),
    ];
    for pod in &pods {
        for c in ["one", "two"] {
            let seen = pod.sh(
                c,
                "cat /etc/hostname; grep -c localhost /etc/hosts; \
                 echo $HOSTNAME-$0 > /usr/logs/data/$0 && cat /usr/logs/data/$0; \
                 stat -c '%a %U' /etc /usr",
            );
            let want = format!("{0}\n2\n{0}-sh\n755 root\n755 root\n", pod.name);
            assert_eq!(seen, want, "{} {c}", pod.name);
        }
    }
    for pod in &pods {
        let uid = pod.json()["metadata"]["uid"].as_str().unwrap().to_owned();
        for c in ["one", "two"] {
            let upper = root
                .path()
                .join(format!("lib/pods/{uid}/containers/{c}/upper"));
            assert_eq!(
                tree(&upper),
                Vec::<String>::new(),
                "{} {c}: upper",
                pod.name
            );
            // The mount point and the filter record live on `<run>`
            // (tmpfs), not beside the layer on the disk.
            let on_disk = upper.parent().unwrap();
            let on_run = root.path().join(format!("run/mounts/{uid}/containers/{c}"));
            for name in ["rootfs", "seccomp.bpf"] {
                assert!(
                    !on_disk.join(name).exists(),
                    "{} {c}: {name} on disk",
                    pod.name
                );
                assert!(
                    on_run.join(name).exists(),
                    "{} {c}: {name} on run",
                    pod.name
                );
            }
        }
        assert!(!root.path().join(format!("lib/pods/{uid}/shm")).exists());
        assert!(root.path().join(format!("run/mounts/{uid}/shm")).is_dir());
    }
    let layers = root.path().join("lib/images/mountpoints");
    let made: Vec<_> = std::fs::read_dir(&layers)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        made.len(),
        1,
        "one layer for the image and these paths: {made:?}"
    );
    assert_eq!(
        tree(&made[0]),
        [
            "d etc",
            "d usr",
            "d usr/logs",
            "d usr/logs/data",
            "etc/hostname",
            "etc/hosts",
            "etc/resolv.conf"
        ]
    );
    drop(pods);
    assert_eq!(tree(&root.path().join("run/mounts")), Vec::<String>::new());
    root.ok(&["image", "prune", "--all"]);
    assert_eq!(tree(&layers), Vec::<String>::new(), "gone with the image");
}
