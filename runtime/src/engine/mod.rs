//! The engine: what a runtime does on the host for a sandbox and its
//! containers, with no policy (what to start, restart or stop is the
//! caller's: the pod controller, [`crate::controller`], for `apply`; the
//! kubelet over the CRI).
//!
//! [`Engine`] works on sandboxes any process created: each lives in the
//! state store under the root (`<run>/pods/<id>/`, its record in
//! `sandbox.json`), run by its own supervisor process, which owns the
//! sandbox's children and pidfds and is reached over its control socket.
//! A second `Engine` built on the same root, in another process, sees and
//! drives the same sandboxes.
//!
//! The host steps shared with `apply`'s pods and `peapod run`:
//! - [`sandbox_cgroup`]: the sandbox's cgroup `peapod-<uid>` with the
//!   pod's limits (the pids limit);
//! - [`limit_container`]: a container's cgroup limits and device rules;
//! - [`SandboxRemoval`]: removing a sandbox's host side (what is left in
//!   its cgroup, its network, its volumes and folders, the cgroup);
//! - [`stats`]: a container's CPU, memory working set and writable layer
//!   (`top`, the CRI's stats); [`Engine::sandbox_stats`] a sandbox's.
//!
//! Its sandbox-less mode, [`Standalone`], is one container with no pause
//! and no supervisor, created, started and removed by the calling process
//! with the same steps (`peapod run`).

mod attach;
mod cgroup;
mod config;
mod exec;
mod net_dev;
pub(crate) mod record;
mod removal;
mod standalone;
mod stats;

use std::path::PathBuf;
use std::time::Duration;

/// What an attach follows of a container's output ([`Attached::log_path`]).
pub use crate::attach_output::{OutputFollower, Stream as OutputStream};
pub use attach::Attached;
pub(crate) use attach::{INPUT_FD_FILE, input_held, input_of};
pub(crate) use cgroup::{limit_container, recorded_cgroup, sandbox_cgroup};
pub(crate) use config::cgroup_parent;
pub use config::{ContainerConfig, Device, Mount, PortMapping, Propagation, SandboxConfig};
pub(crate) use exec::SPEC_FILE;
pub use exec::{ExecIo, ExecOutput, ExecProcess};
pub use net_dev::InterfaceStats;
pub use record::{ContainerState, ContainerStatus, SandboxState, SandboxStatus};
pub(crate) use removal::SandboxRemoval;
pub(crate) use standalone::{Standalone, StandaloneSpec, null_stdin};
pub use stats::{ContainerStats, SandboxStats, stats};

use crate::control::{self, Request, Response};
use crate::error::{Error, Result};
use crate::launch::Launcher;
use crate::paths::Paths;
use crate::state::{Liveness, PodDir, PodKey, StateStore};

/// How long a request may take beyond what it asks to wait for (a
/// container's mounts, a removal's cleanup).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Sandboxes and containers on this host, under one root.
#[derive(Debug, Clone)]
pub struct Engine {
    paths: Paths,
    exe: PathBuf,
}

impl Engine {
    /// The engine of the state under `paths`; `exe` is the `peapod`
    /// binary that runs each sandbox's supervisor (`peapod supervise`).
    pub fn new(paths: Paths, exe: impl Into<PathBuf>) -> Self {
        Self {
            paths,
            exe: exe.into(),
        }
    }

