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
/// Describes pod `name` until the text contains `expected`; returns it.
fn describe_until(root: &Root, name: &str, expected: &str) -> String {
    let deadline = Instant::now() + common::WAIT;
    loop {
        let text = root.ok(&["describe", "pod", name]);
        if text.contains(expected) {
            return text;
        }
        assert!(Instant::now() < deadline, "{expected:?} never in:\n{text}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn apply_fast<'a>(root: &'a Root, name: &str, yaml: &str) -> Pod<'a> {
    apply_with(root, name, yaml, &[])
}

/// Applies `yaml` with a 100 ms crash-loop back-off base and `flags`.
fn apply_with<'a>(root: &'a Root, name: &str, yaml: &str, flags: &[&str]) -> Pod<'a> {
    let file = root.path().join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    let pod = Pod {
        root,
        name: name.to_owned(),
    };
    let mut args = vec!["apply", "-f", file.to_str().unwrap()];
    args.extend(flags);
    let out = root
        .command(&args)
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
    let deadline = Instant::now() + common::WAIT;
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
    // Between two restarts the container runs for a moment: describe until
    // one snapshot shows it waiting out its back-off (the waits grow, so
    // one does).
    let text = describe_until(
        &root,
        "crash",
        "    State:          Waiting\n      Reason:       CrashLoopBackOff\n",
    );
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
    // Told to stop, the container waits for the test's `go`: the stop
    // lasts until the test has read it, however slow the machine.
    let dir = root.shared_dir();
    let script = "trap 'until [ -f /s/go ]; do sleep 0.05; done; exit 0' TERM; touch /s/up; sleep 1000 & wait";
    let pod = root.apply(
        "stubborn",
        &common::pod_with_shared("stubborn", "", 3600, script, &dir),
    );
    // Its trap is set (a SIGTERM before it would be ignored).
    let deadline = Instant::now() + common::WAIT;
    while !dir.join("up").exists() {
        assert!(Instant::now() < deadline, "the container never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut delete = root
        .command(&["delete", "pod", "stubborn"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let text = wait_output(&root, &["describe", "pod", "stubborn"], "Killing", |t| {
        t.contains("Killing")
    });
    assert!(
        text.contains("Status:                    Terminating (lasts ")
            && text.contains("Termination Grace Period:  3600s\n"),
        "{text}"
    );
    let table = root.ok(&["get", "pods"]);
    assert!(table.contains(" Terminating "), "{table}");
    let rows = event_rows(&text);
    let started = position(&rows, "Started", "Started container c");
    let killing = position(&rows, "Killing", "Stopping container c");
    assert!(started < killing, "{rows:#?}");
    std::fs::write(dir.join("go"), "").unwrap();
    assert!(delete.wait().unwrap().success());
    drop(pod);
    let out = root.run(&["describe", "pod", "stubborn"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pods \"stubborn\" not found"),
        "{out:?}"
    );
}

/// The STATUS column of `get pods` for the only pod.
fn status_column(root: &Root) -> String {
    let table = root.ok(&["get", "pods"]);
    let row = table.lines().nth(1).unwrap_or_default().to_owned();
    row.split_whitespace().nth(2).unwrap_or_default().to_owned()
}

/// Polls the STATUS column until `last` shows; every distinct value seen,
/// in order.
fn statuses_until(root: &Root, last: &str) -> Vec<String> {
    let deadline = Instant::now() + common::WAIT;
    let mut seen: Vec<String> = Vec::new();
    loop {
        let s = status_column(root);
        if seen.last() != Some(&s) {
            seen.push(s.clone());
        }
        if s == last {
            return seen;
        }
        assert!(Instant::now() < deadline, "no {last}: {seen:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn get_pods_shows_init_progress_then_running() {
    let Some((_host, root)) = start("init_progress", "status-init", shared) else {
        return;
    };
    // Each init container runs until the test's file for it: every stage
    // lasts until the test has seen it.
    let dir = root.shared_dir();
    let _pod = apply_with(
        &root,
        "staged",
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{ name: staged }}
spec:
  initContainers:
    - {{ name: one, image: busybox:1.30.1, command: ["sh", "-c", "until [ -f /s/one ]; do sleep 0.05; done"], volumeMounts: [{{ name: s, mountPath: /s }}] }}
    - {{ name: two, image: busybox:1.30.1, command: ["sh", "-c", "until [ -f /s/two ]; do sleep 0.05; done"], volumeMounts: [{{ name: s, mountPath: /s }}] }}
  containers:
    - {{ name: web, image: busybox:1.30.1, command: ["sleep", "1000"] }}
  volumes: [{{ name: s, hostPath: {{ path: {}, type: Directory }} }}]
"#,
            dir.display()
        ),
        &["--wait=false"],
    );
    let mut seen = statuses_until(&root, "Init:0/2");
    std::fs::write(dir.join("one"), "").unwrap();
    seen.extend(statuses_until(&root, "Init:1/2"));
    std::fs::write(dir.join("two"), "").unwrap();
    seen.extend(statuses_until(&root, "Running"));
    seen.dedup();
    let progress: Vec<&str> = seen
        .iter()
        .map(String::as_str)
        .filter(|s| s.starts_with("Init:"))
        .collect();
    assert_eq!(progress, ["Init:0/2", "Init:1/2"], "{seen:?}");
    let table = root.ok(&["get", "pods"]);
    assert!(table.contains(" 1/1 "), "{table}");
}

#[test]
fn failing_init_container_reads_init_error_or_crash_loop_by_restart_policy() {
    let Some((_host, root)) = start("init_error", "status-init-error", shared) else {
        return;
    };
    let yaml = |policy: &str| {
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{ name: broken }}
spec:
  restartPolicy: {policy}
  initContainers:
    - {{ name: setup, image: busybox:1.30.1, command: ["sh", "-c", "exit 2"] }}
  containers:
    - {{ name: web, image: busybox:1.30.1, command: ["sleep", "1000"] }}
"#
        )
    };
    let pod = apply_with(&root, "broken", &yaml("Never"), &["--wait=false"]);
    statuses_until(&root, "Init:Error");
    let v = pod.wait_for("Failed", |v| v["status"]["phase"] == "Failed");
    assert_eq!(
        v["status"]["initContainerStatuses"][0]["state"]["terminated"]["exitCode"],
        2
    );
    drop(pod);
    let pod = apply_with(&root, "broken", &yaml("Always"), &["--wait=false"]);
    statuses_until(&root, "Init:CrashLoopBackOff");
    let v = pod.wait_for("init restarts", |v| {
        v["status"]["initContainerStatuses"][0]["restartCount"].as_i64() >= Some(2)
    });
    assert_eq!(v["status"]["phase"], "Pending", "{v:#}");
    let table = root.ok(&["get", "pods"]);
    assert!(
        table.contains(" ago)"),
        "RESTARTS shows the last one: {table}"
    );
    let text = root.ok(&["describe", "pod", "broken"]);
    assert!(
        text.contains("Back-off restarting failed container setup in pod broken_default("),
        "{text}"
    );
}

#[test]
fn termination_message_comes_from_the_file_or_the_log_on_error() {
    let Some((_host, root)) = start("termination_message", "status-tmsg", shared) else {
        return;
    };
    let pod = root.apply(
        "farewell",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: farewell }
spec:
  restartPolicy: Never
  containers:
    - name: default-path
      image: busybox:1.30.1
      command: ["sh", "-c", "sleep 0.3; printf 'bye from the file' > /dev/termination-log; exit 1"]
    - name: custom-path
      image: busybox:1.30.1
      terminationMessagePath: /tmp/my-message
      command: ["sh", "-c", "sleep 0.3; echo custom > /tmp/my-message"]
    - name: from-logs
      image: busybox:1.30.1
      terminationMessagePolicy: FallbackToLogsOnError
      command: ["sh", "-c", "sleep 0.3; for i in $(seq 1 100); do echo line $i; done; exit 3"]
    - name: no-fallback-on-success
      image: busybox:1.30.1
      terminationMessagePolicy: FallbackToLogsOnError
      command: ["sh", "-c", "sleep 0.3; echo fine"]
"#,
    );
    let v = pod.wait_for("all exited", |v| {
        let s = &v["status"]["containerStatuses"];
        (0..4).all(|i| !s[i]["state"]["terminated"].is_null())
    });
    let message =
        |i: usize| v["status"]["containerStatuses"][i]["state"]["terminated"]["message"].clone();
    assert_eq!(message(0), "bye from the file", "{v:#}");
    assert_eq!(message(1), "custom\n", "{v:#}");
    let logs = message(2);
    let logs = logs.as_str().unwrap();
    assert!(
        logs.starts_with("line 21\n") && logs.ends_with("line 100\n"),
        "the last 80 lines: {logs:?}"
    );
    assert!(message(3).is_null(), "{v:#}");
    let text = root.ok(&["describe", "pod", "farewell"]);
    assert!(
        text.contains("      Reason:       Error\n      Message:      bye from the file\n"),
        "{text}"
    );
}

const CONFIGURED: &str = r#"
apiVersion: v1
kind: Pod
metadata: { name: configured }
spec:
  containers:
    - name: app
      image: busybox:1.30.1
      command: ["sleep", "1000"]
      env:
        - name: COLOR
          valueFrom: { configMapKeyRef: { name: app-config, key: color } }
        - name: PASSWORD
          valueFrom: { secretKeyRef: { name: app-secret, key: password } }
      envFrom:
        - { prefix: CFG_, configMapRef: { name: app-config } }
      volumeMounts:
        - { name: config, mountPath: /etc/app }
        - { name: secret, mountPath: /etc/secret }
  volumes:
    - { name: config, configMap: { name: app-config } }
    - { name: secret, secret: { secretName: app-secret } }
"#;

#[test]
fn config_dir_feeds_volumes_and_env_as_if_in_the_same_file() {
    let Some((_host, root)) = start("config_dir", "status-config-dir", shared) else {
        return;
    };
    let dir = root.path().join("config");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("app.yaml"),
        r#"
apiVersion: v1
kind: ConfigMap
metadata: { name: app-config }
data:
  color: blue
  settings.ini: "mode=fast\n"
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("secret.json"),
        r#"{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "app-secret"},
            "stringData": {"password": "hunter2"}}"#,
    )
    .unwrap();
    std::fs::write(dir.join("README.txt"), "not a manifest").unwrap();
    let file = root.path().join("configured.yaml");
    std::fs::write(&file, CONFIGURED).unwrap();
    let pod = Pod {
        root: &root,
        name: "configured".into(),
    };
    root.ok(&[
        "apply",
        "-f",
        file.to_str().unwrap(),
        "--config-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(pod.sh("app", "cat /etc/app/settings.ini"), "mode=fast\n");
    assert_eq!(pod.sh("app", "cat /etc/app/color"), "blue");
    assert_eq!(pod.sh("app", "cat /etc/secret/password"), "hunter2");
    assert_eq!(
        pod.sh("app", "echo $COLOR $PASSWORD $CFG_color"),
        "blue hunter2 blue\n"
    );
}

#[test]
fn bad_config_dir_content_is_named_and_leaves_nothing_behind() {
    let Some((_host, root)) = start("config_dir_bad", "status-config-bad", shared) else {
        return;
    };
    let dir = root.path().join("config");
    std::fs::create_dir(&dir).unwrap();
    let broken = dir.join("broken.yaml");
    std::fs::write(
        &broken,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: app-config }\ndata:\n  color: [blue\n",
    )
    .unwrap();
    let file = root.path().join("configured.yaml");
    std::fs::write(&file, CONFIGURED).unwrap();
    let args = [
        "apply",
        "-f",
        file.to_str().unwrap(),
        "--config-dir",
        dir.to_str().unwrap(),
    ];
    let out = root.run(&args);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:5:", broken.display())),
        "file and line: {err}"
    );
    assert_eq!(root.pod_leftovers(), Vec::<std::path::PathBuf>::new());
    // Without the directory, the pod's references are unresolved.
    std::fs::remove_file(&broken).unwrap();
    let out = root.run(&args);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("app-config"), "{err}");
    assert_eq!(root.pod_leftovers(), Vec::<std::path::PathBuf>::new());
}

