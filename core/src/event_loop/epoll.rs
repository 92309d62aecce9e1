//! The epoll backend, through mio: a watch is a registration removed when
//! it reports (mio is edge-triggered; `EPOLL_CTL_ADD` on a ready fd
//! reports at once, so one-shot watches lose nothing).

use std::collections::HashMap;
use std::os::fd::RawFd;
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::error::{Error, Result};

const BACKEND: &str = "epoll";

pub(super) struct Epoll {
    poll: Poll,
    events: Events,
    /// The fd of each watch key, to deregister it when it reports.
    fds: HashMap<u64, RawFd>,
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
            fds: HashMap::new(),
        })
    }

    pub(super) fn poll(&mut self, fd: RawFd, key: u64) -> Result<()> {
        let token = Token(
            usize::try_from(key).map_err(|_| err(std::io::Error::other("watch key too large")))?,
        );
        self.poll
            .registry()
            .register(&mut SourceFd(&fd), token, Interest::READABLE)
            .map_err(err)?;
        self.fds.insert(key, fd);
        Ok(())
    }

    /// Deregisters the watch of `key`, if it has not reported.
    pub(super) fn cancel(&mut self, key: u64) {
        if let Some(fd) = self.fds.remove(&key) {
            let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
        }
    }

    pub(super) fn wait(&mut self, timeout: Option<Duration>, ready: &mut Vec<u64>) -> Result<()> {
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(err(e)),
        }
        for event in &self.events {
            let key = event.token().0 as u64;
            if let Some(fd) = self.fds.remove(&key) {
                let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
                ready.push(key);
            }
        }
        Ok(())
    }
}
