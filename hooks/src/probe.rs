//! One probe's worker, as kubelet's `prober/worker.go`: when it runs, and
//! how runs in a row turn into a result. Pure: time comes in as arguments.

use std::time::{Duration, Instant};

use peapod_spec::Probe;

use crate::outcome::Outcome;

/// Which probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    /// `startupProbe`: holds the other two until it passes.
    Startup,
    /// `livenessProbe`: failing restarts the container.
    Liveness,
    /// `readinessProbe`: sets the container's `ready`.
    Readiness,
}

impl ProbeKind {
    /// `Startup`, `Liveness` or `Readiness`, as kubelet's events say.
    pub fn name(self) -> &'static str {
        match self {
            Self::Startup => "Startup",
            Self::Liveness => "Liveness",
            Self::Readiness => "Readiness",
        }
    }
}

/// A probe's timing, from the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeTiming {
    /// `initialDelaySeconds`, counted from the container's start.
    pub initial_delay: Duration,
    /// `periodSeconds`.
    pub period: Duration,
    /// `timeoutSeconds`: the timeout of each run.
    pub timeout: Duration,
    /// `successThreshold`: passes in a row to count as passing.
    pub success_threshold: u32,
    /// `failureThreshold`: failures in a row to count as failing.
    pub failure_threshold: u32,
}

impl ProbeTiming {
    /// The timing of `probe`, with the API's floors (1 s, 1 run) for
    /// values the validation should have refused.
    pub fn from_spec(probe: &Probe) -> Self {
        let secs =
            |s: i32, floor: u64| Duration::from_secs(u64::try_from(s).unwrap_or(0).max(floor));
        let count = |n: i32| u32::try_from(n).unwrap_or(0).max(1);
        Self {
            initial_delay: secs(probe.initial_delay_seconds.unwrap_or(0), 0),
            period: secs(probe.period_seconds, 1),
            timeout: secs(probe.timeout_seconds, 1),
            success_threshold: count(probe.success_threshold),
            failure_threshold: count(probe.failure_threshold),
        }
    }
}

/// The result a worker publishes once a threshold is crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeResult {
    /// Passing.
    Success,
    /// Failing.
    Failure,
}

impl From<&Outcome> for ProbeResult {
    /// Success and warning pass; failure and timeout fail.
    fn from(outcome: &Outcome) -> Self {
        if outcome.passed() {
            Self::Success
        } else {
            Self::Failure
        }
    }
}

/// One probe of one container instance.
#[derive(Debug, Clone)]
pub(crate) struct Worker {
    pub(crate) kind: ProbeKind,
    pub(crate) timing: ProbeTiming,
    /// When the next run is due.
    next_due: Instant,
    /// The start of the run in flight.
    in_flight: Option<Instant>,
    last: Option<ProbeResult>,
    run: u32,
    /// Stopped: a liveness or startup failure asked for a restart, or the
    /// container stops.
    pub(crate) on_hold: bool,
}

impl Worker {
    pub(crate) fn new(kind: ProbeKind, timing: ProbeTiming, started_at: Instant) -> Self {
        Self {
            kind,
            timing,
            next_due: started_at + timing.initial_delay,
            in_flight: None,
            last: None,
            run: 0,
            on_hold: false,
        }
    }

    /// When this worker wants to run next (`None`: in flight or on hold).
    pub(crate) fn next_due(&self) -> Option<Instant> {
        (!self.on_hold && self.in_flight.is_none()).then_some(self.next_due)
    }

    /// Not before `at` (a probe gated by startup runs once it is released,
    /// and never before its initial delay).
    pub(crate) fn not_before(&mut self, at: Instant) {
        self.next_due = self.next_due.max(at);
    }

    /// Starts a run if one is due at `now`.
    pub(crate) fn start_if_due(&mut self, now: Instant) -> bool {
        let due = self.next_due().is_some_and(|at| at <= now);
        if due {
            self.in_flight = Some(now);
        }
        due
    }

    /// Records a run's result at `now`; returns the result to publish when
    /// a threshold is crossed (kubelet publishes on every run past it).
    pub(crate) fn record(&mut self, result: ProbeResult, now: Instant) -> Option<ProbeResult> {
        let started = self.in_flight.take().unwrap_or(now);
        // kubelet's ticker drops the ticks a slow run overlaps.
        let period = self.timing.period;
        let mut next = started + period;
        while next < now {
            next += period;
        }
        self.next_due = next;
        if self.last == Some(result) {
            self.run = self.run.saturating_add(1);
        } else {
            self.last = Some(result);
            self.run = 1;
        }
        let threshold = match result {
            ProbeResult::Success => self.timing.success_threshold,
            ProbeResult::Failure => self.timing.failure_threshold,
        };
        if self.run < threshold {
            return None;
        }
        if result == ProbeResult::Failure && self.kind != ProbeKind::Readiness {
            self.on_hold = true;
            self.run = 0;
        }
        Some(result)
    }

