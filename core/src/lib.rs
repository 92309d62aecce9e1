//! Linux primitives of peapod, and the only crate allowed `unsafe`.
//!
//! Owns: process creation with `clone3` (pidfds, namespaces, cgroup
//! placement), joining namespaces with `setns`, the pause process, the path
//! a child takes between clone and `execve` (mounts, pivot, credentials,
//! error pipe), cgroups v1 and v2, and the event loop that supervises
//! processes (io_uring, with an epoll fallback).
//!
//! Does not own: what a pod is. Callers hand in plain plans (namespaces,
//! mounts, limits) and get back processes and events.

mod cgroup;
mod child_error;
mod error;
mod event_loop;
mod mount_plan;
mod mount_setup;
mod namespaces;
mod pause;
mod process;
mod process_spec;
mod spawn;
mod sys;

pub use cgroup::{Cgroup, CgroupHierarchy, CgroupLimits, CgroupVersion};
pub use error::{Error, Result};
pub use event_loop::{Event, EventKind, EventLoop, EventLoopBackend};
pub use mount_plan::{
    MASKED_PATHS, MountOptions, MountPlan, MountStep, Propagation, READONLY_PATHS, RootFs,
};
pub use namespaces::{NamespacePlan, Namespaces};
pub use pause::{PAUSE_ARGV0, PauseSpec, is_pause_invocation, pause_main, spawn_pause};
pub use process::{ExitStatus, Process};
pub use process_spec::{
    Capabilities, Credentials, DEFAULT_PATH, ProcessSpec, Rlimit, RlimitResource, Stdio,
};
pub use spawn::ContainerSpawn;
