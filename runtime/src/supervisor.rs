//! The per-pod supervisor: `peapod supervise <pod dir>`, a process of its
//! own (new session, stdio away from the caller's terminal, its own
//! private mount namespace so the pod's tmpfs live and die with it).
//!
//! It resolves the images and builds the sandbox, then runs a
//! single-threaded loop over pidfds, log pipes, hook and probe runs,
//! timers and the control socket until the pod is stopped. What to do is
//! the pod controller's (`controller/`): the loop turns what happens into
//! its events and carries out the actions it answers.
//!
//! This file is the loop and its wiring (the state, `run`, `wait`,
//! `publish`, the end). Its parts: `startup` (images, control socket,
//! event loop, sandbox), `actions` (the controller's actions carried out),
//! `container_starts`, `exits` (reaping, log pumps), `hook_runs`,
//! `control_requests`, `pod_updates`, and `engine_mode` (a sandbox the
//! engine's callers drive, the controller off).

mod actions;
mod container_starts;
mod control_requests;
mod engine_mode;
mod exits;
mod hook_runs;
mod pod_updates;
mod startup;

use std::collections::{HashMap, VecDeque};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Instant;

use peapod_core::{EventKind, EventLoop, Process, TerminationSignals};
use peapod_spec::Pod;
use rustix::fs::Mode;
use tracing::warn;

use crate::container;
use crate::control::{self, Response};
use crate::control_clients::ControlClients;
use crate::controller::{Event, PodController};
use crate::error::{Error, Result};
use crate::events::EventLog;
use crate::eviction::StorageLimits;
use crate::launch::{StartReport, report_start};
use crate::loop_token::Token;
use crate::paths::Paths;
use crate::runs::Runs;
use crate::sandbox::Sandbox;
use crate::slot::Slot;
use crate::state::{PodDir, SupervisorRecord};
use crate::trash::Trash;
use exits::ParkedExit;

/// When this process was started as a pod's pause (`argv[0] ==
/// "/pause"`), becomes it and never returns. The binary's `main` calls
/// this first.
pub fn pause_if_invoked() {
    if peapod_core::is_pause_invocation() {
        peapod_core::pause_main();
    }
}

/// Runs the supervisor of the pod in `pod_dir`; returns its exit code.
pub fn supervise(paths: &Paths, pod_dir: &Path) -> i32 {
    match run(paths, pod_dir) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("peapod supervise: {e}");
            1
        }
    }
}

fn run(paths: &Paths, pod_dir: &Path) -> Result<()> {
    let _ = rustix::process::setsid();
    let _ = std::env::set_current_dir("/");
    let dir = PodDir::open(pod_dir)?;
    let lock = dir.lock()?;
    let me = rustix::process::getpid().as_raw_nonzero().get();
    let record = SupervisorRecord {
        pid: me,
        start_time: crate::state::process_start_time(me).unwrap_or(0),
        ..SupervisorRecord::default()
    };
    dir.write_supervisor(&record)?;
    let pod = dir.read_pod()?;
    match Supervisor::start(paths.clone(), dir.clone(), pod, record) {
        Ok(mut sup) => {
            let done = sup.run();
            // The pod is gone and `delete` answered. What this process
            // still holds open on the host's mounts (its lock, stderr on
            // `supervisor.log`, the control socket, log files) goes before
            // the trash is emptied, so a caller may unmount the root's
            // folders right after `delete`.
            let trash = std::mem::replace(&mut sup.trash, Trash::at_once());
            drop(sup);
            drop(lock);
            let _ = rustix::fs::open("/dev/null", rustix::fs::OFlags::WRONLY, Mode::empty())
                .and_then(|null| rustix::stdio::dup2_stderr(&null));
            drop(trash);
            done
        }
        Err(e) => {
            let _ = dir.remove();
            report_start(&StartReport::Failed(e.to_string()));
            Err(e)
        }
    }
}

/// The running supervisor.
struct Supervisor {
    paths: Paths,
    dir: PodDir,
    pod: Pod,
    record: SupervisorRecord,
    sandbox: Option<Sandbox>,
    slots: Vec<Slot>,
    controller: PodController,
    /// Events for the controller, in order.
    pending: VecDeque<Event>,
    listener: UnixListener,
    /// SIGTERM, SIGINT, SIGHUP, SIGQUIT: stop the pod as a delete would.
    signals: Option<TerminationSignals>,
    events: EventLoop,
    /// The pod's events, for `describe`.
    event_log: EventLog,
    /// The next log stream's id.
    stream_ids: u64,
    /// Hook and probe runs in flight.
    runs: Runs,
    /// Killed hook commands waiting to be reaped, by id.
    reaping: HashMap<u64, Process>,
    /// The last id of `reaping`.
    reap_ids: u64,
    /// Control clients whose request is being read.
    incoming: ControlClients,
    /// The clients waiting for the pod's stop.
    clients: Vec<UnixStream>,
    /// Exits whose container's cgroup still held processes when its main
    /// process was reaped: told to the controller once they are gone too
    /// (a restart never meets the last instance's leftovers).
    parked_exits: Vec<ParkedExit>,
    /// The start failed: the report, once the pod is gone.
    failed_start: Option<String>,
    /// The controller said the pod is done.
    finished: bool,
    /// Its emptyDir `sizeLimit`s and `ephemeral-storage` limits, measured
    /// on a timer ([`crate::eviction`]).
    storage_limits: Option<StorageLimits>,
    log_dir: PathBuf,
    hostname: String,
    /// A sandbox of the engine's (`sandbox.json`): the controller is off,
    /// clients create, start and stop its containers.
    engine: Option<engine_mode::EngineSide>,
    /// An engine sandbox is being removed: finished once nothing runs.
    removing: bool,
    /// The pod's folders once removed: taken off their paths by
    /// [`Supervisor::finish`], removed from the disk when the supervisor
    /// is dropped, after it answered (`trash.rs`).
    trash: Trash,
}

