//! A terminal for a process in a container (`exec -it`, `run -it`,
//! `debug -it`), as runc gives one: a pty of the container's own devpts,
//! opened by the process's child setup once its mounts are made (core's
//! `ProcessSpec::tty`), so the process sees `/dev/pts/N` of its
//! `/dev/pts` as its controlling terminal; the master comes back to
//! peapod. The caller's terminal goes into raw mode for as long as the
//! relay runs ([`RawMode`], restored on every way out), its size is the
//! pty's at the start and is copied to it on each `SIGWINCH`, keys go in
//! and output comes out until the process ends.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use peapod_core::{ContainerSpawn, ExitStatus, Process, Stdio, TerminationSignals, WindowSize};
use rustix::event::{PollFd, PollFlags, poll};
use rustix::io::Errno;
use rustix::termios::{OptionalActions, Termios};

use crate::error::{Error, Result};

/// Starts `spawn` on a terminal of its own (a pty of the `/dev/pts` it
/// sees) of `size` (0×0 when `None`); returns the process, started, and
/// the pty's master.
pub(crate) fn spawn_on_own_terminal(
    mut spawn: ContainerSpawn<'_>,
    size: Option<WindowSize>,
) -> peapod_core::Result<(Process, OwnedFd)> {
    spawn.process.tty = true;
    spawn.process.window_size = size;
    spawn.stdio = Stdio::default();
    let mut held = spawn.spawn_held()?;
    let master = held.terminal()?;
    Ok((held.release()?, master))
}

/// The size of the caller's terminal, when it has one.
pub(crate) fn caller_window_size() -> Option<WindowSize> {
    caller_terminal().and_then(WindowSize::of)
}

/// The caller's terminal: its stdin, else its stdout, when one is.
pub(crate) fn caller_terminal() -> Option<BorrowedFd<'static>> {
    [rustix::stdio::stdin(), rustix::stdio::stdout()]
        .into_iter()
        .find(|fd| rustix::termios::isatty(fd))
}

/// Relays the caller's stdio to the pty whose master is `master` (the
/// process's terminal) until `process` ends: the caller's terminal raw
/// meanwhile when its input is relayed (`stdin`) and is a terminal;
/// returns the process's exit status.
pub(crate) fn relay(
    master: &OwnedFd,
    stdin: bool,
    process: &Process,
    signals: &TerminationSignals,
) -> Result<ExitStatus> {
    let caller_in = rustix::stdio::stdin();
    let _raw = if stdin && rustix::termios::isatty(caller_in) {
        Some(RawMode::enter(caller_in)?)
    } else {
        None
    };
    Relay {
        master: master.as_fd(),
        input: stdin.then_some(caller_in),
        output: rustix::stdio::stdout(),
        terminal: caller_terminal(),
    }
    .run(process, signals)
}

/// The caller's terminal in raw mode (no echo, no line editing, no
/// signals from keys: every key goes to the process); its settings come
/// back when dropped, whichever way the relay ends.
#[derive(Debug)]
pub(crate) struct RawMode<'a> {
    fd: BorrowedFd<'a>,
    saved: Termios,
}

impl<'a> RawMode<'a> {
    /// Puts terminal `fd` in raw mode.
    pub(crate) fn enter(fd: BorrowedFd<'a>) -> Result<Self> {
        Self::with_output(fd, false)
    }

    /// Raw input only: output keeps its processing (`\n` → `\r\n`),
    /// for output that comes as lines of a log rather than from a pty.
    pub(crate) fn input_only(fd: BorrowedFd<'a>) -> Result<Self> {
        Self::with_output(fd, true)
    }

    fn with_output(fd: BorrowedFd<'a>, keep_output: bool) -> Result<Self> {
        let saved = rustix::termios::tcgetattr(fd).map_err(|e| Error::sys("tcgetattr", e))?;
        let mut raw = saved.clone();
        raw.make_raw();
        if keep_output {
            raw.output_modes = saved.output_modes;
        }
        rustix::termios::tcsetattr(fd, OptionalActions::Now, &raw)
            .map_err(|e| Error::sys("tcsetattr", e))?;
        Ok(Self { fd, saved })
    }
}

impl Drop for RawMode<'_> {
    fn drop(&mut self) {
        let _ = rustix::termios::tcsetattr(self.fd, OptionalActions::Now, &self.saved);
    }
}

/// Copies terminal `from`'s size to `to`; a `from` that is no terminal
/// leaves `to` as it is.
pub(crate) fn copy_window_size(from: BorrowedFd<'_>, to: BorrowedFd<'_>) {
    if let Ok(size) = rustix::termios::tcgetwinsize(from) {
        let _ = rustix::termios::tcsetwinsize(to, size);
    }
}

