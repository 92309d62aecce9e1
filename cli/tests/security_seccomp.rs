//! seccomp from the outside, as root: an ordinary container runs under
//! RuntimeDefault (`Seccomp: 2`, the attack probe's calls refused with
//! moby's errnos) in its own process, its postStart exec hook, `peapod
//! exec` and `peapod run`; `Unconfined` and `privileged` let through what only seccomp
//! refused (so the test can tell); a Localhost profile is enforced; a
//! missing or malformed one leaves its container waiting with
//! `CreateContainerError` naming the file, while the rest of the pod runs.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::fmt::Write as _;

use common::{Pod, shared, start};

/// A pod of one busybox container `c` that sleeps, with `security` (YAML
/// lines at the container's level, indented 4) and `pod_security` (at
/// the pod spec's level, indented 2).
fn sleeper(name: &str, pod_security: &str, security: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n{pod_security}  containers:\n  - name: c\n    image: busybox:1.31.1\n    command: [sleep, \"3600\"]\n{security}"
    )
}

/// The `Seccomp:` field of the container's own process, read on the host.
fn container_seccomp_mode(pod: &Pod<'_>, container: &str) -> String {
    let pid = pod.container_pid(container);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Seccomp:"))
        .unwrap()
        .trim()
        .to_owned()
}

/// What the probe answers for each attack, one line each, in `pod`.
const ATTACKS: &str = "probe unshare mount; probe clone mount; probe clone3; probe keyctl; \
    probe bpf; probe perf_event_open; probe io_uring_setup; probe socket vsock; \
    probe socket alg; probe init_module; probe finit_module; probe mount tmpfs /tmp; \
    unshare -m true 2>/dev/null && echo UNSHARE-OK || echo UNSHARE-REFUSED; true";

fn attacks(pod: &Pod<'_>) -> String {
    let (code, out) = pod.exec("c", &["sh", "-c", ATTACKS]);
    assert_eq!(code, 0, "{out}");
    out
}

#[test]
fn ordinary_container_runs_under_runtime_default() {
    let Some((_g, root)) = start(
        "ordinary_container_runs_under_runtime_default",
        "seccomp-default",
        shared,
    ) else {
        return;
    };
    // The postStart exec hook runs under the container's filter too.
    let hook = "    lifecycle:\n      postStart:\n        exec:\n          command: [sh, -c, \"grep ^Seccomp: /proc/self/status > /tmp/hook\"]\n";
    let pod = root.apply("plain", &sleeper("plain", "", hook));
    assert_eq!(container_seccomp_mode(&pod, "c"), "2");
    assert_eq!(pod.sh("c", "cat /tmp/hook"), "Seccomp:\t2\n");
    // `peapod exec` gets the container's filter.
    let (code, status) = pod.exec("c", &["grep", "^Seccomp:", "/proc/self/status"]);
    assert_eq!((code, status.as_str()), (0, "Seccomp:\t2\n"));
    assert_eq!(
        attacks(&pod),
        "unshare: EPERM\nclone: EPERM\nclone3: ENOSYS\nkeyctl: EPERM\nbpf: EPERM\n\
         perf_event_open: EPERM\nio_uring_setup: EPERM\nsocket: EPERM\nsocket: EPERM\n\
         init_module: EPERM\nfinit_module: EPERM\nmount: EPERM\nUNSHARE-REFUSED\n"
    );
    // A 32-bit call (i386 `int 0x80`, getpid) and an x32 one (getpid with
    // bit 30): the filter kills the process (SIGSYS, 128 + 31) instead of
    // letting the other tables through (moby allows i386).
    assert_eq!(
        pod.exec("c", &["probe", "int80", "20"]),
        (159, String::new())
    );
    let x32_getpid = format!("{}", 0x4000_0000 + 39);
    assert_eq!(
        pod.exec("c", &["probe", "raw", &x32_getpid]),
        (159, String::new())
    );
}

#[test]
fn unconfined_and_privileged_containers_make_the_calls_seccomp_refused() {
    let Some((_g, root)) = start(
        "unconfined_and_privileged_containers_make_the_calls_seccomp_refused",
        "seccomp-unconfined",
        shared,
    ) else {
        return;
    };
    let unconfined = root.apply(
        "unconfined",
        &sleeper(
            "unconfined",
            "  securityContext:\n    seccompProfile:\n      type: Unconfined\n",
            "",
        ),
    );
    assert_eq!(container_seccomp_mode(&unconfined, "c"), "0");
    let out = attacks(&unconfined);
    // What no capability guards now works; the rest is the kernel's
    // capability checks, not seccomp's.
    for line in ["clone3: ok", "keyctl: ok", "io_uring_setup: ok"] {
        assert!(out.lines().any(|l| l == line), "{line} in\n{out}");
    }
    assert!(!out.contains("socket: EPERM"), "{out}");
    // Without a filter, a 32-bit call goes through (IA-32 emulation).
    assert_eq!(
        unconfined.exec("c", &["probe", "int80", "20"]),
        (0, "int80: ok\n".to_owned())
    );
    // privileged: no filter even with RuntimeDefault asked (containerd).
    let privileged = root.apply(
        "privileged",
        &sleeper(
            "privileged",
            "",
            "    securityContext:\n      privileged: true\n      seccompProfile:\n        type: RuntimeDefault\n",
        ),
    );
    assert_eq!(container_seccomp_mode(&privileged, "c"), "0");
    let out = attacks(&privileged);
    for line in [
        "unshare: ok",
        "clone: ok",
        "clone3: ok",
        "keyctl: ok",
        "bpf: ok",
        "perf_event_open: ok",
        "io_uring_setup: ok",
        "mount: ok",
        "UNSHARE-OK",
    ] {
        assert!(out.lines().any(|l| l == line), "{line} in\n{out}");
    }
    // The kernel itself answers the module calls (ENOSYS without module
    // support, else the empty image's error), never seccomp's EPERM; no
    // module is loaded either way.
    for call in ["init_module", "finit_module"] {
        let line = out.lines().find(|l| l.starts_with(call)).unwrap();
        assert!(!line.ends_with("EPERM") && !line.ends_with("ok"), "{line}");
    }
    assert!(!out.contains("socket: EPERM"), "{out}");
}

