//! Lifecycle handlers and probes.
//!
//! Will own: the `exec`, `httpGet`, `tcpSocket` and `sleep` handlers used by
//! `postStart`, `preStop` and the startup, liveness and readiness probes,
//! each with its timeout.
//!
//! Does not own: when a handler runs; the runtime's event loop decides.
#![forbid(unsafe_code)]
