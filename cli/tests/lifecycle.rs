//! Hooks, probes, termination and deadlines as a user sees them: what the
//! containers write into a shared host folder, the pod's status, and how
//! long a stop takes. Root only; small clocks (grace periods of 1–2 s,
//! `PEAPOD_BACKOFF_BASE_MS`) keep each test a few seconds long.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Pod, Root, shared, start};

/// Applies `yaml` with a 100 ms back-off base; the guard deletes the pod.
fn apply<'a>(root: &'a Root, name: &str, yaml: &str) -> Pod<'a> {
    let file = root.path().join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    let guard = Pod {
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
        "apply {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    guard
}

/// A host folder the pod mounts at `/log`.
fn log_dir(root: &Root) -> PathBuf {
    let dir = root.path().join("shared-log");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn volume(dir: &Path) -> String {
    format!(
        "volumes: [{{ name: log, hostPath: {{ path: {}, type: Directory }} }}]",
        dir.display()
    )
}

fn lines(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The lines of `file` once it has `n` of them (or after [`common::WAIT`]).
fn lines_when(file: &Path, n: usize) -> Vec<String> {
    let deadline = Instant::now() + common::WAIT;
    while lines(file).len() < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    lines(file)
}

/// A shell loop that appends `$1` to /log/stop on SIGTERM and exits; it
/// appends `$1` to /log/ready once its trap is set (see [`wait_ready`]).
const TRAPS_TERM: &str = r#"["sh", "-c", "trap 'echo $0 >> /log/stop; exit 0' TERM; echo $0 >> /log/ready; while true; do sleep 0.1 & wait; done""#;

/// Waits until every one of `names` wrote /log/ready: `apply` returns once
/// a container's process has exec'd, which can be before its shell set its
/// trap, and a PID 1 without a handler ignores SIGTERM.
fn wait_ready(dir: &Path, names: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = lines(&dir.join("ready"));
        if names.iter().all(|n| ready.iter().any(|r| r == n)) {
            return;
        }
        assert!(Instant::now() < deadline, "not ready: {names:?}, {ready:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pod's events file (one JSON object per line).
fn events(root: &Root, pod: &str) -> String {
    let file = root
        .path()
        .join(format!("run/pods/default_{pod}/events.jsonl"));
    std::fs::read_to_string(file).unwrap_or_default()
}

fn status_of<'v>(v: &'v serde_json::Value, list: &str, i: usize) -> &'v serde_json::Value {
    &v["status"][list][i]
}

#[test]
fn seed_001_post_start_writes_the_message_before_apply_returns_and_pre_stop_runs_on_delete() {
    let Some((_host, root)) = start("seed_001", "life-seed001", shared) else {
        return;
    };
    let data = log_dir(&root);
    let pod = root.apply(
        "lifecycle-demo",
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{ name: lifecycle-demo }}
spec:
  {}
  containers:
    - name: lifecycle-demo-container
      image: busybox:1.30.1
      command: ["sleep", "1000"]
      volumeMounts: [{{ name: log, mountPath: /log }}]
      lifecycle:
        postStart:
          exec:
            command: ["/bin/sh", "-c", "echo Hello from the postStart handler > /usr/share/message"]
        preStop:
          exec:
            command: ["/bin/sh", "-c", "echo bye > /log/pre-stop"]
"#,
            volume(&data)
        ),
    );
    assert_eq!(
        pod.sh("lifecycle-demo-container", "cat /usr/share/message"),
        "Hello from the postStart handler\n"
    );
    let v = pod.json();
    let c = status_of(&v, "containerStatuses", 0);
    assert!(c["state"]["running"].is_object(), "{v:#}");
    assert_eq!(c["started"], true, "{v:#}");
    root.ok(&["delete", "pod", "lifecycle-demo", "--grace-period", "1"]);
    assert_eq!(
        std::fs::read_to_string(data.join("pre-stop")).unwrap(),
        "bye\n",
        "preStop ran before the container was stopped"
    );
}