#[test]
fn downward_api_env_gives_the_pod_its_name_address_and_limits() {
    let Some((_host, root)) = start("downward_env", "status-downward", shared) else {
        return;
    };
    let pod = root.apply(
        "downward",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: downward, labels: { app: shop } }
spec:
  containers:
    - name: app
      image: busybox:1.30.1
      command: ["sleep", "1000"]
      resources: { limits: { memory: 64Mi } }
      env:
        - { name: POD_NAME, valueFrom: { fieldRef: { fieldPath: metadata.name } } }
        - { name: APP, valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } }
        - { name: POD_IP, valueFrom: { fieldRef: { fieldPath: status.podIP } } }
        - name: MEM_MI
          valueFrom: { resourceFieldRef: { resource: limits.memory, divisor: 1Mi } }
        - { name: GREETING, value: "$(POD_NAME) says hi" }
"#,
    );
    let ip = pod.json()["status"]["podIP"].as_str().unwrap().to_owned();
    assert_eq!(
        pod.sh("app", "echo $POD_NAME $APP $POD_IP $MEM_MI; echo $GREETING"),
        format!("downward shop {ip} 64\ndownward says hi\n")
    );
    // describe -f FILE describes the file's pods.
    let file = root.path().join("downward.yaml");
    let text = root.ok(&["describe", "-f", file.to_str().unwrap()]);
    assert!(text.starts_with("Name:             downward\n"), "{text}");
    assert!(
        text.contains("      POD_NAME:   (v1:metadata.name)\n"),
        "{text}"
    );
}
