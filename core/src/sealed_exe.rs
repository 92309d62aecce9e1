//! The peapod binary seen through a read-only filesystem, for the
//! processes that make containers (CVE-2019-5736).
//!
//! A container child is a copy of the process that cloned it, so its
//! `/proc/self/exe` is that process's binary until it execs. A container
//! program that is a script starting `#!/proc/self/exe` makes the kernel
//! run that binary inside the container; a process of the container can
//! then open `/proc/<pid>/exe`, the host's binary, and write it once
//! nothing executes it any more: the next `peapod` run on the host is
//! the container's code, as root. The not-dumpable window of `spawn.rs`
//! does not cover this (the script's exec makes a new, dumpable process).
//!
//! So a supervisor is exec'd from [`SealedExe`]: the binary's folder as the
//! upper of two lower layers of a private overlayfs made with `fsopen`
//! and mounted read-only, nosuid and nodev, never attached anywhere (as
//! runc since 1.2). An overlay with only lower layers is a read-only
//! filesystem: an open for writing of its files is refused with `EROFS`
//! at once, even while the binary runs, and no remount makes the layers
//! below it writable through it. Where overlayfs cannot be made over the
//! binary's folder, a detached read-only bind mount of the file (which a
//! process holding CAP_SYS_ADMIN could remount) is the fallback.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use rustix::fs::{CWD, Mode, OFlags};
use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags, OpenTreeFlags};

use crate::error::{Error, Result};

/// The peapod binary opened through a private read-only mount: exec it by
/// [`SealedExe::exec_path`] (this process keeps the fd open until then).
#[derive(Debug)]
pub struct SealedExe {
    file: OwnedFd,
}

impl SealedExe {
    /// Opens `exe` (an absolute path to a regular file) through a private
    /// read-only overlayfs of its folder; the overlay's second (hidden)
    /// lower layer (overlayfs wants two lower layers to mount without an
    /// upper one) is `/dev`, or `/etc` for a binary under `/dev`: a folder
    /// of every host, never above or below the binary's, and never a
    /// mount of peapod's own (the overlay pins its layers' mounts for as
    /// long as the process runs: a `--root`'s `run/` tmpfs would stay busy
    /// until the last supervisor exec'd through it had ended). Falls back
    /// to a detached read-only bind mount of the file.
    pub fn open(exe: &Path) -> Result<Self> {
        let spare_lower = spare_lower_beside(exe.parent().unwrap_or(Path::new("/")));
        let file = match through_overlay(exe, spare_lower) {
            Ok(file) => file,
            Err(overlay) => {
                tracing::debug!(
                    "sealed exe: no overlayfs over {} ({overlay}); a read-only bind mount instead",
                    exe.display()
                );
                through_read_only_bind(exe)
                    .map_err(|e| Error::sys("a read-only mount of the peapod binary", e))?
            }
        };
        Ok(Self { file })
    }

