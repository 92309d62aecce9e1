//! The per-pod supervisor: `peapod supervise <pod dir>`, a process of its
//! own (new session, stdio away from the caller's terminal, its own
//! private mount namespace so the pod's tmpfs live and die with it).
//!
//! It resolves the images, builds the sandbox, runs the init containers one
//! at a time to completion, starts the app containers in order, reports to
//! the waiting `apply`, then runs a single-threaded loop over pidfds, log
//! pipes, restart timers and the control socket until the pod is stopped.

use std::net::IpAddr;
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use peapod_core::{EventKind, EventLoop, TerminationSignals};
use peapod_hooks::{Outcome, ProbeEvent, ProbeKind};
use peapod_image::Store;
use peapod_spec::{Pod, PodPhase};
use tracing::{debug_span, warn};

use crate::backoff::BackoffPolicy;
use crate::clock::Timestamp;
use crate::container;
use crate::control::{self, Request, Response};
use crate::cri_log;
use crate::error::{Error, Result};
use crate::events::{EventLog, EventType, reason};
use crate::images;
use crate::launch::{StartReport, report_start};
use crate::lifecycle::{self, Hook};
use crate::loop_token::Token;
use crate::paths::Paths;
use crate::pod_files;
use crate::runs::{Purpose, Runs};
use crate::sandbox::Sandbox;
use crate::slot::{self, AfterExit, Kind, Slot};
use crate::state::{PodDir, ProcessRecord, SupervisorRecord};
use crate::status::{self, ExitKind};
use crate::teardown::PodResources;
use crate::termination::{self, ContainerStop, Termination};
use crate::termination_message;

/// The pod's status message once `activeDeadlineSeconds` ran out (kubelet's).
const DEADLINE_MESSAGE: &str = "Pod was active on the node longer than the specified deadline";

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
    let _lock = dir.lock()?;
    let me = rustix::process::getpid().as_raw_nonzero().get();
    let record = SupervisorRecord {
        pid: me,
        start_time: crate::state::process_start_time(me).unwrap_or(0),
        ..SupervisorRecord::default()
    };
    dir.write_supervisor(&record)?;
    let pod = dir.read_pod()?;
    match Supervisor::start(paths.clone(), dir.clone(), pod, record) {
        Ok(mut sup) => sup.run(),
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
    /// The start sequence: index of the next slot to start.
    next: usize,
    listener: UnixListener,
    /// SIGTERM, SIGINT, SIGHUP, SIGQUIT: stop the pod as a delete would.
    signals: Option<TerminationSignals>,
    events: EventLoop,
    /// The pod's events, for `describe`.
    event_log: EventLog,
    /// The next log stream's id.
    stream_ids: u64,
    reported: bool,
    termination: Option<Termination>,
    /// When `activeDeadlineSeconds` runs out.
    active_deadline: Option<Instant>,
    /// It ran out: the pod is `Failed`, `DeadlineExceeded`.
    deadline_exceeded: bool,
    /// Hook and probe runs in flight.
    runs: Runs,
    backoff: BackoffPolicy,
    log_dir: PathBuf,
    hostname: String,
    start_time: String,
}

