//! The pause process as root: what `ps` and `/proc` show of it, its
//! footprint, its signals, and its reaping of orphans as PID 1 — for the
//! embedded pause program and for the fallback (the binary re-exec'd as
//! `/pause`).

mod common;

use std::time::Duration;

use common::*;
use peapod_core::{PauseSpec, Process, spawn_pause};
use peapod_testkit::{TempDir, require_root};

fn proc_file(pid: i32, name: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/{name}")).expect("read /proc")
}

/// `VmRSS` of `pid` in KiB.
fn rss_kib(pid: i32) -> u64 {
    proc_file(pid, "status")
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// The children of `pid` in state `Z` (exited, not reaped).
fn zombie_children(pid: i32) -> Vec<String> {
    let mut zombies = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<_> = after.split_whitespace().collect();
        if fields.get(1) == Some(&pid.to_string().as_str()) && fields.first() == Some(&"Z") {
            zombies.push(stat);
        }
    }
    zombies
}

/// Waits until the pause sleeps in its signal wait (state `S`: nothing
/// else of it sleeps); before it blocked its signals, one sent to a PID 1
/// without a handler would be dropped. (`SigBlk` cannot tell: the wait
/// unblocks the signals it waits for.)
fn wait_until_blocking(pause: &Process) {
    let waiting = || {
        let stat = proc_file(pause.pid(), "stat");
        stat.contains("(pause) S ")
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !waiting() {
        assert!(std::time::Instant::now() < deadline, "pause never waits");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A pause as PID 1 of a new PID namespace, from `exe` (`None`: the
/// embedded program), waiting for signals; killed when dropped.
fn pid_1_pause(exe: Option<&str>) -> Cleanup {
    let mut cleanup = Cleanup::default();
    cleanup.processes.push(
        spawn_pause(&PauseSpec {
            share_process_namespace: true,
            exe: exe.map(Into::into),
            ..PauseSpec::default()
        })
        .expect("spawn pause"),
    );
    wait_until_blocking(&cleanup.processes[0]);
    cleanup
}

fn assert_shows_as_pause(pause: &Process) {
    assert_eq!(proc_file(pause.pid(), "cmdline"), "/pause\0");
    assert_eq!(proc_file(pause.pid(), "comm"), "pause\n");
}

#[test]
fn embedded_pause_shows_as_pause_and_stays_under_64_kib_of_rss() {
    if !require_root("embedded_pause_shows_as_pause_and_stays_under_64_kib_of_rss") {
        return;
    }
    let _serial = serial();
    let cleanup = pid_1_pause(None);
    let pause = &cleanup.processes[0];
    assert_shows_as_pause(pause);
    let exe = std::fs::read_link(format!("/proc/{}/exe", pause.pid())).expect("exe");
    assert!(
        exe.to_string_lossy().starts_with("/memfd:pause"),
        "not the embedded program: {}",
        exe.display()
    );
    let rss = rss_kib(pause.pid());
    assert!(rss < 64, "pause VmRSS {rss} KiB");
}

#[test]
fn embedded_pause_exits_0_on_sigterm_sigint_and_sighup() {
    if !require_root("embedded_pause_exits_0_on_sigterm_sigint_and_sighup") {
        return;
    }
    let _serial = serial();
    for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        let cleanup = pid_1_pause(None);
        let pause = &cleanup.processes[0];
        // SIGUSR1 is ignored; the pause waits on.
        pause.signal(libc::SIGUSR1).expect("SIGUSR1");
        pause.signal(signal).expect("signal");
        let status = pause.wait().expect("wait");
        assert_eq!(status.code, Some(0), "signal {signal}: {status:?}");
    }
}

#[test]
fn embedded_pause_as_pid_1_reaps_orphans() {
    if !require_root("embedded_pause_as_pid_1_reaps_orphans") {
        return;
    }
    let _serial = serial();
    let scratch = TempDir::new("core-pause-reap");
    let cleanup = pid_1_pause(None);
    let pause = &cleanup.processes[0];
    // The subshell exits at once; its `sleep` is re-parented to PID 1,
    // the pause, which must reap it when it ends.
    let (code, out) = run_in_pod(
        pause,
        scratch.path(),
        "orphans",
        true,
        None,
        "(sleep 0.1 &); (sleep 0.1 &); sleep 0.5; echo done",
    );
    assert_eq!((code, out.as_str()), (0, "done\n"));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let zombies = zombie_children(pause.pid());
        if zombies.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not reaped: {zombies:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn fallback_pause_binary_shows_as_pause_and_exits_0_on_sigterm() {
    if !require_root("fallback_pause_binary_shows_as_pause_and_exits_0_on_sigterm") {
        return;
    }
    let _serial = serial();
    let cleanup = pid_1_pause(Some(env!("CARGO_BIN_EXE_peapod-pause")));
    let pause = &cleanup.processes[0];
    assert_shows_as_pause(pause);
    pause.signal(libc::SIGTERM).expect("SIGTERM");
    assert_eq!(pause.wait().expect("wait").code, Some(0));
}
