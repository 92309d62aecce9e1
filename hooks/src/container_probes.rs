//! The three probes of one container instance together, as kubelet's
//! prober manager combines them: startup gates liveness and readiness;
//! results become `started`, `ready`, events and restart decisions.
//! Pure: the supervisor runs the handlers and hands in their outcomes.

use std::time::Instant;

use peapod_spec::Container;

use crate::outcome::{Outcome, Verdict};
use crate::probe::{ProbeKind, ProbeResult, ProbeTiming, Worker};

/// What the supervisor does after a probe's run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeEvent {
    /// Record a Warning event `Unhealthy` with this message
    /// (`Liveness probe failed: <output>`) — after every failed run, not
    /// only at the threshold, as kubelet does.
    Unhealthy {
        /// Which probe.
        kind: ProbeKind,
        /// The event's message.
        message: String,
    },
    /// Record a Warning event `ProbeWarning` with this message.
    Warning {
        /// Which probe.
        kind: ProbeKind,
        /// The event's message.
        message: String,
    },
    /// The startup probe passed: the container counts as started (status
    /// `started: true`; a sidecar lets the next init container start).
    Started,
    /// The container's `ready` changed; recompute the pod's
    /// `ContainersReady` and `Ready` conditions.
    Ready(bool),
    /// Liveness or startup failed `failureThreshold` times: kill the
    /// container (event `Killing`, `Container <name> failed <kind> probe,
    /// will be restarted`, grace period the probe's
    /// `terminationGracePeriodSeconds` or the pod's, preStop first) and
    /// let the restart policy decide. Probing of this instance stops.
    Restart {
        /// Liveness or startup.
        kind: ProbeKind,
    },
}

/// The probes of one container instance. A restarted container gets a new
/// one.
#[derive(Debug, Clone)]
pub struct ContainerProbes {
    workers: Vec<Worker>,
    started_at: Instant,
    started: bool,
    ready: bool,
    has_readiness: bool,
}

impl ContainerProbes {
    /// The probes of a container instance started at `started_at` (its
    /// process's start, before postStart: initial delays count from it).
    /// Create it once postStart has returned.
    pub fn new(
        startup: Option<ProbeTiming>,
        liveness: Option<ProbeTiming>,
        readiness: Option<ProbeTiming>,
        started_at: Instant,
    ) -> Self {
        let workers = [
            (ProbeKind::Startup, startup),
            (ProbeKind::Liveness, liveness),
            (ProbeKind::Readiness, readiness),
        ]
        .into_iter()
        .filter_map(|(kind, t)| t.map(|t| Worker::new(kind, t, started_at)))
        .collect();
        let started = startup.is_none();
        let has_readiness = readiness.is_some();
        Self {
            workers,
            started_at,
            started,
            ready: started && !has_readiness,
            has_readiness,
        }
    }

    /// The probes `container` declares.
    pub fn from_spec(container: &Container, started_at: Instant) -> Self {
        let t = |p: &Option<peapod_spec::Probe>| p.as_ref().map(ProbeTiming::from_spec);
        Self::new(
            t(&container.startup_probe),
            t(&container.liveness_probe),
            t(&container.readiness_probe),
            started_at,
        )
    }

    /// Started: no startup probe, or it has passed.
    pub fn started(&self) -> bool {
        self.started
    }

    /// Ready: started, and the readiness probe (if any) passes.
    pub fn ready(&self) -> bool {
        self.ready
    }

    /// The timing of `kind` (its `timeout` is the run's timeout).
    pub fn timing(&self, kind: ProbeKind) -> Option<ProbeTiming> {
        self.workers
            .iter()
            .find(|w| w.kind == kind)
            .map(|w| w.timing)
    }

    fn eligible(&self, w: &Worker) -> bool {
        match w.kind {
            ProbeKind::Startup => !self.started,
            ProbeKind::Liveness | ProbeKind::Readiness => self.started,
        }
    }

    /// When the next run is due: arm a timer for it. `None`: nothing to
    /// run until a run in flight ends.
    pub fn next_due(&self) -> Option<Instant> {
        self.workers
            .iter()
            .filter(|w| self.eligible(w))
            .filter_map(Worker::next_due)
            .min()
    }

    /// The probes to run now; each is in flight until [`Self::record`].
    pub fn due(&mut self, now: Instant) -> Vec<ProbeKind> {
        let started = self.started;
        self.workers
            .iter_mut()
            .filter(|w| match w.kind {
                ProbeKind::Startup => !started,
                ProbeKind::Liveness | ProbeKind::Readiness => started,
            })
            .filter_map(|w| w.start_if_due(now).then_some(w.kind))
            .collect()
    }