impl Supervisor {
    fn start(paths: Paths, dir: PodDir, pod: Pod, record: SupervisorRecord) -> Result<Self> {
        let _span = debug_span!("pod_start", pod = %dir.key().name).entered();
        let name = dir.key().name.clone();
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        // Images first: a missing one fails before anything is made.
        let store = Store::open(paths.images()).map_err(|e| Error::pod(&name, e))?;
        let mut slots = Vec::new();
        let init_reason = if pod.spec.init_containers.is_empty() {
            "ContainerCreating"
        } else {
            "PodInitializing"
        };
        for c in &pod.spec.init_containers {
            let image = images::resolve(&store, c)?;
            let kind = if c.is_sidecar() {
                Kind::Sidecar
            } else {
                Kind::Init
            };
            slots.push(Slot::new(c.clone(), kind, image, "PodInitializing"));
        }
        for c in &pod.spec.containers {
            let image = images::resolve(&store, c)?;
            slots.push(Slot::new(c.clone(), Kind::App, image, init_reason));
        }
        crate::sandbox::enter_private_mount_namespace()?;
        let socket = dir.control_socket();
        let listener = control::via_short_path(&socket, UnixListener::bind)
            .map_err(|e| Error::io(&socket, e))?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(&socket, e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io(&socket, e))?;
        let resources = PodResources {
            namespace: dir.key().namespace.clone(),
            name: name.clone(),
            uid: uid.clone(),
        };
        let log_dir = cri_log::pod_log_dir(&paths.log, &resources.namespace, &name, &uid);
        // Before any thread starts, so they all keep the signals blocked.
        let signals = TerminationSignals::block()
            .map_err(|e| warn!("no signalfd, SIGTERM ends the supervisor at once: {e}"))
            .ok();
        let mut events = EventLoop::new().map_err(|e| Error::pod(&name, e))?;
        if let Some(sfd) = &signals {
            events
                .watch_readable(sfd.fd(), Token::Signal.encode())
                .map_err(|e| Error::pod(&name, e))?;
        }
        eprintln!(
            "peapod supervise: pod {name}: event loop on {:?}",
            events.backend()
        );
        events
            .watch_readable(listener.as_fd(), Token::Control.encode())
            .map_err(|e| Error::pod(&name, e))?;
        let config = crate::pod_config::PodConfig::read(&dir)?;
        let sandbox = Sandbox::create(&paths, &pod, resources, config)?;
        let active_deadline = pod
            .spec
            .active_deadline_seconds
            .and_then(|s| u64::try_from(s).ok())
            .map(|s| Instant::now() + Duration::from_secs(s));
        let mut sup = Self {
            event_log: EventLog::open(&dir),
            hostname: pod_files::hostname(&pod),
            start_time: Timestamp::now().rfc3339(),
            paths,
            dir,
            pod,
            record,
            sandbox: Some(sandbox),
            slots,
            next: 0,
            listener,
            signals,
            events,
            stream_ids: 0,
            reported: false,
            termination: None,
            active_deadline,
            deadline_exceeded: false,
            runs: Runs::default(),
            backoff: BackoffPolicy::from_env(),
            log_dir,
        };
        if let Err(e) = sup.advance() {
            sup.destroy();
            return Err(e);
        }
        sup.publish();
        sup.report_when_started();
        Ok(sup)
    }

    /// Moves the start sequence on: init containers one at a time, each
    /// after the previous succeeded (a sidecar once it runs), then every
    /// app container in order.
    fn advance(&mut self) -> Result<()> {
        while self.next < self.slots.len() {
            let i = self.next;
            let slot = &self.slots[i];
            if slot.kind == Kind::Init {
                if slot.succeeded() {
                    self.next += 1;
                    continue;
                }
                if !slot.is_running()
                    && slot.restart_at.is_none()
                    && slot.status.state.terminated.is_none()
                {
                    self.start_slot(i)?;
                }
                return Ok(());
            }
            if !slot.launched {
                let end = self.back_to_back(i);
                self.start_slots(i..end)?;
            }
            // The next container waits for this one's postStart, and for a
            // sidecar's startup probe.
            let slot = &self.slots[i];
            if slot.post_start
                || (slot.kind == Kind::Sidecar && slot.is_running() && !slot.probes_started())
            {
                return Ok(());
            }
            self.next += 1;
        }
        Ok(())
    }

    /// Once every app container was started (or the pod ended during its
    /// init containers), `pod.json` says so and the waiting `apply` is told.
    fn report_when_started(&mut self) {
        let ended = matches!(
            self.pod.status.as_ref().and_then(|s| s.phase),
            Some(PodPhase::Failed | PodPhase::Succeeded)
        );
        if !self.reported && (self.next >= self.slots.len() || ended) {
            self.publish();
            self.reported = true;
            report_start(&StartReport::Running);
        }
    }

