//! `exec`: a new process in a running container, joining every namespace
//! of the container's process (by pidfd) and its cgroup, through core's
//! spawn, with the container's identity, capabilities and no_new_privs
//! (`security_context`, as at its start). The caller's stdio is the
//! process's, or with a tty a pty of the container relayed to the
//! caller's terminal ([`crate::terminal`]); its exit code is returned.

use peapod_core::{CgroupHierarchy, ContainerSpawn, NamespacePlan, Stdio, TerminationSignals};
use peapod_image::Store;
use rustix::fs::{Mode, OFlags};
use rustix::process::{Pid, PidfdFlags};

use crate::container_process;
use crate::error::{Error, Result};
use crate::images;
use crate::paths::Paths;
use crate::seccomp_profile;
use crate::security_context::PodSecurity;
use crate::state::{Liveness, PodKey, StateStore};
use crate::teardown::{self, cgroup_name};
use crate::terminal::{self, Pty};

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

/// Runs `request` in pod `key`; returns the exit code (128 + n for a
/// signal).
pub fn exec(paths: &Paths, key: &PodKey, request: &ExecRequest) -> Result<i32> {
    let dir = StateStore::new(paths).pod(key);
    if !dir.exists() {
        return Err(Error::NotFound {
            name: key.name.clone(),
        });
    }
    let pod = dir.read_pod()?;
    let container = match &request.container {
        Some(c) => c.clone(),
        None => pod
            .spec
            .containers
            .first()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
    };
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
    let pidfd = rustix::process::pidfd_open(pid, PidfdFlags::empty()).map_err(|_| not_running())?;
    // Opened first, checked after: the pidfd is the container's process,
    // not a recycled pid.
    if !target.is_alive() {
        return Err(not_running());
    }
    // The container's process recomputed from pod.json and its image, by
    // the function that made it (no record of it to keep in step): the
    // same working folder, user, groups, capabilities and no_new_privs;
    // the environment is the one the container's process started with.
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
    let store = Store::open(paths.images()).map_err(|e| Error::container(&container, e))?;
    let image = images::started_from(&store, spec, &image_id)?;
    let security = PodSecurity::of(&pod)
        .map_err(|e| Error::container(&container, e))?
        .container(spec, &image.identity)?;
    let mut process = container_process::process_spec(spec, &image.defaults, "");
    process.argv.clone_from(&request.argv);
    if let Ok(environ) = std::fs::read(format!("/proc/{}/environ", target.pid)) {
        process.env = environ
            .split(|&b| b == 0)
            .filter(|e| !e.is_empty())
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect();
    }
    security.apply(&mut process);
    let uid = pod.metadata.uid.unwrap_or_default();
    // The filter the container got when it was created, not compiled again.
    let container_dir = crate::container::layers_dir(&teardown::lib_dir(paths, &uid), &container);
    process.seccomp = seccomp_profile::read_exec_record(&container, &container_dir)?;
    let hierarchy = CgroupHierarchy::detect().map_err(|e| Error::container(&container, e))?;
    let cgroup = hierarchy.open(format!("{}/{container}", cgroup_name(&uid)));
    let stdio = if request.stdin {
        Stdio::default()
    } else {
        let null = rustix::fs::open("/dev/null", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| Error::sys("open /dev/null", e))?;
        Stdio {
            stdin: Some(null),
            ..Stdio::default()
        }
    };
    let spawn = ContainerSpawn {
        process,
        namespaces: NamespacePlan::exec(),
        join_from: Some(std::os::fd::AsFd::as_fd(&pidfd)),
        mounts: None,
        cgroup: Some(&cgroup),
        stdio,
    };
    if request.tty {
        return with_terminal(spawn, target.pid, request.stdin, &container);
    }
    let child = spawn.spawn().map_err(|e| Error::container(&container, e))?;
    let status = child.wait().map_err(|e| Error::container(&container, e))?;
    Ok(status.exit_code())
}

/// Runs `spawn` on a new pty of the container whose process is `pid`,
/// relayed to the caller's terminal ([`terminal::relay`]).
fn with_terminal(
    mut spawn: ContainerSpawn<'_>,
    pid: i32,
    stdin: bool,
    container: &str,
) -> Result<i32> {
    let fail = |e: &dyn std::fmt::Display| Error::container(container, e);
    let pty = Pty::in_root_of(pid)?;
    spawn.process.tty = true;
    spawn.stdio = pty.slave_stdio()?;
    let signals = TerminationSignals::block_with_window_changes().map_err(|e| fail(&e))?;
    let child = spawn.spawn().map_err(|e| fail(&e))?;
    Ok(terminal::relay(pty, stdin, &child, &signals)?.exit_code())
}
