//! Legacy hierarchies, one per controller: `memory.limit_in_bytes`,
//! `cpu.cfs_quota_us`, `cpu.shares`, `pids.max`, `memory.oom_control`, the
//! freezer.

use std::path::{Path, PathBuf};

use super::{Cgroup, CgroupLimits, keyed_value, write_file};
use crate::error::{Error, Result};

/// The folder of `dirs` whose hierarchy has `file` (the controller).
fn with_file<'a>(dirs: &'a [PathBuf], file: &str) -> Option<&'a PathBuf> {
    dirs.iter().find(|d| d.join(file).exists())
}

/// Writes `value` to `file` in the hierarchy that has it; a controller
/// not mounted is an error naming the file.
fn write_controller(dirs: &[PathBuf], file: &str, value: &str) -> Result<()> {
    match with_file(dirs, file) {
        Some(dir) => write_file(dir, file, value),
        None => Err(Error::cgroup(
            dirs.first()
                .map_or_else(|| PathBuf::from(file), |d| d.join(file)),
            std::io::Error::new(std::io::ErrorKind::NotFound, "controller not mounted"),
        )),
    }
}

pub(super) fn set_limits(dirs: &[PathBuf], l: &CgroupLimits) -> Result<()> {
    if let Some(bytes) = l.memory_max_bytes {
        // With swap accounting, the same bound on memory+swap, so the
        // container is OOM-killed rather than swapped out. The kernel
        // keeps the memory limit at or below memsw's (EINVAL otherwise):
        // a limit raised in place (`UpdateContainerResources`) goes to
        // memsw first, a lowered one after.
        const MEMSW: &str = "memory.memsw.limit_in_bytes";
        let value = bytes.to_string();
        let memsw = with_file(dirs, MEMSW);
        let raised = memsw.filter(|dir| {
            std::fs::read_to_string(dir.join(MEMSW))
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .is_some_and(|current| current < bytes)
        });
        if let Some(dir) = raised {
            write_file(dir, MEMSW, &value)?;
        }
        write_controller(dirs, "memory.limit_in_bytes", &value)?;
        if let (Some(dir), None) = (memsw, raised) {
            write_file(dir, MEMSW, &value)?;
        }
    }
    if l.cpu_quota_us.is_some() || l.cpu_period_us.is_some() {
        let period = l
            .cpu_period_us
            .unwrap_or(CgroupLimits::DEFAULT_CPU_PERIOD_US);
        write_controller(dirs, "cpu.cfs_period_us", &period.to_string())?;
        let quota = l
            .cpu_quota_us
            .map_or(-1, |q| i64::try_from(q).unwrap_or(i64::MAX));
        write_controller(dirs, "cpu.cfs_quota_us", &quota.to_string())?;
    }
    if let Some(shares) = l.cpu_shares {
        write_controller(dirs, "cpu.shares", &shares.clamp(2, 262_144).to_string())?;
    }
    if let Some(max) = l.pids_max {
        write_controller(dirs, "pids.max", &max.to_string())?;
    }
    Ok(())
}

/// `oom_kill` of `memory.oom_control` (Linux 4.13); older kernels lack the
/// line, and `memory.failcnt` > 0 with an `under_oom` history is the best
/// left, so a missing line reads as 0.
pub(super) fn oom_kills(dirs: &[PathBuf]) -> Result<u64> {
    let Some(dir) = with_file(dirs, "memory.oom_control") else {
        return Ok(0);
    };
    let path = dir.join("memory.oom_control");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::cgroup(path, e))?;
    Ok(keyed_value(&text, "oom_kill").unwrap_or(0))
}

/// Freezes the cgroup (so nothing forks while we kill), SIGKILLs every
/// pid, and thaws it so the kills are delivered. Without a freezer, just
/// the kills.
pub(super) fn kill(cg: &Cgroup) -> Result<()> {
    let freezer = with_file(&cg.dirs, "freezer.state").cloned();
    if let Some(dir) = &freezer {
        write_file(dir, "freezer.state", "FROZEN")?;
        wait_frozen(dir);
    }
    let killed = cg.kill_each();
    if let Some(dir) = &freezer {
        write_file(dir, "freezer.state", "THAWED")?;
    }
    killed
}

fn wait_frozen(dir: &Path) {
    for _ in 0..100 {
        match std::fs::read_to_string(dir.join("freezer.state")) {
            Ok(s) if s.trim() == "FREEZING" => {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::CgroupHierarchy;
    use super::*;

    #[test]
    fn v1_limits_go_to_the_controller_that_has_the_file() {
        let tmp = peapod_testkit::TempDir::new("cg-v1");
        let mem = tmp.path().join("memory");
        let cpu = tmp.path().join("cpu");
        std::fs::create_dir_all(&mem).expect("mkdir");
        std::fs::create_dir_all(&cpu).expect("mkdir");
        let h = CgroupHierarchy::v1(vec![mem.clone(), cpu.clone()]);
        let cg = h.create("peapod-unit").expect("create");
        // Controller files exist in real hierarchies; seed them here.
        for (d, f) in [
            (&mem, "memory.limit_in_bytes"),
            (&cpu, "cpu.cfs_period_us"),
            (&cpu, "cpu.cfs_quota_us"),
            (&cpu, "cpu.shares"),
        ] {
            std::fs::write(d.join("peapod-unit").join(f), "").expect("seed");
        }
        cg.set_limits(&CgroupLimits {
            memory_max_bytes: Some(128 << 20),
            cpu_quota_us: Some(25_000),
            cpu_shares: Some(1),
            ..CgroupLimits::default()
        })
        .expect("limits");
        let read = |p: PathBuf| std::fs::read_to_string(p).expect("read");
        assert_eq!(
            read(mem.join("peapod-unit/memory.limit_in_bytes")),
            "134217728"
        );
        assert_eq!(read(cpu.join("peapod-unit/cpu.cfs_quota_us")), "25000");
        assert_eq!(read(cpu.join("peapod-unit/cpu.cfs_period_us")), "100000");
        assert_eq!(read(cpu.join("peapod-unit/cpu.shares")), "2");
        let err = cg
            .set_limits(&CgroupLimits {
                pids_max: Some(5),
                ..CgroupLimits::default()
            })
            .expect_err("no pids controller")
            .to_string();
        assert!(err.contains("pids.max"), "{err}");
    }

    #[test]
    fn v1_oom_kill_counter_is_read_from_oom_control() {
        let tmp = peapod_testkit::TempDir::new("cg-v1-oom");
        std::fs::create_dir_all(tmp.path().join("memory")).expect("mkdir");
        let h = CgroupHierarchy::v1(vec![tmp.path().join("memory")]);
        let cg = h.create("c").expect("create");
        assert_eq!(cg.oom_kills().expect("no controller is zero"), 0);
        std::fs::write(
            tmp.path().join("memory/c/memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        )
        .expect("seed");
        assert_eq!(cg.oom_kills().expect("read"), 2);
    }
}