    /// The end of the run of app containers from `i` that start back to
    /// back: each but the last without a postStart hook, which the next
    /// one would wait for.
    fn back_to_back(&self, i: usize) -> usize {
        let mut end = i + 1;
        while let (Some(prev), Some(next)) = (self.slots.get(end - 1), self.slots.get(end)) {
            if prev.kind != Kind::App
                || next.kind != Kind::App
                || next.launched
                || Hook::PostStart.handler(&prev.spec).is_some()
            {
                break;
            }
            end += 1;
        }
        end
    }

    /// Starts the slots of `range` in order. Each is created first (set
    /// up to its `execve`, on the other core while the supervisor goes
    /// on), then they are started one by one. A creation error comes after
    /// the slots before it started, as if they had been started alone.
    fn start_slots(&mut self, range: std::ops::Range<usize>) -> Result<()> {
        let mut created = Vec::with_capacity(range.len());
        let mut failed = None;
        for i in range {
            match self.create_slot(i) {
                Ok(c) => created.push((i, c)),
                Err(e) => {
                    failed = Some((i, e));
                    break;
                }
            }
        }
        // Dropping what is left of `created` on an error kills those.
        for (i, c) in created {
            self.finish_start(i, Ok(c))?;
        }
        match failed {
            Some((i, e)) => self.finish_start(i, Err(e)),
            None => Ok(()),
        }
    }

    fn start_slot(&mut self, i: usize) -> Result<()> {
        let created = self.create_slot(i);
        self.finish_start(i, created)
    }

    /// Sets slot `i`'s container up to its `execve`; `None` without a
    /// sandbox (the pod is being torn down).
    fn create_slot(&self, i: usize) -> Result<Option<container::Created>> {
        let Some(sandbox) = &self.sandbox else {
            return Ok(None);
        };
        let slot = &self.slots[i];
        container::create(
            sandbox,
            &slot.spec,
            &slot.image,
            &self.hostname,
            &self.log_dir,
            slot.status.restart_count,
        )
        .map(Some)
    }

    /// Starts what [`Supervisor::create_slot`] made, with kubelet's
    /// events, then watches it and runs its postStart.
    fn finish_start(
        &mut self,
        i: usize,
        created: Result<Option<container::Created>>,
    ) -> Result<()> {
        let Some(created) = created.transpose() else {
            return Ok(());
        };
        // The pod's links are made while the first containers' children
        // make their mounts, and before any of them runs.
        if created.is_ok()
            && let Some(sandbox) = &mut self.sandbox
        {
            sandbox.connect_network()?;
        }
        self.slots[i].launched = true;
        let slot = &self.slots[i];
        let name = slot.name().to_owned();
        let pulled = format!(
            "Container image \"{}\" already present on machine",
            slot.spec.image
        );
        self.event(EventType::Normal, reason::PULLED, Some(i), pulled);
        let mut started = match created.and_then(container::Created::start) {
            Ok(s) => s,
            Err(e) => {
                let message = match &e {
                    Error::Container { message, .. } => format!("Error: {message}"),
                    other => format!("Error: {other}"),
                };
                self.event(EventType::Warning, reason::FAILED, Some(i), message);
                return Err(e);
            }
        };
        let created = format!("Created container: {name}");
        self.event(EventType::Normal, reason::CREATED, Some(i), created);
        let started_msg = format!("Started container {name}");
        self.event(EventType::Normal, reason::STARTED, Some(i), started_msg);
        let slot = &self.slots[i];
        let pid = started.process.pid();
        let watch = |e: peapod_core::Error| Error::container(slot.name(), e);
        self.events
            .watch_process(started.process.pidfd(), Token::Exit(i).encode())
            .map_err(watch)?;
        for stream in &mut started.streams {
            self.stream_ids += 1;
            stream.id = self.stream_ids;
            self.events
                .watch_readable(stream.fd.as_fd(), Token::Output(stream.id).encode())
                .map_err(watch)?;
        }
        let uid = self.pod.metadata.uid.as_deref().unwrap_or_default();
        let id = format!("peapod://{uid}/{}", slot.name());
        let post_start = Hook::PostStart.handler(&slot.spec);
        self.slots[i].started(started, &id, post_start.is_some());
        if let Some(rec) = ProcessRecord::of(pid) {
            self.record.containers.insert(name, rec);
        }
        let _ = self.dir.write_supervisor(&self.record);
        match post_start {
            None => {}
            Some(Err(message)) => self.post_start_failed(i, &message),
            // kubelet gives postStart no timeout.
            Some(Ok(handler)) => {
                if let Some(outcome) =
                    self.start_run(Purpose::PostStart(i), &handler, Duration::MAX)
                {
                    self.post_start_done(i, &outcome);
                }
            }
        }
        Ok(())
    }

