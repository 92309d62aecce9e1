//! A whole pod start as `apply` does it: from a parsed manifest (seed 000:
//! two busybox containers running `sleep`, a shared PID namespace, an
//! emptyDir) to every container running — state folder, supervisor
//! process, images, sandbox (cgroup, pause, lo, pod files, volumes),
//! containers, start report — and `pod_start_stop`, the same plus `delete`
//! (SIGKILL with grace 0, cgroups, folders, logs removed).
//!
//! Needs root and the `peapod` binary, built beside this bench
//! (`cargo build --release -p peapod`) or named by `PEAPOD_BIN`; prints a
//! skip otherwise.
#![allow(missing_docs, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use peapod_runtime::Paths;
use peapod_runtime::launch::Launcher;
use peapod_runtime::teardown;
use peapod_testkit::{TempDir, busybox_rootfs, require_root};

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

/// The `peapod` binary: `PEAPOD_BIN`, or `target/<profile>/peapod`.
fn peapod_exe() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("PEAPOD_BIN") {
        return Some(p.into());
    }
    let exe = std::env::current_exe().ok()?;
    let candidate = exe.parent()?.parent()?.join("peapod");
    candidate.exists().then_some(candidate)
}

fn import_busybox(exe: &Path, root: &Path) {
    for tag in ["busybox:1.30.1", "busybox:1.31.1"] {
        let ok = Command::new(exe)
            .arg("--root")
            .arg(root)
            .args(["image", "import", "-c", r#"CMD ["sh"]"#])
            .arg(busybox_rootfs())
            .arg(tag)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "image import {tag}");
    }
}

fn pod_start(c: &mut Criterion) {
    if !require_root("pod_start bench") {
        return;
    }
    let Some(exe) = peapod_exe() else {
        eprintln!(
            "pod_start: skipped, build the peapod binary first (cargo build --release -p peapod) or set PEAPOD_BIN"
        );
        return;
    };
    let tmp = TempDir::new("bench-pod-start");
    let paths = Paths::under(tmp.path());
    import_busybox(&exe, tmp.path());
    let manifest = peapod_spec::parse_manifest(
        SEED_000,
        "seed-000.yaml",
        peapod_spec::ValidationMode::Strict,
    )
    .unwrap();
    let pod = manifest.pods.into_iter().next().unwrap();
    let launcher = Launcher { exe, wait: true };

    let mut group = c.benchmark_group("pod");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("pod_start", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                let key = launcher.create(&paths, pod.clone()).unwrap();
                total += t.elapsed();
                teardown::delete(&paths, &key, Some(0)).unwrap();
            }
            total
        });
    });
    group.bench_function("pod_start_stop", |b| {
        b.iter(|| {
            let key = launcher.create(&paths, pod.clone()).unwrap();
            teardown::delete(&paths, &key, Some(0)).unwrap();
        });
    });
    group.finish();
}

criterion_group!(benches, pod_start);
criterion_main!(benches);
