//! Pod and container status as the kubelet computes it: the phase from
//! container states (`getPhase`), the pod conditions, the exit reason of a
//! container, and the STATUS column of `kubectl get pods`. The types are
//! `peapod-spec`'s v1 status types.

use peapod_spec::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, Pod, PodCondition, PodPhase, RestartPolicy,
};

/// Whether a container that exited with `exit_code` starts again.
pub fn restarts(policy: RestartPolicy, exit_code: i32) -> bool {
    match policy {
        RestartPolicy::Always => true,
        RestartPolicy::OnFailure => exit_code != 0,
        RestartPolicy::Never => false,
    }
}

/// How a process ended, as the supervisor saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// `exit(code)`.
    Code(i32),
    /// Killed by a signal.
    Signal(i32),
}

impl ExitKind {
    /// The Kubernetes exit code: the code, or 128 + signal.
    pub fn exit_code(self) -> i32 {
        match self {
            Self::Code(c) => c,
            Self::Signal(s) => 128 + s,
        }
    }

    /// `terminated.reason`: `OOMKilled` when the cgroup's OOM killer ended
    /// it, else `Completed` for 0, `Error` otherwise.
    pub fn reason(self, oom_killed: bool) -> &'static str {
        if oom_killed {
            "OOMKilled"
        } else if self.exit_code() == 0 {
            "Completed"
        } else {
            "Error"
        }
    }

    /// The `terminated` state of an exit.
    pub fn terminated(
        self,
        oom_killed: bool,
        started_at: Option<String>,
        finished_at: String,
        container_id: Option<String>,
    ) -> ContainerStateTerminated {
        ContainerStateTerminated {
            exit_code: self.exit_code(),
            signal: match self {
                Self::Signal(s) => Some(s),
                Self::Code(_) => None,
            },
            reason: Some(self.reason(oom_killed).to_owned()),
            message: None,
            started_at,
            finished_at: Some(finished_at),
            container_id,
        }
    }
}

/// `waiting` with a reason (`ContainerCreating`, `CrashLoopBackOff`...).
pub fn waiting(reason: &str, message: Option<String>) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.to_owned()),
            message,
        }),
        ..ContainerState::default()
    }
}

/// `running` since `started_at`.
pub fn running(started_at: String) -> ContainerState {
    ContainerState {
        running: Some(ContainerStateRunning {
            started_at: Some(started_at),
        }),
        ..ContainerState::default()
    }
}

/// `terminated` as given.
pub fn terminated(t: ContainerStateTerminated) -> ContainerState {
    ContainerState {
        terminated: Some(t),
        ..ContainerState::default()
    }
}

fn exit_code(c: &ContainerStatus) -> Option<i32> {
    c.state.terminated.as_ref().map(|t| t.exit_code)
}

fn is_running(c: &ContainerStatus) -> bool {
    c.state.running.is_some()
}

/// The pod phase from its containers, as kubelet's `getPhase`.
///
/// `restarting[i]` tells whether the supervisor will start app container
/// `i` again (a back-off is pending); such a container keeps the pod
/// running rather than counting as stopped for good.
pub fn compute_phase(
    policy: RestartPolicy,
    init: &[ContainerStatus],
    app: &[ContainerStatus],
    restarting: &[bool],
) -> PodPhase {
    for c in init {
        match exit_code(c) {
            Some(0) => {}
            Some(_) if policy == RestartPolicy::Never => return PodPhase::Failed,
            _ => return PodPhase::Pending,
        }
    }
    let (mut running, mut waiting, mut succeeded, mut failed) = (0, 0, 0, 0);
    for (i, c) in app.iter().enumerate() {
        if is_running(c) || restarting.get(i).copied().unwrap_or(false) {
            running += 1;
        } else if let Some(code) = exit_code(c) {
            if code == 0 {
                succeeded += 1;
            } else {
                failed += 1;
            }
        } else {
            waiting += 1;
        }
    }
    if waiting > 0 {
        PodPhase::Pending
    } else if running > 0 {
        PodPhase::Running
    } else if failed > 0 {
        PodPhase::Failed
    } else if succeeded > 0 {
        PodPhase::Succeeded
    } else {
        PodPhase::Pending
    }
}

