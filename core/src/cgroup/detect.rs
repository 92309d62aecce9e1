//! The cgroup layout of the host, read from `/proc/self/mountinfo`.

use std::path::PathBuf;

use super::{CgroupHierarchy, CgroupVersion};

/// The v1 controllers peapod puts containers in. `cpuset` is left out: a
/// new v1 cpuset cgroup holds no CPU until one is written, and joining it
/// fails.
pub(crate) const V1_CONTROLLERS: [&str; 5] = ["cpu", "cpuacct", "memory", "pids", "freezer"];

/// The layout described by `mountinfo`: v2 when `/sys/fs/cgroup` itself is
/// a cgroup2 mount, else the v1 mounts holding [`V1_CONTROLLERS`] (one
/// entry per mount, so a joint `cpu,cpuacct` mount counts once).
pub(crate) fn from_mountinfo(mountinfo: &str) -> Option<CgroupHierarchy> {
    let mut v1: Vec<PathBuf> = Vec::new();
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mount_point = left.split(' ').nth(4)?;
        let mut fields = right.split(' ');
        let fstype = fields.next()?;
        let super_options = fields.nth(1).unwrap_or("");
        match fstype {
            "cgroup2" if mount_point == "/sys/fs/cgroup" => {
                return Some(CgroupHierarchy::v2(mount_point));
            }
            "cgroup"
                if super_options
                    .split(',')
                    .any(|o| V1_CONTROLLERS.contains(&o)) =>
            {
                let p = PathBuf::from(mount_point);
                if !v1.contains(&p) {
                    v1.push(p);
                }
            }
            _ => {}
        }
    }
    (!v1.is_empty()).then_some(CgroupHierarchy {
        version: CgroupVersion::V1,
        roots: v1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
30 24 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw
32 30 0:28 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,xattr,name=systemd
35 30 0:31 / /sys/fs/cgroup/memory rw shared:15 - cgroup cgroup rw,memory
36 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw shared:16 - cgroup cgroup rw,cpu,cpuacct
37 30 0:33 / /sys/fs/cgroup/pids rw shared:17 - cgroup cgroup rw,pids
38 30 0:34 / /sys/fs/cgroup/cpuset rw shared:18 - cgroup cgroup rw,cpuset
";

    #[test]
    fn hybrid_layout_is_v1_with_one_entry_per_controller_mount() {
        let h = from_mountinfo(HYBRID).expect("found");
        assert_eq!(h.version, CgroupVersion::V1);
        assert_eq!(
            h.roots,
            [
                PathBuf::from("/sys/fs/cgroup/memory"),
                PathBuf::from("/sys/fs/cgroup/cpu,cpuacct"),
                PathBuf::from("/sys/fs/cgroup/pids"),
            ]
        );
    }

    #[test]
    fn unified_layout_is_v2() {
        let info =
            "29 24 0:25 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        let h = from_mountinfo(info).expect("found");
        assert_eq!(h.version, CgroupVersion::V2);
        assert_eq!(h.roots, [PathBuf::from("/sys/fs/cgroup")]);
    }

    #[test]
    fn no_cgroup_mount_is_none() {
        assert!(from_mountinfo("22 1 0:5 / /proc rw - proc proc rw\n").is_none());
    }
}