impl Supervisor {
    fn run(&mut self) -> Result<()> {
        loop {
            if self.finished {
                tracing::debug!(clients = self.clients.len(), "pod stopped");
                self.finish();
                return Ok(());
            }
            container::give_back_start_up_memory();
            for (token, kind) in self.wait()? {
                match token {
                    Token::Control => self.accept(),
                    Token::Exit(i) => self.reap(i),
                    Token::Output(id) => self.pump(id),
                    Token::Run(id) => self.run_event(id, kind),
                    Token::Signal => self.signalled(),
                    Token::Client(id) => self.read_client(id),
                    Token::Reap(id) => self.reap_killed(id),
                }
            }
            let now = Instant::now();
            self.expire_clients(now);
            self.retry_parked_exits(now);
            self.measure_storage();
            self.feed(Event::Tick);
            self.watch_killed();
            self.publish();
        }
    }

    /// Measures the pod's storage against its limits when due; an
    /// exceeded one evicts the pod (the controller decides the rest).
    fn measure_storage(&mut self) {
        if self.controller.is_stopping() {
            return;
        }
        let (Some(limits), Some(sandbox)) = (&mut self.storage_limits, &self.sandbox) else {
            return;
        };
        if let Some(message) = limits.check(Instant::now(), sandbox, &self.log_dir) {
            self.feed(Event::Evicted(message));
        }
    }

    /// Waits for the next events (or deadline); output before exits, so
    /// the last lines are read before an exit is recorded.
    fn wait(&mut self) -> Result<Vec<(Token, EventKind)>> {
        let storage = (self.storage_limits.as_ref())
            .filter(|_| !self.controller.is_stopping())
            .map(StorageLimits::due_at);
        let timeout = [
            self.controller.next_deadline(),
            self.engine
                .as_ref()
                .and_then(engine_mode::EngineSide::next_deadline),
            storage,
            self.incoming.next_deadline(),
            self.parked_exits.iter().map(|p| p.retry_at).min(),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|d| d.saturating_duration_since(Instant::now()));
        let mut events = Vec::new();
        self.events
            .wait(&mut events, timeout)
            .map_err(|e| Error::pod(&self.dir.key().name, e))?;
        let mut ready: Vec<(Token, EventKind)> = events
            .iter()
            .map(|e| (Token::decode(e.token), e.kind))
            .collect();
        ready.sort_by_key(|(t, _)| match t {
            Token::Control | Token::Signal | Token::Client(_) => 0,
            Token::Output(_) => 1,
            Token::Run(_) => 2,
            Token::Exit(_) | Token::Reap(_) => 3,
        });
        Ok(ready)
    }

    /// Writes `pod.json` with the status as it is now.
    fn publish(&mut self) {
        if self.engine.is_some() {
            self.publish_engine();
            return;
        }
        let (ips, host_ip) = self
            .sandbox
            .as_ref()
            .map(|s| (s.pod_ips.clone(), s.host_ip))
            .unwrap_or_default();
        let qos_class = self.pod.status.as_ref().and_then(|s| s.qos_class);
        let status = self.controller.pod_status(&ips, host_ip, qos_class);
        if self.pod.status.as_ref() == Some(&status) {
            return;
        }
        self.pod.status = Some(status);
        if let Err(e) = self.dir.write_pod(&self.pod) {
            warn!("{e}");
        }
    }

    /// Removes everything of the pod (processes, cgroups, volumes, logs).
    fn destroy(&mut self) {
        if let Some(engine) = &mut self.engine {
            engine.drop_held();
        }
        for slot in &mut self.slots {
            if let Some(run) = slot.run.take() {
                let _ = run.process.kill();
                let _ = run.process.wait();
            }
            slot.streams.clear();
        }
        if let Some(sandbox) = self.sandbox.take()
            && let Err(e) = sandbox.destroy(&self.paths, &mut self.trash)
        {
            warn!("{e}");
        }
    }

    /// The pod is stopped: remove it all, answer the clients (and a
    /// waiting `apply` whose pod could not start), exit.
    fn finish(&mut self) {
        self.destroy();
        let _ = self.dir.remove();
        for c in &self.clients {
            let _ = control::send(c, &Response::Ok);
        }
        if let Some(error) = self.failed_start.take() {
            report_start(&StartReport::Failed(error));
        }
    }
}
