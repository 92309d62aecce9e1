//! Termination as kubelet does it: a pod stop (delete, a signal to the
//! supervisor, `activeDeadlineSeconds`, a failed start) stops the app and
//! plain init containers first, all at once, then the sidecars one at a
//! time, last first (kubelet 1.29+). Each container: the grace clock
//! starts, preStop runs with what is left of it, then the stop signal,
//! then SIGKILL when the grace period is over (never less than 2 s after
//! the signal unless the grace period is 0).

use std::time::Duration;

use peapod_hooks::Outcome;

use super::{Action, Kind, PodController, Time};
use crate::events::{EventType, reason};
use crate::lifecycle::Hook;
use crate::termination::{self, ContainerStop, PodStop, Terminate};

impl PodController {
    /// Starts stopping the pod with `grace` (else the pod's own): no more
    /// restarts. With `keep`, the pod stays once stopped (the deadline);
    /// a stop asked for while one goes on only lifts the `keep`.
    pub(super) fn stop_pod(&mut self, grace: Option<Duration>, keep: bool, t: Time) {
        if let Some(stop) = &mut self.stop {
            if !keep {
                stop.keep = false;
            }
            return;
        }
        let grace = grace.unwrap_or_else(|| termination::grace(self.termination_grace_period));
        for c in &mut self.containers {
            c.restart_at = None;
        }
        self.stop = Some(PodStop::new(grace, t.now, keep));
        self.stop_next_group(t);
    }

    /// Stops the next group: the running app and init containers, else the
    /// last running sidecar.
    pub(super) fn stop_next_group(&mut self, t: Time) {
        let Some(stop) = &self.stop else {
            return;
        };
        let left = stop.left(t.now);
        let first: Vec<usize> = (0..self.containers.len())
            .rev()
            .filter(|&i| {
                self.containers[i].kind != Kind::Sidecar && self.containers[i].is_running()
            })
            .collect();
        if !first.is_empty() {
            for i in first {
                self.stop_container(i, left, t);
            }
            return;
        }
        if let Some(i) = (0..self.containers.len())
            .rev()
            .find(|&i| self.containers[i].kind == Kind::Sidecar && self.containers[i].is_running())
        {
            self.stop_container(i, left, t);
        }
    }

    /// A pod stop reaches container `i` (event `Killing` the first time).
    fn stop_container(&mut self, i: usize, grace: Duration, t: Time) {
        if self.containers[i].stop.is_none() {
            let message = format!("Stopping container {}", self.containers[i].name());
            self.record(EventType::Normal, reason::KILLING, Some(i), message);
        }
        self.begin_stop(i, grace, t);
    }

    /// Starts stopping container `i`: grace clock, preStop, then the stop
    /// signal and SIGKILL. A container already stopping is only killed
    /// now by a zero grace period.
    pub(super) fn begin_stop(&mut self, i: usize, grace: Duration, t: Time) {
        let c = &mut self.containers[i];
        if !c.is_running() {
            return;
        }
        if let Some(stop) = &mut c.stop {
            if grace.is_zero() && stop.kill() {
                self.out.push(Action::Kill(i));
            }
            return;
        }
        c.restart_at = None;
        c.post_start = false;
        if let Some(p) = &mut c.probes {
            p.terminating();
        }
        let stop = ContainerStop::new(grace, t.now);
        c.stop = Some(stop);
        self.out.push(Action::CancelRuns {
            container: i,
            post_start_only: true,
        });
        let pre_stop = if grace.is_zero() {
            None
        } else {
            Hook::PreStop.handler(&c.spec)
        };
        match pre_stop {
            None => self.pre_stop_done(i, &Outcome::success(""), t),
            Some(Err(message)) => self.pre_stop_done(i, &Outcome::failure(message), t),
            Some(Ok(handler)) => self.out.push(Action::RunHook {
                container: i,
                hook: Hook::PreStop,
                handler,
                timeout: stop.left(t.now),
            }),
        }
    }

    /// preStop is over (or there was none): the stop signal now, SIGKILL
    /// later.
    pub(super) fn pre_stop_done(&mut self, i: usize, outcome: &Outcome, t: Time) {
        if let Some(message) = Hook::PreStop.failure(outcome) {
            let line = format!("container {}: {message}", self.containers[i].name());
            self.out.push(Action::Log(line));
            // As kubelet: the message stays out of the event.
            self.record(
                EventType::Warning,
                reason::FAILED_PRE_STOP_HOOK,
                Some(i),
                "PreStopHook failed",
            );
        }
        let c = &mut self.containers[i];
        if !c.is_running() {
            return;
        }
        let signal = c.stop_signal;
        match c.stop.as_mut().and_then(|s| s.terminate(t.now, signal)) {
            Some(Terminate::Signal(signal)) => self.out.push(Action::Signal {
                container: i,
                signal,
            }),
            Some(Terminate::Kill) => self.out.push(Action::Kill(i)),
            None => {}
        }
    }
}
