//! `mount_setattr(2)`, which rustix does not wrap: the one call that
//! changes the attributes of a whole mount tree at once (`AT_RECURSIVE`),
//! for Kubernetes' `recursiveReadOnly` (kernel 5.12+).

use std::os::fd::{AsRawFd, BorrowedFd};

use rustix::io::Errno;

/// `MOUNT_ATTR_RDONLY` (`include/uapi/linux/mount.h`).
const MOUNT_ATTR_RDONLY: u64 = 0x1;

/// `struct mount_attr` (`include/uapi/linux/mount.h`, `MOUNT_ATTR_SIZE_VER0`).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Makes the mount at `mount` (an fd of its root) and every mount below
/// it read-only. Allocation-free: safe in the child between `clone3` and
/// `execve`.
pub(crate) fn make_read_only_recursively(mount: BorrowedFd<'_>) -> rustix::io::Result<()> {
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: `mount` is an open fd, the path is the empty C string (with
    // AT_EMPTY_PATH the call acts on the fd itself), and `attr` is a valid
    // `struct mount_attr` of the size passed, which the kernel only reads.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            mount.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_RECURSIVE,
            &raw const attr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if ret < 0 {
        Err(Errno::from_raw_os_error(
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        ))
    } else {
        Ok(())
    }
}
