//! `core`'s share of a pod start: `clone3` + `execve` of `/bin/true` on
//! the host, in new namespaces, the pause, and a busybox container joining
//! a pause with its overlay root and standard mounts (pivot_root
//! included), each to the process's exit. Needs root; prints a skip
//! otherwise. Everything made is removed at the end.
#![allow(missing_docs, clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use peapod_core::{
    ContainerSpawn, MountPlan, NamespacePlan, Namespaces, PauseSpec, ProcessSpec, RootFs,
    spawn_pause,
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
    g.bench_function("busybox_true_overlay_rootfs_joining_pause", |b| {
        b.iter(|| {
            let p = busybox_container(&pause, scratch.path()).spawn().unwrap();
            assert!(p.wait().unwrap().success());
        });
    });
    g.finish();
    pause.kill().unwrap();
    pause.wait().unwrap();
}

criterion_group!(benches, container_spawn);
criterion_main!(benches);
