//! `clone3(2)`: a child with a pidfd, new namespaces, and optionally
//! placed in a cgroup v2 directory at birth (`CLONE_INTO_CGROUP`).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `struct clone_args` of `linux/sched.h` (version 2, 88 bytes).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_PIDFD: u64 = 0x1000;
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Which side of the fork this is.
pub(crate) enum Forked {
    /// In the parent: the child's pid and pidfd.
    Parent { pid: i32, pidfd: OwnedFd },
    /// In the child: a copy of the parent's memory with one thread.
    Child,
}

/// `clone3` like `fork` (no shared memory, `SIGCHLD` on exit), with
/// `CLONE_PIDFD` always, `namespace_flags` (`CLONE_NEW*`), and
/// `CLONE_INTO_CGROUP` when `cgroup` (a cgroup v2 directory fd) is given.
///
/// # Safety
/// In [`Forked::Child`] the process has one thread while its memory says
/// there were more: locks (the allocator's among them) may be held by
/// threads that do not exist. The child must only make async-signal-safe
/// calls (raw syscalls) and end with `execve` or `_exit`, never return to
/// code that allocates or unwinds.
pub(crate) unsafe fn clone3(
    namespace_flags: u64,
    cgroup: Option<BorrowedFd<'_>>,
) -> io::Result<Forked> {
    let mut pidfd: i32 = -1;
    let mut args = CloneArgs {
        flags: CLONE_PIDFD | namespace_flags,
        pidfd: std::ptr::from_mut(&mut pidfd) as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..CloneArgs::default()
    };
    if let Some(dir) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = u64::try_from(dir.as_raw_fd())
            .map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    }
    // SAFETY: `args` is a valid, fully initialised `clone_args` of the size
    // passed; without CLONE_VM and with no stack the child runs on a copy of
    // this stack like after fork, and the caller upholds the child's rules.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            std::ptr::from_mut(&mut args),
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match ret {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent {
            pid: i32::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::EOVERFLOW))?,
            // SAFETY: with CLONE_PIDFD the kernel stored a new pidfd that
            // nothing else owns.
            pidfd: unsafe { OwnedFd::from_raw_fd(pidfd) },
        }),
    }
}
