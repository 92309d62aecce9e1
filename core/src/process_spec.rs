//! What runs in a container, as plain data: argv, environment, working
//! folder, identity, privileges, resource limits, stdio.

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::seccomp::SeccompFilter;

pub use rustix::process::Resource as RlimitResource;

/// The `PATH` used to find `argv[0]` when the environment has none (the
/// one runc and containerd use).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The process of a container (or of `exec` into one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSpec {
    /// `argv[0]` is looked up in the `PATH` of `env` inside the new root,
    /// as runc does, when it holds no `/`.
    pub argv: Vec<String>,
    /// `NAME=value` entries, in order.
    pub env: Vec<String>,
    /// Working folder in the container (must exist).
    pub cwd: PathBuf,
    /// Identity the process runs as.
    pub user: Credentials,
    /// Hostname to set; only applied when the spawn creates a UTS
    /// namespace (a container joining the pod's never sets it).
    pub hostname: Option<String>,
    /// `PR_SET_NO_NEW_PRIVS` (`allowPrivilegeEscalation: false`).
    pub no_new_privs: bool,
    /// Capabilities kept in the bounding, permitted and effective sets, as
    /// runc sets them for containerd's config: every other is dropped from
    /// the bounding set, the inheritable and ambient sets are emptied
    /// (CVE-2022-24769), so a non-root process ends up with empty
    /// permitted/effective sets after `execve`. `None` keeps what the caller
    /// has.
    pub capabilities: Option<Capabilities>,
    /// The seccomp filter, compiled once and shared by every process of
    /// the same profile; `None` is unconfined.
    pub seccomp: Option<Arc<SeccompFilter>>,
    /// Limits applied only where they **lower** the inherited ones; a limit
    /// above what is inherited is clipped, never raised (raising needs
    /// `CAP_SYS_RESOURCE`, which hosts like this one do not grant).
    pub rlimits: Vec<Rlimit>,
    /// The process gets a terminal of its own: a new pty of the
    /// `/dev/pts` it sees once its mounts are made, as its stdin, stdout,
    /// stderr and controlling terminal (the spawn's `stdio` must be
    /// empty); its master comes back to the spawner
    /// ([`crate::Held::terminal`]).
    pub tty: bool,
    /// The terminal's size before the process runs (with `tty`); `None`
    /// leaves the kernel's 0×0 until the master is resized.
    pub window_size: Option<WindowSize>,
}

/// A terminal's size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WindowSize {
    /// Lines.
    pub rows: u16,
    /// Columns.
    pub cols: u16,
}

impl WindowSize {
    /// The size of terminal `fd`; `None` when it is no terminal.
    pub fn of(fd: impl std::os::fd::AsFd) -> Option<Self> {
        rustix::termios::tcgetwinsize(fd).ok().map(|w| Self {
            rows: w.ws_row,
            cols: w.ws_col,
        })
    }

    /// The kernel's `struct winsize`.
    pub(crate) fn winsize(self) -> rustix::termios::Winsize {
        rustix::termios::Winsize {
            ws_row: self.rows,
            ws_col: self.cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        }
    }
}

impl ProcessSpec {
    /// A process running `argv` as root in `/`, with the default `PATH`.
    pub fn new<S: Into<String>>(argv: impl IntoIterator<Item = S>) -> Self {
        Self {
            argv: argv.into_iter().map(Into::into).collect(),
            env: vec![format!("PATH={DEFAULT_PATH}")],
            cwd: PathBuf::from("/"),
            user: Credentials::default(),
            hostname: None,
            no_new_privs: false,
            capabilities: None,
            seccomp: None,
            rlimits: Vec::new(),
            tty: false,
            window_size: None,
        }
    }

    /// The `PATH` of `env`, or [`DEFAULT_PATH`].
    pub fn path_var(&self) -> &str {
        self.env
            .iter()
            .rev()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or(DEFAULT_PATH)
    }

    /// The paths to try for `argv[0]`, in order: itself when it holds a
    /// `/`, else each `PATH` entry joined with it (empty entries are the
    /// working folder, as execvp has it).
    pub fn exec_candidates(&self) -> Result<Vec<String>> {
        let Some(prog) = self.argv.first() else {
            return Err(Error::invalid("argv", "empty command"));
        };
        if prog.is_empty() {
            return Err(Error::invalid("argv[0]", "empty command"));
        }
        if prog.contains('/') {
            return Ok(vec![prog.clone()]);
        }
        Ok(self
            .path_var()
            .split(':')
            .map(|dir| {
                if dir.is_empty() {
                    prog.clone()
                } else {
                    format!("{}/{prog}", dir.trim_end_matches('/'))
                }
            })
            .collect())
    }

