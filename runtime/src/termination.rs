//! Stopping containers as kubelet does: the grace clock starts, preStop
//! runs, then SIGTERM, then SIGKILL when the grace period is over (never
//! less than 2 s after SIGTERM unless the grace period is 0). A pod stop
//! (delete, a signal, `activeDeadlineSeconds`) stops the app containers
//! first, then the sidecars one at a time in reverse order.

use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use peapod_core::Process;
use rustix::process::Signal;

use crate::control::{self, Response};

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
#[derive(Debug)]
pub(crate) struct Termination {
    grace: Duration,
    deadline: Instant,
    clients: Vec<UnixStream>,
    /// The pod stays (stopped) once its containers exited: the
    /// `activeDeadlineSeconds` stop, until a delete.
    pub keep: bool,
}

impl Termination {
    /// A stop with `grace` to go; `client` waits for the answer.
    pub fn new(grace: Duration, client: Option<UnixStream>) -> Self {
        Self {
            grace,
            deadline: Instant::now() + grace,
            clients: client.into_iter().collect(),
            keep: false,
        }
    }

    /// The pod's grace period.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// When the pod's grace period ends.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Another client waits for the same stop.
    pub fn add_client(&mut self, client: Option<UnixStream>) {
        self.clients.extend(client);
    }

    /// How many clients wait.
    pub fn clients_len(&self) -> usize {
        self.clients.len()
    }

    /// Answers every waiting client.
    pub fn reply(self, response: &Response) {
        for c in &self.clients {
            let _ = control::send(c, response);
        }
    }
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
    /// A stop whose grace period ends at `deadline` (`grace` long).
    pub fn new(grace: Duration, deadline: Instant) -> Self {
        Self {
            grace,
            deadline,
            kill_at: None,
            killed: false,
        }
    }

    /// What is left of the grace period: preStop's timeout.
    pub fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// preStop is over (or there was none): `stop_signal` (the image's
    /// STOPSIGNAL, else SIGTERM), or SIGKILL at once with a zero grace
    /// period.
    pub fn terminate(&mut self, process: &Process, stop_signal: Option<i32>) {
        let now = Instant::now();
        if self.grace.is_zero() {
            self.kill(process);
            return;
        }
        let _ = process.signal(stop_signal.unwrap_or(Signal::TERM.as_raw()));
        self.kill_at = Some(self.deadline.max(now + MIN_AFTER_SIGTERM));
    }

    /// When SIGKILL is due; `None` before SIGTERM and after SIGKILL.
    pub fn kill_at(&self) -> Option<Instant> {
        self.kill_at.filter(|_| !self.killed)
    }

    /// SIGKILL (once); what is left in its cgroup goes when it is reaped.
    pub fn kill(&mut self, process: &Process) {
        if !self.killed {
            self.killed = true;
            let _ = process.kill();
        }
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
        let s = ContainerStop::new(Duration::from_secs(1), Instant::now());
        assert_eq!(s.kill_at(), None);
        assert!(s.left() <= Duration::from_secs(1));
    }
}
