//! A pod start through the CRI socket, as a kubelet drives it: the seed
//! 000 pod of `peapod_benches::cri_pod` (two busybox containers running
//! `sleep`, a shared PID namespace, 128Mi/500m limits each) as
//! `RunPodSandbox`, then `CreateContainer` + `StartContainer` for each
//! container, timed from the first request to the last answer; each
//! sandbox has a log folder, as a kubelet gives it. The sandbox is stopped
//! and removed after each run, outside the timing. `compare.sh` drives
//! the same sequence against containerd with `cri_cycle`.
//!
//! `peapod serve` runs on the bench's own `--root` (a tmpfs on `run/`),
//! driven by peapod-cri's `Client`; the network is `PEAPOD_NETWORK`'s
//! (bridge when unset). Needs root and the `peapod` binary
//! (`cargo build --release -p peapod` or `PEAPOD_BIN`); prints a skip
//! otherwise.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use peapod_benches::cri_pod;
use peapod_cri::Client;
use peapod_testkit::{TempDir, require_root};

use common::{RunTmpfs, bench_median, import_busybox, peapod_exe};

fn cri_pod_start(c: &mut Criterion) {
    if !require_root("cri_pod_start bench") {
        return;
    }
    let Some(exe) = peapod_exe("cri_pod_start") else {
        return;
    };
    let tmp = TempDir::new("bench-cri-pod-start");
    let _run = RunTmpfs::mount(tmp.path());
    let logs = tmp.path().join("pod-logs");
    import_busybox(&exe, tmp.path(), &["busybox:1.30.1", "busybox:1.31.1"]);
    let mut serve = Command::new(&exe)
        .arg("--root")
        .arg(tmp.path())
        .arg("serve")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let socket = line.trim().strip_prefix("listening on unix://").unwrap();
    let client = Client::connect(std::path::Path::new(socket)).unwrap();
    let mode = std::env::var("PEAPOD_NETWORK").unwrap_or_else(|_| "bridge".into());

    let mut group = c.benchmark_group("cri");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    let mut n = 0;
    bench_median(
        &mut group,
        &format!("cri_pod_start (PEAPOD_NETWORK={mode})"),
        &format!("cri_pod_start/{mode}"),
        || {
            n += 1;
            let (took, id) = cri_pod::start(&client, n, Some(&logs)).unwrap();
            cri_pod::stop_and_remove(&client, &id).unwrap();
            took
        },
    );
    group.finish();
    drop(client);
    let _ = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status();
    let _ = serve.wait();
}

criterion_group!(benches, cri_pod_start);
criterion_main!(benches);
