//! The engine: what a runtime does on the host for a sandbox and its
//! containers, with no policy (what to start, restart or stop is the pod
//! controller's, [`crate::controller`]).
//!
//! This is its first part: the steps a pod's supervisor and `peapod run`
//! made each with a copy of their own until now, so a fix lands once:
//! - [`sandbox_cgroup`]: the sandbox's cgroup `peapod-<uid>` with the
//!   pod's limits (the pids limit);
//! - [`limit_container`]: a container's cgroup limits and device rules;
//! - [`SandboxRemoval`]: removing a sandbox's host side (what is left in
//!   its cgroup, its network, its volumes and folders, the cgroup);
//! - [`stats`]: a container's CPU, memory working set and writable layer
//!   (`top`, the CRI's stats).
//!
//! `sandbox.rs` (the pod sandbox: pause, volumes, network, pod files) and
//! `container.rs` (create up to `execve`, start) build on these; `peapod
//! run` (`run_once.rs`) is the same steps with one container and no pause.

mod cgroup;
mod removal;
mod stats;

pub(crate) use cgroup::{limit_container, sandbox_cgroup};
pub(crate) use removal::SandboxRemoval;
pub use stats::{ContainerStats, stats};
