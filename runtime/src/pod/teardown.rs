//! Removing what a pod made on the host, with or without its supervisor:
//! its processes (through its cgroup), its network (veth, lease, host-port
//! rules; the bridge stays), cgroups, volume folders, container
//! layers, pod files and logs (removed with the pod, as kubelet does when
//! a pod object is deleted), then its state folder.
//!
//! The supervisor removes them as its last act (`Sandbox::destroy`,
//! through `remove_pod_resources_with`: the pod's emptied cgroups removed,
//! its folders moved into its trash and removed once it answered:
//! `trash.rs`);
//! `delete`
//! of a pod whose supervisor was killed calls [`clean_after_dead`], which
//! finds the same things from the pod's uid and its recorded cgroup
//! parent (an engine sandbox's, under a CRI caller's cgroup).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use peapod_core::{Cgroup, CgroupHierarchy, Process};
use peapod_volumes::VolumeDirs;

use crate::control::{self, Request, Response};
use crate::cri_log;
use crate::engine::SandboxRemoval;
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::state::{Liveness, PodDir, PodKey, ProcessRecord, StateStore};
use crate::trash::Trash;
use crate::userns_ids::IdBlocks;

/// How long killing and removing cgroups may take.
pub(crate) const CGROUP_TIMEOUT: Duration = Duration::from_secs(5);

/// The pod's cgroup, relative to each hierarchy's root.
pub fn cgroup_name(uid: &str) -> String {
    format!("peapod-{uid}")
}

/// `<lib>/pods/<uid>`: volumes (peapod-volumes), container layers, pod files.
pub fn lib_dir(paths: &Paths, uid: &str) -> PathBuf {
    VolumeDirs::new(&paths.lib, uid).pod_dir().to_path_buf()
}

/// `<run>/mounts/<uid>` (tmpfs on a real host): the pod's folders that
/// nothing writes to, kept off the disk: each container's `rootfs` mount
/// point and `seccomp.bpf`, the pod's `shm` mount point. Removed with the
/// pod's resources.
pub fn run_dir(paths: &Paths, uid: &str) -> PathBuf {
    paths.run.join("mounts").join(uid)
}

/// The pod's volume folders: below [`lib_dir`], its `shm` mount point
/// below [`run_dir`].
pub(crate) fn volume_dirs(paths: &Paths, uid: &str) -> VolumeDirs {
    VolumeDirs::new(&paths.lib, uid).with_shm_in(&run_dir(paths, uid))
}

