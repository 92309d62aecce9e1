//! Lifecycle handlers and probes.
//!
//! Owns: the `exec`, `httpGet`, `tcpSocket` and `sleep` handlers that
//! `postStart`, `preStop` and the startup, liveness and readiness probes
//! run, each with its timeout, driven by the supervisor's event loop
//! without blocking it; and the probe state machine (kubelet's
//! `prober/worker.go`): initial delay, period, thresholds, startup gating,
//! `started`/`ready`, `Unhealthy` events and restart decisions.
//!
//! Does not own: when a hook runs, killing or restarting a container,
//! events and status — the runtime does that with what this crate returns.
//!
//! # How the supervisor runs handlers
//!
//! Build handlers once per container from the spec
//! ([`Handler::from_spec`] for hooks, [`Handler::from_probe`] for probes;
//! an error there is a `FailedPostStartHook`/`FailedPreStopHook` or a probe
//! that never runs, with the error as message). Each run:
//!
//! ```ignore
//! let ctx = RunContext {
//!     exec: Some(ExecTarget { pidfd: container.pidfd(), cgroup: Some(&cg), process: &spec }),
//!     pod_ip: Some(pod_ip),   // default host of httpGet/tcpSocket
//!     netns: None,            // Some(pause netns fd) when the host cannot route to the pod
//!     timeout,                // probe: timing.timeout; preStop: grace left
//! };
//! let token = next_token();                  // fresh per run: stale timers may fire later
//! let mut run = Run::start(&handler, &ctx);  // never blocks on the handler
//! match run.poll(None, &mut event_loop, token)? { Progress::Done(o) => ..., Progress::Pending => keep(token, run) }
//! // in the loop, for each Event { token, kind } that belongs to a run:
//! match run.poll(Some(kind), &mut event_loop, token)? { Progress::Done(o) => ..., Progress::Pending => {} }
//! // events whose token has no run (a finished run's deadline timer): ignore.
//! ```
//!
//! - `exec` spawns the command through core (joins the container's
//!   namespaces by pidfd, born in its cgroup, the container's user,
//!   capabilities, no_new_privs, rlimits, env, working folder) and returns
//!   once it runs; the loop watches its pidfd and its output pipe. At the
//!   deadline it is SIGKILLed. Output: stdout and stderr, first 10 KiB.
//! - `httpGet`/`tcpSocket` run on a short-lived thread per run (see
//!   `network_check.rs` for why), which reports through a socket the loop
//!   watches; the loop's deadline timer ends the wait on time whatever the
//!   thread does.
//! - `sleep` is the deadline timer alone.
//!
//! [`Run::wait`] runs a handler to the end on a private loop, for callers
//! without one (CLI, tests). Two complete loops to copy from:
//! `hooks/examples/idle_probes.rs` (exec, httpGet and tcpSocket probes on
//! a busybox container) and `hooks/tests/probe_loop.rs`.
//!
//! `ExecTarget::process` is the container's own `ProcessSpec` as it was
//! spawned (keep it with the container): the hook runs with its identity.
//!
//! # postStart
//!
//! Right after the container's process starts, run its postStart. kubelet
//! gives it no timeout: pass `Duration::MAX` (a year, in effect); a delete
//! meanwhile drops the run (an `exec` in flight is killed) and stops the
//! container as usual. Until it is [`Progress::Done`]:
//! the container is `Waiting`/not started, its probes do not run, and the
//! **next container does not start** (keep the start sequence parked in
//! the loop; other events go on). When done:
//! - [`Outcome::passed`]: the container is `Running`; create its
//!   [`ContainerProbes`] and go on with the next container.
//! - else: event `FailedPostStartHook` (Warning) with
//!   `PostStartHookError: <message>` (exec: `command '<cmd>' exited with
//!   <exit_code>: <output>`; httpGet: the error), kill the container
//!   (preStop is **not** run), then the restart policy applies as for any
//!   exit.
//!
//! # preStop and the grace period
//!
//! On delete, and before killing a container for a failed liveness or
//! startup probe: start the grace clock (`terminationGracePeriodSeconds`,
//! `--grace-period`, or the probe's own), then run preStop with timeout =
//! the whole grace period. When it is done or times out (a failure: event
//! `FailedPreStopHook`, the container is still stopped), send SIGTERM
//! (the image's stop signal) and SIGKILL when the grace period ends —
//! but never less than **2 s** after SIGTERM: `sigkill_at = max(start +
//! grace, sigterm_at + 2 s)`. A container that exits during preStop is
//! done (drop the run; an `exec` in flight is killed).
//!
//! # Probes
//!
//! Per container instance, a [`ContainerProbes`], created when postStart
//! returns, with the process's start time (initial delays count from it),
//! and a [`Handler`] per probe:
//! 1. Arm one timer at [`ContainerProbes::next_due`] (re-arm after each
//!    change; a stale timer is harmless: `due` returns nothing early).
//! 2. On the timer: for each kind of [`ContainerProbes::due`], start a
//!    [`Run`] with timeout [`ProbeTiming::timeout`] from
//!    [`ContainerProbes::timing`].
//! 3. On its outcome: [`ContainerProbes::record`] and act on each
//!    [`ProbeEvent`]: `Unhealthy`/`Warning` → a Warning event;
//!    `Started` → `started: true` (a sidecar releases the next init
//!    container); `Ready(b)` → the container's `ready`, the pod's
//!    `ContainersReady`/`Ready` and the READY column;
//!    `Restart { kind }` → event `Killing` `Container <name> failed
//!    <kind> probe, will be restarted`, preStop + grace, then the restart
//!    policy (a new instance gets a new `ContainerProbes`).
//! 4. On delete, [`ContainerProbes::terminating`]; on exit,
//!    [`ContainerProbes::exited`] (ready goes false).
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod container_probes;
mod error;
mod exec;
mod handler;
mod http_get;
mod network_check;
mod outcome;
mod probe;
mod run;
mod sleep;
mod tcp_socket;
mod tls;

pub use container_probes::{ContainerProbes, ProbeEvent};
pub use error::{Error, Result};
pub use exec::ExecTarget;
pub use handler::{Exec, Handler, HttpGet, Purpose, Scheme, TcpSocket};
pub use http_get::KUBE_VERSION;
pub use outcome::{MAX_OUTPUT, Outcome, Verdict};
pub use probe::{ProbeKind, ProbeResult, ProbeTiming};
pub use run::{Progress, Run, RunContext};
