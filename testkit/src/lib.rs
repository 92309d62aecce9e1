//! Test support shared by peapod's integration tests.
//!
//! - [`require_root`]: the one gate for tests that need root. It skips on a
//!   developer machine without root and **fails** when
//!   `PEAPOD_REQUIRE_ROOT=1` (as `.ci/run` sets), so CI never passes by
//!   skipping.
//! - [`busybox_rootfs`]: the busybox root filesystem built once per test
//!   run by `tests/fixtures/busybox-rootfs.sh` from Debian's
//!   `busybox-static`, with the attack probe as `/bin/probe`.
//! - [`probe_path`]: the probe (`testkit/probe/probe.rs`, a static
//!   executable built by testkit's build script): `probe <call> [args]`
//!   makes one raw syscall (`keyctl`, `bpf`, `perf_event_open`,
//!   `io_uring_setup`, `socket vsock`, `init_module`, `ptrace <pid>`,
//!   `clone [ns...]`, `clone3`, `unshare <ns...>`, `mount`, `personality`,
//!   `raw <nr> [args]`, ...) and prints one line, `<call>: ok` (exit 0) or
//!   `<call>: EPERM` (the errno's name; exit 1). `probe` alone lists the
//!   calls; the command line is stable.
//! - [`TempDir`]: a scratch folder removed on drop, even when a test fails.
//! - [`HostSnapshot`]: what peapod may leave on the host (mounts, links,
//!   cgroups), to compare before and after.
#![forbid(unsafe_code)]
#![allow(clippy::missing_panics_doc)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// Whether this process runs as root (effective uid 0), read from
/// `/proc/self/status` so no `unsafe` is needed.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// Gate for a test that needs root. Returns `true` when the test may go on.
///
/// Without root it returns `false` (the caller returns early, a skip) and
/// says so on stderr, unless `PEAPOD_REQUIRE_ROOT=1`, where it panics: CI
/// must never pass a root test by skipping it.
pub fn require_root(test: &str) -> bool {
    require_host(test, "root", is_root())
}

/// Gate for a test that needs something of the host besides root (the
/// `nft` tool, a cgroup v2 hierarchy, a block device), `present` saying
/// whether it is there. Like [`require_root`]: without it the test is
/// skipped (`false`, said on stderr), unless `PEAPOD_REQUIRE_ROOT=1`,
/// where it fails: CI's host must have it.
pub fn require_host(test: &str, what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    assert!(
        std::env::var("PEAPOD_REQUIRE_ROOT").as_deref() != Ok("1"),
        "{test}: needs {what}, and PEAPOD_REQUIRE_ROOT=1 forbids skipping"
    );
    eprintln!("{test}: skipped, needs {what} (set PEAPOD_REQUIRE_ROOT=1 to make this a failure)");
    false
}

/// The workspace root (the folder holding the top `Cargo.toml`): the
/// parent of the crate `cargo test` or `cargo bench` runs (its
/// `CARGO_MANIFEST_DIR` at run time), else of testkit where it was built.
/// The run-time value comes first because a target folder shared by two
/// clones can hold a testkit built in the other one.
pub fn workspace_root() -> PathBuf {
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([built_in.to_path_buf()])
        .filter_map(|dir| dir.parent().map(Path::to_path_buf))
        .find(|root| root.join("tests/fixtures/busybox-rootfs.sh").exists())
        .unwrap_or_else(|| built_in.parent().unwrap_or(built_in).to_path_buf())
}

/// The busybox root filesystem, built on first use by the fixture script
/// into `target/fixtures/busybox` and shared by every test of the run,
/// with the probe ([`probe_path`]) as `/bin/probe`.
pub fn busybox_rootfs() -> &'static Path {
    static ROOTFS: OnceLock<PathBuf> = OnceLock::new();
    ROOTFS.get_or_init(|| {
        let out = workspace_root().join("target/fixtures/busybox");
        if !out.join("bin/busybox").exists() {
            let script = workspace_root().join("tests/fixtures/busybox-rootfs.sh");
            let status = Command::new("bash")
                .arg(&script)
                .arg(&out)
                .status()
                .expect("run tests/fixtures/busybox-rootfs.sh");
            assert!(status.success(), "{} failed: {status}", script.display());
        }
        install_probe(&out.join("bin/probe"));
        out
    })
}

/// The attack probe: a static executable (`testkit/probe/probe.rs`) that
/// makes one raw syscall named on its command line and prints
/// `<call>: ok` or `<call>: E<NAME>`; exit 0 on success, 1 on failure, 2
/// on a usage error. Run it without arguments for the list of calls.
/// [`busybox_rootfs`] holds a copy as `/bin/probe`.
pub fn probe_path() -> &'static Path {
    Path::new(env!("PEAPOD_PROBE"))
}

/// Copies the probe to `target` unless it is there already, through a
/// temporary file and a rename, so a test running at the same time never
/// sees half a file.
fn install_probe(target: &Path) {
    let probe = std::fs::read(probe_path()).expect("read the probe built by testkit");
    if std::fs::read(target).is_ok_and(|have| have == probe) {
        return;
    }
    let tmp = target.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, &probe).expect("write the probe into the fixture");
    std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("make the probe executable");
    std::fs::rename(&tmp, target).expect("install the probe in the fixture");
}

/// A scratch folder under the system temp dir, removed (recursively) on
/// drop. Mounts below it are the test's to undo first.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `/tmp/peapod-test-<tag>-<pid>-<n>`.
    pub fn new(tag: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("peapod-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create test temp dir");
        Self { path }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// What peapod could leave behind on the host, as sets of names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostSnapshot {
    /// Mount points whose path or source mentions `peapod`.
    pub mounts: BTreeSet<String>,
    /// Network links named `peapod*` or `pp*` (our veth prefix).
    pub links: BTreeSet<String>,
    /// cgroup folders named `peapod*`, under any hierarchy.
    pub cgroups: BTreeSet<String>,
}

impl HostSnapshot {
    /// Reads the host as it is now.
    pub fn take() -> Self {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("peapod"))
            .map(|l| l.split_whitespace().nth(4).unwrap_or_default().to_string())
            .collect();
        let links = std::fs::read_dir("/sys/class/net")
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with("pp") || n.starts_with("peapod"))
                    // The bridge is shared by every pod and stays on purpose.
                    .filter(|n| n != "peapod0")
                    .collect()
            })
            .unwrap_or_default();
        let mut cgroups = BTreeSet::new();
        if let Ok(hierarchies) = std::fs::read_dir("/sys/fs/cgroup") {
            for h in hierarchies.filter_map(Result::ok) {
                collect_peapod_cgroups(&h.path(), 0, &mut cgroups);
            }
        }
        collect_peapod_cgroups(Path::new("/sys/fs/cgroup"), 0, &mut cgroups);
        Self {
            mounts,
            links,
            cgroups,
        }
    }
}

fn collect_peapod_cgroups(dir: &Path, depth: usize, out: &mut BTreeSet<String>) {
    if depth > 3 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let Ok(ft) = e.file_type() else { continue };
        if !ft.is_dir() {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("peapod") {
            out.insert(e.path().display().to_string());
        } else {
            collect_peapod_cgroups(&e.path(), depth + 1, out);
        }
    }
}
