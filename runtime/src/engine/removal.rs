//! Removing what a sandbox made on the host: the processes left in its
//! cgroup, its network (veth, lease, host-port rules; the bridge stays),
//! its volumes (tmpfs, pinned subPaths; their folders go with the pod's),
//! its folders, then its cgroup.
//! Every step runs even when an earlier one failed; the first error is
//! returned.

use std::path::PathBuf;

use peapod_core::{Cgroup, CgroupHierarchy, Process};
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
    /// Its last process (the pause), SIGKILLed by the caller once every
    /// container is gone: reaped after the steps that do not need it gone
    /// (network, volumes, folders), so its exit (the kernel tearing the
    /// pod's namespaces down) overlaps with them; the cgroup is looked at
    /// after it. `None`: processes may still run (after a crash, a run's
    /// leftovers): they are killed first.
    pub dying: Option<&'a Process>,
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
        let kill_leftovers = |keep: &mut dyn FnMut(Result<()>)| {
            if let Some(cg) = cgroup
                && !cg.pids().is_ok_and(|p| p.is_empty())
            {
                keep(
                    cg.kill_all(teardown::CGROUP_TIMEOUT)
                        .map_err(|e| Error::pod(name, e)),
                );
            }
        };
        if self.dying.is_none() {
            kill_leftovers(&mut keep);
        }
        if self.network {
            keep(network::detach(name, self.uid));
        }
        // Their mounts go now; their folders with the pod's, into a
        // deferred trash (no rmdir on the disk before the answer).
        let mut volumes_left = None;
        if let Some(dirs) = &self.volumes {
            let done = if trash.defers() {
                peapod_volumes::unmount(dirs)
            } else {
                peapod_volumes::teardown(dirs)
            };
            if let Err(e) = done {
                volumes_left = Some(dirs.pod_dir());
                keep(Err(Error::pod(name, e)));
            }
        }
        for folder in self.folders {
            // Never removed from under a mount that would not go.
            if volumes_left.is_some_and(|pod| folder.starts_with(pod)) {
                continue;
            }
            keep(trash.put(&folder));
        }
        if let Some(last) = self.dying {
            let _ = last.wait();
            kill_leftovers(&mut keep);
        }
        if let Some(cg) = cgroup {
            // Before the answer: a caller may check or remove its parent
            // as soon as the pod is answered for.
            keep(
                cg.remove(teardown::CGROUP_TIMEOUT)
                    .map_err(|e| Error::pod(name, e)),
            );
        }
        first.map_or(Ok(()), Err)
    }
}