    /// `/proc/self/fd/N`: the path that execs the sealed binary, valid in
    /// this process and in a child forked from it until it execs.
    pub fn exec_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.file.as_raw_fd()))
    }

    /// Makes sure this process runs its binary from a read-only mount
    /// before it clones a process into a container (`peapod exec`, `run`,
    /// `cp`, the CRI server's exec): returns at once when it does (it was
    /// exec'd through a [`SealedExe`], or the binary is installed on a
    /// read-only filesystem), else replaces the process with its own
    /// binary through one ([`SealedExe::open`]), same arguments and
    /// environment, and does not return on success. Call it first thing
    /// in `main`, while the process has one thread: it needs nothing of
    /// the command line, so it may run before the command line is read.
    pub fn reexec_unless_read_only() -> Result<()> {
        if own_exe_is_read_only()? {
            return Ok(());
        }
        let exe = std::fs::read_link("/proc/self/exe")
            .map_err(|e| Error::sys("readlink /proc/self/exe", e))?;
        // Set by this very process (exec keeps the pid): this is the
        // re-exec, and its binary is still writable. (Set by another, the
        // variable was inherited: re-exec.)
        if reexeced().is_some_and(|(pid, _)| pid == std::process::id()) {
            return Err(Error::sys(
                "re-exec through a read-only mount of the peapod binary",
                std::io::Error::other("the binary is still on a writable mount"),
            ));
        }
        let sealed = Self::open(&exe)?;
        let mut args = std::env::args_os();
        let argv0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
        let mut marker = std::ffi::OsString::from(format!("{}:", std::process::id()));
        marker.push(&exe);
        let failed = std::process::Command::new(sealed.exec_path())
            .arg0(argv0)
            .args(args)
            .env(REEXECED, marker)
            .exec();
        Err(Error::sys(
            "exec the peapod binary through a read-only mount",
            failed,
        ))
    }

    /// Names this process after its program, `argv[0]`'s last component
    /// (`peapod`), as `ps`, `top` and `pkill` show it: a process exec'd
    /// through [`SealedExe::exec_path`] is otherwise named by the kernel
    /// after that path's last component, its fd number (a supervisor
    /// shows as `9`). For an exec of the installed binary it is the name
    /// the kernel gave already. One `prctl(PR_SET_NAME)` (the kernel keeps
    /// 15 bytes); call it first thing in `main`.
    pub fn name_after_program() {
        let Some(argv0) = std::env::args_os().next() else {
            return;
        };
        if let Some(name) = program_name(Path::new(&argv0)) {
            let _ = rustix::thread::set_name(&name);
        }
    }

    /// The host path of this process's binary, to start another peapod
    /// process from (a supervisor): `/proc/self/exe`'s target, or for a
    /// process [`SealedExe::reexec_unless_read_only`] replaced (whose
    /// `/proc/self/exe` names a file of a mount that is nowhere) the path
    /// it was exec'd from.
    pub fn own_binary() -> std::io::Result<PathBuf> {
        match reexeced() {
            Some((_, path)) if own_exe_is_read_only().unwrap_or(false) => Ok(path),
            _ => std::env::current_exe(),
        }
    }
}

/// The last component of `argv0` as a process name: at most 15 bytes
/// (the kernel's `TASK_COMM_LEN` less its NUL), `None` for none.
fn program_name(argv0: &Path) -> Option<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    let name = argv0.file_name()?.as_bytes();
    std::ffi::CString::new(&name[..name.len().min(15)]).ok()
}

/// A folder every host has that is neither above nor below `folder` (the
/// binary's), for the overlay's hidden second lower layer: `/dev`, or
/// `/etc` for a binary under `/dev`. (A binary in `/` itself has none:
/// the overlay refuses it and the read-only bind is used.) No name of it
/// shows through: the binary's folder is the upper lower layer.
fn spare_lower_beside(folder: &Path) -> &'static Path {
    if folder.starts_with("/dev") {
        Path::new("/etc")
    } else {
        Path::new("/dev")
    }
}

/// The pid and binary path [`REEXECED`] holds (`PID:PATH`), when set.
fn reexeced() -> Option<(u32, PathBuf)> {
    parse_marker(&std::env::var_os(REEXECED)?)
}

/// `PID:PATH` as its two parts (the path may hold colons).
fn parse_marker(value: &std::ffi::OsStr) -> Option<(u32, PathBuf)> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = value.as_bytes();
    let colon = bytes.iter().position(|b| *b == b':')?;
    let pid = std::str::from_utf8(&bytes[..colon]).ok()?.parse().ok()?;
    let path = std::ffi::OsStr::from_bytes(&bytes[colon + 1..]);
    Some((pid, PathBuf::from(path)))
}

/// Set to `PID:PATH` (the process and its binary's host path) in the
/// environment of a process [`SealedExe::reexec_unless_read_only`]
/// replaced: it never loops, and [`SealedExe::own_binary`] reads it.
const REEXECED: &str = "PEAPOD_SEALED_EXE";

