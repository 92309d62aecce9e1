//! Hook and probe runs on the loop (`runs.rs`): started in the running
//! container of their slot, polled on their events, their outcome told to
//! the controller.

use std::net::IpAddr;
use std::time::Duration;

use peapod_core::EventKind;
use peapod_hooks::{Handler, Outcome};
use tracing::warn;

use super::Supervisor;
use crate::controller::Event;
use crate::lifecycle::{self, Hook};
use crate::loop_token::Token;
use crate::runs::Purpose;

impl Supervisor {
    /// The pod's first IP: the default host of network handlers.
    pub(super) fn pod_ip(&self) -> Option<IpAddr> {
        self.sandbox
            .as_ref()
            .and_then(|s| s.pod_ips.first().copied())
    }

    /// Starts a hook or probe run in the running container of its slot;
    /// `Some` when it is over at once (or there is no container).
    pub(super) fn start_run(
        &mut self,
        purpose: Purpose,
        handler: &Handler,
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

    /// An event of run `id`: on with it, and tell its outcome once over.
    pub(super) fn run_event(&mut self, id: u64, kind: EventKind) {
        if let Some((purpose, outcome)) = self.runs.poll(id, kind, &mut self.events) {
            self.run_done(purpose, outcome);
        }
    }

    pub(super) fn run_done(&mut self, purpose: Purpose, outcome: Outcome) {
        let event = match purpose {
            Purpose::PostStart(container) => Event::HookDone {
                container,
                hook: Hook::PostStart,
                outcome,
            },
            Purpose::PreStop(container) => Event::HookDone {
                container,
                hook: Hook::PreStop,
                outcome,
            },
            Purpose::Probe(container, kind) => Event::ProbeDone {
                container,
                kind,
                outcome,
            },
        };
        self.pending.push_back(event);
    }

    /// Watches the hook commands killed since the last wakeup (a timeout,
    /// a run given up), so that they are reaped on the loop.
    pub(super) fn watch_killed(&mut self) {
        for process in self.runs.take_killed() {
            self.reap_ids += 1;
            let id = self.reap_ids;
            match self
                .events
                .watch_process(process.pidfd(), Token::Reap(id).encode())
            {
                Ok(()) => {
                    self.reaping.insert(id, process);
                }
                Err(e) => warn!("killed hook command {}: {e}", process.pid()),
            }
        }
    }

    /// Killed hook command `id` exited: reaped.
    pub(super) fn reap_killed(&mut self, id: u64) {
        let Some(process) = self.reaping.get(&id) else {
            return;
        };
        match process.try_wait() {
            Ok(None) => {
                if let Err(e) = self
                    .events
                    .watch_process(process.pidfd(), Token::Reap(id).encode())
                {
                    warn!("killed hook command {}: {e}", process.pid());
                }
            }
            Ok(Some(_)) | Err(_) => {
                self.reaping.remove(&id);
            }
        }
    }
}
