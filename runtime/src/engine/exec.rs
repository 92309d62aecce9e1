//! Running a command in an engine container, from the caller's process
//! (joining the container's namespaces and cgroup by its pidfd, with its
//! identity and seccomp filter, as `peapod exec` does): with output
//! captured up to a timeout ([`Engine::exec_sync`]), or with stdio the
//! caller hands over, or on a new terminal of the container whose master
//! the caller relays ([`Engine::exec`]).

use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use peapod_core::{Process, Stdio};
use peapod_spec::Container;

use super::Engine;
use crate::error::{Error, Result};
use crate::exec::{ExecTarget, dev_null};

/// The file of a container's spec, in its layers folder: what an exec
/// recomputes the container's process from.
pub(crate) const SPEC_FILE: &str = "container.json";

/// What [`Engine::exec_sync`] got.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecOutput {
    /// Everything the command wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
    /// Its exit code (128 + n for signal n).
    pub exit_code: i32,
}

/// The stdio an exec's process gets; `None`: `/dev/null`.
#[derive(Debug, Default)]
pub struct ExecIo {
    /// Its stdin.
    pub stdin: Option<OwnedFd>,
    /// Its stdout.
    pub stdout: Option<OwnedFd>,
    /// Its stderr.
    pub stderr: Option<OwnedFd>,
}

/// A process started by [`Engine::exec`].
#[derive(Debug)]
pub struct ExecProcess {
    process: Process,
    master: Option<OwnedFd>,
}

impl ExecProcess {
    /// Its pid on the host.
    pub fn pid(&self) -> i32 {
        self.process.pid()
    }

    /// Its pidfd, readable once it exited (to wait on in a loop).
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.process.pidfd()
    }

    /// The master of its terminal (with `tty`): what it writes is read
    /// there, what is written there is its input; the window size is set
    /// on it (`TIOCSWINSZ`).
    pub fn terminal(&self) -> Option<BorrowedFd<'_>> {
        self.master.as_ref().map(AsFd::as_fd)
    }

    /// Takes the master of its terminal (with `tty`): closed by the
    /// caller, the terminal hangs up and the process gets SIGHUP.
    pub fn take_terminal(&mut self) -> Option<OwnedFd> {
        self.master.take()
    }

    /// Waits for it to end; its exit code (128 + n for signal n).
    ///
    /// # Errors
    /// `waitid` failed.
    pub fn wait(&self) -> Result<i32> {
        self.process
            .wait()
            .map(|s| s.exit_code())
            .map_err(|e| Error::sys("wait for exec", std::io::Error::other(e)))
    }

    /// Sends SIGKILL.
    pub fn kill(&self) {
        let _ = self.process.kill();
    }
}

impl Engine {
    /// Runs `argv` in running container `id` and returns its output and
    /// exit code; past `timeout` (none when zero) the process is killed
    /// and the call fails.
    pub fn exec_sync(&self, id: &str, argv: &[String], timeout: Duration) -> Result<ExecOutput> {
        let pipe = || {
            rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
                .map_err(|e| Error::sys("pipe", e))
        };
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        let process = self.exec(
            id,
            argv,
            ExecIo {
                stdin: None,
                stdout: Some(out_w),
                stderr: Some(err_w),
            },
            false,
        )?;
        // Each pipe drained on a thread of its own, to its end (every
        // writer gone) or the deadline.
        let (tx, rx) = mpsc::channel();
        for (which, fd) in [(0, out_r), (1, err_r)] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = std::fs::File::from(fd).read_to_end(&mut bytes);
                let _ = tx.send((which, bytes));
            });
        }
        drop(tx);
        let deadline = (!timeout.is_zero()).then(|| Instant::now() + timeout);
        let mut output = ExecOutput::default();
        for _ in 0..2 {
            let got = match deadline {
                Some(d) => rx.recv_timeout(d.saturating_duration_since(Instant::now())),
                None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            };
            match got {
                Ok((0, bytes)) => output.stdout = bytes,
                Ok((_, bytes)) => output.stderr = bytes,
                Err(_) => {
                    process.kill();
                    let _ = process.wait();
                    return Err(Error::Engine(format!(
                        "exec in {id}: timed out after {timeout:?}"
                    )));
                }
            }
        }
        output.exit_code = process.wait()?;
        Ok(output)
    }

    /// Starts `argv` in running container `id`, with `io` as its stdio,
    /// or with `tty` on a new terminal of the container (`io` unused),
    /// whose master [`ExecProcess::terminal`] gives.
    pub fn exec(&self, id: &str, argv: &[String], io: ExecIo, tty: bool) -> Result<ExecProcess> {
        let target = self.exec_target(id, argv)?;
        let fail = |e: &dyn std::fmt::Display| Error::container(&target.container, e);
        let or_null = |fd: Option<OwnedFd>| fd.map_or_else(dev_null, Ok);
        if tty {
            let spawn = target.spawn(Stdio::default());
            let (process, master) =
                crate::terminal::spawn_on_own_terminal(spawn, None).map_err(|e| fail(&e))?;
            return Ok(ExecProcess {
                process,
                master: Some(master),
            });
        }
        let stdio = Stdio {
            stdin: Some(or_null(io.stdin)?),
            stdout: Some(or_null(io.stdout)?),
            stderr: Some(or_null(io.stderr)?),
        };
        let process = target.spawn(stdio).spawn().map_err(|e| fail(&e))?;
        Ok(ExecProcess {
            process,
            master: None,
        })
    }

    /// What an exec in container `id` joins and runs as.
    fn exec_target(&self, id: &str, argv: &[String]) -> Result<ExecTarget> {
        let (dir, local) = self.container_of(id)?;
        let status = self.container_status(id)?;
        let pod = dir.read_pod()?;
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let file =
            crate::container::layers_dir(&crate::teardown::lib_dir(&self.paths, &uid), &local)
                .join(SPEC_FILE);
        let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
        let spec: Container = serde_json::from_slice(&bytes)
            .map_err(|e| Error::json(file.display().to_string(), e))?;
        ExecTarget::find(&self.paths, &dir, &pod, &spec, &status.image_id, argv)
    }
}
