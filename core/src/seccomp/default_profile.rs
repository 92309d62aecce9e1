//! `RuntimeDefault`: the default profile of Docker, containerd and
//! CRI-O (moby's `profiles/seccomp/default.json`), as data.
//!
//! Default action EPERM; about 370 syscalls allowed; `socket` only for
//! the address families moby allows (so not AF_ALG nor AF_VSOCK);
//! `personality` only with the personas it lists; `clone` without any
//! `CLONE_NEW*` flag and `clone3` answering ENOSYS (so libc falls back to
//! `clone`) unless the container has CAP_SYS_ADMIN; the groups gated by a
//! capability (mount, unshare, setns, bpf, perf_event_open, ptrace's
//! helpers, module loading, reboot, ...) only with it. No `io_uring_*`.

use crate::seccomp::profile::{
    ArgCondition, ArgOp, RuleFilter, SeccompAction, SeccompProfile, SyscallRule,
};

const EPERM: u32 = 1;
const ENOSYS: u32 = 38;

/// Allowed for every container.
const ALWAYS: &[&str] = &[
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "cachestat",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_requeue",
    "futex_time64",
    "futex_wait",
    "futex_waitv",
    "futex_wake",
    "futimesat",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "get_thread_area",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "getxattrat",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "ioctl",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "ioprio_get",
    "ioprio_set",
    "io_setup",
    "io_submit",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listmount",
    "listxattr",
    "listxattrat",
    "llistxattr",
    "_llseek",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "map_shadow_stack",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "mseal",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "_newselect",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pselect6_time64",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "removexattrat",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "riscv_hwprobe",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "setsockopt",
    "set_thread_area",
    "set_tid_address",
    "setuid",
    "setuid32",
    "setxattr",
    "setxattrat",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statmount",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "uretprobe",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
];

/// The address families `socket` may create: every one the kernel has but
/// AF_ALG (38, the kernel crypto API) and AF_VSOCK (40, host/guest
/// sockets, global across network namespaces), and those the kernel
/// removed.
/// As inclusive ranges (one rule each, both bounds in it: peapod ANDs a
/// rule's conditions, so ranges need no per-family rules as runc does).
const SOCKET_FAMILIES: &[(u64, u64)] = &[
    (1, 11),
    (13, 18),
    (21, 22),
    (24, 24),
    (26, 33),
    (35, 36),
    (39, 39),
    (41, 45),
];

/// The personas `personality` may set: Linux, `ADDR_NO_RANDOMIZE`,
/// `UNAME26`, both, and the query `0xffffffff`.
const PERSONAS: &[u64] = &[0x0, 0x0008, 0x2_0000, 0x2_0008, 0xffff_ffff];

/// `CLONE_NEWNS | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWCGROUP`.
const CLONE_NEW_FLAGS: u64 =
    0x0002_0000 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x2000_0000 | 0x4000_0000 | 0x0200_0000;

/// Groups allowed only with a capability.
const BY_CAPABILITY: &[(&str, &[&str])] = &[
    ("CAP_DAC_READ_SEARCH", &["open_by_handle_at"]),
    (
        "CAP_SYS_ADMIN",
        &[
            "bpf",
            "clone",
            "clone3",
            "fanotify_init",
            "fsconfig",
            "fsmount",
            "fsopen",
            "fspick",
            "lookup_dcookie",
            "lsm_get_self_attr",
            "lsm_list_modules",
            "lsm_set_self_attr",
            "mount",
            "mount_setattr",
            "move_mount",
            "open_tree",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "setdomainname",
            "sethostname",
            "setns",
            "syslog",
            "umount",
            "umount2",
            "unshare",
        ],
    ),
    ("CAP_SYS_BOOT", &["reboot"]),
    ("CAP_SYS_CHROOT", &["chroot"]),
    (
        "CAP_SYS_MODULE",
        &["delete_module", "init_module", "finit_module"],
    ),
    ("CAP_SYS_PACCT", &["acct"]),
    (
        "CAP_SYS_PTRACE",
        &[
            "kcmp",
            "pidfd_getfd",
            "process_madvise",
            "process_vm_readv",
            "process_vm_writev",
            "ptrace",
        ],
    ),
    ("CAP_SYS_RAWIO", &["iopl", "ioperm"]),
    (
        "CAP_SYS_TIME",
        &["settimeofday", "stime", "clock_settime", "clock_settime64"],
    ),
    ("CAP_SYS_TTY_CONFIG", &["vhangup"]),
    (
        "CAP_SYS_NICE",
        &[
            "get_mempolicy",
            "mbind",
            "set_mempolicy",
            "set_mempolicy_home_node",
        ],
    ),
    ("CAP_SYSLOG", &["syslog"]),
    ("CAP_BPF", &["bpf"]),
    ("CAP_PERFMON", &["perf_event_open"]),
];

