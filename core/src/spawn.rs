//! Spawning a container (or an `exec` into one): everything is prepared in
//! the parent, `clone3` makes the child, and the child runs
//! [`child_main`] — one short, allocation-free function — up to `execve`.
//!
//! ## Joining a PID namespace
//! `setns(CLONE_NEWPID)` changes only the namespace of the caller's future
//! children, never the caller's own. So the **parent thread** joins the
//! target's PID namespace for its children (`setns(pidfd, CLONE_NEWPID)`),
//! calls `clone3` — the child is born inside it, as PID n of the pod — and
//! switches its children's namespace back to its own active one (allowed:
//! it is the caller's active namespace). No helper process, no double fork;
//! two extra syscalls. Only the calling thread is affected, for the
//! duration of the spawn. The other namespaces (net, IPC, UTS, and mnt and
//! cgroup for `exec`) are joined by the child in one
//! `setns(pidfd, flags)` call.
//!
//! ## Held children
//! [`ContainerSpawn::spawn_held`] lets the child do everything up to
//! `execve` and wait there for [`Held::release`]: the supervisor sets up the
//! next container (on the other core) while this one finishes its mounts,
//! yet every `execve` still happens in the pod's order. Each child first
//! closes every fd it does not need (its parent's files, the pipes of a
//! spawn another thread is making), so for as long as it is held it keeps
//! nothing of anyone else's open.

use std::convert::Infallible;
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

use rustix::io::Errno;
use rustix::process::{Gid, Uid};
use rustix::thread::{CapabilitySet, CapabilitySets, LinkNameSpaceType, ThreadNameSpaceType};
use tracing::debug_span;

use crate::cgroup::{Cgroup, Placement};
use crate::child_error::{self, Step};
use crate::error::{Error, Result};
use crate::mount_plan::MountPlan;
use crate::mount_setup::MountSetup;
use crate::namespaces::{NamespacePlan, Namespaces};
use crate::process::Process;
use crate::process_spec::{Capabilities, ProcessSpec, Stdio, WindowSize};
use crate::seccomp::SeccompFilter;
use crate::sys::clone3::{Forked, clone3};
use crate::sys::exec::{CStrVec, execve, execveat_fd};
use crate::sys::signal;
use crate::user_namespace::IdMap;

/// Everything needed to start one container process, or an `exec` into a
/// running one (`mounts: None`, [`NamespacePlan::exec`]).
#[derive(Debug)]
pub struct ContainerSpawn<'a> {
    /// What to run.
    pub process: ProcessSpec,
    /// New and joined namespaces.
    pub namespaces: NamespacePlan,
    /// The process whose namespaces `namespaces.join` names (the pod's
    /// pause, or the container for `exec`); required when `join` is not
    /// empty.
    pub join_from: Option<BorrowedFd<'a>>,
    /// The mount setup, applied in the new mount namespace before
    /// `pivot_root`; `None` keeps the mount view (the joined one for exec).
    pub mounts: Option<MountPlan>,
    /// The cgroup the process is born in (v2) or moves to before anything
    /// else (v1).
    pub cgroup: Option<&'a Cgroup>,
    /// fds 0, 1, 2.
    pub stdio: Stdio,
}

impl ContainerSpawn<'_> {
    /// A spawn of `process` with nothing new, nothing joined, no mounts.
    pub fn new(process: ProcessSpec) -> Self {
        Self {
            process,
            namespaces: NamespacePlan::default(),
            join_from: None,
            mounts: None,
            cgroup: None,
            stdio: Stdio::default(),
        }
    }

    /// Starts the process and returns once it has called `execve`
    /// successfully — or with the step that failed before it.
    pub fn spawn(self) -> Result<Process> {
        let _span = debug_span!(
            "spawn",
            argv0 = self.process.argv.first().map(String::as_str)
        )
        .entered();
        let exec = ExecTarget::search(&self.process)?;
        Prepared::new(self, exec)?.run()
    }

    /// Starts the process and lets it set up everything (namespaces,
    /// mounts, `pivot_root`, credentials) up to `execve`, where it waits
    /// for [`Held::release`]. A setup failure is reported by `release`.
    pub fn spawn_held(self) -> Result<Held> {
        let _span = debug_span!(
            "spawn_held",
            argv0 = self.process.argv.first().map(String::as_str)
        )
        .entered();
        let exec = ExecTarget::search(&self.process)?;
        Prepared::new(self, exec)?.start(true)
    }
}

