//! One container of a running pod as the supervisor tracks it: its spec,
//! image, status, process, log streams and back-off.

use std::time::{Duration, Instant};

use peapod_hooks::{ContainerProbes, Handler, ProbeKind, ProbeTiming};
use peapod_spec::{Container, ContainerStatus, PodIP, PodStatus, QOSClass, RestartPolicy};

use crate::backoff::{Backoff, BackoffPolicy};
use crate::clock::Timestamp;
use crate::container::{LogStream, Started};
use crate::images::ResolvedImage;
use crate::lifecycle;
use crate::status::{self, ExitKind};
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

/// One container of the pod.
#[derive(Debug)]
pub(crate) struct Slot {
    pub spec: Container,
    pub kind: Kind,
    pub image: ResolvedImage,
    pub status: ContainerStatus,
    pub run: Option<Started>,
    /// Output streams; they may outlive the process (a grandchild holding
    /// the pipe), so they are kept apart from it.
    pub streams: Vec<LogStream>,
    pub backoff: Backoff,
    /// When a restart is due.
    pub restart_at: Option<Instant>,
    /// Its start was tried (the start sequence goes on past it).
    pub launched: bool,
    /// Its postStart runs: not `Running`, not started, probes not armed.
    pub post_start: bool,
    /// The probes of the running instance (after postStart).
    pub probes: Option<ContainerProbes>,
    /// The handlers of its probes that can run (built once).
    pub probe_handlers: Vec<(ProbeKind, Handler)>,
    /// Its stop in progress (delete, failed liveness, deadline).
    pub stop: Option<ContainerStop>,
}

/// What to do after an exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterExit {
    /// Start again at this time.
    Restart(Instant),
    /// Done for good (an init container that succeeded, or no restart).
    Stay,
}

impl Slot {
    /// A slot not started yet.
    pub fn new(spec: Container, kind: Kind, image: ResolvedImage, reason: &str) -> Self {
        let status = ContainerStatus {
            name: spec.name.clone(),
            state: status::waiting(reason, None),
            image: spec.image.clone(),
            image_id: image.id.clone(),
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
                    tracing::warn!("{} probe of {}: {e}", kind.name(), spec.name);
                    None
                }
            }
        })
        .collect();
        Self {
            spec,
            kind,
            image,
            status,
            run: None,
            streams: Vec::new(),
            backoff: Backoff::default(),
            restart_at: None,
            launched: false,
            post_start: false,
            probes: None,
            probe_handlers,
            stop: None,
        }
    }

    /// The handler of its probe `kind`.
    pub fn probe_handler(&self, kind: ProbeKind) -> Option<&Handler> {
        self.probe_handlers
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, h)| h)
    }

    /// The container's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// `involvedObject.fieldPath` of its events.
    pub fn field_path(&self) -> String {
        crate::events::container_field_path(self.kind != Kind::App, self.name())
    }

    /// Whether its process runs.
    pub fn is_running(&self) -> bool {
        self.run.is_some()
    }

    /// Whether it exited 0 (an init container's success).
    pub fn succeeded(&self) -> bool {
        self.run.is_none()
            && self.restart_at.is_none()
            && self.status.state.terminated.as_ref().map(|t| t.exit_code) == Some(0)
    }

    /// Records a started process; with `post_start`, it waits for its
    /// postStart before it counts as running ([`Slot::now_running`]).
    pub fn started(&mut self, mut started: Started, container_id: &str, post_start: bool) {
        self.streams.append(&mut started.streams);
        self.status.container_id = Some(container_id.to_owned());
        self.restart_at = None;
        self.stop = None;
        self.run = Some(started);
        self.post_start = post_start;
        if post_start {
            self.status.state = status::waiting("ContainerCreating", None);
            self.status.ready = false;
            self.status.started = Some(false);
        } else {
            self.now_running();
        }
    }

    /// postStart returned (or there was none): the container is `Running`
    /// and its probes are armed.
    pub fn now_running(&mut self) {
        self.post_start = false;
        let Some(run) = &self.run else {
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
            run.since,
        );
        self.status.state = status::running(run.wall_start.rfc3339());
        self.status.ready = self.kind != Kind::Init && probes.ready();
        self.status.started = Some(probes.started());
        self.probes = Some(probes);
    }

    /// Whether its probes consider it started (a sidecar releases the
    /// next init container then).
    pub fn probes_started(&self) -> bool {
        self.probes.as_ref().is_some_and(ContainerProbes::started)
    }

    /// Records an exit and decides on a restart.
    pub fn exited(
        &mut self,
        exit: ExitKind,
        oom_killed: bool,
        pod_policy: RestartPolicy,
        backoff: &BackoffPolicy,
        stopping: bool,
    ) -> AfterExit {
        let Some(run) = self.run.take() else {
            return AfterExit::Stay;
        };
        let ran = run.since.elapsed();
        let t = exit.terminated(
            oom_killed,
            Some(run.wall_start.rfc3339()),
            Timestamp::now().rfc3339(),
            self.status.container_id.clone(),
        );
        self.status.state = status::terminated(t);
        self.post_start = false;
        self.probes = None;
        self.stop = None;
        let code = exit.exit_code();
        // A completed init container reads `ready: true`, as kubelet sets it.
        self.status.ready = self.kind == Kind::Init && code == 0;
        self.status.started = Some(false);
        let restart = !stopping
            && match self.kind {
                // An init container is retried on failure unless the pod
                // never restarts; it is done after its first success.
                Kind::Init => code != 0 && pod_policy != RestartPolicy::Never,
                Kind::Sidecar => true,
                Kind::App => status::restarts(pod_policy, code),
            };
        if !restart {
            return AfterExit::Stay;
        }
        let delay = self.backoff.next_delay(backoff, ran);
        let at = Instant::now() + delay;
        self.restart_at = Some(at);
        AfterExit::Restart(at)
    }

    /// Shows the back-off wait: the exit moves to `lastState`, the state is
    /// `CrashLoopBackOff` until the restart.
    pub fn waiting_to_restart(&mut self, delay: Duration) {
        let last = std::mem::take(&mut self.status.state);
        self.status.last_state = Some(last);
        self.status.state = status::waiting(
            "CrashLoopBackOff",
            Some(format!(
                "back-off {}s restarting failed container={}",
                delay.as_secs(),
                self.spec.name
            )),
        );
    }
}

