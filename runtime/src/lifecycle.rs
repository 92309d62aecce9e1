//! postStart and preStop hooks of a container, run through `peapod-hooks`
//! to their end (the supervisor waits: kubelet starts the next container
//! only after a postStart returned, and sends SIGTERM only after preStop).

use std::time::Duration;

use peapod_core::ProcessSpec;
use peapod_hooks::{ExecTarget, Handler, Run, RunContext};
use peapod_spec::{Container, LifecycleHandler};

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
    fn handler(self, container: &Container) -> Option<&LifecycleHandler> {
        let lifecycle = container.lifecycle.as_ref()?;
        match self {
            Self::PostStart => lifecycle.post_start.as_ref(),
            Self::PreStop => lifecycle.pre_stop.as_ref(),
        }
    }
}

/// Runs `hook` of `container` (if it has one) in the running `started`;
/// `Err` carries kubelet's message (`PostStartHookError: ...`).
pub(crate) fn run(
    hook: Hook,
    container: &Container,
    started: &Started,
    process: &ProcessSpec,
    timeout: Duration,
) -> Result<(), String> {
    let Some(spec) = hook.handler(container) else {
        return Ok(());
    };
    let prefix = match hook {
        Hook::PostStart => "PostStartHookError",
        Hook::PreStop => "PreStopHookError",
    };
    let handler = Handler::from_spec(spec, container).map_err(|e| format!("{prefix}: {e}"))?;
    let netns = std::fs::File::open(format!("/proc/{}/ns/net", started.process.pid())).ok();
    let ctx = RunContext {
        exec: Some(ExecTarget {
            pidfd: started.process.pidfd(),
            cgroup: Some(&started.cgroup),
            process,
        }),
        pod_ip: None,
        netns: netns.as_ref().map(std::os::fd::AsFd::as_fd),
        timeout,
    };
    let outcome = Run::start(&handler, &ctx)
        .wait()
        .map_err(|e| format!("{prefix}: {e}"))?;
    if outcome.passed() {
        Ok(())
    } else {
        Err(format!("{prefix}: {}", outcome.message))
    }
}
