//! Names beneath a layer root, never through a symlink: cleaning entry
//! paths, opening a parent directory, and making room for a new entry.
//! The unpacker's safety rests on these few functions.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use crate::error::{Error, IoContext, Result};

/// Opens the directory `rel` below the layer root without following any
/// symlink, creating missing components when `create`: one
/// `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` when the kernel has it
/// (`use_openat2` turns false when it does not: ENOSYS, or EPERM from a
/// seccomp filter), else one `O_NOFOLLOW` component at a time.
pub(crate) fn open_dir(
    root: &OwnedFd,
    rel: &[u8],
    create: bool,
    use_openat2: &mut bool,
    shown: &str,
) -> Result<OwnedFd> {
    let refuse = |reason| Error::UnsafeEntry {
        entry: shown.to_string(),
        reason,
    };
    let oflags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    if rel.is_empty() {
        return root.try_clone().ctx("dup", "layer root");
    }
    if *use_openat2 {
        let resolve =
            ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
        for _ in 0..16 {
            match rustix::fs::openat2(root, name_os(rel), oflags, Mode::empty(), resolve) {
                Ok(fd) => return Ok(fd),
                Err(Errno::AGAIN | Errno::INTR) => {}
                Err(Errno::NOSYS | Errno::PERM) => {
                    *use_openat2 = false;
                    break;
                }
                // Missing, or not a directory: the walk below creates,
                // or says which component is a symlink.
                Err(Errno::NOENT | Errno::LOOP | Errno::XDEV | Errno::NOTDIR) => break,
                Err(e) => {
                    return Err(Error::io("open", format!("layer entry {shown}"), e.into()));
                }
            }
        }
    }
    let mut cur = root.try_clone().ctx("dup", "layer root")?;
    for comp in rel.split(|&b| b == b'/') {
        let mut tries = 0;
        cur = loop {
            match rustix::fs::openat(&cur, name_os(comp), oflags, Mode::empty()) {
                Ok(fd) => break fd,
                Err(Errno::NOENT) if create && tries == 0 => {
                    tries += 1;
                    match rustix::fs::mkdirat(&cur, name_os(comp), Mode::from_raw_mode(0o755)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => {
                            return Err(Error::io(
                                "mkdir",
                                format!("layer entry {shown}"),
                                e.into(),
                            ));
                        }
                    }
                }
                Err(Errno::LOOP | Errno::NOTDIR) => {
                    let is_link =
                        rustix::fs::statat(&cur, name_os(comp), AtFlags::SYMLINK_NOFOLLOW)
                            .is_ok_and(|st| {
                                FileType::from_raw_mode(st.st_mode) == FileType::Symlink
                            });
                    return Err(refuse(if is_link {
                        "a parent directory is a symlink"
                    } else {
                        "a parent is not a directory"
                    }));
                }
                Err(Errno::NOENT) => return Err(refuse("a parent directory does not exist")),
                Err(e) => {
                    return Err(Error::io("open", format!("layer entry {shown}"), e.into()));
                }
            }
        };
    }
    Ok(cur)
}

pub(crate) fn name_os(b: &[u8]) -> &OsStr {
    OsStr::from_bytes(b)
}

/// The entry path relative to the layer root, `/`-joined: empty and `.`
/// components dropped (so a leading `/` means the layer root), `None` if a
/// component is `..`.
pub(crate) fn clean_path(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    for comp in raw.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => return None,
            c => {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(c);
            }
        }
    }
    Some(out)
}

pub(crate) fn split_last(rel: &[u8]) -> (&[u8], &[u8]) {
    match rel.iter().rposition(|&b| b == b'/') {
        Some(i) => (&rel[..i], &rel[i + 1..]),
        None => (&[], rel),
    }
}

/// What [`remove_existing`] found in the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prior {
    /// Nothing had the name.
    Nothing,
    /// A directory, kept.
    KeptDir,
    /// A directory, removed with all below it.
    RemovedDir,
    /// Anything else, unlinked.
    RemovedOther,
}

/// Makes room for a new entry `name` in `dir`. An existing directory is kept
/// when `keep_dir` (a directory entry over a directory merges); anything
/// else is removed.
pub(crate) fn remove_existing(dir: &OwnedFd, name: &[u8], keep_dir: bool) -> io::Result<Prior> {
    let st = match rustix::fs::statat(dir, name_os(name), AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::NOENT) => return Ok(Prior::Nothing),
        Err(e) => return Err(e.into()),
    };
    if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
        if keep_dir {
            return Ok(Prior::KeptDir);
        }
        remove_tree_at(dir, name)?;
        Ok(Prior::RemovedDir)
    } else {
        rustix::fs::unlinkat(dir, name_os(name), AtFlags::empty())?;
        Ok(Prior::RemovedOther)
    }
}

/// Removes the directory `name` of `dir` and all below it, never following
/// a symlink.
pub(crate) fn remove_tree_at(dir: &impl AsFd, name: &[u8]) -> io::Result<()> {
    let fd = rustix::fs::openat(
        dir,
        name_os(name),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut children = Vec::new();
    for entry in rustix::fs::Dir::read_from(&fd)? {
        let entry = entry?;
        let child = entry.file_name().to_bytes();
        if child != b"." && child != b".." {
            children.push((child.to_vec(), entry.file_type() == FileType::Directory));
        }
    }
    for (child, is_dir) in children {
        if is_dir {
            remove_tree_at(&fd, &child)?;
        } else {
            rustix::fs::unlinkat(&fd, name_os(&child), AtFlags::empty())?;
        }
    }
    rustix::fs::unlinkat(dir, name_os(name), AtFlags::REMOVEDIR)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_path_drops_root_and_dots_and_refuses_dotdot() {
        assert_eq!(clean_path(b"/etc/./passwd").unwrap(), b"etc/passwd");
        assert_eq!(clean_path(b"./").unwrap(), b"");
        assert!(clean_path(b"a/../../x").is_none());
        assert!(clean_path(b"..").is_none());
    }

    #[test]
    fn split_last_gives_parent_and_name() {
        assert_eq!(split_last(b"a/b/c"), (&b"a/b"[..], &b"c"[..]));
        assert_eq!(split_last(b"c"), (&b""[..], &b"c"[..]));
    }
}