/// A child stopped just before `execve` ([`ContainerSpawn::spawn_held`]).
/// Dropping it without [`Held::release`] kills and reaps the child.
#[derive(Debug)]
pub struct Held {
    /// `None` once released.
    process: Option<Process>,
    /// The read end of the error pipe.
    errors: OwnedFd,
    /// The write end of the go pipe; `None` for a child that is not held.
    go: Option<OwnedFd>,
    /// The socket the child sends its terminal's master on (`tty`), until
    /// [`Held::terminal`] takes it.
    terminal: Option<OwnedFd>,
}

impl Held {
    /// The child's pid in the caller's PID namespace.
    pub fn pid(&self) -> Option<i32> {
        self.process.as_ref().map(Process::pid)
    }

    /// The master of the process's own terminal ([`ProcessSpec::tty`]),
    /// once the child has opened it (after its mounts, before `execve`);
    /// the error is the step that failed before, or an error when the
    /// process has no terminal or it was taken already.
    pub fn terminal(&mut self) -> Result<OwnedFd> {
        let socket = self
            .terminal
            .take()
            .ok_or_else(|| Error::invalid("terminal", "the process has none, or it was taken"))?;
        let received = crate::terminal::receive(&socket)
            .map_err(|e| Error::sys("receive the terminal's master", e))?;
        match received {
            Some(master) => Ok(master),
            // The child ended without sending it: its error record says
            // why (dropping `self` reaps it).
            None => Err(child_error::collect(&self.errors)
                .err()
                .unwrap_or_else(|| Error::invalid("terminal", "the process started without one"))),
        }
    }

