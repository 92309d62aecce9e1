//! `httpGet` and `tcpSocket` runs, each on its own short-lived thread.
//!
//! Why a thread per *run* (not per probe, and not in the loop): the checks
//! are blocking socket code bounded by the run's deadline (connect, TLS,
//! a name lookup); the thread may `setns` into the pod's network namespace
//! without touching the supervisor's; and core's event loop reports only
//! readable fds and exits, not the writability a non-blocking connect
//! needs. The thread lives for one check (microseconds to `timeoutSeconds`),
//! sends its outcome on a channel and closes its end of a socket pair: the
//! loop sees the other end readable. At the deadline the loop stops waiting
//! and the thread, whose every call is bounded by the same deadline, ends
//! on its own.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::time::Instant;

use rustix::thread::LinkNameSpaceType;

use crate::error::{Error, Result};
use crate::handler::HttpGet;
use crate::outcome::Outcome;
use crate::tcp_socket::join_host_port;
use crate::{http_get, tcp_socket};

/// What the thread checks.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    Http(HttpGet),
    Tcp(u16),
}

/// A check in flight.
#[derive(Debug)]
pub(crate) struct NetworkCheck {
    result: mpsc::Receiver<Outcome>,
    done: UnixStream,
    timeout_message: String,
}

impl NetworkCheck {
    /// Starts `check` against `host` on a new thread, inside `netns` when
    /// given.
    pub(crate) fn spawn(
        check: Check,
        host: String,
        netns: Option<OwnedFd>,
        deadline: Instant,
    ) -> Result<Self> {
        let timeout_message = match &check {
            Check::Http(get) => format!(
                "Get \"{}://{}{}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
                get.scheme.as_str(),
                join_host_port(&host, get.port),
                get.path
            ),
            Check::Tcp(port) => format!("dial tcp {}: i/o timeout", join_host_port(&host, *port)),
        };
        let (done, notify) = UnixStream::pair().map_err(|e| Error::io("socketpair", e))?;
        let (send, result) = mpsc::channel();
        std::thread::Builder::new()
            .name("peapod-probe".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                let outcome = run(&check, &host, netns, deadline);
                let _ = send.send(outcome);
                drop(notify);
            })
            .map_err(|e| Error::io("spawn probe thread", e))?;
        Ok(Self {
            result,
            done,
            timeout_message,
        })
    }

    /// Readable once the thread is done.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.done.as_fd()
    }

    /// The outcome, once the thread sent it.
    pub(crate) fn try_result(&self) -> Option<Outcome> {
        match self.result.try_recv() {
            Ok(o) => Some(o),
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => {
                Some(Outcome::failure("probe thread ended without a result"))
            }
        }
    }

    /// The outcome when the deadline passes first.
    pub(crate) fn time_out(&self) -> Outcome {
        Outcome::timed_out(self.timeout_message.clone())
    }
}

fn run(check: &Check, host: &str, netns: Option<OwnedFd>, deadline: Instant) -> Outcome {
    if let Some(ns) = netns
        && let Err(e) =
            rustix::thread::move_into_link_name_space(ns.as_fd(), Some(LinkNameSpaceType::Network))
    {
        return Outcome::failure(format!("setns into the pod's network namespace: {e}"));
    }
    match check {
        Check::Http(get) => http_get::check(get, host, deadline),
        Check::Tcp(port) => tcp_socket::check(host, *port, deadline),
    }
}
