//! The pod controller: what a kubelet decides for one pod, as pure code.
//!
//! It takes [`Event`]s (a container started, failed to start or exited; a
//! hook or probe run ended; a stop was asked for; time passed) with the
//! time they are handled at ([`Time`]), and answers [`Action`]s (launch
//! these containers, run this hook or probe, signal or kill this one,
//! record this event, report the start, finish). It makes no syscall and
//! reads no file: the supervisor carries the actions out on the host and
//! feeds back what came of them, and the unit tests drive it with a fake
//! clock. [`PodController::next_deadline`] is the timer to arm: the loop
//! sends [`Event::Tick`] once it passed (as a sans-I/O protocol asks its
//! caller to poll a timeout, rather than arming one itself).
//!
//! The rules are kubelet's (`../shared/KUBELET.md`): init containers one
//! at a time, sidecars gating the next container until started, postStart
//! holding the next start, restart policy with kubelet's back-off,
//! probes, termination by groups with preStop, the grace period and its
//! 2 s minimum, `activeDeadlineSeconds` from the pod's `startTime`,
//! phases and conditions.

mod container;
mod pod_status;
mod redefine;
mod start;
mod stop;
#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use peapod_hooks::{Handler, Outcome, ProbeEvent, ProbeKind};
use peapod_spec::{Container, Pod, PodPhase, RestartPolicy};

use crate::backoff::BackoffPolicy;
use crate::clock::Timestamp;
use crate::events::{EventType, reason};
use crate::eviction;
use crate::images::PullRecord;
use crate::lifecycle::{self, Hook};
use crate::status::{self, ExitKind};
use crate::termination::{self, PodStop};

use container::ContainerControl;
pub(crate) use container::Kind;

/// The pod's status message once `activeDeadlineSeconds` ran out (kubelet's).
pub(crate) const DEADLINE_MESSAGE: &str =
    "Pod was active on the node longer than the specified deadline";

/// The time an event is handled at: monotonic for timers, wall-clock for
/// the status (`startedAt`, `finishedAt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Time {
    /// For deadlines and delays.
    pub now: Instant,
    /// For the status.
    pub wall: Timestamp,
}

impl Time {
    /// The host's clocks now.
    pub fn now() -> Self {
        Self {
            now: Instant::now(),
            wall: Timestamp::now(),
        }
    }
}

/// One container of the pod as the controller is given it.
#[derive(Debug, Clone)]
pub(crate) struct ContainerInput {
    /// Its spec.
    pub spec: Container,
    /// Listed among the init containers.
    pub init: bool,
    /// Its image's id, for `imageID`.
    pub image_id: String,
    /// Its image's STOPSIGNAL.
    pub stop_signal: Option<i32>,
    /// The pull that brought its image, if one did.
    pub pulled: Option<PullRecord>,
}

/// What happened; containers are named by their index (init containers
/// first, then app containers, as listed).
#[derive(Debug, Clone)]
pub(crate) enum Event {
    /// The container's process started (after a [`Action::Launch`]).
    Started(usize),
    /// It could not be created or started.
    StartFailed {
        /// Which container.
        container: usize,
        /// The error about the container, for its status and event.
        message: String,
        /// The whole error, for a start report.
        error: String,
        /// kubelet's waiting reason when the container was refused before
        /// it was made (`CreateContainerConfigError`: `runAsNonRoot`;
        /// `CreateContainerError`): it waits with it, is tried again after
        /// the back-off without counting a restart, and the pod goes on.
        refused: Option<&'static str>,
    },
    /// Its process exited.
    Exited {
        /// Which container.
        container: usize,
        /// How.
        exit: ExitKind,
        /// The cgroup's OOM killer ended it.
        oom_killed: bool,
        /// Its termination message, read from its file or log.
        message: Option<String>,
    },
    /// A hook run ended.
    HookDone {
        /// Which container.
        container: usize,
        /// Which hook.
        hook: Hook,
        /// How it ended.
        outcome: Outcome,
    },
    /// A probe run ended.
    ProbeDone {
        /// Which container.
        container: usize,
        /// Which probe.
        kind: ProbeKind,
        /// How it ended.
        outcome: Outcome,
    },
    /// Stop the pod (a delete or a signal to the supervisor) with this
    /// grace period, else the pod's own; the pod goes once stopped.
    StopRequested(Option<Duration>),
    /// Time passed (a timer at [`PodController::next_deadline`] fired).
    Tick,
    /// The supervisor measured a storage limit exceeded
    /// ([`crate::eviction`]): evict the pod, with kubelet's message.
    Evicted(String),
    /// An apply changed the running pod: its `activeDeadlineSeconds`, and
    /// the containers whose image changed (by index, as now defined).
    Configured {
        /// The deadline as applied (counted from `startTime`).
        active_deadline_seconds: Option<i64>,
        /// The redefined containers.
        containers: Vec<(usize, ContainerInput)>,
    },
}

