//! Signal mask and dispositions: reset in the child before `execve`, and
//! the blocking wait of the pause process.

/// `struct kernel_sigaction` for `rt_sigaction` with `SIG_DFL`.
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// Unblocks every signal and sets every catchable one to `SIG_DFL`, so the
/// container does not inherit the supervisor's mask or ignored signals
/// (Rust's runtime ignores `SIGPIPE`). Raw syscalls only: safe in the child
/// after `clone3`.
pub(crate) fn reset_for_exec() {
    let empty: u64 = 0;
    // SAFETY: rt_sigprocmask with a valid 8-byte set and no old-set pointer.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            std::ptr::from_ref(&empty),
            std::ptr::null_mut::<u64>(),
            8usize,
        )
    };
    let dfl = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    for sig in 1..32 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: rt_sigaction with a valid kernel sigaction for SIG_DFL
        // (no handler runs, so no restorer is needed) and no old action.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                std::ptr::from_ref(&dfl),
                std::ptr::null_mut::<KernelSigaction>(),
                8usize,
            )
        };
    }
}

/// Blocks every signal for the calling (single-threaded) process, so they
/// queue for [`wait_signal`]. A PID 1 would otherwise ignore them.
pub(crate) fn block_all() {
    // SAFETY: `set` is initialised by sigfillset before sigprocmask reads it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&raw mut set);
        libc::sigprocmask(libc::SIG_BLOCK, &raw const set, std::ptr::null_mut());
    }
}

/// Waits for any blocked signal and returns its number.
pub(crate) fn wait_signal() -> i32 {
    // SAFETY: `set` is initialised by sigfillset; no siginfo is requested.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&raw mut set);
        libc::sigwaitinfo(&raw const set, std::ptr::null_mut())
    }
}

/// Blocks `signals` for the calling thread and returns a non-blocking
/// signalfd that reads them.
pub(crate) fn block_into_signalfd(signals: &[i32]) -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: `set` is initialised by sigemptyset before sigaddset,
    // pthread_sigmask and signalfd read it; no old mask is requested; the
    // fd signalfd returns is new and owned by nothing else.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut set);
        for &s in signals {
            libc::sigaddset(&raw mut set, s);
        }
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &raw const set, std::ptr::null_mut());
        if rc != 0 {
            return Err(std::io::Error::from_raw_os_error(rc));
        }
        let fd = libc::signalfd(-1, &raw const set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(std::os::fd::OwnedFd::from_raw_fd(fd))
    }
}

/// Ends the process the way a Unix tool (and a Go program such as kubectl)
/// ends when the reader of its standard output goes away: killed by
/// `SIGPIPE`, quietly. Rust's runtime ignores `SIGPIPE`, so a write to a
/// closed pipe returns `EPIPE` instead; the caller saw that error on its
/// stdout and calls this. Exits with 141 (128 + `SIGPIPE`) should the
/// signal somehow not end the process.
pub fn die_of_sigpipe() -> ! {
    // SAFETY: SIG_DFL installs no handler, so no code of ours runs in a
    // signal context; `set` is initialised by sigemptyset before
    // sigaddset and pthread_sigmask read it; raise only sends a signal.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut set);
        libc::sigaddset(&raw mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &raw const set, std::ptr::null_mut());
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(128 + libc::SIGPIPE)
}
