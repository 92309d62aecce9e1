//! `probe`: makes one raw syscall from inside a test container and says
//! how it went, for the tests that check what a container may not do
//! (busybox has no applet for `keyctl`, `bpf`, `io_uring_setup`, ...).
//!
//! `probe <call> [args]` prints one line, `<call>: ok` or `<call>: EPERM`
//! (the errno's name, or `E<number>` for one not in the table), and exits
//! 0 when the call succeeded, 1 when it failed, 2 on a usage error.
//! `probe` alone prints the list of calls. The command line is stable:
//! tests of several helpers use it.
//!
//! testkit's build script compiles this file with the plain `rustc` for
//! `<arch>-unknown-linux-musl` into a static executable (std, linked with
//! musl's libc, which gives the variadic `syscall`), and
//! `peapod_testkit::busybox_rootfs` copies it to `/bin/probe` of the
//! fixture root filesystem.

use std::ffi::{CString, c_int, c_long, c_void};
use std::io;

unsafe extern "C" {
    fn syscall(number: c_long, ...) -> c_long;
    fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    fn _exit(code: c_int) -> !;
}

/// Syscall numbers of the architecture.
#[cfg(target_arch = "x86_64")]
mod nr {
    pub const KEYCTL: i64 = 250;
    pub const ADD_KEY: i64 = 248;
    pub const BPF: i64 = 321;
    pub const PERF_EVENT_OPEN: i64 = 298;
    pub const SOCKET: i64 = 41;
    pub const INIT_MODULE: i64 = 175;
    pub const FINIT_MODULE: i64 = 313;
    pub const PTRACE: i64 = 101;
    pub const CLONE: i64 = 56;
    pub const UNSHARE: i64 = 272;
    pub const MOUNT: i64 = 165;
    pub const UMOUNT2: i64 = 166;
    pub const PERSONALITY: i64 = 135;
    pub const SETHOSTNAME: i64 = 170;
    pub const MKDIRAT: i64 = 258;
    pub const MKNODAT: i64 = 259;
    pub const CHROOT: i64 = 161;
    pub const SYSLOG: i64 = 103;
    pub const USERFAULTFD: i64 = 323;
    pub const SETNS: i64 = 308;
}

/// Syscall numbers of the architecture.
#[cfg(target_arch = "aarch64")]
mod nr {
    pub const KEYCTL: i64 = 219;
    pub const ADD_KEY: i64 = 217;
    pub const BPF: i64 = 280;
    pub const PERF_EVENT_OPEN: i64 = 241;
    pub const SOCKET: i64 = 198;
    pub const INIT_MODULE: i64 = 105;
    pub const FINIT_MODULE: i64 = 273;
    pub const PTRACE: i64 = 117;
    pub const CLONE: i64 = 220;
    pub const UNSHARE: i64 = 97;
    pub const MOUNT: i64 = 40;
    pub const UMOUNT2: i64 = 39;
    pub const PERSONALITY: i64 = 92;
    pub const SETHOSTNAME: i64 = 161;
    pub const MKDIRAT: i64 = 34;
    pub const MKNODAT: i64 = 33;
    pub const CHROOT: i64 = 51;
    pub const SYSLOG: i64 = 116;
    pub const USERFAULTFD: i64 = 282;
    pub const SETNS: i64 = 268;
}

/// The same number on every architecture.
const IO_URING_SETUP: i64 = 425;
/// The same number on every architecture.
const CLONE3: i64 = 435;

