//! `close_range(2)`: closing what a child must not keep, and
//! `CLOSE_RANGE_CLOEXEC` before `execve`.

use std::os::fd::RawFd;

use rustix::io::Errno;

const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

fn close_range(first: u32, last: u32, flags: u32) -> Result<(), Errno> {
    // SAFETY: close_range takes plain integers. With flags 0 it is only
    // called in a just-cloned child, which never uses nor drops the fds it
    // closes (it ends in execve or _exit); with CLOEXEC it closes nothing.
    let ret = unsafe { libc::syscall(libc::SYS_close_range, first, last, flags) };
    if ret == 0 {
        Ok(())
    } else {
        Err(super::last_errno())
    }
}

/// Closes every fd from 3 up except those in `keep` (sorted): one
/// `close_range` per gap, allocation-free. For a child right after
/// `clone3`, which owns copies of all its parent's fds.
pub(crate) fn close_all_except(keep: &[RawFd]) -> Result<(), Errno> {
    let mut first: u32 = 3;
    for &fd in keep {
        let Ok(fd) = u32::try_from(fd) else { continue };
        if fd > first {
            close_range(first, fd - 1, 0)?;
        }
        first = first.max(fd.saturating_add(1));
    }
    close_range(first, u32::MAX, 0)
}

/// Marks every fd from `first` up close-on-exec, so nothing the caller
/// opened without `O_CLOEXEC` leaks into the container. One syscall,
/// allocation-free.
pub(crate) fn cloexec_from(first: u32) -> Result<(), Errno> {
    close_range(first, u32::MAX, CLOSE_RANGE_CLOEXEC)
}
