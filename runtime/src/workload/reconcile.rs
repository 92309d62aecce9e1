//! What a workload's keeper does about its pods, as pure code: from the
//! pods it owns (and, for a Job, how long it has run) to the pods to
//! create and delete and the condition that ends a Job. No file, no
//! syscall: unit-tested below.

use std::time::Duration;

use peapod_spec::{PodPhase, Workload, WorkloadKind};

/// One pod of the workload, as the keeper reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PodView {
    /// Its name.
    pub name: String,
    /// Its phase (`Unknown`: its supervisor is gone).
    pub phase: PodPhase,
    /// Its revision label (`pod-template-hash`, `controller-revision-hash`).
    pub revision: Option<String>,
    /// Whether it is ready.
    pub ready: bool,
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Make a pod (a StatefulSet's with its ordinal).
    Create { ordinal: Option<u32> },
    /// Delete the pod of that name.
    Delete(String),
    /// The Job ends with this condition (`Complete`, or `Failed` with a
    /// reason and message).
    Finish {
        condition: &'static str,
        reason: &'static str,
        message: &'static str,
    },
}

/// The actions that bring `pods` to what `workload` (its template at
/// `revision`) asks for. `elapsed`: how long a Job has been active.
pub(crate) fn reconcile(
    workload: &Workload,
    revision: &str,
    pods: &[PodView],
    elapsed: Duration,
) -> Vec<Action> {
    match workload.workload_kind() {
        WorkloadKind::Job => job(workload, pods, elapsed),
        WorkloadKind::StatefulSet => stateful_set(workload, revision, pods),
        _ => replicas(workload, revision, pods),
    }
}

/// A pod that no longer counts: it ended, or nothing watches it.
fn finished(pod: &PodView) -> bool {
    matches!(
        pod.phase,
        PodPhase::Succeeded | PodPhase::Failed | PodPhase::Unknown
    )
}

fn current(pod: &PodView, revision: &str) -> bool {
    !finished(pod) && pod.revision.as_deref() == Some(revision)
}

/// Deployment, ReplicaSet, DaemonSet: `replicas` current pods; the others
/// are deleted; the excess goes not-ready first, then by name.
fn replicas(workload: &Workload, revision: &str, pods: &[PodView]) -> Vec<Action> {
    let wanted = workload.replicas() as usize;
    let mut actions: Vec<Action> = pods
        .iter()
        .filter(|p| !current(p, revision))
        .map(|p| Action::Delete(p.name.clone()))
        .collect();
    let mut good: Vec<&PodView> = pods.iter().filter(|p| current(p, revision)).collect();
    if good.len() < wanted {
        actions.extend((good.len()..wanted).map(|_| Action::Create { ordinal: None }));
    } else {
        good.sort_by(|a, b| a.ready.cmp(&b.ready).then_with(|| b.name.cmp(&a.name)));
        let excess = good.len() - wanted;
        actions.extend(
            good[..excess]
                .iter()
                .map(|p| Action::Delete(p.name.clone())),
        );
    }
    actions
}

/// StatefulSet: `<name>-0` … `<name>-<N-1>`; a missing one is made, a
/// finished or outdated one, or one past N, deleted (and made again once
/// it is gone).
fn stateful_set(workload: &Workload, revision: &str, pods: &[PodView]) -> Vec<Action> {
    let wanted = workload.replicas();
    let prefix = format!("{}-", workload.name());
    let ordinal = |pod: &PodView| -> Option<u32> { pod.name.strip_prefix(&prefix)?.parse().ok() };
    let mut actions: Vec<Action> = pods
        .iter()
        .filter(|p| !current(p, revision) || ordinal(p).is_none_or(|i| i >= wanted))
        .map(|p| Action::Delete(p.name.clone()))
        .collect();
    for i in 0..wanted {
        if !pods.iter().any(|p| ordinal(p) == Some(i)) {
            actions.push(Action::Create { ordinal: Some(i) });
        }
    }
    actions
}

