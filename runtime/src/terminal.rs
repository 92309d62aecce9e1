//! A terminal for a process in a container (`exec -it`), as runc gives
//! one: a pty allocated in the container's own devpts, so the process
//! sees `/dev/pts/N` of its `/dev/pts` and can make it its controlling
//! terminal (setsid and `TIOCSCTTY` in the child, core's spawn). The
//! caller's terminal goes into raw mode for as long as the relay runs
//! ([`RawMode`], restored on every way out), its size is copied to the
//! pty at the start and on each `SIGWINCH`, keys go in and output comes
//! out until the process ends.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use peapod_core::{ExitStatus, Process, Stdio, TerminationSignals};
use rustix::event::{PollFd, PollFlags, poll};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::pty::OpenptFlags;
use rustix::termios::{OptionalActions, Termios};

use crate::error::{Error, Result};

/// A pty's two ends.
#[derive(Debug)]
pub(crate) struct Pty {
    /// The side peapod reads and writes.
    pub(crate) master: OwnedFd,
    /// The process's terminal (its stdin, stdout and stderr).
    pub(crate) slave: OwnedFd,
}

impl Pty {
    /// A new pty of the devpts mounted at `/dev/pts` in the root of
    /// process `pid` (a container's process).
    pub(crate) fn in_root_of(pid: i32) -> Result<Self> {
        let ptmx = format!("/proc/{pid}/root/dev/pts/ptmx");
        let master = rustix::fs::open(
            &ptmx,
            OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::sys("open the container's /dev/pts/ptmx", e))?;
        rustix::pty::unlockpt(&master).map_err(|e| Error::sys("unlockpt", e))?;
        // The peer by the master's fd, not by a path: the slave of this
        // very devpts instance, whatever the caller's mounts are.
        let slave = rustix::pty::ioctl_tiocgptpeer(
            &master,
            OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC,
        )
        .map_err(|e| Error::sys("TIOCGPTPEER", e))?;
        Ok(Self { master, slave })
    }

    /// A new pty of the host's devpts (`peapod run -t`: the container's
    /// devpts is not mounted yet when its stdio is set up).
    pub(crate) fn on_host() -> Result<Self> {
        let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
        let master = rustix::pty::openpt(flags).map_err(|e| Error::sys("open /dev/ptmx", e))?;
        rustix::pty::unlockpt(&master).map_err(|e| Error::sys("unlockpt", e))?;
        let slave = rustix::pty::ioctl_tiocgptpeer(&master, flags)
            .map_err(|e| Error::sys("TIOCGPTPEER", e))?;
        Ok(Self { master, slave })
    }

    /// The slave as a process's stdin, stdout and stderr, the pty's size
    /// the caller's terminal's.
    pub(crate) fn slave_stdio(&self) -> Result<Stdio> {
        if let Some(t) = caller_terminal() {
            copy_window_size(t, self.master.as_fd());
        }
        let slave = || self.slave.try_clone().map_err(|e| Error::sys("dup pty", e));
        Ok(Stdio {
            stdin: Some(slave()?),
            stdout: Some(slave()?),
            stderr: Some(slave()?),
        })
    }
}

/// The caller's terminal: its stdin, else its stdout, when one is.
pub(crate) fn caller_terminal() -> Option<BorrowedFd<'static>> {
    [rustix::stdio::stdin(), rustix::stdio::stdout()]
        .into_iter()
        .find(|fd| rustix::termios::isatty(fd))
}

/// Relays the caller's stdio to `pty` (its slave given to `process`)
/// until `process` ends: the caller's terminal raw meanwhile when its
/// input is relayed (`stdin`) and is a terminal; returns the process's
/// exit status.
pub(crate) fn relay(
    pty: Pty,
    stdin: bool,
    process: &Process,
    signals: &TerminationSignals,
) -> Result<ExitStatus> {
    // Only the process holds the slave now: its end is the pty's end.
    drop(pty.slave);
    let caller_in = rustix::stdio::stdin();
    let _raw = if stdin && rustix::termios::isatty(caller_in) {
        Some(RawMode::enter(caller_in)?)
    } else {
        None
    };
    Relay {
        master: pty.master.as_fd(),
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
