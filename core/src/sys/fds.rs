//! `close_range(2)` with `CLOSE_RANGE_CLOEXEC`.

use rustix::io::Errno;

const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

/// Marks every fd from `first` up close-on-exec, so nothing the caller
/// opened without `O_CLOEXEC` leaks into the container. One syscall,
/// allocation-free.
pub(crate) fn cloexec_from(first: u32) -> Result<(), Errno> {
    // SAFETY: close_range only changes fd flags here (CLOEXEC), it closes
    // nothing, so no owned fd of this process is invalidated.
    let ret = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, CLOSE_RANGE_CLOEXEC) };
    if ret == 0 {
        Ok(())
    } else {
        Err(Errno::from_io_error(&std::io::Error::last_os_error()).unwrap_or(Errno::INVAL))
    }
}
