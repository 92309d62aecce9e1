//! The epoll backend, through mio: a watch is a registration removed when
//! it reports (mio is edge-triggered; `EPOLL_CTL_ADD` on a ready fd
//! reports at once, so one-shot watches lose nothing).

use std::os::fd::RawFd;
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::error::{Error, Result};

const BACKEND: &str = "epoll";

pub(super) struct Epoll {
    poll: Poll,
    events: Events,
    /// The fd of each slot, to deregister it when it reports.
    fds: Vec<Option<RawFd>>,
}

fn err(source: std::io::Error) -> Error {
    Error::EventLoop {
        backend: BACKEND,
        source,
    }
}

impl Epoll {
    pub(super) fn new() -> Result<Self> {
        Ok(Self {
            poll: Poll::new().map_err(err)?,
            events: Events::with_capacity(64),
            fds: Vec::new(),
        })
    }

    pub(super) fn poll(&mut self, fd: RawFd, slot: usize) -> Result<()> {
        self.poll
            .registry()
            .register(&mut SourceFd(&fd), Token(slot), Interest::READABLE)
            .map_err(err)?;
        if self.fds.len() <= slot {
            self.fds.resize(slot + 1, None);
        }
        self.fds[slot] = Some(fd);
        Ok(())
    }

    pub(super) fn wait(&mut self, timeout: Option<Duration>, ready: &mut Vec<usize>) -> Result<()> {
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(err(e)),
        }
        for event in &self.events {
            let slot = event.token().0;
            if let Some(fd) = self.fds.get_mut(slot).and_then(Option::take) {
                let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
                ready.push(slot);
            }
        }
        Ok(())
    }
}