/// The pod conditions from container states, stamped `since`.
pub fn conditions(
    init: &[ContainerStatus],
    app: &[ContainerStatus],
    since: &str,
) -> Vec<PodCondition> {
    let initialized = init.iter().all(|c| exit_code(c) == Some(0));
    let ready = !app.is_empty() && app.iter().all(|c| c.ready);
    let cond = |kind: &str, ok: bool, reason: &str| PodCondition {
        type_: kind.to_owned(),
        status: if ok { "True" } else { "False" }.to_owned(),
        last_transition_time: Some(since.to_owned()),
        reason: (!ok && !reason.is_empty()).then(|| reason.to_owned()),
        ..PodCondition::default()
    };
    vec![
        cond("PodReadyToStartContainers", true, ""),
        cond("Initialized", initialized, "ContainersNotInitialized"),
        cond("Ready", ready, "ContainersNotReady"),
        cond("ContainersReady", ready, "ContainersNotReady"),
        cond("PodScheduled", true, ""),
    ]
}

/// The phase as the API spells it.
pub fn phase_name(phase: Option<PodPhase>) -> &'static str {
    match phase {
        Some(PodPhase::Pending) | None => "Pending",
        Some(PodPhase::Running) => "Running",
        Some(PodPhase::Succeeded) => "Succeeded",
        Some(PodPhase::Failed) => "Failed",
        Some(PodPhase::Unknown) => "Unknown",
    }
}

/// One row of `kubectl get pods`: READY, STATUS and RESTARTS as kubectl's
/// `printPod` (`pkg/printers/internalversion/printers.go`) computes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRow {
    /// Ready app containers and started sidecars.
    pub ready: usize,
    /// App containers and sidecars.
    pub total: usize,
    /// The STATUS column.
    pub status: String,
    /// Restarts counted in RESTARTS.
    pub restarts: i32,
    /// The latest `lastState.terminated.finishedAt` of those containers
    /// (RESTARTS shows `2 (5s ago)`).
    pub last_restart: Option<String>,
}

/// The row of `pod`; `terminating`: a stop is in progress.
pub fn pod_row(pod: &Pod, terminating: bool) -> PodRow {
    let status = pod.status.clone().unwrap_or_default();
    let is_sidecar = |name: &str| {
        pod.spec
            .init_containers
            .iter()
            .any(|c| c.name == name && c.is_sidecar())
    };
    let mut row = PodRow {
        ready: 0,
        total: pod.spec.containers.len()
            + pod
                .spec
                .init_containers
                .iter()
                .filter(|c| c.is_sidecar())
                .count(),
        status: status
            .reason
            .clone()
            .unwrap_or_else(|| phase_name(status.phase).to_owned()),
        restarts: 0,
        last_restart: None,
    };
    let (mut sidecar_restarts, mut sidecar_last) = (0, None);
    let mut initializing = false;
    let inits = &status.init_container_statuses;
    for (i, c) in inits.iter().enumerate() {
        row.restarts += c.restart_count;
        later(&mut row.last_restart, c);
        let sidecar = is_sidecar(&c.name);
        if sidecar {
            sidecar_restarts += c.restart_count;
            later(&mut sidecar_last, c);
        }
        let waiting = c
            .state
            .waiting
            .as_ref()
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty() && *r != "PodInitializing");
        if c.state
            .terminated
            .as_ref()
            .is_some_and(|t| t.exit_code == 0)
        {
            continue;
        }
        if sidecar && c.started == Some(true) {
            row.ready += usize::from(c.ready);
            continue;
        }
        row.status = if let Some(t) = &c.state.terminated {
            match t.reason.as_deref().filter(|r| !r.is_empty()) {
                Some(r) => format!("Init:{r}"),
                None => match t.signal.filter(|s| *s != 0) {
                    Some(sig) => format!("Init:Signal:{sig}"),
                    None => format!("Init:ExitCode:{}", t.exit_code),
                },
            }
        } else if let Some(r) = waiting {
            format!("Init:{r}")
        } else {
            format!("Init:{i}/{}", pod.spec.init_containers.len())
        };
        initializing = true;
        break;
    }
    let initialized = status
        .conditions
        .iter()
        .any(|c| c.type_ == "Initialized" && c.status == "True");
    if !initializing || initialized {
        row.restarts = sidecar_restarts;
        row.last_restart = sidecar_last;
        let mut has_running = false;
        for c in status.container_statuses.iter().rev() {
            row.restarts += c.restart_count;
            later(&mut row.last_restart, c);
            let waiting = c.state.waiting.as_ref().and_then(|w| w.reason.as_deref());
            if let Some(r) = waiting.filter(|r| !r.is_empty()) {
                r.clone_into(&mut row.status);
            } else if let Some(t) = &c.state.terminated {
                row.status = match (t.reason.as_deref().filter(|r| !r.is_empty()), t.signal) {
                    (Some(r), _) => r.to_owned(),
                    (None, Some(sig)) if sig != 0 => format!("Signal:{sig}"),
                    (None, _) => format!("ExitCode:{}", t.exit_code),
                };
            } else if c.ready && c.state.running.is_some() {
                has_running = true;
                row.ready += 1;
            }
        }
        if row.status == "Completed" && has_running {
            let ready = status
                .conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            if ready { "Running" } else { "NotReady" }.clone_into(&mut row.status);
        }
    }
    let terminal = matches!(status.phase, Some(PodPhase::Succeeded | PodPhase::Failed));
    if terminating && !terminal {
        "Terminating".clone_into(&mut row.status);
    }
    row
}

