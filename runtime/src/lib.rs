//! The pod lifecycle.
//!
//! Owns: composing the other crates into a running pod: the per-pod
//! supervisor process, pod and container status and phases, restart policy
//! with back-off, termination with a grace period, the state store under
//! `/run/peapod`, and the control socket.
//!
//! Does not own: syscalls (`peapod-core`), networking (`peapod-netns`),
//! mounts plans (`peapod-volumes`), images (`peapod-image`).
#![forbid(unsafe_code)]

pub mod backoff;
pub mod clock;
pub mod cri_log;
mod error;
mod paths;
pub mod state;
pub mod status;

pub use error::{Error, Result};
pub use paths::Paths;