/// What the supervisor must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Create these containers (each up to its `execve`), then start them
    /// one by one in this order; answer [`Event::Started`] for each, or
    /// [`Event::StartFailed`] for the first that fails (the rest are not
    /// made).
    Launch(Vec<usize>),
    /// Run a hook in the container; answer [`Event::HookDone`].
    RunHook {
        /// Which container.
        container: usize,
        /// Which hook.
        hook: Hook,
        /// What to run.
        handler: Handler,
        /// For how long at most.
        timeout: Duration,
    },
    /// Run a probe in the container; answer [`Event::ProbeDone`].
    RunProbe {
        /// Which container.
        container: usize,
        /// Which probe.
        kind: ProbeKind,
        /// What to run.
        handler: Handler,
        /// For how long at most.
        timeout: Duration,
    },
    /// Drop the container's hook and probe runs in flight (all of them,
    /// or only its postStart).
    CancelRuns {
        /// Which container.
        container: usize,
        /// Only its postStart.
        post_start_only: bool,
    },
    /// Send this signal to the container's process.
    Signal {
        /// Which container.
        container: usize,
        /// Which signal.
        signal: i32,
    },
    /// SIGKILL the container's process.
    Kill(usize),
    /// Record an event about the pod or one of its containers.
    Record {
        /// Normal or Warning.
        type_: EventType,
        /// kubelet's reason.
        reason: &'static str,
        /// The container it is about, if any.
        container: Option<usize>,
        /// The message.
        message: String,
    },
    /// Every app container was started (or the pod ended before): tell
    /// the waiting `apply` it runs.
    ReportStarted,
    /// The pod could not start: tell the waiting `apply` why (the pod is
    /// being stopped at once).
    ReportFailed(String),
    /// The pod is stopped and not kept: remove it and exit.
    Finish,
    /// A line for the supervisor's log (what no event says: a probe that
    /// cannot run, a preStop's failure).
    Log(String),
}

/// The decisions of one pod.
#[derive(Debug)]
pub(crate) struct PodController {
    name: String,
    namespace: String,
    uid: String,
    restart_policy: RestartPolicy,
    termination_grace_period: Option<i64>,
    containers: Vec<ContainerControl>,
    /// The start sequence: index of the next container to start.
    next: usize,
    backoff: BackoffPolicy,
    stop: Option<PodStop>,
    /// The pod's `startTime`.
    start_time: Timestamp,
    /// The same moment on the monotonic clock (the deadline counts from it).
    start_instant: Instant,
    /// When `activeDeadlineSeconds` runs out (counted from `startTime`).
    active_deadline: Option<Instant>,
    /// It ran out: the pod is `Failed`, `DeadlineExceeded`.
    deadline_exceeded: bool,
    /// The eviction message once a storage limit was exceeded: the pod
    /// is `Failed`, `Evicted`.
    evicted: Option<String>,
    reported: bool,
    finished: bool,
    out: Vec<Action>,
}

