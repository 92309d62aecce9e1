//! A whole pod start as `apply` does it: from a parsed manifest (seed 000:
//! two busybox containers running `sleep`, a shared PID namespace, an
//! emptyDir) to every container running — state folder, supervisor
//! process, images, sandbox (cgroup, pause, network, pod files, volumes),
//! containers, start report. `pod_start_stop` is the same plus `delete`
//! (SIGKILL with grace 0, cgroups, folders, logs removed);
//! `pod_start_parallel_20` and `_100` apply 20 and 100 such pods at once
//! (one thread each) and time until the last is running: the total, and
//! per pod (total / pods), to see whether a pod's cost stays flat as the
//! host fills.
//!
//! The bench's `--root` has a tmpfs on `run/`, as `/run` is on a real host.
//! Each runs twice, with `PEAPOD_NETWORK=none` (loopback only) and
//! `bridge` (a veth on `peapod0`): the bench re-runs itself once per mode
//! unless `PEAPOD_NETWORK` is already set, and names its benches after it.
//!
//! Needs root and the `peapod` binary, built beside this bench
//! (`cargo build --release -p peapod`) or named by `PEAPOD_BIN`; prints a
//! skip otherwise.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group};
use peapod_runtime::Paths;
use peapod_runtime::network::NETWORK_ENV;
use peapod_runtime::pod::launch::Launcher;
use peapod_runtime::pod::teardown;
use peapod_spec::Pod;
use peapod_testkit::{TempDir, require_root};

use common::{RunTmpfs, bench_median, import_busybox, peapod_exe, print_median};

const SEED_000: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: myapp
spec:
  shareProcessNamespace: true
  containers:
    - name: myapp1
      image: busybox:1.30.1
      command: ["sleep", "1000"]
      volumeMounts: [{ mountPath: /usr/logs, name: logs }]
      resources: { limits: { memory: "128Mi", cpu: "500m" } }
    - name: myapp2
      image: busybox:1.31.1
      command: ["sleep", "1000"]
      volumeMounts: [{ mountPath: /usr/logs, name: logs }]
      resources: { limits: { memory: "128Mi", cpu: "500m" } }
  volumes:
    - { name: logs, emptyDir: {} }
"#;

/// Pods applied at once by `pod_start_parallel_<n>`.
const PARALLEL: [usize; 2] = [20, 100];

fn seed_pod() -> Pod {
    let manifest = peapod_spec::parse_manifest(
        SEED_000,
        "seed-000.yaml",
        peapod_spec::ValidationMode::Strict,
    )
    .unwrap();
    manifest.pods.into_iter().next().unwrap()
}

/// `pod` started (timed) and deleted (not timed).
fn start_only(launcher: &Launcher, paths: &Paths, pod: &Pod) -> Duration {
    let t = Instant::now();
    let key = launcher.create(paths, pod.clone()).unwrap();
    let took = t.elapsed();
    teardown::delete(paths, &key, Some(0)).unwrap();
    took
}

fn pod_start(c: &mut Criterion) {
    if !require_root("pod_start bench") {
        return;
    }
    let Some(exe) = peapod_exe("pod_start") else {
        return;
    };
    let mode = std::env::var(NETWORK_ENV).unwrap_or_else(|_| "bridge".into());
    let tmp = TempDir::new("bench-pod-start");
    let _run = RunTmpfs::mount(tmp.path());
    let paths = Paths::under(tmp.path());
    import_busybox(&exe, tmp.path(), &["busybox:1.30.1", "busybox:1.31.1"]);
    let pod = seed_pod();
    let launcher = Launcher { exe, wait: true };

    let mut group = c.benchmark_group("pod");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(10));
    bench_median(
        &mut group,
        &format!("pod_start ({NETWORK_ENV}={mode})"),
        &format!("pod_start/{mode}"),
        || start_only(&launcher, &paths, &pod),
    );
    // The same pod with `seccompProfile: Unconfined`: seccomp's share of
    // a start (RuntimeDefault compiled once, written for exec, installed
    // by each child) is the difference.
    let mut unconfined = pod.clone();
    unconfined.spec.security_context = Some(peapod_spec::PodSecurityContext {
        seccomp_profile: Some(peapod_spec::SeccompProfile {
            type_: peapod_spec::SeccompProfileType::Unconfined,
            localhost_profile: None,
        }),
        ..peapod_spec::PodSecurityContext::default()
    });
    bench_median(
        &mut group,
        &format!("pod_start, seccomp Unconfined ({NETWORK_ENV}={mode})"),
        &format!("pod_start_unconfined/{mode}"),
        || start_only(&launcher, &paths, &unconfined),
    );
    bench_median(
        &mut group,
        &format!("pod_start_stop ({NETWORK_ENV}={mode})"),
        &format!("pod_start_stop/{mode}"),
        || {
            let t = Instant::now();
            let key = launcher.create(&paths, pod.clone()).unwrap();
            teardown::delete(&paths, &key, Some(0)).unwrap();
            t.elapsed()
        },
    );
    group.finish();

    for pods in PARALLEL {
        pod_start_parallel(c, &launcher, &paths, &pod, pods, &mode);
    }
}

/// `pods` copies of `pod` applied at once, one thread each, timed until
/// the last is running (then deleted at once, not timed): the total's
/// median, and the median per pod (total / pods).
fn pod_start_parallel(
    c: &mut Criterion,
    launcher: &Launcher,
    paths: &Paths,
    pod: &Pod,
    pods: usize,
    mode: &str,
) {
    let copies: Vec<Pod> = (0..pods)
        .map(|i| {
            let mut p = pod.clone();
            p.metadata.name = Some(format!("myapp-{i}"));
            p
        })
        .collect();
    let mut totals = Vec::new();
    let mut group = c.benchmark_group("pod_parallel");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(5));
    bench_median(
        &mut group,
        &format!("pod_start_parallel, {pods} pods at once, total ({NETWORK_ENV}={mode})"),
        &format!("pod_start_parallel_{pods}/{mode}"),
        || {
            let t = Instant::now();
            let keys: Vec<_> = std::thread::scope(|s| {
                let started: Vec<_> = copies
                    .iter()
                    .map(|p| s.spawn(|| launcher.create(paths, p.clone()).unwrap()))
                    .collect();
                started.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let took = t.elapsed();
            std::thread::scope(|s| {
                for key in &keys {
                    s.spawn(|| teardown::delete(paths, key, Some(0)).unwrap());
                }
            });
            totals.push(took);
            took
        },
    );
    group.finish();
    let divisor = u32::try_from(pods).unwrap();
    let mut per_pod: Vec<Duration> = totals.iter().map(|total| *total / divisor).collect();
    print_median(
        &format!("pod_start_parallel, {pods} pods at once, per pod ({NETWORK_ENV}={mode})"),
        &mut per_pod,
    );
}

criterion_group!(benches, pod_start);

/// Runs the benches once per network mode (this binary again, with
/// `PEAPOD_NETWORK` set), or once in the mode already set.
fn main() {
    if std::env::var_os(NETWORK_ENV).is_some() {
        benches();
        criterion::Criterion::default()
            .configure_from_args()
            .final_summary();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    for mode in ["none", "bridge"] {
        let status = Command::new(&exe)
            .args(std::env::args_os().skip(1))
            .env(NETWORK_ENV, mode)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "pod_start with {NETWORK_ENV}={mode}: {status}"
        );
    }
}