const USAGE: &str = "\
usage: probe <call> [args]   prints `<call>: ok` (exit 0) or `<call>: E<NAME>` (exit 1)
calls:
  keyctl                       keyctl(KEYCTL_GET_KEYRING_ID, session keyring, create)
  add_key                      add_key(\"user\", \"probe\", \"x\", session keyring)
  bpf                          bpf(BPF_MAP_CREATE, a one-entry array map)
  perf_event_open              a software CPU-clock counter on itself
  io_uring_setup               io_uring_setup(1 entry)
  socket <family> [type]       family: unix inet inet6 netlink packet alg vsock or a number;
                               type: stream dgram raw seqpacket or a number
                               (default seqpacket for alg, raw for packet, else stream)
  init_module                  init_module of an empty image (never loads a module)
  finit_module                 finit_module of /dev/null (never loads a module)
  ptrace <pid>                 PTRACE_SEIZE of <pid> (released when probe exits)
  clone [ns...]                a fork-like clone with CLONE_NEW* of each ns; the child exits 0
  clone3 [ns...]               the same through clone3
  unshare <ns...>              unshare(CLONE_NEW* of each ns)
                               ns: mount user pid net uts ipc cgroup time, or a number
  setns <path> [ns]            setns(open(path), CLONE_NEW* of ns or 0)
  mount <fstype> <target> [source]  mount(source or fstype, target, fstype, 0, \"\")
  umount <target>              umount2(target, 0)
  personality <persona>        personality(persona); a number, 0x... for hex
  sethostname <name>           sethostname(name)
  mkdir <path>                 mkdirat(AT_FDCWD, path, 0755)
  mknod <path> <c|b> <major> <minor>  mknodat(AT_FDCWD, path, type|0600, dev)
  chroot <path>                chroot(path)
  syslog                       syslog(SYSLOG_ACTION_SIZE_BUFFER)
  userfaultfd                  userfaultfd(0)
  raw <nr> [arg...]            syscall nr with up to 6 integer arguments
  int80 <nr>                   the i386 syscall <nr> through `int 0x80` (x86_64 only; 20 is
                               getpid): a 32-bit call from a 64-bit process
  exe-write <argv0>            waits for another process whose argv[0] is <argv0>, opens its
                               /proc/<pid>/exe (O_PATH) and that again for reading and writing
                               (nothing is written); prints `exe-write: <result> ino=<inode>`
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((call, rest)) = args.split_first() else {
        print!("{USAGE}");
        std::process::exit(2);
    };
    let outcome = match run(call, rest) {
        Ok(outcome) => outcome,
        Err(usage) => {
            eprintln!("probe {call}: {usage}\n{USAGE}");
            std::process::exit(2);
        }
    };
    match outcome {
        Ok(()) => {
            println!("{call}: ok");
            std::process::exit(0);
        }
        Err(err) => {
            println!("{call}: {}", errno_name(err.raw_os_error().unwrap_or(0)));
            std::process::exit(1);
        }
    }
}

/// Makes the call named `call`: `Err` is a usage error, `Ok(Err)` the
/// call's failure.
fn run(call: &str, args: &[String]) -> Result<io::Result<()>, String> {
    let arg = |i: usize| args.get(i).map(String::as_str).ok_or("missing argument");
    Ok(match call {
        "keyctl" => {
            const KEYCTL_GET_KEYRING_ID: i64 = 0;
            const KEY_SPEC_SESSION_KEYRING: i64 = -3;
            sys(nr::KEYCTL, &[KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1])
        }
        "add_key" => {
            const KEY_SPEC_SESSION_KEYRING: i64 = -3;
            let (kind, desc) = (c"user", c"probe");
            let payload = b"x";
            sys(
                nr::ADD_KEY,
                &[
                    ptr(kind.as_ptr()),
                    ptr(desc.as_ptr()),
                    ptr(payload.as_ptr()),
                    1,
                    KEY_SPEC_SESSION_KEYRING,
                ],
            )
        }
        "bpf" => {
            const BPF_MAP_CREATE: i64 = 0;
            const BPF_MAP_TYPE_ARRAY: u32 = 2;
            // map_type, key_size, value_size, max_entries; the rest zero.
            let mut attr = [0u32; 32];
            attr[..4].copy_from_slice(&[BPF_MAP_TYPE_ARRAY, 4, 4, 1]);
            sys(nr::BPF, &[BPF_MAP_CREATE, ptr(attr.as_ptr()), 128])
        }
        "perf_event_open" => {
            // struct perf_event_attr: type (PERF_TYPE_SOFTWARE), size,
            // config (PERF_COUNT_SW_CPU_CLOCK); flags disabled and
            // exclude_kernel, exclude_hv so paranoid level 2 allows it.
            const PERF_ATTR_SIZE_VER5: u32 = 112;
            let mut attr = [0u64; 16];
            attr[0] = 1 | (u64::from(PERF_ATTR_SIZE_VER5) << 32);
            attr[5] = 1 | (1 << 5) | (1 << 6);
            sys(nr::PERF_EVENT_OPEN, &[ptr(attr.as_ptr()), 0, -1, -1, 0])
        }
        "io_uring_setup" => {
            let mut params = [0u8; 120];
            sys(IO_URING_SETUP, &[1, ptr(params.as_mut_ptr())])
        }
        "socket" => {
            let family = match arg(0)? {
                "unix" => 1,
                "inet" => 2,
                "inet6" => 10,
                "netlink" => 16,
                "packet" => 17,
                "alg" => 38,
                "vsock" => 40,
                other => number(other)?,
            };
            let kind = match args.get(1).map(String::as_str) {
                Some("stream") => 1,
                Some("dgram") => 2,
                Some("raw") => 3,
                Some("seqpacket") => 5,
                Some(other) => number(other)?,
                None if family == 38 => 5,
                None if family == 17 => 3,
                None => 1,
            };
            sys(nr::SOCKET, &[family, kind, 0])
        }
        "init_module" => {
            let image = [0u8; 0];
            sys(nr::INIT_MODULE, &[ptr(image.as_ptr()), 0, ptr(c"".as_ptr())])
        }
        "finit_module" => match std::fs::File::open("/dev/null") {
            Ok(file) => {
                use std::os::fd::AsRawFd;
                let fd = i64::from(file.as_raw_fd());
                sys(nr::FINIT_MODULE, &[fd, ptr(c"".as_ptr()), 0])
            }
            Err(err) => Err(err),
        },
        "ptrace" => {
            const PTRACE_SEIZE: i64 = 0x4206;
            sys(nr::PTRACE, &[PTRACE_SEIZE, number(arg(0)?)?, 0, 0])
        }
        "clone" => {
            const SIGCHLD: i64 = 17;
            let flags = namespaces(args)? | SIGCHLD;
            fork_like(|| {
                // SAFETY: a fork-like clone (no new stack): the child
                // returns 0 on a copy of this stack, as from fork.
                unsafe { syscall(nr::CLONE, flags, 0i64, 0i64, 0i64, 0i64) }
            })
        }
        "clone3" => {
            const SIGCHLD: u64 = 17;
            let flags = namespaces(args)?.cast_unsigned();
            // struct clone_args (CLONE_ARGS_SIZE_VER2): flags, pidfd,
            // child_tid, parent_tid, exit_signal, stack, stack_size, tls,
            // set_tid, set_tid_size, cgroup.
            let mut clone_args = [0u64; 11];
            clone_args[0] = flags;
            clone_args[4] = SIGCHLD;
            let size = std::mem::size_of_val(&clone_args);
            fork_like(|| {
                // SAFETY: no stack given, so the child returns 0 on a copy
                // of this stack, as from fork; the kernel reads `size`
                // bytes of `clone_args`.
                unsafe { syscall(CLONE3, clone_args.as_ptr(), size) }
            })
        }
        "unshare" => {
            if args.is_empty() {
                return Err("name at least one namespace".into());
            }
            sys(nr::UNSHARE, &[namespaces(args)?])
        }
        "setns" => {
            let kind = match args.get(1) {
                Some(ns) => namespaces(std::slice::from_ref(ns))?,
                None => 0,
            };
            match std::fs::File::open(arg(0)?) {
                Ok(file) => {
                    use std::os::fd::AsRawFd;
                    sys(nr::SETNS, &[i64::from(file.as_raw_fd()), kind])
                }
                Err(err) => Err(err),
            }
        }
        "mount" => {
            let fstype = cstring(arg(0)?)?;
            let target = cstring(arg(1)?)?;
            let source = cstring(args.get(2).map_or(arg(0)?, String::as_str))?;
            sys(
                nr::MOUNT,
                &[
                    ptr(source.as_ptr()),
                    ptr(target.as_ptr()),
                    ptr(fstype.as_ptr()),
                    0,
                    ptr(c"".as_ptr()),
                ],
            )
        }
        "umount" => {
            let target = cstring(arg(0)?)?;
            sys(nr::UMOUNT2, &[ptr(target.as_ptr()), 0])
        }
        "personality" => sys(nr::PERSONALITY, &[number(arg(0)?)?]),
        "sethostname" => {
            let name = arg(0)?;
            let len = i64::try_from(name.len()).map_err(|e| e.to_string())?;
            sys(nr::SETHOSTNAME, &[ptr(name.as_ptr()), len])
        }
        "mkdir" => {
            const AT_FDCWD: i64 = -100;
            let path = cstring(arg(0)?)?;
            sys(nr::MKDIRAT, &[AT_FDCWD, ptr(path.as_ptr()), 0o755])
        }
        "mknod" => {
            const AT_FDCWD: i64 = -100;
            let path = cstring(arg(0)?)?;
            let kind = match arg(1)? {
                "c" => 0o020_000,
                "b" => 0o060_000,
                other => return Err(format!("type {other:?}: c or b")),
            };
            let (major, minor) = (number(arg(2)?)?, number(arg(3)?)?);
            // The kernel's new_encode_dev.
            let dev = (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12);
            sys(nr::MKNODAT, &[AT_FDCWD, ptr(path.as_ptr()), kind | 0o600, dev])
        }
        "chroot" => {
            let path = cstring(arg(0)?)?;
            sys(nr::CHROOT, &[ptr(path.as_ptr())])
        }
        "syslog" => {
            const SYSLOG_ACTION_SIZE_BUFFER: i64 = 10;
            sys(nr::SYSLOG, &[SYSLOG_ACTION_SIZE_BUFFER, 0, 0])
        }
        "userfaultfd" => sys(nr::USERFAULTFD, &[0]),
        "raw" => {
            let nr = number(arg(0)?)?;
            let rest = args[1..]
                .iter()
                .map(|a| number(a))
                .collect::<Result<Vec<_>, _>>()?;
            if rest.len() > 6 {
                return Err("at most 6 arguments".into());
            }
            sys(nr, &rest)
        }
        "int80" => int80(number(arg(0)?)?),
        "exe-write" => {
            let (result, inode) = exe_write(arg(0)?);
            let how = result
                .as_ref()
                .map_or_else(|e| errno_name(e.raw_os_error().unwrap_or(0)), |()| "ok".into());
            println!("exe-write: {how} ino={inode}");
            std::process::exit(i32::from(result.is_err()));
        }
        other => return Err(format!("unknown call {other:?}")),
    })
}

/// The CVE-2019-5736 attack's first steps: spins over `/proc` until
/// another process runs with `argv0` as its `argv[0]` (a runtime's binary
/// exec'd through `#!/proc/self/exe`), holds its executable by an `O_PATH`
/// fd, then reopens that for reading and writing. Returns how the reopen
/// went and the inode held.
fn exe_write(argv0: &str) -> (io::Result<()>, u64) {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    const O_PATH: i32 = 0o10_000_000;
    let own = std::process::id().to_string();
    let wanted = format!("{argv0}\0");
    loop {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit())) else {
                continue;
            };
            if pid == own {
                continue;
            }
            let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                continue;
            };
            if !cmdline.starts_with(wanted.as_bytes()) {
                continue;
            }
            let Ok(held) = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(O_PATH)
                .open(format!("/proc/{pid}/exe"))
            else {
                continue;
            };
            let inode = held.metadata().map_or(0, |m| m.ino());
            let reopened = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(format!("/proc/self/fd/{}", held.as_raw_fd()));
            return (reopened.map(drop), inode);
        }
    }
}

