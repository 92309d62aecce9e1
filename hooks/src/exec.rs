//! `exec`: a command inside a running container — its namespaces (joined
//! by the pidfd of the container's process), its cgroup and its security
//! context (user, groups, capabilities, no_new_privs, rlimits, env, working
//! folder, all copied from the container's own `ProcessSpec`) — through
//! core's spawn, as `peapod exec` does.
//!
//! Non-blocking: the spawn returns once the command has called `execve`;
//! then the event loop watches its pidfd (exit) and the read end of its
//! output pipe (stdout and stderr together, as kubelet combines them).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use peapod_core::{Cgroup, ContainerSpawn, NamespacePlan, Process, ProcessSpec, Stdio};
use rustix::io::Errno;

use crate::error::{Error, Result};
use crate::handler::Exec;
use crate::outcome::{MAX_OUTPUT, Outcome, Verdict, truncate};

/// The running container an `exec` handler runs in.
#[derive(Debug, Clone, Copy)]
pub struct ExecTarget<'a> {
    /// The pidfd of the container's process: its namespaces are joined.
    pub pidfd: BorrowedFd<'a>,
    /// The container's cgroup, which the command is born in.
    pub cgroup: Option<&'a Cgroup>,
    /// The container's own process: env, working folder, credentials,
    /// capabilities, no_new_privs and rlimits are copied from it; `argv`,
    /// `tty` and `hostname` are not.
    pub process: &'a ProcessSpec,
}

/// A command in flight.
#[derive(Debug)]
pub(crate) struct ExecRun {
    process: Option<Process>,
    output: OwnedFd,
    kept: Vec<u8>,
    eof: bool,
    command: Vec<String>,
    /// Killed, not reaped yet.
    killed: Option<Process>,
}

impl ExecRun {
    /// Starts `exec` in `target`; returns once the command runs.
    pub(crate) fn spawn(exec: &Exec, target: &ExecTarget<'_>) -> Result<Self> {
        let mut process = target.process.clone();
        process.argv.clone_from(&exec.command);
        process.tty = false;
        process.hostname = None;
        let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
            .map_err(|e| Error::io("pipe for exec output", e))?;
        rustix::io::ioctl_fionbio(&read, true)
            .map_err(|e| Error::io("non-blocking exec output", e))?;
        let stdin = std::fs::File::open("/dev/null").map_err(|e| Error::io("open /dev/null", e))?;
        let stderr = write
            .try_clone()
            .map_err(|e| Error::io("dup exec output pipe", e))?;
        let spawn = ContainerSpawn {
            process,
            namespaces: NamespacePlan::exec(),
            join_from: Some(target.pidfd),
            mounts: None,
            cgroup: target.cgroup,
            stdio: Stdio {
                stdin: Some(OwnedFd::from(stdin)),
                stdout: Some(write),
                stderr: Some(stderr),
            },
        };
        let process = spawn.spawn()?;
        Ok(Self {
            process: Some(process),
            output: read,
            kept: Vec::new(),
            eof: false,
            command: exec.command.clone(),
            killed: None,
        })
    }

    /// The pidfd to watch for the exit; `None` once reaped.
    pub(crate) fn pidfd(&self) -> Option<BorrowedFd<'_>> {
        self.process.as_ref().map(Process::pidfd)
    }

    /// The output pipe to watch, until it reaches its end.
    pub(crate) fn output(&self) -> Option<BorrowedFd<'_>> {
        (!self.eof).then(|| self.output.as_fd())
    }

    /// Reads what the pipe holds now, up to [`DRAIN_BUDGET`], keeping the
    /// first 10 KiB and discarding the rest (so a chatty command never
    /// blocks on a full pipe, and never holds the caller's loop: the pipe
    /// is watched again).
    pub(crate) fn drain(&mut self) -> Result<()> {
        let mut buf = [0u8; 4096];
        let mut left = DRAIN_BUDGET;
        while !self.eof && left > 0 {
            match rustix::io::read(&self.output, &mut buf) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    left = left.saturating_sub(n);
                    let room = MAX_OUTPUT.saturating_sub(self.kept.len());
                    self.kept.extend_from_slice(&buf[..n.min(room)]);
                }
                Err(Errno::AGAIN) => break,
                Err(Errno::INTR) => {}
                Err(e) => return Err(Error::io("read exec output", e)),
            }
        }
        Ok(())
    }

    /// The outcome once the command has exited (reaped here), with what it
    /// wrote so far; `None` while it runs. A child it left writing to the
    /// pipe is not waited for: one more bounded read, and the outcome.
    pub(crate) fn try_finish(&mut self) -> Result<Option<Outcome>> {
        let Some(process) = &self.process else {
            return Ok(None);
        };
        let Some(status) = process.try_wait()? else {
            return Ok(None);
        };
        self.process = None;
        self.drain()?;
        let mut output = String::from_utf8_lossy(&self.kept).into_owned();
        truncate(&mut output, MAX_OUTPUT);
        let verdict = if status.success() {
            Verdict::Success
        } else {
            Verdict::Failure
        };
        let mut outcome = Outcome::with(verdict, output);
        outcome.exit_code = Some(status.exit_code());
        Ok(Some(outcome))
    }

    /// Kills the command for its timeout: kubelet's `command "..." timed
    /// out`.
    pub(crate) fn time_out(&mut self) -> Outcome {
        self.kill();
        Outcome::timed_out(format!("command {:?} timed out", self.command.join(" ")))
    }

    /// SIGKILLs the command, if it still runs; a process not gone at once
    /// waits in [`ExecRun::take_killed`] to be reaped.
    pub(crate) fn kill(&mut self) {
        if let Some(p) = self.process.take() {
            let _ = p.kill();
            if !matches!(p.try_wait(), Ok(Some(_))) {
                self.killed = Some(p);
            }
        }
    }

    /// The killed command, not reaped yet: the caller's loop watches its
    /// pidfd and reaps it.
    pub(crate) fn take_killed(&mut self) -> Option<Process> {
        self.killed.take()
    }
}

impl Drop for ExecRun {
    /// A run dropped without [`ExecRun::kill`] and [`ExecRun::take_killed`]
    /// (a caller without a loop): killed, and reaped on a small thread.
    fn drop(&mut self) {
        for p in [self.process.take(), self.killed.take()]
            .into_iter()
            .flatten()
        {
            kill_and_reap(p);
        }
    }
}

/// At most this much output is read per [`ExecRun::drain`].
const DRAIN_BUDGET: usize = 64 * 1024;

/// SIGKILL, then reap: at once when it is already gone, else on a small
/// thread that waits for it, for callers that dropped a run rather than
/// reaping its killed command on their loop ([`crate::Run::cancel`]).
fn kill_and_reap(process: Process) {
    let _ = process.kill();
    if let Ok(Some(_)) = process.try_wait() {
        return;
    }
    reap_on_thread(process);
}

/// Waits for `process` (killed) on a small thread of its own.
pub(crate) fn reap_on_thread(process: Process) {
    let spawned = std::thread::Builder::new()
        .name("exec-reaper".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let _ = process.wait();
        });
    if let Err(e) = spawned {
        tracing::warn!("no thread to reap a killed exec: {e}");
    }
}