/// Groups allowed only on some architectures (Go's names).
const BY_ARCH: &[(&[&str], &[&str])] = &[
    (&["ppc64le"], &["sync_file_range2", "swapcontext"]),
    (
        &["arm", "arm64"],
        &[
            "arm_fadvise64_64",
            "arm_sync_file_range",
            "sync_file_range2",
            "breakpoint",
            "cacheflush",
            "set_tls",
        ],
    ),
    (&["amd64", "x32"], &["arch_prctl"]),
    (&["amd64", "x32", "x86"], &["modify_ldt"]),
    (
        &["s390", "s390x"],
        &[
            "s390_pci_mmio_read",
            "s390_pci_mmio_write",
            "s390_runtime_instr",
        ],
    ),
    (&["riscv64"], &["riscv_flush_icache"]),
];

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|n| (*n).to_owned()).collect()
}

fn allow(list: &[&str]) -> SyscallRule {
    SyscallRule {
        names: names(list),
        action: SeccompAction::Allow,
        args: Vec::new(),
        includes: RuleFilter::default(),
        excludes: RuleFilter::default(),
    }
}

fn allow_if_arg0(name: &str, op: ArgOp, value: u64, value_two: u64) -> SyscallRule {
    SyscallRule {
        args: vec![ArgCondition {
            index: 0,
            value,
            value_two,
            op,
        }],
        ..allow(&[name])
    }
}

impl SeccompProfile {
    /// `RuntimeDefault`: moby's default profile (see the module's doc).
    pub fn runtime_default() -> Self {
        let mut syscalls = vec![
            allow(ALWAYS),
            SyscallRule {
                includes: RuleFilter {
                    min_kernel: Some((4, 8)),
                    ..RuleFilter::default()
                },
                ..allow(&["process_vm_readv", "process_vm_writev", "ptrace"])
            },
        ];
        syscalls.extend(SOCKET_FAMILIES.iter().map(|&(first, last)| {
            let mut rule = allow_if_arg0("socket", ArgOp::GreaterOrEqual, first, 0);
            rule.args.push(ArgCondition {
                index: 0,
                value: last,
                value_two: 0,
                op: ArgOp::LessOrEqual,
            });
            rule
        }));
        syscalls.extend(
            PERSONAS
                .iter()
                .map(|&persona| allow_if_arg0("personality", ArgOp::Equal, persona, 0)),
        );
        syscalls.extend(BY_ARCH.iter().map(|(arches, list)| SyscallRule {
            includes: RuleFilter {
                arches: names(arches),
                ..RuleFilter::default()
            },
            ..allow(list)
        }));
        syscalls.extend(BY_CAPABILITY.iter().map(|(cap, list)| SyscallRule {
            includes: RuleFilter {
                caps: names(&[cap]),
                ..RuleFilter::default()
            },
            ..allow(list)
        }));
        let without_sys_admin = RuleFilter {
            caps: names(&["CAP_SYS_ADMIN"]),
            ..RuleFilter::default()
        };
        syscalls.push(SyscallRule {
            excludes: RuleFilter {
                arches: names(&["s390", "s390x"]),
                ..without_sys_admin.clone()
            },
            ..allow_if_arg0("clone", ArgOp::MaskedEqual, CLONE_NEW_FLAGS, 0)
        });
        // s390 passes clone's flags second.
        let mut s390_clone = allow_if_arg0("clone", ArgOp::MaskedEqual, CLONE_NEW_FLAGS, 0);
        s390_clone.args[0].index = 1;
        syscalls.push(SyscallRule {
            includes: RuleFilter {
                arches: names(&["s390", "s390x"]),
                ..RuleFilter::default()
            },
            excludes: without_sys_admin.clone(),
            ..s390_clone
        });
        syscalls.push(SyscallRule {
            action: SeccompAction::Errno(ENOSYS),
            excludes: without_sys_admin,
            ..allow(&["clone3"])
        });
        Self {
            default_action: SeccompAction::Errno(EPERM),
            syscalls,
        }
    }
}
