//! What the controller knows and decides about one container: its kind,
//! its status as the API shows it, where it is in its life (launching,
//! running, in postStart, stopping, waiting for a restart), its probes and
//! its back-off. No process, no file: the supervisor keeps those.

use std::time::Instant;

use peapod_hooks::{ContainerProbes, Handler, ProbeKind, ProbeTiming};
use peapod_spec::{Container, ContainerStatus};

use crate::backoff::Backoff;
use crate::clock::Timestamp;
use crate::images::PullRecord;
use crate::lifecycle;
use crate::status;
use crate::termination::ContainerStop;

/// Init container, sidecar or app container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Runs to completion before the next one starts.
    Init,
    /// An init container with `restartPolicy: Always`: the next one starts
    /// once it runs; it restarts whatever the pod's policy and does not
    /// keep the pod from `Succeeded`.
    Sidecar,
    /// Runs for the life of the pod.
    App,
}

impl Kind {
    /// The kind of `container`, listed as an init container or not.
    pub fn of(container: &Container, init: bool) -> Self {
        match (init, container.is_sidecar()) {
            (false, _) => Self::App,
            (true, true) => Self::Sidecar,
            (true, false) => Self::Init,
        }
    }
}

/// One container as the controller tracks it.
#[derive(Debug)]
pub(crate) struct ContainerControl {
    pub spec: Container,
    pub kind: Kind,
    /// The image's STOPSIGNAL, else SIGTERM.
    pub stop_signal: Option<i32>,
    pub status: ContainerStatus,
    pub backoff: Backoff,
    /// When a restart is due.
    pub restart_at: Option<Instant>,
    /// When its last instance finished (the back-off counts from it).
    pub finished_at: Option<Instant>,
    /// Its start was asked for (the start sequence goes on past it).
    pub launched: bool,
    /// Asked for, and neither started nor failed yet.
    pub launching: bool,
    /// Its last launch was refused before anything was made
    /// ([`super::Event::StartFailed`] with `refused`).
    pub refused: bool,
    /// Its process runs: since when (probes' delays count from it).
    pub running_since: Option<(Instant, Timestamp)>,
    /// Its postStart runs: not `Running`, not started, probes not armed.
    pub post_start: bool,
    /// The probes of the running instance (after postStart).
    pub probes: Option<ContainerProbes>,
    /// The handlers of its probes that can run (built once).
    pub probe_handlers: Vec<(ProbeKind, Handler)>,
    /// Its stop in progress (delete, failed liveness, deadline).
    pub stop: Option<ContainerStop>,
    /// The pull of its image, told at its first start.
    pub pulled: Option<PullRecord>,
    /// Its definition changed (a new image): it is being stopped to start
    /// again at once, whatever the restart policy.
    pub redefined: bool,
    /// The image and image id its next instance starts from, once they
    /// differ from the status' (shown from that start on).
    pub next_image: Option<(String, String)>,
}

impl ContainerControl {
    /// A container not started yet, `waiting` with `reason`; a probe
    /// that cannot run is left out and said in `problems`.
    pub fn new(
        spec: Container,
        kind: Kind,
        image_id: String,
        stop_signal: Option<i32>,
        reason: &str,
        problems: &mut Vec<String>,
    ) -> Self {
        let status = ContainerStatus {
            name: spec.name.clone(),
            state: status::waiting(reason, None),
            image: spec.image.clone(),
            image_id,
            started: Some(false),
            ..ContainerStatus::default()
        };
        let probe_handlers = [
            ProbeKind::Startup,
            ProbeKind::Liveness,
            ProbeKind::Readiness,
        ]
        .into_iter()
        .filter_map(|kind| {
            let probe = lifecycle::probe(&spec, kind)?;
            match Handler::from_probe(probe, &spec) {
                Ok(h) => Some((kind, h)),
                Err(e) => {
                    problems.push(format!("{} probe of {}: {e}", kind.name(), spec.name));
                    None
                }
            }
        })
        .collect();
        Self {
            spec,
            kind,
            stop_signal,
            status,
            backoff: Backoff::default(),
            restart_at: None,
            finished_at: None,
            launched: false,
            launching: false,
            refused: false,
            running_since: None,
            post_start: false,
            probes: None,
            probe_handlers,
            stop: None,
            pulled: None,
            redefined: false,
            next_image: None,
        }
    }

    /// The container's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Whether its process runs.
    pub fn is_running(&self) -> bool {
        self.running_since.is_some()
    }

    /// The handler of its probe `kind`.
    pub fn probe_handler(&self, kind: ProbeKind) -> Option<&Handler> {
        self.probe_handlers
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, h)| h)
    }

    /// Whether it exited 0 (an init container's success).
    pub fn succeeded(&self) -> bool {
        !self.is_running()
            && !self.launching
            && self.restart_at.is_none()
            && self.status.state.terminated.as_ref().map(|t| t.exit_code) == Some(0)
    }

    /// Whether its probes consider it started (a sidecar releases the
    /// next init container then).
    pub fn probes_started(&self) -> bool {
        self.probes.as_ref().is_some_and(ContainerProbes::started)
    }

    /// Its last exit becomes `lastState` (a restart, or the wait for one).
    pub fn retire_exit(&mut self) {
        if self.status.state.terminated.is_some() {
            let last = std::mem::take(&mut self.status.state);
            self.status.last_state = Some(last);
        }
    }

    /// postStart returned (or there was none): the container is `Running`
    /// and its probes are armed, their delays counted from its start.
    pub fn now_running(&mut self) {
        self.post_start = false;
        let Some((since, wall)) = self.running_since else {
            return;
        };
        let timing = |kind| {
            self.probe_handler(kind)
                .and(lifecycle::probe(&self.spec, kind))
                .map(ProbeTiming::from_spec)
        };
        let probes = ContainerProbes::new(
            timing(ProbeKind::Startup),
            timing(ProbeKind::Liveness),
            timing(ProbeKind::Readiness),
            since,
        );
        self.status.state = status::running(wall.rfc3339());
        self.status.ready = self.kind != Kind::Init && probes.ready();
        self.status.started = Some(probes.started());
        self.probes = Some(probes);
    }
}
