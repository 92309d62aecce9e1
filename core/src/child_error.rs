//! The error pipe: a child that fails before `execve` writes one fixed-size
//! record (step, errno, path) to a CLOEXEC pipe and exits; a successful
//! `execve` closes the pipe, so the parent reads either a record or EOF.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

use rustix::io::Errno;

use crate::error::Error;

/// The step of the child path that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Step {
    CgroupJoin = 1,
    Setns,
    Unshare,
    Setsid,
    Stdio,
    Propagation,
    Mkdir,
    Mount,
    Remount,
    Symlink,
    Mask,
    PivotRoot,
    Hostname,
    /// Writing a pod sysctl in its namespaces.
    Sysctl,
    Chdir,
    Rlimit,
    Capabilities,
    Credentials,
    NoNewPrivs,
    /// Installing the seccomp filter.
    Seccomp,
    /// An idmapped mount for the pod's user namespace.
    Idmap,
    /// The process's own terminal (`crate::terminal`).
    Terminal,
    Exec,
    /// `argv[0]` searched in `PATH` and found nowhere.
    ExecNotFound,
}

impl Step {
    const ALL: [Step; 24] = [
        Step::CgroupJoin,
        Step::Setns,
        Step::Unshare,
        Step::Setsid,
        Step::Stdio,
        Step::Propagation,
        Step::Mkdir,
        Step::Mount,
        Step::Remount,
        Step::Symlink,
        Step::Mask,
        Step::PivotRoot,
        Step::Hostname,
        Step::Sysctl,
        Step::Chdir,
        Step::Rlimit,
        Step::Capabilities,
        Step::Credentials,
        Step::NoNewPrivs,
        Step::Seccomp,
        Step::Idmap,
        Step::Terminal,
        Step::Exec,
        Step::ExecNotFound,
    ];

    fn name(self) -> &'static str {
        match self {
            Step::CgroupJoin => "join cgroup",
            Step::Setns => "join namespaces",
            Step::Unshare => "create namespaces",
            Step::Setsid => "setsid",
            Step::Stdio => "stdio",
            Step::Propagation => "make mounts private",
            Step::Mkdir => "mkdir",
            Step::Mount => "mount",
            Step::Remount => "remount",
            Step::Symlink => "symlink",
            Step::Mask => "mask",
            Step::PivotRoot => "pivot_root",
            Step::Hostname => "sethostname",
            Step::Sysctl => "sysctl",
            Step::Chdir => "chdir",
            Step::Rlimit => "setrlimit",
            Step::Capabilities => "capabilities",
            Step::Credentials => "set credentials",
            Step::NoNewPrivs => "no_new_privs",
            Step::Seccomp => "install seccomp filter",
            Step::Idmap => "idmapped mount for the pod's user namespace",
            Step::Terminal => "open the container's terminal",
            Step::Exec | Step::ExecNotFound => "exec",
        }
    }
}

const PATH_MAX_IN_RECORD: usize = 244;

/// What goes over the pipe: 256 bytes, one atomic write (< `PIPE_BUF`).
#[repr(C)]
struct Record {
    step: u32,
    errno: i32,
    len: u32,
    path: [u8; PATH_MAX_IN_RECORD],
}

/// Writes the record of a failed step; called in the child, allocation
/// free. A failed write is ignored: the exit code 127 still tells.
pub(crate) fn report(pipe: &OwnedFd, step: Step, errno: Errno, path: &CStr) {
    let bytes = path.to_bytes();
    let len = bytes.len().min(PATH_MAX_IN_RECORD);
    let mut rec = Record {
        step: step as u32,
        errno: errno.raw_os_error(),
        len: u32::try_from(len).unwrap_or(0),
        path: [0; PATH_MAX_IN_RECORD],
    };
    rec.path[..len].copy_from_slice(&bytes[..len]);
    // SAFETY: `Record` is repr(C) plain integers and bytes without padding
    // (4 + 4 + 4 + 244 bytes); viewing it as bytes for its size is sound.
    let raw = unsafe {
        std::slice::from_raw_parts(
            std::ptr::from_ref(&rec).cast::<u8>(),
            std::mem::size_of::<Record>(),
        )
    };
    let _ = rustix::io::write(pipe.as_fd(), raw);
}

/// Reads the pipe in the parent until EOF: `Ok(())` when the child exec'd
/// (nothing written), the child's error otherwise.
pub(crate) fn collect(pipe: &OwnedFd) -> Result<(), Error> {
    let mut buf = [0u8; std::mem::size_of::<Record>()];
    let mut got = 0;
    while got < buf.len() {
        match rustix::io::read(pipe.as_fd(), &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(Error::sys("read error pipe", e)),
        }
    }
    if got == 0 {
        return Ok(());
    }
    if got < buf.len() {
        return Err(Error::sys(
            "read error pipe",
            io::Error::new(io::ErrorKind::UnexpectedEof, "short error record"),
        ));
    }
    Err(decode(&buf))
}

fn decode(buf: &[u8; std::mem::size_of::<Record>()]) -> Error {
    let word = |i: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&buf[i..i + 4]);
        u32::from_ne_bytes(w)
    };
    let step_code = word(0);
    let errno = word(4).cast_signed();
    let len = (word(8) as usize).min(PATH_MAX_IN_RECORD);
    let path = String::from_utf8_lossy(&buf[12..12 + len]).into_owned();
    let step = Step::ALL.into_iter().find(|s| *s as u32 == step_code);
    let cause = if step == Some(Step::ExecNotFound) {
        "executable file not found in $PATH".to_owned()
    } else {
        describe_errno(errno)
    };
    Error::Child {
        step: step.map_or("child setup", Step::name),
        path,
        cause,
        errno,
    }
}

/// `No such file or directory (os error 2)` → `no such file or directory`.
fn describe_errno(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    let text = text.split(" (os error").next().unwrap_or(&text).to_owned();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(step: Step, errno: Errno, path: &CStr) -> Error {
        let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).expect("pipe");
        report(&w, step, errno, path);
        drop(w);
        collect(&r).expect_err("a record was written")
    }

    #[test]
    fn missing_executable_reads_like_runc() {
        let e = roundtrip(Step::Exec, Errno::NOENT, c"/usr/sbin/nginx");
        assert_eq!(
            e.to_string(),
            "exec \"/usr/sbin/nginx\": no such file or directory"
        );
    }

    #[test]
    fn command_not_in_path_says_so() {
        let e = roundtrip(Step::ExecNotFound, Errno::NOENT, c"nginx");
        assert_eq!(
            e.to_string(),
            "exec \"nginx\": executable file not found in $PATH"
        );
    }

    #[test]
    fn mount_failure_names_target_and_errno() {
        let e = roundtrip(Step::Mount, Errno::PERM, c"/proc");
        assert!(matches!(e, Error::Child { errno, .. } if errno == libc::EPERM));
        assert_eq!(e.to_string(), "mount \"/proc\": operation not permitted");
    }

    #[test]
    fn eof_without_record_means_exec_succeeded() {
        let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).expect("pipe");
        drop(w);
        collect(&r).expect("no error");
    }

    #[test]
    fn long_paths_are_truncated_not_dropped() {
        let long = CString::new("x".repeat(1000)).expect("no NUL");
        let e = roundtrip(Step::Mkdir, Errno::NAMETOOLONG, &long);
        let Error::Child { path, .. } = e else {
            panic!("{e}")
        };
        assert_eq!(path.len(), PATH_MAX_IN_RECORD);
    }

    use std::ffi::CString;
}
