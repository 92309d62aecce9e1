//! `apply` as kubectl's: a second apply of the same manifest is
//! `unchanged`, a change a running pod may take is `configured` in place
//! (a new image restarts that container with it), any other change is
//! refused with the API server's words and a way out (`replace --force`);
//! `create` stays strict; `-f` takes directories (`-R`), repeats, and
//! `-` for stdin. Root only; each test has its own `--root` and deletes
//! its pods in a drop guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{Pod, Root, shared, start};

/// A pod of one container that counts its starts in an emptyDir.
fn manifest(image: &str, labels: &str, command: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: decl
  labels: {{{labels}}}
spec:
  terminationGracePeriodSeconds: 0
  volumes:
  - name: starts
    emptyDir: {{}}
  containers:
  - name: app
    image: {image}
    command: ["sh", "-c", "echo started >> /starts/log; {command}"]
    volumeMounts:
    - name: starts
      mountPath: /starts
"#
    )
}

/// `peapod ARGS` on `root`: exit code, stdout, stderr.
fn run(root: &Root, args: &[&str]) -> (i32, String, String) {
    let out = root.run(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_second_apply_said_already_exists_and_nothing_could_be_changed_in_place() {
    let Some((_g, root)) = start("declarative_apply", "apply-decl", shared) else {
        return;
    };
    let file = root.path().join("decl.yaml");
    let path = file.to_str().unwrap();
    let write = |yaml: String| std::fs::write(&file, yaml).unwrap();
    let pod = Pod {
        root: &root,
        name: "decl".into(),
    };

    write(manifest("busybox:1.30.1", "app: web", "exec sleep 1000"));
    assert_eq!(run(&root, &["apply", "-f", path]).1, "pod/decl created\n");
    let (code, out, err) = run(&root, &["apply", "-f", path]);
    assert_eq!((code, out.as_str()), (0, "pod/decl unchanged\n"), "{err}");
    let first = pod.json();
    let applied =
        first["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .expect("the last-applied annotation");
    let applied: serde_json::Value = serde_json::from_str(applied).unwrap();
    assert_eq!(applied["spec"]["containers"][0]["image"], "busybox:1.30.1");

    // Labels change in place: same pod, no restart.
    write(manifest(
        "busybox:1.30.1",
        "app: web, tier: front",
        "exec sleep 1000",
    ));
    let (code, out, err) = run(&root, &["apply", "-f", path]);
    assert_eq!((code, out.as_str()), (0, "pod/decl configured\n"), "{err}");
    let labelled = pod.json();
    assert_eq!(labelled["metadata"]["labels"]["tier"], "front");
    assert_eq!(labelled["metadata"]["uid"], first["metadata"]["uid"]);
    assert_eq!(
        labelled["status"]["containerStatuses"][0]["restartCount"],
        0
    );

    // A new image: the container is restarted with it.
    write(manifest(
        "busybox:1.31.1",
        "app: web, tier: front",
        "exec sleep 1000",
    ));
    let (code, out, err) = run(&root, &["apply", "-f", path]);
    assert_eq!((code, out.as_str()), (0, "pod/decl configured\n"), "{err}");
    let restarted = pod.wait_for("the container restarted with the new image", |v| {
        let c = &v["status"]["containerStatuses"][0];
        c["restartCount"] == 1
            && c["image"] == "busybox:1.31.1"
            && c["state"]["running"].is_object()
    });
    assert_eq!(
        restarted["spec"]["containers"][0]["image"],
        "busybox:1.31.1"
    );
    assert_eq!(restarted["metadata"]["uid"], first["metadata"]["uid"]);
    assert_eq!(pod.sh("app", "cat /starts/log"), "started\nstarted\n");
    let describe = root.ok(&["describe", "pod", "decl"]);
    assert!(
        describe.contains("Container app definition changed, will be restarted"),
        "{describe}"
    );

    // Any other field: refused with the API server's words, pod untouched.
    write(manifest(
        "busybox:1.31.1",
        "app: web, tier: front",
        "exec sleep 999",
    ));
    let (code, out, err) = run(&root, &["apply", "-f", path]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.starts_with(
            "The Pod \"decl\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
        ),
        "{err}"
    );
    assert!(err.contains("spec.containers[0].command[2]"), "{err}");
    assert!(
        err.contains(&format!("\"peapod replace --force -f {path}\"")),
        "{err}"
    );
    let after = pod.json();
    assert_eq!(after["metadata"]["uid"], first["metadata"]["uid"]);
    assert_eq!(after["status"]["containerStatuses"][0]["restartCount"], 1);

    // create stays strict, and says what to do.
    let (code, _, err) = run(&root, &["create", "-f", path]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "Error from server (AlreadyExists): pods \"decl\" already exists; use \"peapod apply -f {path}\" to update it, or \"peapod delete pod decl\" first\n"
        )
    );

    // apply --force deletes and recreates a pod whose change was refused.
    let (code, out, err) = run(&root, &["apply", "--force", "-f", path]);
    assert_eq!(
        (code, out.as_str()),
        (0, "pod \"decl\" deleted\npod/decl configured\n"),
        "{err}"
    );
    let forced = pod.json();
    assert_ne!(forced["metadata"]["uid"], first["metadata"]["uid"]);

    // replace --force deletes and recreates: a new pod with the new command.
    let (code, out, err) = run(&root, &["replace", "--force", "-f", path]);
    assert_eq!(
        (code, out.as_str()),
        (0, "pod \"decl\" deleted\npod/decl replaced\n"),
        "{err}"
    );
    let replaced = pod.json();
    assert_ne!(replaced["metadata"]["uid"], forced["metadata"]["uid"]);
    assert_eq!(
        replaced["spec"]["containers"][0]["command"][2],
        "echo started >> /starts/log; exec sleep 999"
    );
    assert_eq!(pod.sh("app", "cat /starts/log"), "started\n");
}

#[test]
fn apply_and_delete_took_one_file_and_no_directory_nor_stdin() {
    let Some((_g, root)) = start("declarative_apply_inputs", "apply-inputs", shared) else {
        return;
    };
    let pod_yaml = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: c\n    image: busybox:1.31.1\n    command: [\"sleep\", \"1000\"]\n"
        )
    };
    let dir = root.path().join("manifests");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("b.yaml"), pod_yaml("in-b")).unwrap();
    std::fs::write(dir.join("a.json"), r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"greeting"},"data":{"word":"hello"}}"#).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a manifest").unwrap();
    std::fs::write(
        dir.join("sub/c.yml"),
        pod_yaml("in-sub").replace(
            "command: [\"sleep\", \"1000\"]",
            "command: [\"sleep\", \"1000\"]\n    env:\n    - name: WORD\n      valueFrom:\n        configMapKeyRef: {name: greeting, key: word}",
        ),
    )
    .unwrap();
    let guards: Vec<Pod<'_>> = ["in-b", "in-sub", "from-stdin"]
        .iter()
        .map(|n| Pod {
            root: &root,
            name: (*n).to_owned(),
        })
        .collect();
    let dir_arg = dir.to_str().unwrap();

    let (code, out, err) = run(&root, &["apply", "-f", dir_arg]);
    assert_eq!((code, out.as_str()), (0, "pod/in-b created\n"), "{err}");
    // -R: the subdirectory's pod reads a ConfigMap of another file.
    let (code, out, err) = run(&root, &["apply", "-R", "-f", dir_arg]);
    assert_eq!(
        (code, out.as_str()),
        (0, "pod/in-b unchanged\npod/in-sub created\n"),
        "{err}"
    );
    assert_eq!(guards[1].sh("c", "echo $WORD"), "hello\n");

    // `-` is stdin, and -f repeats.
    let out = root.feed(
        &[
            "apply",
            "-f",
            "-",
            "-f",
            dir.join("b.yaml").to_str().unwrap(),
        ],
        pod_yaml("from-stdin").as_bytes(),
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "pod/from-stdin created\npod/in-b unchanged\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A bad file of a directory is named, with its line; nothing applied.
    std::fs::write(dir.join("sub/d.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: c\n    imagee: busybox\n").unwrap();
    let (code, out, err) = run(&root, &["apply", "-R", "-f", dir_arg]);
    assert_eq!((code, out.as_str()), (1, ""));
    let bad = dir.join("sub/d.yaml");
    assert!(
        err.contains(&format!("{}:8:", bad.display())),
        "the error names the file and line: {err}"
    );
    assert!(root.run(&["get", "pod", "bad"]).status.code() == Some(1));

    // `delete -f` reads them as `apply -f` does: stdin, repeated, a
    // directory (its subdirectories with -R).
    std::fs::remove_file(&bad).unwrap();
    let out = root.feed(
        &["delete", "-f", "-", "-f", dir_arg],
        pod_yaml("from-stdin").as_bytes(),
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "pod \"from-stdin\" deleted\npod \"in-b\" deleted\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(root.ok(&["get", "pods", "-o", "name"]), "pod/in-sub\n");
    let (code, out, err) = run(
        &root,
        &["delete", "-R", "-f", dir_arg, "--ignore-not-found"],
    );
    assert_eq!(
        (code, out.as_str()),
        (0, "pod \"in-sub\" deleted\n"),
        "{err}"
    );
    assert_eq!(root.ok(&["get", "pods", "-o", "name"]), "");
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, _, err) = run(&root, &["delete", "-f", empty.to_str().unwrap()]);
    assert_eq!(
        (code, err),
        (
            1,
            format!(
                "error: error reading [{}]: recognized file extensions are [.json .yaml .yml] (-R reads subdirectories)\n",
                empty.display()
            )
        )
    );
}

#[test]
fn errors_did_not_say_what_to_do_next() {
    let Some((_g, root)) = start("declarative_apply_errors", "apply-errors", shared) else {
        return;
    };
    let missing = root.path().join("nofile.yaml");
    let (code, _, err) = run(&root, &["apply", "-f", missing.to_str().unwrap()]);
    assert_eq!(
        (code, err),
        (
            1,
            format!("error: the path \"{}\" does not exist\n", missing.display())
        )
    );

    let file = root.path().join("decl.yaml");
    let path = file.to_str().unwrap();
    std::fs::write(&file, manifest("busybox:1.31.1", "", "exec sleep 1000")).unwrap();
    let (code, out, err) = run(&root, &["replace", "-f", path]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            1,
            "",
            "Error from server (NotFound): pods \"decl\" not found; \"peapod get pods -A\" lists the pods\n"
        ),
        "replace creates nothing"
    );
    std::fs::write(&file, manifest("nosuch:9", "", "exec sleep 1000")).unwrap();
    let (code, _, err) = run(&root, &["apply", "--pull=never", "-f", path]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: pod \"decl\" did not start: container \"app\": ErrImageNeverPull"),
        "{err}"
    );
    assert!(
        err.ends_with("; put the image in the store with \"peapod image pull IMAGE\" or \"peapod image load -i ARCHIVE\", then apply again\n"),
        "{err}"
    );
    assert!(root.pod_leftovers().is_empty(), "nothing of it is left");

    std::fs::write(&file, manifest("busybox:1.31.1", "", "exec sleep 1000")).unwrap();
    let _pod = {
        assert_eq!(run(&root, &["apply", "-f", path]).1, "pod/decl created\n");
        Pod {
            root: &root,
            name: "decl".into(),
        }
    };
    let (code, _, err) = run(&root, &["exec", "decl", "-c", "zz", "--", "true"]);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "error: container zz is not valid for pod decl; \"peapod get pod decl -o jsonpath='{.spec.containers[*].name}'\" lists its containers\n"
        )
    );
}