    /// Forgets a run that errored (kubelet throws the result away).
    pub(crate) fn discard(&mut self, now: Instant) {
        let started = self.in_flight.take().unwrap_or(now);
        self.next_due = started + self.timing.period;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(success: u32, failure: u32) -> ProbeTiming {
        ProbeTiming {
            initial_delay: Duration::from_secs(5),
            period: Duration::from_secs(10),
            timeout: Duration::from_secs(1),
            success_threshold: success,
            failure_threshold: failure,
        }
    }

    /// Runs the worker at its due time with `result`.
    fn step(w: &mut Worker, result: ProbeResult) -> Option<ProbeResult> {
        let t = w.next_due().unwrap();
        assert!(w.start_if_due(t));
        w.record(result, t)
    }

    #[test]
    fn first_run_waits_for_the_initial_delay_then_every_period() {
        let t0 = Instant::now();
        let mut w = Worker::new(ProbeKind::Liveness, timing(1, 3), t0);
        assert!(!w.start_if_due(t0 + Duration::from_secs(4)));
        assert!(w.start_if_due(t0 + Duration::from_secs(5)));
        assert_eq!(w.next_due(), None, "in flight");
        w.record(ProbeResult::Success, t0 + Duration::from_secs(6));
        assert_eq!(w.next_due(), Some(t0 + Duration::from_secs(15)));
    }

    #[test]
    fn slow_run_skips_the_ticks_it_overlaps() {
        let t0 = Instant::now();
        let mut w = Worker::new(ProbeKind::Liveness, timing(1, 3), t0);
        assert!(w.start_if_due(t0 + Duration::from_secs(5)));
        w.record(ProbeResult::Success, t0 + Duration::from_secs(27));
        assert_eq!(w.next_due(), Some(t0 + Duration::from_secs(35)));
    }

    #[test]
    fn failure_is_published_only_at_the_threshold_then_holds() {
        let t0 = Instant::now();
        let mut w = Worker::new(ProbeKind::Liveness, timing(1, 3), t0);
        let mut t = t0;
        let mut published = Vec::new();
        for _ in 0..3 {
            t = w.next_due().unwrap();
            published.push(step(&mut w, ProbeResult::Failure));
        }
        assert_eq!(published, vec![None, None, Some(ProbeResult::Failure)]);
        assert!(w.on_hold);
        assert!(!w.start_if_due(t + Duration::from_secs(100)));
    }

    #[test]
    fn a_success_between_failures_resets_the_count() {
        let t0 = Instant::now();
        let mut w = Worker::new(ProbeKind::Readiness, timing(1, 2), t0);
        assert_eq!(step(&mut w, ProbeResult::Failure), None);
        assert_eq!(
            step(&mut w, ProbeResult::Success),
            Some(ProbeResult::Success)
        );
        assert_eq!(step(&mut w, ProbeResult::Failure), None);
        assert_eq!(
            step(&mut w, ProbeResult::Failure),
            Some(ProbeResult::Failure)
        );
        // Readiness keeps probing after failing.
        assert_eq!(
            step(&mut w, ProbeResult::Failure),
            Some(ProbeResult::Failure)
        );
        assert_eq!(
            step(&mut w, ProbeResult::Success),
            Some(ProbeResult::Success)
        );
    }

    #[test]
    fn success_threshold_needs_that_many_passes_in_a_row() {
        let t0 = Instant::now();
        let mut w = Worker::new(ProbeKind::Readiness, timing(3, 1), t0);
        assert_eq!(step(&mut w, ProbeResult::Success), None);
        assert_eq!(step(&mut w, ProbeResult::Success), None);
        assert_eq!(
            step(&mut w, ProbeResult::Success),
            Some(ProbeResult::Success)
        );
    }

    #[test]
    fn timing_from_spec_uses_floors() {
        let p = Probe {
            initial_delay_seconds: Some(-3),
            period_seconds: 0,
            timeout_seconds: 0,
            success_threshold: 0,
            failure_threshold: 5,
            ..Probe::default()
        };
        let t = ProbeTiming::from_spec(&p);
        assert_eq!(t.initial_delay, Duration::ZERO);
        assert_eq!(t.period, Duration::from_secs(1));
        assert_eq!(t.timeout, Duration::from_secs(1));
        assert_eq!((t.success_threshold, t.failure_threshold), (1, 5));
    }
}
