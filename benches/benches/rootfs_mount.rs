//! A container's root as spawn makes it: in a new mount (and PID)
//! namespace, core's mount plan (overlay of the busybox rootfs, `/proc`,
//! `/dev` with its nodes and links, `/dev/pts`, `/dev/shm`, `/dev/mqueue`,
//! `/sys`, masked and read-only paths), `pivot_root`, then busybox `true`.
//! The baseline is the same spawn and the same binary without any mount,
//! so the difference is the mounts and the pivot. Needs root; prints a
//! skip otherwise. Everything made is removed at the end.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use peapod_core::{ContainerSpawn, MountPlan, Namespaces, ProcessSpec, RootFs};
use peapod_testkit::{TempDir, busybox_rootfs, require_root};

use common::bench_median;

fn spawn_true(process: ProcessSpec, mounts: Option<MountPlan>) -> Duration {
    let mut s = ContainerSpawn::new(process);
    s.namespaces.create = Namespaces::MNT | Namespaces::PID;
    s.mounts = mounts;
    let t = Instant::now();
    let p = s.spawn().unwrap();
    assert!(p.wait().unwrap().success());
    t.elapsed()
}

fn rootfs_mount(c: &mut Criterion) {
    if !require_root("rootfs_mount bench") {
        return;
    }
    let scratch = TempDir::new("bench-rootfs");
    for d in ["upper", "work", "rootfs"] {
        std::fs::create_dir_all(scratch.path().join(d)).unwrap();
    }
    let plan = MountPlan::new(
        RootFs::Overlay {
            lower: vec![busybox_rootfs().to_path_buf()],
            upper: scratch.path().join("upper"),
            work: scratch.path().join("work"),
        },
        scratch.path().join("rootfs"),
    )
    .with_standard_mounts(None, 64 << 20);
    let on_host = busybox_rootfs().join("bin/true");
    let mut group = c.benchmark_group("rootfs_mount");
    group.measurement_time(Duration::from_secs(5));
    bench_median(
        &mut group,
        "rootfs_mount baseline: new mnt+pid ns, no mounts, busybox true",
        "baseline_no_mounts",
        || spawn_true(ProcessSpec::new([on_host.to_str().unwrap()]), None),
    );
    // `true` writes nothing: the upper layer stays empty between runs.
    bench_median(
        &mut group,
        "rootfs_mount: overlay + /proc + /dev + pivot, busybox true",
        "overlay_standard_mounts_pivot",
        || spawn_true(ProcessSpec::new(["true"]), Some(plan.clone())),
    );
    group.finish();
}

criterion_group!(benches, rootfs_mount);
criterion_main!(benches);
