//! Starting one container of a pod: a fresh writable layer over its image,
//! its mount plan (peapod-volumes), its process (image defaults + spec),
//! its cgroup with limits, its stdio (pipes, or with `tty: true` a pty of
//! its own devpts, opened by its child once mounted),
//! then core's `clone3` spawn joining the pause's namespaces.
//!
//! Two steps: [`create`] sets everything up and leaves the child waiting
//! just before `execve` ([`Created`]), [`Created::start`] lets it exec. The
//! supervisor creates the containers that start back to back (no
//! postStart between them) before starting the first, so their mounts are
//! made on both cores while the pod's start order stays the same.

use std::cell::RefCell;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use peapod_core::{
    Cgroup, ContainerSpawn, Held, MountOptions, MountPlan, MountStep, NamespacePlan, Namespaces,
    Process, ProcessSpec, RootFs, Stdio,
};
use peapod_spec::Container;
use peapod_volumes::RootfsLayers;
use rustix::fs::{Mode, OFlags};
use tracing::debug_span;

use crate::clock::Timestamp;
use crate::container_process;
use crate::cri_log::{self, LineSplitter, LogFile, Stream};
use crate::engine;
use crate::error::{Error, Result};
use crate::images::ResolvedImage;
use crate::log_rotation::{self, RotationPolicy};
use crate::mount_point_layer;
use crate::sandbox::Sandbox;
use crate::seccomp_profile;
use crate::termination_message;

/// A container process the supervisor watches.
#[derive(Debug)]
pub(crate) struct Started {
    pub process: Process,
    pub cgroup: Cgroup,
    /// OOM kills of its cgroup before it started.
    pub oom_before: u64,
    /// Its output, read by the supervisor into the log file.
    pub streams: Vec<LogStream>,
    /// The process as spawned: hooks run with its identity and env.
    pub spec: ProcessSpec,
    /// The write end of its stdin (`stdin: true`), held open so the
    /// process never reads EOF.
    pub _stdin: Option<OwnedFd>,
}

/// One output stream of a container, into its CRI log file.
#[derive(Debug)]
pub(crate) struct LogStream {
    /// The supervisor's name for it in its event loop.
    pub id: u64,
    pub fd: OwnedFd,
    splitter: LineSplitter,
    /// The run's log file, shared with its other stream.
    file: Rc<RefCell<LogFile>>,
}

/// At most this much is read from one stream per wakeup of the supervisor's
/// loop: a container writing faster than the supervisor reads cannot keep
/// it from its other events (the stream is watched again at once).
pub(crate) const PUMP_BUDGET: usize = 64 * 1024;

/// The most a pipe holds (`/proc/sys/fs/pipe-max-size` by default): what
/// is left to read once every writer is gone.
pub(crate) const PIPE_MAX: usize = 1024 * 1024;

impl LogStream {
    /// Reads what is there, up to [`PUMP_BUDGET`]; `false` once the stream
    /// ended.
    pub fn pump(&mut self) -> bool {
        self.pump_up_to(PUMP_BUDGET)
    }

    /// Opens its log file again at its path (after the caller renamed
    /// it): the next records go to a new file there.
    pub fn reopen_log(&self) -> std::io::Result<()> {
        self.file.borrow_mut().reopen()
    }

    /// Reads what is there, up to `budget` bytes; `false` once the stream
    /// ended.
    pub fn pump_up_to(&mut self, budget: usize) -> bool {
        let mut buf = [0u8; 8192];
        let mut left = budget;
        while left > 0 {
            match rustix::io::read(&self.fd, &mut buf) {
                Ok(0) | Err(rustix::io::Errno::IO) => {
                    let rest = self.splitter.finish(Timestamp::now());
                    let _ = self.file.borrow_mut().write(&rest);
                    return false;
                }
                Ok(n) => {
                    left = left.saturating_sub(n);
                    let records = self.splitter.feed(Timestamp::now(), &buf[..n]);
                    let _ = self.file.borrow_mut().write(&records);
                }
                Err(rustix::io::Errno::AGAIN) => return true,
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => return false,
            }
        }
        true
    }
}

