//! `logs` with kubectl's flags: `--tail`, `--timestamps`, `--since`,
//! `--since-time`, `--all-containers`, `--prefix`, `-l`, and `-f` of
//! several pods at once. Root only; each test has its own `--root` and
//! deletes its pods in a drop guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Root, shared, start};

/// A pod labelled `app: lg` with an init container and two containers
/// that print their lines, then sleep; `c1` prints its second and third
/// lines once `/tmp/next` exists (so they have a later time than the first).
const TWO: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: p
  labels: {app: lg}
spec:
  terminationGracePeriodSeconds: 0
  initContainers:
  - name: init
    image: busybox:1.31.1
    command: ["echo", "init-1"]
  containers:
  - name: c1
    image: busybox:1.31.1
    command: ["sh", "-c", "echo a1; until [ -f /tmp/next ]; do sleep 0.05; done; echo a2; echo a3; exec sleep 1000"]
  - name: c2
    image: busybox:1.31.1
    command: ["sh", "-c", "echo b1; exec sleep 1000"]
"#;

/// `logs args` once its output is `want` (the supervisor writes the log
/// file a moment after the container printed); the last output otherwise.
fn logs_until(root: &Root, args: &[&str], want: &str) -> (i32, String, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = root.outcome(args);
        if got.1 == want || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn tail_timestamps_since_all_containers_and_prefix() {
    let Some((_g, root)) = start("logs_flags", "logs-flags", shared) else {
        return;
    };
    let p = root.apply("p", TWO);
    assert_eq!(
        logs_until(&root, &["logs", "p", "-c", "c1"], "a1\n").1,
        "a1\n"
    );
    p.sh("c1", "touch /tmp/next");
    let (code, out, err) = logs_until(&root, &["logs", "p", "-c", "c1"], "a1\na2\na3\n");
    assert_eq!((code, out.as_str(), err.as_str()), (0, "a1\na2\na3\n", ""));
    assert_eq!(root.ok(&["logs", "p", "-c", "c1", "--tail=2"]), "a2\na3\n");
    // c2's line is in its log before every container's is read at once.
    assert_eq!(
        logs_until(
            &root,
            &["logs", "p", "-c", "c2", "--prefix"],
            "[pod/p/c2] b1\n"
        )
        .1,
        "[pod/p/c2] b1\n"
    );
    assert_eq!(
        root.ok(&["logs", "pod/p", "--all-containers", "--prefix"]),
        "[pod/p/init] init-1\n[pod/p/c1] a1\n[pod/p/c1] a2\n[pod/p/c1] a3\n[pod/p/c2] b1\n"
    );
    // --timestamps: each line after its RFC 3339 time.
    let stamped = root.ok(&["logs", "p", "-c", "c1", "--timestamps"]);
    let times: Vec<&str> = stamped
        .lines()
        .zip(["a1", "a2", "a3"])
        .map(|(line, want)| {
            let (time, text) = line.split_once(' ').unwrap();
            assert_eq!(text, want, "{stamped}");
            assert!(
                time.len() >= 20 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
                "{stamped}"
            );
            time
        })
        .collect();
    assert_eq!(times.len(), 3, "{stamped}");
    // --since-time: from a line's own time on; --since: a window back from now.
    let since_a2 = format!("--since-time={}", times[1]);
    let from_a2 = root.ok(&["logs", "p", "-c", "c1", &since_a2]);
    assert!(
        from_a2.ends_with("a2\na3\n") && !from_a2.contains("a1\na2"),
        "{from_a2}"
    );
    assert_eq!(
        root.ok(&["logs", "p", "-c", "c1", "--since=1h"]),
        "a1\na2\na3\n"
    );
    assert_eq!(
        root.ok(&["logs", "p", "-c", "c1", "--since-time=2999-01-01T00:00:00Z"]),
        ""
    );
    let (code, _, err) = root.outcome(&["logs", "p", "--since=5"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("time: missing unit in duration \"5\""),
        "{err}"
    );
    // -l: the default container of each pod matched, kubectl's notice.
    let (code, out, err) = root.outcome(&["logs", "-l", "app=lg", "--prefix"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "[pod/p/c1] a1\n[pod/p/c1] a2\n[pod/p/c1] a3\n")
    );
    assert!(
        err.starts_with("Defaulted container \"c1\" out of: c1, c2"),
        "{err}"
    );
    let (code, _, err) = root.outcome(&[
        "logs",
        "-l",
        "app=lg",
        "-f",
        "--all-containers",
        "--max-log-requests=2",
    ]);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "error: you are attempting to follow 3 log streams, but maximum allowed concurrency is 2, use --max-log-requests to increase the limit\n"
        )
    );
}