impl PodController {
    /// The controller of `pod` (its containers as resolved, init
    /// containers first), whose `startTime` is `start`.
    pub fn new(
        pod: &Pod,
        containers: Vec<ContainerInput>,
        backoff: BackoffPolicy,
        start: Time,
    ) -> Self {
        let app_reason = if pod.spec.init_containers.is_empty() {
            "ContainerCreating"
        } else {
            "PodInitializing"
        };
        let mut problems = Vec::new();
        let containers = containers
            .into_iter()
            .map(|c| {
                let kind = Kind::of(&c.spec, c.init);
                let reason = if c.init {
                    "PodInitializing"
                } else {
                    app_reason
                };
                let mut control = ContainerControl::new(
                    c.spec,
                    kind,
                    c.image_id,
                    c.stop_signal,
                    reason,
                    &mut problems,
                );
                control.pulled = c.pulled;
                control
            })
            .collect();
        let active_deadline = pod
            .spec
            .active_deadline_seconds
            .and_then(|s| u64::try_from(s).ok())
            .map(|s| start.now + Duration::from_secs(s));
        Self {
            name: pod.metadata.name.clone().unwrap_or_default(),
            namespace: pod
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".to_owned()),
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            restart_policy: pod.spec.restart_policy,
            termination_grace_period: pod.spec.termination_grace_period_seconds,
            containers,
            next: 0,
            backoff,
            stop: None,
            start_time: start.wall,
            start_instant: start.now,
            active_deadline,
            deadline_exceeded: false,
            evicted: None,
            reported: false,
            finished: false,
            out: problems.into_iter().map(Action::Log).collect(),
        }
    }

    /// Handles `event` at `t`, then whatever became due by `t`; returns
    /// what to do, in order.
    pub fn handle(&mut self, event: Event, t: Time) -> Vec<Action> {
        match event {
            Event::Started(i) => self.started(i, t),
            Event::StartFailed {
                container,
                message,
                error,
                refused: None,
            } => self.start_failed(container, &message, error, t),
            Event::StartFailed {
                container,
                message,
                refused: Some(reason),
                ..
            } => self.refused(container, reason, &message, t),
            Event::Exited {
                container,
                exit,
                oom_killed,
                message,
            } => self.exited(container, exit, oom_killed, message, t),
            Event::HookDone {
                container,
                hook: Hook::PostStart,
                outcome,
            } => self.post_start_done(container, &outcome, t),
            Event::HookDone {
                container,
                hook: Hook::PreStop,
                outcome,
            } => self.pre_stop_done(container, &outcome, t),
            Event::ProbeDone {
                container,
                kind,
                outcome,
            } => self.probe_done(container, kind, &outcome, t),
            Event::StopRequested(grace) => self.stop_pod(grace, false, t),
            Event::Tick => {}
            Event::Evicted(message) => self.evict(message, t),
            Event::Configured {
                active_deadline_seconds,
                containers,
            } => self.configured(active_deadline_seconds, containers, t),
        }
        self.step(t);
        std::mem::take(&mut self.out)
    }

