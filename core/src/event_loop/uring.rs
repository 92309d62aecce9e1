//! The io_uring backend: one-shot `PollAdd` per watch, waits with the
//! `EXT_ARG` timeout of `io_uring_enter`.

use std::os::fd::RawFd;
use std::time::Duration;

use io_uring::{IoUring, opcode, types};

use crate::error::{Error, Result};

const BACKEND: &str = "io_uring";

/// User data of `PollRemove` entries (a watch key would need slot and
/// generation both at `u32::MAX`).
const CANCEL: u64 = u64::MAX;

pub(super) struct Uring {
    ring: IoUring,
}

fn err(source: std::io::Error) -> Error {
    Error::EventLoop {
        backend: BACKEND,
        source,
    }
}

impl Uring {
    pub(super) fn new() -> Result<Self> {
        let ring = IoUring::new(64).map_err(err)?;
        if !ring.params().is_feature_ext_arg() {
            return Err(err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "no IORING_FEAT_EXT_ARG (Linux < 5.11)",
            )));
        }
        Ok(Self { ring })
    }

    pub(super) fn poll(&mut self, fd: RawFd, key: u64) -> Result<()> {
        let entry = opcode::PollAdd::new(types::Fd(fd), u32::from(libc::POLLIN.cast_unsigned()))
            .build()
            .user_data(key);
        self.push(&entry)
    }

    /// Cancels the pending poll of `key`. Its completion (`ECANCELED`)
    /// and the cancel's own report nothing; one that raced the cancel
    /// carries a key no watch has any more.
    pub(super) fn cancel(&mut self, key: u64) -> Result<()> {
        let entry = opcode::PollRemove::new(key).build().user_data(CANCEL);
        self.push(&entry)?;
        self.ring.submit().map_err(err)?;
        Ok(())
    }

    fn push(&mut self, entry: &io_uring::squeue::Entry) -> Result<()> {
        // SAFETY: PollAdd and PollRemove hold no buffer; a polled fd stays
        // open while watched (the caller's promise), and the kernel takes
        // its own reference to the file anyway.
        if unsafe { self.ring.submission().push(entry) }.is_err() {
            self.ring.submit().map_err(err)?;
            // SAFETY: as above.
            unsafe { self.ring.submission().push(entry) }
                .map_err(|_| err(std::io::Error::other("submission queue full")))?;
        }
        Ok(())
    }

    pub(super) fn wait(&mut self, timeout: Option<Duration>, ready: &mut Vec<u64>) -> Result<()> {
        let submitted = match timeout {
            Some(t) => {
                let ts = types::Timespec::from(t);
                let args = types::SubmitArgs::new().timespec(&ts);
                self.ring.submitter().submit_with_args(1, &args)
            }
            None => self.ring.submit_and_wait(1),
        };
        match submitted {
            Ok(_) => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::ETIME | libc::EINTR)) => {}
            Err(e) => return Err(err(e)),
        }
        for cqe in self.ring.completion() {
            // Cancels, and polls that completed only because they were
            // cancelled, report nothing.
            if cqe.user_data() == CANCEL || cqe.result() == -libc::ECANCELED {
                continue;
            }
            ready.push(cqe.user_data());
        }
        Ok(())
    }
}