    /// Lets the child `execve` and returns once it did — or with the step
    /// that failed before it (the child is reaped then).
    pub fn release(mut self) -> Result<Process> {
        let _span = debug_span!("release").entered();
        if let Some(go) = self.go.take() {
            // A child that already failed is gone: the write may fail
            // (EPIPE), and the error pipe tells why.
            let _ = rustix::io::write(&go, b"g");
        }
        let process = self
            .process
            .take()
            .ok_or_else(|| Error::invalid("held process", "released twice"))?;
        if let Err(e) = child_error::collect(&self.errors) {
            let _ = process.wait();
            return Err(e);
        }
        Ok(process)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

/// What the child executes.
pub(crate) enum ExecTarget {
    /// Try each path in turn (`PATH` search done after `pivot_root`).
    Search {
        candidates: Vec<CString>,
        /// `argv[0]` had no `/`: report "not found in $PATH".
        bare: bool,
    },
    /// An open file (`/proc/self/exe` for the pause).
    Fd(OwnedFd),
}

impl ExecTarget {
    fn search(p: &ProcessSpec) -> Result<Self> {
        let candidates = p
            .exec_candidates()?
            .into_iter()
            .map(|c| CString::new(c).map_err(|_| Error::invalid("argv[0]", "holds a NUL byte")))
            .collect::<Result<Vec<_>>>()?;
        let bare = !p.argv[0].contains('/');
        Ok(Self::Search { candidates, bare })
    }
}

/// The spawn with every string, fd and flag ready, so the child only makes
/// syscalls.
pub(crate) struct Prepared<'a> {
    argv: CStrVec,
    envp: CStrVec,
    exec: ExecTarget,
    cwd: CString,
    hostname: Option<CString>,
    create: Namespaces,
    join: Namespaces,
    join_from: Option<BorrowedFd<'a>>,
    mounts: Option<MountSetup>,
    /// `/proc/sys` files and values written once the namespaces are made
    /// (the pause's, for the pod's sysctls).
    pub(crate) sysctls: Vec<(CString, CString)>,
    /// The id map of the user namespace `clone3` makes (the pause of a
    /// `hostUsers: false` pod): written by the parent while the child
    /// waits for it.
    pub(crate) id_map: Option<IdMap>,
    /// The user namespace joined (`join` holds `USER`): the child idmaps
    /// its binds and layers with it and enters it last, once its mounts
    /// are made.
    userns: Option<OwnedFd>,
    placement: Option<Placement>,
    stdio: [Option<OwnedFd>; 3],
    tty: bool,
    window_size: Option<WindowSize>,
    uid: Uid,
    gid: Gid,
    groups: Vec<Gid>,
    capabilities: Option<Capabilities>,
    no_new_privs: bool,
    seccomp: Option<Arc<SeccompFilter>>,
    rlimits: Vec<(rustix::process::Resource, rustix::process::Rlimit)>,
}

impl<'a> Prepared<'a> {
    pub(crate) fn new(spawn: ContainerSpawn<'a>, exec: ExecTarget) -> Result<Self> {
        let ContainerSpawn {
            process: p,
            namespaces,
            join_from,
            mounts,
            cgroup,
            stdio,
        } = spawn;
        p.validate()?;
        namespaces.validate()?;
        if p.tty
            && [&stdio.stdin, &stdio.stdout, &stdio.stderr]
                .iter()
                .any(|fd| fd.is_some())
        {
            return Err(Error::invalid(
                "stdio",
                "a process with a tty gets its stdio from its own terminal",
            ));
        }
        if !namespaces.join.is_empty() && join_from.is_none() {
            return Err(Error::invalid(
                "join_from",
                "namespaces to join but no pidfd",
            ));
        }
        let mut join = namespaces.join;
        let userns = match join_from {
            Some(from) if join.contains(Namespaces::USER) => {
                let ns = crate::sys::idmap::user_namespace_of(from)
                    .map_err(|e| Error::sys("user namespace of the process joined", e))?;
                let own = crate::sys::idmap::is_own_user_namespace(ns.as_fd())
                    .map_err(|e| Error::sys("compare user namespaces", e))?;
                if own {
                    // Joining one's own user namespace is EINVAL; the
                    // target shares the host's ids.
                    join.remove(Namespaces::USER);
                    None
                } else {
                    Some(ns)
                }
            }
            _ => {
                join.remove(Namespaces::USER);
                None
            }
        };
        let mounts = mounts.as_ref().map(MountSetup::compile).transpose()?;
        if mounts.is_some() && !namespaces.create.contains(Namespaces::MNT) {
            return Err(Error::invalid(
                "mounts",
                "a mount plan needs a new mount namespace",
            ));
        }
        let nul = |field: &'static str| move |_| Error::invalid(field, "holds a NUL byte");
        let rlimits = p
            .rlimits
            .iter()
            .filter_map(|r| {
                let cur = rustix::process::getrlimit(r.resource);
                r.lowered((cur.current, cur.maximum)).map(|(soft, hard)| {
                    (
                        r.resource,
                        rustix::process::Rlimit {
                            current: soft,
                            maximum: hard,
                        },
                    )
                })
            })
            .collect();
        Ok(Self {
            argv: CStrVec::new(&p.argv)
                .ok_or_else(|| Error::invalid("argv", "holds a NUL byte"))?,
            envp: CStrVec::new(&p.env).ok_or_else(|| Error::invalid("env", "holds a NUL byte"))?,
            exec,
            cwd: CString::new(p.cwd.as_os_str().as_bytes()).map_err(nul("cwd"))?,
            hostname: p
                .hostname
                .as_deref()
                .filter(|_| namespaces.create.contains(Namespaces::UTS))
                .map(CString::new)
                .transpose()
                .map_err(nul("hostname"))?,
            create: namespaces.create,
            join,
            join_from,
            mounts,
            sysctls: Vec::new(),
            id_map: None,
            userns,
            placement: cgroup.map(Cgroup::placement).transpose()?,
            stdio: [stdio.stdin, stdio.stdout, stdio.stderr],
            tty: p.tty,
            window_size: p.window_size,
            uid: Uid::from_raw(p.user.uid),
            gid: Gid::from_raw(p.user.gid),
            groups: p.user.groups.iter().map(|g| Gid::from_raw(*g)).collect(),
            capabilities: p.capabilities,
            no_new_privs: p.no_new_privs,
            seccomp: p.seccomp,
            rlimits,
        })
    }

