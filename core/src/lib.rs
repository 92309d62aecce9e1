//! Linux primitives of peapod, and the only crate allowed `unsafe`.
//!
//! Owns: process creation with `clone3` (pidfds, namespaces, cgroup
//! placement), joining namespaces with `setns`, the pause process, the path
//! a child takes between clone and `execve` (mounts, pivot, credentials,
//! error pipe, seccomp), cgroups v1 and v2, and the event loop that supervises
//! processes (io_uring, with an epoll fallback).
//!
//! Does not own: what a pod is. Callers hand in plain plans (namespaces,
//! mounts, limits) and get back processes and events.
//!
//! # A pod, as the supervisor drives it
//!
//! ```no_run
//! use std::time::Duration;
//! use peapod_core::*;
//!
//! # fn main() -> peapod_core::Result<()> {
//! // The peapod binary's `main`, first thing:
//! if is_pause_invocation() {
//!     pause_main();
//! }
//! // cgroups: one per pod, one child per container and one for the pause
//! // (v2 allows no process in a cgroup that delegates controllers).
//! let pod_cg = CgroupHierarchy::detect()?.create("peapod-0123")?;
//! let pause_cg = pod_cg.child("pause")?;
//! let web_cg = pod_cg.child("web")?;
//! web_cg.set_limits(&CgroupLimits { memory_max_bytes: Some(128 << 20), ..Default::default() })?;
//!
//! // The pause holds the pod's namespaces (PID too when shared).
//! let pause = spawn_pause(&PauseSpec {
//!     share_process_namespace: true,
//!     hostname: Some("mypod".into()),
//!     cgroup: Some(&pause_cg),
//!     ..PauseSpec::default()
//! })?;
//!
//! // A container joins it, with its own mount namespace and root.
//! let plan = MountPlan::new(
//!     RootFs::Overlay { lower: vec!["/layers/a".into()], upper: "/c/upper".into(), work: "/c/work".into() },
//!     "/c/rootfs",
//! )
//! .with_standard_mounts(None, 64 << 20);
//! let web = ContainerSpawn {
//!     process: ProcessSpec::new(["nginx", "-g", "daemon off;"]),
//!     namespaces: NamespacePlan::container(false, true),
//!     join_from: Some(pause.pidfd()),
//!     mounts: Some(plan),
//!     cgroup: Some(&web_cg),
//!     stdio: Stdio::default(),
//! }
//! .spawn()?; // Err(Error::Child { .. }): `exec "nginx": executable file not found in $PATH`
//!
//! // `peapod exec`: every namespace of the container, and its cgroup.
//! let mut exec = ContainerSpawn::new(ProcessSpec::new(["ps"]));
//! exec.namespaces = NamespacePlan::exec();
//! exec.join_from = Some(web.pidfd());
//! exec.cgroup = Some(&web_cg);
//! let code = exec.spawn()?.wait()?.exit_code();
//!
//! // Supervise: exits, log pipes, timers.
//! let mut lp = EventLoop::new()?;
//! lp.watch_process(web.pidfd(), 1)?;
//! lp.add_timer(Duration::from_secs(10), 2);
//! let mut events = Vec::new();
//! lp.wait(&mut events, None)?;
//! if let Some(status) = web.try_wait()? {
//!     let oom = web_cg.oom_kills()? > 0; // reason OOMKilled, exit code 137
//! }
//!
//! // Delete: kill what is left, reap containers before the pause (a PID 1
//! // that exits waits for its namespace's processes to be reaped), remove.
//! pod_cg.kill_all(Duration::from_secs(2))?;
//! web.wait()?;
//! pause.wait()?;
//! pod_cg.remove(Duration::from_secs(2))?;
//! # Ok(()) }
//! ```

mod cgroup;
mod child_error;
mod error;
mod event_loop;
mod mount_plan;
mod mount_setup;
mod namespaces;
mod pause;
mod proc_stat;
mod process;
mod process_spec;
mod sealed_exe;
mod seccomp;
mod spawn;
mod sys;
mod sysctl;
mod terminal;
mod termination_signals;
mod user_namespace;

pub use cgroup::{
    Cgroup, CgroupHierarchy, CgroupLimits, CgroupUsage, CgroupVersion, DEFAULT_ALLOWED_DEVICES,
    DeviceRule,
};
pub use error::{Error, Result};
pub use event_loop::{Event, EventKind, EventLoop, EventLoopBackend};
pub use mount_plan::{
    Confinement, MASKED_PATHS, MountOptions, MountPlan, MountStep, Propagation, READONLY_PATHS,
    RootFs, RootMountPoint,
};
pub use namespaces::{NamespacePlan, Namespaces};
pub use pause::{
    PAUSE_ARGV0, PauseSpec, StartingPause, is_pause_invocation, pause_main, spawn_pause,
    start_pause,
};
pub use proc_stat::process_start_time;
pub use process::{ExitStatus, Process};
pub use process_spec::{
    Capabilities, Credentials, DEFAULT_PATH, ProcessSpec, Rlimit, RlimitResource, Stdio, WindowSize,
};
pub use sealed_exe::SealedExe;
pub use seccomp::{
    ArgCondition, ArgOp, NumberedRule, ResolvedProfile, RuleFilter, SeccompAction, SeccompFilter,
    SeccompProfile, SyscallRule,
};
pub use spawn::{ContainerSpawn, Held};
pub use sys::memory::trim_executable_pages;
pub use sys::signal::die_of_sigpipe;
pub use sysctl::sysctl_path;
pub use termination_signals::TerminationSignals;
pub use user_namespace::IdMap;
