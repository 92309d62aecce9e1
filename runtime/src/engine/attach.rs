//! Attaching to a container's stdio from any process: its input is the
//! stdin pipe's write end (or the terminal's master) its supervisor holds,
//! taken from the supervisor with `pidfd_getfd`; its output is its log
//! file, which the caller follows (CRI format).

use std::os::fd::{OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use super::{ContainerState, Engine};
use crate::error::{Error, Result};
use crate::state::{PodDir, ProcessRecord};

/// The file, in a container's layers folder, that holds the number of the
/// supervisor's fd of the container's input.
pub(crate) const INPUT_FD_FILE: &str = "input.fd";

/// What [`Engine::attach`] gives.
#[derive(Debug)]
pub struct Attached {
    /// Where to write the container's input: its stdin pipe (created with
    /// `stdin`) or its terminal's master (with `tty`; non-blocking, the
    /// file description the supervisor reads); `None` without either.
    pub input: Option<OwnedFd>,
    /// Its output: the log file to follow, CRI records
    /// (`<time> stdout|stderr F|P <line>`).
    pub log_path: PathBuf,
}

impl Engine {
    /// Attaches to created or running container `id`.
    pub fn attach(&self, id: &str) -> Result<Attached> {
        let (dir, local) = self.container_of(id)?;
        let status = self.container_status(id)?;
        if !matches!(
            status.state,
            ContainerState::Created | ContainerState::Running
        ) {
            return Err(Error::container(&local, "container is not running"));
        }
        let uid = dir.read_pod()?.metadata.uid.unwrap_or_default();
        let layers =
            crate::container::layers_dir(&crate::teardown::lib_dir(&self.paths, &uid), &local);
        let input = input_of(&dir, &layers, &local)?;
        Ok(Attached {
            input,
            log_path: status.log_path,
        })
    }
}

/// The input of container `local` of the sandbox or pod in `dir` (its
/// layers folder `layers`), taken from its supervisor with
/// `pidfd_getfd`; `None` when it has none (neither `stdin` nor `tty`).
pub(crate) fn input_of(dir: &PodDir, layers: &Path, local: &str) -> Result<Option<OwnedFd>> {
    let supervisor = || {
        let record = dir.read_supervisor()?.unwrap_or_default();
        Ok(ProcessRecord {
            pid: record.pid,
            start_time: record.start_time,
        })
    };
    input_held(
        layers,
        local,
        supervisor,
        "its sandbox's supervisor is gone",
    )
}

/// The input of container `local` (its layers folder `layers`), taken
/// with `pidfd_getfd` from the process `holder` names (a supervisor, or
/// the holder of a detached ephemeral container); `None` when it has
/// none. `gone` says why not when that process has ended.
pub(crate) fn input_held(
    layers: &Path,
    local: &str,
    holder: impl FnOnce() -> Result<ProcessRecord>,
    gone: &str,
) -> Result<Option<OwnedFd>> {
    let file = layers.join(INPUT_FD_FILE);
    let number = match std::fs::read_to_string(&file) {
        Ok(text) => text.trim().parse::<RawFd>().ok(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(&file, e)),
    };
    let Some(fd) = number else {
        return Ok(None);
    };
    let supervisor = holder()?;
    let gone = || Error::container(local, gone);
    let pid = rustix::process::Pid::from_raw(supervisor.pid).ok_or_else(gone)?;
    let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())
        .map_err(|_| gone())?;
    // Opened first, checked after: not a recycled pid.
    if !supervisor.is_alive() {
        return Err(gone());
    }
    let taken = rustix::process::pidfd_getfd(&pidfd, fd, rustix::process::PidfdGetfdFlags::empty())
        .map_err(|e| Error::sys("pidfd_getfd", e))?;
    Ok(Some(taken))
}
