//! cgroups v1 and v2, detected at run time: a pod cgroup (`peapod-<podid>`)
//! with one child per container, limits from plain numbers, OOM-kill
//! counts, killing everything inside, and removal.
//!
//! On v2 a cgroup that enables controllers for its children may hold no
//! process itself, so the pause goes in a child of the pod cgroup too
//! (`peapod-<podid>/_pause`: a name no container can have), like every
//! container.

mod detect;
mod device_filter;
mod devices;
mod usage;
mod v1;
mod v2;

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

pub(crate) use detect::{CgroupMount, host_container_mounts};
pub use devices::{DEFAULT_ALLOWED_DEVICES, DeviceRule};
pub use usage::CgroupUsage;

/// Which cgroup API a hierarchy speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    /// Legacy: one hierarchy per controller (`/sys/fs/cgroup/memory`, ...);
    /// also the "hybrid" layout, whose v2 mount has no controllers.
    V1,
    /// Unified: one hierarchy (`/sys/fs/cgroup`) with every controller.
    V2,
}

/// Where cgroups live on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupHierarchy {
    version: CgroupVersion,
    /// v2: one root. v1: the mount of each controller peapod uses.
    roots: Vec<PathBuf>,
}

/// Resource limits of a pod or container cgroup, as plain numbers (the
/// runtime converts Kubernetes quantities; see `KUBELET.md`). `None`
/// leaves the kernel's default (unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CgroupLimits {
    /// `resources.limits.memory`: v1 `memory.limit_in_bytes` (and
    /// `memsw`, so swap cannot dodge it), v2 `memory.max`.
    pub memory_max_bytes: Option<u64>,
    /// CFS quota per period in µs (`limits.cpu` × 100 per milliCPU).
    pub cpu_quota_us: Option<u64>,
    /// CFS period in µs (100000 when a quota is set and this is `None`).
    pub cpu_period_us: Option<u64>,
    /// v1 `cpu.shares` (`requests.cpu`); v2 gets [`CgroupLimits::cpu_weight`].
    pub cpu_shares: Option<u64>,
    /// `pids.max`.
    pub pids_max: Option<u64>,
}

impl CgroupLimits {
    /// The default CFS period, 100 ms.
    pub const DEFAULT_CPU_PERIOD_US: u64 = 100_000;

    /// v2 `cpu.weight` for v1 `cpu.shares`, as the kubelet converts:
    /// `1 + ((shares − 2) × 9999) / 262142`, shares clamped to 2..=262144.
    pub fn cpu_weight(shares: u64) -> u64 {
        let shares = shares.clamp(2, 262_144);
        1 + ((shares - 2) * 9999) / 262_142
    }
}

/// A cgroup: one folder per v1 controller hierarchy, or one v2 folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroup {
    version: CgroupVersion,
    dirs: Vec<PathBuf>,
}

/// How a child process is put in a cgroup at birth.
#[derive(Debug)]
pub(crate) enum Placement {
    /// v2: `CLONE_INTO_CGROUP` with this directory fd.
    IntoCgroup(OwnedFd),
    /// v1: the child writes `0` (itself) to each hierarchy's `tasks`
    /// before anything else.
    ///
    /// `tasks`, not `cgroup.procs`: a write of `0` to `tasks` moves only
    /// the calling thread, and for a thread moving itself the kernel
    /// (`cgroup_procs_write_start`, since the 5.x single-thread migration
    /// change) skips the global `cgroup_threadgroup_rwsem`, whose write
    /// side waits for an RCU grace period (1–25 ms per hierarchy
    /// measured). The child is single-threaded right after `clone3`, so
    /// moving its one thread moves the whole process. Older kernels take
    /// the lock for this write too: same result, only slower, so no
    /// fallback is needed.
    WriteTasks(Vec<OwnedFd>),
}

impl CgroupHierarchy {
    /// Detects the host's layout from `/proc/self/mountinfo`: a cgroup2
    /// mount at `/sys/fs/cgroup` is v2; otherwise the v1 mounts of the
    /// controllers peapod uses (`cpu`, `cpuacct`, `memory`, `pids`,
    /// `freezer`), whatever the hybrid layout adds.
    pub fn detect() -> Result<Self> {
        let info = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(|e| Error::cgroup("/proc/self/mountinfo", e))?;
        detect::from_mountinfo(&info).ok_or_else(|| {
            Error::cgroup(
                "/sys/fs/cgroup",
                std::io::Error::new(std::io::ErrorKind::NotFound, "no usable cgroup mount"),
            )
        })
    }

    /// A v2 hierarchy rooted at `root` (tests use a temp dir).
    pub fn v2(root: impl Into<PathBuf>) -> Self {
        Self {
            version: CgroupVersion::V2,
            roots: vec![root.into()],
        }
    }

    /// A v1 layout with these controller mounts (tests use temp dirs).
    pub fn v1(controller_mounts: Vec<PathBuf>) -> Self {
        Self {
            version: CgroupVersion::V1,
            roots: controller_mounts,
        }
    }

    /// v1 or v2.
    pub fn version(&self) -> CgroupVersion {
        self.version
    }

