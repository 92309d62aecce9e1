//! `exec`: a new process in a running container, joining every namespace
//! of the container's process (by pidfd) and its cgroup, through core's
//! spawn, with the container's identity, capabilities and no_new_privs
//! (`security_context`, as at its start). The caller's stdio is the
//! process's, or with a tty a pty of the container relayed to the
//! caller's terminal ([`crate::terminal`]); its exit code is returned.

use std::os::fd::{AsFd, OwnedFd};

use peapod_core::{CgroupHierarchy, ContainerSpawn, NamespacePlan, Stdio, TerminationSignals};
use peapod_image::Store;
use peapod_spec::{Container, Pod};
use rustix::fs::{Mode, OFlags};
use rustix::process::{Pid, PidfdFlags};

use crate::container_process;
use crate::error::{Error, Result};
use crate::images;
use crate::paths::Paths;
use crate::seccomp_profile;
use crate::security_context::PodSecurity;
use crate::state::{Liveness, PodDir, PodKey, StateStore};
use crate::teardown;
use crate::terminal;

/// What to run where.
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    /// The container; the pod's first app container when `None`.
    pub container: Option<String>,
    /// The command.
    pub argv: Vec<String>,
    /// Pass stdin (`-i`); without it the process reads `/dev/null`.
    pub stdin: bool,
    /// A new pty of the container becomes the process's controlling
    /// terminal (`-t`), relayed to the caller's (in raw mode while the
    /// process runs, when the caller's stdin is a terminal).
    pub tty: bool,
}

/// Where an exec's stdin and stdout go instead of the caller's (`cp`'s
/// tar streams).
#[derive(Debug, Default)]
pub struct Streams {
    /// The process's stdin (else the caller's with `-i`, `/dev/null`
    /// without).
    pub stdin: Option<OwnedFd>,
    /// The process's stdout (else the caller's).
    pub stdout: Option<OwnedFd>,
}

/// Runs `request` in pod `key`; returns the exit code (128 + n for a
/// signal).
pub fn exec(paths: &Paths, key: &PodKey, request: &ExecRequest) -> Result<i32> {
    exec_with(paths, key, request, Streams::default())
}

/// [`exec`] with `streams` as the process's stdin and stdout.
pub fn exec_with(
    paths: &Paths,
    key: &PodKey,
    request: &ExecRequest,
    streams: Streams,
) -> Result<i32> {
    let dir = StateStore::new(paths).existing(key)?;
    let pod = dir.read_pod()?;
    let container = named_or_first(&pod, request.container.as_ref());
    let Some(spec) = pod
        .spec
        .containers
        .iter()
        .chain(&pod.spec.init_containers)
        .find(|c| c.name == container)
    else {
        return Err(Error::NoSuchContainer {
            pod: key.name.clone(),
            container,
        });
    };
    let image_id = pod
        .status
        .as_ref()
        .into_iter()
        .flat_map(|s| {
            s.container_statuses
                .iter()
                .chain(&s.init_container_statuses)
        })
        .find(|s| s.name == container)
        .map(|s| s.image_id.clone())
        .unwrap_or_default();
    let target = ExecTarget::find(paths, &dir, &pod, spec, &image_id, &request.argv)?;
    let stdin = match streams.stdin {
        Some(fd) => Some(fd),
        None if request.stdin => None,
        None => Some(dev_null()?),
    };
    let stdio = Stdio {
        stdin,
        stdout: streams.stdout,
        stderr: None,
    };
    let spawn = target.spawn(stdio);
    if request.tty {
        return with_terminal(spawn, request.stdin, &container);
    }
    let child = spawn.spawn().map_err(|e| Error::container(&container, e))?;
    let status = child.wait().map_err(|e| Error::container(&container, e))?;
    Ok(status.exit_code())
}

/// A running container to exec in: its process (by pidfd), its cgroup,
/// and the process an exec runs as.
#[derive(Debug)]
pub(crate) struct ExecTarget {
    /// The container's name.
    pub container: String,
    pidfd: std::os::fd::OwnedFd,
    cgroup: peapod_core::Cgroup,
    process: peapod_core::ProcessSpec,
}

