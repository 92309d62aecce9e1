//! Resource rules a kubelet enforces (issue 14 item 4): local storage
//! eviction (emptyDir `sizeLimit`, container `ephemeral-storage`) and
//! CRI log rotation (`containerLogMaxSize`/`MaxFiles`, `logs` across the
//! rotated files, `--tail`, `-f` across a rotation). Root only; each test has its own `--root` and
//! deletes its pods in a drop guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Pod, Root, cgroups_of, shared, start};

/// The eviction check every 100 ms instead of kubelet's 10 s.
const FAST_EVICTION: [(&str, &str); 1] = [("PEAPOD_EVICTION_PERIOD_MS", "100")];

/// A `logs -f` killed when the test ends, however it ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `peapod args` until its stdout satisfies `check`; returns it.
fn wait_output(root: &Root, args: &[&str], check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + common::WAIT;
    loop {
        let out = String::from_utf8(root.run(args).stdout).unwrap();
        if check(&out) {
            return out;
        }
        assert!(Instant::now() < deadline, "peapod {args:?}: {out}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn uid(pod: &Pod<'_>) -> String {
    pod.json()["metadata"]["uid"].as_str().unwrap().to_owned()
}

/// Pod `name` whose container writes 256 KiB into emptyDir `cache`
/// (`empty_dir` its source), then (`then`: a shell separator) sleeps.
fn empty_dir_writer(name: &str, empty_dir: &str, then: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{ name: {name} }}
spec:
  containers:
    - name: writer
      image: busybox:1.30.1
      command: ["sh", "-c", "dd if=/dev/zero of=/cache/fill bs=1024 count=256 {then} exec sleep 1000"]
      volumeMounts: [{{ name: cache, mountPath: /cache }}]
  volumes:
    - name: cache
      emptyDir: {empty_dir}
"#
    )
}

/// Waits until the pod is evicted; returns its JSON.
fn wait_evicted(pod: &Pod<'_>) -> serde_json::Value {
    pod.wait_for("pod evicted, its containers stopped", |v| {
        let stopped = v["status"]["containerStatuses"]
            .as_array()
            .is_some_and(|cs| cs.iter().all(|c| c["state"]["terminated"].is_object()));
        v["status"]["reason"] == "Evicted" && stopped
    })
}

/// Deletes the evicted pod and checks the host holds nothing of it.
fn delete_leaves_nothing(root: &Root, pod: Pod<'_>) {
    let id = uid(&pod);
    root.ok(&["delete", "pod", &pod.name]);
    assert_eq!(cgroups_of(&id), Vec::<PathBuf>::new());
    assert_eq!(root.pod_leftovers(), Vec::<PathBuf>::new());
    drop(pod);
}

