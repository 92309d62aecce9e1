//! The start sequence: init containers one at a time, each after the
//! previous one succeeded (a sidecar once it started: its startup probe
//! passed and its postStart returned), then the app containers in order,
//! each after the previous one's postStart. App containers with no
//! postStart between them are launched together (created, then started
//! in order). A start that fails before the pod was reported started fails
//! the pod; after, the container waits (`RunContainerError`) and is
//! retried with the back-off. A container refused before it was made
//! (`runAsNonRoot`) waits with kubelet's reason either way.

use std::time::Duration;

use peapod_hooks::Outcome;

use super::{Action, Kind, PodController, Time};
use crate::events::{EventType, reason};
use crate::lifecycle::Hook;
use crate::status;
use crate::termination::ContainerStop;

impl PodController {
    /// Moves the start sequence on as far as it can go now.
    pub(super) fn advance(&mut self) {
        while self.next < self.containers.len() {
            let i = self.next;
            let c = &self.containers[i];
            if c.launching {
                return;
            }
            if c.kind == Kind::Init {
                if c.succeeded() {
                    self.next += 1;
                    continue;
                }
                if !c.is_running() && c.restart_at.is_none() && c.status.state.terminated.is_none()
                {
                    self.launch(vec![i]);
                }
                return;
            }
            if !c.launched {
                let end = self.back_to_back(i);
                self.launch((i..end).collect());
                return;
            }
            // The next container waits for this one's postStart, and for a
            // sidecar's startup probe.
            if c.post_start || (c.kind == Kind::Sidecar && c.is_running() && !c.probes_started()) {
                return;
            }
            self.next += 1;
        }
    }

    /// The end of the run of app containers from `i` that start back to
    /// back: each but the last without a postStart hook, which the next
    /// one would wait for.
    fn back_to_back(&self, i: usize) -> usize {
        let mut end = i + 1;
        while let (Some(prev), Some(next)) =
            (self.containers.get(end - 1), self.containers.get(end))
        {
            if prev.kind != Kind::App
                || next.kind != Kind::App
                || next.launched
                || Hook::PostStart.handler(&prev.spec).is_some()
            {
                break;
            }
            end += 1;
        }
        end
    }

    /// Asks for containers `list` to be launched, in order.
    pub(super) fn launch(&mut self, list: Vec<usize>) {
        for &i in &list {
            let c = &mut self.containers[i];
            c.launched = true;
            c.launching = true;
            c.restart_at = None;
        }
        self.out.push(Action::Launch(list));
    }

    /// The records kubelet makes before a start: the pull of the image
    /// (at the first start, when the image was pulled for it), or that the
    /// image is there.
    fn pulled(&mut self, i: usize) {
        let image = self.containers[i].spec.image.clone();
        let message = match self.containers[i].pulled.take() {
            Some(pull) => {
                self.record(
                    EventType::Normal,
                    reason::PULLING,
                    Some(i),
                    format!("Pulling image \"{image}\""),
                );
                format!(
                    "Successfully pulled image \"{image}\" in {} ({} including waiting). \
                     Image size: {} bytes.",
                    go_duration(pull.took),
                    go_duration(pull.including_waiting),
                    pull.size
                )
            }
            None => format!("Container image \"{image}\" already present on machine"),
        };
        self.record(EventType::Normal, reason::PULLED, Some(i), message);
    }

    /// Container `i`'s process started: its postStart runs, or it is
    /// `Running` with its probes armed.
    pub(super) fn started(&mut self, i: usize, t: Time) {
        if !self.containers[i].launching {
            return;
        }
        self.pulled(i);
        let name = self.containers[i].name().to_owned();
        self.record(
            EventType::Normal,
            reason::CREATED,
            Some(i),
            format!("Created container: {name}"),
        );
        self.record(
            EventType::Normal,
            reason::STARTED,
            Some(i),
            format!("Started container {name}"),
        );
        let id = format!("peapod://{}/{name}", self.uid);
        let c = &mut self.containers[i];
        c.launching = false;
        c.retire_exit();
        c.status.container_id = Some(id);
        if let Some((image, image_id)) = c.next_image.take() {
            (c.status.image, c.status.image_id) = (image, image_id);
        }
        c.restart_at = None;
        c.stop = None;
        c.running_since = Some((t.now, t.wall));
        match Hook::PostStart.handler(&c.spec) {
            None => c.now_running(),
            Some(Err(message)) => self.post_start_failed(i, &message, t),
            // kubelet gives postStart no timeout.
            Some(Ok(handler)) => {
                c.post_start = true;
                c.status.state = status::waiting("ContainerCreating", None);
                c.status.ready = false;
                c.status.started = Some(false);
                self.out.push(Action::RunHook {
                    container: i,
                    hook: Hook::PostStart,
                    handler,
                    timeout: Duration::MAX,
                });
            }
        }
    }

