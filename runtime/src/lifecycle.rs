//! postStart and preStop hooks and probes of a container: their handlers,
//! built once from the spec, and the context a run of one needs. The runs
//! themselves go on the supervisor's loop (`runs.rs`): kubelet starts the
//! next container only after a postStart returned, and sends SIGTERM only
//! after preStop, but neither blocks the other containers' events.

use std::fs::File;
use std::net::IpAddr;
use std::os::fd::AsFd;
use std::time::Duration;

use peapod_hooks::{ExecTarget, Handler, Outcome, ProbeKind, RunContext};
use peapod_spec::{Container, LifecycleHandler, Probe};

use crate::container::Started;

/// Which hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hook {
    /// Right after the process started.
    PostStart,
    /// Before SIGTERM.
    PreStop,
}

impl Hook {
    fn spec(self, container: &Container) -> Option<&LifecycleHandler> {
        let lifecycle = container.lifecycle.as_ref()?;
        match self {
            Self::PostStart => lifecycle.post_start.as_ref(),
            Self::PreStop => lifecycle.pre_stop.as_ref(),
        }
    }

    /// The prefix of kubelet's messages (`PostStartHookError: ...`).
    fn prefix(self) -> &'static str {
        match self {
            Self::PostStart => "PostStartHookError",
            Self::PreStop => "PreStopHookError",
        }
    }

    /// The handler of this hook of `container`: `None` without one, `Err`
    /// with kubelet's message when the spec cannot run.
    pub fn handler(self, container: &Container) -> Option<Result<Handler, String>> {
        let spec = self.spec(container)?;
        Some(Handler::from_spec(spec, container).map_err(|e| format!("{}: {e}", self.prefix())))
    }

    /// Kubelet's message for a run that did not pass; `None` when it did.
    pub fn failure(self, outcome: &Outcome) -> Option<String> {
        (!outcome.passed()).then(|| format!("{}: {}", self.prefix(), outcome.message))
    }
}

/// The probe of `kind` of `container`.
pub(crate) fn probe(container: &Container, kind: ProbeKind) -> Option<&Probe> {
    match kind {
        ProbeKind::Startup => container.startup_probe.as_ref(),
        ProbeKind::Liveness => container.liveness_probe.as_ref(),
        ProbeKind::Readiness => container.readiness_probe.as_ref(),
    }
}

/// The pod's network namespace as the container `started` sees it (network
/// handlers connect from inside it).
pub(crate) fn netns_of(started: &Started) -> Option<File> {
    File::open(format!("/proc/{}/ns/net", started.process.pid())).ok()
}

/// Where a handler of the container `started` runs, for `timeout`.
pub(crate) fn context<'a>(
    started: &'a Started,
    pod_ip: Option<IpAddr>,
    netns: Option<&'a File>,
    timeout: Duration,
) -> RunContext<'a> {
    RunContext {
        exec: Some(ExecTarget {
            pidfd: started.process.pidfd(),
            cgroup: Some(&started.cgroup),
            process: &started.spec,
        }),
        pod_ip,
        netns: netns.map(AsFd::as_fd),
        timeout,
    }
}
