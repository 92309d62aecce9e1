//! `core`'s share of a pod start: `clone3` + `execve` of `/bin/true` on
//! the host, in new namespaces, the pause, and a busybox container joining
//! a pause with its overlay root and standard mounts (pivot_root
//! included), each to the process's exit; the same container under the
//! RuntimeDefault seccomp filter (compiled once, outside the timing, as a
//! pod's supervisor does), and the compilation itself. Needs root; prints
//! a skip otherwise. Everything made is removed at the end.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::bench_median;
use criterion::{Criterion, criterion_group, criterion_main};
use peapod_core::{
    Capabilities, ContainerSpawn, MountPlan, NamespacePlan, Namespaces, PauseSpec, ProcessSpec,
    RootFs, SeccompFilter, SeccompProfile, spawn_pause,
};
use peapod_testkit::{TempDir, busybox_rootfs, require_root};

/// The pause binary: `peapod-pause` built beside this bench by cargo
/// (`cargo build --release -p peapod-core --bin peapod-pause`), or the
/// `PEAPOD_PAUSE` path.
fn pause_exe() -> Option<std::path::PathBuf> {
    if let Ok(p) = std::env::var("PEAPOD_PAUSE") {
        return Some(p.into());
    }
    let exe = std::env::current_exe().ok()?;
    let candidate = exe.parent()?.parent()?.join("peapod-pause");
    candidate.exists().then_some(candidate)
}

fn busybox_container<'a>(pause: &'a peapod_core::Process, scratch: &Path) -> ContainerSpawn<'a> {
    for d in ["upper", "work", "rootfs"] {
        std::fs::create_dir_all(scratch.join(d)).unwrap();
    }
    // A fresh upper each time would measure rm -rf; /bin/true writes nothing.
    let plan = MountPlan::new(
        RootFs::Overlay {
            lower: vec![busybox_rootfs().to_path_buf()],
            upper: scratch.join("upper"),
            work: scratch.join("work"),
        },
        scratch.join("rootfs"),
    )
    .with_standard_mounts(None, 64 << 20);
    ContainerSpawn {
        process: ProcessSpec::new(["true"]),
        namespaces: NamespacePlan::container(false, true),
        join_from: Some(pause.pidfd()),
        mounts: Some(plan),
        cgroup: None,
        stdio: peapod_core::Stdio::default(),
    }
}

/// The busybox container under `filter` with the default capabilities,
/// timed from spawn to exit.
fn confined_true(
    pause: &peapod_core::Process,
    scratch: &Path,
    filter: &Arc<SeccompFilter>,
) -> Duration {
    let mut spawn = busybox_container(pause, scratch);
    spawn.process.capabilities = Some(Capabilities::container_default());
    spawn.process.seccomp = Some(Arc::clone(filter));
    let t = Instant::now();
    let p = spawn.spawn().unwrap();
    assert!(p.wait().unwrap().success());
    t.elapsed()
}

/// RuntimeDefault for the default capabilities, as a supervisor compiles
/// it once per pod.
fn runtime_default() -> SeccompFilter {
    let resolved = SeccompProfile::runtime_default()
        .resolve("RuntimeDefault", Capabilities::container_default())
        .unwrap();
    SeccompFilter::compile("RuntimeDefault", &resolved).unwrap()
}

fn container_spawn(c: &mut Criterion) {
    if !require_root("container_spawn") {
        return;
    }
    let mut g = c.benchmark_group("container_spawn");
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("true_on_host", |b| {
        b.iter(|| {
            let p = ContainerSpawn::new(ProcessSpec::new(["/bin/true"]))
                .spawn()
                .unwrap();
            assert!(p.wait().unwrap().success());
        });
    });
    g.bench_function("true_in_new_mnt_pid_net_ipc_uts", |b| {
        b.iter(|| {
            let mut s = ContainerSpawn::new(ProcessSpec::new(["/bin/true"]));
            s.namespaces.create = Namespaces::MNT
                | Namespaces::PID
                | Namespaces::NET
                | Namespaces::IPC
                | Namespaces::UTS;
            let p = s.spawn().unwrap();
            assert!(p.wait().unwrap().success());
        });
    });
    let Some(exe) = pause_exe() else {
        eprintln!("container_spawn: no peapod-pause binary; pause benches skipped");
        return;
    };
    g.bench_function("pause_with_new_pid_ns", |b| {
        b.iter(|| {
            let p = spawn_pause(&PauseSpec {
                share_process_namespace: true,
                exe: Some(exe.clone()),
                ..PauseSpec::default()
            })
            .unwrap();
            p.kill().unwrap();
            p.wait().unwrap();
        });
    });
    let scratch = TempDir::new("bench-spawn");
    let pause = spawn_pause(&PauseSpec {
        share_process_namespace: true,
        exe: Some(exe),
        ..PauseSpec::default()
    })
    .unwrap();
    bench_median(
        &mut g,
        "busybox true joining a pause, unconfined",
        "busybox_true_overlay_rootfs_joining_pause",
        || {
            let t = Instant::now();
            let p = busybox_container(&pause, scratch.path()).spawn().unwrap();
            assert!(p.wait().unwrap().success());
            t.elapsed()
        },
    );
    let filter = Arc::new(runtime_default());
    bench_median(
        &mut g,
        "busybox true joining a pause, RuntimeDefault",
        "busybox_true_overlay_rootfs_joining_pause_runtime_default",
        || confined_true(&pause, scratch.path(), &filter),
    );
    // A one-rule filter: what a filter costs whatever its length.
    let tiny = {
        let json = br#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO"}]}"#;
        let resolved = SeccompProfile::from_json("tiny", json)
            .unwrap()
            .resolve("tiny", Capabilities::container_default())
            .unwrap();
        Arc::new(SeccompFilter::compile("tiny", &resolved).unwrap())
    };
    bench_median(
        &mut g,
        "busybox true joining a pause, a one-rule filter",
        "busybox_true_overlay_rootfs_joining_pause_one_rule_filter",
        || confined_true(&pause, scratch.path(), &tiny),
    );
    bench_median(
        &mut g,
        "RuntimeDefault resolve and compile",
        "seccomp_compile_runtime_default",
        || {
            let t = Instant::now();
            std::hint::black_box(runtime_default());
            t.elapsed()
        },
    );
    g.finish();
    pause.kill().unwrap();
    pause.wait().unwrap();
}

criterion_group!(benches, container_spawn);
criterion_main!(benches);
