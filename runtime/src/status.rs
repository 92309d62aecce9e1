//! Pod and container status in the shape of the Kubernetes v1 API
//! (`PodStatus`, `ContainerStatus`, `ContainerState`), and the pod phase
//! computed from container states as the kubelet's `getPhase` does.

use serde::{Deserialize, Serialize};

/// `status.phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Phase {
    /// Accepted; sandbox, images or init containers not done yet.
    #[default]
    Pending,
    /// Bound and at least one app container running or restarting.
    Running,
    /// Every app container exited 0 and none will restart.
    Succeeded,
    /// Every app container exited, one at least non-zero, none will restart.
    Failed,
    /// The supervisor is gone: the state can't be known.
    Unknown,
}

impl Phase {
    /// The phase as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Running => "Running",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Unknown => "Unknown",
        }
    }
}

/// `spec.restartPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum RestartPolicy {
    /// Restart on every exit (the default).
    #[default]
    Always,
    /// Restart on a non-zero exit.
    OnFailure,
    /// Never restart.
    Never,
}

impl RestartPolicy {
    /// Whether a container that exited with `exit_code` starts again.
    pub fn restarts(self, exit_code: i32) -> bool {
        match self {
            Self::Always => true,
            Self::OnFailure => exit_code != 0,
            Self::Never => false,
        }
    }

    /// Parses the API spelling; unknown values give the default.
    pub fn from_api(s: Option<&str>) -> Self {
        match s {
            Some("OnFailure") => Self::OnFailure,
            Some("Never") => Self::Never,
            _ => Self::Always,
        }
    }
}

/// `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodStatus {
    /// The phase.
    pub phase: Phase,
    /// Pod conditions (`PodScheduled`, `Initialized`, `ContainersReady`, `Ready`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<PodCondition>,
    /// A one-word reason for the pod's state (`DeadlineExceeded`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A human message for the pod's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The host's address.
    #[serde(rename = "hostIP", default, skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    /// The pod's address (`127.0.0.1` with only loopback, the host's with
    /// `hostNetwork`).
    #[serde(rename = "podIP", default, skip_serializing_if = "Option::is_none")]
    pub pod_ip: Option<String>,
    /// All of the pod's addresses.
    #[serde(rename = "podIPs", default, skip_serializing_if = "Vec::is_empty")]
    pub pod_ips: Vec<PodIp>,
    /// When the supervisor accepted the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// Init containers, in spec order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_container_statuses: Vec<ContainerStatus>,
    /// App containers, in spec order.
    #[serde(default)]
    pub container_statuses: Vec<ContainerStatus>,
    /// `Guaranteed`, `Burstable` or `BestEffort`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qos_class: Option<String>,
}

/// One of `status.podIPs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodIp {
    /// The address.
    pub ip: String,
}

/// One of `status.conditions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodCondition {
    /// `PodScheduled`, `Initialized`, `ContainersReady`, `Ready`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `"True"` or `"False"`.
    pub status: String,
    /// When the condition last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    /// Why it is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One of `status.containerStatuses`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    /// The container's name.
    pub name: String,
    /// Its state now.
    pub state: ContainerState,
    /// The state of its previous run, after a restart.
    #[serde(default)]
    pub last_state: ContainerState,
    /// Running (no readiness probes yet: ready once running).
    pub ready: bool,
    /// Restarts so far.
    pub restart_count: u32,
    /// The image as the manifest names it.
    pub image: String,
    /// The image's content address.
    #[serde(rename = "imageID", default)]
    pub image_id: String,
    /// `peapod://<pod uid>/<name>`.
    #[serde(rename = "containerID", default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    /// Whether the process has started (and postStart returned).
    #[serde(default)]
    pub started: bool,
}

/// `ContainerState`: exactly one of the three is set (none for an empty
/// `lastState`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ContainerState {
    /// Not running yet, or waiting to restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<StateWaiting>,
    /// Running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<StateRunning>,
    /// Exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated: Option<StateTerminated>,
}

impl ContainerState {
    /// `waiting` with a reason (`ContainerCreating`, `CrashLoopBackOff`...).
    pub fn waiting(reason: &str, message: Option<String>) -> Self {
        Self {
            waiting: Some(StateWaiting {
                reason: reason.to_owned(),
                message,
            }),
            ..Self::default()
        }
    }