    /// Creates a sandbox (pause, namespaces, cgroup, network with its
    /// port mappings, pod files) with no container, its supervisor running;
    /// returns its id. A sandbox of the same namespace, name and attempt
    /// is refused ([`Error::AlreadyExists`]). On failure nothing is left.
    pub fn create_sandbox(&self, config: &SandboxConfig) -> Result<String> {
        let key = PodKey::new(
            config.namespace(),
            match config.attempt {
                0 => config.name.clone(),
                n => format!("{}_{n}", config.name),
            },
        );
        let mut pod = config.pod()?;
        pod.metadata.name = Some(key.name.clone());
        if pod.spec.hostname.is_none() {
            pod.spec.hostname = Some(config.name.clone());
        }
        let pod = crate::launch::admit(pod)?;
        let id = key.dir_name();
        let status = SandboxStatus {
            id: id.clone(),
            config: config.clone(),
            state: SandboxState::Ready,
            created_at: record::now_nanos(),
            ..SandboxStatus::default()
        };
        let launcher = Launcher {
            exe: self.exe.clone(),
            wait: true,
        };
        launcher.create_admitted(&self.paths, &pod, |dir| record::write(dir, &status))?;
        Ok(id)
    }

    /// Stops sandbox `id`: every container is killed; the sandbox and its
    /// record stay (state [`SandboxState::NotReady`]) until
    /// [`Engine::remove_sandbox`]. A sandbox gone or stopped already is
    /// fine.
    pub fn stop_sandbox(&self, id: &str) -> Result<()> {
        let Some(dir) = self.sandbox_dir(id)? else {
            return Ok(());
        };
        if dir.liveness()? != Liveness::Alive {
            return Ok(());
        }
        Self::call(&dir, &Request::StopSandbox, REQUEST_TIMEOUT)
    }

    /// Removes sandbox `id` and everything of it on the host (its
    /// containers killed, its network, cgroups and folders removed); the
    /// containers' log files stay. A sandbox gone already is fine.
    pub fn remove_sandbox(&self, id: &str) -> Result<()> {
        let Some(dir) = self.sandbox_dir(id)? else {
            return Ok(());
        };
        // Its supervisor gone, what is left of it (its cgroup below the
        // caller's parent too) is found from its record and uid.
        match crate::teardown::delete(&self.paths, dir.key(), Some(0)) {
            Err(Error::NotFound { .. }) => Ok(()),
            other => other,
        }
    }

    /// What is known of sandbox `id` ([`Error::NotFound`] when there is
    /// none). Its supervisor gone, the sandbox reads
    /// [`SandboxState::NotReady`] and its running containers
    /// [`ContainerState::Unknown`].
    pub fn sandbox_status(&self, id: &str) -> Result<SandboxStatus> {
        let dir = self.sandbox_dir(id)?.ok_or_else(|| Error::NotFound {
            name: id.to_owned(),
        })?;
        Self::status_of(&dir)?.ok_or_else(|| Error::NotFound {
            name: id.to_owned(),
        })
    }

    /// Every sandbox of the engine's (not `apply`'s pods), by id.
    pub fn list_sandboxes(&self) -> Result<Vec<SandboxStatus>> {
        let mut all = Vec::new();
        for dir in StateStore::new(&self.paths).list()? {
            // A pod folder removed meanwhile, or one being created, is
            // left out.
            if let Ok(Some(status)) = Self::status_of(&dir) {
                all.push(status);
            }
        }
        Ok(all)
    }

    /// Creates a container in sandbox `sandbox_id`, held before its
    /// `execve`; returns its id (`<sandbox id>.<name>.<attempt>`). The
    /// image must be in the store (it is not pulled).
    pub fn create_container(&self, sandbox_id: &str, config: &ContainerConfig) -> Result<String> {
        let dir = self.live_sandbox(sandbox_id)?;
        let request = Request::CreateContainer {
            config: Box::new(config.clone()),
        };
        Self::call(&dir, &request, REQUEST_TIMEOUT)?;
        Ok(format!("{sandbox_id}.{}", config.local_id()))
    }

    /// Starts created container `id`.
    pub fn start_container(&self, id: &str) -> Result<()> {
        let (dir, local) = self.container_of(id)?;
        Self::call(
            &dir,
            &Request::StartContainer { id: local },
            REQUEST_TIMEOUT,
        )
    }

