//! The raw syscalls rustix does not wrap, one module per family. Every
//! `unsafe` block of peapod is here or in the child path, each with a
//! `// SAFETY:` line.

pub(crate) mod bpf;
pub(crate) mod clone3;
pub(crate) mod exec;
pub(crate) mod fds;
pub(crate) mod idmap;
pub(crate) mod memfd;
pub(crate) mod memory;
pub(crate) mod mount_attr;
pub(crate) mod seccomp;
pub(crate) mod signal;

/// The errno of the raw syscall that just failed (`EINVAL` should the
/// thread's errno hold none). Allocation-free: the clone3 child uses it.
pub(crate) fn last_errno() -> rustix::io::Errno {
    rustix::io::Errno::from_io_error(&std::io::Error::last_os_error())
        .unwrap_or(rustix::io::Errno::INVAL)
}