    /// Container `i` could not be made or started; those launched with it
    /// after it were not made.
    pub(super) fn start_failed(&mut self, i: usize, message: &str, error: String, t: Time) {
        if !self.launch_failed(i, message) {
            return;
        }
        if !self.reported {
            self.reported = true;
            self.out.push(Action::ReportFailed(error));
            self.stop_pod(Some(Duration::ZERO), false, t);
            return;
        }
        let c = &mut self.containers[i];
        c.retire_exit();
        c.status.state = status::waiting("RunContainerError", Some(message.to_owned()));
        c.finished_at = Some(t.now);
        self.schedule_restart(i, t);
    }

    /// Ends the launch of container `i` (and of those launched with it
    /// after it: they were not made) with kubelet's `Failed` event;
    /// `false` when it was not launching.
    fn launch_failed(&mut self, i: usize, message: &str) -> bool {
        if !self.containers[i].launching {
            return false;
        }
        self.containers[i].launching = false;
        for c in &mut self.containers[i + 1..] {
            if c.launching {
                c.launching = false;
                c.launched = false;
            }
        }
        self.pulled(i);
        self.record(
            EventType::Warning,
            reason::FAILED,
            Some(i),
            format!("Error: {message}"),
        );
        true
    }

    /// Container `i` was refused before anything of it was made (kubelet's
    /// `CreateContainerConfigError`, `CreateContainerError`): it waits with
    /// that reason and is tried again after the back-off; the start
    /// sequence goes on, before the report as after it.
    pub(super) fn refused(&mut self, i: usize, reason: &'static str, message: &str, t: Time) {
        if !self.launch_failed(i, message) {
            return;
        }
        // An init container blocks the start sequence until it is made: the
        // waiting `apply` is told the pod is there (kubectl shows it
        // `Init:CreateContainerConfigError`) rather than kept waiting.
        if self.containers[i].kind != Kind::App && !self.reported {
            self.reported = true;
            self.out.push(Action::ReportStarted);
        }
        let c = &mut self.containers[i];
        c.status.state = status::waiting(reason, Some(message.to_owned()));
        c.refused = true;
        // Never at once: what refused it holds until something changes.
        let at = c.backoff.restart_at(self.backoff, t.now);
        c.restart_at = Some(at.max(t.now + self.backoff.base));
    }

    /// postStart returned: the container runs, or it is killed (kubelet's
    /// `FailedPostStartHook`; the restart policy applies to its exit).
    pub(super) fn post_start_done(&mut self, i: usize, outcome: &Outcome, t: Time) {
        if !self.containers[i].post_start {
            return;
        }
        match Hook::PostStart.failure(outcome) {
            None => self.containers[i].now_running(),
            Some(message) => self.post_start_failed(i, &message, t),
        }
    }

    fn post_start_failed(&mut self, i: usize, message: &str, t: Time) {
        // As kubelet, the message stays out of the event (it may hold
        // secrets); the container's state has it.
        self.record(
            EventType::Warning,
            reason::FAILED_POST_START_HOOK,
            Some(i),
            "PostStartHook failed",
        );
        let c = &mut self.containers[i];
        c.post_start = false;
        c.status.state = status::waiting("PostStartHookError", Some(message.to_owned()));
        if c.is_running() {
            // preStop is not run after a failed postStart.
            let mut stop = ContainerStop::new(Duration::ZERO, t.now);
            stop.kill();
            c.stop = Some(stop);
            self.out.push(Action::Kill(i));
        }
    }
}

/// `d` truncated to milliseconds, written as Go's `time.Duration` prints
/// itself (`1.234s`, `56ms`, `2m3.5s`, `0s`): kubelet's `Pulled` wording.
pub(super) fn go_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".to_owned();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let seconds = |ms: u128| {
        let frac = format!("{:03}", ms % 1000);
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            format!("{}s", ms / 1000)
        } else {
            format!("{}.{frac}s", ms / 1000)
        }
    };
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    match (h, m) {
        (0, 0) => seconds(rest),
        (0, m) => format!("{m}m{}", seconds(rest)),
        (h, m) => format!("{h}h{m}m{}", seconds(rest)),
    }
}
