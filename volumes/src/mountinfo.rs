//! Reading `/proc/self/mountinfo`: which mounts exist below a folder, and
//! whether the mount holding a path propagates to other namespaces.

use std::io;
use std::path::{Path, PathBuf};

/// One line of `/proc/self/mountinfo`, the fields this crate needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MountEntry {
    /// Field 5: the mount point, unescaped.
    pub mount_point: PathBuf,
    /// Whether the optional fields hold `shared:N` (mounts below it
    /// propagate to its peers, e.g. the host's namespace).
    pub shared: bool,
}

/// The mounts of this process's mount namespace.
pub(crate) fn read() -> io::Result<Vec<MountEntry>> {
    Ok(parse(&std::fs::read_to_string("/proc/self/mountinfo")?))
}

pub(crate) fn parse(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let mount_point = fields.get(4)?;
            let optional_end = fields.iter().position(|f| *f == "-")?;
            let shared = fields
                .get(6..optional_end)?
                .iter()
                .any(|f| f.starts_with("shared:"));
            Some(MountEntry {
                mount_point: PathBuf::from(unescape(mount_point)),
                shared,
            })
        })
        .collect()
}

/// The kernel writes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            std::str::from_utf8(d)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 8).ok())
        });
        match (bytes[i], octal) {
            (b'\\', Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount that holds `path` (the longest mount point above it; the last
/// one listed when several are stacked there).
pub(crate) fn holding<'a>(mounts: &'a [MountEntry], path: &Path) -> Option<&'a MountEntry> {
    mounts
        .iter()
        .filter(|m| path.starts_with(&m.mount_point))
        .max_by_key(|m| m.mount_point.components().count())
}

/// Mount points at or below `dir`, deepest (and latest) first: the order
/// to unmount them in.
pub(crate) fn below(mounts: &[MountEntry], dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = mounts
        .iter()
        .rev()
        .filter(|m| m.mount_point.starts_with(dir))
        .map(|m| m.mount_point.clone())
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 0:5 / /var/lib/peapod rw shared:7 - ext4 /dev/sda2 rw
41 30 0:50 / /var/lib/peapod/pods/u/shm rw,nosuid - tmpfs tmpfs rw,size=65536k
42 30 0:51 / /var/lib/peapod/pods/u/volumes/emptyDir/my\\040cache rw master:3 - tmpfs tmpfs rw
";

    #[test]
    fn parses_mount_points_and_shared_propagation() {
        let m = parse(SAMPLE);
        assert_eq!(m.len(), 4);
        assert!(m[0].shared);
        assert!(!m[2].shared);
        assert!(!m[3].shared, "master: is a slave, not shared");
        assert_eq!(
            m[3].mount_point,
            Path::new("/var/lib/peapod/pods/u/volumes/emptyDir/my cache")
        );
    }

    #[test]
    fn holding_picks_the_deepest_mount_above_the_path() {
        let m = parse(SAMPLE);
        let h = holding(&m, Path::new("/var/lib/peapod/pods/u/volumes")).expect("mount");
        assert_eq!(h.mount_point, Path::new("/var/lib/peapod"));
        assert!(h.shared);
    }

    #[test]
    fn below_lists_deepest_first() {
        let m = parse(SAMPLE);
        assert_eq!(
            below(&m, Path::new("/var/lib/peapod/pods/u")),
            vec![
                PathBuf::from("/var/lib/peapod/pods/u/volumes/emptyDir/my cache"),
                PathBuf::from("/var/lib/peapod/pods/u/shm"),
            ]
        );
    }
}