#[test]
fn empty_dir_past_its_size_limit_evicts_the_pod_with_kubelets_message() {
    let Some((_host, root)) = start("empty_dir_size_limit", "limits-emptydir", shared) else {
        return;
    };
    let yaml = empty_dir_writer("hog", "{ sizeLimit: 64Ki }", "&&");
    let pod = root.apply_with_env("hog", &yaml, &FAST_EVICTION);
    let v = wait_evicted(&pod);
    let message = "Usage of EmptyDir volume \"cache\" exceeds the limit \"64Ki\". ";
    assert_eq!(v["status"]["phase"], "Failed", "{v:#}");
    assert_eq!(v["status"]["message"], message, "{v:#}");
    // The STATUS column is kubectl's: the stopped container's reason
    // (`Error`, as kubectl prints an evicted pod since Kubernetes 1.22).
    let get = root.ok(&["get", "pods"]);
    assert!(get.contains("hog") && get.contains("0/1"), "{get}");
    let describe = root.ok(&["describe", "pod", "hog"]);
    let field = |name: &str| {
        describe
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(field("Status:"), "Failed", "{describe}");
    assert_eq!(field("Reason:"), "Evicted", "{describe}");
    assert_eq!(field("Message:"), message.trim_end(), "{describe}");
    assert!(
        describe.contains("Warning  Evicted"),
        "the event: {describe}"
    );
    delete_leaves_nothing(&root, pod);
}

#[test]
fn memory_empty_dir_is_bounded_by_its_tmpfs_and_never_evicted() {
    let Some((_host, root)) = start("memory_empty_dir_size_limit", "limits-memory", shared) else {
        return;
    };
    let yaml = empty_dir_writer(
        "ram",
        "{ medium: Memory, sizeLimit: 64Ki }",
        "; echo dd=$?;",
    );
    let pod = root.apply_with_env("ram", &yaml, &FAST_EVICTION);
    let log = wait_output(&root, &["logs", "ram"], |out| out.contains("dd="));
    assert!(
        log.contains("dd=1"),
        "the write past the limit fails: {log}"
    );
    let out = pod.sh("writer", "du -k /cache/fill");
    let kib: u64 = out.split_whitespace().next().unwrap().parse().unwrap();
    assert!(kib <= 64, "the tmpfs holds at most its sizeLimit: {out}");
    assert_eq!(pod.json()["status"]["phase"], "Running");
}

/// Pod `name`: `writer` (ephemeral-storage 64Ki) writes 256 KiB into its
/// writable layer; `idle` has the limit `idle_limit`, or none.
fn layer_writer(name: &str, idle_limit: Option<&str>) -> String {
    let idle = idle_limit.map_or_else(String::new, |l| {
        format!("      resources: {{ limits: {{ ephemeral-storage: {l} }} }}\n")
    });
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{ name: {name} }}
spec:
  containers:
    - name: writer
      image: busybox:1.30.1
      command: ["sh", "-c", "dd if=/dev/zero of=/tmp/fill bs=1024 count=256 && exec sleep 1000"]
      resources: {{ limits: {{ ephemeral-storage: 64Ki }} }}
    - name: idle
      image: busybox:1.30.1
      command: ["sleep", "1000"]
{idle}"#
    )
}

#[test]
fn ephemeral_storage_past_the_pod_or_container_limit_evicts_the_pod() {
    let Some((_host, root)) = start("container_ephemeral_storage", "limits-container", shared)
    else {
        return;
    };
    // The pod's limit is the sum of the limits given (kubelet's
    // PodLimits): 10Mi + 64Ki holds and the writer's own does not; with
    // `idle` unlimited it is 64Ki, and the pod's usage is checked first.
    let cases = [
        (
            "layer",
            Some("10Mi"),
            "Container writer exceeded its local ephemeral storage limit \"64Ki\". ",
        ),
        (
            "whole",
            None,
            "Pod ephemeral local storage usage exceeds the total limit of containers 64Ki. ",
        ),
    ];
    for (name, idle_limit, message) in cases {
        let pod = root.apply_with_env(name, &layer_writer(name, idle_limit), &FAST_EVICTION);
        let v = wait_evicted(&pod);
        assert_eq!(v["status"]["phase"], "Failed", "{v:#}");
        assert_eq!(v["status"]["message"], message, "{v:#}");
        delete_leaves_nothing(&root, pod);
    }
}

/// Log files of 64 KiB, three a run, instead of kubelet's 10 MiB and 5.
const SMALL_LOGS: [(&str, &str); 2] = [
    ("PEAPOD_CONTAINER_LOG_MAX_SIZE", "64Ki"),
    ("PEAPOD_CONTAINER_LOG_MAX_FILES", "3"),
];