#[test]
fn the_next_container_starts_after_the_post_start_of_the_previous_returned() {
    let Some((_host, root)) = start("post_start_order", "life-order", shared) else {
        return;
    };
    let dir = log_dir(&root);
    let _pod = apply(
        &root,
        "order",
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{ name: order }}
spec:
  {}
  containers:
    - name: c1
      image: busybox:1.30.1
      command: ["sh", "-c", "echo c1 start >> /log/order; exec sleep 1000"]
      volumeMounts: [{{ name: log, mountPath: /log }}]
      lifecycle:
        postStart:
          exec: {{ command: ["sh", "-c", "sleep 0.5; echo c1 postStart done >> /log/order"] }}
    - name: c2
      image: busybox:1.30.1
      command: ["sh", "-c", "echo c2 start >> /log/order; exec sleep 1000"]
      volumeMounts: [{{ name: log, mountPath: /log }}]
"#,
            volume(&dir)
        ),
    );
    // apply returns once c2 started; its first line may still be on its way.
    assert_eq!(
        lines_when(&dir.join("order"), 3),
        ["c1 start", "c1 postStart done", "c2 start"]
    );
}

#[test]
fn a_failing_post_start_kills_the_container_and_the_restart_policy_restarts_it() {
    let Some((_host, root)) = start("post_start_fails", "life-psfail", shared) else {
        return;
    };
    let pod = apply(
        &root,
        "bad-hook",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: bad-hook }
spec:
  containers:
    - name: c
      image: busybox:1.30.1
      command: ["sleep", "1000"]
      lifecycle:
        postStart:
          exec: { command: ["sh", "-c", "exit 4"] }
"#,
    );
    let v = pod.wait_for("two restarts", |v| {
        status_of(v, "containerStatuses", 0)["restartCount"].as_i64() >= Some(2)
    });
    let c = status_of(&v, "containerStatuses", 0);
    // Killed by the supervisor: 128 + SIGKILL.
    assert_eq!(c["lastState"]["terminated"]["exitCode"], 137, "{v:#}");
    let events = events(&root, "bad-hook");
    assert!(
        events.contains(r#""reason":"FailedPostStartHook""#),
        "{events}"
    );
}

#[test]
fn a_container_ignoring_sigterm_is_killed_when_its_grace_period_ends() {
    let Some((_host, root)) = start("grace_kill", "life-grace", shared) else {
        return;
    };
    let _pod = apply(
        &root,
        "stubborn",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: stubborn }
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: c
      image: busybox:1.30.1
      command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"]
"#,
    );
    let t0 = Instant::now();
    root.ok(&["delete", "pod", "stubborn"]);
    let took = t0.elapsed();
    // Not before the grace period; and not after Kubernetes' default 30 s
    // (a grace period ignored) nor never: 23 s of room for a loaded
    // 2-core machine.
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(25),
        "killed after {took:?}, grace 2 s"
    );
    assert!(
        root.pod_leftovers().is_empty(),
        "{:?}",
        root.pod_leftovers()
    );
}

#[test]
fn stop_runs_pre_stop_before_sigterm_and_stops_apps_then_sidecars_last_first() {
    let Some((_host, root)) = start("stop_order", "life-stoporder", shared) else {
        return;
    };
    let dir = log_dir(&root);
    let mount = "volumeMounts: [{ name: log, mountPath: /log }]";
    let container = |name: &str, extra: &str| {
        format!(
            "    - {{ name: {name}, image: busybox:1.30.1, command: {TRAPS_TERM}, \"{name}\"], {mount}{extra} }}\n"
        )
    };
    let sidecar = |name: &str| container(name, ", restartPolicy: Always");
    let pre_stop = r#", lifecycle: { preStop: { exec: { command: ["sh", "-c", "echo pre-stop-app1 >> /log/stop"] } } }"#;
    let yaml = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{ name: stops }}\nspec:\n  terminationGracePeriodSeconds: 60\n  {}\n  initContainers:\n{}{}  containers:\n{}{}",
        volume(&dir),
        sidecar("side1"),
        sidecar("side2"),
        container("app1", pre_stop),
        container("app2", ""),
    );
    let _pod = apply(&root, "stops", &yaml);
    wait_ready(&dir, &["side1", "side2", "app1", "app2"]);
    let t0 = Instant::now();
    root.ok(&["delete", "pod", "stops"]);
    // Each container ends on its signal, so the stop takes well under
    // the 60 s grace period that a missed signal would wait out: half of
    // it leaves a loaded machine ample room.
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    let got = lines(&dir.join("stop"));
    assert_eq!(got.len(), 5, "{got:?}");
    let at = |s: &str| got.iter().position(|l| l == s).unwrap();
    assert!(at("pre-stop-app1") < at("app1"), "{got:?}");
    assert!(at("app1").max(at("app2")) < at("side2"), "{got:?}");
    assert_eq!(&got[3..], ["side2", "side1"], "{got:?}");
}

