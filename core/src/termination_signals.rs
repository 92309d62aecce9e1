//! The termination signals of a foreground process that waits for a
//! container (`peapod run`): blocked and read from a signalfd, so the
//! waiter can pass them on and clean up instead of dying.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::error::{Error, Result};

/// The termination signals.
const TERMINATION: [i32; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// `SIGINT`, `SIGTERM`, `SIGHUP` and `SIGQUIT`, blocked for the calling
/// thread and readable from [`TerminationSignals::fd`]. Children spawned
/// by [`crate::ContainerSpawn`] start with an empty mask.
#[derive(Debug)]
pub struct TerminationSignals {
    fd: OwnedFd,
}

impl TerminationSignals {
    /// Blocks the signals (call it before other threads start).
    pub fn block() -> Result<Self> {
        Self::blocking(&TERMINATION)
    }

    /// [`TerminationSignals::block`], and `SIGWINCH` too, for a relay
    /// that passes a terminal's new size on
    /// ([`TerminationSignals::WINDOW_CHANGE`]).
    pub fn block_with_window_changes() -> Result<Self> {
        let [int, term, hup, quit] = TERMINATION;
        Self::blocking(&[int, term, hup, quit, libc::SIGWINCH])
    }

    fn blocking(signals: &[i32]) -> Result<Self> {
        let fd = crate::sys::signal::block_into_signalfd(signals)
            .map_err(|e| Error::sys("signalfd", e))?;
        Ok(Self { fd })
    }

    /// `SIGWINCH`: the caller's terminal changed size.
    pub const WINDOW_CHANGE: i32 = libc::SIGWINCH;

    /// Readable (poll) when a signal is pending.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The next pending signal's number, `None` when none is pending.
    pub fn read(&self) -> Option<i32> {
        // struct signalfd_siginfo: 128 bytes, ssi_signo first.
        let mut info = [0u8; 128];
        match rustix::io::read(&self.fd, &mut info) {
            Ok(128) => {
                let signo = u32::from_ne_bytes([info[0], info[1], info[2], info[3]]);
                i32::try_from(signo).ok()
            }
            _ => None,
        }
    }
}
