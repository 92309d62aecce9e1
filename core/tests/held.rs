//! Held spawns, as root: a child set up up to `execve` waits there until
//! it is released, two held children never block each other's release,
//! a failure before `execve` is reported by `release`, and dropping a held
//! child kills it.

mod common;

use std::io::Read;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use peapod_core::{Capabilities, Held, PauseSpec, Process};
use peapod_testkit::{TempDir, busybox_rootfs, require_root};

/// Waits until `pid` sleeps in `read(2)`: the only read of the child path
/// is the one on its go pipe.
fn wait_until_at_barrier(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
        if syscall.split_whitespace().next() == Some("0") {
            return;
        }
        assert!(Instant::now() < deadline, "{pid} never reached the barrier");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// What the fds of `pid` point to (`pipe:[123]`, `/dev/null`, ...).
fn fd_targets(pid: &str) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fd dir")
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .map(|t| t.display().to_string())
        .collect()
}

/// Releases `held` on another thread; fails the test instead of hanging
/// when the release never returns.
fn release_within(held: Held, what: &str) -> peapod_core::Result<Process> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(held.release());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("release of {what} never returned"))
}

#[test]
fn held_children_exec_only_when_released_and_never_block_each_other() {
    if !require_root("held_children_exec_only_when_released_and_never_block_each_other") {
        return;
    }
    let _serial = serial();
    let scratch = TempDir::new("core-held");
    let mut cleanup = Cleanup::default();
    cleanup.processes.push(pause_with(&PauseSpec::default()));
    let pause = &cleanup.processes[0];
    let mut outputs = Vec::new();
    let mut held = Vec::new();
    for name in ["a", "b"] {
        let (r, w) = pipe();
        let mut spawn = container(pause, scratch.path(), name, false, &["echo", name]);
        spawn.stdio.stdout = Some(w);
        held.push(spawn.spawn_held().expect("spawn held"));
        outputs.push(r);
    }
    let busybox = busybox_rootfs().join("bin/busybox");
    for h in &held {
        let pid = h.pid().expect("not released");
        wait_until_at_barrier(pid);
        // Set up (its root is the overlay) but not exec'd (still us).
        let mounts = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).expect("mountinfo");
        let root = mounts.lines().find(|l| l.split(' ').nth(4) == Some("/"));
        assert!(
            root.is_some_and(|l| l.contains(" - overlay ")),
            "root of {pid}: {root:?}"
        );
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).expect("exe");
        assert_ne!(exe, busybox, "{pid} exec'd before its release");
    }
    // `b` was cloned with copies of every fd of ours, `a`'s output pipe
    // among them: a held child closes all but its own (stdio, its error
    // and go pipes, the pause's pidfd), so it never keeps another pipe
    // open for as long as it is held.
    let ours_now = fd_targets("self");
    let b_fds = fd_targets(&held[1].pid().expect("held").to_string());
    let a_output = ours_now
        .iter()
        .find(|t| {
            std::fs::read_link(format!(
                "/proc/self/fd/{}",
                std::os::fd::AsRawFd::as_raw_fd(&outputs[0])
            ))
            .is_ok_and(|l| l.display().to_string() == **t)
        })
        .expect("a's output pipe");
    assert!(!b_fds.contains(a_output), "b keeps a's pipe: {b_fds:?}");
    // 0, 1, 2, the two lifted stdio copies (CLOEXEC, gone at exec), the
    // error pipe, the go pipe, the pause's pidfd.
    assert!(b_fds.len() <= 8, "b keeps more than its own fds: {b_fds:?}");
    let mut held = held.into_iter();
    let (a, b) = (held.next().expect("a"), held.next().expect("b"));
    let b_pid = b.pid();
    cleanup
        .processes
        .push(release_within(a, "a").expect("a runs"));
    let mut out = String::new();
    std::fs::File::from(outputs.remove(0))
        .read_to_string(&mut out)
        .expect("read a");
    assert_eq!(out, "a\n");
    let b_exe = std::fs::read_link(format!("/proc/{}/exe", b_pid.expect("held")));
    assert_ne!(b_exe.ok(), Some(busybox), "b stays held while a ran");
    cleanup
        .processes
        .push(release_within(b, "b").expect("b runs"));
    let mut out = String::new();
    std::fs::File::from(outputs.remove(0))
        .read_to_string(&mut out)
        .expect("read b");
    assert_eq!(out, "b\n");
    for p in cleanup.processes.drain(1..) {
        assert_eq!(p.wait().expect("wait").exit_code(), 0);
    }
}

