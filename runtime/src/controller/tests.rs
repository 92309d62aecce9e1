//! The controller's rules, one test each, driven with a fake clock.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use peapod_hooks::{Outcome, ProbeKind};
use peapod_spec::{PodPhase, ValidationMode, parse_manifest};

use super::start::go_duration;
use super::{Action, ContainerInput, Event, PodController, Time};
use crate::backoff::BackoffPolicy;
use crate::clock::Timestamp;
use crate::lifecycle::Hook;
use crate::status::ExitKind;

/// A controller over the pod of `yaml`, and a clock that only moves when
/// told.
struct Pod {
    ctl: PodController,
    origin: Instant,
    elapsed: Duration,
}

const WALL_ORIGIN: u64 = 1_800_000_000;

fn pod(yaml: &str) -> Pod {
    let manifest =
        parse_manifest(yaml, "pod.yaml", ValidationMode::Strict).expect("the manifest parses");
    let pod = manifest.pods.into_iter().next().expect("one pod");
    let inputs = pod
        .spec
        .init_containers
        .iter()
        .map(|c| (c, true))
        .chain(pod.spec.containers.iter().map(|c| (c, false)))
        .map(|(c, init)| ContainerInput {
            spec: c.clone(),
            init,
            image_id: "sha256:x".into(),
            stop_signal: None,
            pulled: None,
        })
        .collect();
    let origin = Instant::now();
    let start = Time {
        now: origin,
        wall: Timestamp::from(UNIX_EPOCH + Duration::from_secs(WALL_ORIGIN)),
    };
    Pod {
        ctl: PodController::new(&pod, inputs, BackoffPolicy::default(), start),
        origin,
        elapsed: Duration::ZERO,
    }
}

/// The pod of `yaml` with every container the start sequence reaches
/// at once started.
fn running(yaml: &str) -> Pod {
    let mut p = pod(yaml);
    let first = p.feed(Event::Tick);
    p.carry_out(first);
    p
}

fn time_at(origin: Instant, elapsed: Duration) -> Time {
    Time {
        now: origin + elapsed,
        wall: Timestamp::from(UNIX_EPOCH + Duration::from_secs(WALL_ORIGIN) + elapsed),
    }
}

impl Pod {
    fn now(&self) -> Time {
        time_at(self.origin, self.elapsed)
    }

    fn feed(&mut self, event: Event) -> Vec<Action> {
        let t = self.now();
        self.ctl.handle(event, t)
    }

    /// The clock moves on by `secs` (fractions allowed) and the timers fire.
    fn wait(&mut self, secs: f64) -> Vec<Action> {
        self.elapsed += Duration::from_secs_f64(secs);
        self.feed(Event::Tick)
    }

    fn exit(&mut self, container: usize, code: i32) -> Vec<Action> {
        self.feed(Event::Exited {
            container,
            exit: ExitKind::Code(code),
            oom_killed: false,
            message: None,
        })
    }

    fn signalled(&mut self, container: usize, signal: i32) -> Vec<Action> {
        self.feed(Event::Exited {
            container,
            exit: ExitKind::Signal(signal),
            oom_killed: false,
            message: None,
        })
    }

    /// Starts every container of each `Launch` in `actions`, as the
    /// supervisor would; returns everything asked for meanwhile.
    fn carry_out(&mut self, actions: Vec<Action>) -> Vec<Action> {
        let mut all = Vec::new();
        for a in actions {
            if let Action::Launch(list) = &a {
                for &i in list {
                    let more = self.feed(Event::Started(i));
                    all.extend(self.carry_out(more));
                }
            }
            all.push(a);
        }
        all
    }

    fn state(&self, i: usize) -> &peapod_spec::ContainerStatus {
        &self.ctl.containers[i].status
    }

    fn waiting_reason(&self, i: usize) -> Option<&str> {
        self.state(i).state.waiting.as_ref()?.reason.as_deref()
    }
}

fn launches(actions: &[Action]) -> Vec<Vec<usize>> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Launch(l) => Some(l.clone()),
            _ => None,
        })
        .collect()
}

fn reasons(actions: &[Action]) -> Vec<&'static str> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Record { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

fn hooks(actions: &[Action]) -> Vec<(usize, Hook, Duration)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::RunHook {
                container,
                hook,
                timeout,
                ..
            } => Some((*container, *hook, *timeout)),
            _ => None,
        })
        .collect()
}