#[test]
fn a_failing_liveness_probe_restarts_the_container() {
    let Some((_host, root)) = start("liveness", "life-liveness", shared) else {
        return;
    };
    let pod = apply(
        &root,
        "live",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: live }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: busybox:1.30.1
      command: ["sleep", "1000"]
      livenessProbe:
        exec: { command: ["test", "-e", "/tmp/healthy"] }
        periodSeconds: 1
        failureThreshold: 1
"#,
    );
    let v = pod.wait_for("a restart for liveness", |v| {
        status_of(v, "containerStatuses", 0)["restartCount"].as_i64() >= Some(1)
    });
    let c = status_of(&v, "containerStatuses", 0);
    // `sleep` is its PID namespace's init and ignores SIGTERM: SIGKILL
    // after the grace period (at least 2 s after SIGTERM).
    assert_eq!(c["lastState"]["terminated"]["exitCode"], 137, "{v:#}");
    let events = events(&root, "live");
    assert!(events.contains("Liveness probe failed: "), "{events}");
    assert!(
        events.contains("Container c failed liveness probe, will be restarted"),
        "{events}"
    );
}

#[test]
fn a_readiness_probe_flips_ready_and_the_pod_conditions() {
    let Some((_host, root)) = start("readiness", "life-readiness", shared) else {
        return;
    };
    let pod = apply(
        &root,
        "ready",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: ready }
spec:
  containers:
    - name: c
      image: busybox:1.30.1
      command: ["sleep", "1000"]
      readinessProbe:
        exec: { command: ["test", "-e", "/tmp/ready"] }
        periodSeconds: 1
        failureThreshold: 1
"#,
    );
    let condition = |v: &serde_json::Value, t: &str| {
        v["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == t)
            .map(|c| c["status"].clone())
    };
    let v = pod.json();
    assert_eq!(
        status_of(&v, "containerStatuses", 0)["ready"],
        false,
        "{v:#}"
    );
    assert!(root.ok(&["get", "pods"]).contains(" 0/1 "));
    pod.sh("c", "touch /tmp/ready");
    let v = pod.wait_for("ready", |v| {
        status_of(v, "containerStatuses", 0)["ready"] == true
    });
    assert_eq!(condition(&v, "Ready"), Some("True".into()), "{v:#}");
    assert_eq!(
        condition(&v, "ContainersReady"),
        Some("True".into()),
        "{v:#}"
    );
    assert!(root.ok(&["get", "pods"]).contains(" 1/1 "));
    pod.sh("c", "rm /tmp/ready");
    let v = pod.wait_for("not ready", |v| {
        status_of(v, "containerStatuses", 0)["ready"] == false
    });
    assert_eq!(condition(&v, "Ready"), Some("False".into()), "{v:#}");
    assert_eq!(status_of(&v, "containerStatuses", 0)["restartCount"], 0);
}