    /// Checks what can be checked before spawning.
    pub fn validate(&self) -> Result<()> {
        self.exec_candidates()?;
        if !self.cwd.is_absolute() {
            return Err(Error::invalid("cwd", "working folder must be absolute"));
        }
        if let Some(h) = &self.hostname
            && (h.is_empty() || h.len() > 64)
        {
            return Err(Error::invalid("hostname", "must be 1 to 64 bytes"));
        }
        for (i, e) in self.env.iter().enumerate() {
            if !e.contains('=') {
                return Err(Error::invalid(format!("env[{i}]"), "not NAME=value"));
            }
        }
        let nul = self.argv.iter().chain(&self.env).any(|s| s.contains('\0'));
        if nul {
            return Err(Error::invalid("argv/env", "holds a NUL byte"));
        }
        Ok(())
    }
}

/// uid, gid and supplementary groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// `runAsUser`.
    pub uid: u32,
    /// `runAsGroup`.
    pub gid: u32,
    /// Supplementary groups (`supplementalGroups`, `fsGroup`); set exactly,
    /// so the caller's groups never leak in.
    pub groups: Vec<u32>,
}

/// One resource limit: `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rlimit {
    /// Which limit.
    pub resource: RlimitResource,
    /// Soft limit.
    pub soft: Option<u64>,
    /// Hard limit.
    pub hard: Option<u64>,
}

impl Rlimit {
    /// The limit to set given the inherited `(soft, hard)`, clipped so it
    /// never raises either; `None` when nothing would change (no syscall).
    pub fn lowered(
        &self,
        current: (Option<u64>, Option<u64>),
    ) -> Option<(Option<u64>, Option<u64>)> {
        // `None` (unlimited) is the largest value.
        fn min(a: Option<u64>, b: Option<u64>) -> Option<u64> {
            match (a, b) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (Some(x), None) | (None, Some(x)) => Some(x),
                (None, None) => None,
            }
        }
        let hard = min(self.hard, current.1);
        let soft = min(min(self.soft, current.0), hard);
        (soft != current.0 || hard != current.1).then_some((soft, hard))
    }
}

/// A set of capabilities, bit `n` for capability number `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities(u64);

/// Capability names by number (`capability.h`), without `CAP_`.
const CAPABILITY_NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

impl Capabilities {
    /// The highest capability number peapod knows.
    pub const LAST: u32 = 40;

    /// No capability.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// Every capability peapod knows (`ALL` in `add`/`drop`).
    pub const fn all() -> Self {
        Self((1 << (Self::LAST + 1)) - 1)
    }

    /// Every capability the running kernel knows
    /// (`/proc/sys/kernel/cap_last_cap`), as runc gives `privileged: true`;
    /// [`Capabilities::all`] when that file cannot be read.
    pub fn kernel_all() -> Self {
        std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .map_or(Self::all(), |last| {
                Self::all().intersection(Self(u64::MAX >> (63 - last.min(Self::LAST))))
            })
    }

    /// The permitted set of the calling thread: what a process it spawns
    /// can be given.
    pub fn held() -> Result<Self> {
        let sets = rustix::thread::capabilities(None)
            .map_err(|e| Error::sys("capget of the calling thread", e))?;
        Ok(Self(sets.permitted.bits()).intersection(Self::all()))
    }

    /// The numbers of the capabilities in the set, lowest first.
    pub fn numbers(self) -> impl Iterator<Item = u32> {
        (0..=Self::LAST).filter(move |&n| self.contains_number(n))
    }

    /// The capabilities in both sets.
    #[must_use]
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// Whether every capability of `other` is in the set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The default set of container runtimes (containerd, Docker, CRI-O)
    /// that Kubernetes containers get: CHOWN, DAC_OVERRIDE, FOWNER,
    /// FSETID, KILL, SETGID, SETUID, SETPCAP, NET_BIND_SERVICE, NET_RAW,
    /// SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP (`CapEff: 00000000a80425fb`).
    pub fn container_default() -> Self {
        [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31]
            .into_iter()
            .filter_map(Self::from_number)
            .fold(Self::empty(), Self::union)
    }

    /// One capability by name, as Kubernetes writes it (`NET_ADMIN`) or
    /// with the `CAP_` prefix, any case.
    pub fn from_name(name: &str) -> Option<Self> {
        let upper = name.to_ascii_uppercase();
        let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
        CAPABILITY_NAMES
            .iter()
            .position(|n| *n == bare)
            .map(|i| Self(1 << i))
    }

