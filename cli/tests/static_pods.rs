//! Static pods (issue 15 item 3): `peapod serve --manifests DIR` starts a
//! new file's pods, replaces a changed file's, deletes a removed file's,
//! and a restarted `serve` leaves running the pods whose file did not
//! change. Root only; its own `--root`; pods deleted in drop guards.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;
#[path = "common/cri_server.rs"]
mod cri_server;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Pod, Root, shared, start};
use cri_server::Serve;
use serde_json::Value;

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned()
}

/// `get pod NAME -o json`, `None` when there is no such pod.
fn pod(root: &Root, name: &str) -> Option<Value> {
    let out = root.run(&["get", "pod", name, "-o", "json"]);
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).unwrap())
}

fn wait_until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + common::WAIT;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until pod `name` runs (and, with `not`, has another uid); its JSON.
fn running(root: &Root, name: &str, not: Option<&Value>) -> Value {
    wait_until(&format!("{name} running"), || {
        pod(root, name).filter(|v| {
            v["status"]["phase"] == "Running" && not.is_none_or(|uid| v["metadata"]["uid"] != *uid)
        })
    })
}

fn manifest(name: &str, says: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{ name: {name} }}
spec:
  terminationGracePeriodSeconds: 0
  containers:
    - name: app
      image: busybox:1.31.1
      command: ["sh", "-c", "echo {says}; exec sleep 1000"]
"#
    )
}

/// Writes `text` to `path` as an editor does: a new file renamed over it.
fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn static_pods_follow_their_files_and_survive_a_restart_of_serve() {
    let Some((_lock, root)) = start(
        "static_pods_follow_their_files_and_survive_a_restart_of_serve",
        "static",
        shared,
    ) else {
        return;
    };
    let dir = root.path().join("manifests");
    std::fs::create_dir_all(&dir).unwrap();
    let (web, other) = (format!("web-{}", host()), format!("other-{}", host()));
    // Guards before serve: serve stops first, then the pods go.
    let _guards = [
        Pod {
            root: &root,
            name: web.clone(),
        },
        Pod {
            root: &root,
            name: other.clone(),
        },
    ];
    let dir_arg = dir.to_str().unwrap();
    let mut serve = Serve::start(root.path(), &["--manifests", dir_arg]);

    // A new file: its pod, named as kubelet names static pods.
    write(&dir.join("web.yaml"), &manifest("web", "v1"));
    let first = running(&root, &web, None);
    assert_eq!(
        first["metadata"]["annotations"]["kubernetes.io/config.source"],
        "file"
    );
    // Running once its process runs: its line reaches the log after.
    wait_until("the pod's log", || {
        (root.ok(&["logs", &web]) == "v1\n").then_some(())
    });

    // A changed file: the pod replaced.
    write(&dir.join("web.yaml"), &manifest("web", "v2"));
    let second = running(&root, &web, Some(&first["metadata"]["uid"]));
    let uid = second["metadata"]["uid"].clone();
    wait_until("the new pod's log", || {
        (root.ok(&["logs", &web]) == "v2\n").then_some(())
    });

    // serve stopped and started again: the pod was not restarted.
    assert!(serve.terminate().success());
    drop(serve);
    let again = pod(&root, &web).unwrap();
    assert_eq!(again["status"]["phase"], "Running");
    let mut serve = Serve::start(root.path(), &["--manifests", dir_arg]);
    // A file added after the restart shows the new serve has synced.
    write(&dir.join("other.yaml"), &manifest("other", "o"));
    running(&root, &other, None);
    let after = pod(&root, &web).unwrap();
    assert_eq!(
        after["metadata"]["uid"], uid,
        "the unchanged pod was replaced"
    );
    assert_eq!(after["status"]["containerStatuses"][0]["restartCount"], 0);
    assert_eq!(root.ok(&["logs", &web]), "v2\n");

    // A removed file: its pod deleted, the other left.
    std::fs::remove_file(dir.join("web.yaml")).unwrap();
    wait_until("the removed file's pod deleted", || {
        pod(&root, &web).is_none().then_some(())
    });
    assert_eq!(pod(&root, &other).unwrap()["status"]["phase"], "Running");
    assert!(serve.terminate().success());
}
