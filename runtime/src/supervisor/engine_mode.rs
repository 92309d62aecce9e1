//! The supervisor of a sandbox the engine made (`sandbox.json` in its
//! folder): the pod controller is never consulted; containers are created,
//! started, signalled, stopped and removed when a client asks over the
//! control socket, and what happens to them is written to `sandbox.json`
//! for any process to read. No restart, probe or hook: the caller
//! decides, as a kubelet does over the CRI.

use std::collections::HashMap;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use peapod_core::{MountOptions, MountStep};
use peapod_image::Store;
use tracing::warn;

use super::Supervisor;
use crate::container;
use crate::control::{self, Request, Response};
use crate::controller::Event;
use crate::engine::{
    ContainerConfig, ContainerState, ContainerStatus, SandboxState, SandboxStatus, record,
};
use crate::error::{Error, Result};
use crate::images;
use crate::slot::Slot;

/// The engine's side of a supervisor.
#[derive(Debug)]
pub(super) struct EngineSide {
    /// What `sandbox.json` says.
    pub status: SandboxStatus,
    /// The slot of each container, by its local id (`<name>.<attempt>`).
    slots: HashMap<String, usize>,
    /// Containers created and not started yet, by slot.
    held: HashMap<usize, container::Created>,
    /// Containers being stopped: SIGKILL at this time.
    kills: Vec<(usize, Instant)>,
    /// Clients waiting for a container (`Some`) or for every container
    /// (`None`) to have exited; `true`: remove the container then.
    waiting: Vec<(Option<usize>, UnixStream, bool)>,
}

impl EngineSide {
    /// The side of the sandbox whose record is `status`.
    pub fn new(status: SandboxStatus) -> Self {
        Self {
            status,
            slots: HashMap::new(),
            held: HashMap::new(),
            kills: Vec::new(),
            waiting: Vec::new(),
        }
    }

    /// Kills the containers created and not started.
    pub fn drop_held(&mut self) {
        self.held.clear();
    }

    /// The next SIGKILL due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.kills.iter().map(|(_, at)| *at).min()
    }

    fn container(&mut self, slot: usize) -> Option<&mut ContainerStatus> {
        let id = self.slots.iter().find(|(_, s)| **s == slot)?.0.clone();
        self.status
            .containers
            .get_mut(&format!("{}.{id}", self.status.id))
    }
}

/// The bind mounts of a container's host paths.
fn binds(config: &ContainerConfig) -> Vec<MountStep> {
    config
        .mounts
        .iter()
        .map(|m| MountStep::Bind {
            source: m.host_path.clone(),
            target: m.container_path.clone(),
            recursive: true,
            options: MountOptions {
                readonly: m.readonly,
                recursive_readonly: m.readonly,
                ..MountOptions::default()
            },
        })
        .collect()
}

impl Supervisor {
    /// Handles an engine request from `client`; answers it now, or later
    /// for a stop (once the container is gone).
    pub(super) fn engine_request(&mut self, request: Request, client: UnixStream) {
        let answer = match request {
            Request::CreateContainer { config } => self.create_container(&config),
            Request::StartContainer { id } => self.start_container(&id),
            Request::StopContainer { id, timeout_ms } => {
                match self.engine_slot(&id) {
                    Ok(slot) => {
                        self.stop_slot(slot, Duration::from_millis(timeout_ms));
                        self.answer_when_gone(Some(slot), client, false);
                    }
                    Err(e) => send(&client, Err(e)),
                }
                return;
            }
            Request::RemoveContainer { id } => {
                match self.engine_slot(&id) {
                    Ok(slot) => {
                        self.stop_slot(slot, Duration::ZERO);
                        self.answer_when_gone(Some(slot), client, true);
                    }
                    Err(e) => send(&client, Err(e)),
                }
                return;
            }
            Request::Signal { id, signal } => {
                self.engine_slot(&id)
                    .and_then(|slot| match &self.slots[slot].run {
                        Some(run) => run
                            .process
                            .signal(signal)
                            .map_err(|e| Error::container(&id, e)),
                        None => Err(Error::container(&id, "container is not running")),
                    })
            }
            Request::ReopenLog { id } => {
                self.engine_slot(&id)
                    .and_then(|slot| match self.slots[slot].streams.first() {
                        Some(stream) => stream
                            .reopen_log()
                            .map_err(|e| Error::io(&self.slots[slot].log_path, e)),
                        None => Err(Error::container(&id, "container is not running")),
                    })
            }
            Request::StopSandbox => {
                let all: Vec<usize> = self.slots_in_use();
                for slot in all {
                    self.stop_slot(slot, Duration::ZERO);
                }
                if let Some(engine) = &mut self.engine {
                    engine.status.state = SandboxState::NotReady;
                }
                self.answer_when_gone(None, client, false);
                return;
            }
            Request::Stop { .. } | Request::Ping => Ok(()),
            Request::Configure(_) => Err(Error::Config(
                "an engine sandbox has no pod to configure: its containers are the engine's".into(),
            )),
        };
        // The record first: what the client reads next is what it asked.
        self.publish_engine();
        send(&client, answer);
    }

