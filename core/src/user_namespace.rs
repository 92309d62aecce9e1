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
    /// The group map of process `pid`'s user namespace when it is one map
    /// from 0 ([`IdMap::line`]'s shape); `None` for the host's own (the
    /// whole id range) or another shape.
    pub fn of_process(pid: i32) -> Option<Self> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/gid_map")).ok()?;
        Self::parse(&text)
    }

    /// A map file's text, when it is one line `0 <base> <count>` that is
    /// not the whole id range.
    fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines();
        let mut fields = lines.next()?.split_whitespace().map(str::parse::<u32>);
        let (inside, host_base, count) = (
            fields.next()?.ok()?,
            fields.next()?.ok()?,
            fields.next()?.ok()?,
        );
        let own = host_base == 0 && count == u32::MAX;
        (inside == 0 && !own && lines.next().is_none()).then_some(Self { host_base, count })
    }

    /// The host id of id `inside` of the namespace, when it is mapped.
    pub fn host_id(self, inside: u32) -> Option<u32> {
        (inside < self.count)
            .then(|| self.host_base.checked_add(inside))
            .flatten()
    }

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
    fn a_pods_map_file_is_read_back_and_the_hosts_own_is_none() {
        let map = IdMap {
            host_base: 100_000,
            count: 65536,
        };
        assert_eq!(IdMap::parse(&map.line()), Some(map));
        assert_eq!(IdMap::parse("         0 100000      65536\n"), Some(map));
        assert_eq!(IdMap::parse("0 0 4294967295\n"), None);
        assert_eq!(IdMap::parse("0 1000 1\n1 100000 65536\n"), None);
        assert_eq!(map.host_id(5), Some(100_005));
        assert_eq!(map.host_id(65536), None);
    }

    #[test]
    fn map_line_is_what_uid_map_takes() {
        let map = IdMap {
            host_base: 131_072,
            count: 65_536,
        };
        assert_eq!(map.line(), "0 131072 65536\n");
    }
}
