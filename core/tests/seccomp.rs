//! seccomp filters installed by the spawn's child, as root: the attack
//! probe inside a busybox container under RuntimeDefault, with and
//! without no_new_privs, a Localhost-style profile, and the typed error
//! of a filter that cannot be installed.

mod common;

use std::sync::Arc;

use common::*;
use peapod_core::{Capabilities, PauseSpec, SeccompFilter, SeccompProfile};
use peapod_testkit::{TempDir, require_root};

fn runtime_default(caps: Capabilities) -> Arc<SeccompFilter> {
    let resolved = SeccompProfile::runtime_default()
        .resolve("RuntimeDefault", caps)
        .expect("resolve");
    Arc::new(SeccompFilter::compile("RuntimeDefault", &resolved).expect("compile"))
}

fn from_json(json: &str) -> Arc<SeccompFilter> {
    let resolved = SeccompProfile::from_json("test.json", json.as_bytes())
        .expect("parse")
        .resolve("test.json", Capabilities::container_default())
        .expect("resolve");
    Arc::new(SeccompFilter::compile("test.json", &resolved).expect("compile"))
}

/// Runs `script` in a busybox container with `filter`, the default
/// capabilities and `no_new_privs`; (exit code, stdout).
fn run(filter: Option<Arc<SeccompFilter>>, no_new_privs: bool, script: &str) -> (i32, String) {
    let scratch = TempDir::new("core-seccomp");
    let mut cleanup = Cleanup::default();
    cleanup.processes.push(pause_with(&PauseSpec::default()));
    let mut spawn = container(
        &cleanup.processes[0],
        scratch.path(),
        "c",
        false,
        &["sh", "-c", script],
    );
    spawn.process.capabilities = Some(Capabilities::container_default());
    spawn.process.no_new_privs = no_new_privs;
    spawn.process.seccomp = filter;
    output(spawn)
}

const ATTACKS: &str = "grep '^Seccomp:' /proc/self/status; \
    probe unshare mount; probe clone mount; probe clone; probe clone3; probe keyctl; \
    probe bpf; probe perf_event_open; probe io_uring_setup; probe socket vsock; \
    probe socket alg; probe socket inet; probe personality 0x0008; \
    probe personality 0x0400000; probe init_module; probe mount tmpfs /tmp; true";

#[test]
fn runtime_default_refuses_the_attacks_with_moby_errnos() {
    if !require_root("runtime_default_refuses_the_attacks_with_moby_errnos") {
        return;
    }
    let _serial = serial();
    for no_new_privs in [false, true] {
        let filter = runtime_default(Capabilities::container_default());
        let (code, out) = run(Some(filter), no_new_privs, ATTACKS);
        assert_eq!(code, 0, "{out}");
        let want = "Seccomp:\t2\nunshare: EPERM\nclone: EPERM\nclone: ok\nclone3: ENOSYS\n\
            keyctl: EPERM\nbpf: EPERM\nperf_event_open: EPERM\nio_uring_setup: EPERM\n\
            socket: EPERM\nsocket: EPERM\nsocket: ok\npersonality: ok\npersonality: EPERM\n\
            init_module: EPERM\nmount: EPERM\n";
        assert_eq!(out, want, "no_new_privs {no_new_privs}");
    }
}

#[test]
fn unconfined_container_makes_the_calls_the_filter_refuses() {
    if !require_root("unconfined_container_makes_the_calls_the_filter_refuses") {
        return;
    }
    let _serial = serial();
    // Same container, no filter: what only seccomp refused now works, so
    // the test above can tell (capability checks still apply to the rest).
    let (code, out) = run(None, false, ATTACKS);
    assert_eq!(code, 0, "{out}");
    for line in [
        "Seccomp:\t0",
        "clone3: ok",
        "keyctl: ok",
        "io_uring_setup: ok",
        "personality: ok\npersonality: ok",
    ] {
        assert!(out.contains(line), "{line} in\n{out}");
    }
    assert!(!out.contains("socket: EPERM"), "{out}");
}

#[test]
fn sys_admin_opens_the_namespace_calls() {
    if !require_root("sys_admin_opens_the_namespace_calls") {
        return;
    }
    let _serial = serial();
    let caps =
        Capabilities::container_default().union(Capabilities::from_name("SYS_ADMIN").expect("cap"));
    let (code, out) = run(
        Some(runtime_default(caps)),
        false,
        "probe unshare mount; probe clone3",
    );
    // The spawn kept only the default capabilities: the kernel refuses
    // unshare(CLONE_NEWNS) for want of CAP_SYS_ADMIN, the filter does not.
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "unshare: EPERM\nclone3: ok\n");
}

#[test]
fn localhost_profile_denying_mkdir_makes_mkdir_fail() {
    if !require_root("localhost_profile_denying_mkdir_makes_mkdir_fail") {
        return;
    }
    let _serial = serial();
    let filter = from_json(
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}"#,
    );
    let (code, out) = run(
        Some(filter),
        false,
        "probe mkdir /tmp/x; mkdir /tmp/y 2>/dev/null || echo refused; probe raw 39",
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "mkdir: EACCES\nrefused\nraw: ok\n");
}

#[test]
fn a_filter_that_cannot_be_installed_is_a_typed_error() {
    if !require_root("a_filter_that_cannot_be_installed_is_a_typed_error") {
        return;
    }
    let _serial = serial();
    // Two filters (two errnos); the first refuses seccomp(2) itself, so
    // the second cannot be installed.
    let filter = from_json(
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["seccomp"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                         {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}"#,
    );
    assert_eq!(filter.instruction_counts().len(), 2);
    let scratch = TempDir::new("core-seccomp-fail");
    let mut cleanup = Cleanup::default();
    cleanup.processes.push(pause_with(&PauseSpec::default()));
    let mut spawn = container(&cleanup.processes[0], scratch.path(), "c", false, &["true"]);
    spawn.process.seccomp = Some(filter);
    let err = spawn.spawn().expect_err("second filter refused");
    assert_eq!(
        err.to_string(),
        "install seccomp filter: operation not permitted"
    );
}
