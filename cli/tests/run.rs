//! `peapod run`: one container in the foreground. Exit codes (0, 3, a
//! signal), stdout on the caller's, new namespaces with the command as
//! PID 1, nothing left after `--rm` (cgroup, veth, mounts, state), the
//! pod kept as Succeeded/Failed without `--rm`, and clear errors that
//! leave nothing for a missing image or command, with podman's exit codes
//! (125, 127, 126). Root only.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Pod, Root, shared, start};
use peapod_runtime::network;
use peapod_testkit::HostSnapshot;

fn run(root: &Root, args: &[&str]) -> Output {
    let mut all = vec!["run"];
    all.extend(args);
    root.run(&all)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The first line `child` printed on its (piped) stdout.
fn first_line(child: &mut std::process::Child) -> String {
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    line
}

/// The uid of pod `name` (a container in its own cgroup namespace cannot
/// read it from `/proc/self/cgroup`), once `get` lists the pod: its
/// output may reach us before `run` wrote the pod's record.
fn pod_uid(root: &Root, name: &str) -> String {
    let deadline = Instant::now() + common::WAIT;
    loop {
        let out = root.run(&["get", "pod", name, "-o", "json"]);
        if out.status.success() {
            let pod: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            return pod["metadata"]["uid"]
                .as_str()
                .expect("metadata.uid")
                .to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "get pod {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Nothing of pod `uid` on the host, nothing in `root`'s state.
fn assert_nothing_left(root: &Root, uid: &str) {
    for h in std::fs::read_dir("/sys/fs/cgroup").unwrap() {
        let cg = h.unwrap().path().join(format!("peapod-{uid}"));
        assert!(!cg.exists(), "{} left", cg.display());
    }
    assert!(
        !Path::new("/sys/fs/cgroup")
            .join(format!("peapod-{uid}"))
            .exists()
    );
    // The veth goes with the run's network namespace, in the kernel's
    // own worker: waited for on netlink.
    let left = network::wait_host_links_gone(&[uid], common::WAIT).unwrap();
    assert_eq!(left, Vec::<String>::new());
    assert_no_state(root);
}

/// No pod folder, layer or mount of `root` left.
fn assert_no_state(root: &Root) {
    assert_eq!(root.pod_leftovers(), Vec::<std::path::PathBuf>::new());
    let here = root.path().display().to_string();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&here),
        "mounts below {here} left: {mounts}"
    );
}

#[test]
fn exit_codes_and_stdout_reach_the_caller() {
    let Some((_g, root)) = start("run exit codes", "run-codes", shared) else {
        return;
    };
    let out = run(&root, &["--rm", "--network", "none", "busybox", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(
        &root,
        &[
            "--rm",
            "--network",
            "none",
            "-e",
            "GREETING=hello $USER",
            "busybox",
            "sh",
            "-c",
            "echo \"$GREETING from $$\"; echo oops >&2; exit 3",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stdout(&out), "hello $USER from 1\n");
    assert_eq!(stderr(&out), "oops\n");
    assert_no_state(&root);
}

#[test]
fn a_killed_command_exits_128_plus_the_signal() {
    let Some((_g, root)) = start("run signal", "run-signal", shared) else {
        return;
    };
    // A number no other test's sleep uses, to find ours in /proc.
    let mark = format!("{}", 100_000 + std::process::id());
    let mut child = root
        .command(&[
            "run",
            "--rm",
            "--network",
            "none",
            "busybox",
            "sleep",
            &mark,
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + common::WAIT;
    let pid = loop {
        let found = std::fs::read_dir("/proc").unwrap().find_map(|e| {
            let pid: i32 = e.ok()?.file_name().to_str()?.parse().ok()?;
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            (cmd == format!("sleep\0{mark}\0").as_bytes()).then_some(pid)
        });
        if let Some(pid) = found {
            break pid;
        }
        assert!(Instant::now() < deadline, "sleep {mark} never ran");
        std::thread::sleep(Duration::from_millis(20));
    };
    // PID 1 of its namespace: only SIGKILL from outside reaches it.
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(137));
    assert_no_state(&root);
}

#[test]
fn a_signal_to_run_reaches_the_container_and_a_second_one_kills_it() {
    let Some((_g, root)) = start("run signal passing", "run-sigpass", shared) else {
        return;
    };
    let term = |child: &std::process::Child| {
        let pid = child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
    };
    // `sh -c script` under `run`, once it printed `ready`.
    let started = |script: &str| {
        let mut child = root
            .command(&["run", "--rm", "--network", "none", "busybox", "sh", "-c"])
            .arg(script)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        assert_eq!(first_line(&mut child), "ready\n");
        child
    };
    // A command with a handler: SIGTERM ends it with its own code.
    let mut child = started("trap 'exit 7' TERM; echo ready; while :; do sleep 0.1; done");
    term(&child);
    assert_eq!(child.wait().unwrap().code(), Some(7));
    // Without one, PID 1 ignores it; the second signal kills it.
    let mut child = started("echo ready; exec sleep 1000");
    term(&child);
    // Wait until `run` took the first SIGTERM off its signalfd (and passed
    // it on): a second one sent before would merge with it.
    signal_taken(child.id(), 15);
    assert!(
        child.try_wait().unwrap().is_none(),
        "PID 1 died of an unhandled SIGTERM"
    );
    term(&child);
    // 137: the second SIGTERM's SIGKILL; a PID 1 killed by the first
    // would have ended with 143.
    assert_eq!(child.wait().unwrap().code(), Some(137));
    assert_no_state(&root);
}

#[test]
fn namespaces_are_new_and_the_command_is_pid_1() {
    let Some((_g, root)) = start("run namespaces", "run-ns", shared) else {
        return;
    };
    let script = "hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; \
                  for n in pid mnt uts ipc net cgroup; do readlink /proc/self/ns/$n; done; \
                  grep -m1 :pids: /proc/self/cgroup; ip -4 -o addr show eth0";
    let out = run(&root, &["--name", "nsprobe", "busybox", "sh", "-c", script]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("nsprobe"));
    assert_eq!(
        lines.next().map(str::trim_end),
        Some(format!("sh -c {script}").as_str())
    );
    for n in ["pid", "mnt", "uts", "ipc", "net", "cgroup"] {
        let host = std::fs::read_link(format!("/proc/self/ns/{n}")).unwrap();
        let inside = lines.next().unwrap();
        assert_ne!(
            inside,
            host.to_str().unwrap(),
            "{n} namespace is the host's"
        );
    }
    // Its cgroup is the root of its cgroup namespace.
    assert!(lines.next().unwrap().ends_with(":pids:/"), "{text}");
    assert!(lines.next().unwrap().contains("inet 10.77."), "{text}");
    let uid = pod_uid(&root, "nsprobe");
    root.ok(&["delete", "pod", "nsprobe"]);
    assert_nothing_left(&root, &uid);
}

#[test]
fn without_rm_the_pod_stays_completed_until_deleted() {
    let Some((_g, root)) = start("run keep", "run-keep", shared) else {
        return;
    };
    let out = run(
        &root,
        &[
            "--name",
            "kept",
            "--network",
            "none",
            "busybox",
            "sh",
            "-c",
            "exit 4",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let uid = pod_uid(&root, "kept");
    let pod: serde_json::Value =
        serde_json::from_str(&root.ok(&["get", "pod", "kept", "-o", "json"])).unwrap();
    assert_eq!(pod["status"]["phase"], "Failed", "{pod:#}");
    let terminated = &pod["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(terminated["exitCode"], 4, "{pod:#}");
    assert_eq!(terminated["reason"], "Error");
    // Only the record is left: no cgroup, no layer.
    for h in std::fs::read_dir("/sys/fs/cgroup").unwrap() {
        assert!(!h.unwrap().path().join(format!("peapod-{uid}")).exists());
    }
    assert!(root.ok(&["get", "pods"]).contains("kept"));
    // The name is taken until then.
    let again = run(
        &root,
        &["--name", "kept", "--network", "none", "busybox", "true"],
    );
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    root.ok(&["delete", "pod", "kept"]);
    assert_nothing_left(&root, &uid);
}

#[test]
fn a_running_run_is_listed_and_delete_ends_it_and_removes_everything() {
    let Some((_g, root)) = start("run delete", "run-delete", shared) else {
        return;
    };
    let mut child = root
        .command(&[
            "run",
            "--name",
            "live",
            "-l",
            "app=live",
            "--network",
            "none",
            "busybox",
        ])
        .args(["sh", "-c", "echo started; exec sleep 1000"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(first_line(&mut child).trim_end(), "started");
    let uid = pod_uid(&root, "live");
    let table = root.ok(&["get", "pods"]);
    assert!(table.contains("live   1/1     Running"), "{table}");
    // A foreground run's pod carries its --labels too.
    let selected = root.ok(&["get", "pods", "-l", "app=live", "-o", "name"]);
    assert_eq!(selected, "pod/live\n");
    root.ok(&["delete", "pod", "live"]);
    // The waiting CLI is ended with its container.
    assert_eq!(child.wait().unwrap().code(), None);
    assert_nothing_left(&root, &uid);
}

/// kubectl's `run NAME --image=IMG --dry-run=client|server -o json|yaml`
/// prints the pod that would be made (`--labels` instead of `run=NAME`,
/// `--port` as its `containerPort`; the server's with a uid) and makes
/// nothing; an attached run is refused, as kubectl refuses it.
#[test]
fn run_dry_run_prints_the_pod_with_its_labels_and_port_and_makes_nothing() {
    let Some((_g, root)) = start("run dry run", "run-dry", shared) else {
        return;
    };
    let kubectl = ["web", "--image=busybox:1.31.1"];
    let flags = ["-l", "app=web,tier=fe", "--port=8080"];
    let out = run(
        &root,
        &[&kubectl[..], &flags, &["--dry-run=client", "-o", "json"]].concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let pod: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(pod["kind"], "Pod");
    assert_eq!(
        pod["metadata"]["labels"],
        serde_json::json!({"app": "web", "tier": "fe"})
    );
    assert_eq!(pod["metadata"]["uid"], serde_json::Value::Null);
    assert_eq!(
        pod["spec"]["containers"][0]["ports"],
        serde_json::json!([{"containerPort": 8080, "protocol": "TCP"}])
    );
    assert_eq!(pod["spec"]["restartPolicy"], "Always");
    let out = run(
        &root,
        &[&kubectl[..], &["--dry-run=server", "-o", "yaml"]].concat(),
    );
    let yaml = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(yaml.starts_with("apiVersion: v1\nkind: Pod\n"), "{yaml}");
    assert!(yaml.contains("  labels:\n    run: web\n"), "{yaml}");
    assert!(yaml.contains("  uid: "), "{yaml}");
    for (mode, said) in [
        ("--dry-run", "(dry run)"),
        ("--dry-run=server", "(server dry run)"),
    ] {
        let out = run(&root, &[&kubectl[..], &[mode]].concat());
        assert_eq!(
            stdout(&out),
            format!("pod/web created {said}\n"),
            "{}",
            stderr(&out)
        );
    }
    let out = run(&root, &[&kubectl[..], &["-i", "--dry-run=client"]].concat());
    assert!(
        stderr(&out).starts_with(
            "error: --dry-run=[server|client] and -o can't be used with attached containers"
        ),
        "{}",
        stderr(&out)
    );
    let out = run(
        &root,
        &[&kubectl[..], &["-l", "a b=c", "--dry-run"]].concat(),
    );
    assert!(
        stderr(&out).starts_with("error: the pod of run web: metadata.labels.a b: invalid value"),
        "{}",
        stderr(&out)
    );
    assert_eq!(root.ok(&["get", "pods", "-o", "name"]), "");
    assert_no_state(&root);
}

/// `run NAME --image=IMG -l KEY=VALUE --port=N -o name`: the pod made
/// carries the labels (selected by them) and the port, and `-o` prints it.
#[test]
fn run_labels_and_port_are_the_pods() {
    let Some((_g, root)) = start("run labels", "run-labels", shared) else {
        return;
    };
    let _pod = Pod {
        root: &root,
        name: "web".to_owned(),
    };
    let made = root.ok(&[
        "run",
        "web",
        "--image=busybox:1.31.1",
        "--labels=app=web",
        "--port=8080",
        "-o",
        "name",
        "--",
        "sleep",
        "1000",
    ]);
    assert_eq!(made, "pod/web\n");
    let selected = root.ok(&["get", "pods", "-l", "app=web", "-o", "name"]);
    assert_eq!(selected, "pod/web\n");
    let pod: serde_json::Value =
        serde_json::from_str(&root.ok(&["get", "pod", "web", "-o", "json"])).unwrap();
    assert_eq!(pod["metadata"]["labels"], serde_json::json!({"app": "web"}));
    assert_eq!(
        pod["spec"]["containers"][0]["ports"][0]["containerPort"],
        8080
    );
}

/// CVE-2019-5736: `run` clones its container from its own process, so
/// it runs its binary from a private read-only mount (re-executed before
/// it reads its command line): the host's binary cannot be opened for
/// writing through its `/proc/<pid>/exe`, whichever side of the verb
/// `--root` is given.
#[test]
fn run_executes_its_binary_from_a_read_only_mount() {
    let Some((_g, root)) = start("run sealed binary", "run-sealed", shared) else {
        return;
    };
    let root_path = root.path().to_str().unwrap().to_owned();
    let before = ["--root", root_path.as_str(), "run", "--name", "sealed-a"];
    let after = ["run", "--root", root_path.as_str(), "--name", "sealed-b"];
    for (argv, name) in [(before, "sealed-a"), (after, "sealed-b")] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_peapod"))
            .args(argv)
            .args(["--rm", "--network", "none", "busybox"])
            .args(["sh", "-c", "echo started; exec sleep 1000"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        assert_eq!(first_line(&mut child).trim_end(), "started");
        let exe = format!("/proc/{}/exe", child.id());
        let write = std::fs::OpenOptions::new().write(true).open(&exe);
        let errno = write.as_ref().err().and_then(std::io::Error::raw_os_error);
        assert_eq!(errno, Some(30), "{exe} opened for writing: {write:?}"); // EROFS
        let host_binary = std::fs::canonicalize(env!("CARGO_BIN_EXE_peapod")).unwrap();
        let sealed = std::fs::metadata(&exe).unwrap();
        assert_eq!(
            std::os::unix::fs::MetadataExt::ino(&sealed),
            std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(host_binary).unwrap()),
            "{exe} is not the peapod binary"
        );
        root.ok(&["delete", "pod", name]);
        assert_eq!(child.wait().unwrap().code(), None);
    }
    assert_no_state(&root);
}

#[test]
fn a_missing_image_or_command_is_a_clear_error_and_leaves_nothing() {
    let Some((_g, root)) = start("run errors", "run-errors", shared) else {
        return;
    };
    let before = HostSnapshot::take();
    // podman's and docker's codes: 125 peapod's own failure, 127 a command
    // that does not exist, 126 one that cannot be executed.
    let out = run(&root, &["--rm", "--network", "none", "nosuch:1", "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains(
            "ErrImageNeverPull: Container image \"nosuch:1\" is not present with pull policy of Never"
        ),
        "{}",
        stderr(&out)
    );
    let out = run(&root, &["--network", "none", "busybox", "nosuchcmd"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(
        stderr(&out).contains("exec \"nosuchcmd\": executable file not found in $PATH"),
        "{}",
        stderr(&out)
    );
    let out = run(
        &root,
        &["--rm", "--network", "none", "busybox", "/etc/passwd"],
    );
    assert_eq!(out.status.code(), Some(126), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("exec \"/etc/passwd\": permission denied"),
        "{}",
        stderr(&out)
    );
    let out = run(&root, &["--rm", "--network", "nosuch", "busybox", "true"]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    // kubectl's form: a flag after the name is a flag (this one unknown),
    // not the container's command; after `--` it is the command.
    let out = run(&root, &["x", "--image=busybox", "--nosuch=a"]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("error: unknown flag: --nosuch=a ("),
        "{}",
        stderr(&out)
    );
    let out = run(
        &root,
        &[
            "--rm",
            "--network",
            "none",
            "x",
            "--image=busybox",
            "--",
            "--help",
        ],
    );
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("exec \"--help\": executable file not found in $PATH"),
        "{}",
        stderr(&out)
    );
    assert_no_state(&root);
    assert_no_new_cgroups(&before);
}

/// No cgroup made since `before` that stays there without processes or
/// children: other pods of the host (other tests, other helpers) come and
/// go, with a pause and containers in child cgroups.
fn assert_no_new_cgroups(before: &HostSnapshot) {
    let deadline = Instant::now() + common::WAIT;
    loop {
        let after = HostSnapshot::take();
        let leaked: Vec<_> = after
            .cgroups
            .difference(&before.cgroups)
            .filter(|cg| {
                let dir = Path::new(cg);
                let no_child = std::fs::read_dir(dir)
                    .is_ok_and(|mut d| !d.any(|e| e.is_ok_and(|e| e.path().is_dir())));
                no_child
                    && std::fs::read_to_string(dir.join("cgroup.procs"))
                        .is_ok_and(|p| p.trim().is_empty())
            })
            .collect();
        if leaked.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "cgroups left: {leaked:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until signal `signal` is no longer pending for process `pid`
/// (`ShdPnd` of `/proc/<pid>/status`): it was taken, here off a signalfd.
fn signal_taken(pid: u32, signal: u32) {
    let bit = 1_u64 << (signal - 1);
    let deadline = Instant::now() + common::WAIT;
    loop {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let pending = status
            .lines()
            .find_map(|l| l.strip_prefix("ShdPnd:"))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or(0);
        if pending & bit == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "signal {signal} still pending for {pid}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `run`'s container layer is made for the run alone: its overlay is
/// mounted `volatile`, as a pod's containers' are.
#[test]
fn a_runs_root_overlay_is_volatile() {
    let Some((_g, root)) = start("run volatile", "run-volatile", shared) else {
        return;
    };
    let out = run(
        &root,
        &[
            "--rm",
            "--network",
            "none",
            "busybox",
            "grep",
            " / / ",
            "/proc/self/mountinfo",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    common::assert_volatile_overlay_root(&stdout(&out));
    assert_no_state(&root);
}