/// What identifies a pod's resources on the host.
#[derive(Debug, Clone)]
pub struct PodResources {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.uid`.
    pub uid: String,
}

/// Kills every process of the pod's cgroup, detaches its network, removes
/// the cgroup, volumes, layers, pod files and logs
/// ([`SandboxRemoval`]), and frees its user namespace id block. Each step runs even when an earlier one failed;
/// the first error is returned.
pub fn remove_pod_resources(
    paths: &Paths,
    pod: &PodResources,
    cgroup: Option<&Cgroup>,
) -> Result<()> {
    remove_pod_resources_with(paths, pod, cgroup, None, &mut Trash::at_once())
}

/// [`remove_pod_resources`], the pod's folders put in `trash`; `dying`:
/// its pause, SIGKILLed, reaped on the way ([`SandboxRemoval::dying`]).
pub(crate) fn remove_pod_resources_with(
    paths: &Paths,
    pod: &PodResources,
    cgroup: Option<&Cgroup>,
    dying: Option<&Process>,
    trash: &mut Trash,
) -> Result<()> {
    let volumes = volume_dirs(paths, &pod.uid);
    let folders = vec![
        volumes.pod_dir().to_path_buf(),
        cri_log::pod_log_dir(&paths.log, &pod.namespace, &pod.name, &pod.uid),
    ];
    let removed = SandboxRemoval {
        name: &pod.name,
        uid: &pod.uid,
        cgroup,
        network: true,
        volumes: Some(volumes),
        folders,
        dying,
    }
    .remove_with(trash);
    // A tmpfs: removed now, after the volumes' unmount (its `shm`).
    let run = run_dir(paths, &pod.uid);
    let removed = removed.and(match std::fs::remove_dir_all(&run) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(&run, e)),
        _ => Ok(()),
    });
    // After the removal killed every process of the pod's cgroup: no
    // process runs with the block's ids any more.
    let released = IdBlocks::new(&paths.lib).release(&pod.uid);
    removed.and(released)
}

/// Cleans up after a pod whose supervisor is gone (killed, crashed, or
/// never started): everything of [`remove_pod_resources`], then the
/// state folder.
pub fn clean_after_dead(paths: &Paths, dir: &PodDir) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if let Some(record) = dir.read_supervisor()? {
        let supervisor = ProcessRecord {
            pid: record.pid,
            start_time: record.start_time,
        };
        // Still there but not answering: it goes first (it holds the lock).
        if supervisor.is_alive()
            && let Some(pid) = rustix::process::Pid::from_raw(record.pid)
        {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            let deadline = Instant::now() + Duration::from_secs(5);
            while supervisor.is_alive() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    let _lock = dir.lock()?;
    let uid = dir.read_pod().ok().and_then(|p| p.metadata.uid);
    if let Some(uid) = uid {
        let res = PodResources {
            namespace: dir.key().namespace.clone(),
            name: dir.key().name.clone(),
            uid,
        };
        let cgroup = recorded_cgroup(dir, &res.uid);
        remove_pod_resources(paths, &res, cgroup.as_ref())?;
    }
    dir.remove()
}

/// The cgroup of pod `uid` where it was made: below the cgroup parent
/// its engine caller gave (recorded with the sandbox), else at the root.
/// `None` when that cannot be told (no cgroup hierarchy, an unreadable
/// record): the removal then looks at the root and says what failed.
fn recorded_cgroup(dir: &PodDir, uid: &str) -> Option<Cgroup> {
    let path = crate::engine::recorded_cgroup(dir, uid)
        .inspect_err(|e| tracing::warn!("the cgroup of pod {}: {e}", dir.key().name))
        .ok()?;
    CgroupHierarchy::detect().ok().map(|h| h.open(path))
}

/// Deletes pod `key`: through its supervisor when it runs (SIGTERM,
/// grace period, SIGKILL, cleanup), else directly.
pub fn delete(paths: &Paths, key: &PodKey, grace_period_seconds: Option<u64>) -> Result<()> {
    stop(paths, key, grace_period_seconds, Until::Removed)
}

/// Asks pod `key` to stop (kubectl's `delete --wait=false`) and returns
/// once its supervisor took the request: the pod reads `Terminating`
/// and goes on stopping, then removes itself, without the caller. A pod
/// whose supervisor is gone is removed at once, as [`delete`] does.
pub fn request_delete(
    paths: &Paths,
    key: &PodKey,
    grace_period_seconds: Option<u64>,
) -> Result<()> {
    stop(paths, key, grace_period_seconds, Until::Asked)
}

/// How long [`stop`] waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    /// The pod is gone.
    Removed,
    /// The supervisor recorded the deletion.
    Asked,
}

fn stop(
    paths: &Paths,
    key: &PodKey,
    grace_period_seconds: Option<u64>,
    until: Until,
) -> Result<()> {
    let dir = StateStore::new(paths).existing(key)?;
    let mut liveness = dir.liveness()?;
    // A pod being created: give its supervisor a moment to record itself.
    let deadline = Instant::now() + Duration::from_secs(5);
    while liveness == Liveness::Starting && Instant::now() < deadline && dir.exists() {
        std::thread::sleep(Duration::from_millis(20));
        liveness = dir.liveness()?;
    }
    if liveness == Liveness::Alive {
        let grace = grace_period_seconds.unwrap_or_else(|| {
            dir.read_pod()
                .ok()
                .and_then(|p| p.spec.termination_grace_period_seconds)
                .and_then(|g| u64::try_from(g).ok())
                .unwrap_or(30)
        });
        let request = Request::Stop {
            grace_period_seconds: Some(grace),
        };
        if until == Until::Asked {
            if ask_to_stop(paths, key, &dir, &request)? {
                return Ok(());
            }
        } else {
            let timeout = Duration::from_secs(grace + 30);
            if let Ok(Response::Ok) = control::call(&dir.control_socket(), &request, timeout) {
                // The supervisor answered after removing the folder.
                return Ok(());
            }
        }
    }
    clean_after_dead(paths, &dir)
}

/// Sends `request` (a stop) without waiting for its answer, then waits
/// until the supervisor recorded the deletion or the pod is gone
/// (`true`); `false` when the supervisor could not be reached (it is
/// gone: the caller cleans up after it). A supervisor that was reached
/// but did not record the deletion in time is an error, never a reason to
/// tear a live pod down from outside.
fn ask_to_stop(paths: &Paths, key: &PodKey, dir: &PodDir, request: &Request) -> Result<bool> {
    // Watches first, so the deletion record cannot fall between the
    // request and the wait.
    let mut watch = crate::pod_watch::PodWatch::new(paths)?;
    let socket = dir.control_socket();
    let Ok(stream) = control::via_short_path(&socket, std::os::unix::net::UnixStream::connect)
    else {
        return Ok(false);
    };
    if control::send(&stream, request).is_err() {
        return Ok(false);
    }
    let deadline = Instant::now() + ASK_DEADLINE;
    loop {
        if !dir.exists() || crate::inspect::deletion(paths, key).is_some() {
            return Ok(true);
        }
        if !watch.wait(paths, Some(deadline))? {
            return Err(Error::pod(
                &key.name,
                format!(
                    "its supervisor did not take the stop request within {} s",
                    ASK_DEADLINE.as_secs()
                ),
            ));
        }
    }
}

/// How long a supervisor may take to read a stop request: the control
/// socket's client deadline (a second), with room for a loaded host.
const ASK_DEADLINE: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_and_folders_are_named_by_uid() {
        let paths = Paths::under(std::path::Path::new("/r"));
        assert_eq!(cgroup_name("u1"), "peapod-u1");
        assert_eq!(
            lib_dir(&paths, "u1"),
            std::path::Path::new("/r/lib/pods/u1")
        );
    }
}