fn probes(actions: &[Action]) -> Vec<(usize, ProbeKind)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::RunProbe {
                container, kind, ..
            } => Some((*container, *kind)),
            _ => None,
        })
        .collect()
}

fn signals(actions: &[Action]) -> Vec<(usize, i32)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Signal { container, signal } => Some((*container, *signal)),
            Action::Kill(i) => Some((*i, 9)),
            _ => None,
        })
        .collect()
}

fn yaml(spec: &str) -> String {
    format!("apiVersion: v1\nkind: Pod\nmetadata: {{ name: p, uid: u }}\nspec:\n{spec}")
}

const TWO_INITS: &str = "  initContainers:
    - { name: a, image: busybox, command: [\"true\"] }
    - { name: b, image: busybox, command: [\"true\"] }
  containers:
    - { name: web, image: busybox, command: [\"sleep\", \"9\"] }
";

#[test]
fn init_containers_run_one_at_a_time_then_the_app_containers() {
    let mut p = pod(&yaml(TWO_INITS));
    let first = p.feed(Event::Tick);
    assert_eq!(launches(&first), [vec![0]]);
    assert!(
        launches(&p.feed(Event::Started(0))).is_empty(),
        "b waits for a"
    );
    assert_eq!(p.ctl.phase(), PodPhase::Pending);
    assert_eq!(launches(&p.exit(0, 0)), [vec![1]]);
    p.feed(Event::Started(1));
    let after_b = p.exit(1, 0);
    assert_eq!(launches(&after_b), [vec![2]]);
    let started = p.feed(Event::Started(2));
    assert!(started.contains(&Action::ReportStarted), "{started:?}");
    assert_eq!(p.ctl.phase(), PodPhase::Running);
}

#[test]
fn a_failed_init_container_is_retried_unless_the_policy_is_never() {
    let mut p = pod(&yaml(&format!("  restartPolicy: Never\n{TWO_INITS}")));
    let a = p.feed(Event::Tick);
    p.carry_out(a);
    let after = p.exit(0, 2);
    assert!(launches(&after).is_empty());
    assert_eq!(p.ctl.phase(), PodPhase::Failed);
    assert!(after.contains(&Action::ReportStarted), "the pod ended");

    let mut p = pod(&yaml(TWO_INITS));
    let a = p.feed(Event::Tick);
    p.carry_out(a);
    assert_eq!(launches(&p.exit(0, 2)), [vec![0]], "retried at once");
    assert_eq!(p.ctl.restart_count(0), 1);
    assert_eq!(p.ctl.phase(), PodPhase::Pending);
}

#[test]
fn app_containers_without_post_start_are_launched_together() {
    let mut p = pod(&yaml(
        "  containers:
    - { name: a, image: busybox }
    - { name: b, image: busybox }
    - name: c
      image: busybox
      lifecycle: { postStart: { exec: { command: [\"true\"] } } }
    - { name: d, image: busybox }
",
    ));
    let first = p.feed(Event::Tick);
    assert_eq!(
        launches(&first),
        [vec![0, 1, 2]],
        "d waits for c's postStart"
    );
    p.feed(Event::Started(0));
    p.feed(Event::Started(1));
    let c = p.feed(Event::Started(2));
    assert_eq!(hooks(&c).len(), 1);
    assert!(launches(&c).is_empty());
    assert_eq!(p.waiting_reason(2), Some("ContainerCreating"));
    let done = p.feed(Event::HookDone {
        container: 2,
        hook: Hook::PostStart,
        outcome: Outcome::success(""),
    });
    assert_eq!(launches(&done), [vec![3]]);
    assert!(p.state(2).state.running.is_some());
}

#[test]
fn post_start_holds_the_next_container_and_has_no_timeout() {
    let mut p = pod(&yaml(
        "  containers:
    - name: a
      image: busybox
      lifecycle: { postStart: { exec: { command: [\"true\"] } } }
    - { name: b, image: busybox }
",
    ));
    let first = p.feed(Event::Tick);
    assert_eq!(launches(&first), [vec![0]]);
    let a = p.feed(Event::Started(0));
    assert_eq!(hooks(&a), [(0, Hook::PostStart, Duration::MAX)]);
    assert!(launches(&p.wait(3600.0)).is_empty(), "still in postStart");
    assert!(!p.state(0).started.unwrap_or(true));
}

#[test]
fn a_failed_post_start_kills_the_container_and_the_policy_restarts_it() {
    let mut p = pod(&yaml(
        "  containers:
    - name: a
      image: busybox
      lifecycle:
        postStart: { exec: { command: [\"false\"] } }
        preStop: { exec: { command: [\"true\"] } }
",
    ));
    let a = p.feed(Event::Tick);
    p.carry_out(a);
    let failed = p.feed(Event::HookDone {
        container: 0,
        hook: Hook::PostStart,
        outcome: Outcome::failure("exit 1"),
    });
    assert_eq!(reasons(&failed), ["FailedPostStartHook"]);
    assert_eq!(signals(&failed), [(0, 9)], "killed, no preStop");
    assert!(hooks(&failed).is_empty());
    assert_eq!(p.waiting_reason(0), Some("PostStartHookError"));
    let exit = p.signalled(0, 9);
    assert_eq!(launches(&exit), [vec![0]], "first restart at once");
}

const SIDECAR: &str = "  initContainers:
    - name: proxy
      image: busybox
      restartPolicy: Always
      startupProbe: { exec: { command: [\"true\"] }, periodSeconds: 1 }
  containers:
    - { name: web, image: busybox }
";

#[test]
fn a_sidecar_holds_the_next_container_until_its_startup_probe_passes() {
    let mut p = pod(&yaml(SIDECAR));
    let first = p.feed(Event::Tick);
    assert_eq!(launches(&first), [vec![0]]);
    let started = p.feed(Event::Started(0));
    assert_eq!(probes(&started), [(0, ProbeKind::Startup)]);
    assert!(launches(&started).is_empty());
    let passed = p.feed(Event::ProbeDone {
        container: 0,
        kind: ProbeKind::Startup,
        outcome: Outcome::success(""),
    });
    assert_eq!(launches(&passed), [vec![1]]);
    assert_eq!(p.state(0).started, Some(true));
}

#[test]
fn a_sidecar_restarts_whatever_the_policy_and_does_not_keep_the_pod_running() {
    let mut p = running(&yaml(&format!("  restartPolicy: Never\n{SIDECAR}")));
    let passed = p.feed(Event::ProbeDone {
        container: 0,
        kind: ProbeKind::Startup,
        outcome: Outcome::success(""),
    });
    p.carry_out(passed);
    assert_eq!(launches(&p.exit(0, 1)), [vec![0]], "the sidecar restarts");
    p.feed(Event::Started(0));
    p.exit(1, 0);
    assert_eq!(p.ctl.phase(), PodPhase::Succeeded);
}

#[test]
fn first_restart_is_immediate_then_ten_seconds_from_finished_at_doubling() {
    let mut p = running(&yaml("  containers:\n    - { name: a, image: busybox }\n"));
    let exit = p.exit(0, 1);
    assert_eq!(launches(&exit), [vec![0]], "no wait the first time");
    assert!(!reasons(&exit).contains(&"BackOff"));
    p.feed(Event::Started(0));
    for wait in [10.0, 20.0, 40.0] {
        p.wait(1.0);
        let exit = p.exit(0, 1);
        assert!(launches(&exit).is_empty());
        assert_eq!(reasons(&exit), ["BackOff"]);
        assert_eq!(p.waiting_reason(0), Some("CrashLoopBackOff"));
        let last = p.state(0).last_state.as_ref().expect("lastState");
        assert_eq!(last.terminated.as_ref().map(|t| t.exit_code), Some(1));
        assert!(
            launches(&p.wait(wait - 0.5)).is_empty(),
            "not before {wait}s"
        );
        assert_eq!(launches(&p.wait(0.5)), [vec![0]], "at {wait}s");
        p.feed(Event::Started(0));
    }
    assert_eq!(p.ctl.restart_count(0), 4);
    assert_eq!(p.ctl.phase(), PodPhase::Running);
}

#[test]
fn back_off_is_capped_at_five_minutes_and_forgotten_after_ten() {
    let mut p = running(&yaml("  containers:\n    - { name: a, image: busybox }\n"));
    assert_eq!(launches(&p.exit(0, 1)), [vec![0]]);
    p.feed(Event::Started(0));
    for _ in 0..7 {
        p.exit(0, 1);
        let at = p.ctl.next_deadline().expect("a restart");
        p.elapsed = at - p.origin;
        assert_eq!(launches(&p.feed(Event::Tick)), [vec![0]]);
        p.feed(Event::Started(0));
    }
    p.exit(0, 1);
    let wait = p.ctl.next_deadline().expect("a restart") - p.now().now;
    assert_eq!(wait, Duration::from_secs(300));
    p.elapsed += wait;
    p.feed(Event::Tick);
    p.feed(Event::Started(0));
    p.wait(601.0);
    assert_eq!(launches(&p.exit(0, 1)), [vec![0]], "reset after 10 minutes");
}

#[test]
fn restart_policy_decides_which_exits_restart() {
    let app = "  containers:\n    - { name: a, image: busybox }\n";
    for (policy, code, restarts, phase) in [
        ("Always", 0, true, PodPhase::Running),
        ("OnFailure", 0, false, PodPhase::Succeeded),
        ("OnFailure", 1, true, PodPhase::Running),
        ("Never", 1, false, PodPhase::Failed),
    ] {
        let mut p = running(&yaml(&format!("  restartPolicy: {policy}\n{app}")));
        let exit = p.exit(0, code);
        assert_eq!(!launches(&exit).is_empty(), restarts, "{policy} {code}");
        assert_eq!(p.ctl.phase(), phase, "{policy} {code}");
    }
}

const PROBED: &str = "  containers:
    - name: a
      image: busybox
      livenessProbe:
        exec: { command: [\"true\"] }
        initialDelaySeconds: 5
        periodSeconds: 2
        failureThreshold: 2
        terminationGracePeriodSeconds: 7
      readinessProbe: { exec: { command: [\"true\"] }, periodSeconds: 3 }
";

#[test]
fn probes_wait_their_initial_delay_and_readiness_sets_ready() {
    let mut p = pod(&yaml(PROBED));
    let first = p.feed(Event::Tick);
    let started = p.carry_out(first);
    assert_eq!(probes(&started), [(0, ProbeKind::Readiness)]);
    assert!(!p.state(0).ready, "not ready before readiness passes");
    p.feed(Event::ProbeDone {
        container: 0,
        kind: ProbeKind::Readiness,
        outcome: Outcome::success(""),
    });
    assert!(p.state(0).ready);
    let status = p.ctl.pod_status(&[], None, None);
    let ready = status.conditions.iter().find(|c| c.type_ == "Ready");
    assert_eq!(ready.map(|c| c.status.as_str()), Some("True"));
    assert!(
        probes(&p.wait(4.9))
            .iter()
            .all(|(_, k)| *k != ProbeKind::Liveness)
    );
    assert!(probes(&p.wait(0.1)).contains(&(0, ProbeKind::Liveness)));
}

#[test]
fn liveness_failing_its_threshold_stops_with_the_probe_grace_and_restarts() {
    let mut p = running(&yaml(PROBED));
    let fail = |p: &mut Pod| {
        p.feed(Event::ProbeDone {
            container: 0,
            kind: ProbeKind::Liveness,
            outcome: Outcome::failure("boom"),
        })
    };
    p.wait(5.0);
    assert_eq!(
        reasons(&fail(&mut p)),
        ["Unhealthy"],
        "one failure is not enough"
    );
    p.wait(2.0);
    let second = fail(&mut p);
    assert_eq!(reasons(&second), ["Unhealthy", "Killing"]);
    assert_eq!(signals(&second), [(0, 15)]);
    assert!(signals(&p.wait(6.9)).is_empty());
    assert_eq!(signals(&p.wait(0.1)), [(0, 9)], "the probe's 7 s grace");
    assert_eq!(launches(&p.signalled(0, 9)), [vec![0]]);
}

#[test]
fn a_delete_runs_pre_stop_then_sigterm_then_sigkill_at_the_end_of_the_grace_period() {
    let mut p = running(&yaml(
        "  terminationGracePeriodSeconds: 10
  containers:
    - name: a
      image: busybox
      lifecycle: { preStop: { exec: { command: [\"sleep\", \"3\"] } } }
",
    ));
    let stop = p.feed(Event::StopRequested(None));
    assert_eq!(reasons(&stop), ["Killing"]);
    assert_eq!(hooks(&stop), [(0, Hook::PreStop, Duration::from_secs(10))]);
    assert!(
        signals(&stop).is_empty(),
        "no SIGTERM before preStop returns"
    );
    p.wait(3.0);
    let term = p.feed(Event::HookDone {
        container: 0,
        hook: Hook::PreStop,
        outcome: Outcome::success(""),
    });
    assert_eq!(signals(&term), [(0, 15)]);
    assert!(signals(&p.wait(6.9)).is_empty());
    assert_eq!(signals(&p.wait(0.1)), [(0, 9)], "10 s after the delete");
    assert!(
        launches(&p.signalled(0, 9)).is_empty(),
        "no restart on a delete"
    );
}

#[test]
fn sigkill_comes_two_seconds_after_sigterm_when_pre_stop_used_the_grace_period() {
    let mut p = running(&yaml(
        "  terminationGracePeriodSeconds: 3
  containers:
    - name: a
      image: busybox
      lifecycle: { preStop: { exec: { command: [\"sleep\", \"9\"] } } }
",
    ));
    p.feed(Event::StopRequested(None));
    p.wait(3.0);
    let term = p.feed(Event::HookDone {
        container: 0,
        hook: Hook::PreStop,
        outcome: Outcome::failure("timed out"),
    });
    assert_eq!(reasons(&term), ["FailedPreStopHook"]);
    assert_eq!(signals(&term), [(0, 15)]);
    assert!(signals(&p.wait(1.9)).is_empty());
    assert_eq!(signals(&p.wait(0.1)), [(0, 9)]);
}

#[test]
fn a_zero_grace_period_kills_at_once_without_pre_stop() {
    let mut p = running(&yaml(
        "  containers:
    - name: a
      image: busybox
      lifecycle: { preStop: { exec: { command: [\"true\"] } } }
",
    ));
    let stop = p.feed(Event::StopRequested(Some(Duration::ZERO)));
    assert!(hooks(&stop).is_empty());
    assert_eq!(signals(&stop), [(0, 9)]);
    let gone = p.signalled(0, 9);
    assert_eq!(gone.last(), Some(&Action::Finish));
}

#[test]
fn the_image_stop_signal_replaces_sigterm() {
    let mut p = running(&yaml("  containers:\n    - { name: a, image: busybox }\n"));
    p.ctl.containers[0].stop_signal = Some(3);
    assert_eq!(signals(&p.feed(Event::StopRequested(None))), [(0, 3)]);
}

#[test]
fn app_containers_stop_together_then_sidecars_one_at_a_time_last_first() {
    let mut p = running(&yaml(
        "  initContainers:
    - { name: s1, image: busybox, restartPolicy: Always }
    - { name: s2, image: busybox, restartPolicy: Always }
  containers:
    - { name: a, image: busybox }
    - { name: b, image: busybox }
",
    ));
    assert!((0..4).all(|i| p.ctl.is_running(i)));
    let stop = p.feed(Event::StopRequested(None));
    let mut apps: Vec<usize> = signals(&stop).iter().map(|s| s.0).collect();
    apps.sort_unstable();
    assert_eq!(apps, [2, 3]);
    assert!(signals(&p.signalled(2, 15)).is_empty());
    assert_eq!(signals(&p.signalled(3, 15)), [(1, 15)], "s2 first");
    assert_eq!(signals(&p.signalled(1, 15)), [(0, 15)]);
    assert_eq!(p.signalled(0, 15).last(), Some(&Action::Finish));
}

#[test]
fn sidecars_stopped_after_the_grace_period_still_get_two_seconds() {
    let mut p = running(&yaml(
        "  terminationGracePeriodSeconds: 5
  initContainers:
    - { name: s, image: busybox, restartPolicy: Always }
  containers:
    - { name: a, image: busybox }
",
    ));
    p.feed(Event::StopRequested(None));
    assert_eq!(signals(&p.wait(5.0)), [(1, 9)]);
    assert_eq!(signals(&p.signalled(1, 9)), [(0, 15)]);
    assert!(signals(&p.wait(1.9)).is_empty());
    assert_eq!(signals(&p.wait(0.1)), [(0, 9)]);
}

#[test]
fn the_active_deadline_counts_from_start_time_and_keeps_the_pod_failed_until_deleted() {
    let mut p = running(&yaml(
        "  activeDeadlineSeconds: 5
  initContainers:
    - { name: i, image: busybox }
  containers:
    - { name: a, image: busybox }
",
    ));
    assert_eq!(
        p.ctl.next_deadline(),
        Some(p.origin + Duration::from_secs(5)),
        "from startTime, whatever starts later"
    );
    p.wait(3.0);
    let init_done = p.exit(0, 0);
    p.carry_out(init_done);
    let deadline = p.wait(2.0);
    assert_eq!(reasons(&deadline), ["DeadlineExceeded", "Killing"]);
    assert_eq!(p.ctl.phase(), PodPhase::Failed);
    let gone = p.signalled(1, 15);
    assert!(!gone.contains(&Action::Finish), "kept until deleted");
    let status = p.ctl.pod_status(&[], None, None);
    assert_eq!(status.reason.as_deref(), Some("DeadlineExceeded"));
    assert_eq!(p.feed(Event::StopRequested(None)), [Action::Finish]);
}

#[test]
fn an_eviction_stops_the_pod_with_one_second_grace_and_keeps_it_failed_until_deleted() {
    let mut p = running(&yaml(
        "  terminationGracePeriodSeconds: 30\n  containers:\n    - { name: a, image: busybox }\n",
    ));
    let message = "Usage of EmptyDir volume \"cache\" exceeds the limit \"64Ki\". ";
    let evicted = p.feed(Event::Evicted(message.into()));
    assert_eq!(reasons(&evicted), ["Evicted", "Killing"]);
    assert_eq!(signals(&evicted), [(0, 15)]);
    assert!(p.ctl.is_stopping());
    assert_eq!(p.ctl.phase(), PodPhase::Failed);
    assert!(
        signals(&p.wait(1.9)).is_empty(),
        "the 2 s minimum after SIGTERM"
    );
    assert_eq!(signals(&p.wait(0.1)), [(0, 9)]);
    assert!(
        !p.signalled(0, 9).contains(&Action::Finish),
        "kept until deleted"
    );
    assert!(p.feed(Event::Evicted("again".into())).is_empty(), "once");
    let status = p.ctl.pod_status(&[], None, None);
    assert_eq!(status.reason.as_deref(), Some("Evicted"));
    assert_eq!(status.message.as_deref(), Some(message));
    assert_eq!(p.feed(Event::StopRequested(None)), [Action::Finish]);
}

#[test]
fn a_start_failure_before_the_report_fails_the_pod() {
    let mut p = pod(&yaml(
        "  containers:\n    - { name: a, image: busybox }\n    - { name: b, image: busybox }\n",
    ));
    let first = p.feed(Event::Tick);
    assert_eq!(launches(&first), [vec![0, 1]]);
    p.feed(Event::Started(0));
    let failed = p.feed(Event::StartFailed {
        container: 1,
        message: "exec: not found".into(),
        error: "container \"b\": exec: not found".into(),
        refused: None,
    });
    assert_eq!(reasons(&failed), ["Pulled", "Failed", "Killing"]);
    assert!(failed.contains(&Action::ReportFailed(
        "container \"b\": exec: not found".into()
    )));
    assert_eq!(signals(&failed), [(0, 9)], "grace 0");
    assert_eq!(p.signalled(0, 9).last(), Some(&Action::Finish));
}

#[test]
fn a_start_failure_after_the_report_waits_and_retries_with_back_off() {
    let mut p = running(&yaml("  containers:\n    - { name: a, image: busybox }\n"));
    p.exit(0, 1);
    let failed = p.feed(Event::StartFailed {
        container: 0,
        message: "no space".into(),
        error: "no space".into(),
        refused: None,
    });
    assert!(!failed.iter().any(|a| matches!(a, Action::ReportFailed(_))));
    assert_eq!(p.waiting_reason(0), Some("CrashLoopBackOff"));
    assert_eq!(launches(&p.wait(10.0)), [vec![0]]);
}

#[test]
fn a_refused_container_waits_with_kubelets_reason_and_the_pod_goes_on() {
    let mut p = pod(&yaml(
        "  containers:\n    - { name: a, image: busybox }\n    - { name: b, image: busybox }\n",
    ));
    assert_eq!(launches(&p.feed(Event::Tick)), [vec![0, 1]]);
    let refused = p.feed(Event::StartFailed {
        container: 0,
        message: "container has runAsNonRoot and image will run as root".into(),
        error: "container \"a\": ...".into(),
        refused: Some("CreateContainerConfigError"),
    });
    assert!(!refused.iter().any(|a| matches!(a, Action::ReportFailed(_))));
    assert_eq!(reasons(&refused), ["Pulled", "Failed"]);
    // b was not made with it: it is launched on its own, and the pod is
    // reported started once it runs.
    assert_eq!(launches(&refused), [vec![1]]);
    p.feed(Event::Started(1));
    assert_eq!(p.waiting_reason(0), Some("CreateContainerConfigError"));
    // Tried again after the back-off, not counted as a restart.
    assert_eq!(launches(&p.wait(10.0)), [vec![0]]);
    p.feed(Event::Started(0));
    let status = p.ctl.pod_status(&[], None, None);
    assert_eq!(status.container_statuses[0].restart_count, 0);
    assert!(status.container_statuses[0].state.running.is_some());
}

#[test]
fn a_refused_init_container_reports_the_pod_and_holds_the_app_containers() {
    let mut p = pod(&yaml(
        "  initContainers:\n    - { name: i, image: busybox }\n  containers:\n    - { name: a, image: busybox }\n",
    ));
    assert_eq!(launches(&p.feed(Event::Tick)), [vec![0]]);
    let refused = p.feed(Event::StartFailed {
        container: 0,
        message: "container has runAsNonRoot and image will run as root".into(),
        error: "container \"i\": ...".into(),
        refused: Some("CreateContainerConfigError"),
    });
    assert!(refused.contains(&Action::ReportStarted), "{refused:?}");
    assert!(launches(&refused).is_empty(), "a waits for i");
    assert_eq!(p.waiting_reason(0), Some("CreateContainerConfigError"));
    assert_eq!(launches(&p.wait(10.0)), [vec![0]]);
}

#[test]
fn a_failure_inside_a_launch_leaves_the_later_containers_for_later() {
    let mut p = running(&yaml(
        "  containers:
    - { name: a, image: busybox }
    - { name: b, image: busybox }
    - { name: c, image: busybox }
",
    ));
    p.exit(1, 1);
    p.exit(2, 1);
    // Both restart at once: b fails to start; c was launched after it.
    p.feed(Event::StartFailed {
        container: 1,
        message: "boom".into(),
        error: "boom".into(),
        refused: None,
    });
    assert!(!p.ctl.containers[2].launching);
}

#[test]
fn stop_while_waiting_for_a_restart_cancels_it() {
    let mut p = running(&yaml("  containers:\n    - { name: a, image: busybox }\n"));
    p.exit(0, 1);
    p.feed(Event::Started(0));
    p.exit(0, 1);
    assert!(p.ctl.next_deadline().is_some());
    assert_eq!(p.feed(Event::StopRequested(None)), [Action::Finish]);
    assert!(launches(&p.wait(60.0)).is_empty());
}

#[test]
fn the_status_shows_start_and_finish_times_and_restart_counts() {
    let mut p = running(&yaml(
        "  restartPolicy: Never\n  containers:\n    - { name: a, image: busybox }\n",
    ));
    p.wait(2.0);
    p.feed(Event::Exited {
        container: 0,
        exit: ExitKind::Code(0),
        oom_killed: false,
        message: Some("bye".into()),
    });
    let status = p
        .ctl
        .pod_status(&["10.77.0.5".parse().expect("ip")], None, None);
    let c = &status.container_statuses[0];
    let t = c.state.terminated.as_ref().expect("terminated");
    let wall = |s: u64| Timestamp::from(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
    assert_eq!(t.started_at, Some(wall(WALL_ORIGIN).rfc3339()));
    assert_eq!(t.finished_at, Some(wall(WALL_ORIGIN + 2).rfc3339()));
    assert_eq!(t.reason.as_deref(), Some("Completed"));
    assert_eq!(t.message.as_deref(), Some("bye"));
    assert_eq!(status.pod_ip.as_deref(), Some("10.77.0.5"));
    assert_eq!(status.phase, Some(PodPhase::Succeeded));
    assert_eq!(status.start_time, Some(wall(WALL_ORIGIN).rfc3339()));
}

#[test]
fn a_pulled_image_is_told_with_kubelets_pulling_and_pulled_once() {
    let mut p = pod(&yaml("  containers:\n    - { name: a, image: busybox }\n"));
    p.ctl.containers[0].pulled = Some(crate::images::PullRecord {
        took: Duration::from_millis(1234),
        including_waiting: Duration::from_millis(1502),
        size: 4_420_000,
    });
    assert_eq!(launches(&p.feed(Event::Tick)), [vec![0]]);
    let started = p.feed(Event::Started(0));
    assert_eq!(
        reasons(&started),
        ["Pulling", "Pulled", "Created", "Started"]
    );
    let messages: Vec<&str> = started
        .iter()
        .filter_map(|a| match a {
            Action::Record { message, .. } => Some(message.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(messages[0], r#"Pulling image "busybox""#);
    assert_eq!(
        messages[1],
        r#"Successfully pulled image "busybox" in 1.234s (1.502s including waiting). Image size: 4420000 bytes."#
    );
    // A restart finds the image there.
    assert_eq!(launches(&p.exit(0, 1)), [vec![0]]);
    let restarted = p.feed(Event::Started(0));
    assert_eq!(reasons(&restarted), ["Pulled", "Created", "Started"]);
    assert!(
        restarted
            .iter()
            .any(|a| matches!(a, Action::Record { message, .. }
        if message == r#"Container image "busybox" already present on machine"#))
    );
}

#[test]
fn pull_durations_read_as_go_prints_them() {
    assert_eq!(go_duration(Duration::from_micros(400)), "0s");
    assert_eq!(go_duration(Duration::from_millis(56)), "56ms");
    assert_eq!(go_duration(Duration::from_millis(1200)), "1.2s");
    assert_eq!(go_duration(Duration::from_secs(3)), "3s");
    assert_eq!(go_duration(Duration::from_millis(123_500)), "2m3.5s");
    assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
}

/// The input of container `i` of `yaml` with its image changed to `image`.
fn redefined(yaml: &str, i: usize, image: &str) -> (usize, ContainerInput) {
    let manifest = parse_manifest(yaml, "pod.yaml", ValidationMode::Strict).expect("parses");
    let pod = &manifest.pods[0];
    let init = i < pod.spec.init_containers.len();
    let mut spec = if init {
        pod.spec.init_containers[i].clone()
    } else {
        pod.spec.containers[i - pod.spec.init_containers.len()].clone()
    };
    spec.image = image.into();
    let input = ContainerInput {
        spec,
        init,
        image_id: format!("sha256:{image}"),
        stop_signal: None,
        pulled: None,
    };
    (i, input)
}

#[test]
fn a_changed_image_restarts_the_running_container_with_it_whatever_the_policy() {
    let spec = "  restartPolicy: Never\n  terminationGracePeriodSeconds: 5\n  containers:\n    - { name: a, image: busybox }\n    - { name: b, image: busybox }\n";
    let yaml = yaml(spec);
    let mut p = running(&yaml);
    let changed = p.feed(Event::Configured {
        active_deadline_seconds: None,
        containers: vec![redefined(&yaml, 1, "busybox:new")],
    });
    assert_eq!(reasons(&changed), ["Killing"]);
    assert_eq!(signals(&changed), [(1, 15)], "only b, with SIGTERM");
    assert_eq!(p.state(1).image, "busybox", "the running instance's image");
    let exited = p.signalled(1, 15);
    assert_eq!(launches(&exited), [vec![1]], "at once, though Never");
    p.carry_out(exited);
    assert_eq!(p.ctl.restart_count(1), 1);
    assert_eq!(p.ctl.restart_count(0), 0);
    assert_eq!(p.state(1).image, "busybox:new");
    assert_eq!(p.state(1).image_id, "sha256:busybox:new");
    assert!(p.ctl.is_running(1));
    // A later exit follows the pod's policy again.
    assert!(launches(&p.exit(1, 0)).is_empty());
}

#[test]
fn an_applied_deadline_counts_from_start_time_and_a_container_in_back_off_restarts_at_once() {
    let spec = "  restartPolicy: OnFailure\n  containers:\n    - { name: a, image: busybox }\n";
    let yaml = yaml(spec);
    let mut p = running(&yaml);
    p.wait(10.0);
    let once = p.exit(0, 1);
    assert_eq!(launches(&once), [vec![0]], "the first restart is at once");
    p.carry_out(once);
    let done = p.exit(0, 1);
    assert!(launches(&done).is_empty(), "waits for its back-off");
    assert_eq!(
        p.state(0)
            .state
            .waiting
            .as_ref()
            .and_then(|w| w.reason.as_deref()),
        Some("CrashLoopBackOff")
    );
    let restarted = p.feed(Event::Configured {
        active_deadline_seconds: Some(30),
        containers: vec![redefined(&yaml, 0, "busybox:new")],
    });
    assert!(signals(&restarted).is_empty());
    assert_eq!(launches(&restarted), [vec![0]], "a fresh back-off: at once");
    p.carry_out(restarted);
    assert_eq!(p.state(0).image, "busybox:new");
    assert_eq!(
        p.ctl.next_deadline(),
        Some(p.origin + Duration::from_secs(30))
    );
}