/// The pod's status from its slots: init containers (sidecars listed with
/// them but, running for the pod's life, counted neither for `Initialized`
/// nor the phase), app containers, phase, conditions, addresses.
pub(crate) fn pod_status(
    slots: &[Slot],
    policy: RestartPolicy,
    ips: &[std::net::IpAddr],
    start_time: &str,
    qos_class: Option<QOSClass>,
) -> PodStatus {
    let (init, app): (Vec<&Slot>, Vec<&Slot>) = slots.iter().partition(|s| s.kind != Kind::App);
    let plain_init: Vec<_> = init
        .iter()
        .filter(|s| s.kind == Kind::Init)
        .map(|s| s.status.clone())
        .collect();
    let init: Vec<_> = init.iter().map(|s| s.status.clone()).collect();
    let restarting: Vec<bool> = app.iter().map(|s| s.restart_at.is_some()).collect();
    let app: Vec<_> = app.iter().map(|s| s.status.clone()).collect();
    PodStatus {
        phase: Some(status::compute_phase(
            policy,
            &plain_init,
            &app,
            &restarting,
        )),
        conditions: status::conditions(&plain_init, &app, start_time),
        pod_ip: ips.first().map(ToString::to_string),
        pod_ips: ips.iter().map(|ip| PodIP { ip: ip.to_string() }).collect(),
        start_time: Some(start_time.to_owned()),
        init_container_statuses: init,
        container_statuses: app,
        qos_class,
        ..PodStatus::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(kind: Kind) -> Slot {
        let spec = Container {
            name: "c".into(),
            ..Container::default()
        };
        let image = ResolvedImage {
            id: "sha256:x".into(),
            lower: Vec::new(),
            defaults: crate::container_process::ImageDefaults::default(),
            stop_signal: None,
        };
        Slot::new(spec, kind, image, "ContainerCreating")
    }

    #[test]
    fn not_running_slot_ignores_exits() {
        let mut s = slot(Kind::App);
        let after = s.exited(
            ExitKind::Code(1),
            false,
            RestartPolicy::Always,
            &BackoffPolicy::default(),
            false,
        );
        assert_eq!(after, AfterExit::Stay);
        assert!(!s.succeeded());
    }

    #[test]
    fn back_off_wait_moves_the_exit_to_last_state() {
        let mut s = slot(Kind::App);
        s.status.state =
            status::terminated(ExitKind::Code(1).terminated(false, None, "t".into(), None));
        s.waiting_to_restart(Duration::from_secs(10));
        let last = s.status.last_state.as_ref().expect("last state");
        assert_eq!(last.terminated.as_ref().map(|t| t.exit_code), Some(1));
        let w = s.status.state.waiting.as_ref().expect("waiting");
        assert_eq!(w.reason.as_deref(), Some("CrashLoopBackOff"));
    }
}
