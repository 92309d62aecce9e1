//! The probe's command line, which tests of every crate rely on: one line
//! per call, exit 0 on success, 1 on failure with the errno's name, 2 on a
//! usage error; and its copy in the busybox fixture.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use peapod_testkit::{TempDir, busybox_rootfs, probe_path};

fn probe(args: &[&str]) -> (i32, String) {
    let out = Command::new(probe_path()).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn probe_prints_ok_and_exits_zero_when_the_call_succeeds() {
    let dir = TempDir::new("probe-ok");
    let path = dir.path().join("made");
    let (code, out) = probe(&["mkdir", path.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (0, "mkdir: ok\n"));
    assert!(path.is_dir(), "the probe made the call for real");
}

#[test]
fn probe_prints_the_errno_name_and_exits_one_when_the_call_fails() {
    let dir = TempDir::new("probe-fail");
    let (code, out) = probe(&["mkdir", dir.path().to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (1, "mkdir: EEXIST\n"));
    // A syscall number the kernel does not have: ENOSYS.
    let (code, out) = probe(&["raw", "100000"]);
    assert_eq!((code, out.as_str()), (1, "raw: ENOSYS\n"));
}

#[test]
fn probe_lists_its_calls_and_exits_two_on_a_usage_error() {
    let (code, out) = probe(&[]);
    assert_eq!(code, 2);
    for call in [
        "keyctl",
        "bpf",
        "perf_event_open",
        "io_uring_setup",
        "socket",
        "clone3",
    ] {
        assert!(
            out.contains(&format!("\n  {call} ")),
            "{call} listed: {out}"
        );
    }
    assert_eq!(probe(&["no-such-call"]).0, 2);
    assert_eq!(probe(&["unshare"]).0, 2);
}

#[test]
fn busybox_fixture_holds_the_probe() {
    let copy = busybox_rootfs().join("bin/probe");
    assert_eq!(
        std::fs::read(copy).unwrap(),
        std::fs::read(probe_path()).unwrap()
    );
}