    /// The slot of container `id` (its local id).
    fn engine_slot(&self, id: &str) -> Result<usize> {
        self.engine
            .as_ref()
            .and_then(|e| e.slots.get(id).copied())
            .ok_or_else(|| Error::container(id, "no such container in the sandbox"))
    }

    /// The slots of the containers not removed.
    fn slots_in_use(&self) -> Vec<usize> {
        self.engine
            .as_ref()
            .map(|e| e.slots.values().copied().collect())
            .unwrap_or_default()
    }

    /// Creates the container of `config`, held before its `execve`.
    fn create_container(&mut self, config: &ContainerConfig) -> Result<()> {
        let (Some(engine), Some(sandbox)) = (&self.engine, &self.sandbox) else {
            return Err(Error::container(&config.name, "the sandbox is gone"));
        };
        if engine.status.state != SandboxState::Ready {
            return Err(Error::container(&config.name, "the sandbox is not ready"));
        }
        let local = config.local_id();
        if engine.slots.contains_key(&local) {
            return Err(Error::container(
                &config.name,
                format!("attempt {} exists already in the sandbox", config.attempt),
            ));
        }
        let spec = config.container()?;
        let store = Store::open(self.paths.images()).map_err(|e| Error::container(&local, e))?;
        let image = images::resolve(&store, &spec, None, &images::pull_options(&self.paths))?;
        let log_dir = engine
            .status
            .config
            .log_directory
            .clone()
            .unwrap_or_else(|| self.log_dir.clone());
        let log_path = log_dir.join(
            config
                .log_path
                .clone()
                .unwrap_or_else(|| format!("{}/{}.log", config.name, config.attempt).into()),
        );
        // The caller rotates its logs (kubelet does over the CRI): a size
        // no file reaches.
        let policy = crate::log_rotation::RotationPolicy {
            max_size: u64::MAX,
            max_files: 2,
        };
        let log = crate::cri_log::LogFile::open(&log_path, policy)
            .map_err(|e| Error::io(&log_path, e))?;
        let created =
            container::create(sandbox, &spec, &image, &self.hostname, log, binds(config))?;
        if let (Some(score), Some(pid)) = (config.oom_score_adj, created.pid()) {
            crate::oom_score::set(pid, score)?;
        }
        // What an exec recomputes the container's process from.
        let file = container::layers_dir(&sandbox.lib_dir, &local).join(crate::engine::SPEC_FILE);
        let json = serde_json::to_vec(&spec).map_err(|e| Error::json("container spec", e))?;
        std::fs::write(&file, json).map_err(|e| Error::io(&file, e))?;
        // Where an attach finds the container's input in this process.
        created.record_input(&container::layers_dir(&sandbox.lib_dir, &local))?;
        let status = ContainerStatus::created(
            &engine.status.id,
            config,
            image.id.clone(),
            log_path.clone(),
        );
        let mut slot = Slot::new(spec, image);
        slot.log_path = log_path;
        self.slots.push(slot);
        let i = self.slots.len() - 1;
        let engine = self.engine.as_mut().expect("engine mode");
        engine.slots.insert(local, i);
        engine.held.insert(i, created);
        engine.status.containers.insert(status.id.clone(), status);
        Ok(())
    }

