//! `peapod wait`: kubectl's conditions, `delete`, `jsonpath=`, its
//! messages and its timeout. Root only; each test has its own `--root` and
//! deletes its pods in a drop guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::process::Stdio;

use common::{shared, start};

/// A pod that turns Ready once `/tmp/ready` exists in its container.
const READY_ON_FILE: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: r
  labels: {app: waiter}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox:1.31.1
    command: ["sleep", "1000"]
    readinessProbe:
      exec: {command: ["test", "-f", "/tmp/ready"]}
      periodSeconds: 1
"#;

#[test]
fn wait_returns_when_the_condition_is_met_and_says_so() {
    let Some((_g, root)) = start("wait_condition", "wait-condition", shared) else {
        return;
    };
    let pod = root.apply("r", READY_ON_FILE);
    let waiter = root
        .command(&["wait", "pod/r", "--for=condition=Ready", "--timeout=5m"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut by_label = root
        .command(&[
            "wait",
            "pods",
            "-l",
            "app=waiter",
            "--for",
            "condition=ready",
        ])
        .args(["--timeout", "5m"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Not ready yet, and the waiter still waits.
    let v = pod.json();
    let ready = v["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .unwrap()["status"]
        .clone();
    assert_eq!(ready, "False", "{v:#}");
    assert!(
        by_label.try_wait().unwrap().is_none(),
        "wait returned early"
    );
    pod.sh("c", "touch /tmp/ready");
    let out = waiter.wait_with_output().unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).as_ref(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(0), "pod/r condition met\n", "")
    );
    let out = by_label.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "pod/r condition met\n"
    );
    assert_eq!(
        pod.root
            .outcome(&["wait", "pod", "r", "--for=jsonpath={.status.phase}=Running"]),
        (0, "pod/r condition met\n".to_owned(), String::new())
    );
}

#[test]
fn wait_times_out_with_kubectls_message_and_sees_a_deletion() {
    let Some((_g, root)) = start("wait_timeout", "wait-timeout", shared) else {
        return;
    };
    let _pod = root.apply("r", READY_ON_FILE);
    assert_eq!(
        root.outcome(&[
            "wait",
            "pod/r",
            "--for=jsonpath={.status.phase}=Succeeded",
            "--timeout=1s"
        ]),
        (
            1,
            String::new(),
            "error: timed out waiting for the condition on pods/r\n".to_owned()
        )
    );
    assert_eq!(
        root.outcome(&["wait", "pod/nosuch", "--for=condition=Ready"]),
        (
            1,
            String::new(),
            "Error from server (NotFound): pods \"nosuch\" not found; \"peapod get pods -A\" lists the pods\n".to_owned()
        )
    );
    assert_eq!(
        root.outcome(&["wait", "pods", "-l", "app=none", "--for=delete"]),
        (
            1,
            String::new(),
            "error: no matching resources found\n".to_owned()
        )
    );
    let waiter = root
        .command(&["wait", "pod/r", "--for=delete", "--timeout=5m"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    root.ok(&["delete", "pod", "r", "--grace-period=0"]);
    let out = waiter.wait_with_output().unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).as_ref()
        ),
        (Some(0), "pod/r condition met\n")
    );
}