    /// When the next timer is due: a restart, a SIGKILL, a probe run, the
    /// pod's deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        let restarts = self.containers.iter().filter_map(|c| c.restart_at);
        let kills = self.containers.iter().filter_map(|c| {
            c.stop
                .as_ref()
                .and_then(termination::ContainerStop::kill_at)
        });
        let probes = self.containers.iter().filter_map(|c| {
            c.probes
                .as_ref()
                .and_then(peapod_hooks::ContainerProbes::next_due)
        });
        let active = self.active_deadline.filter(|_| self.stop.is_none());
        restarts.chain(kills).chain(probes).chain(active).min()
    }

    /// Whether the pod is being stopped (or stopped and kept): nothing is
    /// to be measured for an eviction any more.
    pub fn is_stopping(&self) -> bool {
        self.stop.is_some()
    }

    /// `involvedObject.fieldPath` of container `i`'s events.
    pub fn field_path(&self, i: usize) -> String {
        let c = &self.containers[i];
        crate::events::container_field_path(c.kind != Kind::App, c.name())
    }

    /// The restart count of container `i` (its log file's number).
    pub fn restart_count(&self, i: usize) -> i32 {
        self.containers[i].status.restart_count
    }

    /// Whether container `i`'s process runs, as far as the controller
    /// knows.
    #[cfg(test)]
    pub fn is_running(&self, i: usize) -> bool {
        self.containers[i].is_running()
    }

    /// What is due at `t`, then the start sequence or the stop moves on;
    /// then the start report and the end.
    fn step(&mut self, t: Time) {
        self.timers(t);
        if self.stop.is_some() {
            self.stop_next_group(t);
        } else {
            self.advance();
        }
        if !self.reported {
            let ended = matches!(self.phase(), PodPhase::Failed | PodPhase::Succeeded);
            if self.next >= self.containers.len() || ended {
                self.reported = true;
                self.out.push(Action::ReportStarted);
            }
        }
        if let Some(stop) = &self.stop
            && !stop.keep
            && !self.finished
            && self
                .containers
                .iter()
                .all(|c| !c.is_running() && !c.launching)
        {
            self.finished = true;
            self.out.push(Action::Finish);
        }
    }

    /// SIGKILLs, probe runs, the pod's deadline and restarts due at `t`.
    fn timers(&mut self, t: Time) {
        for i in 0..self.containers.len() {
            let c = &mut self.containers[i];
            if c.is_running()
                && let Some(stop) = &mut c.stop
                && stop.kill_at().is_some_and(|at| at <= t.now)
                && stop.kill()
            {
                self.out.push(Action::Kill(i));
            }
        }
        self.run_probes(t.now);
        if self.stop.is_none() && self.active_deadline.is_some_and(|at| at <= t.now) {
            self.deadline_passed(t);
        }
        if self.stop.is_some() {
            return;
        }
        for i in 0..self.containers.len() {
            let c = &mut self.containers[i];
            if c.restart_at.is_some_and(|at| at <= t.now) {
                c.restart_at = None;
                // A container that was never made has not restarted.
                if !std::mem::take(&mut c.refused) {
                    c.status.restart_count += 1;
                }
                let finished = c.finished_at.unwrap_or(t.now);
                c.backoff.restarted(self.backoff, finished, t.now);
                self.launch(vec![i]);
            }
        }
    }

    /// Starts the probe runs that are due at `now`.
    fn run_probes(&mut self, now: Instant) {
        for i in 0..self.containers.len() {
            let c = &mut self.containers[i];
            let Some(probes) = &mut c.probes else {
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
                if let Some(handler) = c.probe_handler(kind) {
                    self.out.push(Action::RunProbe {
                        container: i,
                        kind,
                        handler: handler.clone(),
                        timeout,
                    });
                }
            }
        }
    }

    /// A probe run of container `i` ended: record it and act on what the
    /// probes say.
    fn probe_done(&mut self, i: usize, kind: ProbeKind, outcome: &Outcome, t: Time) {
        let Some(probes) = &mut self.containers[i].probes else {
            return;
        };
        for event in probes.record(kind, outcome, t.now) {
            match event {
                ProbeEvent::Unhealthy { message, .. } => {
                    self.record(EventType::Warning, reason::UNHEALTHY, Some(i), message);
                }
                ProbeEvent::Warning { message, .. } => {
                    self.record(EventType::Warning, reason::PROBE_WARNING, Some(i), message);
                }
                ProbeEvent::Started => self.containers[i].status.started = Some(true),
                ProbeEvent::Ready(ready) => {
                    let c = &mut self.containers[i];
                    c.status.ready = ready && c.kind != Kind::Init;
                }
                ProbeEvent::Restart { kind } => {
                    let c = &self.containers[i];
                    let message = format!(
                        "Container {} failed {} probe, will be restarted",
                        c.name(),
                        kind.name().to_lowercase()
                    );
                    let grace = lifecycle::probe(&c.spec, kind)
                        .and_then(|p| p.termination_grace_period_seconds)
                        .or(self.termination_grace_period);
                    self.record(EventType::Normal, reason::KILLING, Some(i), message);
                    self.begin_stop(i, termination::grace(grace), t);
                }
            }
        }
    }

    /// Container `i` exited: its status, then a restart per policy (with
    /// kubelet's back-off) unless the pod stops.
    fn exited(
        &mut self,
        i: usize,
        exit: ExitKind,
        oom_killed: bool,
        message: Option<String>,
        t: Time,
    ) {
        let stopping = self.stop.is_some();
        let policy = self.restart_policy;
        let c = &mut self.containers[i];
        let Some((_, since)) = c.running_since.take() else {
            return;
        };
        self.out.push(Action::CancelRuns {
            container: i,
            post_start_only: false,
        });
        let mut terminated = exit.terminated(
            oom_killed,
            Some(since.rfc3339()),
            t.wall.rfc3339(),
            c.status.container_id.clone(),
        );
        terminated.message = message;
        c.status.state = status::terminated(terminated);
        c.post_start = false;
        c.probes = None;
        c.stop = None;
        c.finished_at = Some(t.now);
        let code = exit.exit_code();
        // A completed init container reads `ready: true`, as kubelet sets it.
        c.status.ready = c.kind == Kind::Init && code == 0;
        c.status.started = Some(false);
        let redefined = std::mem::take(&mut c.redefined);
        let restart = !stopping
            && (redefined
                || match c.kind {
                    // An init container is retried on failure unless the pod
                    // never restarts; it is done after its first success.
                    Kind::Init => code != 0 && policy != RestartPolicy::Never,
                    Kind::Sidecar => true,
                    Kind::App => status::restarts(policy, code),
                });
        if restart {
            self.schedule_restart(i, t);
        }
    }

    /// Container `i` is to start again: at once the first time, else after
    /// its back-off from its `finishedAt` (`CrashLoopBackOff` meanwhile).
    fn schedule_restart(&mut self, i: usize, t: Time) {
        let c = &mut self.containers[i];
        let finished = c.finished_at.unwrap_or(t.now);
        let at = c.backoff.restart_at(self.backoff, finished);
        c.restart_at = Some(at);
        if at <= t.now {
            return;
        }
        let wait = at.saturating_duration_since(finished);
        c.retire_exit();
        let name = c.name().to_owned();
        let pod = format!("{}_{}({})", self.name, self.namespace, self.uid);
        c.status.state = status::waiting(
            "CrashLoopBackOff",
            Some(format!(
                "back-off {}s restarting failed container={name} pod={pod}",
                wait.as_secs()
            )),
        );
        let message = format!("Back-off restarting failed container {name} in pod {pod}");
        self.record(EventType::Warning, reason::BACK_OFF, Some(i), message);
    }

    /// `activeDeadlineSeconds` ran out: every container is stopped (grace
    /// as for a delete), no restart, and the pod stays `Failed` with reason
    /// `DeadlineExceeded` until it is deleted.
    fn deadline_passed(&mut self, t: Time) {
        self.deadline_exceeded = true;
        self.record(
            EventType::Normal,
            reason::DEADLINE_EXCEEDED,
            None,
            DEADLINE_MESSAGE,
        );
        self.stop_pod(None, true, t);
    }

    /// A storage limit was exceeded: a `Warning Evicted` event, every
    /// container stopped with kubelet's eviction grace period, no
    /// restart, and the pod kept `Failed` with reason `Evicted` until it
    /// is deleted. Nothing once the pod is stopping.
    fn evict(&mut self, message: String, t: Time) {
        if self.stop.is_some() {
            return;
        }
        self.record(EventType::Warning, eviction::REASON, None, message.clone());
        self.evicted = Some(message);
        let grace = Duration::from_secs(eviction::GRACE_SECONDS);
        self.stop_pod(Some(grace), true, t);
    }

    /// Records an event.
    fn record(
        &mut self,
        type_: EventType,
        reason: &'static str,
        container: Option<usize>,
        message: impl Into<String>,
    ) {
        self.out.push(Action::Record {
            type_,
            reason,
            container,
            message: message.into(),
        });
    }
}