    /// Stops container `id`: its image's STOPSIGNAL (SIGTERM by default),
    /// SIGKILL once `timeout` passed (at once for zero); returns once it
    /// is gone. A container not running is fine.
    pub fn stop_container(&self, id: &str, timeout: Duration) -> Result<()> {
        let (dir, local) = self.container_of(id)?;
        let request = Request::StopContainer {
            id: local,
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        };
        Self::call(&dir, &request, timeout + REQUEST_TIMEOUT)
    }

    /// Sends `signal` to container `id`'s process.
    pub fn signal(&self, id: &str, signal: i32) -> Result<()> {
        let (dir, local) = self.container_of(id)?;
        Self::call(
            &dir,
            &Request::Signal { id: local, signal },
            REQUEST_TIMEOUT,
        )
    }

    /// Opens container `id`'s log file again at its path, after the
    /// caller renamed it (log rotation by the caller, the CRI's
    /// `ReopenContainerLog`); refused when the container does not run.
    pub fn reopen_log(&self, id: &str) -> Result<()> {
        let (dir, local) = self.container_of(id)?;
        Self::call(&dir, &Request::ReopenLog { id: local }, REQUEST_TIMEOUT)
    }

    /// Container `id`'s CPU time, memory working set and writable layer.
    pub fn stats(&self, id: &str) -> Result<ContainerStats> {
        let (dir, local) = self.container_of(id)?;
        let (cgroup, uid) = Self::pod_cgroup(&dir)?;
        stats::stats_in(&self.paths, &cgroup, &uid, &local)
    }

    /// Sandbox `id`'s CPU time, memory, process count and network
    /// counters; refused when its supervisor is not running.
    pub fn sandbox_stats(&self, id: &str) -> Result<SandboxStats> {
        let dir = self.live_sandbox(id)?;
        let host_network = record::read(&dir)?.is_some_and(|r| r.config.host_network);
        let (cgroup, _) = Self::pod_cgroup(&dir)?;
        stats::sandbox_stats_in(id, &cgroup, host_network)
    }

    /// Changes container `id`'s cgroup limits in place to those of
    /// `resources` (CPU, memory, ...), as the CRI's
    /// `UpdateContainerResources`.
    pub fn update_resources(
        &self,
        id: &str,
        resources: &peapod_spec::ResourceRequirements,
    ) -> Result<()> {
        let (dir, local) = self.container_of(id)?;
        let (cgroup, _) = Self::pod_cgroup(&dir)?;
        let container = peapod_spec::Container {
            resources: Some(resources.clone()),
            ..peapod_spec::Container::default()
        };
        let fail = |e: peapod_core::Error| Error::container(&local, e);
        let hierarchy = peapod_core::CgroupHierarchy::detect().map_err(fail)?;
        hierarchy
            .open(cgroup.join(&local))
            .set_limits(&crate::container_process::cgroup_limits(&container))
            .map_err(fail)
    }

    /// The cgroup of the sandbox in `dir` (relative to the hierarchy's
    /// root) and its own uid.
    fn pod_cgroup(dir: &PodDir) -> Result<(PathBuf, String)> {
        let uid = dir.read_pod()?.metadata.uid.unwrap_or_default();
        Ok((cgroup::recorded_cgroup(dir, &uid)?, uid))
    }