    /// The name of capability number `n`, without `CAP_`.
    pub fn name_of(n: u32) -> Option<&'static str> {
        CAPABILITY_NAMES.get(usize::try_from(n).ok()?).copied()
    }

    /// Capability number `n` (`capability.h`); `None` above
    /// [`Capabilities::LAST`].
    pub const fn from_number(n: u32) -> Option<Self> {
        if n <= Self::LAST {
            Some(Self(1 << n))
        } else {
            None
        }
    }

    /// Both sets.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// `self` without `other` (securityContext `drop`; `ALL` is
    /// [`Capabilities::all`]).
    #[must_use]
    pub const fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Whether capability number `n` is in the set.
    pub const fn contains_number(self, n: u32) -> bool {
        n <= Self::LAST && self.0 & (1 << n) != 0
    }

    /// The bits, capability `n` at bit `n`.
    pub const fn bits(self) -> u64 {
        self.0
    }
}

/// The standard streams of a spawned process: `None` inherits the
/// caller's. The fds are moved to 0, 1 and 2 in the child.
#[derive(Debug, Default)]
pub struct Stdio {
    /// fd 0.
    pub stdin: Option<OwnedFd>,
    /// fd 1.
    pub stdout: Option<OwnedFd>,
    /// fd 2.
    pub stderr: Option<OwnedFd>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_command_is_looked_up_in_path_in_order() {
        let mut p = ProcessSpec::new(["nginx", "-g", "daemon off;"]);
        p.env = vec!["PATH=/usr/sbin:/bin/".into()];
        assert_eq!(
            p.exec_candidates().expect("ok"),
            ["/usr/sbin/nginx", "/bin/nginx"]
        );
    }

    #[test]
    fn command_with_slash_is_used_as_is() {
        let p = ProcessSpec::new(["./run.sh"]);
        assert_eq!(p.exec_candidates().expect("ok"), ["./run.sh"]);
    }

    #[test]
    fn default_path_applies_without_path_in_env() {
        let mut p = ProcessSpec::new(["sh"]);
        p.env.clear();
        assert_eq!(p.path_var(), DEFAULT_PATH);
        assert_eq!(p.exec_candidates().expect("ok").len(), 6);
    }

    #[test]
    fn empty_argv_is_refused() {
        let p = ProcessSpec::new(Vec::<String>::new());
        assert!(p.validate().is_err());
    }

    #[test]
    fn env_without_equals_is_refused() {
        let mut p = ProcessSpec::new(["true"]);
        p.env.push("JUSTNAME".into());
        let err = p.validate().expect_err("refused").to_string();
        assert!(err.contains("env[1]"), "{err}");
    }

    #[test]
    fn rlimit_is_never_raised() {
        let want = Rlimit {
            resource: RlimitResource::Nofile,
            soft: Some(1 << 20),
            hard: Some(1 << 20),
        };
        // Inherited 1024/4096: asking for a million keeps both.
        assert_eq!(want.lowered((Some(1024), Some(4096))), None);
        // Inherited unlimited: lowered to what is asked.
        assert_eq!(
            want.lowered((None, None)),
            Some((Some(1 << 20), Some(1 << 20)))
        );
    }

    #[test]
    fn rlimit_soft_is_clipped_to_the_new_hard() {
        let want = Rlimit {
            resource: RlimitResource::Nofile,
            soft: None,
            hard: Some(100),
        };
        assert_eq!(
            want.lowered((Some(1024), Some(4096))),
            Some((Some(100), Some(100)))
        );
    }

    #[test]
    fn capability_names_parse_with_or_without_prefix() {
        assert_eq!(
            Capabilities::from_name("NET_ADMIN"),
            Capabilities::from_name("cap_net_admin")
        );
        assert_eq!(
            Capabilities::from_name("NET_ADMIN"),
            Capabilities::from_number(12)
        );
        assert_eq!(Capabilities::name_of(40), Some("CHECKPOINT_RESTORE"));
        assert!(Capabilities::from_name("NOT_A_CAP").is_none());
    }

    #[test]
    fn container_default_has_fourteen_capabilities_and_no_sys_admin() {
        let d = Capabilities::container_default();
        assert_eq!(d.bits().count_ones(), 14);
        assert!(!d.contains_number(21));
        assert!(d.contains_number(0));
        let sys_admin = Capabilities::from_number(21).expect("known");
        assert_eq!(d.union(sys_admin).without(sys_admin), d);
    }

    #[test]
    fn container_default_is_containerds_effective_set() {
        assert_eq!(Capabilities::container_default().bits(), 0xa804_25fb);
    }

    #[test]
    fn numbers_list_the_set_lowest_first() {
        let set = [5, 0, 39]
            .into_iter()
            .filter_map(Capabilities::from_number)
            .fold(Capabilities::empty(), Capabilities::union);
        assert_eq!(set.numbers().collect::<Vec<_>>(), [0, 5, 39]);
        assert!(Capabilities::from_number(Capabilities::LAST + 1).is_none());
    }

    #[test]
    fn kernel_all_is_within_what_peapod_knows_and_has_the_default() {
        let all = Capabilities::kernel_all();
        assert!(Capabilities::all().contains(all));
        assert!(all.contains(Capabilities::container_default()));
    }
}
