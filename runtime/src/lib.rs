//! The pod lifecycle.
//!
//! Owns: composing the other crates into a running pod: the pod controller
//! (`controller/`: what a kubelet decides — start order, restart policy
//! with back-off, probes, hooks, termination with a grace period, phases —
//! as pure code), the per-pod supervisor process that carries its actions
//! out on one event loop, pod and container status, the state store under
//! `/run/peapod`, and the control socket.
//!
//! Does not own: syscalls (`peapod-core`), networking (`peapod-netns`),
//! mounts plans (`peapod-volumes`), images (`peapod-image`).
//!
//! The CLI's calls: [`launch::Launcher::create`] (`apply`), [`inspect`]
//! (`get`), [`exec::exec`], [`logs::logs`], [`teardown::delete`], [`run_once::run`] (`run`), and
//! [`supervisor::supervise`] behind the hidden `supervise` verb, and
//! [`die_of_sigpipe`] when the reader of its output has gone.
#![forbid(unsafe_code)]

pub(crate) mod backoff;
pub(crate) mod cgroup_boundary;
pub mod clock;
mod container;
pub(crate) mod container_process;
pub(crate) mod control;
mod control_clients;
pub(crate) mod controller;
pub(crate) mod cri_log;
pub mod engine;
mod error;
pub mod events;
pub(crate) mod eviction;
pub mod exec;
pub mod image_use;
mod images;
pub mod inspect;
pub mod launch;
mod lifecycle;
mod log_reader;
pub(crate) mod log_rotation;
pub mod logs;
mod loop_token;
mod mount_point_layer;
pub mod network;
mod parked_streams;
mod paths;
pub mod pod_attach;
pub mod pod_config;
pub mod pod_connect;
mod pod_files;
pub mod pod_update;
pub mod pod_watch;
pub mod run_once;
mod runs;
mod sandbox;
pub(crate) mod seccomp_profile;
mod security_context;
mod slot;
pub mod state;
pub mod static_pods;
pub mod status;
pub mod supervisor;
pub mod teardown;
mod terminal;
mod termination;
mod termination_message;
mod userns_ids;
pub mod workload;

pub use error::{Error, Result};
pub use paths::Paths;
/// The peapod binary through a read-only mount (CVE-2019-5736): the CLI
/// verbs that clone processes into containers re-exec through it.
pub use peapod_core::SealedExe;
/// The CLI's end when the reader of its stdout has gone (`| head`).
pub use peapod_core::die_of_sigpipe;
