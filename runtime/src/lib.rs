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

mod paths;

pub use paths::Paths;
