//! The unified hierarchy: `memory.max`, `cpu.max`, `cpu.weight`,
//! `pids.max`, `memory.events`, `cgroup.kill`.

use std::path::Path;

use super::{CgroupLimits, keyed_value, write_file};
use crate::error::{Error, Result};

/// Controllers delegated to children.
const CONTROLLERS: [&str; 3] = ["cpu", "memory", "pids"];

/// Enables the controllers of [`CONTROLLERS`] that `dir` has for its
/// children (`cgroup.subtree_control`). A controller `dir` lacks is
/// skipped; nothing is written when none is available.
pub(super) fn delegate_controllers(dir: &Path) -> Result<()> {
    let available = std::fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
    let wanted: Vec<String> = CONTROLLERS
        .iter()
        .filter(|c| available.split_whitespace().any(|a| a == **c))
        .map(|c| format!("+{c}"))
        .collect();
    if wanted.is_empty() {
        Ok(())
    } else {
        write_file(dir, "cgroup.subtree_control", &wanted.join(" "))
    }
}

pub(super) fn set_limits(dir: &Path, l: &CgroupLimits) -> Result<()> {
    if let Some(bytes) = l.memory_max_bytes {
        write_file(dir, "memory.max", &bytes.to_string())?;
        // No swap for a limited container (the kubelet's NoSwap); a host
        // without swap accounting has no such file.
        let _ = write_file(dir, "memory.swap.max", "0");
    }
    if l.cpu_quota_us.is_some() || l.cpu_period_us.is_some() {
        let period = l
            .cpu_period_us
            .unwrap_or(CgroupLimits::DEFAULT_CPU_PERIOD_US);
        let quota = l.cpu_quota_us.map_or("max".to_owned(), |q| q.to_string());
        write_file(dir, "cpu.max", &format!("{quota} {period}"))?;
    }
    if let Some(shares) = l.cpu_shares {
        write_file(
            dir,
            "cpu.weight",
            &CgroupLimits::cpu_weight(shares).to_string(),
        )?;
    }
    if let Some(max) = l.pids_max {
        write_file(dir, "pids.max", &max.to_string())?;
    }
    Ok(())
}

pub(super) fn oom_kills(dir: &Path) -> Result<u64> {
    let path = dir.join("memory.events");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(keyed_value(&text, "oom_kill").unwrap_or(0)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(Error::cgroup(path, e)),
    }
}

/// `cgroup.kill` (Linux 5.14): SIGKILL to the whole subtree at once.
/// `Ok(false)` on an older kernel without the file.
pub(super) fn kill(dir: &Path) -> Result<bool> {
    match write_file(dir, "cgroup.kill", "1") {
        Ok(()) => Ok(true),
        Err(Error::Cgroup { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::super::CgroupHierarchy;
    use super::*;

    fn read(dir: &Path, f: &str) -> String {
        std::fs::read_to_string(dir.join(f)).expect(f)
    }

    #[test]
    fn v2_limits_are_written_to_their_files() {
        let tmp = peapod_testkit::TempDir::new("cg-v2");
        std::fs::write(
            tmp.path().join("cgroup.controllers"),
            "cpuset cpu io memory pids\n",
        )
        .expect("seed");
        let pod = CgroupHierarchy::v2(tmp.path())
            .create("peapod-unit")
            .expect("pod");
        let c = pod.child("web").expect("child");
        c.set_limits(&CgroupLimits {
            memory_max_bytes: Some(128 << 20),
            cpu_quota_us: Some(50_000),
            cpu_period_us: None,
            cpu_shares: Some(1024),
            pids_max: Some(100),
        })
        .expect("limits");
        let dir = &c.dirs()[0];
        assert_eq!(read(dir, "memory.max"), "134217728");
        assert_eq!(read(dir, "cpu.max"), "50000 100000");
        assert_eq!(read(dir, "cpu.weight"), "39");
        assert_eq!(read(dir, "pids.max"), "100");
        assert_eq!(
            read(tmp.path(), "cgroup.subtree_control"),
            "+cpu +memory +pids"
        );
    }

    #[test]
    fn v2_oom_kill_counter_is_read_from_memory_events() {
        let tmp = peapod_testkit::TempDir::new("cg-v2-oom");
        let cg = CgroupHierarchy::v2(tmp.path()).create("c").expect("cg");
        assert_eq!(cg.oom_kills().expect("no file is zero"), 0);
        std::fs::write(
            tmp.path().join("c/memory.events"),
            "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n",
        )
        .expect("seed");
        assert_eq!(cg.oom_kills().expect("read"), 1);
    }

    #[test]
    fn v2_kill_writes_cgroup_kill_and_quota_without_limit_is_max() {
        let tmp = peapod_testkit::TempDir::new("cg-v2-kill");
        let cg = CgroupHierarchy::v2(tmp.path()).create("c").expect("cg");
        cg.set_limits(&CgroupLimits {
            cpu_period_us: Some(50_000),
            ..CgroupLimits::default()
        })
        .expect("limits");
        assert_eq!(read(&tmp.path().join("c"), "cpu.max"), "max 50000");
        kill(&tmp.path().join("c")).expect("kill");
        assert_eq!(read(&tmp.path().join("c"), "cgroup.kill"), "1");
    }
}