    /// Starts created container `id`.
    fn start_container(&mut self, id: &str) -> Result<()> {
        let slot = self.engine_slot(id)?;
        let engine = self.engine.as_mut().expect("engine mode");
        let Some(created) = engine.held.remove(&slot) else {
            return Err(Error::container(
                id,
                "container is not in the created state",
            ));
        };
        if let Err(e) = self.start_created(slot, created) {
            let engine = self.engine.as_mut().expect("engine mode");
            if let Some(c) = engine.container(slot) {
                c.state = ContainerState::Exited;
                c.finished_at = record::now_nanos();
                c.exit_code = 128;
                c.reason = "StartError".into();
                c.message = e.to_string();
            }
            return Err(e);
        }
        self.engine_events();
        Ok(())
    }

    /// Stops container `slot`: its STOPSIGNAL (SIGTERM by default) now,
    /// SIGKILL once `timeout` passed (at once for zero). A created one
    /// is dropped (its held child killed).
    fn stop_slot(&mut self, slot: usize, timeout: Duration) {
        let engine = self.engine.as_mut().expect("engine mode");
        if engine.held.remove(&slot).is_some()
            && let Some(c) = engine.container(slot)
        {
            c.state = ContainerState::Exited;
            c.finished_at = record::now_nanos();
            c.exit_code = 137;
            c.reason = "Error".into();
        }
        let Some(run) = &self.slots[slot].run else {
            return;
        };
        if timeout.is_zero() {
            let _ = run.process.kill();
            return;
        }
        let signal = self.slots[slot]
            .image
            .stop_signal
            .unwrap_or(rustix::process::Signal::TERM.as_raw());
        let _ = run.process.signal(signal);
        engine.kills.push((slot, Instant::now() + timeout));
    }

    /// Answers `client` once container `slot` (or every container) is
    /// gone, removing it first with `remove`.
    fn answer_when_gone(&mut self, slot: Option<usize>, client: UnixStream, remove: bool) {
        let engine = self.engine.as_mut().expect("engine mode");
        engine.waiting.push((slot, client, remove));
        self.engine_events();
    }

