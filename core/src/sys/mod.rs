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
