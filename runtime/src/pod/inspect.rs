//! Reading pods back for `get` and `describe`: `pod.json` as the supervisor last wrote
//! it, corrected when the supervisor is gone (the pod is then `Unknown`:
//! nothing watches its containers any more).

use std::os::unix::fs::OpenOptionsExt;

use peapod_spec::{Pod, PodPhase};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::state::{Liveness, PodDir, PodKey, StateStore};

/// The pod `key`, with its status as it is now.
pub fn get(paths: &Paths, key: &PodKey) -> Result<Pod> {
    let dir = StateStore::new(paths).pod(key);
    let not_found = || Error::NotFound {
        name: key.name.clone(),
    };
    if !dir.exists() {
        return Err(not_found());
    }
    match read(&dir) {
        // Removed between the check and the read: gone, as for a reader
        // that came a moment later.
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Err(not_found())
        }
        other => other,
    }
}

/// The events of the pod `key` (kept in its state folder, so they outlive
/// a killed supervisor), coalesced, oldest first.
pub fn events(paths: &Paths, key: &PodKey) -> Result<Vec<crate::events::Event>> {
    crate::events::read(&StateStore::new(paths).pod(key))
}

/// Every pod (of `namespace`, or of all with `None`), sorted by name.
pub fn list(paths: &Paths, namespace: Option<&str>) -> Result<Vec<Pod>> {
    let mut pods = Vec::new();
    for dir in StateStore::new(paths).list()? {
        if namespace.is_some_and(|ns| ns != dir.key().namespace) {
            continue;
        }
        // A pod being removed as we read is simply not listed.
        if let Ok(pod) = read(&dir) {
            pods.push(pod);
        }
    }
    Ok(pods)
}

fn read(dir: &PodDir) -> Result<Pod> {
    let mut pod = dir.read_pod()?;
    // A pod that completed (`peapod run` without `--rm`) needs no one
    // watching it any more: it stays `Succeeded` or `Failed`.
    let completed = matches!(
        pod.status.as_ref().and_then(|s| s.phase),
        Some(PodPhase::Succeeded | PodPhase::Failed)
    );
    if !completed && dir.liveness()? == Liveness::Dead {
        mark_unknown(&mut pod);
        let record = dir.read_supervisor()?.unwrap_or_default();
        mark_lost_containers(&mut pod, &record);
    }
    Ok(pod)
}

/// With the supervisor gone, a container shown running whose process is
/// gone too ended unseen: it reads as kubelet shows a container it cannot
/// find (terminated, `ContainerStatusUnknown`, exit code 137) instead of
/// `Running`. One whose process still runs stays `Running`: it is.
fn mark_lost_containers(pod: &mut Pod, record: &crate::state::SupervisorRecord) {
    let Some(status) = pod.status.as_mut() else {
        return;
    };
    for c in status
        .container_statuses
        .iter_mut()
        .chain(status.init_container_statuses.iter_mut())
    {
        let Some(running) = &c.state.running else {
            continue;
        };
        let alive = record
            .containers
            .get(&c.name)
            .is_some_and(crate::state::ProcessRecord::is_alive);
        if alive {
            continue;
        }
        c.state = crate::status::terminated(peapod_spec::ContainerStateTerminated {
            exit_code: 137,
            reason: Some("ContainerStatusUnknown".into()),
            message: Some(
                "the container's process ended after its supervisor was killed: its exit status is unknown"
                    .into(),
            ),
            started_at: running.started_at.clone(),
            ..Default::default()
        });
        c.started = Some(false);
    }
}

/// The file that says a stop is in progress, in the pod's state folder.
const DELETION_FILE: &str = "deletion.json";

/// A stop in progress (the pod's `deletionTimestamp` and
/// `deletionGracePeriodSeconds`): `get` shows `Terminating`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deletion {
    /// When the stop was asked (RFC 3339).
    pub timestamp: String,
    /// Its grace period.
    pub grace_period_seconds: u64,
}

/// Records that the pod in `dir` is being stopped (the supervisor's stop);
/// a second delete keeps the first one's time, as the API server does.
pub fn mark_deletion(dir: &PodDir, grace_period_seconds: u64) -> Result<()> {
    let deletion = Deletion {
        timestamp: crate::clock::Timestamp::now().rfc3339(),
        grace_period_seconds,
    };
    let path = dir.path().join(DELETION_FILE);
    let bytes = serde_json::to_vec(&deletion).map_err(|e| Error::json(DELETION_FILE, e))?;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(crate::state::STATE_FILE_MODE)
        .open(&path)
    {
        Ok(mut f) => std::io::Write::write_all(&mut f, &bytes).map_err(|e| Error::io(&path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(&path, e)),
    }
}

/// The stop in progress of the pod `key`, if any.
pub fn deletion(paths: &Paths, key: &PodKey) -> Option<Deletion> {
    let path = StateStore::new(paths).pod(key).path().join(DELETION_FILE);
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// The status of a pod whose supervisor died: phase `Unknown` with reason
/// `SupervisorLost` (kubelet's `NodeLost` for a node that stopped
/// answering), nothing ready.
pub fn mark_unknown(pod: &mut Pod) {
    let status = pod.status.get_or_insert_with(Default::default);
    status.phase = Some(PodPhase::Unknown);
    status.reason = Some("SupervisorLost".into());
    status.message =
        Some("the pod's supervisor is gone; `peapod delete` removes what is left".into());
    for c in status
        .container_statuses
        .iter_mut()
        .chain(status.init_container_statuses.iter_mut())
    {
        c.ready = false;
    }
    for cond in &mut status.conditions {
        if cond.type_ == "Ready" || cond.type_ == "ContainersReady" {
            "False".clone_into(&mut cond.status);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::SupervisorRecord;

    #[test]
    fn pod_of_a_killed_supervisor_reads_as_unknown() {
        let root = std::env::temp_dir().join(format!("peapod-inspect-{}", std::process::id()));
        let paths = Paths::under(&root);
        let key = PodKey::new("default", "p");
        let dir = StateStore::new(&paths).create(&key).expect("created");
        let mut pod = Pod::default();
        pod.metadata.name = Some("p".into());
        pod.status = Some(peapod_spec::PodStatus {
            phase: Some(PodPhase::Running),
            ..Default::default()
        });
        dir.write_pod(&pod).expect("written");
        // pid 0 never has a /proc entry: a dead supervisor.
        dir.write_supervisor(&SupervisorRecord::default())
            .expect("written");
        let got = get(&paths, &key).expect("read");
        let status = got.status.unwrap_or_default();
        assert_eq!(status.phase, Some(PodPhase::Unknown));
        assert_eq!(status.reason.as_deref(), Some("SupervisorLost"));
        let _ = std::fs::remove_dir_all(root);
    }
}
