//! A spawned process, owned by its pidfd: signal it, reap it.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::process::{Signal, WaitId, WaitIdOptions, WaitIdStatus};

use crate::error::{Error, Result};

/// A child of this process (pause, container, exec), held by its pidfd so
/// signals and waits never hit a recycled pid. Dropping it neither kills
/// nor reaps: the caller decides (the event loop reports the exit).
#[derive(Debug)]
pub struct Process {
    pid: i32,
    pidfd: OwnedFd,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus {
    /// The exit code, when it exited.
    pub code: Option<i32>,
    /// The signal that killed it, when it was killed.
    pub signal: Option<i32>,
}

impl ExitStatus {
    /// The shell's and Kubernetes' number: the code, or 128 + signal
    /// (137 for SIGKILL).
    pub fn exit_code(&self) -> i32 {
        self.code.or(self.signal.map(|s| 128 + s)).unwrap_or(255)
    }

    /// Exited with code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    fn from_waitid(status: WaitIdStatus) -> Self {
        if status.exited() {
            Self {
                code: status.exit_status(),
                signal: None,
            }
        } else {
            Self {
                code: None,
                signal: status.terminating_signal(),
            }
        }
    }
}

impl Process {
    pub(crate) fn new(pid: i32, pidfd: OwnedFd) -> Self {
        Self { pid, pidfd }
    }

    /// The pid in the caller's PID namespace.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The pidfd: readable (poll) once the process exits; `setns` source
    /// for the namespaces of a pause or a container.
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// Sends `signal` (a number, e.g. `libc::SIGTERM`) through the pidfd.
    pub fn signal(&self, signal: i32) -> Result<()> {
        let sig = Signal::from_named_raw(signal)
            .ok_or_else(|| Error::sys("pidfd_send_signal", rustix::io::Errno::INVAL))?;
        rustix::process::pidfd_send_signal(&self.pidfd, sig)
            .map_err(|e| Error::sys("pidfd_send_signal", e))
    }

    /// SIGKILL through the pidfd; a process already gone is not an error.
    pub fn kill(&self) -> Result<()> {
        match rustix::process::pidfd_send_signal(&self.pidfd, Signal::KILL) {
            Ok(()) | Err(rustix::io::Errno::SRCH) => Ok(()),
            Err(e) => Err(Error::sys("pidfd_send_signal SIGKILL", e)),
        }
    }

    /// Reaps the process if it has exited (`waitid(P_PIDFD, WNOHANG)`).
    pub fn try_wait(&self) -> Result<Option<ExitStatus>> {
        self.waitid(WaitIdOptions::EXITED | WaitIdOptions::NOHANG)
    }

    /// Blocks until the process exits and reaps it.
    pub fn wait(&self) -> Result<ExitStatus> {
        loop {
            if let Some(status) = self.waitid(WaitIdOptions::EXITED)? {
                return Ok(status);
            }
        }
    }

    fn waitid(&self, options: WaitIdOptions) -> Result<Option<ExitStatus>> {
        loop {
            match rustix::process::waitid(WaitId::PidFd(self.pidfd.as_fd()), options) {
                Ok(status) => return Ok(status.map(ExitStatus::from_waitid)),
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(Error::sys("waitid P_PIDFD", e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signalled_exit_code_is_128_plus_signal() {
        let s = ExitStatus {
            code: None,
            signal: Some(9),
        };
        assert_eq!(s.exit_code(), 137);
        assert!(!s.success());
        let ok = ExitStatus {
            code: Some(0),
            signal: None,
        };
        assert!(ok.success());
    }
}
