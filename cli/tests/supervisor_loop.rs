//! Nothing a container or a client does holds up a pod's supervisor: a
//! container flooding its stdout leaves `get`, `exec` and `delete` going,
//! and clients that connect to the control socket and say nothing do not
//! delay a `delete`. Root only. The flood test prints the medians it
//! measured (with `--nocapture`); `benches/README.md` keeps the figures.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::{Root, shared, start};

/// A container writing 1 GiB of NULs to its stdout as fast as it can
/// (faster than any reader: no newline, so the log gets 16 KiB partial
/// records), beside a quiet one (`c`).
fn flood_pod(name: &str) -> String {
    let flood = "    - { name: flood, image: busybox:1.30.1, command: [dd, if=/dev/zero, bs=1M, count=1024] }\n";
    sleeping_pod(name, flood)
}

/// Pod `name` with one container `c` sleeping, `more` added to its spec.
fn sleeping_pod(name: &str, more: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata: {{ name: {name} }}
spec:
  containers:
    - name: c
      image: busybox:1.30.1
      command: [sleep, '1000']
{more}"
    )
}

/// Applies `yaml` (pod `name`); the guard deletes the pod.
fn apply<'a>(root: &'a Root, name: &str, yaml: &str) -> common::Pod<'a> {
    let file = root.path().join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    let guard = common::Pod {
        root,
        name: name.to_owned(),
    };
    root.ok(&["apply", "-f", file.to_str().unwrap()]);
    guard
}

fn timed(root: &Root, args: &[&str]) -> Duration {
    let t = Instant::now();
    root.ok(args);
    t.elapsed()
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort_unstable();
    d[d.len() / 2]
}

/// What the process of container `flood` of pod `name` wrote so far
/// (`wchar` of `/proc/<pid>/io`; the log itself rotates).
fn flood_written(root: &Root, name: &str) -> u64 {
    let record = root
        .path()
        .join(format!("run/pods/default_{name}/supervisor.json"));
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(record).unwrap()).unwrap();
    let pid = record["containers"]["flood"]["pid"].as_i64().unwrap();
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap();
    io.lines()
        .find_map(|l| l.strip_prefix("wchar: "))
        .and_then(|n| n.parse().ok())
        .unwrap()
}

#[test]
fn a_container_flooding_stdout_holds_up_neither_get_nor_exec_nor_delete() {
    let Some((_host, root)) = start("flood", "flood", shared) else {
        return;
    };
    let name = "flood";
    let guard = apply(&root, name, &flood_pod(name));
    let before = flood_written(&root, name);
    let gets: Vec<_> = (0..15)
        .map(|_| timed(&root, &["get", "pod", name, "-o", "json"]))
        .collect();
    let execs: Vec<_> = (0..15)
        .map(|_| timed(&root, &["exec", name, "-c", "c", "--", "true"]))
        .collect();
    let written = flood_written(&root, name) - before;
    let spent = gets.iter().chain(&execs).sum::<Duration>();
    assert!(
        written > 1 << 20,
        "the container flooded its stdout while get and exec ran ({written} bytes)"
    );
    let delete = timed(&root, &["delete", "pod", name, "--grace-period", "0"]);
    drop(guard);
    eprintln!(
        "flood: {} MB/s written; median get {:?}, exec {:?}; delete {delete:?}",
        u128::from(written) / spent.as_millis().max(1) / 1000,
        median(gets.clone()),
        median(execs.clone()),
    );
    assert!(
        root.pod_leftovers().is_empty(),
        "the delete removed the flooding pod: {:?}",
        root.pod_leftovers()
    );
}

#[test]
fn silent_control_clients_do_not_delay_a_delete() {
    let Some((_host, root)) = start("silent_clients", "silent", shared) else {
        return;
    };
    let name = "silent";
    let guard = apply(&root, name, &sleeping_pod(name, ""));
    let socket = root
        .path()
        .join(format!("run/pods/default_{name}/control.sock"));
    // Each would have held the supervisor up to a second when it read
    // requests blocking: 20 of them, 20 s.
    let silent: Vec<_> = (0..20)
        .map(|_| std::os::unix::net::UnixStream::connect(&socket).unwrap())
        .collect();
    let delete = timed(&root, &["delete", "pod", name, "--grace-period", "0"]);
    drop(guard);
    drop(silent);
    eprintln!("delete beside 20 silent clients: {delete:?}");
    // Measured: 0.1-0.3 s on a loaded 2-core machine; 20 s before.
    assert!(
        delete < Duration::from_secs(10),
        "the delete waited for silent clients: {delete:?}"
    );
    assert!(root.pod_leftovers().is_empty());
}

/// The supervisor's threads and its zombie children.
fn threads_and_zombies(pid: i32) -> (usize, Vec<i32>) {
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count();
    let zombies = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map_or("", |(_, rest)| rest)
                .split_whitespace()
                .collect();
            fields.first() == Some(&"Z") && fields.get(1) == Some(&pid.to_string().as_str())
        })
        .collect();
    (threads, zombies)
}

#[test]
fn hook_commands_killed_for_their_timeout_are_reaped_on_the_loop() {
    let Some((_host, root)) = start("killed_probes_reaped", "killed-probes", shared) else {
        return;
    };
    let name = "slowprobe";
    let probe = "      readinessProbe:
        exec: { command: [sleep, '100'] }
        timeoutSeconds: 1
        periodSeconds: 1
";
    let pod = apply(&root, name, &sleeping_pod(name, probe));
    let events = root
        .path()
        .join(format!("run/pods/default_{name}/events.jsonl"));
    let timeouts = || {
        std::fs::read_to_string(&events)
            .unwrap_or_default()
            .matches("timed out")
            .count()
    };
    let deadline = Instant::now() + common::WAIT;
    while timeouts() < 2 {
        assert!(Instant::now() < deadline, "two probe timeouts");
        std::thread::sleep(Duration::from_millis(100));
    }
    let supervisor = pod.supervisor_pid();
    // A killed command dies at once: its reap is an event of the loop.
    let deadline = Instant::now() + common::WAIT;
    loop {
        let (threads, zombies) = threads_and_zombies(supervisor);
        if zombies.is_empty() {
            assert_eq!(threads, 1, "no thread beside the loop");
            break;
        }
        assert!(Instant::now() < deadline, "zombies left: {zombies:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