/// Whether `/proc/self/exe` is on a read-only mount.
fn own_exe_is_read_only() -> Result<bool> {
    let exe = rustix::fs::open(
        "/proc/self/exe",
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::sys("open /proc/self/exe", e))?;
    let stat = rustix::fs::fstatvfs(&exe).map_err(|e| Error::sys("statvfs /proc/self/exe", e))?;
    Ok(stat.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY))
}

/// `exe` opened `O_PATH` in a detached overlayfs whose lower layers are its
/// folder (on top) and `spare_lower`, mounted read-only, nosuid, nodev.
fn through_overlay(exe: &Path, spare_lower: &Path) -> rustix::io::Result<OwnedFd> {
    let (Some(folder), Some(name)) = (exe.parent(), exe.file_name()) else {
        return Err(rustix::io::Errno::INVAL);
    };
    let lower = format!(
        "{}:{}",
        escape_lower(&folder.to_string_lossy()),
        escape_lower(&spare_lower.to_string_lossy())
    );
    let context = rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC)?;
    rustix::mount::fsconfig_set_string(&context, "lowerdir", lower.as_str())?;
    // Inode numbers are of no interest here; xino's warnings in dmesg are.
    let _ = rustix::mount::fsconfig_set_string(&context, "xino", "off");
    rustix::mount::fsconfig_create(&context)?;
    let mount = rustix::mount::fsmount(
        &context,
        FsMountFlags::FSMOUNT_CLOEXEC,
        MountAttrFlags::MOUNT_ATTR_RDONLY
            | MountAttrFlags::MOUNT_ATTR_NOSUID
            | MountAttrFlags::MOUNT_ATTR_NODEV,
    )?;
    rustix::fs::openat(
        &mount,
        name,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// `exe` as a detached bind mount of the file alone, made read-only.
fn through_read_only_bind(exe: &Path) -> rustix::io::Result<OwnedFd> {
    let tree = rustix::mount::open_tree(
        CWD,
        exe,
        OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC,
    )?;
    crate::sys::mount_attr::make_read_only_recursively(tree.as_fd())?;
    Ok(tree)
}

/// A folder as one entry of overlayfs' `lowerdir` list: `\` and `:`
/// escaped with `\`.
fn escape_lower(path: &str) -> String {
    path.replace('\\', "\\\\").replace(':', "\\:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reexec_marker_is_a_pid_and_a_path() {
        use std::ffi::OsStr;
        assert_eq!(
            parse_marker(OsStr::new("42:/usr/bin/pea:pod")),
            Some((42, PathBuf::from("/usr/bin/pea:pod")))
        );
        assert_eq!(parse_marker(OsStr::new("/usr/bin/peapod")), None);
        assert_eq!(parse_marker(OsStr::new("x:/p")), None);
    }

    #[test]
    fn a_process_is_named_after_its_programs_file_name_in_15_bytes() {
        let name = |p: &str| program_name(Path::new(p)).map(|n| n.into_string().expect("utf-8"));
        assert_eq!(name("/usr/local/bin/peapod").as_deref(), Some("peapod"));
        assert_eq!(name("peapod").as_deref(), Some("peapod"));
        assert_eq!(
            name("/opt/a-very-long-program-name").as_deref(),
            Some("a-very-long-pro")
        );
        assert_eq!(name("/"), None);
    }

    #[test]
    fn the_spare_lower_layer_is_never_above_or_below_the_binary() {
        for folder in [
            "/usr/local/bin",
            "/work/target/debug",
            "/dev/shm",
            "/devices",
        ] {
            let spare = spare_lower_beside(Path::new(folder));
            assert!(
                !Path::new(folder).starts_with(spare) && !spare.starts_with(folder),
                "{folder}: {}",
                spare.display()
            );
        }
    }

    #[test]
    fn lower_folders_escape_colons_and_backslashes() {
        assert_eq!(escape_lower("/usr/bin"), "/usr/bin");
        assert_eq!(escape_lower("/a:b\\c"), "/a\\:b\\\\c");
    }
}
