//! `volumeMounts[].subPath`: a path inside a volume that must stay inside
//! it.
//!
//! Lexically a subPath must be relative and free of `..` (kubelet's
//! validation). On disk every component is resolved with `openat2`
//! `RESOLVE_BENEATH` from the volume root, so a symlink that leads out of
//! the volume (absolute, or `..` above the root) fails with `EXDEV` instead
//! of being followed. Missing folders are made, as kubelet makes them, with
//! the mode of the volume root. The result is the real path read back from
//! the opened descriptor.
//!
//! A window remains between this check and the container's bind mount, in
//! which a process with write access to the volume could swap a component
//! for a symlink. As kubelet does, [`pin`] closes it: the opened descriptor
//! itself (`/proc/self/fd/N`) is bind-mounted at a private place of the
//! pod (`volume-subpaths/`), and the container binds from there. That is a
//! pod-level mount, done once the supervisor's namespace is known to be
//! private (after `PodVolumes::mount_tmpfs`).

use std::ffi::OsString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{
    AtFlags, CWD, Mode, OFlags, ResolveFlags, chmodat, fstat, mkdirat, open, openat2,
};
use rustix::io::Errno;

/// Why a subPath was refused; the caller adds the container and volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused(pub String);

/// The lexical rules: relative, no `..`, not empty. Returns the normal
/// components.
fn components(sub_path: &str) -> Result<Vec<&str>, Refused> {
    let path = Path::new(sub_path);
    if path.is_absolute() {
        return Err(Refused("must be a relative path".to_owned()));
    }
    let mut out = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(s) => out.push(
                s.to_str()
                    .ok_or_else(|| Refused("is not valid UTF-8".to_owned()))?,
            ),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(Refused("must not contain '..'".to_owned()));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(Refused("must be a relative path".to_owned()));
            }
        }
    }
    if out.is_empty() {
        return Err(Refused("names no path inside the volume".to_owned()));
    }
    Ok(out)
}

