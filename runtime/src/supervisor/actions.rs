//! The controller's actions carried out: each event goes to the pod
//! controller, whose answers the loop turns into launches, hook and
//! probe runs, signals, events and reports.

use tracing::warn;

use crate::controller::{Action, Event, Time};
use crate::launch::{StartReport, report_start};
use crate::lifecycle::Hook;
use crate::runs::Purpose;

use super::Supervisor;

impl Supervisor {
    /// Hands `event` to the controller and carries out what it answers,
    /// with whatever events that brings, until none is left.
    pub(super) fn feed(&mut self, event: Event) {
        self.pending.push_back(event);
        if self.engine.is_some() {
            self.engine_events();
            return;
        }
        while let Some(event) = self.pending.pop_front() {
            for action in self.controller.handle(event, Time::now()) {
                self.execute(action);
            }
        }
    }

    /// Carries out one action of the controller; what comes of it goes
    /// to [`Supervisor::pending`].
    pub(super) fn execute(&mut self, action: Action) {
        match action {
            Action::Launch(list) => self.launch(&list),
            Action::RunHook {
                container,
                hook,
                handler,
                timeout,
            } => {
                let purpose = match hook {
                    Hook::PostStart => Purpose::PostStart(container),
                    Hook::PreStop => Purpose::PreStop(container),
                };
                if let Some(outcome) = self.start_run(purpose, &handler, timeout) {
                    self.run_done(purpose, outcome);
                }
            }
            Action::RunProbe {
                container,
                kind,
                handler,
                timeout,
            } => {
                let purpose = Purpose::Probe(container, kind);
                if let Some(outcome) = self.start_run(purpose, &handler, timeout) {
                    self.run_done(purpose, outcome);
                }
            }
            Action::CancelRuns {
                container,
                post_start_only,
            } => self.runs.cancel(&mut self.events, |p| {
                if post_start_only {
                    p == Purpose::PostStart(container)
                } else {
                    p.slot() == container
                }
            }),
            Action::Signal { container, signal } => {
                if let Some(run) = &self.slots[container].run {
                    let _ = run.process.signal(signal);
                }
            }
            Action::Kill(container) => {
                if let Some(run) = &self.slots[container].run {
                    let _ = run.process.kill();
                }
            }
            Action::Record {
                type_,
                reason,
                container,
                message,
            } => {
                let path = container.map(|i| self.controller.field_path(i));
                if let Err(e) = self
                    .event_log
                    .record(type_, reason, path.as_deref(), message)
                {
                    warn!("event {reason}: {e}");
                }
            }
            Action::ReportStarted => {
                self.publish();
                report_start(&StartReport::Running);
            }
            Action::ReportFailed(error) => self.failed_start = Some(error),
            Action::Finish => self.finished = true,
            Action::Log(line) => warn!("{line}"),
        }
    }
}
