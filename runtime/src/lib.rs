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
//! The public surface: [`Paths`], [`PodKey`], [`Error`], [`Timestamp`] at
//! the root; [`engine`] (sandboxes and containers, what the CRI drives);
//! [`pod`] (what the CLI does to pods: `apply`, `get`, `exec`, `logs`,
//! `delete`, `run` ...); [`workload`] (Deployments, Jobs, StatefulSets,
//! static pods); [`network`] (the bridge's names and modes); and
//! [`supervise`] behind the hidden `supervise` verb. The rest is the
//! crate's own.
#![forbid(unsafe_code)]

mod attach_output;
pub(crate) mod backoff;
pub(crate) mod cgroup_boundary;
pub(crate) mod clock;
mod container;
pub(crate) mod container_process;
pub(crate) mod control;
mod control_clients;
pub(crate) mod controller;
pub(crate) mod cri_log;
pub mod engine;
mod error;
pub(crate) mod eviction;
mod images;
mod lifecycle;
mod log_reader;
pub(crate) mod log_rotation;
mod loop_token;
mod mount_point_layer;
pub mod network;
mod oom_score;
mod parked_streams;
mod paths;
pub mod pod;
mod pod_files;
mod runs;
mod sandbox;
pub(crate) mod seccomp_profile;
mod security_context;
mod slot;
pub(crate) mod state;
pub(crate) mod supervisor;
mod terminal;
mod termination;
mod termination_message;
mod trash;
mod userns_ids;
pub mod workload;

pub use clock::Timestamp;
pub use error::{Error, Result};
pub use paths::Paths;
pub use state::PodKey;
pub use supervisor::{pause_if_invoked, supervise};

// The crate's own paths to the modules of `pod` and `workload`.
/// The peapod binary through a read-only mount (CVE-2019-5736): the CLI
/// verbs that clone processes into containers re-exec through it.
pub use peapod_core::SealedExe;
/// The CLI's end when the reader of its stdout has gone (`| head`).
pub use peapod_core::die_of_sigpipe;
pub(crate) use pod::{
    events, exec, inspect, launch, logs, pod_config, pod_update, pod_watch, status, teardown,
};