/// `subPathExpr`: `$(VAR)` replaced by the container's environment
/// (`NAME=value` entries, the last one winning), `$$` kept as one `$`, as
/// kubelet's `ExpandContainerVolumeMounts` does; a variable missing or
/// empty is an error naming it.
pub(crate) fn expand(expr: &str, env: &[String]) -> Result<String, Refused> {
    let lookup = |name: &str| {
        env.iter()
            .rev()
            .filter_map(|e| e.split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .filter(|v| !v.is_empty())
    };
    let expansion = peapod_spec::expand_references(expr, lookup);
    if expansion.missing.is_empty() {
        Ok(expansion.text)
    } else {
        Err(Refused(format!(
            "has no value for {}",
            expansion.missing.join(", ")
        )))
    }
}

/// A subPath opened inside its volume.
#[derive(Debug)]
pub(crate) struct Resolved {
    /// `O_PATH` descriptor of the file or folder itself.
    pub fd: OwnedFd,
    /// Its real host path, as the kernel reports it.
    pub path: PathBuf,
}

/// Resolves `sub_path` below `volume_root` without leaving it, making
/// missing folders, and returns it opened, with its real host path.
pub(crate) fn resolve(volume_root: &Path, sub_path: &str) -> Result<Resolved, Refused> {
    let parts = components(sub_path)?;
    let io = |what: &str, e: Errno| Refused(format!("{what}: {}", std::io::Error::from(e)));
    let root = open(
        volume_root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| io("open the volume", e))?;
    let mode = Mode::from_bits_truncate(
        fstat(&root).map_err(|e| io("stat the volume", e))?.st_mode & 0o7777,
    );
    let mut current: Option<OwnedFd> = None;
    for i in 0..parts.len() {
        let prefix = parts[..=i].join("/");
        let fd = match beneath(&root, &prefix) {
            Err(Errno::NOENT) => {
                let dir = current.as_ref().map_or(root.as_fd(), AsFd::as_fd);
                let made = match mkdirat(dir, parts[i], mode) {
                    Ok(()) => true,
                    Err(Errno::EXIST) => false,
                    Err(e) => return Err(io("make a missing folder", e)),
                };
                let fd = beneath(&root, &prefix);
                if let (true, Ok(fd)) = (made, &fd) {
                    // Through the descriptor, never the name: the folder may
                    // have been swapped for a symlink since mkdirat.
                    chmodat(CWD, fd_path(fd).as_str(), mode, AtFlags::empty())
                        .map_err(|e| io("set the mode of a made folder", e))?;
                }
                fd
            }
            other => other,
        }
        .map_err(|e| match e {
            Errno::XDEV => Refused("escapes the volume through a symlink".to_owned()),
            Errno::LOOP => Refused("has a symlink loop".to_owned()),
            e => io("resolve", e),
        })?;
        current = Some(fd);
    }
    let fd = current.ok_or_else(|| Refused("names no path inside the volume".to_owned()))?;
    let real_root = real_path(&root).map_err(|e| io("read back the volume", e))?;
    let real = real_path(&fd).map_err(|e| io("read back the subPath", e))?;
    if real.starts_with(&real_root) {
        Ok(Resolved { fd, path: real })
    } else {
        Err(Refused("escapes the volume".to_owned()))
    }
}

fn beneath(root: &OwnedFd, path: &str) -> Result<OwnedFd, Errno> {
    openat2(
        root,
        path,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
    )
}

/// `/proc/self/fd/N`: the magic link to what `fd` holds.
fn fd_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// Bind-mounts what `resolved` holds (the descriptor, not its path) onto
/// `pin`, a file or folder made to match; an earlier pin there is
/// unmounted first (a restarted container). Pod-level: call only in the
/// supervisor's private mount namespace.
pub(crate) fn pin(resolved: &Resolved, pin: &Path) -> std::io::Result<()> {
    use rustix::mount::{UnmountFlags, mount_bind, unmount};
    let is_dir = fstat(&resolved.fd)?.st_mode & 0o170_000 == 0o040_000;
    if let Some(parent) = pin.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match unmount(pin, UnmountFlags::DETACH) {
        Ok(()) | Err(Errno::INVAL | Errno::NOENT) => {}
        Err(e) => return Err(e.into()),
    }
    if is_dir {
        match std::fs::create_dir(pin) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
    } else {
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(pin)?;
    }
    mount_bind(fd_path(&resolved.fd).as_str(), pin)?;
    Ok(())
}

/// The path the kernel holds for an open descriptor.
fn real_path(fd: &OwnedFd) -> Result<PathBuf, Errno> {
    let link = fd_path(fd);
    rustix::fs::readlinkat(CWD, link.as_str(), Vec::new())
        .map(|c| PathBuf::from(OsString::from_vec(c.into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_testkit::TempDir;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn refused(root: &Path, sub: &str) -> String {
        resolve(root, sub).expect_err("must be refused").0
    }

    #[test]
    fn sub_path_expr_expands_the_environment_and_names_what_is_missing() {
        let env = ["POD_NAME=web-0".to_owned(), "EMPTY=".to_owned()];
        assert_eq!(
            expand("logs/$(POD_NAME)", &env),
            Ok("logs/web-0".to_owned())
        );
        assert_eq!(expand("a$$(POD_NAME)", &env), Ok("a$(POD_NAME)".to_owned()));
        assert_eq!(
            expand("$(NOPE)/$(EMPTY)", &env),
            Err(Refused("has no value for NOPE, EMPTY".to_owned()))
        );
    }

    #[test]
    fn sub_path_with_dot_dot_or_absolute_is_refused_before_touching_disk() {
        let t = TempDir::new("sp-lex");
        assert_eq!(refused(t.path(), "../etc"), "must not contain '..'");
        assert_eq!(refused(t.path(), "a/../../b"), "must not contain '..'");
        assert_eq!(refused(t.path(), "/etc"), "must be a relative path");
        assert_eq!(refused(t.path(), "."), "names no path inside the volume");
    }

    #[test]
    fn sub_path_symlink_out_of_the_volume_is_refused() {
        let t = TempDir::new("sp-link");
        let vol = t.path().join("vol");
        fs::create_dir_all(&vol).expect("mkdir");
        symlink("/etc", vol.join("abs")).expect("symlink");
        symlink("../..", vol.join("up")).expect("symlink");
        assert_eq!(refused(&vol, "abs"), "escapes the volume through a symlink");
        assert_eq!(
            refused(&vol, "up/x"),
            "escapes the volume through a symlink"
        );
        assert!(!t.path().join("x").exists());
    }

    #[test]
    fn sub_path_symlink_inside_the_volume_resolves_to_its_target() {
        let t = TempDir::new("sp-in");
        let vol = t.path().join("vol");
        fs::create_dir_all(vol.join("real/conf")).expect("mkdir");
        symlink("real", vol.join("alias")).expect("symlink");
        let got = resolve(&vol, "alias/conf").expect("resolve").path;
        assert_eq!(got, vol.canonicalize().expect("canon").join("real/conf"));
    }

    #[test]
    fn missing_sub_path_folders_are_made_with_the_volume_mode() {
        use std::os::unix::fs::PermissionsExt;
        let t = TempDir::new("sp-make");
        let vol = t.path().join("vol");
        fs::create_dir_all(&vol).expect("mkdir");
        fs::set_permissions(&vol, fs::Permissions::from_mode(0o777)).expect("chmod");
        let got = resolve(&vol, "a/./b").expect("resolve").path;
        assert!(got.ends_with("vol/a/b") && got.is_dir());
        let mode = fs::metadata(&got).expect("stat").permissions().mode() & 0o7777;
        assert_eq!(mode, 0o777);
    }
}
