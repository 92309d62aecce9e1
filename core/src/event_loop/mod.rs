//! The supervisor's single-threaded event loop: process exits (pidfds),
//! readable fds (log pipes, the control socket) and timers, each reported
//! with the caller's token.
//!
//! Two backends with the same behaviour: **io_uring** (a `PollAdd` on a
//! pidfd completes when the process exits), and **epoll** through `mio`,
//! chosen at start when io_uring is unavailable (seccomp, old kernel, no
//! `EXT_ARG` timeouts) or when `PEAPOD_EVENT_LOOP=epoll`. Every watch is
//! one-shot: it reports once and is gone; watch again to wait again. The
//! caller keeps each fd open while it is watched. Timers are kept here, in
//! a heap, for both backends.

mod epoll;
mod uring;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use crate::error::Result;

/// What happened to a watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The watched process exited (reap it with `Process::try_wait`).
    Exited,
    /// The watched fd is readable (or hung up).
    Readable,
    /// The timer fired.
    Timer,
}

/// One report of [`EventLoop::wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// The caller's token given with the watch.
    pub token: u64,
    /// What happened.
    pub kind: EventKind,
}

/// Which backend runs the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventLoopBackend {
    /// io_uring.
    IoUring,
    /// epoll, through mio.
    Epoll,
}

/// A watched fd. Its key for the backend (io_uring user data, mio token)
/// is `generation << 32 | slot`, so a late completion of a cancelled
/// watch never lands on the newer watch that reuses the slot.
#[derive(Debug, Clone, Copy)]
struct Watch {
    token: u64,
    kind: EventKind,
    generation: u32,
}

impl Watch {
    fn key(&self, slot: usize) -> u64 {
        (u64::from(self.generation) << 32) | slot as u64
    }
}

enum Backend {
    Uring(uring::Uring),
    Epoll(epoll::Epoll),
}

/// The event loop. See the module docs.
pub struct EventLoop {
    backend: Backend,
    watches: Vec<Option<Watch>>,
    timers: BinaryHeap<Reverse<(Instant, u64, u64)>>,
    timer_seq: u64,
    generation: u32,
}

impl std::fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLoop")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl EventLoop {
    /// io_uring when it works here and `PEAPOD_EVENT_LOOP` is not `epoll`;
    /// epoll otherwise.
    pub fn new() -> Result<Self> {
        if std::env::var("PEAPOD_EVENT_LOOP").as_deref() != Ok("epoll") {
            match Self::with_backend(EventLoopBackend::IoUring) {
                Ok(l) => return Ok(l),
                Err(e) => tracing::debug!("io_uring unavailable, using epoll: {e}"),
            }
        }
        Self::with_backend(EventLoopBackend::Epoll)
    }

    /// A loop on the given backend, or the error that backend gives here.
    pub fn with_backend(backend: EventLoopBackend) -> Result<Self> {
        let backend = match backend {
            EventLoopBackend::IoUring => Backend::Uring(uring::Uring::new()?),
            EventLoopBackend::Epoll => Backend::Epoll(epoll::Epoll::new()?),
        };
        Ok(Self {
            backend,
            watches: Vec::new(),
            timers: BinaryHeap::new(),
            timer_seq: 0,
            generation: 0,
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> EventLoopBackend {
        match self.backend {
            Backend::Uring(_) => EventLoopBackend::IoUring,
            Backend::Epoll(_) => EventLoopBackend::Epoll,
        }
    }

    /// Reports [`EventKind::Exited`] with `token` once the process of
    /// `pidfd` exits.
    pub fn watch_process(&mut self, pidfd: BorrowedFd<'_>, token: u64) -> Result<()> {
        self.watch(pidfd.as_raw_fd(), token, EventKind::Exited)
    }

    /// Reports [`EventKind::Readable`] with `token` once `fd` is readable.
    pub fn watch_readable(&mut self, fd: BorrowedFd<'_>, token: u64) -> Result<()> {
        self.watch(fd.as_raw_fd(), token, EventKind::Readable)
    }

    /// Reports [`EventKind::Timer`] with `token` after `after`.
    pub fn add_timer(&mut self, after: Duration, token: u64) {
        self.timer_seq += 1;
        self.timers
            .push(Reverse((Instant::now() + after, self.timer_seq, token)));
    }

    /// Drops every watch and timer with `token` that has not reported
    /// yet (a grace-period timer once the container exited, a log pipe of
    /// a removed container). Nothing is reported for them afterwards.
    pub fn unwatch(&mut self, token: u64) -> Result<()> {
        for slot in 0..self.watches.len() {
            if let Some(w) = self.watches[slot].filter(|w| w.token == token) {
                match &mut self.backend {
                    Backend::Uring(u) => u.cancel(w.key(slot))?,
                    Backend::Epoll(e) => e.cancel(w.key(slot)),
                }
                self.watches[slot] = None;
            }
        }
        self.timers.retain(|Reverse((_, _, t))| *t != token);
        Ok(())
    }

    fn watch(&mut self, fd: RawFd, token: u64, kind: EventKind) -> Result<()> {
        let slot = self
            .watches
            .iter()
            .position(Option::is_none)
            .unwrap_or(self.watches.len());
        if slot == self.watches.len() {
            self.watches.push(None);
        }
        self.generation = self.generation.wrapping_add(1);
        let w = Watch {
            token,
            kind,
            generation: self.generation,
        };
        match &mut self.backend {
            Backend::Uring(u) => u.poll(fd, w.key(slot))?,
            Backend::Epoll(e) => e.poll(fd, w.key(slot))?,
        }
        self.watches[slot] = Some(w);
        Ok(())
    }

    /// Waits until at least one event is ready or `timeout` passes
    /// (`None`: no limit but the next timer), and appends what happened to
    /// `events`.
    pub fn wait(&mut self, events: &mut Vec<Event>, timeout: Option<Duration>) -> Result<()> {
        let now = Instant::now();
        let next_timer = self
            .timers
            .peek()
            .map(|Reverse((at, _, _))| at.saturating_duration_since(now));
        let timeout = match (timeout, next_timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut ready = Vec::new();
        match &mut self.backend {
            Backend::Uring(u) => u.wait(timeout, &mut ready)?,
            Backend::Epoll(e) => e.wait(timeout, &mut ready)?,
        }
        for key in ready {
            let slot = usize::try_from(key & 0xffff_ffff).unwrap_or(usize::MAX);
            let Some(entry) = self.watches.get_mut(slot) else {
                continue;
            };
            if let Some(w) = entry.filter(|w| w.key(slot) == key) {
                *entry = None;
                events.push(Event {
                    token: w.token,
                    kind: w.kind,
                });
            }
        }
        let now = Instant::now();
        while let Some(Reverse((at, _, token))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            events.push(Event {
                token,
                kind: EventKind::Timer,
            });
        }
        Ok(())
    }
}