#[test]
fn active_deadline_stops_every_container_and_fails_the_pod() {
    let Some((_host, root)) = start("active_deadline", "life-deadline", shared) else {
        return;
    };
    let pod = apply(
        &root,
        "deadline",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: deadline }
spec:
  activeDeadlineSeconds: 2
  terminationGracePeriodSeconds: 5
  containers:
    - name: c
      image: busybox:1.30.1
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1 & wait; done"]
"#,
    );
    assert_eq!(pod.json()["status"]["phase"], "Running");
    let v = pod.wait_for("deadline exceeded", |v| {
        v["status"]["reason"] == "DeadlineExceeded"
            && status_of(v, "containerStatuses", 0)["state"]["terminated"].is_object()
    });
    assert_eq!(v["status"]["phase"], "Failed", "{v:#}");
    assert_eq!(
        v["status"]["message"],
        "Pod was active on the node longer than the specified deadline"
    );
    let c = status_of(&v, "containerStatuses", 0);
    // The trap ran: SIGTERM first, no SIGKILL, and no restart.
    assert_eq!(c["state"]["terminated"]["exitCode"], 0, "{v:#}");
    assert_eq!(c["restartCount"], 0, "{v:#}");
    // Not a synchronisation: a window in which a restart, if one came,
    // would show (the first restart is immediate).
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(pod.json()["status"]["phase"], "Failed");
    let events = events(&root, "deadline");
    assert!(
        events.contains(r#""reason":"DeadlineExceeded""#),
        "{events}"
    );
    root.ok(&["delete", "pod", "deadline"]);
    assert!(
        root.pod_leftovers().is_empty(),
        "{:?}",
        root.pod_leftovers()
    );
}

#[test]
fn sigterm_to_the_supervisor_stops_the_pod_as_a_delete_would() {
    let Some((_host, root)) = start("supervisor_sigterm", "life-sigterm", shared) else {
        return;
    };
    let dir = log_dir(&root);
    let pod = apply(
        &root,
        "signalled",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{ name: signalled }}\nspec:\n  terminationGracePeriodSeconds: 60\n  {}\n  containers:\n    - {{ name: c, image: busybox:1.30.1, command: {TRAPS_TERM}, \"c\"], volumeMounts: [{{ name: log, mountPath: /log }}] }}\n",
            volume(&dir)
        ),
    );
    let pid = pod.supervisor_pid();
    wait_ready(&dir, &["c"]);
    let t0 = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    while Path::new(&format!("/proc/{pid}")).exists() && t0.elapsed() < Duration::from_secs(90) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "supervisor still up"
    );
    // Under half the 60 s grace period a missed SIGTERM would wait out.
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    assert_eq!(lines(&dir.join("stop")), ["c"], "the container got SIGTERM");
    assert!(
        root.pod_leftovers().is_empty(),
        "{:?}",
        root.pod_leftovers()
    );
    assert!(!root.ok(&["get", "pods"]).contains("signalled"));
}

#[test]
fn a_sidecar_with_a_startup_probe_holds_the_next_container_until_it_passes() {
    let Some((_host, root)) = start("sidecar_startup", "life-sidecar", shared) else {
        return;
    };
    let dir = log_dir(&root);
    let pod = apply(
        &root,
        "gated",
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{ name: gated }}
spec:
  {}
  initContainers:
    - name: side
      image: busybox:1.30.1
      restartPolicy: Always
      command: ["sh", "-c", "sleep 1; echo side up >> /log/order; touch /tmp/up; exec sleep 1000"]
      volumeMounts: [{{ name: log, mountPath: /log }}]
      startupProbe:
        exec: {{ command: ["test", "-e", "/tmp/up"] }}
        periodSeconds: 1
        failureThreshold: 10
  containers:
    - name: app
      image: busybox:1.30.1
      command: ["sh", "-c", "echo app start >> /log/order; exec sleep 1000"]
      volumeMounts: [{{ name: log, mountPath: /log }}]
"#,
            volume(&dir)
        ),
    );
    let v = pod.wait_for("app running", |v| {
        status_of(v, "containerStatuses", 0)["state"]["running"].is_object()
    });
    assert_eq!(
        status_of(&v, "initContainerStatuses", 0)["started"],
        true,
        "{v:#}"
    );
    assert_eq!(lines_when(&dir.join("order"), 2), ["side up", "app start"]);
}