    /// clone3, then wait for `execve` (the error pipe closing) or the
    /// child's error record.
    pub(crate) fn run(self) -> Result<Process> {
        self.start(false)?.release()
    }

    /// The fds the child keeps open until `execve`: its error pipe, its
    /// other channels `ch` (go and id-map pipes, terminal socket), its
    /// stdio, the pidfd it joins, its cgroup files, the file it executes.
    /// Sorted, no duplicates.
    fn fds_to_keep(&self, err: &OwnedFd, ch: &[Option<&OwnedFd>]) -> Vec<RawFd> {
        let mut keep: Vec<RawFd> = std::iter::once(Some(err))
            .chain(ch.iter().copied())
            .flatten()
            .chain(self.stdio.iter().flatten())
            .map(AsRawFd::as_raw_fd)
            .collect();
        keep.extend(self.join_from.map(|fd| fd.as_raw_fd()));
        keep.extend(self.userns.as_ref().map(AsRawFd::as_raw_fd));
        if let Some(Placement::WriteTasks(files)) = &self.placement {
            keep.extend(files.iter().map(AsRawFd::as_raw_fd));
        }
        if let ExecTarget::Fd(fd) = &self.exec {
            keep.push(fd.as_raw_fd());
        }
        keep.sort_unstable();
        keep.dedup();
        keep
    }