#[test]
fn follow_of_several_pods_prints_whole_lines_and_ends_with_them() {
    let Some((_g, root)) = start("logs_follow_many", "logs-follow-many", shared) else {
        return;
    };
    let dir = root.shared_dir();
    let pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels: {{app: many}}\nspec:\n  restartPolicy: Never\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: c\n    image: busybox:1.31.1\n    command: [\"sh\", \"-c\", \"echo {name}-start; until [ -f /s/go ]; do sleep 0.05; done; seq 1 2000 | sed 's/^/{name}-/'\"]\n    volumeMounts:\n    - {{name: s, mountPath: /s}}\n  volumes:\n  - name: s\n    hostPath: {{path: {}, type: Directory}}\n",
            dir.display()
        )
    };
    let _m1 = root.apply("m1", &pod("m1"));
    let _m2 = root.apply("m2", &pod("m2"));
    let mut follow = root
        .command(&["logs", "-f", "-l", "app=many", "--prefix", "--tail=-1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(follow.stdout.take().unwrap());
    let mut started = vec![];
    for _ in 0..2 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        started.push(line);
    }
    started.sort();
    assert_eq!(started, ["[pod/m1/c] m1-start\n", "[pod/m2/c] m2-start\n"]);
    std::fs::write(dir.join("go"), "").unwrap();
    // Both streams end with their containers; every line whole, each once.
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(follow.wait().unwrap().success());
    for name in ["m1", "m2"] {
        let mine: Vec<&str> = rest
            .lines()
            .filter(|l| l.starts_with(&format!("[pod/{name}/c] ")))
            .collect();
        let want: Vec<String> = (1..=2000)
            .map(|n| format!("[pod/{name}/c] {name}-{n}"))
            .collect();
        assert_eq!(mine, want, "{name}");
    }
    assert_eq!(rest.lines().count(), 4000, "nothing but whole lines");
}

/// Every line of `logs -f args` until it ends by itself, and how it
/// ended: `start` once it runs, `end` once it printed its first line (so
/// it follows the run that printed it, not the next one).
fn follow_to_the_end(
    root: &Root,
    args: &[&str],
    start: impl FnOnce(),
    end: impl FnOnce(),
) -> (bool, Vec<String>) {
    let mut follow = root.command(args).stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(follow.stdout.take().unwrap()).lines();
    start();
    let first = lines.next().unwrap().unwrap();
    end();
    let lines = std::iter::once(first)
        .chain(lines.map(Result::unwrap))
        .collect();
    (follow.wait().unwrap().success(), lines)
}

#[test]
fn follow_lost_no_line_across_a_restart() {
    let Some((_g, root)) = start("logs_follow_restart", "logs-follow-restart", shared) else {
        return;
    };
    let dir = root.shared_dir();
    // Run N waits for `startN`, prints 3000 numbered lines, and ends at
    // `goN`; restartPolicy Always starts the next run at once.
    let pod = root.apply(
        "rerun",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: rerun\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: c\n    image: busybox:1.31.1\n    command: [\"sh\", \"-c\", \"i=$(cat /s/runs 2>/dev/null || echo 0); echo $((i+1)) > /s/runs; until [ -f /s/start$i ]; do sleep 0.05; done; seq 1 3000 | sed s/^/run$i-/; until [ -f /s/go$i ]; do sleep 0.05; done\"]\n    volumeMounts:\n    - {{name: s, mountPath: /s}}\n  volumes:\n  - name: s\n    hostPath: {{path: {}, type: Directory}}\n",
            dir.display()
        ),
    );
    let want = |run: u32| -> Vec<String> { (1..=3000).map(|n| format!("run{run}-{n}")).collect() };
    for run in 0..2u32 {
        pod.wait_for(&format!("run {run} running"), |v| {
            let c = &v["status"]["containerStatuses"][0];
            c["restartCount"] == run && c["state"]["running"].is_object()
        });
        if run == 1 {
            // The run before is whole in its own file.
            assert_eq!(
                root.ok(&["logs", "-p", "rerun"])
                    .lines()
                    .collect::<Vec<_>>(),
                want(0)
            );
        }
        // The stream follows this run to its end, every line once, and
        // ends with it (kubectl's stream ends with its container).
        let (ended, lines) = follow_to_the_end(
            &root,
            &["logs", "-f", "rerun"],
            || std::fs::write(dir.join(format!("start{run}")), "").unwrap(),
            || std::fs::write(dir.join(format!("go{run}")), "").unwrap(),
        );
        assert!(ended);
        assert_eq!(lines, want(run), "run {run}");
    }
    drop(pod);
}