impl ExecTarget {
    /// The running container `spec` of the pod in `dir` (started from
    /// image `image_id`), to run `argv` in.
    pub(crate) fn find(
        paths: &Paths,
        dir: &PodDir,
        pod: &Pod,
        spec: &Container,
        image_id: &str,
        argv: &[String],
    ) -> Result<Self> {
        let container = spec.name.clone();
        // With its supervisor killed, a container may well still run: its
        // process record (pid and start time) says, not the supervisor's.
        let orphaned = dir.liveness()? != Liveness::Alive;
        let not_running = || {
            let why = if orphaned {
                "container is not running (its process ended after the pod's supervisor was killed)"
            } else {
                "container is not running"
            };
            Error::container(&container, why)
        };
        let record = dir.read_supervisor()?.unwrap_or_default();
        let target = *record.containers.get(&container).ok_or_else(not_running)?;
        let pid = Pid::from_raw(target.pid).ok_or_else(not_running)?;
        let pidfd =
            rustix::process::pidfd_open(pid, PidfdFlags::empty()).map_err(|_| not_running())?;
        // Opened first, checked after: the pidfd is the container's process,
        // not a recycled pid.
        if !target.is_alive() {
            return Err(not_running());
        }
        // The container's process recomputed from its spec and its image,
        // by the function that made it (no record of it to keep in step):
        // the same working folder, user, groups, capabilities and
        // no_new_privs; the environment is the one the container's process
        // started with.
        let store = Store::open(paths.images()).map_err(|e| Error::container(&container, e))?;
        let image = images::started_from(&store, spec, image_id)?;
        let security = PodSecurity::of(pod)
            .map_err(|e| Error::container(&container, e))?
            .container(spec, &image.identity)?;
        let mut process = container_process::process_spec(spec, &image.defaults, "");
        process.argv = argv.to_vec();
        if let Ok(environ) = std::fs::read(format!("/proc/{}/environ", target.pid)) {
            process.env = environ
                .split(|&b| b == 0)
                .filter(|e| !e.is_empty())
                .map(|e| String::from_utf8_lossy(e).into_owned())
                .collect();
        }
        security.apply(&mut process);
        // The container's own `tty` is not the exec's: a terminal only
        // when the caller asks for one (and brings it).
        process.tty = false;
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        // The filter the container got when it was created, not compiled again.
        let container_dir =
            crate::container::layers_dir(&teardown::run_dir(paths, &uid), &container);
        process.seccomp = seccomp_profile::read_exec_record(&container, &container_dir)?;
        // The cgroup the container's process is in, wherever its pod's is.
        let cgroup = process_cgroup(target.pid).map_err(|e| Error::container(&container, e))?;
        Ok(Self {
            container,
            pidfd,
            cgroup,
            process,
        })
    }

    /// The spawn of the exec's process with `stdio`.
    pub(crate) fn spawn(&self, stdio: Stdio) -> ContainerSpawn<'_> {
        ContainerSpawn {
            process: self.process.clone(),
            namespaces: NamespacePlan::exec(),
            join_from: Some(self.pidfd.as_fd()),
            mounts: None,
            cgroup: Some(&self.cgroup),
            stdio,
        }
    }
}

/// The cgroup (v2: the unified one; v1: each controller's) process `pid`
/// is in, from `/proc/<pid>/cgroup`.
pub(crate) fn process_cgroup(pid: i32) -> peapod_core::Result<peapod_core::Cgroup> {
    let hierarchy = CgroupHierarchy::detect()?;
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    // `0::/path` on v2; on v1 the line of a controller peapod uses.
    let rel = text
        .lines()
        .find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let wanted = controllers.is_empty()
                || controllers.split(',').any(|c| c == "memory" || c == "pids");
            wanted.then_some(path)
        })
        .unwrap_or_default()
        .to_owned();
    Ok(hierarchy.open(rel))
}

/// The container `named`, else the pod's first app container.
pub(crate) fn named_or_first(pod: &Pod, named: Option<&String>) -> String {
    named.cloned().unwrap_or_else(|| {
        pod.spec
            .containers
            .first()
            .map(|c| c.name.clone())
            .unwrap_or_default()
    })
}

/// `/dev/null` to read from.
pub(crate) fn dev_null() -> Result<std::os::fd::OwnedFd> {
    rustix::fs::open("/dev/null", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| Error::sys("open /dev/null", e))
}

/// Runs `spawn` on a new pty of the container's own devpts, relayed to
/// the caller's terminal ([`terminal::relay`]).
fn with_terminal(spawn: ContainerSpawn<'_>, stdin: bool, container: &str) -> Result<i32> {
    let fail = |e: &dyn std::fmt::Display| Error::container(container, e);
    let signals = TerminationSignals::block_with_window_changes().map_err(|e| fail(&e))?;
    let (child, master) = terminal::spawn_on_own_terminal(spawn, terminal::caller_window_size())
        .map_err(|e| fail(&e))?;
    Ok(terminal::relay(&master, stdin, &child, &signals)?.exit_code())
}
