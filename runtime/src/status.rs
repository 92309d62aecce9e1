//! Pod and container status as the kubelet computes it: the phase from
//! container states (`getPhase`), the pod conditions, the exit reason of a
//! container, and the STATUS column of `kubectl get pods`. The types are
//! `peapod-spec`'s v1 status types.

use peapod_spec::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, PodCondition, PodPhase, PodStatus, RestartPolicy,
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

/// The STATUS column of `kubectl get pods`: the pod's reason, else
/// `Init:N/M` while init containers run, else the reason of the last
/// waiting or terminated app container, else the phase.
pub fn display_status(status: &PodStatus) -> String {
    if let Some(reason) = &status.reason {
        return reason.clone();
    }
    let inits = &status.init_container_statuses;
    // A running sidecar (a restartable init container, ready once it
    // runs) does not hold the pod in `Init:`.
    for c in inits
        .iter()
        .filter(|c| !(c.ready && c.state.running.is_some()))
    {
        if let Some(t) = &c.state.terminated
            && t.exit_code != 0
        {
            return format!("Init:{}", t.reason.as_deref().unwrap_or("Error"));
        }
        if c.state.terminated.is_none() {
            let done = inits.iter().filter(|c| exit_code(c) == Some(0)).count();
            return format!("Init:{done}/{}", inits.len());
        }
    }
    let mut shown = phase_name(status.phase).to_owned();
    for c in status.container_statuses.iter().rev() {
        let reason = if let Some(w) = &c.state.waiting {
            w.reason.as_deref().filter(|r| *r != "ContainerCreating")
        } else if let Some(t) = &c.state.terminated {
            t.reason.as_deref()
        } else {
            None
        };
        if let Some(r) = reason {
            r.clone_into(&mut shown);
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn display_status_shows_oom_reason_and_init_progress() {
        let mut c = exited("a", 137);
        if let Some(t) = c.state.terminated.as_mut() {
            t.reason = Some("OOMKilled".into());
        }
        let s = PodStatus {
            phase: Some(PodPhase::Failed),
            container_statuses: vec![c],
            ..PodStatus::default()
        };
        assert_eq!(display_status(&s), "OOMKilled");
        let s = PodStatus {
            phase: Some(PodPhase::Pending),
            init_container_statuses: vec![exited("i1", 0), running_init("i2")],
            ..PodStatus::default()
        };
        assert_eq!(display_status(&s), "Init:1/2");
        // A running sidecar (ready) does not hold the pod in Init.
        let s = PodStatus {
            phase: Some(PodPhase::Running),
            init_container_statuses: vec![up("proxy")],
            container_statuses: vec![up("app")],
            ..PodStatus::default()
        };
        assert_eq!(display_status(&s), "Running");
    }
}