    /// clone3; with `hold`, the child waits before `execve` until
    /// [`Held::release`] writes to its go pipe.
    pub(crate) fn start(self, hold: bool) -> Result<Held> {
        let (err_read, err_write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
            .map_err(|e| Error::sys("pipe for the child's errors", e))?;
        let (go_read, go_write) = if hold {
            let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
                .map_err(|e| Error::sys("pipe to release the child", e))?;
            (Some(r), Some(w))
        } else {
            (None, None)
        };
        let (maps_read, maps_write) = if self.id_map.is_some() {
            let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
                .map_err(|e| Error::sys("pipe for the id maps", e))?;
            (Some(r), Some(w))
        } else {
            (None, None)
        };
        let (terminal_parent, terminal_child) = if self.tty {
            let (parent, child) = crate::terminal::channel()
                .map_err(|e| Error::sys("socket pair for the terminal", e))?;
            (Some(parent), Some(child))
        } else {
            (None, None)
        };
        if self.create.contains(Namespaces::USER) != self.id_map.is_some() {
            return Err(Error::invalid(
                "namespaces",
                "a new user namespace needs its id map, and only it",
            ));
        }
        let keep = self.fds_to_keep(
            &err_write,
            &[
                go_read.as_ref(),
                maps_read.as_ref(),
                terminal_child.as_ref(),
            ],
        );
        let cgroup_fd = match &self.placement {
            Some(Placement::IntoCgroup(fd)) => Some(fd.as_fd()),
            _ => None,
        };
        let pid_join = if self.join.contains(Namespaces::PID) {
            // Checked in `new`: a join has a pidfd.
            let from = self
                .join_from
                .ok_or_else(|| Error::invalid("join_from", "missing"))?;
            Some(PidNamespaceForChildren::enter(from)?)
        } else {
            None
        };
        let clone_span = debug_span!("clone3").entered();
        let not_dumpable = NotDumpable::enter();
        // SAFETY: the child branch runs only `child_main`, which makes raw
        // syscalls on data prepared above and ends in execve or _exit.
        let forked = unsafe { clone3(self.create.at_clone().clone_flags(), cgroup_fd) };
        if !matches!(forked, Ok(Forked::Child)) {
            drop(not_dumpable);
        }
        if let Ok(Forked::Child) = forked {
            child_main(
                &self,
                &Channels {
                    errors: &err_write,
                    go: go_read.as_ref(),
                    maps: maps_read.as_ref(),
                    terminal: terminal_child.as_ref(),
                    keep: &keep,
                },
            );
        }
        // Parent only from here: the child never returns from child_main.
        drop(clone_span);
        let left = pid_join.map_or(Ok(()), PidNamespaceForChildren::leave);
        match forked.map_err(|source| Error::Clone { source })? {
            Forked::Child => unreachable!("the child ends in child_main"),
            Forked::Parent { pid, pidfd } => {
                drop(err_write);
                drop(go_read);
                drop(maps_read);
                drop(terminal_child);
                let held = Held {
                    process: Some(Process::new(pid, pidfd)),
                    errors: err_read,
                    go: go_write,
                    terminal: terminal_parent,
                };
                // Dropping `held` on an error kills and reaps the child.
                left?;
                if let (Some(map), Some(maps)) = (self.id_map, maps_write) {
                    map.write_for(pid)?;
                    rustix::io::write(&maps, b"m")
                        .map_err(|e| Error::sys("tell the child its id maps are written", e))?;
                }
                Ok(held)
            }
        }
    }
}

/// The caller not dumpable from just before `clone3` until just after it,
/// so the child is born not dumpable (CVE-2019-5736): until its `execve`
/// the child is a copy of peapod visible in the container's PID namespace,
/// and a not-dumpable process's `/proc/<pid>/exe`, `mem` and fds are closed
/// to anyone without CAP_SYS_PTRACE, so no container process can open the
/// host's peapod binary through it. `execve` makes the container's program
/// dumpable again as usual. Restored on drop (the parent only: the child's
/// drop never runs, it ends in `execve` or `_exit`).
struct NotDumpable {
    restore: Option<rustix::process::DumpableBehavior>,
}

impl NotDumpable {
    fn enter() -> Self {
        use rustix::process::{DumpableBehavior, dumpable_behavior, set_dumpable_behavior};
        let restore = dumpable_behavior()
            .ok()
            .filter(|b| *b != DumpableBehavior::NotDumpable)
            .filter(|_| set_dumpable_behavior(DumpableBehavior::NotDumpable).is_ok());
        Self { restore }
    }
}

impl Drop for NotDumpable {
    fn drop(&mut self) {
        if let Some(b) = self.restore.take() {
            let _ = rustix::process::set_dumpable_behavior(b);
        }
    }
}

/// The calling thread's children born in another PID namespace, until
/// [`PidNamespaceForChildren::leave`].
struct PidNamespaceForChildren {
    own: OwnedFd,
}

impl PidNamespaceForChildren {
    fn enter(pidfd: BorrowedFd<'_>) -> Result<Self> {
        let own = rustix::fs::open(
            "/proc/thread-self/ns/pid",
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| Error::sys("open /proc/thread-self/ns/pid", e))?;
        rustix::thread::move_into_thread_name_spaces(pidfd, ThreadNameSpaceType::PROCESS_ID)
            .map_err(|e| Error::sys("setns pid namespace for children", e))?;
        Ok(Self { own })
    }

    fn leave(self) -> Result<()> {
        rustix::thread::move_into_link_name_space(
            self.own.as_fd(),
            Some(LinkNameSpaceType::ProcessID),
        )
        .map_err(|e| Error::sys("setns back to own pid namespace", e))
    }
}

/// The child's pipes to its parent, and the fds it keeps.
struct Channels<'a> {
    /// The error pipe's write end.
    errors: &'a OwnedFd,
    /// The go pipe's read end, for a held child.
    go: Option<&'a OwnedFd>,
    /// The read end of the pipe the parent writes to once the id maps of
    /// the child's new user namespace are written.
    maps: Option<&'a OwnedFd>,
    /// The socket the child sends its terminal's master on (`tty`).
    terminal: Option<&'a OwnedFd>,
    /// Every fd the child needs, sorted ([`Prepared::fds_to_keep`]).
    keep: &'a [RawFd],
}

/// The child, from `clone3` to `execve`. Single-threaded in a copy of a
/// possibly multi-threaded parent: **no allocation, no locks, no panics**
/// — raw syscalls on the prepared data only. Any failure is written to the
/// error pipe as (step, errno, path) and the child exits 127.
fn child_main(p: &Prepared<'_>, ch: &Channels<'_>) -> ! {
    let Err((step, errno, path)) = child_setup(p, ch);
    child_error::report(ch.errors, step, errno, path);
    // SAFETY: _exit ends the process without running any user-space code
    // (no atexit handlers, no flushing), as the child must.
    unsafe { libc::_exit(127) }
}

type ChildResult<'p, T = ()> = std::result::Result<T, (Step, Errno, &'p CStr)>;

