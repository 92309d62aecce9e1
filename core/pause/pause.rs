//! The pause process of a pod, as a program of its own: no std, no libc,
//! no start files, a few raw syscalls. `core`'s build script compiles it
//! (`-C panic=abort -C opt-level=s`, linked `-nostartfiles -nostdlib
//! -static`) and `peapod-core` embeds the ~1.5 KB ELF; `spawn_pause` runs
//! it from a sealed memfd with `argv = ["/pause"]`.
//!
//! What it does, as PID 1 of a shared PID namespace or as a plain holder
//! of the pod's namespaces: names itself `pause` (`comm`), blocks every
//! signal, then waits for them: `SIGCHLD` reaps every exited child (orphans
//! re-parented to it), `SIGTERM`, `SIGINT` and `SIGHUP` exit 0, anything
//! else is ignored. A blocked signal is never delivered, so nothing it
//! receives can kill it but `SIGKILL`.
#![no_std]
#![no_main]

use core::arch::{asm, global_asm};

/// Syscall numbers of the architecture.
#[cfg(target_arch = "x86_64")]
mod nr {
    pub const RT_SIGPROCMASK: usize = 14;
    pub const RT_SIGTIMEDWAIT: usize = 128;
    pub const WAIT4: usize = 61;
    pub const PRCTL: usize = 157;
    pub const EXIT_GROUP: usize = 231;
}

/// Syscall numbers of the architecture.
#[cfg(target_arch = "aarch64")]
mod nr {
    pub const RT_SIGPROCMASK: usize = 135;
    pub const RT_SIGTIMEDWAIT: usize = 137;
    pub const WAIT4: usize = 260;
    pub const PRCTL: usize = 167;
    pub const EXIT_GROUP: usize = 94;
}

// The entry point: a 16-byte aligned stack, then `pause`, which never
// returns.
#[cfg(target_arch = "x86_64")]
global_asm!(
    ".globl _start",
    "_start:",
    "xor ebp, ebp",
    "and rsp, -16",
    "call {main}",
    "ud2",
    main = sym pause,
);

#[cfg(target_arch = "aarch64")]
global_asm!(
    ".globl _start",
    "_start:",
    "mov x29, #0",
    "mov x30, #0",
    "bl {main}",
    "brk #0",
    main = sym pause,
);

/// A raw syscall with up to four arguments; the kernel's return value
/// (`-errno` on failure).
///
/// # Safety
/// The arguments must be what syscall `n` expects (valid pointers).
#[cfg(target_arch = "x86_64")]
unsafe fn syscall4(n: usize, a: usize, b: usize, c: usize, d: usize) -> isize {
    let ret: isize;
    // SAFETY: the `syscall` instruction clobbers rcx and r11 only; the
    // caller vouches for the arguments.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") n => ret,
            in("rdi") a,
            in("rsi") b,
            in("rdx") c,
            in("r10") d,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// A raw syscall with up to four arguments; the kernel's return value
/// (`-errno` on failure).
///
/// # Safety
/// The arguments must be what syscall `n` expects (valid pointers).
#[cfg(target_arch = "aarch64")]
unsafe fn syscall4(n: usize, a: usize, b: usize, c: usize, d: usize) -> isize {
    let ret: isize;
    // SAFETY: `svc 0` returns in x0 and clobbers nothing else; the caller
    // vouches for the arguments.
    unsafe {
        asm!(
            "svc 0",
            in("x8") n,
            inlateout("x0") a => ret,
            in("x1") b,
            in("x2") c,
            in("x3") d,
            options(nostack),
        );
    }
    ret
}

const SIGHUP: isize = 1;
const SIGINT: isize = 2;
const SIGTERM: isize = 15;
const SIGCHLD: isize = 17;
const SIG_BLOCK: usize = 0;
const PR_SET_NAME: usize = 15;
const WNOHANG: usize = 1;
/// The kernel's signal set: 64 bits.
const SIGSET_SIZE: usize = 8;

extern "C" fn pause() -> ! {
    let every_signal: u64 = !0;
    let set = (&raw const every_signal) as usize;
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16
    // bytes; rt_sigprocmask reads an 8-byte set and writes no old set.
    unsafe {
        syscall4(nr::PRCTL, PR_SET_NAME, c"pause".as_ptr() as usize, 0, 0);
        syscall4(nr::RT_SIGPROCMASK, SIG_BLOCK, set, 0, SIGSET_SIZE);
    }
    loop {
        // SAFETY: waits for a signal of the 8-byte set; no siginfo, no
        // timeout.
        let signal = unsafe { syscall4(nr::RT_SIGTIMEDWAIT, set, 0, 0, SIGSET_SIZE) };
        match signal {
            // SAFETY: wait4(-1, NULL, WNOHANG, NULL) writes nothing.
            SIGCHLD => while unsafe { syscall4(nr::WAIT4, usize::MAX, 0, WNOHANG, 0) } > 0 {},
            SIGTERM | SIGINT | SIGHUP => exit(0),
            _ => {}
        }
    }
}

fn exit(code: usize) -> ! {
    loop {
        // SAFETY: exit_group takes a plain integer and does not return.
        unsafe { syscall4(nr::EXIT_GROUP, code, 0, 0, 0) };
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    exit(2)
}