/// The files of container `container`'s log folder.
fn log_files(root: &Root, pod: &Pod<'_>, container: &str) -> Vec<String> {
    let dir = root
        .path()
        .join(format!("log/default_{}_{}/{container}", pod.name, uid(pod)));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `flood` writes 20,000 numbered lines (about 15 files' worth), then
/// `done`; `burst` says `ready`, waits for `/tmp/go`, then writes 2,000
/// numbered lines (one rotation) and `end`.
const CHATTY: &str = r#"
apiVersion: v1
kind: Pod
metadata: { name: chatty }
spec:
  containers:
    - name: flood
      image: busybox:1.30.1
      command: ["sh", "-c", "seq 1 20000; echo done; exec sleep 1000"]
    - name: burst
      image: busybox:1.30.1
      command: ["sh", "-c", "echo ready; until [ -e /tmp/go ]; do sleep 0.1; done; seq 100001 102000; echo end; exec sleep 1000"]
"#;

#[test]
fn container_logs_rotate_at_the_size_keep_max_files_and_read_in_order() {
    let Some((_host, root)) = start("container_log_rotation", "limits-logs", shared) else {
        return;
    };
    let pod = root.apply_with_env("chatty", CHATTY, &SMALL_LOGS);
    let last = wait_output(
        &root,
        &["logs", "chatty", "-c", "flood", "--tail", "1"],
        |out| out == "done\n",
    );
    assert_eq!(last, "done\n");
    let files = log_files(&root, &pod, "flood");
    assert!(files.len() <= 3, "at most maxFiles: {files:?}");
    assert!(
        files.iter().any(|f| f.starts_with("0.log.")),
        "rotated: {files:?}"
    );
    let all = root.ok(&["logs", "chatty", "-c", "flood"]);
    let mut lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.pop(), Some("done"), "{all}");
    let numbers: Vec<u32> = lines.iter().map(|l| l.parse().unwrap()).collect();
    assert_eq!(numbers.last(), Some(&20000));
    assert!(numbers[0] > 1, "the oldest files are gone");
    assert!(
        numbers.windows(2).all(|w| w[1] == w[0] + 1),
        "in order, none twice, none missing between the first and the last"
    );
    let tail = root.ok(&["logs", "chatty", "-c", "flood", "--tail", "3"]);
    assert_eq!(tail, "19999\n20000\ndone\n");

    // `logs -f` follows across a rotation: it holds 0.log open when the
    // burst rotates it.
    let mut follow = root
        .command(&["logs", "chatty", "-c", "burst", "-f"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = follow.stdout.take().unwrap();
    let _follow = KillOnDrop(follow);
    let (lines_tx, lines_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if lines_tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let next = || lines_rx.recv_timeout(common::WAIT).unwrap();
    assert_eq!(next(), "ready");
    pod.sh("burst", "touch /tmp/go");
    let mut followed = Vec::new();
    loop {
        let line = next();
        if line == "end" {
            break;
        }
        followed.push(line.parse::<u32>().unwrap());
    }
    assert_eq!(followed, (100_001..=102_000).collect::<Vec<u32>>());
    let files = log_files(&root, &pod, "burst");
    assert!(
        files.iter().any(|f| f.starts_with("0.log.")),
        "the burst rotated the followed file: {files:?}"
    );
}

#[test]
fn a_crash_loop_keeps_the_logs_of_the_current_and_the_previous_run_only() {
    let Some((_host, root)) = start("crash_loop_log_runs", "limits-runs", shared) else {
        return;
    };
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata: { name: crashy }
spec:
  containers:
    - name: c
      image: busybox:1.30.1
      command: ["sh", "-c", "echo run; exit 1"]
"#;
    let pod = root.apply_with_env("crashy", yaml, &[("PEAPOD_BACKOFF_BASE_MS", "20")]);
    let restarts =
        |v: &serde_json::Value| v["status"]["containerStatuses"][0]["restartCount"].as_i64();
    pod.wait_for("three restarts", |v| restarts(v) >= Some(3));
    let files = log_files(&root, &pod, "c");
    assert!(
        !files.iter().any(|f| f == "0.log" || f == "1.log"),
        "runs before the previous one are gone: {files:?}"
    );
    assert!(files.len() <= 2, "{files:?}");
    assert_eq!(root.ok(&["logs", "crashy", "--previous"]), "run\n");
}