/// Set when a container was started, until the supervisor gave back the
/// memory that start touched.
static STARTED_SINCE_TRIM: AtomicBool = AtomicBool::new(false);

/// When containers were started since the last call (the pod's start, a
/// restart), gives back the clean pages of the peapod binary that starting
/// them touched ([`peapod_core::trim_executable_pages`]): the supervisor
/// calls it before it waits for events. A flag test when nothing started.
pub(crate) fn give_back_start_up_memory() {
    if STARTED_SINCE_TRIM.swap(false, Ordering::Relaxed) {
        let bytes = peapod_core::trim_executable_pages();
        tracing::debug!(bytes, "gave back clean pages of the executable");
    }
}

/// Where a container's layers live: `<lib>/pods/<uid>/containers/<name>/`.
pub(crate) fn layers_dir(lib_dir: &Path, container: &str) -> PathBuf {
    lib_dir.join("containers").join(container)
}

/// A container whose process is set up and waits before `execve`:
/// [`Created::start`] lets it run, dropping it kills it.
#[derive(Debug)]
pub(crate) struct Created {
    name: String,
    held: Held,
    cgroup: Cgroup,
    oom_before: u64,
    streams: Vec<LogStream>,
    spec: ProcessSpec,
    stdin: Option<OwnedFd>,
    /// Its stdio is a terminal.
    tty: bool,
}

impl Created {
    /// The held process's pid.
    pub(crate) fn pid(&self) -> Option<i32> {
        self.held.pid()
    }

    /// The fd (in this process) a caller writes the container's input to:
    /// its stdin pipe's write end (`stdin: true`) or its terminal's
    /// master (`tty: true`); `None` without either.
    pub(crate) fn input_fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        match &self.stdin {
            Some(fd) => Some(fd.as_raw_fd()),
            None if self.tty => self.streams.first().map(|s| s.fd.as_raw_fd()),
            None => None,
        }
    }

    /// Writes where an attach finds the container's input in this
    /// process ([`Created::input_fd`]) to its layers folder `layers`;
    /// nothing without an input.
    pub(crate) fn record_input(&self, layers: &Path) -> Result<()> {
        if let Some(fd) = self.input_fd() {
            let file = layers.join(crate::engine::INPUT_FD_FILE);
            std::fs::write(&file, fd.to_string()).map_err(|e| Error::io(&file, e))?;
        }
        Ok(())
    }

    /// Lets the process `execve`; the error is the step that failed
    /// before it (a missing executable, a mount).
    pub(crate) fn start(self) -> Result<Started> {
        let process = self
            .held
            .release()
            .map_err(|e| Error::container(&self.name, e))?;
        STARTED_SINCE_TRIM.store(true, Ordering::Relaxed);
        Ok(Started {
            process,
            cgroup: self.cgroup,
            oom_before: self.oom_before,
            spec: self.spec,
            streams: self.streams,
            _stdin: self.stdin,
        })
    }
}

/// The log file of run `restart_count` of `container` in `log_dir`
/// (`<name>/<restart_count>.log`), rotated by the configured policy; the
/// files of runs before the last one are removed, as kubelet does.
pub(crate) fn run_log(log_dir: &Path, container: &str, restart_count: i32) -> Result<LogFile> {
    let fail = |e: &dyn std::fmt::Display| Error::container(container, e);
    let run = u32::try_from(restart_count).unwrap_or(0);
    let log_path = cri_log::log_path(log_dir, container, run);
    let runs = log_dir.join(container);
    log_rotation::remove_runs_before(&runs, run.saturating_sub(1))
        .map_err(|e| Error::io(&runs, e))?;
    let policy = RotationPolicy::from_env().map_err(|m| fail(&m))?;
    LogFile::open(&log_path, policy).map_err(|e| Error::io(&log_path, e))
}

