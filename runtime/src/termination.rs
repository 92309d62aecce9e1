//! Stopping containers as kubelet does: the grace clock starts, preStop
//! runs, then SIGTERM, then SIGKILL when the grace period is over (never
//! less than 2 s after SIGTERM unless the grace period is 0). A pod stop
//! (delete, a signal, `activeDeadlineSeconds`) stops the app containers
//! first, then the sidecars one at a time in reverse order.

use std::time::{Duration, Instant};

use rustix::process::Signal;

/// What is left after SIGTERM, at least, when the grace period is not 0.
pub(crate) const MIN_AFTER_SIGTERM: Duration = Duration::from_secs(2);

/// The grace period in seconds as a duration (negative: 0).
pub(crate) fn grace(seconds: Option<i64>) -> Duration {
    Duration::from_secs(seconds.and_then(|s| u64::try_from(s).ok()).unwrap_or(30))
}

/// An image's STOPSIGNAL (`SIGQUIT`, `QUIT` or `3`) as a number.
pub(crate) fn parse_signal(text: &str) -> Option<i32> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let upper = text.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let signal = match name {
        "HUP" => Signal::HUP,
        "INT" => Signal::INT,
        "QUIT" => Signal::QUIT,
        "KILL" => Signal::KILL,
        "USR1" => Signal::USR1,
        "USR2" => Signal::USR2,
        "TERM" => Signal::TERM,
        "WINCH" => Signal::WINCH,
        "PWR" => Signal::POWER,
        _ => return None,
    };
    Some(signal.as_raw())
}

/// A pod stop in progress.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PodStop {
    grace: Duration,
    deadline: Instant,
    /// The pod stays (stopped) once its containers exited: the
    /// `activeDeadlineSeconds` stop, until a delete.
    pub keep: bool,
}

impl PodStop {
    /// A stop at `now` with `grace` to go.
    pub fn new(grace: Duration, now: Instant, keep: bool) -> Self {
        Self {
            grace,
            deadline: now + grace,
            keep,
        }
    }

    /// What a container stopped at `now` gets: what is left of the pod's
    /// grace period but, as kubelet, never less than the minimum after
    /// SIGTERM (unless the grace period is 0).
    pub fn left(&self, now: Instant) -> Duration {
        if self.grace.is_zero() {
            Duration::ZERO
        } else {
            let left = self.deadline.saturating_duration_since(now);
            left.max(MIN_AFTER_SIGTERM)
        }
    }
}

/// What ends a container once its preStop is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Terminate {
    /// Its stop signal (the image's STOPSIGNAL, else SIGTERM).
    Signal(i32),
    /// SIGKILL at once (a zero grace period).
    Kill,
}

/// The stop of one container.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContainerStop {
    grace: Duration,
    deadline: Instant,
    /// When SIGKILL is due, once SIGTERM went.
    kill_at: Option<Instant>,
    killed: bool,
}

impl ContainerStop {
    /// A stop at `now` with `grace` to go.
    pub fn new(grace: Duration, now: Instant) -> Self {
        Self {
            grace,
            deadline: now + grace,
            kill_at: None,
            killed: false,
        }
    }

    /// What is left of the grace period at `now`: preStop's timeout.
    pub fn left(&self, now: Instant) -> Duration {
        self.deadline.saturating_duration_since(now)
    }

    /// preStop is over at `now` (or there was none): `stop_signal` (else
    /// SIGTERM), SIGKILL at the end of the grace period but never less
    /// than 2 s after it; or SIGKILL at once with a zero grace period.
    pub fn terminate(&mut self, now: Instant, stop_signal: Option<i32>) -> Option<Terminate> {
        if self.grace.is_zero() {
            return self.kill().then_some(Terminate::Kill);
        }
        if self.killed || self.kill_at.is_some() {
            return None;
        }
        self.kill_at = Some(self.deadline.max(now + MIN_AFTER_SIGTERM));
        Some(Terminate::Signal(
            stop_signal.unwrap_or(Signal::TERM.as_raw()),
        ))
    }

    /// When SIGKILL is due; `None` before SIGTERM and after SIGKILL.
    pub fn kill_at(&self) -> Option<Instant> {
        self.kill_at.filter(|_| !self.killed)
    }

    /// SIGKILL is due now (once): `true` the first time.
    pub fn kill(&mut self) -> bool {
        !std::mem::replace(&mut self.killed, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_defaults_to_thirty_seconds() {
        assert_eq!(grace(None), Duration::from_secs(30));
        assert_eq!(grace(Some(2)), Duration::from_secs(2));
        assert_eq!(grace(Some(-1)), Duration::from_secs(30));
    }

    #[test]
    fn stop_signals_parse_as_docker_writes_them() {
        assert_eq!(parse_signal("SIGQUIT"), Some(3));
        assert_eq!(parse_signal("quit"), Some(3));
        assert_eq!(parse_signal("9"), Some(9));
        assert_eq!(parse_signal("SIGRTMAX+1"), None);
        assert_eq!(parse_signal("0"), None);
    }

    #[test]
    fn container_stop_has_no_kill_time_before_sigterm() {
        let now = Instant::now();
        let s = ContainerStop::new(Duration::from_secs(1), now);
        assert_eq!(s.kill_at(), None);
        assert_eq!(s.left(now), Duration::from_secs(1));
    }

    #[test]
    fn sigkill_comes_at_least_two_seconds_after_sigterm() {
        let now = Instant::now();
        let mut s = ContainerStop::new(Duration::from_secs(1), now);
        assert_eq!(s.terminate(now, None), Some(Terminate::Signal(15)));
        assert_eq!(s.kill_at(), Some(now + MIN_AFTER_SIGTERM));
        let mut long = ContainerStop::new(Duration::from_secs(30), now);
        assert_eq!(long.terminate(now, Some(3)), Some(Terminate::Signal(3)));
        assert_eq!(long.kill_at(), Some(now + Duration::from_secs(30)));
    }

    #[test]
    fn zero_grace_kills_at_once_and_only_once() {
        let now = Instant::now();
        let mut s = ContainerStop::new(Duration::ZERO, now);
        assert_eq!(s.terminate(now, None), Some(Terminate::Kill));
        assert_eq!(s.terminate(now, None), None);
        assert!(!s.kill());
    }

    #[test]
    fn a_pod_stop_leaves_later_containers_at_least_two_seconds() {
        let now = Instant::now();
        let stop = PodStop::new(Duration::from_secs(5), now, false);
        assert_eq!(stop.left(now), Duration::from_secs(5));
        assert_eq!(stop.left(now + Duration::from_secs(4)), MIN_AFTER_SIGTERM);
        assert_eq!(
            PodStop::new(Duration::ZERO, now, false).left(now),
            Duration::ZERO
        );
    }
}