#[test]
fn localhost_profile_denying_mkdir_makes_mkdir_fail() {
    let Some((_g, root)) = start(
        "localhost_profile_denying_mkdir_makes_mkdir_fail",
        "seccomp-localhost",
        shared,
    ) else {
        return;
    };
    let profiles = root.path().join("lib/seccomp/profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(
        profiles.join("deny-mkdir.json"),
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}"#,
    )
    .unwrap();
    let pod = root.apply(
        "localhost",
        &sleeper(
            "localhost",
            "",
            "    securityContext:\n      seccompProfile:\n        type: Localhost\n        localhostProfile: profiles/deny-mkdir.json\n",
        ),
    );
    assert_eq!(container_seccomp_mode(&pod, "c"), "2");
    let (code, out) = pod.exec(
        "c",
        &[
            "sh",
            "-c",
            "probe mkdir /tmp/a; mkdir /tmp/b 2>/dev/null || echo REFUSED; probe keyctl",
        ],
    );
    assert_eq!(code, 0, "{out}");
    // Only mkdir is denied: keyctl, refused by RuntimeDefault, is not.
    assert_eq!(out, "mkdir: EPERM\nREFUSED\nkeyctl: ok\n");
}

#[test]
fn missing_or_malformed_localhost_profile_is_a_create_container_error() {
    let Some((_g, root)) = start(
        "missing_or_malformed_localhost_profile_is_a_create_container_error",
        "seccomp-bad",
        shared,
    ) else {
        return;
    };
    let dir = root.path().join("lib/seccomp");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("broken.json"),
        "{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_SOMETIMES\"}]}",
    )
    .unwrap();
    std::fs::write(dir.join("torn.json"), "{\"defaultAction\": \n").unwrap();
    let cases = [
        ("absent", "No such file or directory"),
        (
            "broken",
            "syscalls[0].action: unknown action \"SCMP_ACT_SOMETIMES\"",
        ),
        ("torn", "line 2"),
    ];
    // One pod: a container per bad profile, and one that runs, as kubelet
    // leaves the others waiting while the rest of the pod runs.
    let mut yaml = String::from(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: fine\n    image: busybox:1.31.1\n    command: [sleep, \"3600\"]\n",
    );
    for (name, _) in cases {
        write!(
            yaml,
            "  - name: {name}\n    image: busybox:1.31.1\n    command: [sleep, \"3600\"]\n    securityContext:\n      seccompProfile:\n        type: Localhost\n        localhostProfile: {name}.json\n"
        )
        .unwrap();
    }
    let pod = root.apply("bad", &yaml);
    let v = pod.wait_for("three refused", |v| {
        v["status"]["containerStatuses"]
            .as_array()
            .is_some_and(|s| {
                s.iter()
                    .filter(|c| c["state"]["waiting"]["reason"] == "CreateContainerError")
                    .count()
                    == 3
            })
    });
    for (name, reason) in cases {
        let status = v["status"]["containerStatuses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        assert!(status["state"]["running"].is_null(), "{status:#}");
        let message = status["state"]["waiting"]["message"].as_str().unwrap();
        let want = format!(
            "seccomp profile {}: ",
            dir.join(format!("{name}.json")).display()
        );
        assert!(message.starts_with(&want), "{want} in {message}");
        assert!(message.contains(reason), "{reason} in {message}");
    }
    // Never started unconfined: no process was made for them.
    let record = pod.supervisor_record();
    for (name, _) in cases {
        assert!(record["containers"][name].is_null(), "{record:#}");
    }
    assert_eq!(container_seccomp_mode(&pod, "fine"), "2");
    let table = root.ok(&["get", "pods"]);
    assert!(table.contains("CreateContainerError"), "{table}");
}

#[test]
fn peapod_run_runs_under_runtime_default() {
    let Some((_g, root)) = start(
        "peapod_run_runs_under_runtime_default",
        "seccomp-run",
        shared,
    ) else {
        return;
    };
    let out = root.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        "grep ^Seccomp: /proc/self/status; probe keyctl; probe clone3; true",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Seccomp:\t2\nkeyctl: EPERM\nclone3: ENOSYS\n"
    );
}
