//! `mount_setattr(2)`, which rustix does not wrap: the one call that
//! changes the attributes of a mount, or of a whole mount tree at once
//! (`AT_RECURSIVE`). Kubernetes' `recursiveReadOnly` (kernel 5.12+) and
//! the idmapped mounts of a user-namespace pod (`super::idmap`) use it.

use std::os::fd::{AsRawFd, BorrowedFd};

use rustix::io::Errno;

/// `MOUNT_ATTR_RDONLY` (`include/uapi/linux/mount.h`).
const MOUNT_ATTR_RDONLY: u64 = 0x1;
/// `MOUNT_ATTR_IDMAP` (`include/uapi/linux/mount.h`).
const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;

/// `struct mount_attr` (`include/uapi/linux/mount.h`, `MOUNT_ATTR_SIZE_VER0`).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Sets `attr_set` on the mount at `mount` (an fd of its root), and on
/// every mount below it with `recursive`. `userns` goes with
/// `MOUNT_ATTR_IDMAP`. Allocation-free: safe in the child between `clone3`
/// and `execve`.
fn mount_setattr(
    mount: BorrowedFd<'_>,
    attr_set: u64,
    userns: Option<BorrowedFd<'_>>,
    recursive: bool,
) -> Result<(), Errno> {
    let attr = MountAttr {
        attr_set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: userns.map_or(0, |fd| u64::from(fd.as_raw_fd().unsigned_abs())),
    };
    let flags = libc::AT_EMPTY_PATH | if recursive { libc::AT_RECURSIVE } else { 0 };
    // SAFETY: `mount` (and `userns`, when given) are open fds, the path is
    // the empty C string (with AT_EMPTY_PATH the call acts on the fd
    // itself), and `attr` is a live repr(C) `struct mount_attr` of the size
    // passed, which the kernel only reads.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            mount.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &raw const attr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(super::last_errno())
    }
}

/// Makes the mount at `mount` and every mount below it read-only.
pub(crate) fn make_read_only_recursively(mount: BorrowedFd<'_>) -> Result<(), Errno> {
    mount_setattr(mount, MOUNT_ATTR_RDONLY, None, true)
}

/// Gives the detached mount `tree` (and its submounts with `recursive`)
/// the id mapping of the user namespace `userns`: a file owned by `n` on
/// disk is seen as owned by the id that namespace maps `n` to.
pub(crate) fn set_idmap(
    tree: BorrowedFd<'_>,
    userns: BorrowedFd<'_>,
    recursive: bool,
) -> Result<(), Errno> {
    mount_setattr(tree, MOUNT_ATTR_IDMAP, Some(userns), recursive)
}