    /// `running` since `started_at`.
    pub fn running(started_at: String) -> Self {
        Self {
            running: Some(StateRunning { started_at }),
            ..Self::default()
        }
    }

    /// `terminated` with these details.
    pub fn terminated(t: StateTerminated) -> Self {
        Self {
            terminated: Some(t),
            ..Self::default()
        }
    }
}

/// `ContainerStateWaiting`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateWaiting {
    /// `ContainerCreating`, `PodInitializing`, `CrashLoopBackOff`...
    pub reason: String,
    /// Details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `ContainerStateRunning`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateRunning {
    /// When the process started.
    pub started_at: String,
}

/// `ContainerStateTerminated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct StateTerminated {
    /// Exit code; 128 + n for a signal.
    pub exit_code: i32,
    /// The signal that ended it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// `Completed`, `Error`, `OOMKilled`.
    pub reason: String,
    /// Details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When it exited.
    pub finished_at: String,
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
}

impl ContainerStatus {
    /// Whether the process runs now.
    pub fn is_running(&self) -> bool {
        self.state.running.is_some()
    }

    /// The exit code of the current state, if terminated.
    pub fn exit_code(&self) -> Option<i32> {
        self.state.terminated.as_ref().map(|t| t.exit_code)
    }
}

/// The pod phase from its containers, as kubelet's `getPhase`.
///
/// `restarting` tells for each app container whether the supervisor will
/// start it again (a back-off is pending); such a container counts as
/// running the pod, not as stopped for good.
pub fn compute_phase(
    policy: RestartPolicy,
    init: &[ContainerStatus],
    app: &[ContainerStatus],
    restarting: &[bool],
) -> Phase {
    for c in init {
        match c.exit_code() {
            Some(0) => {}
            Some(_) if policy == RestartPolicy::Never => return Phase::Failed,
            _ => return Phase::Pending,
        }
    }
    let (mut running, mut waiting, mut succeeded, mut failed) = (0, 0, 0, 0);
    for (i, c) in app.iter().enumerate() {
        if c.is_running() || restarting.get(i).copied().unwrap_or(false) {
            running += 1;
        } else if let Some(code) = c.exit_code() {
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
        Phase::Pending
    } else if running > 0 {
        Phase::Running
    } else if failed > 0 {
        Phase::Failed
    } else if succeeded > 0 {
        Phase::Succeeded
    } else {
        Phase::Pending
    }
}

/// The four pod conditions, from the phase and container states.
pub fn conditions(
    init: &[ContainerStatus],
    app: &[ContainerStatus],
    since: &str,
) -> Vec<PodCondition> {
    let initialized = init.iter().all(|c| c.exit_code() == Some(0));
    let ready = !app.is_empty() && app.iter().all(|c| c.ready);
    let cond = |kind: &str, ok: bool, reason: &str| PodCondition {
        kind: kind.to_owned(),
        status: if ok { "True" } else { "False" }.to_owned(),
        last_transition_time: Some(since.to_owned()),
        reason: (!ok && !reason.is_empty()).then(|| reason.to_owned()),
    };
    vec![
        cond("PodReadyToStartContainers", true, ""),
        cond("Initialized", initialized, "ContainersNotInitialized"),
        cond("Ready", ready, "ContainersNotReady"),
        cond("ContainersReady", ready, "ContainersNotReady"),
        cond("PodScheduled", true, ""),
    ]
}

/// The STATUS column of `kubectl get pods`: the reason of the first
/// waiting or terminated container when there is one, else the phase.
pub fn display_status(status: &PodStatus) -> String {
    if let Some(reason) = &status.reason {
        return reason.clone();
    }
    for c in &status.init_container_statuses {
        if let Some(t) = &c.state.terminated
            && t.exit_code != 0
        {
            return format!("Init:{}", t.reason);
        }
        if c.state.waiting.is_some() || c.is_running() {
            let done = status
                .init_container_statuses
                .iter()
                .filter(|c| c.exit_code() == Some(0))
                .count();
            return format!("Init:{done}/{}", status.init_container_statuses.len());
        }
    }
    let mut shown = status.phase.as_str().to_owned();
    for c in status.container_statuses.iter().rev() {
        if let Some(w) = &c.state.waiting
            && w.reason != "ContainerCreating"
        {
            shown.clone_from(&w.reason);
        } else if let Some(t) = &c.state.terminated {
            shown.clone_from(&t.reason);
        }
    }
    if status.phase == Phase::Running
        && status
            .container_statuses
            .iter()
            .all(ContainerStatus::is_running)
    {
        "Running".clone_into(&mut shown);
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(name: &str) -> ContainerStatus {
        ContainerStatus {
            name: name.into(),
            state: ContainerState::running("t".into()),
            ready: true,
            ..ContainerStatus::default()
        }
    }

    fn exited(name: &str, code: i32) -> ContainerStatus {
        ContainerStatus {
            name: name.into(),
            state: ContainerState::terminated(StateTerminated {
                exit_code: code,
                reason: ExitKind::Code(code).reason(false).into(),
                finished_at: "t".into(),
                ..StateTerminated::default()
            }),
            ..ContainerStatus::default()
        }
    }

    fn waiting(name: &str) -> ContainerStatus {
        ContainerStatus {
            name: name.into(),
            state: ContainerState::waiting("ContainerCreating", None),
            ..ContainerStatus::default()
        }
    }

    #[test]
    fn phase_is_running_while_one_app_container_runs() {
        let app = [running("a"), exited("b", 0)];
        let p = compute_phase(RestartPolicy::Never, &[], &app, &[false, false]);
        assert_eq!(p, Phase::Running);
    }

    #[test]
    fn phase_is_succeeded_when_all_exit_zero_without_restart() {
        let app = [exited("a", 0), exited("b", 0)];
        let p = compute_phase(RestartPolicy::OnFailure, &[], &app, &[false, false]);
        assert_eq!(p, Phase::Succeeded);
    }

    #[test]
    fn phase_is_failed_when_one_exits_non_zero_and_none_restarts() {
        let app = [exited("a", 0), exited("b", 1)];
        let p = compute_phase(RestartPolicy::Never, &[], &app, &[false, false]);
        assert_eq!(p, Phase::Failed);
    }

    #[test]
    fn crash_looping_container_keeps_the_pod_running() {
        let app = [exited("a", 1)];
        let p = compute_phase(RestartPolicy::Always, &[], &app, &[true]);
        assert_eq!(p, Phase::Running);
    }

    #[test]
    fn pending_until_init_containers_succeed() {
        let init = [running("init")];
        let p = compute_phase(RestartPolicy::Always, &init, &[waiting("a")], &[false]);
        assert_eq!(p, Phase::Pending);
        let failed = [exited("init", 2)];
        let p = compute_phase(RestartPolicy::Never, &failed, &[waiting("a")], &[false]);
        assert_eq!(p, Phase::Failed);
    }

    #[test]
    fn signal_exit_code_is_128_plus_signal_and_oom_reason_wins() {
        assert_eq!(ExitKind::Signal(9).exit_code(), 137);
        assert_eq!(ExitKind::Signal(9).reason(true), "OOMKilled");
        assert_eq!(ExitKind::Code(0).reason(false), "Completed");
        assert_eq!(ExitKind::Code(3).reason(false), "Error");
    }

    #[test]
    fn restart_policy_decides_on_exit_code() {
        assert!(RestartPolicy::Always.restarts(0));
        assert!(!RestartPolicy::OnFailure.restarts(0));
        assert!(RestartPolicy::OnFailure.restarts(1));
        assert!(!RestartPolicy::Never.restarts(1));
    }

    #[test]
    fn status_serializes_in_v1_shape() {
        let s = PodStatus {
            phase: Phase::Running,
            pod_ip: Some("127.0.0.1".into()),
            container_statuses: vec![running("a")],
            ..PodStatus::default()
        };
        let v = serde_json::to_value(&s).expect("serializes");
        assert_eq!(v["phase"], "Running");
        assert_eq!(v["podIP"], "127.0.0.1");
        assert_eq!(v["containerStatuses"][0]["state"]["running"]["startedAt"], "t");
        assert_eq!(v["containerStatuses"][0]["restartCount"], 0);
        let back: PodStatus = serde_json::from_value(v).expect("deserializes");
        assert_eq!(back, s);
    }

    #[test]
    fn display_status_shows_oom_reason() {
        let mut c = exited("a", 137);
        if let Some(t) = c.state.terminated.as_mut() {
            t.reason = "OOMKilled".into();
        }
        let s = PodStatus {
            phase: Phase::Failed,
            container_statuses: vec![c],
            ..PodStatus::default()
        };
        assert_eq!(display_status(&s), "OOMKilled");
    }
}