/// The i386 system call `nr` (no arguments) through `int 0x80`, which a
/// 64-bit process may use where the kernel has IA-32 emulation: the
/// kernel (and seccomp) sees it with the i386 audit architecture.
#[cfg(target_arch = "x86_64")]
fn int80(nr: i64) -> io::Result<()> {
    let mut ret = nr;
    // SAFETY: `int 0x80` with no argument registers the call reads
    // (getpid and the like): the kernel writes the result to eax and
    // preserves every other register of a 64-bit caller but r8-r11.
    unsafe {
        std::arch::asm!(
            "int 0x80",
            inout("rax") ret,
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
            options(nostack),
        );
    }
    let ret = i64::from(ret as i32);
    if ret < 0 {
        Err(io::Error::from_raw_os_error(i32::try_from(-ret).unwrap_or(0)))
    } else {
        Ok(())
    }
}

/// No `int 0x80` on this architecture.
#[cfg(not(target_arch = "x86_64"))]
fn int80(_nr: i64) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(38))
}

/// A syscall with up to six integer arguments (missing ones are 0).
fn sys(number: i64, args: &[i64]) -> io::Result<()> {
    let mut a = [0i64; 6];
    a[..args.len()].copy_from_slice(args);
    // SAFETY: every caller passes the arguments its call expects: integers,
    // or pointers to buffers that live across the call, sized as the
    // kernel reads them.
    let ret = unsafe { syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Runs a fork-like `clone`: the child (0) exits at once, the parent reaps
/// it and reports whether it was made.
fn fork_like(clone: impl FnOnce() -> c_long) -> io::Result<()> {
    let pid = clone();
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: `_exit` ends the child without running anything of the
        // parent's (no atexit handlers, no buffered output).
        unsafe { _exit(0) }
    }
    let mut status: c_int = 0;
    let pid = c_int::try_from(pid).map_err(|_| io::Error::from_raw_os_error(34))?;
    // SAFETY: waits for our own child and writes one int we own.
    unsafe { waitpid(pid, &raw mut status, 0) };
    Ok(())
}

/// The CLONE_NEW* flags of namespace names (or numbers), or-ed.
fn namespaces(names: &[String]) -> Result<i64, String> {
    names.iter().try_fold(0, |flags, name| {
        let flag = match name.as_str() {
            "mount" | "mnt" => 0x0002_0000,
            "cgroup" => 0x0200_0000,
            "uts" => 0x0400_0000,
            "ipc" => 0x0800_0000,
            "user" => 0x1000_0000,
            "pid" => 0x2000_0000,
            "net" => 0x4000_0000,
            "time" => 0x80,
            other => number(other)?,
        };
        Ok(flags | flag)
    })
}

/// A decimal, `0x` hexadecimal or negative number.
fn number(text: &str) -> Result<i64, String> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let value = match digits.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).map(u64::cast_signed),
        None => digits.parse::<i64>(),
    }
    .map_err(|_| format!("{text:?} is not a number"))?;
    Ok(if negative { -value } else { value })
}

