//! The pause (infra) process of a pod: holds the pod's net, IPC and UTS
//! namespaces (and its PID namespace with `shareProcessNamespace`, as its
//! PID 1, reaping orphans), and does nothing else.
//!
//! It is a program of its own, `pause/pause.rs` (no std, no libc, ~1.5 KB
//! static ELF built by `core`'s build script and embedded here), exec'd
//! from a sealed memfd with `argv = ["/pause"]`: `ps` in the pod shows
//! `/pause` (it reads `/proc/PID/cmdline`), and the process is a dozen KiB
//! of RSS that starts without loading the multi-megabyte peapod binary.
//!
//! The fallback, where memfds may not be exec'd (`vm.memfd_noexec = 2`), is
//! the peapod binary itself, re-exec'd from `/proc/self/exe` as `/pause`:
//! its `main` must call [`pause_main`] first thing when
//! [`is_pause_invocation`] is true.

use std::ffi::OsStr;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::process::{WaitOptions, waitpid};

use crate::cgroup::Cgroup;
use crate::error::{Error, Result};
use crate::namespaces::{NamespacePlan, Namespaces};
use crate::process::Process;
use crate::process_spec::{ProcessSpec, Stdio};
use crate::spawn::{ContainerSpawn, ExecTarget, Held, Prepared};
use crate::sys::signal;
use crate::user_namespace::IdMap;

/// `argv[0]` of the pause process, and what `ps` shows for it.
pub const PAUSE_ARGV0: &str = "/pause";

/// How to start a pod's pause process.
#[derive(Debug, Clone, Default)]
pub struct PauseSpec<'a> {
    /// `hostNetwork: true`: stay in the host's net namespace.
    pub host_network: bool,
    /// `shareProcessNamespace: true`: a new PID namespace, pause as PID 1.
    pub share_process_namespace: bool,
    /// `hostIPC: true`: stay in the host's IPC namespace (the containers,
    /// joining the pause's, then share the host's SysV IPC and queues).
    pub host_ipc: bool,
    /// The pod's hostname, set in its new UTS namespace.
    pub hostname: Option<String>,
    /// The cgroup it is born in (the pod's `pause` child cgroup).
    pub cgroup: Option<&'a Cgroup>,
    /// The pod's sysctls, `(name, value)` as Kubernetes writes them
    /// (`net.ipv4.ip_unprivileged_port_start`), written by the pause's
    /// child in the namespaces it made, before it execs. Only namespaced
    /// ones belong here (the caller validated them).
    pub sysctls: Vec<(String, String)>,
    /// A binary to exec instead of the embedded pause program, whose
    /// `main` calls [`pause_main`]; `None` is the embedded program (and
    /// `/proc/self/exe`, the peapod binary, where it cannot be exec'd).
    pub exe: Option<PathBuf>,
    /// `hostUsers: false`: the pause is cloned into a new user namespace
    /// with this map (uids and gids alike), and owns the namespaces it
    /// makes from it; `None` stays in the caller's.
    pub user_namespace: Option<IdMap>,
    /// A file the pause holds as its stdin for as long as it lives (it
    /// never reads it): a socket whose queue keeps fds alive past its
    /// caller, such as a pod's log pipes when its supervisor is killed.
    /// `None` is `/dev/null`.
    pub keeper: Option<BorrowedFd<'a>>,
}

/// The pause program, built from `pause/pause.rs` by the build script.
const PAUSE_PROGRAM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pause"));

/// The binary a pause is exec'd from.
enum PauseExe<'a> {
    /// The embedded program, in a sealed memfd.
    Embedded,
    /// A file: the peapod binary, or a test's.
    File(&'a Path),
}

/// Starts the pause process of a pod; its pidfd is the `join_from` of the
/// pod's containers.
pub fn spawn_pause(spec: &PauseSpec<'_>) -> Result<Process> {
    start_pause(spec)?.wait()
}

/// Clones the pause of a pod and returns at once: the child makes the
/// pod's namespaces and execs on the other core while the caller goes on;
/// [`StartingPause::wait`] returns the running pause. Nothing may join its
/// namespaces before that.
pub fn start_pause<'a>(spec: &'a PauseSpec<'a>) -> Result<StartingPause<'a>> {
    let _span = tracing::debug_span!("start_pause").entered();
    if let Some(exe) = &spec.exe {
        return Ok(StartingPause {
            held: spawn_from(spec, &PauseExe::File(exe))?,
            spec,
            embedded: false,
        });
    }
    match spawn_from(spec, &PauseExe::Embedded) {
        Ok(held) => Ok(StartingPause {
            held,
            spec,
            embedded: true,
        }),
        Err(e @ Error::Sys { .. }) => Ok(StartingPause {
            held: spawn_fallback(spec, &e)?,
            spec,
            embedded: false,
        }),
        Err(e) => Err(e),
    }
}

