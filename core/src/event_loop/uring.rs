//! The io_uring backend: one-shot `PollAdd` per watch, waits with the
//! `EXT_ARG` timeout of `io_uring_enter`.

use std::os::fd::RawFd;
use std::time::Duration;

use io_uring::{IoUring, opcode, types};

use crate::error::{Error, Result};

const BACKEND: &str = "io_uring";

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

    pub(super) fn poll(&mut self, fd: RawFd, slot: usize) -> Result<()> {
        let entry = opcode::PollAdd::new(types::Fd(fd), u32::from(libc::POLLIN.cast_unsigned()))
            .build()
            .user_data(slot as u64);
        // SAFETY: a PollAdd holds no buffer; the fd stays open while
        // watched (the caller's promise), and the kernel takes its own
        // reference to the file anyway.
        if unsafe { self.ring.submission().push(&entry) }.is_err() {
            self.ring.submit().map_err(err)?;
            // SAFETY: as above.
            unsafe { self.ring.submission().push(&entry) }
                .map_err(|_| err(std::io::Error::other("submission queue full")))?;
        }
        Ok(())
    }

    pub(super) fn wait(&mut self, timeout: Option<Duration>, ready: &mut Vec<usize>) -> Result<()> {
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
            ready.push(usize::try_from(cqe.user_data()).unwrap_or(usize::MAX));
        }
        Ok(())
    }
}
