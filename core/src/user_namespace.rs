//! A pod's user namespace (`hostUsers: false`): the id block it maps, and
//! the maps written by the parent into `/proc/<pid>/uid_map` and
//! `gid_map`.

use std::io::Write as _;

use crate::error::{Error, Result};

/// One contiguous id mapping: ids `0..count` inside the namespace are
/// host ids `host_base..host_base + count`. The same map is written for
/// users and groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdMap {
    /// The host id of uid and gid 0 inside.
    pub host_base: u32,
    /// How many ids are mapped (65,536 for a pod).
    pub count: u32,
}

impl IdMap {
    /// The line `/proc/<pid>/uid_map` takes: `0 <base> <count>`.
    pub fn line(self) -> String {
        format!("0 {} {}\n", self.host_base, self.count)
    }

    /// Writes this map as the uid and the gid map of process `pid`, which
    /// must have just made its user namespace and written nothing yet.
    /// The writer is the parent (privileged in the parent namespace), so
    /// `setgroups` stays allowed inside.
    pub(crate) fn write_for(self, pid: i32) -> Result<()> {
        let line = self.line();
        for (file, what) in [
            ("uid_map", "write the uid_map of the pod's user namespace"),
            ("gid_map", "write the gid_map of the pod's user namespace"),
        ] {
            std::fs::OpenOptions::new()
                .write(true)
                .open(format!("/proc/{pid}/{file}"))
                .and_then(|mut f| f.write_all(line.as_bytes()))
                .map_err(|e| Error::sys(what, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::IdMap;

    #[test]
    fn map_line_is_what_uid_map_takes() {
        let map = IdMap {
            host_base: 131_072,
            count: 65_536,
        };
        assert_eq!(map.line(), "0 131072 65536\n");
    }
}
