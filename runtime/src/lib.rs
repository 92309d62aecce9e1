//! The pod lifecycle.
//!
//! Owns: composing the other crates into a running pod: the per-pod
//! supervisor process, pod and container status and phases, restart policy
//! with back-off, termination with a grace period, the state store under
//! `/run/peapod`, and the control socket.
//!
//! Does not own: syscalls (`peapod-core`), networking (`peapod-netns`),
//! mounts plans (`peapod-volumes`), images (`peapod-image`).
//!
//! The CLI's calls: [`launch::Launcher::create`] (`apply`), [`inspect`]
//! (`get`), [`exec::exec`], [`logs::logs`], [`teardown::delete`], [`run_once::run`] (`run`), and
//! [`supervisor::supervise`] behind the hidden `supervise` verb.
#![forbid(unsafe_code)]

pub mod backoff;
pub mod cgroup_boundary;
pub mod clock;
mod container;
pub mod container_process;
pub mod control;
mod control_clients;
pub(crate) mod controller;
pub mod cri_log;
mod engine;
mod error;
pub mod events;
pub mod eviction;
pub mod exec;
mod images;
pub mod inspect;
pub mod launch;
mod lifecycle;
mod log_reader;
pub mod log_rotation;
pub mod logs;
mod loop_token;
pub mod network;
mod paths;
pub mod pod_config;
mod pod_files;
pub mod run_once;
mod runs;
mod sandbox;
pub mod seccomp_profile;
mod security_context;
mod slot;
pub mod state;
pub mod status;
pub mod supervisor;
pub mod teardown;
mod termination;
mod termination_message;

pub use error::{Error, Result};
pub use paths::Paths;