    /// Records the outcome of a run of `kind` at `now`; returns what the
    /// supervisor must do, in order.
    pub fn record(&mut self, kind: ProbeKind, outcome: &Outcome, now: Instant) -> Vec<ProbeEvent> {
        let mut events = Vec::new();
        let Some(w) = self.workers.iter_mut().find(|w| w.kind == kind) else {
            return events;
        };
        match outcome.verdict {
            Verdict::Failure | Verdict::TimedOut => events.push(ProbeEvent::Unhealthy {
                kind,
                message: format!("{} probe failed: {}", kind.name(), outcome.message),
            }),
            Verdict::Warning => events.push(ProbeEvent::Warning {
                kind,
                message: format!("{} probe warning: {}", kind.name(), outcome.message),
            }),
            Verdict::Success => {}
        }
        let Some(result) = w.record(ProbeResult::from(outcome), now) else {
            return events;
        };
        match (kind, result) {
            (ProbeKind::Startup, ProbeResult::Success) => {
                self.started = true;
                events.push(ProbeEvent::Started);
                // Liveness and readiness start now, or at their initial
                // delay from the container's start.
                for w in &mut self.workers {
                    w.not_before(now);
                }
                if !self.has_readiness {
                    events.extend(self.set_ready(true));
                }
            }
            (ProbeKind::Startup | ProbeKind::Liveness, ProbeResult::Failure) => {
                for w in &mut self.workers {
                    if w.kind != ProbeKind::Readiness {
                        w.on_hold = true;
                    }
                }
                events.push(ProbeEvent::Restart { kind });
            }
            (ProbeKind::Liveness, ProbeResult::Success) => {}
            (ProbeKind::Readiness, r) => {
                events.extend(self.set_ready(r == ProbeResult::Success && self.started));
            }
        }
        events
    }

    /// A run of `kind` that could not be judged (the supervisor could not
    /// start it for its own reasons): thrown away, as kubelet does.
    pub fn discard(&mut self, kind: ProbeKind, now: Instant) {
        if let Some(w) = self.workers.iter_mut().find(|w| w.kind == kind) {
            w.discard(now);
        }
    }

    /// The pod is being deleted: liveness and startup stop (kubelet counts
    /// them passing), readiness goes on until the container exits.
    pub fn terminating(&mut self) {
        for w in &mut self.workers {
            if w.kind != ProbeKind::Readiness {
                w.on_hold = true;
            }
        }
    }

    /// The container exited: every probe stops and it is not ready.
    pub fn exited(&mut self) -> Vec<ProbeEvent> {
        for w in &mut self.workers {
            w.on_hold = true;
        }
        self.set_ready(false).into_iter().collect()
    }

    fn set_ready(&mut self, ready: bool) -> Option<ProbeEvent> {
        (self.ready != ready).then(|| {
            self.ready = ready;
            ProbeEvent::Ready(ready)
        })
    }