/// The steps of the child in order; returns only on failure.
fn child_setup<'p>(p: &'p Prepared<'_>, ch: &Channels<'_>) -> ChildResult<'p, Infallible> {
    let at = |step: Step, path: &'p CStr| move |e: Errno| (step, e, path);
    crate::sys::fds::close_all_except(ch.keep).map_err(at(Step::Stdio, c"close_range"))?;
    signal::reset_for_exec();
    if let Some(maps) = ch.maps {
        // Nothing is done in a user namespace without its maps: ids
        // would be unmapped, files made now owned by nobody.
        wait_for_release(maps);
        // Then be the namespace's root (all capabilities kept): what the
        // kernel checks by owner, such as the IPC sysctls of the
        // namespaces made next, is the namespace root's.
        become_namespace_root()?;
    }
    // First, so the limits apply to everything the child does. `tasks`
    // and a single thread: no global cgroup lock (see `Placement`).
    if let Some(Placement::WriteTasks(files)) = &p.placement {
        for f in files {
            rustix::io::write(f, b"0").map_err(at(Step::CgroupJoin, c"tasks"))?;
        }
    }
    if let Some(from) = p.join_from {
        let flags = thread_namespaces(p.join - Namespaces::PID - Namespaces::USER);
        if !flags.is_empty() {
            rustix::thread::move_into_thread_name_spaces(from, flags)
                .map_err(at(Step::Setns, c""))?;
        }
    }
    let later = p.create - p.create.at_clone();
    if !later.is_empty() {
        // SAFETY: no CLONE_FILES or CLONE_FS among the CLONE_NEW* bits, so
        // no fd or cwd this process relies on is unshared.
        unsafe { rustix::thread::unshare_unsafe(unshare_flags(later)) }
            .map_err(at(Step::Unshare, c""))?;
    }
    for (path, value) in &p.sysctls {
        crate::sysctl::write(path, value).map_err(at(Step::Sysctl, path))?;
    }
    rustix::process::setsid().map_err(at(Step::Setsid, c""))?;
    child_stdio(p)?;
    if let Some(m) = &p.mounts {
        m.apply(p.userns.as_ref().map(AsFd::as_fd))?;
    }
    if let Some(h) = &p.hostname {
        rustix::system::sethostname(h.to_bytes()).map_err(at(Step::Hostname, h))?;
    }
    enter_cwd(&p.cwd).map_err(at(Step::Chdir, &p.cwd))?;
    for (resource, limit) in &p.rlimits {
        rustix::process::setrlimit(*resource, *limit).map_err(at(Step::Rlimit, c""))?;
    }
    if let Some(userns) = &p.userns {
        // Last, once every mount is made and pivoted into from the host's
        // user namespace (the container's mount and PID namespaces stay
        // owned by it: nothing inside may mount over them). Entering
        // gives every capability in the pod's namespace only; the
        // credentials step below drops them as for any container.
        rustix::thread::move_into_link_name_space(userns.as_fd(), Some(LinkNameSpaceType::User))
            .map_err(at(Step::Setns, c"user namespace"))?;
        // Then be its root, as a child that made the namespace is: the
        // host's root is unmapped there, so what the child makes now (its
        // terminal's slave) would be owned by nobody and could not be
        // given to the process. Capabilities stay (not the namespace's
        // root before: none are cleared).
        become_namespace_root()?;
    }
    if let Some(socket) = ch.terminal {
        // After the mounts: a pty of the container's own devpts.
        crate::terminal::set_up_in_child(socket.as_fd(), p.uid, p.window_size)
            .map_err(|(e, path)| (Step::Terminal, e, path))?;
    }
    if !p.no_new_privs {
        // Without no_new_privs, installing a filter needs CAP_SYS_ADMIN:
        // now, before credentials and capabilities are dropped. What the
        // child does after (setgroups, setres*id, prctl, capset, read of
        // the go pipe, close_range, execve) the profile must allow, as
        // with runc.
        child_seccomp(p)?;
    }
    child_credentials(p)?;
    if p.no_new_privs {
        rustix::thread::set_no_new_privs(true).map_err(at(Step::NoNewPrivs, c""))?;
    }
    if let Some(go) = ch.go {
        wait_for_release(go);
    }
    child_exec(p)
}