/// What the relay moves between the caller and the pty.
struct Relay<'a> {
    /// The pty's master.
    master: BorrowedFd<'a>,
    /// The caller's input, `None` when it is not passed (`-t` without
    /// `-i`).
    input: Option<BorrowedFd<'a>>,
    /// Where the process's output goes.
    output: BorrowedFd<'a>,
    /// The terminal whose size the pty follows.
    terminal: Option<BorrowedFd<'a>>,
}

impl Relay<'_> {
    /// Moves bytes until `process` ends, then what it left in the pty;
    /// returns its exit status. A termination signal of the caller is
    /// passed on to the process (the second one kills it).
    pub(crate) fn run(
        mut self,
        process: &Process,
        signals: &TerminationSignals,
    ) -> Result<ExitStatus> {
        let fail = |e: peapod_core::Error| Error::pod("exec", e);
        let mut master_open = true;
        let mut passed = false;
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            if let Some(status) = process.try_wait().map_err(fail)? {
                if master_open {
                    self.drain(&mut buf)?;
                }
                return Ok(status);
            }
            let (pidfd, sigfd) = (process.pidfd(), signals.fd());
            let mut fds = vec![
                PollFd::new(&pidfd, PollFlags::IN),
                PollFd::new(&sigfd, PollFlags::IN),
            ];
            if master_open {
                fds.push(PollFd::new(&self.master, PollFlags::IN));
            }
            if let Some(input) = &self.input {
                fds.push(PollFd::new(input, PollFlags::IN));
            }
            match poll(&mut fds, None) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(e) => return Err(Error::sys("poll", e)),
            }
            let ready: Vec<bool> = fds.iter().map(|f| !f.revents().is_empty()).collect();
            drop(fds);
            while let Some(signal) = signals.read() {
                if signal == TerminationSignals::WINDOW_CHANGE {
                    if let Some(t) = self.terminal {
                        copy_window_size(t, self.master);
                    }
                } else if passed {
                    process.kill().map_err(fail)?;
                } else {
                    let _ = process.signal(signal);
                    passed = true;
                }
            }
            let mut next = 2;
            if master_open {
                if ready[next] {
                    master_open = self.copy_output(&mut buf)?;
                }
                next += 1;
            }
            if self.input.is_some() && ready[next] {
                self.copy_input(&mut buf)?;
            }
        }
    }

    /// Copies what the master has to the output; `false` once the pty
    /// is closed on the process's side (every slave fd gone: `EIO`).
    fn copy_output(&self, buf: &mut [u8]) -> Result<bool> {
        match rustix::io::read(self.master, &mut *buf) {
            Ok(0) | Err(Errno::IO) => Ok(false),
            Ok(n) => {
                write_all(self.output, &buf[..n])?;
                Ok(true)
            }
            Err(Errno::INTR | Errno::AGAIN) => Ok(true),
            Err(e) => Err(Error::sys("read pty", e)),
        }
    }

    /// Copies the caller's input to the master; at its end, stops
    /// reading it.
    fn copy_input(&mut self, buf: &mut [u8]) -> Result<()> {
        let Some(input) = self.input else {
            return Ok(());
        };
        match rustix::io::read(input, &mut *buf) {
            Ok(0) => self.input = None,
            Ok(n) => write_all(self.master, &buf[..n])?,
            Err(Errno::INTR | Errno::AGAIN) => {}
            Err(e) => return Err(Error::sys("read stdin", e)),
        }
        Ok(())
    }

    /// After the process ended: what is left in the pty, without waiting
    /// for a child of it that still holds the terminal.
    fn drain(&self, buf: &mut [u8]) -> Result<()> {
        loop {
            let mut fds = [PollFd::new(&self.master, PollFlags::IN)];
            match poll(&mut fds, Some(&rustix::event::Timespec::default())) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(Errno::INTR) => continue,
                Err(e) => return Err(Error::sys("poll", e)),
            }
            if !fds[0].revents().contains(PollFlags::IN) || !self.copy_output(buf)? {
                return Ok(());
            }
        }
    }
}

/// Writes all of `bytes` to `fd` (blocking).
fn write_all(fd: BorrowedFd<'_>, bytes: &[u8]) -> Result<()> {
    match write_all_to(fd, bytes) {
        Err(Errno::PIPE) => crate::die_of_sigpipe(),
        other => other.map_err(|e| Error::sys("write", e)),
    }
}

/// Writes all of `bytes` to `fd`, waiting for room when it is
/// non-blocking (a pty master another process reads too).
pub(crate) fn write_all_to(fd: BorrowedFd<'_>, mut bytes: &[u8]) -> rustix::io::Result<()> {
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => {
                let mut fds = [PollFd::new(&fd, PollFlags::OUT)];
                poll(&mut fds, None)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
