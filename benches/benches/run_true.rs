//! `peapod run --rm busybox true` from the command line to its exit, as a
//! user types it (binary start included): cgroup, network namespace,
//! overlay layer, spawn, wait, teardown. With `--network none` (loopback
//! only) and `bridge` (a veth on `peapod0`). Compare with `crun run` in
//! `compare.sh`. The bench's `--root` has a tmpfs on `run/`, as `/run` is
//! on a real host (on this VM's ext4 disk the layer's removal alone adds
//! tens of ms).
//!
//! Needs root and the `peapod` binary, built beside this bench
//! (`cargo build --release -p peapod`) or named by `PEAPOD_BIN`; prints a
//! skip otherwise.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use peapod_testkit::{TempDir, require_root};

use common::{RunTmpfs, bench_median, import_busybox, peapod_exe};

fn run_true(c: &mut Criterion) {
    if !require_root("run_true bench") {
        return;
    }
    let Some(exe) = peapod_exe("run_true") else {
        return;
    };
    let tmp = TempDir::new("bench-run-true");
    let _run = RunTmpfs::mount(tmp.path());
    import_busybox(&exe, tmp.path(), &["busybox:latest"]);
    let mut group = c.benchmark_group("run");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(8));
    for network in ["none", "bridge"] {
        bench_median(
            &mut group,
            &format!("peapod run --rm --network {network} busybox true"),
            &format!("run_true/{network}"),
            || {
                let t = Instant::now();
                let status = Command::new(&exe)
                    .arg("--root")
                    .arg(tmp.path())
                    .args(["run", "--rm", "--network", network, "busybox", "true"])
                    .stdin(Stdio::null())
                    .status()
                    .unwrap();
                let took = t.elapsed();
                assert!(status.success(), "peapod run: {status}");
                took
            },
        );
    }
    group.finish();
}

criterion_group!(benches, run_true);
criterion_main!(benches);