/// Job: `completions` succeeded pods, at most `parallelism` at once;
/// Failed past `backoffLimit` failed pods or `activeDeadlineSeconds`.
fn job(workload: &Workload, pods: &[PodView], elapsed: Duration) -> Vec<Action> {
    let count = |phase: PodPhase| pods.iter().filter(|p| p.phase == phase).count();
    let succeeded = count(PodPhase::Succeeded);
    let failed = count(PodPhase::Failed);
    let active: Vec<&PodView> = pods
        .iter()
        .filter(|p| !matches!(p.phase, PodPhase::Succeeded | PodPhase::Failed))
        .collect();
    let completions = workload.completions() as usize;
    let deadline = workload
        .spec
        .active_deadline_seconds
        .and_then(|s| u64::try_from(s).ok())
        .map(Duration::from_secs);
    let end = if succeeded >= completions {
        Some(("Complete", "", ""))
    } else if failed > workload.backoff_limit() as usize {
        Some((
            "Failed",
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
        ))
    } else if deadline.is_some_and(|d| elapsed >= d) {
        Some((
            "Failed",
            "DeadlineExceeded",
            "Job was active longer than specified deadline",
        ))
    } else {
        None
    };
    if let Some((condition, reason, message)) = end {
        let mut actions: Vec<Action> = active
            .iter()
            .map(|p| Action::Delete(p.name.clone()))
            .collect();
        actions.push(Action::Finish {
            condition,
            reason,
            message,
        });
        return actions;
    }
    // An Unknown pod (its supervisor gone) failed as far as the Job goes.
    let mut actions: Vec<Action> = active
        .iter()
        .filter(|p| p.phase == PodPhase::Unknown)
        .map(|p| Action::Delete(p.name.clone()))
        .collect();
    let running = active.len() - actions.len();
    let wanted = (workload.replicas() as usize).min(completions - succeeded);
    actions.extend((running..wanted).map(|_| Action::Create { ordinal: None }));
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(kind: &str, replicas: i32) -> Workload {
        let mut w = Workload {
            kind: kind.into(),
            ..Workload::default()
        };
        w.metadata.name = Some("web".into());
        w.spec.replicas = Some(replicas);
        w
    }

    fn pod(name: &str, phase: PodPhase, revision: &str) -> PodView {
        PodView {
            name: name.into(),
            phase,
            revision: Some(revision.into()),
            ready: true,
        }
    }

    fn creates(actions: &[Action]) -> usize {
        actions
            .iter()
            .filter(|a| matches!(a, Action::Create { .. }))
            .count()
    }

    #[test]
    fn a_deployment_makes_the_missing_pods_and_replaces_failed_and_outdated_ones() {
        let w = workload("Deployment", 3);
        let pods = [
            pod("a", PodPhase::Running, "r1"),
            pod("b", PodPhase::Failed, "r1"),
            pod("c", PodPhase::Running, "r0"),
        ];
        let actions = reconcile(&w, "r1", &pods, Duration::ZERO);
        assert!(actions.contains(&Action::Delete("b".into())));
        assert!(actions.contains(&Action::Delete("c".into())));
        assert_eq!(creates(&actions), 2);
    }

    #[test]
    fn scaling_down_deletes_not_ready_pods_first() {
        let w = workload("ReplicaSet", 1);
        let mut slow = pod("a", PodPhase::Running, "r");
        slow.ready = false;
        let pods = [slow, pod("b", PodPhase::Running, "r")];
        let actions = reconcile(&w, "r", &pods, Duration::ZERO);
        assert_eq!(actions, [Action::Delete("a".into())]);
    }

    #[test]
    fn a_statefulset_fills_its_ordinals_and_drops_those_past_replicas() {
        let w = workload("StatefulSet", 2);
        let pods = [
            pod("web-1", PodPhase::Running, "r"),
            pod("web-2", PodPhase::Running, "r"),
        ];
        let actions = reconcile(&w, "r", &pods, Duration::ZERO);
        assert_eq!(
            actions,
            [
                Action::Delete("web-2".into()),
                Action::Create { ordinal: Some(0) }
            ]
        );
    }

    fn job(completions: i32, parallelism: i32, backoff: i32) -> Workload {
        let mut w = workload("Job", 0);
        w.spec.completions = Some(completions);
        w.spec.parallelism = Some(parallelism);
        w.spec.backoff_limit = Some(backoff);
        w
    }

    #[test]
    fn a_job_runs_parallelism_pods_until_completions_succeeded() {
        let w = job(3, 2, 6);
        assert_eq!(creates(&reconcile(&w, "", &[], Duration::ZERO)), 2);
        let pods = [
            pod("a", PodPhase::Succeeded, ""),
            pod("b", PodPhase::Succeeded, ""),
            pod("c", PodPhase::Running, ""),
        ];
        assert!(reconcile(&w, "", &pods, Duration::ZERO).is_empty());
        let pods = [
            pod("a", PodPhase::Succeeded, ""),
            pod("b", PodPhase::Succeeded, ""),
            pod("c", PodPhase::Succeeded, ""),
        ];
        assert!(matches!(
            reconcile(&w, "", &pods, Duration::ZERO)[..],
            [Action::Finish {
                condition: "Complete",
                ..
            }]
        ));
    }

    #[test]
    fn a_job_fails_once_failed_pods_pass_the_backoff_limit() {
        let w = job(1, 1, 2);
        let two = [
            pod("a", PodPhase::Failed, ""),
            pod("b", PodPhase::Failed, ""),
        ];
        assert_eq!(creates(&reconcile(&w, "", &two, Duration::ZERO)), 1);
        let three = [
            pod("a", PodPhase::Failed, ""),
            pod("b", PodPhase::Failed, ""),
            pod("c", PodPhase::Failed, ""),
        ];
        assert!(matches!(
            reconcile(&w, "", &three, Duration::ZERO)[..],
            [Action::Finish {
                condition: "Failed",
                reason: "BackoffLimitExceeded",
                ..
            }]
        ));
    }

    #[test]
    fn a_job_past_its_deadline_stops_its_pods_and_fails() {
        let mut w = job(1, 1, 6);
        w.spec.active_deadline_seconds = Some(5);
        let pods = [pod("a", PodPhase::Running, "")];
        let actions = reconcile(&w, "", &pods, Duration::from_secs(5));
        assert_eq!(actions[0], Action::Delete("a".into()));
        assert!(matches!(
            actions[1],
            Action::Finish {
                reason: "DeadlineExceeded",
                ..
            }
        ));
    }
}