/// Keeps in `latest` the later of it and `c`'s last exit.
fn later(latest: &mut Option<String>, c: &ContainerStatus) {
    let finished = c
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .and_then(|t| t.finished_at.clone());
    if let Some(f) = finished
        && latest.as_ref().is_none_or(|l| *l < f)
    {
        *latest = Some(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_spec::PodStatus;

    fn with_state(name: &str, state: ContainerState) -> ContainerStatus {
        ContainerStatus {
            name: name.into(),
            ready: state.running.is_some(),
            state,
            ..ContainerStatus::default()
        }
    }

    fn up(name: &str) -> ContainerStatus {
        with_state(name, running("t".into()))
    }

    fn running_init(name: &str) -> ContainerStatus {
        ContainerStatus {
            ready: false,
            ..up(name)
        }
    }

    fn exited(name: &str, code: i32) -> ContainerStatus {
        let t = ExitKind::Code(code).terminated(false, None, "t".into(), None);
        with_state(name, terminated(t))
    }

    fn waiting_init(name: &str) -> ContainerStatus {
        with_state(name, waiting("PodInitializing", None))
    }

    fn creating(name: &str) -> ContainerStatus {
        with_state(name, waiting("ContainerCreating", None))
    }

    #[test]
    fn phase_is_running_while_one_app_container_runs() {
        let app = [up("a"), exited("b", 0)];
        let p = compute_phase(RestartPolicy::Never, &[], &app, &[false, false]);
        assert_eq!(p, PodPhase::Running);
    }

    #[test]
    fn phase_is_succeeded_when_all_exit_zero_without_restart() {
        let app = [exited("a", 0), exited("b", 0)];
        let p = compute_phase(RestartPolicy::OnFailure, &[], &app, &[false, false]);
        assert_eq!(p, PodPhase::Succeeded);
    }

    #[test]
    fn phase_is_failed_when_one_exits_non_zero_and_none_restarts() {
        let app = [exited("a", 0), exited("b", 1)];
        let p = compute_phase(RestartPolicy::Never, &[], &app, &[false, false]);
        assert_eq!(p, PodPhase::Failed);
    }

    #[test]
    fn crash_looping_container_keeps_the_pod_running() {
        let p = compute_phase(RestartPolicy::Always, &[], &[exited("a", 1)], &[true]);
        assert_eq!(p, PodPhase::Running);
    }

    #[test]
    fn pending_until_init_containers_succeed() {
        let p = compute_phase(
            RestartPolicy::Always,
            &[up("i")],
            &[creating("a")],
            &[false],
        );
        assert_eq!(p, PodPhase::Pending);
        let failed = [exited("i", 2)];
        let p = compute_phase(RestartPolicy::Never, &failed, &[creating("a")], &[false]);
        assert_eq!(p, PodPhase::Failed);
    }

    #[test]
    fn signal_exit_code_is_128_plus_signal_and_oom_reason_wins() {
        let t = ExitKind::Signal(9).terminated(true, None, "t".into(), None);
        assert_eq!(t.exit_code, 137);
        assert_eq!(t.signal, Some(9));
        assert_eq!(t.reason.as_deref(), Some("OOMKilled"));
        assert_eq!(ExitKind::Code(0).reason(false), "Completed");
        assert_eq!(ExitKind::Code(3).reason(false), "Error");
    }

    #[test]
    fn restart_policy_decides_on_exit_code() {
        assert!(restarts(RestartPolicy::Always, 0));
        assert!(!restarts(RestartPolicy::OnFailure, 0));
        assert!(restarts(RestartPolicy::OnFailure, 1));
        assert!(!restarts(RestartPolicy::Never, 1));
    }

    #[test]
    fn conditions_are_ready_only_when_every_container_is() {
        let conds = conditions(&[], &[up("a"), creating("b")], "t");
        let ready = conds.iter().find(|c| c.type_ == "Ready").expect("Ready");
        assert_eq!(ready.status, "False");
        let conds = conditions(&[exited("i", 0)], &[up("a")], "t");
        assert!(conds.iter().all(|c| c.status == "True"), "{conds:?}");
    }

    fn pod_with(init: Vec<ContainerStatus>, app: Vec<ContainerStatus>) -> Pod {
        let mut pod = Pod::default();
        let spec = |s: &ContainerStatus| peapod_spec::Container {
            name: s.name.clone(),
            ..peapod_spec::Container::default()
        };
        pod.spec.init_containers = init.iter().map(spec).collect();
        pod.spec.containers = app.iter().map(spec).collect();
        pod.status = Some(PodStatus {
            phase: Some(compute_phase(
                RestartPolicy::Always,
                &init,
                &app,
                &vec![false; app.len()],
            )),
            conditions: conditions(&init, &app, "t"),
            init_container_statuses: init,
            container_statuses: app,
            ..PodStatus::default()
        });
        pod
    }

    fn status_of(pod: &Pod) -> String {
        pod_row(pod, false).status
    }

    #[test]
    fn status_column_follows_kubectl_print_pod() {
        let mut oom = exited("a", 137);
        if let Some(t) = oom.state.terminated.as_mut() {
            t.reason = Some("OOMKilled".into());
        }
        assert_eq!(status_of(&pod_with(vec![], vec![oom])), "OOMKilled");
        let pending = pod_with(
            vec![waiting_init("i1"), waiting_init("i2")],
            vec![creating("a")],
        );
        assert_eq!(status_of(&pending), "Init:0/2");
        let second = pod_with(
            vec![exited("i1", 0), running_init("i2")],
            vec![creating("a")],
        );
        assert_eq!(status_of(&second), "Init:1/2");
        let failed = pod_with(vec![exited("i1", 1)], vec![creating("a")]);
        assert_eq!(status_of(&failed), "Init:Error");
        let mut looping = exited("i1", 1);
        looping.last_state = Some(looping.state.clone());
        looping.state = waiting("CrashLoopBackOff", None);
        let looping = pod_with(vec![looping], vec![creating("a")]);
        assert_eq!(status_of(&looping), "Init:CrashLoopBackOff");
        let done = pod_with(
            vec![exited("i1", 0)],
            vec![with_state("a", waiting("PodInitializing", None))],
        );
        assert_eq!(status_of(&done), "PodInitializing");
        let completed = pod_with(vec![], vec![up("a"), exited("b", 0)]);
        assert_eq!(status_of(&completed), "NotReady");
        let running = pod_with(vec![], vec![up("a")]);
        let row = pod_row(&running, false);
        assert_eq!(
            (row.ready, row.total, row.status.as_str()),
            (1, 1, "Running")
        );
        assert_eq!(pod_row(&running, true).status, "Terminating");
    }

    #[test]
    fn running_sidecar_counts_as_ready_and_does_not_hold_init() {
        let mut pod = pod_with(vec![up("proxy")], vec![up("app")]);
        pod.spec.init_containers[0].restart_policy =
            Some(peapod_spec::ContainerRestartPolicy::Always);
        if let Some(s) = pod.status.as_mut() {
            s.init_container_statuses[0].started = Some(true);
            s.init_container_statuses[0].restart_count = 2;
            s.container_statuses[0].restart_count = 1;
            // The supervisor leaves sidecars out of the phase.
            s.phase = Some(PodPhase::Running);
        }
        let row = pod_row(&pod, false);
        assert_eq!((row.ready, row.total, row.restarts), (2, 2, 3));
        assert_eq!(row.status, "Running");
    }
}