    /// The pod's first IP: the default host of network handlers.
    fn pod_ip(&self) -> Option<IpAddr> {
        self.sandbox
            .as_ref()
            .and_then(|s| s.pod_ips.first().copied())
    }

    /// Starts a hook or probe run in the running container of its slot;
    /// `Some` when it is over at once (or there is no container).
    fn start_run(
        &mut self,
        purpose: Purpose,
        handler: &peapod_hooks::Handler,
        timeout: Duration,
    ) -> Option<Outcome> {
        let pod_ip = self.pod_ip();
        let Some(run) = &self.slots[purpose.slot()].run else {
            return Some(Outcome::failure("container not running"));
        };
        let netns = lifecycle::netns_of(run);
        let ctx = lifecycle::context(run, pod_ip, netns.as_ref(), timeout);
        self.runs.start(purpose, handler, &ctx, &mut self.events)
    }

    /// An event of run `id`: on with it, and act on its outcome once over.
    fn run_event(&mut self, id: u64, kind: EventKind) {
        let Some((purpose, outcome)) = self.runs.poll(id, kind, &mut self.events) else {
            return;
        };
        match purpose {
            Purpose::PostStart(i) => self.post_start_done(i, &outcome),
            Purpose::PreStop(i) => self.pre_stop_done(i, &outcome),
            Purpose::Probe(i, kind) => self.probe_done(i, kind, &outcome),
        }
    }

    /// postStart returned: the container runs, or it is killed (kubelet's
    /// `FailedPostStartHook`; the restart policy applies to its exit).
    fn post_start_done(&mut self, i: usize, outcome: &Outcome) {
        match Hook::PostStart.failure(outcome) {
            None => self.slots[i].now_running(),
            Some(message) => self.post_start_failed(i, &message),
        }
    }

    fn post_start_failed(&mut self, i: usize, message: &str) {
        // As kubelet, the message stays out of the event (it may hold
        // secrets); the container's state has it.
        let summary = "PostStartHook failed";
        self.event(
            EventType::Warning,
            reason::FAILED_POST_START_HOOK,
            Some(i),
            summary,
        );
        let slot = &mut self.slots[i];
        slot.post_start = false;
        slot.status.state = status::waiting("PostStartHookError", Some(message.to_owned()));
        if let Some(run) = &slot.run {
            // preStop is not run after a failed postStart.
            let mut stop = ContainerStop::new(Duration::ZERO, Instant::now());
            stop.kill(&run.process);
            slot.stop = Some(stop);
        }
    }

    /// Records an event about the pod (or its container in slot `i`); a
    /// failure to write it is logged, never fatal to the pod.
    fn event(
        &mut self,
        type_: EventType,
        reason: &str,
        slot: Option<usize>,
        message: impl Into<String>,
    ) {
        let path = slot.map(|i| self.slots[i].field_path());
        if let Err(e) = self
            .event_log
            .record(type_, reason, path.as_deref(), message)
        {
            warn!("event {reason}: {e}");
        }
    }

