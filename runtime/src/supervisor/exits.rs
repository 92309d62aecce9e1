//! Container output and exits: log pipes read in bounded steps, an exit
//! reaped, what the container left in its cgroup killed pass by pass on a
//! loop timer, then the exit (with its termination message) told to the
//! controller.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use tracing::warn;

use super::Supervisor;
use crate::container;
use crate::controller::Event;
use crate::loop_token::Token;
use crate::status::ExitKind;
use crate::termination_message;

/// How long the leftovers of an exited container have to go after
/// SIGKILL before the exit is told anyway.
const LEFTOVERS_DEADLINE: Duration = Duration::from_secs(2);

/// How often the cgroup of a parked exit is looked at again.
const LEFTOVERS_RETRY: Duration = Duration::from_millis(2);

/// An exit waiting for its container's cgroup to empty.
#[derive(Debug)]
pub(super) struct ParkedExit {
    pub(super) container: usize,
    cgroup: peapod_core::Cgroup,
    exit: ExitKind,
    oom_killed: bool,
    give_up_at: Instant,
    pub(super) retry_at: Instant,
}

impl Supervisor {
    /// Copies what log stream `id` has into its file; watches it again
    /// unless it ended.
    pub(super) fn pump(&mut self, id: u64) {
        for slot in &mut self.slots {
            let Some(s) = slot.streams.iter().position(|st| st.id == id) else {
                continue;
            };
            if slot.streams[s].pump() {
                let fd = slot.streams[s].fd.as_fd();
                if let Err(e) = self.events.watch_readable(fd, Token::Output(id).encode()) {
                    warn!("log stream of {}: {e}", slot.spec.name);
                    slot.streams.remove(s);
                    self.park_streams();
                }
            } else {
                slot.streams.remove(s);
                self.park_streams();
            }
            return;
        }
    }

    /// The process of slot `i` exited: what is left in its cgroup goes,
    /// its termination message is read, and the controller is told.
    pub(super) fn reap(&mut self, i: usize) {
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
        let oom_killed = run.cgroup.oom_kills().unwrap_or(0) > run.oom_before;
        // Its hooks and probes in flight go with it.
        self.runs.cancel(&mut self.events, |p| p.slot() == i);
        let cgroup = run.cgroup.clone();
        self.slots[i].run = None;
        let now = Instant::now();
        let parked = ParkedExit {
            container: i,
            cgroup,
            exit,
            oom_killed,
            give_up_at: now + LEFTOVERS_DEADLINE,
            retry_at: now,
        };
        self.parked_exits.push(parked);
        self.retry_parked_exits(now);
    }

    /// What exited containers left behind (orphans in a shared PID
    /// namespace, a backgrounded child) is SIGKILLed, pass after pass on
    /// a short timer of the loop; once a cgroup is empty (or its deadline
    /// passed), the exit goes to the controller.
    pub(super) fn retry_parked_exits(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.parked_exits.len() {
            let p = &mut self.parked_exits[i];
            if p.retry_at > now {
                i += 1;
                continue;
            }
            let done = match p.cgroup.kill_once() {
                Ok(empty) => empty,
                Err(e) => {
                    warn!("{e}");
                    true
                }
            };
            if !done && now < p.give_up_at {
                p.retry_at = now + LEFTOVERS_RETRY;
                i += 1;
                continue;
            }
            if !done {
                warn!("processes left in {:?} after SIGKILL", p.cgroup.dirs());
            }
            let p = self.parked_exits.remove(i);
            self.exited(p.container, p.exit, p.oom_killed);
        }
    }

    /// Container `i` and all it left are gone: the rest of its output is
    /// read, its termination message, and the controller is told.
    pub(super) fn exited(&mut self, i: usize, exit: ExitKind, oom_killed: bool) {
        let slot = &mut self.slots[i];
        // No writer is left: what the pipes hold is bounded.
        slot.streams
            .retain_mut(|s| s.pump_up_to(container::PIPE_MAX));
        let name = slot.name().to_owned();
        let message = self.sandbox.as_ref().and_then(|sandbox| {
            let dir = container::layers_dir(&sandbox.lib_dir, &name);
            termination_message::read(&slot.spec, &dir, &slot.log_path, exit.exit_code())
        });
        self.record.containers.remove(&name);
        let _ = self.dir.write_supervisor(&self.record);
        self.feed(Event::Exited {
            container: i,
            exit,
            oom_killed,
            message,
        });
    }
}