    /// Removes container `id` (killed first when it runs): its cgroup,
    /// writable layer and record; its log file stays. A container gone
    /// already is fine.
    pub fn remove_container(&self, id: &str) -> Result<()> {
        let (dir, local) = match self.container_of(id) {
            Ok(found) => found,
            Err(Error::NotFound { .. } | Error::NoSuchContainer { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        let request = Request::RemoveContainer { id: local };
        Self::call(&dir, &request, REQUEST_TIMEOUT)
    }

    /// What is known of container `id`.
    pub fn container_status(&self, id: &str) -> Result<ContainerStatus> {
        let (sandbox_id, _) = split_container_id(id)?;
        let status = self.sandbox_status(sandbox_id)?;
        status
            .containers
            .get(id)
            .cloned()
            .ok_or_else(|| no_such_container(sandbox_id, id))
    }

    /// The containers of sandbox `sandbox_id`, or of every sandbox.
    pub fn list_containers(&self, sandbox_id: Option<&str>) -> Result<Vec<ContainerStatus>> {
        let sandboxes = match sandbox_id {
            Some(id) => vec![self.sandbox_status(id)?],
            None => self.list_sandboxes()?,
        };
        Ok(sandboxes
            .into_iter()
            .flat_map(|s| s.containers.into_values())
            .collect())
    }

    /// The state folder of sandbox `id`, `None` when there is none.
    fn sandbox_dir(&self, id: &str) -> Result<Option<PodDir>> {
        let key = PodKey::from_dir_name(id).ok_or_else(|| Error::NotFound {
            name: id.to_owned(),
        })?;
        let dir = StateStore::new(&self.paths).pod(&key);
        Ok(dir.exists().then_some(dir))
    }

    /// The folder of sandbox `id`, whose supervisor must run.
    fn live_sandbox(&self, id: &str) -> Result<PodDir> {
        let dir = self.sandbox_dir(id)?.ok_or_else(|| Error::NotFound {
            name: id.to_owned(),
        })?;
        if dir.liveness()? != Liveness::Alive {
            return Err(Error::Supervisor {
                pod: id.to_owned(),
                message: "not running: the sandbox can only be removed".into(),
            });
        }
        Ok(dir)
    }

    /// The sandbox folder of container `id` and the container's id in it.
    fn container_of(&self, id: &str) -> Result<(PodDir, String)> {
        let (sandbox_id, local) = split_container_id(id)?;
        let dir = self.live_sandbox(sandbox_id)?;
        let status = Self::status_of(&dir)?.unwrap_or_default();
        if !status.containers.contains_key(id) {
            return Err(no_such_container(sandbox_id, id));
        }
        Ok((dir, local.to_owned()))
    }

    /// The record of the sandbox in `dir` as it stands: with its
    /// supervisor gone, nothing in it is running any more as far as
    /// anyone can tell.
    fn status_of(dir: &PodDir) -> Result<Option<SandboxStatus>> {
        let Some(mut status) = record::read(dir)? else {
            return Ok(None);
        };
        if dir.liveness()? == Liveness::Dead {
            status.state = SandboxState::NotReady;
            for c in status.containers.values_mut() {
                if matches!(c.state, ContainerState::Running | ContainerState::Created) {
                    c.state = ContainerState::Unknown;
                }
            }
        }
        Ok(Some(status))
    }

    /// Sends `request` to the supervisor of `dir`.
    fn call(dir: &PodDir, request: &Request, timeout: Duration) -> Result<()> {
        match control::call(&dir.control_socket(), request, timeout)? {
            Response::Ok => Ok(()),
            Response::Error(message) => Err(Error::Engine(message)),
        }
    }
}

/// `<sandbox id>.<name>.<attempt>` split into the sandbox's id and the
/// container's id in it (`<name>.<attempt>`).
fn split_container_id(id: &str) -> Result<(&str, &str)> {
    let bad = || Error::Engine(format!("{id:?} is not a container id"));
    let (rest, attempt) = id.rsplit_once('.').ok_or_else(bad)?;
    let (sandbox, name) = rest.rsplit_once('.').ok_or_else(bad)?;
    if attempt.parse::<u32>().is_err() || name.is_empty() || sandbox.is_empty() {
        return Err(bad());
    }
    Ok((sandbox, &id[sandbox.len() + 1..]))
}

fn no_such_container(sandbox_id: &str, id: &str) -> Error {
    Error::NoSuchContainer {
        pod: sandbox_id.to_owned(),
        container: id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_id_names_its_sandbox_and_its_id_in_it() {
        assert_eq!(
            split_container_id("default_web.1.app.3").expect("id"),
            ("default_web.1", "app.3")
        );
        assert!(split_container_id("default_web").is_err());
        assert!(split_container_id("default_web.app.x").is_err());
    }
}