/// uid and gid 0 of the user namespace the child is in (made or joined),
/// keeping every capability it has there.
fn become_namespace_root<'p>() -> ChildResult<'p> {
    let err = |e| (Step::Credentials, e, c"user namespace root");
    rustix::thread::set_thread_res_gid(Gid::ROOT, Gid::ROOT, Gid::ROOT).map_err(err)?;
    rustix::thread::set_thread_res_uid(Uid::ROOT, Uid::ROOT, Uid::ROOT).map_err(err)
}

/// `chdir` to the working folder resolved inside the process's root: a
/// symlink of the image is followed as if `/` were the root, and a magic
/// link (`/proc/self/fd/N`, CVE-2024-21626: a host folder's fd left open)
/// is refused with `ELOOP`, so the process can never start in a folder
/// outside its root.
fn enter_cwd(cwd: &CStr) -> rustix::io::Result<()> {
    use rustix::fs::{CWD, Mode, OFlags, ResolveFlags};
    let root = rustix::fs::openat(
        CWD,
        c"/",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let dir = rustix::fs::openat2(
        &root,
        cwd,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )?;
    rustix::process::fchdir(&dir)
}

/// Blocks until the parent writes to the go pipe; exits quietly when the
/// parent dropped it instead (EOF): nobody waits for this child any more.
fn wait_for_release(go: &OwnedFd) {
    let mut byte = [0u8; 1];
    loop {
        match rustix::io::read(go, &mut byte) {
            Ok(1) => return,
            Err(Errno::INTR) => {}
            // SAFETY: _exit ends the process without running any
            // user-space code, as the child must.
            _ => unsafe { libc::_exit(127) },
        }
    }
}

fn unshare_flags(ns: Namespaces) -> rustix::thread::UnshareFlags {
    // The CLONE_NEW* bits are the unshare bits.
    rustix::thread::UnshareFlags::from_bits_retain(u32::try_from(ns.clone_flags()).unwrap_or(0))
}

fn thread_namespaces(ns: Namespaces) -> ThreadNameSpaceType {
    // The CLONE_NEW* bits are the setns type bits.
    ThreadNameSpaceType::from_bits_retain(u32::try_from(ns.clone_flags()).unwrap_or(0))
}

fn child_stdio<'p>(p: &'p Prepared<'_>) -> ChildResult<'p> {
    let err = |e| (Step::Stdio, e, c"");
    // Lift each fd above 2 first, so moving one onto 0..2 cannot clobber
    // another still to move.
    let mut lifted: [Option<OwnedFd>; 3] = [None, None, None];
    for (slot, fd) in lifted.iter_mut().zip(&p.stdio) {
        if let Some(fd) = fd {
            *slot = Some(rustix::io::fcntl_dupfd_cloexec(fd, 3).map_err(err)?);
        }
    }
    if let Some(fd) = &lifted[0] {
        rustix::stdio::dup2_stdin(fd).map_err(err)?;
    }
    if let Some(fd) = &lifted[1] {
        rustix::stdio::dup2_stdout(fd).map_err(err)?;
    }
    if let Some(fd) = &lifted[2] {
        rustix::stdio::dup2_stderr(fd).map_err(err)?;
    }
    // The lifted copies are CLOEXEC; leaking them until exec is harmless,
    // and dropping would only close them.
    std::mem::forget(lifted);
    Ok(())
}

fn child_credentials<'p>(p: &'p Prepared<'_>) -> ChildResult<'p> {
    let err = |step| move |e| (step, e, c"");
    if let Some(keep) = p.capabilities {
        for n in 0..=Capabilities::LAST {
            if !keep.contains_number(n) {
                match rustix::thread::remove_capability_from_bounding_set(
                    CapabilitySet::from_bits_retain(1 << n),
                ) {
                    // A capability this kernel does not know.
                    Ok(()) | Err(Errno::INVAL) => {}
                    Err(e) => return Err((Step::Capabilities, e, c"bounding set")),
                }
            }
        }
        // Nothing is passed on through the ambient set (runc sets none).
        match rustix::thread::clear_ambient_capability_set() {
            // A kernel without ambient capabilities (before 4.3).
            Ok(()) | Err(Errno::INVAL) => {}
            Err(e) => return Err((Step::Capabilities, e, c"ambient set")),
        }
        if p.uid.as_raw() != 0 {
            rustix::thread::set_keep_capabilities(true).map_err(err(Step::Capabilities))?;
        }
    }
    rustix::thread::set_thread_groups(&p.groups).map_err(err(Step::Credentials))?;
    rustix::thread::set_thread_res_gid(p.gid, p.gid, p.gid).map_err(err(Step::Credentials))?;
    rustix::thread::set_thread_res_uid(p.uid, p.uid, p.uid).map_err(err(Step::Credentials))?;
    if let Some(keep) = p.capabilities {
        let set = CapabilitySet::from_bits_retain(keep.bits());
        rustix::thread::set_capabilities(
            None,
            CapabilitySets {
                effective: set,
                permitted: set,
                // Empty, as runc since CVE-2022-24769: with an inheritable
                // set, a file's inheritable bits could give a non-root
                // process capabilities at execve.
                inheritable: CapabilitySet::empty(),
            },
        )
        .map_err(err(Step::Capabilities))?;
    }
    Ok(())
}

/// Installs the seccomp programs, if any, in order.
fn child_seccomp<'p>(p: &'p Prepared<'_>) -> ChildResult<'p> {
    for program in p.seccomp.iter().flat_map(|f| f.programs()) {
        crate::sys::seccomp::install(program).map_err(|e| (Step::Seccomp, e, c""))?;
    }
    Ok(())
}

fn child_exec<'p>(p: &'p Prepared<'_>) -> ChildResult<'p, Infallible> {
    crate::sys::fds::cloexec_from(3).map_err(|e| (Step::Exec, e, c"close_range"))?;
    if p.no_new_privs {
        // With no_new_privs, as late as runc does it: only execve is left.
        child_seccomp(p)?;
    }
    match &p.exec {
        ExecTarget::Fd(fd) => {
            let errno = execveat_fd(fd.as_fd(), &p.argv, &p.envp);
            Err((
                Step::Exec,
                Errno::from_raw_os_error(errno),
                p.argv.first().unwrap_or(c""),
            ))
        }
        ExecTarget::Search { candidates, bare } => {
            let mut denied: Option<&CStr> = None;
            for c in candidates {
                let errno = Errno::from_raw_os_error(execve(c, &p.argv, &p.envp));
                match errno {
                    Errno::NOENT | Errno::NOTDIR => {}
                    Errno::ACCESS => denied = denied.or(Some(c)),
                    other => return Err((Step::Exec, other, c)),
                }
            }
            match (denied, bare) {
                (Some(c), _) => Err((Step::Exec, Errno::ACCESS, c)),
                (None, true) => Err((
                    Step::ExecNotFound,
                    Errno::NOENT,
                    p.argv.first().unwrap_or(c""),
                )),
                (None, false) => Err((
                    Step::Exec,
                    Errno::NOENT,
                    candidates.first().map_or(c"", CString::as_c_str),
                )),
            }
        }
    }
}