#[test]
fn held_child_reports_its_failure_at_release_and_dies_when_dropped() {
    if !require_root("held_child_reports_its_failure_at_release_and_dies_when_dropped") {
        return;
    }
    let _serial = serial();
    let scratch = TempDir::new("core-held-fail");
    let mut cleanup = Cleanup::default();
    cleanup.processes.push(pause_with(&PauseSpec::default()));
    let pause = &cleanup.processes[0];
    let missing = container(pause, scratch.path(), "x", false, &["nginx"])
        .spawn_held()
        .expect("clone succeeds; the exec fails later");
    let err = release_within(missing, "x").expect_err("no nginx in busybox");
    assert_eq!(
        err.to_string(),
        "exec \"nginx\": executable file not found in $PATH"
    );

    let dropped = container(pause, scratch.path(), "y", false, &["sleep", "100"])
        .spawn_held()
        .expect("spawn held");
    let pid = dropped.pid().expect("not released");
    wait_until_at_barrier(pid);
    drop(dropped);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "a dropped held child is killed and reaped"
    );
    drop(cleanup);
    assert_eq!(ours(), Vec::<String>::new(), "left on the host");
}

/// CVE-2019-5736: until its `execve`, a child is a copy of peapod inside
/// the pod's PID namespace. It is born not dumpable, so a container
/// process without CAP_SYS_PTRACE cannot reach the host's binary through
/// its `/proc/<pid>/exe`; with CAP_SYS_PTRACE the same look succeeds,
/// which shows the child is there to be seen.
#[test]
fn a_held_childs_exe_is_closed_to_the_other_containers_of_the_pod() {
    if !require_root("a_held_childs_exe_is_closed_to_the_other_containers_of_the_pod") {
        return;
    }
    let _serial = serial();
    let scratch = TempDir::new("core-held-exe");
    let mut cleanup = Cleanup::default();
    cleanup.processes.push(pause_with(&PauseSpec {
        share_process_namespace: true,
        ..PauseSpec::default()
    }));
    let pause = &cleanup.processes[0];
    // The same capabilities as the plain looker below, so the kernel's
    // capability rule for ptrace does not refuse the look by itself.
    let mut spawn = container(pause, scratch.path(), "held", true, &["true"]);
    spawn.process.capabilities = Some(Capabilities::container_default());
    let held = spawn.spawn_held().expect("spawn held");
    let host_pid = held.pid().expect("not released");
    wait_until_at_barrier(host_pid);
    let status = std::fs::read_to_string(format!("/proc/{host_pid}/status")).expect("status");
    let pod_pid = status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .and_then(|l| l.split_whitespace().last())
        .expect("NSpid")
        .to_owned();
    let ours = std::fs::read_link("/proc/self/exe").expect("exe");
    let look = |name: &str, caps: Capabilities| {
        let script = format!("readlink /proc/{pod_pid}/exe; echo rc=$?");
        let mut spawn = container(pause, scratch.path(), name, true, &["sh", "-c", &script]);
        spawn.process.capabilities = Some(caps);
        output(spawn)
    };
    let (_, denied) = look("plain", Capabilities::container_default());
    assert!(denied.ends_with("rc=1\n"), "{denied}");
    assert!(!denied.contains(&*ours.to_string_lossy()), "{denied}");
    let ptrace = Capabilities::from_name("SYS_PTRACE").expect("known");
    let (_, seen) = look("ptrace", Capabilities::container_default().union(ptrace));
    assert!(seen.contains("rc=0"), "{seen}");
    drop(held);
}