    /// Removes what container `slot` has on the host (cgroup, layers) and
    /// its record; its log file stays (the caller's).
    fn remove_slot(&mut self, slot: usize) {
        let Some(engine) = self.engine.as_mut() else {
            return;
        };
        let Some(local) = engine
            .slots
            .iter()
            .find(|(_, s)| **s == slot)
            .map(|(id, _)| id.clone())
        else {
            return;
        };
        engine.slots.remove(&local);
        engine
            .status
            .containers
            .remove(&format!("{}.{local}", engine.status.id));
        self.slots[slot].streams.clear();
        if let Some(sandbox) = &self.sandbox {
            let dir = container::layers_dir(&sandbox.lib_dir, &local);
            if let Err(e) = std::fs::remove_dir_all(&dir)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                warn!("{}: {e}", dir.display());
            }
            if let Err(e) = sandbox
                .container_cgroup(&local)
                .and_then(|cg| cg.remove(crate::teardown::CGROUP_TIMEOUT))
            {
                warn!("{e}");
            }
        }
    }

    /// Carries out what the loop's events mean for the engine's
    /// containers (the controller is off): starts and exits recorded,
    /// SIGKILLs due sent, waiting clients answered, the sandbox finished
    /// once a removal stopped everything.
    pub(super) fn engine_events(&mut self) {
        while let Some(event) = self.pending.pop_front() {
            match event {
                Event::Started(slot) => {
                    let pid = self.slots[slot].run.as_ref().map_or(0, |r| r.process.pid());
                    if let Some(c) = self.engine.as_mut().and_then(|e| e.container(slot)) {
                        c.state = ContainerState::Running;
                        c.started_at = record::now_nanos();
                        c.pid = pid;
                    }
                }
                Event::Exited {
                    container: slot,
                    exit,
                    oom_killed,
                    message,
                } => {
                    let Some(engine) = self.engine.as_mut() else {
                        return;
                    };
                    engine.kills.retain(|(s, _)| *s != slot);
                    if let Some(c) = engine.container(slot) {
                        c.state = ContainerState::Exited;
                        c.finished_at = record::now_nanos();
                        c.exit_code = exit.exit_code();
                        exit.reason(oom_killed).clone_into(&mut c.reason);
                        c.message = message.unwrap_or_default();
                        c.pid = 0;
                    }
                }
                Event::StopRequested(_) => {
                    if let Some(engine) = self.engine.as_mut() {
                        engine.status.state = SandboxState::NotReady;
                    }
                    for slot in self.slots_in_use() {
                        self.stop_slot(slot, Duration::ZERO);
                    }
                    self.removing = true;
                }
                Event::StartFailed { .. }
                | Event::HookDone { .. }
                | Event::ProbeDone { .. }
                | Event::Tick
                | Event::Evicted(_)
                | Event::Configured { .. } => {}
            }
        }
        let now = Instant::now();
        let engine = self.engine.as_mut().expect("engine mode");
        for &(slot, at) in &engine.kills {
            if at <= now
                && let Some(run) = &self.slots[slot].run
            {
                let _ = run.process.kill();
            }
        }
        engine.kills.retain(|(_, at)| *at > now);
        self.answer_waiting();
        let idle = self.slots.iter().all(|s| s.run.is_none()) && self.parked_exits.is_empty();
        if self.removing && idle {
            self.finished = true;
        }
    }

    /// Answers the clients whose containers are gone.
    fn answer_waiting(&mut self) {
        let gone = |sup: &Self, slot: Option<usize>| match slot {
            Some(s) => {
                sup.slots[s].run.is_none() && !sup.parked_exits.iter().any(|p| p.container == s)
            }
            None => sup.slots.iter().all(|s| s.run.is_none()) && sup.parked_exits.is_empty(),
        };
        let engine = self.engine.as_mut().expect("engine mode");
        let waiting = std::mem::take(&mut engine.waiting);
        let mut still = Vec::new();
        let mut done = Vec::new();
        for (slot, client, remove) in waiting {
            if !gone(self, slot) {
                still.push((slot, client, remove));
                continue;
            }
            if remove && let Some(s) = slot {
                self.remove_slot(s);
            }
            done.push(client);
        }
        if !done.is_empty() {
            self.publish_engine();
        }
        for client in done {
            send(&client, Ok(()));
        }
        if let Some(engine) = self.engine.as_mut() {
            engine.waiting.extend(still);
        }
    }

    /// Writes `sandbox.json` as it is now, with the pod's addresses and
    /// the process records `exec` reads.
    pub(super) fn publish_engine(&mut self) {
        let Some(engine) = self.engine.as_mut() else {
            return;
        };
        if let Some(sandbox) = &self.sandbox {
            engine.status.ips.clone_from(&sandbox.pod_ips);
        }
        if let Err(e) = record::write(&self.dir, &engine.status) {
            warn!("{e}");
        }
        // What `get` shows of it: running while ready, with its addresses
        // (its containers are the caller's, not the pod's).
        let phase = match engine.status.state {
            SandboxState::Ready => peapod_spec::PodPhase::Running,
            SandboxState::NotReady => peapod_spec::PodPhase::Succeeded,
        };
        let ips = &engine.status.ips;
        let status = self.pod.status.get_or_insert_with(Default::default);
        status.phase = Some(phase);
        status.pod_ip = ips.first().map(ToString::to_string);
        status.pod_ips = ips
            .iter()
            .map(|ip| peapod_spec::PodIP { ip: ip.to_string() })
            .collect();
        if let Err(e) = self.dir.write_pod(&self.pod) {
            warn!("{e}");
        }
    }
}

/// Sends the answer of a request.
fn send(client: &UnixStream, answer: Result<()>) {
    let response = match answer {
        Ok(()) => Response::Ok,
        Err(e) => Response::Error(e.to_string()),
    };
    let _ = control::send(client, &response);
}
