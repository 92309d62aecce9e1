//! The cgroup layout of the host, read from `/proc/self/mountinfo`.

use std::path::PathBuf;

use super::{CgroupHierarchy, CgroupVersion};

/// The v1 controllers peapod puts containers in (`devices` for the device
/// cgroup). `cpuset` is left out: a new v1 cpuset cgroup holds no CPU
/// until one is written, and joining it fails.
pub(crate) const V1_CONTROLLERS: [&str; 6] =
    ["cpu", "cpuacct", "memory", "pids", "freezer", "devices"];

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

/// One cgroup filesystem of the host below `/sys/fs/cgroup`, as a
/// container in its own cgroup namespace mounts it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CgroupMount {
    /// Its folder below `/sys/fs/cgroup` (`memory`, `cpu,cpuacct`,
    /// `unified`); empty for a v2 host, whose `/sys/fs/cgroup` it is.
    pub name: String,
    /// `cgroup` or `cgroup2`.
    pub fstype: &'static str,
    /// The mount data naming the hierarchy (`cpu,cpuacct`,
    /// `name=systemd`): its controllers and name, no flags, and never a
    /// `release_agent` (refused outside the host's cgroup namespace).
    pub data: String,
}

/// Options of a v1 cgroup mount that are not controllers or a name.
const V1_FLAG_OPTIONS: [&str; 7] = [
    "rw",
    "ro",
    "xattr",
    "noprefix",
    "clone_children",
    "cpuset_v2_mode",
    "favordynmods",
];

/// The host's cgroup filesystems at and below `/sys/fs/cgroup` that a
/// container sees, in `mountinfo` order: one `cgroup2` with an empty name
/// on a v2 host; else the v1 hierarchies of [`V1_CONTROLLERS`], the ones a
/// container is placed in. The others (`cpuset`, `blkio`, `name=systemd`,
/// the hybrid layout's `unified`, ...) are left out: the container's
/// cgroup namespace is rooted at the supervisor's cgroup there, which
/// would show it the host's tree of cgroups (other pods' among them).
pub(crate) fn container_mounts(mountinfo: &str) -> Vec<CgroupMount> {
    let mut out = Vec::new();
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let Some(mount_point) = left.split(' ').nth(4) else {
            continue;
        };
        let mut fields = right.split(' ');
        let fstype = fields.next().unwrap_or("");
        let super_options = fields.nth(1).unwrap_or("");
        let name = if mount_point == "/sys/fs/cgroup" {
            ""
        } else if let Some(name) = mount_point.strip_prefix("/sys/fs/cgroup/") {
            name
        } else {
            continue;
        };
        if name.contains('/') || name == "." || name == ".." {
            continue;
        }
        let placed = super_options
            .split(',')
            .any(|o| V1_CONTROLLERS.contains(&o));
        let entry = match fstype {
            "cgroup2" if name.is_empty() => CgroupMount {
                name: String::new(),
                fstype: "cgroup2",
                data: String::new(),
            },
            "cgroup" if !name.is_empty() && placed => CgroupMount {
                name: name.to_owned(),
                fstype: "cgroup",
                data: super_options
                    .split(',')
                    .filter(|o| !V1_FLAG_OPTIONS.contains(o) && !o.starts_with("release_agent="))
                    .collect::<Vec<_>>()
                    .join(","),
            },
            _ => continue,
        };
        if entry.name.is_empty() {
            // A v2 host: the unified hierarchy is all there is.
            return vec![entry];
        }
        if !out.iter().any(|m: &CgroupMount| m.name == entry.name) {
            out.push(entry);
        }
    }
    out
}

/// [`container_mounts`] of this host, read once per process.
pub(crate) fn host_container_mounts() -> &'static [CgroupMount] {
    static MOUNTS: std::sync::OnceLock<Vec<CgroupMount>> = std::sync::OnceLock::new();
    MOUNTS.get_or_init(|| {
        std::fs::read_to_string("/proc/self/mountinfo")
            .map(|info| container_mounts(&info))
            .unwrap_or_default()
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
    fn container_mounts_name_each_hierarchy_without_flags() {
        let info = format!(
            "{HYBRID}39 30 0:35 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,xattr,release_agent=/lib/x,devices\n"
        );
        let m = container_mounts(&info);
        let names: Vec<(&str, &str, &str)> = m
            .iter()
            .map(|c| (c.name.as_str(), c.fstype, c.data.as_str()))
            .collect();
        // Not unified, systemd, cpuset: no container is placed there.
        assert_eq!(
            names,
            [
                ("memory", "cgroup", "memory"),
                ("cpu,cpuacct", "cgroup", "cpu,cpuacct"),
                ("pids", "cgroup", "pids"),
                ("devices", "cgroup", "devices"),
            ]
        );
    }

    #[test]
    fn container_mounts_of_a_v2_host_is_one_cgroup2() {
        let info = "29 24 0:25 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
        let m = container_mounts(info);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].name.as_str(), m[0].fstype), ("", "cgroup2"));
    }

    #[test]
    fn no_cgroup_mount_is_none() {
        assert!(from_mountinfo("22 1 0:5 / /proc rw - proc proc rw\n").is_none());
    }
}
