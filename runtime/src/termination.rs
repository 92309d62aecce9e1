//! Stopping a pod: SIGTERM to its containers (in reverse order), the grace
//! period, then SIGKILL of everything left in the pod's cgroup.

use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use peapod_core::{Cgroup, Process};

use crate::control::{self, Response};

/// A stop in progress.
#[derive(Debug)]
pub(crate) struct Termination {
    deadline: Instant,
    killed: bool,
    clients: Vec<UnixStream>,
}

impl Termination {
    /// A stop with `grace` to go; `client` waits for the answer.
    pub fn new(grace: Duration, client: Option<UnixStream>) -> Self {
        Self {
            deadline: Instant::now() + grace,
            killed: false,
            clients: client.into_iter().collect(),
        }
    }

    /// When SIGKILL is due (never again once sent).
    pub fn deadline(&self) -> Instant {
        if self.killed {
            Instant::now() + Duration::from_secs(3600)
        } else {
            self.deadline
        }
    }

    /// Another client waits for the same stop.
    pub fn add_client(&mut self, client: Option<UnixStream>) {
        self.clients.extend(client);
    }

    /// How many clients wait.
    pub fn clients_len(&self) -> usize {
        self.clients.len()
    }

    /// SIGTERM, or SIGKILL at once with a zero grace period.
    pub fn terminate(&self, process: &Process) {
        let signal = if self.deadline <= Instant::now() {
            rustix::process::Signal::KILL
        } else {
            rustix::process::Signal::TERM
        };
        let _ = process.signal(signal.as_raw());
    }

    /// The grace period is over: SIGKILL to everything in the pod.
    pub fn kill_all(&mut self, cgroup: &Cgroup) {
        if !self.killed {
            self.killed = true;
            let _ = cgroup.kill_all(Duration::from_secs(5));
        }
    }

    /// Answers every waiting client.
    pub fn reply(self, response: &Response) {
        for c in &self.clients {
            let _ = control::send(c, response);
        }
    }
}
