//! Workloads: Deployment, ReplicaSet, StatefulSet, DaemonSet and Job kept
//! by a keeper process each (`keeper.rs`), as each pod is kept by its
//! supervisor. `apply` writes the workload's folder (`store.rs`) and
//! starts its keeper; the keeper makes and deletes pods, named and
//! labelled as Kubernetes' controllers do (`naming.rs`), by what
//! `reconcile.rs` decides; `delete` stops the keeper, then its pods.

mod keeper;
mod naming;
mod reconcile;
pub mod static_pods;
mod store;

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use peapod_spec::{Pod, Workload, WorkloadKind};
use rustix::process::{Pid, PidfdFlags, Signal};

pub use keeper::keep;
pub use naming::revision_label;
pub use store::{JobCondition, JobStatus, WorkloadRecord};

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::pod_config::PodConfig;
use crate::state::PodKey;
use store::WorkloadDir;

/// The hidden verb that runs a keeper (`peapod keep <args> <folder>`).
pub const KEEP_VERB: &str = "keep";

/// What `apply` did with a workload, in kubectl's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// New.
    Created,
    /// Changed: its keeper scales or replaces the pods.
    Configured,
    /// As it was.
    Unchanged,
}

impl Applied {
    /// `created`, `configured`, `unchanged`.
    pub fn word(self) -> &'static str {
        match self {
            Applied::Created => "created",
            Applied::Configured => "configured",
            Applied::Unchanged => "unchanged",
        }
    }
}

/// A workload with its pods, for `get`.
#[derive(Debug, Clone)]
pub struct WorkloadView {
    /// What was applied.
    pub record: WorkloadRecord,
    /// The pods it owns.
    pub pods: Vec<Pod>,
    /// A Job's progress.
    pub job: Option<JobStatus>,
}

/// Applies `workload` (its pods reading `config`): writes its record and
/// starts its keeper (`exe keep ...`), or updates the record of one
/// already there, whose keeper then acts on it.
pub fn apply(paths: &Paths, exe: &Path, workload: Workload, config: PodConfig) -> Result<Applied> {
    let kind = workload.workload_kind();
    let dir = WorkloadDir::of(paths, kind, workload.namespace(), workload.name());
    let (record, applied) = match dir.read_record() {
        Ok(old) if old.workload == workload && old.config == config => (old, Applied::Unchanged),
        Ok(old) => (
            WorkloadRecord {
                workload,
                config,
                ..old
            },
            Applied::Configured,
        ),
        Err(_) => (
            WorkloadRecord {
                workload,
                uid: crate::launch::new_uid(),
                creation_timestamp: Timestamp::now().rfc3339(),
                config,
            },
            Applied::Created,
        ),
    };
    if applied != Applied::Unchanged {
        dir.create()?;
        dir.write_record(&record)?;
    }
    let finished = dir.read_status().is_some_and(|s| !s.conditions.is_empty());
    let keeper_alive = dir
        .read_keeper()
        .is_some_and(|k| crate::state::ProcessRecord::is_alive(&k));
    if !keeper_alive && !finished {
        spawn_keeper(paths, exe, &dir)?;
    }
    Ok(applied)
}