/// Sets up `container` in `sandbox` up to its `execve`; its output goes
/// to `log`, `binds` are made after its volumes (host paths bound in by
/// the engine's caller).
pub(crate) fn create(
    sandbox: &Sandbox,
    container: &Container,
    image: &ResolvedImage,
    hostname: &str,
    log: LogFile,
    binds: Vec<MountStep>,
) -> Result<Created> {
    let name = &container.name;
    let _span = debug_span!("container", name = %name).entered();
    let fail = |e: &dyn std::fmt::Display| Error::container(name, e);
    // First: a container kubelet would refuse is refused before anything
    // of it is made.
    let security = sandbox.security.container(container, &image.identity)?;
    let plan_span = debug_span!("layers_and_mount_plan").entered();
    let dir = layers_dir(&sandbox.lib_dir, name);
    let mount_dir = layers_dir(&sandbox.run_dir, name);
    let layers = fresh_layers(&dir, &mount_dir, &image.lower).map_err(|e| fail(&e))?;
    if let Some(map) = sandbox.id_map {
        // The overlay's root folder is the upper layer's: owned by the
        // pod's root, as the image's `/` is seen through the idmapped
        // lower layers. One empty folder, nothing recursive.
        let root = Some(rustix::fs::Uid::from_raw(map.host_base));
        let group = Some(rustix::fs::Gid::from_raw(map.host_base));
        rustix::fs::chown(&layers.upper, root, group)
            .map_err(|e| fail(&format!("chown {}: {e}", layers.upper.display())))?;
    }
    let resolved = sandbox
        .config
        .resolve_env(container)
        .map_err(|m| fail(&format!("CreateContainerConfigError: {m}")))?;
    // subPathExpr expands with the container's own environment (kubelet's).
    let mut plan = sandbox
        .volumes
        .mount_plan_with_env(
            container,
            &layers,
            &sandbox.files,
            &container_process::container_environment(&resolved),
        )
        .map_err(|e| fail(&e))?;
    // Last, so it lands on the container's own /dev (or a volume).
    if let Some(file) = termination_message::prepare(container, &dir).map_err(|e| fail(&e))? {
        plan.steps.push(MountStep::Bind {
            source: file,
            target: container.termination_message_path.clone().into(),
            recursive: false,
            options: MountOptions::default(),
        });
    }
    plan.steps.extend(binds);
    // `fresh_layers` made them for this start only: its exit need not sync
    // the disk under them.
    plan.volatile_root = true;
    mount_point_layer::put_under_upper(&mut plan, image, name);
    if let Some(map) = sandbox.id_map {
        plan.in_user_namespace(map);
    }
    drop(plan_span);
    let mut spec = container_process::process_spec(&resolved, &image.defaults, hostname);
    security.apply(&mut spec);
    spec.seccomp = sandbox.seccomp.borrow_mut().filter(name, &security)?;
    seccomp_profile::write_exec_record(&mount_dir, spec.seccomp.as_deref())
        .map_err(|e| Error::io(seccomp_profile::exec_record(&mount_dir), e))?;
    let cgroup_span = debug_span!("container_cgroup").entered();
    let cgroup = sandbox.container_cgroup(name).map_err(|e| fail(&e))?;
    engine::limit_container(&cgroup, container).map_err(|e| fail(&e))?;
    let oom_before = cgroup.oom_kills().unwrap_or(0);
    drop(cgroup_span);
    let stdio_span = debug_span!("stdio_and_logs").entered();
    let file = Rc::new(RefCell::new(log));
    let tty = container.tty.unwrap_or(false);
    // With a tty, its stdio is the terminal its child opens.
    let (stdio, mut streams, stdin) = if tty {
        (Stdio::default(), Vec::new(), None)
    } else {
        let (out_r, out_w) = nonblocking_pipe().map_err(|e| fail(&e))?;
        let (err_r, err_w) = nonblocking_pipe().map_err(|e| fail(&e))?;
        let (stdin_fd, keep) = if container.stdin.unwrap_or(false) {
            let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
                .map_err(|e| fail(&std::io::Error::from(e)))?;
            (r, Some(w))
        } else {
            let null =
                rustix::fs::open("/dev/null", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
                    .map_err(|e| fail(&std::io::Error::from(e)))?;
            (null, None)
        };
        let stdio = Stdio {
            stdin: Some(stdin_fd),
            stdout: Some(out_w),
            stderr: Some(err_w),
        };
        let streams = vec![
            LogStream {
                id: 0,
                fd: out_r,
                splitter: LineSplitter::new(Stream::Stdout),
                file: Rc::clone(&file),
            },
            LogStream {
                id: 0,
                fd: err_r,
                splitter: LineSplitter::new(Stream::Stderr),
                file: Rc::clone(&file),
            },
        ];
        (stdio, streams, keep)
    };
    drop(stdio_span);
    let mut namespaces = NamespacePlan::container(sandbox.host_network, sandbox.share_pid);
    if sandbox.host_pid {
        // hostPID: no PID namespace of its own (validation refuses it
        // with shareProcessNamespace, so there is none to join either).
        namespaces.create.remove(Namespaces::PID);
    }
    let spawn = ContainerSpawn {
        process: spec.clone(),
        namespaces,
        join_from: Some(sandbox.pause.pidfd()),
        mounts: Some(plan),
        cgroup: Some(&cgroup),
        stdio,
    };
    let mut held = spawn.spawn_held().map_err(|e| fail(&e))?;
    if tty {
        // Waits for the child's mounts: its devpts holds the pty.
        let master = held.terminal().map_err(|e| fail(&e))?;
        set_nonblocking(&master).map_err(|e| fail(&e))?;
        streams.push(LogStream {
            id: 0,
            fd: master,
            splitter: LineSplitter::new(Stream::Stdout),
            file,
        });
    }
    Ok(Created {
        name: name.clone(),
        held,
        cgroup,
        oom_before,
        streams,
        spec,
        stdin,
        tty,
    })
}

/// A new writable layer (upper, work) in `dir` and the mount point
/// `rootfs` in `mount_dir` (a pod's on `<run>`'s tmpfs: an empty folder
/// nothing writes to), the layer emptied of any previous run: a
/// restarted container starts from its image again.
pub(crate) fn fresh_layers(
    dir: &Path,
    mount_dir: &Path,
    lower: &[PathBuf],
) -> std::io::Result<RootfsLayers> {
    let layers = RootfsLayers {
        lower: lower.to_vec(),
        upper: dir.join("upper"),
        work: dir.join("work"),
        mountpoint: mount_dir.join("rootfs"),
    };
    for d in [&layers.upper, &layers.work] {
        match std::fs::remove_dir_all(d) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    for d in [&layers.upper, &layers.work, &layers.mountpoint] {
        std::fs::create_dir_all(d)?;
    }
    Ok(layers)
}

/// The mount plan of a container made from [`fresh_layers`] alone, with
/// none of a pod's volumes (an ephemeral container, `run`'s): the layers
/// as its overlay root, mounted `volatile` as a pod's containers are (made
/// for this run only: their exit need not sync the disk under them), and
/// the standard mounts `container` asks for.
pub(crate) fn fresh_root_plan(layers: &RootfsLayers, container: &Container) -> MountPlan {
    let root = RootFs::Overlay {
        lower: layers.lower.clone(),
        upper: layers.upper.clone(),
        work: layers.work.clone(),
    };
    let mut plan = MountPlan::new(root, &layers.mountpoint).with_standard_mounts_for(
        None,
        peapod_volumes::SHM_SIZE,
        peapod_volumes::confinement(container),
    );
    plan.volatile_root = true;
    plan
}

fn nonblocking_pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    set_nonblocking(&r)?;
    Ok((r, w))
}

fn set_nonblocking(fd: &OwnedFd) -> std::io::Result<()> {
    let flags = rustix::fs::fcntl_getfl(fd)?;
    rustix::fs::fcntl_setfl(fd, flags | OFlags::NONBLOCK)?;
    Ok(())
}
