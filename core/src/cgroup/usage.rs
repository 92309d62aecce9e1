//! What a cgroup has used so far: CPU time and memory, from the counters
//! the kubelet's cAdvisor reads (v1 `cpuacct.usage`,
//! `memory.usage_in_bytes`, `memory.stat` `total_inactive_file`; v2
//! `cpu.stat` `usage_usec`, `memory.current`, `memory.stat`
//! `inactive_file`).

use std::path::{Path, PathBuf};

use super::{CgroupVersion, keyed_value};
use crate::error::{Error, Result};

/// A cgroup's counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CgroupUsage {
    /// CPU time used by every process that was ever in the cgroup, in ns.
    pub cpu_usage_ns: u64,
    /// Memory charged to the cgroup, page cache included.
    pub memory_usage_bytes: u64,
    /// The kubelet's working set: the usage less the inactive file pages
    /// (cache the kernel can drop at once), never below 0.
    pub memory_working_set_bytes: u64,
}

/// Reads the counters of the cgroup in `dirs` (one v2 folder, or one per
/// v1 hierarchy; each counter is read from the hierarchy that has it).
pub(super) fn read(version: CgroupVersion, dirs: &[PathBuf]) -> Result<CgroupUsage> {
    let (cpu_usage_ns, usage, inactive) = match version {
        CgroupVersion::V2 => {
            let dir = dirs.first().map_or(Path::new("/"), PathBuf::as_path);
            let cpu = keyed(dir, "cpu.stat", "usage_usec")?.saturating_mul(1000);
            let usage = number(dir, "memory.current")?;
            (cpu, usage, keyed(dir, "memory.stat", "inactive_file")?)
        }
        CgroupVersion::V1 => {
            let cpu = number(controller(dirs, "cpuacct.usage")?, "cpuacct.usage")?;
            let memory = controller(dirs, "memory.usage_in_bytes")?;
            let usage = number(memory, "memory.usage_in_bytes")?;
            (
                cpu,
                usage,
                keyed(memory, "memory.stat", "total_inactive_file")?,
            )
        }
    };
    Ok(CgroupUsage {
        cpu_usage_ns,
        memory_usage_bytes: usage,
        memory_working_set_bytes: usage.saturating_sub(inactive),
    })
}

/// The v1 hierarchy of `dirs` that has `file`.
fn controller<'a>(dirs: &'a [PathBuf], file: &str) -> Result<&'a Path> {
    dirs.iter()
        .map(PathBuf::as_path)
        .find(|d| d.join(file).exists())
        .ok_or_else(|| {
            let path = dirs
                .first()
                .map_or_else(|| PathBuf::from(file), |d| d.join(file));
            Error::cgroup(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "controller not mounted"),
            )
        })
}

fn text(dir: &Path, file: &str) -> Result<String> {
    let path = dir.join(file);
    std::fs::read_to_string(&path).map_err(|e| Error::cgroup(path, e))
}

fn unreadable(dir: &Path, file: &str, what: &str) -> Error {
    Error::cgroup(
        dir.join(file),
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("no {what}")),
    )
}

/// A file holding one number.
fn number(dir: &Path, file: &str) -> Result<u64> {
    text(dir, file)?
        .trim()
        .parse()
        .map_err(|_| unreadable(dir, file, "number"))
}

/// The `key value` line `key` of a flat keyed file.
fn keyed(dir: &Path, file: &str, key: &str) -> Result<u64> {
    keyed_value(&text(dir, file)?, key).ok_or_else(|| unreadable(dir, file, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CgroupHierarchy;

    #[test]
    fn v2_working_set_is_current_less_inactive_file() {
        let tmp = peapod_testkit::TempDir::new("cg-usage-v2");
        let dir = tmp.path().join("c");
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("cpu.stat"), "usage_usec 2500\nuser_usec 2000\n").expect("w");
        std::fs::write(dir.join("memory.current"), "10485760\n").expect("w");
        std::fs::write(
            dir.join("memory.stat"),
            "anon 1\nfile 9\ninactive_file 4194304\n",
        )
        .expect("w");
        let usage = CgroupHierarchy::v2(tmp.path())
            .open("c")
            .usage()
            .expect("read");
        assert_eq!(
            usage,
            CgroupUsage {
                cpu_usage_ns: 2_500_000,
                memory_usage_bytes: 10_485_760,
                memory_working_set_bytes: 6_291_456,
            }
        );
    }

    #[test]
    fn v1_counters_come_from_the_hierarchy_that_has_them() {
        let tmp = peapod_testkit::TempDir::new("cg-usage-v1");
        let (cpu, mem) = (tmp.path().join("cpuacct"), tmp.path().join("memory"));
        for d in [&cpu, &mem] {
            std::fs::create_dir_all(d.join("c")).expect("dir");
        }
        std::fs::write(cpu.join("c/cpuacct.usage"), "123456789\n").expect("w");
        std::fs::write(mem.join("c/memory.usage_in_bytes"), "4096\n").expect("w");
        // The inactive file pages may exceed the usage a moment: never
        // below zero.
        std::fs::write(
            mem.join("c/memory.stat"),
            "inactive_file 1\ntotal_inactive_file 8192\n",
        )
        .expect("w");
        let usage = CgroupHierarchy::v1(vec![cpu, mem])
            .open("c")
            .usage()
            .expect("read");
        assert_eq!(usage.cpu_usage_ns, 123_456_789);
        assert_eq!(usage.memory_usage_bytes, 4096);
        assert_eq!(usage.memory_working_set_bytes, 0);
    }
}