#[test]
fn a_liveness_restart_runs_pre_stop_then_sigterm() {
    let Some((_host, root)) = start("liveness_pre_stop", "life-livestop", shared) else {
        return;
    };
    let dir = log_dir(&root);
    let pod = apply(
        &root,
        "livestop",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{ name: livestop }}\nspec:\n  terminationGracePeriodSeconds: 5\n  {}\n  containers:\n    - {{ name: c, image: busybox:1.30.1, command: {TRAPS_TERM}, \"c\"], volumeMounts: [{{ name: log, mountPath: /log }}], livenessProbe: {{ exec: {{ command: [\"test\", \"!\", \"-e\", \"/log/ready\"] }}, periodSeconds: 1, failureThreshold: 1 }}, lifecycle: {{ preStop: {{ exec: {{ command: [\"sh\", \"-c\", \"echo pre-stop >> /log/stop\"] }} }} }} }}\n",
            volume(&dir)
        ),
    );
    // The probe fails once the shell wrote /log/ready, so after it set its
    // trap: the first probe runs as the container starts, and a SIGTERM
    // before the trap would be ignored by the PID 1 shell (then SIGKILL).
    let v = pod.wait_for("a restart for liveness", |v| {
        status_of(v, "containerStatuses", 0)["restartCount"].as_i64() >= Some(1)
    });
    // The trap ran (exit 0), well before the 5 s grace period.
    let c = status_of(&v, "containerStatuses", 0);
    assert_eq!(c["lastState"]["terminated"]["exitCode"], 0, "{v:#}");
    assert_eq!(&lines(&dir.join("stop"))[..2], ["pre-stop", "c"]);
}

/// Deletes a pod of an image whose STOPSIGNAL is SIGUSR1, its container
/// trapping USR1, USR2 and TERM (`spec_extra` and `container_extra` go
/// into its spec and container); returns which signal it got.
fn stopped_by(root: &Root, name: &str, spec_extra: &str, container_extra: &str) -> Vec<String> {
    let rootfs = peapod_testkit::busybox_rootfs()
        .to_str()
        .unwrap()
        .to_owned();
    let tag = "busybox:stopsignal";
    root.ok(&["image", "import", "-c", "STOPSIGNAL SIGUSR1", &rootfs, tag]);
    let dir = log_dir(root);
    let traps = ["usr1", "usr2", "term"]
        .map(|s| format!("trap 'echo {s} >> /log/stop; exit 0' {};", s.to_uppercase()))
        .join(" ");
    let _pod = apply(
        root,
        name,
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{ name: {name} }}\nspec:\n{spec_extra}  terminationGracePeriodSeconds: 60\n  {}\n  containers:\n    - {{ name: c, image: \"{tag}\", imagePullPolicy: Never,{container_extra} command: [\"sh\", \"-c\", \"{traps} echo c >> /log/ready; while true; do sleep 0.1 & wait; done\"], volumeMounts: [{{ name: log, mountPath: /log }}] }}\n",
            volume(&dir)
        ),
    );
    wait_ready(&dir, &["c"]);
    let t0 = Instant::now();
    root.ok(&["delete", "pod", name]);
    // Under half the 60 s grace period a missed signal would wait out.
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    lines(&dir.join("stop"))
}

#[test]
fn lifecycle_stop_signal_replaces_the_images() {
    let Some((_host, root)) = start("lifecycle_stop_signal", "life-lcstop", shared) else {
        return;
    };
    let got = stopped_by(
        &root,
        "usr2",
        "  os: { name: linux }\n",
        " lifecycle: { stopSignal: SIGUSR2 },",
    );
    assert_eq!(got, ["usr2"]);
}

#[test]
fn the_image_stop_signal_replaces_sigterm() {
    let Some((_host, root)) = start("stop_signal", "life-stopsignal", shared) else {
        return;
    };
    assert_eq!(stopped_by(&root, "usr1", "", ""), ["usr1"]);
}
