//! Installing a seccomp BPF program on the calling thread, with the raw
//! `seccomp(2)` call (seccompiler's own `apply_filter` also sets
//! no_new_privs, which only `allowPrivilegeEscalation: false` may do).

use rustix::io::Errno;
use seccompiler::sock_filter;

/// `seccomp(SECCOMP_SET_MODE_FILTER, 0, prog)`. Needs no_new_privs or
/// CAP_SYS_ADMIN. Allocation-free: callable in a `clone3` child.
pub(crate) fn install(program: &[sock_filter]) -> Result<(), Errno> {
    let len = u16::try_from(program.len()).map_err(|_| Errno::INVAL)?;
    let prog = libc::sock_fprog {
        len,
        // seccompiler's `sock_filter` is `repr(C)` with the kernel's
        // layout, the same as libc's.
        filter: program.as_ptr().cast::<libc::sock_filter>().cast_mut(),
    };
    // SAFETY: the kernel copies `len` instructions from `filter`, which
    // points to `program`, alive across the call; `prog` lives on this
    // stack.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &raw const prog,
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(Errno::from_raw_os_error(
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        ))
    }
}
