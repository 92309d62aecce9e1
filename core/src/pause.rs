//! The pause (infra) process of a pod: holds the pod's net, IPC and UTS
//! namespaces (and its PID namespace with `shareProcessNamespace`, as its
//! PID 1, reaping orphans), and does nothing else.
//!
//! It is the peapod binary itself, exec'd from `/proc/self/exe` with
//! `argv = ["/pause"]`, so `ps` in the pod shows `/pause` (it reads
//! `/proc/PID/cmdline`) and the process maps no more than a static binary
//! that blocks in `sigwaitinfo`. The binary's `main` must call
//! [`pause_main`] first thing when [`is_pause_invocation`] is true.

use std::ffi::OsStr;
use std::path::PathBuf;

use rustix::process::{WaitOptions, waitpid};

use crate::cgroup::Cgroup;
use crate::error::{Error, Result};
use crate::namespaces::NamespacePlan;
use crate::process::Process;
use crate::process_spec::{ProcessSpec, Stdio};
use crate::spawn::{ContainerSpawn, ExecTarget, Prepared};
use crate::sys::signal;

/// `argv[0]` of the pause process, and what `ps` shows for it.
pub const PAUSE_ARGV0: &str = "/pause";

/// How to start a pod's pause process.
#[derive(Debug, Clone, Default)]
pub struct PauseSpec<'a> {
    /// `hostNetwork: true`: stay in the host's net namespace.
    pub host_network: bool,
    /// `shareProcessNamespace: true`: a new PID namespace, pause as PID 1.
    pub share_process_namespace: bool,
    /// The pod's hostname, set in its new UTS namespace.
    pub hostname: Option<String>,
    /// The cgroup it is born in (the pod's `pause` child cgroup).
    pub cgroup: Option<&'a Cgroup>,
    /// The binary to exec, whose `main` calls [`pause_main`]; `None` is
    /// `/proc/self/exe` (the peapod binary).
    pub exe: Option<PathBuf>,
}

/// Starts the pause process of a pod; its pidfd is the `join_from` of the
/// pod's containers.
pub fn spawn_pause(spec: &PauseSpec<'_>) -> Result<Process> {
    let _span = tracing::debug_span!("spawn_pause").entered();
    let exe = spec
        .exe
        .clone()
        .unwrap_or_else(|| PathBuf::from("/proc/self/exe"));
    let exe_fd = rustix::fs::open(
        &exe,
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| Error::sys("open the pause executable", e))?;
    let mut process = ProcessSpec::new([PAUSE_ARGV0]);
    process.env.clear();
    process.hostname.clone_from(&spec.hostname);
    let null = |what| {
        rustix::fs::open(
            "/dev/null",
            rustix::fs::OFlags::RDWR | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| Error::sys(what, e))
    };
    let spawn = ContainerSpawn {
        process,
        namespaces: NamespacePlan::pause(spec.host_network, spec.share_process_namespace),
        join_from: None,
        mounts: None,
        cgroup: spec.cgroup,
        stdio: Stdio {
            stdin: Some(null("open /dev/null")?),
            stdout: Some(null("open /dev/null")?),
            stderr: Some(null("open /dev/null")?),
        },
    };
    Prepared::new(spawn, ExecTarget::Fd(exe_fd))?.run()
}

/// Whether this process was started as the pause (`argv[0] == "/pause"`).
pub fn is_pause_invocation() -> bool {
    std::env::args_os().next().as_deref() == Some(OsStr::new(PAUSE_ARGV0))
}

/// The pause process: blocks every signal and waits for them; reaps any
/// child (orphans re-parented to it as PID 1) on `SIGCHLD`; exits 0 on
/// `SIGTERM`, `SIGINT` or `SIGHUP`. Never returns.
pub fn pause_main() -> ! {
    // `comm` as `ps` shows it: busybox prints `{comm} args` when comm is
    // not the base name of argv[0].
    let _ = rustix::thread::set_name(c"pause");
    signal::block_all();
    // Start-up touched code this loop never runs again: give it back.
    crate::sys::memory::trim_code_pages(pause_main as fn() -> ! as usize);
    loop {
        match signal::wait_signal() {
            libc::SIGCHLD => while let Ok(Some(_)) = waitpid(None, WaitOptions::NOHANG) {},
            libc::SIGTERM | libc::SIGINT | libc::SIGHUP => std::process::exit(0),
            _ => {}
        }
    }
}
