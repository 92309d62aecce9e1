//! What a user sees of a pod's life: `describe` (containers, conditions,
//! events), the STATUS column of `get pods` through init containers and
//! crashes, termination messages, and `apply --config-dir`. Root only; each
//! test has its own `--root` and deletes its pods in a drop guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{Pod, Root, shared, start};

/// Applies `yaml` with a 100 ms crash-loop back-off base.
fn apply_fast<'a>(root: &'a Root, name: &str, yaml: &str) -> Pod<'a> {
    let file = root.path().join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    let pod = Pod {
        root,
        name: name.to_owned(),
    };
    let out = root
        .command(&["apply", "-f", file.to_str().unwrap()])
        .env("PEAPOD_BACKOFF_BASE_MS", "100")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    pod
}

/// Runs `peapod args` until its stdout satisfies `check`; returns it.
fn wait_output(root: &Root, args: &[&str], what: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = root.run(args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if check(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "{what}: {text}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// The event rows of `describe` as `(type, reason, message)`.
fn event_rows(describe: &str) -> Vec<(String, String, String)> {
    let Some((_, table)) = describe.split_once("\nEvents:\n") else {
        return Vec::new();
    };
    table
        .lines()
        .skip(2)
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            let from = cells.iter().position(|c| *c == "kubelet").unwrap();
            (
                cells[0].to_owned(),
                cells[1].to_owned(),
                cells[from + 1..].join(" "),
            )
        })
        .collect()
}

fn position(rows: &[(String, String, String)], reason: &str, message: &str) -> usize {
    rows.iter()
        .position(|(_, r, m)| r == reason && m.starts_with(message))
        .unwrap_or_else(|| panic!("no {reason} {message:?} in {rows:#?}"))
}

const CRASHING: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: crash
  labels: { app: crash }
spec:
  initContainers:
    - { name: prepare, image: busybox:1.30.1, command: ["true"] }
  containers:
    - name: web
      image: busybox:1.30.1
      command: ["sh", "-c", "exit 3"]
      env: [{ name: GREETING, value: hello }]
      ports: [{ containerPort: 8080 }]
      resources: { limits: { memory: 64Mi } }
      volumeMounts: [{ name: scratch, mountPath: /scratch }]
  volumes: [{ name: scratch, emptyDir: {} }]
"#;

#[test]
fn describe_shows_containers_conditions_and_events_in_order_even_after_kill_9() {
    let Some((_host, root)) = start("describe", "status-describe", shared) else {
        return;
    };
    let pod = apply_fast(&root, "crash", CRASHING);
    pod.wait_for("two restarts", |v| {
        v["status"]["containerStatuses"][0]["restartCount"].as_i64() >= Some(2)
    });
    let text = root.ok(&["describe", "pod", "crash"]);
    for expected in [
        "Name:             crash\n",
        "Namespace:        default\n",
        "Labels:           app=crash\n",
        "Annotations:      <none>\n",
        "Status:           Running\n",
        "Init Containers:\n  prepare:\n",
        "    State:          Terminated\n      Reason:       Completed\n      Exit Code:    0\n",
        "Containers:\n  web:\n",
        "    Port:          8080/TCP\n",
        "    State:          Waiting\n      Reason:       CrashLoopBackOff\n",
        "    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    3\n",
        "    Limits:\n      memory:  64Mi\n",
        "    Environment:\n      GREETING:  hello\n",
        "    Mounts:\n      /scratch from scratch (rw)\n",
        "Conditions:\n  Type                        Status\n",
        "  Initialized                 True \n",
        "  Ready                       False \n",
        "Volumes:\n  scratch:\n",
        "QoS Class:",
        "Events:\n  Type     Reason   Age",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert!(text.contains("Start Time:       "), "{text}");
    let rows = event_rows(&text);
    let image = r#"Container image "busybox:1.30.1" already present on machine"#;
    let pulled = position(&rows, "Pulled", image);
    let created_init = position(&rows, "Created", "Created container: prepare");
    let started_init = position(&rows, "Started", "Started container prepare");
    let created_web = position(&rows, "Created", "Created container: web");
    let started_web = position(&rows, "Started", "Started container web");
    let back_off = position(
        &rows,
        "BackOff",
        "Back-off restarting failed container web in pod crash_default(",
    );
    assert!(
        pulled < created_init && created_init < started_init && started_init < created_web,
        "{rows:#?}"
    );
    assert!(created_web < started_web, "{rows:#?}");
    assert_eq!(rows[back_off].0, "Warning");
    // The web container's repeated events are coalesced: `(xN over ...)`.
    let started = text
        .lines()
        .find(|l| l.contains("Started container web"))
        .unwrap();
    assert!(started.contains(" over "), "{text}");

    // With its supervisor gone, describe reads the pod from its state.
    let sup = pod.supervisor_pid();
    Command::new("kill")
        .args(["-9", &sup.to_string()])
        .status()
        .unwrap();
    let text = wait_output(&root, &["describe", "pod", "crash"], "Unknown", |t| {
        t.contains("Status:           Unknown\n")
    });
    assert!(text.contains("Started container web"), "{text}");
}

#[test]
fn describe_shows_killing_while_a_pod_stops() {
    let Some((_host, root)) = start("describe_killing", "status-killing", shared) else {
        return;
    };
    let pod = root.apply(
        "stubborn",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: stubborn }
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - { name: web, image: busybox:1.30.1, command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"] }
"#,
    );
    let mut delete = root
        .command(&["delete", "pod", "stubborn"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let text = wait_output(&root, &["describe", "pod", "stubborn"], "Killing", |t| {
        t.contains("Killing")
    });
    let rows = event_rows(&text);
    let started = position(&rows, "Started", "Started container web");
    let killing = position(&rows, "Killing", "Stopping container web");
    assert!(started < killing, "{rows:#?}");
    assert!(delete.wait().unwrap().success());
    drop(pod);
    let out = root.run(&["describe", "pod", "stubborn"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pods \"stubborn\" not found"),
        "{out:?}"
    );
}
