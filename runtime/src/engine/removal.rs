//! Removing what a sandbox made on the host: the processes left in its
//! cgroup, its network (veth, lease, host-port rules; the bridge stays),
//! its volumes (tmpfs, pinned subPaths), its folders, then its cgroup.
//! Every step runs even when an earlier one failed; the first error is
//! returned.

use std::path::PathBuf;

use peapod_core::{Cgroup, CgroupHierarchy};
use peapod_volumes::VolumeDirs;

use crate::error::{Error, Result};
use crate::network;
use crate::teardown;
use crate::trash::Trash;

/// What a sandbox holds on the host, to remove with
/// [`SandboxRemoval::remove`].
#[derive(Debug)]
pub(crate) struct SandboxRemoval<'a> {
    /// The pod's name, for errors.
    pub name: &'a str,
    /// Its uid: its cgroup, veth and lease are named by it.
    pub uid: &'a str,
    /// Its cgroup as held; `None`: found by the uid (after a crash).
    pub cgroup: Option<&'a Cgroup>,
    /// It may hold a lease on the bridge (not with `PEAPOD_NETWORK=none`
    /// for `run`, where looking would make the bridge).
    pub network: bool,
    /// Its volumes, torn down before its folders.
    pub volumes: Option<VolumeDirs>,
    /// Its folders (container layers, pod files, logs).
    pub folders: Vec<PathBuf>,
}

impl SandboxRemoval<'_> {
    /// Removes it all, in order; the first error.
    pub(crate) fn remove(self) -> Result<()> {
        self.remove_with(&mut Trash::at_once())
    }

    /// [`SandboxRemoval::remove`], its folders put in `trash` (removed
    /// when the trash is dropped, for a deferred one).
    pub(crate) fn remove_with(self, trash: &mut Trash) -> Result<()> {
        let mut first: Option<Error> = None;
        let mut keep = |r: Result<()>| {
            if let Err(e) = r
                && first.is_none()
            {
                first = Some(e);
            }
        };
        let name = self.name;
        let opened;
        let cgroup = match self.cgroup {
            Some(c) => Some(c),
            None => match CgroupHierarchy::detect() {
                Ok(h) => {
                    opened = h.open(teardown::cgroup_name(self.uid));
                    Some(&opened)
                }
                Err(e) => {
                    keep(Err(Error::pod(name, e)));
                    None
                }
            },
        };
        // Usually empty by now (a run's PID 1 takes its namespace with it;
        // a supervisor stopped every container): no freeze and thaw then.
        if let Some(cg) = cgroup
            && !cg.pids().is_ok_and(|p| p.is_empty())
        {
            keep(
                cg.kill_all(teardown::CGROUP_TIMEOUT)
                    .map_err(|e| Error::pod(name, e)),
            );
        }
        if self.network {
            keep(network::detach(name, self.uid));
        }
        if let Some(dirs) = &self.volumes {
            keep(peapod_volumes::teardown(dirs).map_err(|e| Error::pod(name, e)));
        }
        for folder in self.folders {
            keep(trash.put(&folder));
        }
        if let Some(cg) = cgroup {
            keep(
                cg.remove(teardown::CGROUP_TIMEOUT)
                    .map_err(|e| Error::pod(name, e)),
            );
        }
        first.map_or(Ok(()), Err)
    }
}
