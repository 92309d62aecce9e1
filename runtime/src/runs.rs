//! The hook and probe runs in flight on the supervisor's loop: each has a
//! fresh token (`Token::Run(id)`), is polled when an event with it comes,
//! and gives its outcome with what it was for. Dropping a run unwatches
//! its token (no stale watch or timer is left in the loop) and kills an
//! `exec` still going.

use std::collections::HashMap;

use peapod_core::{EventKind, EventLoop, Process};
use peapod_hooks::{Handler, Outcome, ProbeKind, Progress, Run, RunContext};
use tracing::warn;

use crate::loop_token::Token;

/// What a run is for; the `usize` is the container's slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// The container's postStart hook.
    PostStart(usize),
    /// Its preStop hook.
    PreStop(usize),
    /// One run of one of its probes.
    Probe(usize, ProbeKind),
}

impl Purpose {
    /// The container's slot.
    pub fn slot(self) -> usize {
        match self {
            Self::PostStart(i) | Self::PreStop(i) | Self::Probe(i, _) => i,
        }
    }
}

/// The runs in flight.
#[derive(Debug, Default)]
pub(crate) struct Runs {
    next_id: u64,
    live: HashMap<u64, (Purpose, Run)>,
    /// `exec` commands killed (timeout, cancel), for the loop to reap.
    killed: Vec<Process>,
}

impl Runs {
    /// Starts `handler` for `purpose`; `Some` when it is over at once.
    pub fn start(
        &mut self,
        purpose: Purpose,
        handler: &Handler,
        ctx: &RunContext<'_>,
        events: &mut EventLoop,
    ) -> Option<Outcome> {
        self.next_id += 1;
        let id = self.next_id;
        let mut run = Run::start(handler, ctx);
        let outcome = Self::advance(&mut run, None, events, id);
        if outcome.is_none() {
            self.live.insert(id, (purpose, run));
        } else {
            self.killed.extend(run.take_killed());
        }
        outcome
    }

    /// An event of run `id`; `Some` with its purpose once it is over.
    pub fn poll(
        &mut self,
        id: u64,
        kind: EventKind,
        events: &mut EventLoop,
    ) -> Option<(Purpose, Outcome)> {
        let (_, run) = self.live.get_mut(&id)?;
        let outcome = Self::advance(run, Some(kind), events, id)?;
        let (purpose, mut run) = self.live.remove(&id)?;
        self.killed.extend(run.take_killed());
        Some((purpose, outcome))
    }

    /// Polls `run`; once over, its token leaves the loop.
    fn advance(
        run: &mut Run,
        fired: Option<EventKind>,
        events: &mut EventLoop,
        id: u64,
    ) -> Option<Outcome> {
        let token = Token::Run(id).encode();
        let outcome = match run.poll(fired, events, token) {
            Ok(Progress::Pending) => return None,
            Ok(Progress::Done(outcome)) => outcome,
            Err(e) => Outcome::failure(e.to_string()),
        };
        if let Err(e) = events.unwatch(token) {
            warn!("run {id}: {e}");
        }
        Some(outcome)
    }

    /// Drops the runs for which `drop` holds (an `exec` still going is
    /// killed).
    pub fn cancel(&mut self, events: &mut EventLoop, drop: impl Fn(Purpose) -> bool) {
        let ids: Vec<u64> = self
            .live
            .iter()
            .filter(|(_, (p, _))| drop(*p))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Err(e) = events.unwatch(Token::Run(id).encode()) {
                warn!("run {id}: {e}");
            }
            if let Some((_, mut run)) = self.live.remove(&id) {
                run.cancel();
                self.killed.extend(run.take_killed());
            }
        }
    }

    /// The `exec` commands killed since the last call, not reaped yet:
    /// the loop watches their pidfds and reaps them.
    pub fn take_killed(&mut self) -> Vec<Process> {
        std::mem::take(&mut self.killed)
    }
}
