//! Sealed memfds: an executable that lives in memory only, for
//! `execveat(fd, "", AT_EMPTY_PATH)`.

use std::ffi::CStr;
use std::os::fd::OwnedFd;

use rustix::fs::{MemfdFlags, SealFlags};
use rustix::io::Errno;

/// A close-on-exec memfd named `name` holding `bytes`, sealed against any
/// change (write, grow, shrink, further seals), so what is exec'd is what
/// was written. Asks for `MFD_EXEC` (Linux 6.3+, where `vm.memfd_noexec`
/// may make memfds non-executable by default) and retries without it on
/// an older kernel.
pub(crate) fn sealed(name: &CStr, bytes: &[u8]) -> rustix::io::Result<OwnedFd> {
    let flags = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
    let fd = match rustix::fs::memfd_create(name, flags | MemfdFlags::EXEC) {
        Err(Errno::INVAL) => rustix::fs::memfd_create(name, flags)?,
        other => other?,
    };
    let mut written = 0;
    while written < bytes.len() {
        written += rustix::io::write(&fd, &bytes[written..])?;
    }
    rustix::fs::fcntl_add_seals(
        &fd,
        SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL,
    )?;
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_memfd_holds_the_bytes_and_refuses_writes() {
        let fd = sealed(c"test", b"hello").expect("memfd");
        let mut buf = [0u8; 8];
        let n = rustix::io::pread(&fd, &mut buf, 0).expect("read");
        assert_eq!(&buf[..n], b"hello");
        assert_eq!(rustix::io::pwrite(&fd, b"x", 0), Err(Errno::PERM));
    }
}