fn cstring(text: &str) -> Result<CString, String> {
    CString::new(text).map_err(|_| format!("{text:?} holds a NUL byte"))
}

/// A pointer as the integer the kernel takes.
fn ptr<T>(p: *const T) -> i64 {
    p.cast::<c_void>() as i64
}

/// The errno's name, for the errors a probe can meet.
fn errno_name(errno: i32) -> String {
    let name = match errno {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        4 => "EINTR",
        5 => "EIO",
        6 => "ENXIO",
        7 => "E2BIG",
        8 => "ENOEXEC",
        9 => "EBADF",
        10 => "ECHILD",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        16 => "EBUSY",
        17 => "EEXIST",
        18 => "EXDEV",
        19 => "ENODEV",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        24 => "EMFILE",
        25 => "ENOTTY",
        26 => "ETXTBSY",
        28 => "ENOSPC",
        30 => "EROFS",
        34 => "ERANGE",
        38 => "ENOSYS",
        40 => "ELOOP",
        61 => "ENODATA",
        93 => "EPROTONOSUPPORT",
        94 => "ESOCKTNOSUPPORT",
        95 => "EOPNOTSUPP",
        97 => "EAFNOSUPPORT",
        126 => "ENOKEY",
        _ => return format!("E{errno}"),
    };
    name.to_owned()
}