    /// Starts stopping the container of slot `i`: grace clock, preStop,
    /// then SIGTERM and SIGKILL ([`ContainerStop`]). Nothing if it is
    /// already stopping or not running.
    fn begin_stop(&mut self, i: usize, grace: Duration) {
        let slot = &mut self.slots[i];
        let Some(run) = &slot.run else {
            return;
        };
        if let Some(stop) = &mut slot.stop {
            // Already stopping (a liveness kill): a delete with grace 0
            // still ends it now.
            if grace.is_zero() {
                stop.kill(&run.process);
            }
            return;
        }
        slot.restart_at = None;
        slot.post_start = false;
        if let Some(p) = &mut slot.probes {
            p.terminating();
        }
        let stop = ContainerStop::new(grace, Instant::now() + grace);
        slot.stop = Some(stop);
        self.runs
            .cancel(&mut self.events, |p| p == Purpose::PostStart(i));
        let pre_stop = if grace.is_zero() {
            None
        } else {
            Hook::PreStop.handler(&self.slots[i].spec)
        };
        let outcome = match pre_stop {
            None => Outcome::success(""),
            Some(Err(message)) => Outcome::failure(message),
            Some(Ok(handler)) => match self.start_run(Purpose::PreStop(i), &handler, stop.left()) {
                Some(outcome) => outcome,
                None => return,
            },
        };
        self.pre_stop_done(i, &outcome);
    }

    /// preStop is over (or there was none): SIGTERM now, SIGKILL later.
    fn pre_stop_done(&mut self, i: usize, outcome: &Outcome) {
        if let Some(message) = Hook::PreStop.failure(outcome) {
            warn!("container {}: {message}", self.slots[i].name());
            // As kubelet: the message stays out of the event.
            let summary = "PreStopHook failed";
            self.event(
                EventType::Warning,
                reason::FAILED_PRE_STOP_HOOK,
                Some(i),
                summary,
            );
        }
        let slot = &mut self.slots[i];
        if let (Some(stop), Some(run)) = (&mut slot.stop, &slot.run) {
            stop.terminate(&run.process, slot.image.stop_signal);
        }
    }

    /// Probe run over: record it and act on what the probes say.
    fn probe_done(&mut self, i: usize, kind: ProbeKind, outcome: &Outcome) {
        let Some(probes) = &mut self.slots[i].probes else {
            return;
        };
        for event in probes.record(kind, outcome, Instant::now()) {
            match event {
                ProbeEvent::Unhealthy { message, .. } => {
                    self.event(EventType::Warning, reason::UNHEALTHY, Some(i), message);
                }
                ProbeEvent::Warning { message, .. } => {
                    self.event(EventType::Warning, reason::PROBE_WARNING, Some(i), message);
                }
                ProbeEvent::Started => self.slots[i].status.started = Some(true),
                ProbeEvent::Ready(ready) => {
                    self.slots[i].status.ready = ready && self.slots[i].kind != Kind::Init;
                }
                ProbeEvent::Restart { kind } => {
                    let slot = &self.slots[i];
                    let message = format!(
                        "Container {} failed {} probe, will be restarted",
                        slot.name(),
                        kind.name().to_lowercase()
                    );
                    let grace = lifecycle::probe(&slot.spec, kind)
                        .and_then(|p| p.termination_grace_period_seconds)
                        .or(self.pod.spec.termination_grace_period_seconds);
                    self.event(EventType::Normal, reason::KILLING, Some(i), message);
                    self.begin_stop(i, termination::grace(grace));
                }
            }
        }
    }

    /// Starts the probe runs that are due.
    fn run_probes(&mut self, now: Instant) {
        for i in 0..self.slots.len() {
            let Some(probes) = &mut self.slots[i].probes else {
                continue;
            };
            if probes.next_due().is_none_or(|at| at > now) {
                continue;
            }
            let due: Vec<(ProbeKind, Duration)> = probes
                .due(now)
                .into_iter()
                .map(|kind| {
                    let timing = probes.timing(kind);
                    (kind, timing.map_or(Duration::from_secs(1), |t| t.timeout))
                })
                .collect();
            for (kind, timeout) in due {
                let Some(handler) = self.slots[i].probe_handler(kind).cloned() else {
                    continue;
                };
                if let Some(outcome) = self.start_run(Purpose::Probe(i, kind), &handler, timeout) {
                    self.probe_done(i, kind, &outcome);
                }
            }
        }
    }

