//! What the benches share: the `peapod` binary, a `--root` with the busybox
//! images, and a median printed for each bench (criterion's own line gives
//! a mean-based estimate; the median is what `compare.sh` and the READMEs
//! quote).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::BenchmarkGroup;
use criterion::measurement::WallTime;
use peapod_testkit::busybox_rootfs;

/// The `peapod` binary: `PEAPOD_BIN`, or `peapod` beside this bench
/// (`cargo build --release -p peapod` before `cargo bench`). Prints why
/// `bench` is skipped when there is none.
pub fn peapod_exe(bench: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PEAPOD_BIN")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            let candidate = exe.parent()?.parent()?.join("peapod");
            candidate.exists().then_some(candidate)
        });
    if found.is_none() {
        eprintln!(
            "{bench}: skipped, build the peapod binary first (cargo build --release -p peapod) or set PEAPOD_BIN"
        );
    }
    found
}

/// Imports the busybox rootfs into `root` under each of `tags`, with
/// `CMD ["sh"]`.
pub fn import_busybox(exe: &Path, root: &Path, tags: &[&str]) {
    for tag in tags {
        let out = Command::new(exe)
            .arg("--root")
            .arg(root)
            .args(["image", "import", "-c", r#"CMD ["sh"]"#])
            .arg(busybox_rootfs())
            .arg(tag)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "image import {tag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Benches `one` (which returns the time of the part it measures) as
/// `id` in `group`, then prints the median of every run criterion made
/// (warm-up included) as `median <label>: X ms (N runs)`.
pub fn bench_median(
    group: &mut BenchmarkGroup<'_, WallTime>,
    label: &str,
    id: &str,
    mut one: impl FnMut() -> Duration,
) {
    let mut runs = Vec::new();
    group.bench_function(id, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let d = one();
                runs.push(d);
                total += d;
            }
            total
        });
    });
    print_median(label, &mut runs);
}

/// Prints `median <label>: X ms (N runs)`; nothing for no runs.
pub fn print_median(label: &str, runs: &mut [Duration]) {
    if runs.is_empty() {
        return;
    }
    runs.sort_unstable();
    let n = runs.len();
    let median = if n % 2 == 1 {
        runs[n / 2]
    } else {
        (runs[n / 2 - 1] + runs[n / 2]) / 2
    };
    println!(
        "median {label}: {:.2} ms ({n} runs)",
        median.as_secs_f64() * 1000.0
    );
}

/// Removes a bench's own bridge, nft table and lease folder.
pub fn remove_bench_network(bridge: &str, table: &str, lease_dir: &Path) {
    let _ = Command::new("ip").args(["link", "del", bridge]).status();
    let _ = Command::new("nft")
        .args(["delete", "table", "ip", table])
        .stderr(Stdio::null())
        .status();
    let _ = std::fs::remove_dir_all(lease_dir);
}

/// A tmpfs on `<root>/run`, as `/run` is on a real host (state files and
/// `peapod run`'s layers live there); unmounted when dropped (declare it
/// after the root's `TempDir`, so it goes first).
pub struct RunTmpfs(PathBuf);

impl RunTmpfs {
    /// Mounts it (root only).
    pub fn mount(root: &Path) -> Self {
        let dir = root.join("run");
        std::fs::create_dir_all(&dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "mode=0700", "peapod-bench"])
            .arg(&dir)
            .status()
            .unwrap()
            .success();
        assert!(ok, "mount a tmpfs on {}", dir.display());
        Self(dir)
    }
}

impl Drop for RunTmpfs {
    fn drop(&mut self) {
        // Lazily: a supervisor that answered `delete` may still be exiting
        // with a file of the root open.
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}