    /// Makes (or takes, when it exists) the cgroup at `rel` below the root
    /// of every hierarchy, e.g. `peapod-<podid>`.
    ///
    /// On v2 the controllers (`cpu`, `memory`, `pids`) are delegated down
    /// to it and from it to its children, so the cgroup itself must hold no
    /// process: its children ([`Cgroup::child`]) do.
    pub fn create(&self, rel: impl AsRef<Path>) -> Result<Cgroup> {
        let _span = tracing::debug_span!("cgroup_create", rel = %rel.as_ref().display()).entered();
        let cg = self.open(&rel);
        cg.make_dirs()?;
        if self.version == CgroupVersion::V2 {
            let rel = rel.as_ref();
            let rel = rel.strip_prefix("/").unwrap_or(rel);
            // Root first, then each folder down to the new cgroup.
            let mut dir = self.roots[0].clone();
            v2::delegate_controllers(&dir)?;
            for part in rel.components() {
                dir.push(part);
                v2::delegate_controllers(&dir)?;
            }
        }
        Ok(cg)
    }

    /// The cgroup at `rel`, as a handle, without touching the host (for
    /// `delete` after a supervisor died).
    pub fn open(&self, rel: impl AsRef<Path>) -> Cgroup {
        let rel = rel.as_ref();
        let rel = rel.strip_prefix("/").unwrap_or(rel);
        Cgroup {
            version: self.version,
            dirs: self.roots.iter().map(|r| r.join(rel)).collect(),
        }
    }
}

impl Cgroup {
    /// v1 or v2.
    pub fn version(&self) -> CgroupVersion {
        self.version
    }

