//! Idmapped mounts and user namespaces: `mount_setattr(MOUNT_ATTR_IDMAP)`
//! (`super::mount_attr`) on a detached copy of a mount, and the user
//! namespace of a process by its pidfd.

use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use rustix::fs::CWD;
use rustix::io::Errno;
use rustix::mount::{MoveMountFlags, OpenTreeFlags};

use super::last_errno;

/// Bind-mounts `source` on `target` (an `O_PATH` fd of the mount point)
/// through the id mapping of `userns`: `open_tree(OPEN_TREE_CLONE)`,
/// `mount_setattr(MOUNT_ATTR_IDMAP)` on the detached copy, `move_mount`
/// onto `target`. With `target` opened on `source` the mapped copy is
/// stacked over the original. Allocation-free (the child calls it). A
/// filesystem that cannot be idmapped fails with `EINVAL`.
pub(crate) fn idmapped_bind(
    source: &CStr,
    target: BorrowedFd<'_>,
    recursive: bool,
    userns: BorrowedFd<'_>,
) -> Result<(), Errno> {
    let mut flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC;
    if recursive {
        flags |= OpenTreeFlags::AT_RECURSIVE;
    }
    let tree = rustix::mount::open_tree(CWD, source, flags)?;
    super::mount_attr::set_idmap(tree.as_fd(), userns, recursive)?;
    rustix::mount::move_mount(
        &tree,
        c"",
        target,
        c"",
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
    )
}

/// `PIDFD_GET_USER_NAMESPACE` of `<linux/pidfd.h>`: `_IO(0xFF, 9)`.
const PIDFD_GET_USER_NAMESPACE: libc::Ioctl = 0xFF09;

/// The user namespace of the process `pidfd` refers to, as an fd for
/// `setns` and `mount_setattr`. `PIDFD_GET_USER_NAMESPACE` (Linux 6.11);
/// before it, `/proc/<pid>/ns/user` with the pid the pidfd's fdinfo
/// names.
pub(crate) fn user_namespace_of(pidfd: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    // SAFETY: the ioctl takes no argument and returns a new fd or -1; the
    // fd returned is owned by nobody else.
    let fd = unsafe { libc::ioctl(pidfd.as_raw_fd(), PIDFD_GET_USER_NAMESPACE, 0) };
    if fd >= 0 {
        // SAFETY: `fd` was just returned by the kernel and is ours.
        return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    let errno = last_errno();
    if errno != Errno::NOTTY && errno != Errno::INVAL {
        return Err(errno);
    }
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd()))
        .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::INVAL))?;
    let pid = info
        .lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .and_then(|p| p.trim().parse::<i32>().ok())
        .filter(|p| *p > 0)
        .ok_or(Errno::SRCH)?;
    rustix::fs::open(
        format!("/proc/{pid}/ns/user"),
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
}

/// Whether `ns` is the caller's own user namespace (same inode).
pub(crate) fn is_own_user_namespace(ns: BorrowedFd<'_>) -> Result<bool, Errno> {
    let theirs = rustix::fs::fstat(ns)?;
    let ours = rustix::fs::stat("/proc/self/ns/user")?;
    Ok(theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino)
}