    fn run(&mut self) -> Result<()> {
        loop {
            if let Some(t) = &self.termination
                && !t.keep
                && self.slots.iter().all(|s| !s.is_running())
            {
                let clients = t.clients_len();
                tracing::debug!(clients, "pod stopped");
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
                }
            }
            self.timers();
            if self.termination.is_some() {
                self.stop_next_group();
            } else {
                self.continue_start();
            }
            self.publish();
            self.report_when_started();
        }
    }

    /// Waits for the next events (or deadline); output before exits, so
    /// the last lines are read before an exit is recorded.
    fn wait(&mut self) -> Result<Vec<(Token, EventKind)>> {
        let timeout = self
            .next_deadline()
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
            Token::Control | Token::Signal => 0,
            Token::Output(_) => 1,
            Token::Run(_) => 2,
            Token::Exit(_) => 3,
        });
        Ok(ready)
    }

    /// Copies what log stream `id` has into its file; watches it again
    /// unless it ended.
    fn pump(&mut self, id: u64) {
        for slot in &mut self.slots {
            let Some(s) = slot.streams.iter().position(|st| st.id == id) else {
                continue;
            };
            if slot.streams[s].pump() {
                let fd = slot.streams[s].fd.as_fd();
                if let Err(e) = self.events.watch_readable(fd, Token::Output(id).encode()) {
                    warn!("log stream of {}: {e}", slot.spec.name);
                    slot.streams.remove(s);
                }
            } else {
                slot.streams.remove(s);
            }
            return;
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let restarts = self.slots.iter().filter_map(|s| s.restart_at);
        let kills = self
            .slots
            .iter()
            .filter_map(|s| s.stop.as_ref().and_then(ContainerStop::kill_at));
        let probes = self.slots.iter().filter_map(|s| {
            s.probes
                .as_ref()
                .and_then(peapod_hooks::ContainerProbes::next_due)
        });
        let active = self.active_deadline.filter(|_| self.termination.is_none());
        restarts.chain(kills).chain(probes).chain(active).min()
    }

    fn accept(&mut self) {
        if let Err(e) = self
            .events
            .watch_readable(self.listener.as_fd(), Token::Control.encode())
        {
            warn!("control socket: {e}");
        }
        while let Ok((stream, _)) = self.listener.accept() {
            let _ = stream.set_nonblocking(false);
            match control::receive(&stream) {
                Ok(Request::Ping) => {
                    let _ = control::send(&stream, &Response::Ok);
                }
                Ok(Request::Stop {
                    grace_period_seconds,
                }) => self.stop(grace_period_seconds, Some(stream)),
                Err(e) => {
                    let _ = control::send(&stream, &Response::Error(e.to_string()));
                }
            }
        }
    }

    /// SIGTERM, SIGINT, SIGHUP or SIGQUIT: the pod stops as a delete with its own grace
    /// period would, then the supervisor exits.
    fn signalled(&mut self) {
        let Some(sfd) = &self.signals else {
            return;
        };
        let mut got = false;
        while let Some(sig) = sfd.read() {
            tracing::debug!(sig, "signal");
            got = true;
        }
        if let Err(e) = self.events.watch_readable(sfd.fd(), Token::Signal.encode()) {
            warn!("signalfd: {e}");
        }
        if got {
            self.stop(None, None);
            if let Some(t) = &mut self.termination {
                t.keep = false;
            }
        }
    }

    /// Starts stopping the pod: no more restarts, SIGTERM in reverse order,
    /// SIGKILL when the grace period is over.
    fn stop(&mut self, grace_seconds: Option<u64>, client: Option<UnixStream>) {
        let grace = grace_seconds.map_or_else(
            || termination::grace(self.pod.spec.termination_grace_period_seconds),
            Duration::from_secs,
        );
        // A delete (a client waits) shows the pod `Terminating`.
        if client.is_some()
            && let Err(e) = crate::inspect::mark_deletion(&self.dir, grace.as_secs())
        {
            warn!("{e}");
        }
        if let Some(t) = &mut self.termination {
            t.add_client(client);
            // A delete of a pod stopped for its deadline removes it.
            t.keep = false;
            return;
        }
        for slot in &mut self.slots {
            slot.restart_at = None;
        }
        self.termination = Some(Termination::new(grace, client));
        self.stop_next_group();
    }

    /// Stops the pod group by group (kubelet 1.29+): app (and plain init)
    /// containers first, all at once; once they exited, the sidecars one
    /// at a time, last first.
    fn stop_next_group(&mut self) {
        let Some(t) = &self.termination else {
            return;
        };
        // What is left of the pod's grace period, counted from the stop.
        // Sidecars, stopped last, get what is left of it, but as kubelet
        // never less than its minimum.
        let left = if t.grace().is_zero() {
            Duration::ZERO
        } else {
            let left = t.deadline().saturating_duration_since(Instant::now());
            left.max(termination::MIN_AFTER_SIGTERM)
        };
        let first: Vec<usize> = (0..self.slots.len())
            .rev()
            .filter(|&i| self.slots[i].kind != Kind::Sidecar && self.slots[i].is_running())
            .collect();
        if !first.is_empty() {
            for i in first {
                self.stop_container(i, left);
            }
            return;
        }
        if let Some(i) = (0..self.slots.len())
            .rev()
            .find(|&i| self.slots[i].kind == Kind::Sidecar && self.slots[i].is_running())
        {
            self.stop_container(i, left);
        }
    }

    /// A pod stop reaches the container of slot `i` (event `Killing`).
    fn stop_container(&mut self, i: usize, grace: Duration) {
        if self.slots[i].stop.is_none() {
            let message = format!("Stopping container {}", self.slots[i].name());
            self.event(EventType::Normal, reason::KILLING, Some(i), message);
        }
        self.begin_stop(i, grace);
    }

    fn reap(&mut self, i: usize) {
        let Some(run) = &self.slots[i].run else {
            return;
        };
        let exit = match run.process.try_wait() {
            Ok(Some(status)) => match status.signal {
                Some(sig) => ExitKind::Signal(sig),
                None => ExitKind::Code(status.code.unwrap_or(255)),
            },
            Ok(None) => return,
            Err(e) => {
                warn!("reap {}: {e}", self.slots[i].name());
                ExitKind::Code(255)
            }
        };
        let oom = run.cgroup.oom_kills().unwrap_or(0) > run.oom_before;
        // Its hooks and probes in flight go with it.
        self.runs.cancel(&mut self.events, |p| p.slot() == i);
        // What the container left behind (orphans in a shared PID
        // namespace) goes with it.
        let _ = run.cgroup.kill_all(Duration::from_secs(2));
        let stopping = self.termination.is_some();
        let policy = self.pod.spec.restart_policy;
        let slot = &mut self.slots[i];
        let name = slot.name().to_owned();
        let after = slot.exited(exit, oom, policy, &self.backoff, stopping);
        if let Some(sandbox) = &self.sandbox {
            let dir = container::layers_dir(&sandbox.lib_dir, &name);
            let restarts = u32::try_from(slot.status.restart_count).unwrap_or(0);
            let log = cri_log::log_path(&self.log_dir, &name, restarts);
            let message = termination_message::read(&slot.spec, &dir, &log, exit.exit_code());
            if let Some(t) = slot.status.state.terminated.as_mut() {
                t.message = message;
            }
        }
        self.record.containers.remove(&name);
        let _ = self.dir.write_supervisor(&self.record);
        match after {
            AfterExit::Restart(at) => {
                let delay = at.saturating_duration_since(Instant::now());
                if delay > Duration::from_millis(1) {
                    slot.waiting_to_restart(delay);
                }
                let message = format!(
                    "Back-off restarting failed container {name} in pod {}_{}({})",
                    self.dir.key().name,
                    self.dir.key().namespace,
                    self.pod.metadata.uid.as_deref().unwrap_or_default()
                );
                self.event(EventType::Warning, reason::BACK_OFF, Some(i), message);
            }
            AfterExit::Stay => {
                if slot.kind == Kind::Init && !stopping {
                    self.continue_start();
                }
            }
        }
    }

    /// Continues the start sequence after an event; a start error before
    /// the report fails the whole pod, after it the container waits.
    fn continue_start(&mut self) {
        if let Err(e) = self.advance() {
            if self.reported {
                warn!("{e}");
                self.container_error(&e);
            } else {
                report_start(&StartReport::Failed(e.to_string()));
                self.reported = true;
                self.stop(Some(0), None);
            }
        }
    }

    fn container_error(&mut self, e: &Error) {
        if let Error::Container { container, message } = e
            && let Some(slot) = self.slots.iter_mut().find(|s| s.name() == container)
        {
            slot.status.state = status::waiting("RunContainerError", Some(message.clone()));
            let delay = slot.backoff.next_delay(&self.backoff, Duration::ZERO);
            slot.restart_at = Some(Instant::now() + delay);
        }
    }

    fn timers(&mut self) {
        let now = Instant::now();
        for slot in &mut self.slots {
            if let (Some(stop), Some(run)) = (&mut slot.stop, &slot.run)
                && stop.kill_at().is_some_and(|at| at <= now)
            {
                stop.kill(&run.process);
            }
        }
        self.run_probes(now);
        if self.termination.is_none() && self.active_deadline.is_some_and(|at| at <= now) {
            self.deadline_passed();
        }
        if self.termination.is_some() {
            return;
        }
        let due: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].restart_at.is_some_and(|at| at <= now))
            .collect();
        for i in due {
            self.slots[i].restart_at = None;
            self.slots[i].status.restart_count += 1;
            if let Err(e) = self.start_slot(i) {
                warn!("{e}");
                self.container_error(&e);
            }
        }
    }

    /// `activeDeadlineSeconds` ran out: every container is stopped (grace
    /// as for a delete), no restart, and the pod stays `Failed` with reason
    /// `DeadlineExceeded` until it is deleted.
    fn deadline_passed(&mut self) {
        self.deadline_exceeded = true;
        self.event(
            EventType::Normal,
            reason::DEADLINE_EXCEEDED,
            None,
            DEADLINE_MESSAGE,
        );
        self.stop(None, None);
        if let Some(t) = &mut self.termination {
            t.keep = true;
        }
    }

    /// Writes `pod.json` with the status as it is now.
    fn publish(&mut self) {
        let (ips, host_ip) = self
            .sandbox
            .as_ref()
            .map(|s| (s.pod_ips.clone(), s.host_ip))
            .unwrap_or_default();
        let qos_class = self.pod.status.take().and_then(|s| s.qos_class);
        let mut status = slot::pod_status(
            &self.slots,
            self.pod.spec.restart_policy,
            &ips,
            &self.start_time,
            qos_class,
        );
        status.host_ip = host_ip.map(|ip| ip.to_string());
        if self.deadline_exceeded {
            status.phase = Some(PodPhase::Failed);
            status.reason = Some(reason::DEADLINE_EXCEEDED.to_owned());
            status.message = Some(DEADLINE_MESSAGE.to_owned());
        }
        self.pod.status = Some(status);
        if let Err(e) = self.dir.write_pod(&self.pod) {
            warn!("{e}");
        }
    }

    /// Removes everything of the pod (processes, cgroups, volumes, logs).
    fn destroy(&mut self) {
        for slot in &mut self.slots {
            if let Some(run) = slot.run.take() {
                let _ = run.process.kill();
                let _ = run.process.wait();
            }
            slot.streams.clear();
        }
        if let Some(sandbox) = self.sandbox.take()
            && let Err(e) = sandbox.destroy(&self.paths)
        {
            warn!("{e}");
        }
    }

    /// The pod is stopped: remove it all, answer the clients, exit.
    fn finish(&mut self) {
        self.destroy();
        let _ = self.dir.remove();
        if let Some(t) = self.termination.take() {
            t.reply(&Response::Ok);
        }
    }
}