    /// The folders (one on v2, one per controller on v1).
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Makes (or takes) the child cgroup `name` (a container, `pause`): a
    /// leaf that holds processes.
    pub fn child(&self, name: &str) -> Result<Cgroup> {
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(Error::invalid(
                "cgroup name",
                format!("{name:?} is not a folder name"),
            ));
        }
        let cg = Cgroup {
            version: self.version,
            dirs: self.dirs.iter().map(|d| d.join(name)).collect(),
        };
        cg.make_dirs()?;
        Ok(cg)
    }

    fn make_dirs(&self) -> Result<()> {
        for dir in &self.dirs {
            match std::fs::create_dir(dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::cgroup(dir, e)),
            }
        }
        Ok(())
    }

    /// Writes the limits that are set.
    pub fn set_limits(&self, limits: &CgroupLimits) -> Result<()> {
        let _span = tracing::debug_span!("cgroup_limits", ?limits).entered();
        match self.version {
            CgroupVersion::V1 => v1::set_limits(&self.dirs, limits),
            CgroupVersion::V2 => v2::set_limits(&self.dirs[0], limits),
        }
    }

    /// Allows only the devices of `rules`, for a container's own cgroup:
    /// v1 writes `devices.deny` (all) then `devices.allow` (each rule), v2
    /// attaches a `BPF_PROG_TYPE_CGROUP_DEVICE` program built from them.
    pub fn restrict_devices(&self, rules: &[DeviceRule]) -> Result<()> {
        match self.version {
            CgroupVersion::V1 => devices::v1_restrict(&self.dirs, rules),
            CgroupVersion::V2 => device_filter::attach(&self.dirs[0], rules),
        }
    }

    /// How many processes of this cgroup the OOM killer ended (v1
    /// `memory.oom_control` `oom_kill`, v2 `memory.events` `oom_kill`).
    pub fn oom_kills(&self) -> Result<u64> {
        match self.version {
            CgroupVersion::V1 => v1::oom_kills(&self.dirs),
            CgroupVersion::V2 => v2::oom_kills(&self.dirs[0]),
        }
    }

    /// CPU time and memory used so far ([`CgroupUsage`]).
    pub fn usage(&self) -> Result<CgroupUsage> {
        usage::read(self.version, &self.dirs)
    }

    /// Pids in this cgroup and its children.
    pub fn pids(&self) -> Result<Vec<i32>> {
        let mut out = Vec::new();
        if let Some(dir) = self.dirs.first() {
            collect_pids(dir, &mut out)?;
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Moves process `pid` here (every hierarchy).
    pub fn add_process(&self, pid: i32) -> Result<()> {
        for dir in &self.dirs {
            let file = dir.join("cgroup.procs");
            std::fs::write(&file, pid.to_string()).map_err(|e| Error::cgroup(&file, e))?;
        }
        Ok(())
    }

    /// SIGKILLs every process of this cgroup and its children, and waits
    /// (up to `timeout`) until none is left: [`Cgroup::kill_once`] until
    /// it says so. For callers without an event loop.
    pub fn kill_all(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.kill_once()? {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::cgroup(
                    &self.dirs[0],
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "processes left after SIGKILL",
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// One pass of SIGKILL to every process of this cgroup and its
    /// children, without waiting (v2: `cgroup.kill`, or pid by pid before
    /// Linux 5.14; v1: freeze, kill each pid, thaw); `true` once none is
    /// left. An event loop calls it again on a timer rather than sleeping.
    pub fn kill_once(&self) -> Result<bool> {
        // An exited container's cgroup is usually empty already: no
        // freeze and thaw of it then (v1), nor a `cgroup.kill` (v2).
        if self.pids()?.is_empty() {
            return Ok(true);
        }
        let one_shot = match self.version {
            CgroupVersion::V2 => v2::kill(&self.dirs[0])?,
            CgroupVersion::V1 => false,
        };
        if !one_shot {
            match self.version {
                CgroupVersion::V1 => v1::kill(self)?,
                CgroupVersion::V2 => self.kill_each()?,
            }
        }
        Ok(self.pids()?.is_empty())
    }

    /// SIGKILL to each pid of this cgroup and its children.
    fn kill_each(&self) -> Result<()> {
        for pid in self.pids()? {
            if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                // A pid gone meanwhile is what we want anyway.
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
        Ok(())
    }

    /// Removes the cgroup and its children (deepest first), retrying while
    /// exiting processes drain (`EBUSY`) for up to `timeout`. A cgroup
    /// already gone is fine.
    pub fn remove(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        for dir in &self.dirs {
            remove_tree(dir, deadline)?;
        }
        Ok(())
    }

    /// How a child process joins this cgroup at birth.
    pub(crate) fn placement(&self) -> Result<Placement> {
        use rustix::fs::{CWD, Mode, OFlags};
        match self.version {
            CgroupVersion::V2 => {
                let dir = &self.dirs[0];
                let fd = rustix::fs::openat(
                    CWD,
                    dir,
                    OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| Error::cgroup(dir, e.into()))?;
                Ok(Placement::IntoCgroup(fd))
            }
            CgroupVersion::V1 => self
                .dirs
                .iter()
                .map(|d| {
                    let file = d.join("tasks");
                    rustix::fs::openat(CWD, &file, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty())
                        .map_err(|e| Error::cgroup(&file, e.into()))
                })
                .collect::<Result<Vec<_>>>()
                .map(Placement::WriteTasks),
        }
    }
}

fn collect_pids(dir: &Path, out: &mut Vec<i32>) -> Result<()> {
    let procs = dir.join("cgroup.procs");
    match std::fs::read_to_string(&procs) {
        Ok(text) => out.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::cgroup(&procs, e)),
    }
    for sub in subdirs(dir)? {
        collect_pids(&sub, out)?;
    }
    Ok(())
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries
            .filter_map(std::result::Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::cgroup(dir, e)),
    }
}

/// Removes `dir` and its children, deepest first. The folder is tried
/// first: a leaf (most are) goes without listing its control files; one
/// that is busy has children (removed, then it again) or processes still
/// draining (tried again every 2 ms until `deadline`).
fn remove_tree(dir: &Path, deadline: Instant) -> Result<()> {
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            // A cgroup with children is EBUSY (a plain folder: ENOTEMPTY).
            Err(e) if matches!(e.raw_os_error(), Some(libc::EBUSY | libc::ENOTEMPTY)) => {
                let children = subdirs(dir)?;
                for sub in &children {
                    remove_tree(sub, deadline)?;
                }
                if children.is_empty() {
                    let draining = e.raw_os_error() == Some(libc::EBUSY);
                    if !draining || Instant::now() >= deadline {
                        return Err(Error::cgroup(dir, e));
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
            Err(e) => return Err(Error::cgroup(dir, e)),
        }
    }
}

/// Writes `value` to `dir/file`.
pub(crate) fn write_file(dir: &Path, file: &str, value: &str) -> Result<()> {
    let path = dir.join(file);
    std::fs::write(&path, value).map_err(|e| Error::cgroup(path, e))
}

/// The number after `key ` in a `key value` per line file.
pub(crate) fn keyed_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_weight_matches_the_kubelet_formula() {
        assert_eq!(CgroupLimits::cpu_weight(2), 1);
        assert_eq!(CgroupLimits::cpu_weight(1024), 39);
        assert_eq!(CgroupLimits::cpu_weight(262_144), 10_000);
        assert_eq!(CgroupLimits::cpu_weight(0), 1);
    }

    #[test]
    fn keyed_value_finds_the_counter() {
        let events = "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n";
        assert_eq!(keyed_value(events, "oom_kill"), Some(1));
        assert_eq!(keyed_value(events, "oom"), Some(1));
        assert_eq!(keyed_value(events, "missing"), None);
    }

    #[test]
    fn child_name_with_slash_is_refused() {
        let tmp = std::env::temp_dir().join(format!("peapod-cg-unit-{}", std::process::id()));
        let cg = CgroupHierarchy::v2(&tmp).open("x");
        assert!(cg.child("a/b").is_err());
        assert!(cg.child("..").is_err());
    }

    #[test]
    fn open_joins_below_every_controller_root() {
        let h = CgroupHierarchy::v1(vec!["/cg/memory".into(), "/cg/pids".into()]);
        let cg = h.open("/peapod-abc");
        assert_eq!(
            cg.dirs(),
            [
                PathBuf::from("/cg/memory/peapod-abc"),
                PathBuf::from("/cg/pids/peapod-abc")
            ]
        );
    }
}