fn spawn_keeper(paths: &Paths, exe: &Path, dir: &WorkloadDir) -> Result<()> {
    let log_path = dir.path().join(store::KEEPER_LOG);
    let log = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(crate::state::STATE_FILE_MODE)
        .open(&log_path)
        .map_err(|e| Error::io(&log_path, e))?;
    Command::new(exe)
        .arg(KEEP_VERB)
        .args(crate::launch::supervise_args(paths, dir.path()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(|e| Error::io(exe, e))?;
    Ok(())
}

/// The workloads (of `namespace`, of `kind`), sorted by kind and name.
pub fn list(
    paths: &Paths,
    namespace: Option<&str>,
    kind: Option<WorkloadKind>,
) -> Result<Vec<WorkloadView>> {
    let root = store::root(paths);
    let mut folders: Vec<_> = match std::fs::read_dir(&root) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(&root, e)),
    };
    folders.sort();
    let pods = crate::inspect::list(paths, namespace)?;
    let mut views = Vec::new();
    for folder in folders {
        let dir = WorkloadDir::at(&folder);
        let Ok(record) = dir.read_record() else {
            continue;
        };
        let workload = &record.workload;
        if namespace.is_some_and(|ns| ns != workload.namespace())
            || kind.is_some_and(|k| k != workload.workload_kind())
        {
            continue;
        }
        let owned = pods
            .iter()
            .filter(|p| owned_by(p, &record.uid))
            .cloned()
            .collect();
        let job = (workload.workload_kind() == WorkloadKind::Job)
            .then(|| dir.read_status().unwrap_or_default());
        views.push(WorkloadView {
            record,
            pods: owned,
            job,
        });
    }
    views.sort_by(|a, b| {
        let key = |v: &WorkloadView| {
            (
                v.record.workload.workload_kind(),
                v.record.workload.name().to_owned(),
            )
        };
        key(a).cmp(&key(b))
    });
    Ok(views)
}

/// Deletes workload `kind` `name`: its keeper first (so it makes no pod
/// any more), then its pods (each with its grace period, or
/// `grace_period_seconds`), then its folder.
pub fn delete(
    paths: &Paths,
    kind: WorkloadKind,
    namespace: &str,
    name: &str,
    grace_period_seconds: Option<u64>,
) -> Result<()> {
    let dir = WorkloadDir::of(paths, kind, namespace, name);
    let record = dir.read_record().map_err(|_| Error::NotFound {
        name: name.to_owned(),
    })?;
    if let Some(keeper) = dir
        .read_keeper()
        .filter(crate::state::ProcessRecord::is_alive)
    {
        stop_keeper(keeper.pid);
    }
    let pods: Vec<String> = crate::inspect::list(paths, Some(namespace))?
        .into_iter()
        .filter(|p| owned_by(p, &record.uid))
        .filter_map(|p| p.metadata.name)
        .collect();
    let results: Vec<Result<()>> = std::thread::scope(|scope| {
        let stops: Vec<_> = pods
            .iter()
            .map(|pod| {
                let key = PodKey::new(namespace, pod);
                scope.spawn(move || crate::teardown::delete(paths, &key, grace_period_seconds))
            })
            .collect();
        stops
            .into_iter()
            .map(|s| s.join().unwrap_or(Ok(())))
            .collect()
    });
    for result in results {
        match result {
            Ok(()) | Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    dir.remove()
}

/// Whether `pod` is the workload of uid `uid`'s.
fn owned_by(pod: &Pod, uid: &str) -> bool {
    pod.metadata.owner_references.iter().any(|o| o.uid == uid)
}

/// SIGTERM to the keeper (which holds no state of its own), SIGKILL if
/// it is still there after a second; returns once it is gone.
fn stop_keeper(pid: i32) {
    let Some(pidfd) = Pid::from_raw(pid)
        .and_then(|pid| rustix::process::pidfd_open(pid, PidfdFlags::empty()).ok())
    else {
        return;
    };
    let _ = rustix::process::pidfd_send_signal(&pidfd, Signal::TERM);
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let timeout = rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: i64::from(left.subsec_nanos()),
        };
        let mut fds = [rustix::event::PollFd::new(
            &pidfd,
            rustix::event::PollFlags::IN,
        )];
        if matches!(rustix::event::poll(&mut fds, Some(&timeout)), Ok(n) if n > 0) {
            return;
        }
        if left.is_zero() {
            let _ = rustix::process::pidfd_send_signal(&pidfd, Signal::KILL);
            let _ = rustix::event::poll(&mut fds, None);
            return;
        }
    }
}