    /// When this container instance started.
    pub fn started_at(&self) -> Instant {
        self.started_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn every(period: u64, failure: u32) -> ProbeTiming {
        ProbeTiming {
            initial_delay: Duration::ZERO,
            period: Duration::from_secs(period),
            timeout: Duration::from_secs(1),
            success_threshold: 1,
            failure_threshold: failure,
        }
    }

    fn pass() -> Outcome {
        Outcome::success("ok")
    }

    fn fail() -> Outcome {
        Outcome::failure("boom")
    }

    /// Runs every due probe at its due time with `result(kind)`, `n` times.
    fn drive(
        p: &mut ContainerProbes,
        n: usize,
        result: impl Fn(ProbeKind) -> Outcome,
    ) -> Vec<ProbeEvent> {
        let mut events = Vec::new();
        for _ in 0..n {
            let Some(t) = p.next_due() else { break };
            for kind in p.due(t) {
                events.extend(p.record(kind, &result(kind), t));
            }
        }
        events
    }

    #[test]
    fn without_probes_a_container_is_started_and_ready() {
        let p = ContainerProbes::new(None, None, None, Instant::now());
        assert!(p.started() && p.ready());
        assert_eq!(p.next_due(), None);
    }

    #[test]
    fn readiness_probe_makes_ready_after_its_first_pass() {
        let mut p = ContainerProbes::new(None, None, Some(every(1, 3)), Instant::now());
        assert!(p.started() && !p.ready());
        let events = drive(&mut p, 1, |_| pass());
        assert_eq!(events, vec![ProbeEvent::Ready(true)]);
        let events = drive(&mut p, 3, |_| fail());
        assert_eq!(events.last(), Some(&ProbeEvent::Ready(false)));
        let unhealthy = events
            .iter()
            .filter(|e| matches!(e, ProbeEvent::Unhealthy { .. }))
            .count();
        assert_eq!(unhealthy, 3, "an event per failed run: {events:?}");
    }

    #[test]
    fn startup_gates_liveness_and_readiness() {
        let t0 = Instant::now();
        let mut p =
            ContainerProbes::new(Some(every(1, 30)), Some(every(1, 3)), Some(every(1, 3)), t0);
        assert!(!p.started());
        assert_eq!(p.due(t0), vec![ProbeKind::Startup]);
        let e = p.record(ProbeKind::Startup, &fail(), t0);
        assert!(
            matches!(&e[..], [ProbeEvent::Unhealthy { message, .. }] if message == "Startup probe failed: boom")
        );
        let t1 = p.next_due().unwrap();
        assert_eq!(p.due(t1), vec![ProbeKind::Startup]);
        assert_eq!(
            p.record(ProbeKind::Startup, &pass(), t1),
            vec![ProbeEvent::Started]
        );
        // Startup is done; the two others run at once.
        assert_eq!(p.next_due(), Some(t1));
        let mut kinds = p.due(t1);
        kinds.sort_by_key(|k| k.name());
        assert_eq!(kinds, vec![ProbeKind::Liveness, ProbeKind::Readiness]);
    }

    #[test]
    fn liveness_failing_its_threshold_asks_for_one_restart() {
        let mut p = ContainerProbes::new(None, Some(every(1, 3)), None, Instant::now());
        let events = drive(&mut p, 10, |_| fail());
        let restarts: Vec<_> = events
            .iter()
            .filter(|e| matches!(e, ProbeEvent::Restart { .. }))
            .collect();
        assert_eq!(
            restarts,
            vec![&ProbeEvent::Restart {
                kind: ProbeKind::Liveness
            }]
        );
        assert_eq!(p.next_due(), None, "on hold until a new instance");
    }

    #[test]
    fn startup_failing_its_threshold_asks_for_a_restart() {
        let mut p =
            ContainerProbes::new(Some(every(1, 2)), Some(every(1, 1)), None, Instant::now());
        let events = drive(&mut p, 5, |_| fail());
        assert_eq!(
            events.last(),
            Some(&ProbeEvent::Restart {
                kind: ProbeKind::Startup
            })
        );
        assert!(!p.started());
    }

    #[test]
    fn initial_delay_counts_from_the_container_start() {
        let t0 = Instant::now();
        let mut timing = every(10, 3);
        timing.initial_delay = Duration::from_secs(30);
        let mut p = ContainerProbes::new(Some(every(1, 60)), Some(timing), None, t0);
        let t5 = t0 + Duration::from_secs(5);
        p.due(t5);
        p.record(ProbeKind::Startup, &pass(), t5);
        assert_eq!(p.next_due(), Some(t0 + Duration::from_secs(30)));
    }

    #[test]
    fn timeouts_count_as_failures_and_warnings_as_passes() {
        let mut p = ContainerProbes::new(None, None, Some(every(1, 1)), Instant::now());
        let e = drive(&mut p, 1, |_| Outcome::timed_out("deadline"));
        assert!(e.contains(&ProbeEvent::Unhealthy {
            kind: ProbeKind::Readiness,
            message: "Readiness probe failed: deadline".into()
        }));
        let e = drive(&mut p, 1, |_| Outcome::with(Verdict::Warning, "redirect"));
        assert!(e.contains(&ProbeEvent::Ready(true)), "{e:?}");
    }

    #[test]
    fn exit_stops_probing_and_clears_ready() {
        let mut p = ContainerProbes::new(None, None, Some(every(1, 1)), Instant::now());
        drive(&mut p, 1, |_| pass());
        assert_eq!(p.exited(), vec![ProbeEvent::Ready(false)]);
        assert_eq!(p.next_due(), None);
    }

    #[test]
    fn terminating_keeps_readiness_only() {
        let t0 = Instant::now();
        let mut p = ContainerProbes::new(None, Some(every(1, 1)), Some(every(1, 1)), t0);
        p.terminating();
        assert_eq!(p.due(t0), vec![ProbeKind::Readiness]);
    }
}