/// A pause on its way to `execve` ([`start_pause`]); dropped, it is
/// killed.
#[derive(Debug)]
pub struct StartingPause<'a> {
    held: Held,
    spec: &'a PauseSpec<'a>,
    /// Exec'd from the embedded program: a failed exec falls back to
    /// `/proc/self/exe`.
    embedded: bool,
}

impl StartingPause<'_> {
    /// Waits until the pause runs (its namespaces are made) and returns
    /// it, or the step that failed.
    pub fn wait(self) -> Result<Process> {
        let _span = tracing::debug_span!("wait_pause").entered();
        match self.held.release() {
            Err(e @ (Error::Sys { .. } | Error::Child { step: "exec", .. })) if self.embedded => {
                spawn_fallback(self.spec, &e)?.release()
            }
            other => other,
        }
    }
}

/// The pause from the peapod binary, where the embedded program failed
/// with `why` (a memfd that may not be made or exec'd).
fn spawn_fallback(spec: &PauseSpec<'_>, why: &Error) -> Result<Held> {
    tracing::debug!("embedded pause: {why}; falling back to /proc/self/exe");
    spawn_from(spec, &PauseExe::File(Path::new("/proc/self/exe")))
}

fn spawn_from(spec: &PauseSpec<'_>, exe: &PauseExe<'_>) -> Result<Held> {
    let exe_fd: OwnedFd = match exe {
        PauseExe::Embedded => crate::sys::memfd::sealed(c"pause", PAUSE_PROGRAM)
            .map_err(|e| Error::sys("memfd of the pause program", e))?,
        PauseExe::File(path) => rustix::fs::open(
            *path,
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| Error::sys("open the pause executable", e))?,
    };
    let mut process = ProcessSpec::new([PAUSE_ARGV0]);
    process.env.clear();
    process.hostname.clone_from(&spec.hostname);
    let null = |what| {
        rustix::fs::open(
            "/dev/null",
            rustix::fs::OFlags::RDWR | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| Error::sys(what, e))
    };
    let mut namespaces = NamespacePlan::pause(spec.host_network, spec.share_process_namespace);
    if spec.host_ipc {
        namespaces.create.remove(Namespaces::IPC);
    }
    if spec.user_namespace.is_some() {
        namespaces.create |= Namespaces::USER;
    }
    let spawn = ContainerSpawn {
        process,
        namespaces,
        join_from: None,
        mounts: None,
        cgroup: spec.cgroup,
        stdio: Stdio {
            stdin: Some(match spec.keeper {
                Some(fd) => fd
                    .try_clone_to_owned()
                    .map_err(|e| Error::sys("dup the pause's keeper", e))?,
                None => null("open /dev/null")?,
            }),
            stdout: Some(null("open /dev/null")?),
            stderr: Some(null("open /dev/null")?),
        },
    };
    let mut prepared = Prepared::new(spawn, ExecTarget::Fd(exe_fd))?;
    prepared.sysctls = crate::sysctl::compile(&spec.sysctls, spec.host_network)?;
    prepared.id_map = spec.user_namespace;
    prepared.start(false)
}

/// Whether this process was started as the pause (`argv[0] == "/pause"`).
pub fn is_pause_invocation() -> bool {
    std::env::args_os().next().as_deref() == Some(OsStr::new(PAUSE_ARGV0))
}

/// The pause process: blocks every signal and waits for them; reaps any
/// child (orphans re-parented to it as PID 1) on `SIGCHLD`; exits 0 on
/// `SIGTERM`, `SIGINT` or `SIGHUP`. Never returns.
pub fn pause_main() -> ! {
    // `comm` as `ps` shows it: busybox prints `{comm} args` when comm is
    // not the base name of argv[0].
    let _ = rustix::thread::set_name(c"pause");
    signal::block_all();
    // Start-up touched code this loop never runs again: give it back.
    crate::sys::memory::trim_code_pages(pause_main as fn() -> ! as usize);
    loop {
        match signal::wait_signal() {
            libc::SIGCHLD => while let Ok(Some(_)) = waitpid(None, WaitOptions::NOHANG) {},
            libc::SIGTERM | libc::SIGINT | libc::SIGHUP => std::process::exit(0),
            _ => {}
        }
    }
}
