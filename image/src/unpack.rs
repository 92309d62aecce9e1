//! Unpacking a layer tar into its own directory: the security boundary of
//! the store.
//!
//! Every entry's path is cleaned lexically (no `..`, a leading `/` is the
//! layer's root), then its parent directory is opened with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` relative to the layer
//! directory (or, on kernels without openat2, one `O_NOFOLLOW` component at
//! a time): a symlink planted by an earlier entry is never followed, so no
//! entry lands outside. The entry itself is made with `*at` calls on that
//! parent (`O_EXCL | O_NOFOLLOW`, `mknodat`, `symlinkat`, `linkat` without
//! `AT_SYMLINK_FOLLOW`), and a hard link's target is resolved the same way.
//! Each layer has its own directory and overlayfs stacks them, so a symlink
//! of one layer is never seen while unpacking another.
//!
//! Whiteouts are written the way overlayfs reads them: `.wh.NAME` becomes a
//! 0:0 character device `NAME`, `.wh..wh..opq` the `trusted.overlay.opaque=y`
//! xattr on its directory. `trusted.overlay.*` xattrs carried by the tar are
//! dropped: only whiteouts may say what overlayfs hides.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::rc::Rc;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Timespec, Timestamps, XattrFlags};
use rustix::io::Errno;

use crate::beneath::{self, Prior, clean_path, name_os, remove_existing, split_last};
use crate::compression;
use crate::digest::{Digest, HashingReader};
use crate::error::{Error, IoContext, Result};

const WHITEOUT_PREFIX: &[u8] = b".wh.";
const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";
const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// What unpacking may use at most.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Uncompressed bytes of one layer (a tar bomb stops here).
    pub max_layer_bytes: u64,
}

impl Default for Limits {
    /// 64 GiB: larger than any sane layer, smaller than a bomb.
    fn default() -> Self {
        Self {
            max_layer_bytes: 64 << 30,
        }
    }
}

/// A layer unpacked: its diffID (SHA-256 of the uncompressed tar) and size.
#[derive(Debug, Clone)]
pub(crate) struct Unpacked {
    /// SHA-256 of the uncompressed tar stream.
    pub diff_id: Digest,
    /// Bytes of the uncompressed tar stream.
    pub size: u64,
}

/// Unpacks the (possibly compressed) tar `reader` into the existing, empty
/// directory `dest`. `layer` names it in errors. On error `dest` holds a
/// partial tree: the caller removes it (it is a temporary directory).
pub(crate) fn unpack(
    reader: impl Read,
    dest: &Path,
    limits: Limits,
    layer: &str,
) -> Result<Unpacked> {
    let bad = |reason: String| Error::BadLayer {
        layer: layer.to_string(),
        reason,
    };
    let decoded = compression::decoder(reader).map_err(|e| bad(e.to_string()))?;
    let mut stream = HashingReader::new(decoded, limits.max_layer_bytes);
    let root = rustix::fs::open(
        dest,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(io::Error::from)
    .ctx("open", dest)?;
    let mut unpacker = Unpacker {
        root,
        privileged: rustix::process::geteuid().is_root(),
        deferred_dirs: Vec::new(),
        buf: vec![0; 256 * 1024],
        openat2: true,
        parent_cache: None,
    };
    let result = unpacker.entries(&mut stream);
    let io_failure = |e: io::Error, stream: &HashingReader<_>| {
        if stream.over_budget() {
            bad(format!(
                "larger than the budget of {} bytes uncompressed",
                limits.max_layer_bytes
            ))
        } else if e.kind() == io::ErrorKind::UnexpectedEof {
            bad("truncated archive".to_string())
        } else {
            bad(e.to_string())
        }
    };
    match result {
        Ok(()) => {}
        Err(Failure::Io(e)) => return Err(io_failure(e, &stream)),
        Err(Failure::Store(e)) => return Err(e),
    }
    if stream.hit_eof() {
        return Err(bad(
            "truncated archive: it ends without the end-of-archive blocks".to_string(),
        ));
    }
    unpacker.apply_deferred()?;
    let (diff_id, size) = match stream.finish() {
        Ok(v) => v,
        Err(e) => {
            let over = limits.max_layer_bytes;
            return Err(if e.to_string().contains("budget") {
                bad(format!(
                    "larger than the budget of {over} bytes uncompressed"
                ))
            } else {
                bad(e.to_string())
            });
        }
    };
    Ok(Unpacked { diff_id, size })
}

/// Why an entry failed: the stream (truncated, corrupt, over budget) or an
/// entry refused or not writable.
enum Failure {
    Io(io::Error),
    Store(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Store(e)
    }
}

/// Metadata of a tar entry, applied once the entry exists.
struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
    xattrs: Vec<(String, Vec<u8>)>,
}

struct Unpacker {
    root: OwnedFd,
    privileged: bool,
    /// Directories get their mode and times last: entries made inside them
    /// would change their mtime, and a read-only mode would stop them.
    deferred_dirs: Vec<(Vec<u8>, Meta)>,
    buf: Vec<u8>,
    openat2: bool,
    /// The parent directory of the last entry: tars list a directory's
    /// entries together, so most entries skip the lookup. Cleared whenever
    /// a directory is removed, so it never points at a replaced one.
    parent_cache: Option<(Vec<u8>, Rc<OwnedFd>)>,
}

impl Unpacker {
    fn entries<R: Read>(&mut self, stream: &mut R) -> Result<(), Failure> {
        let mut archive = tar::Archive::new(stream);
        for entry in archive.entries().map_err(Failure::Io)? {
            let mut entry = entry.map_err(Failure::Io)?;
            self.entry(&mut entry)?;
        }
        Ok(())
    }

    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<R>) -> Result<(), Failure> {
        use tar::EntryType as T;
        let raw = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let unsafe_entry = |reason| Error::UnsafeEntry {
            entry: shown.clone(),
            reason,
        };
        let kind = entry.header().entry_type();
        if matches!(
            kind,
            T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink
        ) {
            return Ok(());
        }
        let rel = clean_path(&raw).ok_or_else(|| unsafe_entry("path leaves the layer (..)"))?;
        let meta = Self::meta(entry).map_err(Failure::Io)?;
        let (parent, name) = split_last(&rel);
        if name.is_empty() {
            if kind == T::Directory {
                self.deferred_dirs.push((rel, meta));
            }
            return Ok(());
        }
        if name.starts_with(WHITEOUT_PREFIX) {
            let dir = self.parent(parent, &shown)?;
            return self.whiteout(&dir, name, &shown).map_err(Failure::from);
        }
        let dir = self.parent(parent, &shown)?;
        let io = |op, e: io::Error| Error::io(op, format!("layer entry {shown}"), e);
        match kind {
            T::Directory => {
                let prior = self
                    .make_room(&dir, name, true)
                    .map_err(|e| io("replace", e))?;
                if prior != Prior::KeptDir {
                    rustix::fs::mkdirat(&dir, name_os(name), Mode::from_raw_mode(0o700))
                        .map_err(|e| io("mkdir", e.into()))?;
                }
                self.deferred_dirs.push((rel.clone(), meta));
            }
            T::Regular | T::Continuous => {
                let create = || {
                    rustix::fs::openat(
                        &*dir,
                        name_os(name),
                        OFlags::WRONLY
                            | OFlags::CREATE
                            | OFlags::EXCL
                            | OFlags::NOFOLLOW
                            | OFlags::CLOEXEC,
                        Mode::from_raw_mode(0o600),
                    )
                };
                // Most entries are new: try first, make room only if taken.
                let fd = match create() {
                    Err(Errno::EXIST) => {
                        self.make_room(&dir, name, false)
                            .map_err(|e| io("replace", e))?;
                        create()
                    }
                    other => other,
                }
                .map_err(|e| io("create", e.into()))?;
                let mut file = File::from(fd);
                let want = entry.size();
                let got = copy(entry, &mut file, &mut self.buf).map_err(Failure::Io)?;
                if got != want {
                    return Err(Failure::Io(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "truncated entry",
                    )));
                }
                self.apply_fd(&file, &meta)
                    .map_err(|e| io("set metadata of", e))?;
            }
            T::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| unsafe_entry("symlink without a target"))?
                    .into_owned();
                self.make_room(&dir, name, false)
                    .map_err(|e| io("replace", e))?;
                rustix::fs::symlinkat(name_os(&target), &dir, name_os(name))
                    .map_err(|e| io("symlink", e.into()))?;
                self.apply_at(&dir, name, &meta, false)
                    .map_err(|e| io("set metadata of", e))?;
            }
            T::Link => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| unsafe_entry("hard link without a target"))?;
                let target = clean_path(&target)
                    .ok_or_else(|| unsafe_entry("hard link target leaves the layer (..)"))?;
                let (tparent, tname) = split_last(&target);
                if tname.is_empty() {
                    return Err(unsafe_entry("hard link to the layer root").into());
                }
                let tdir = self.open_dir(tparent, false, &shown)?;
                self.make_room(&dir, name, false)
                    .map_err(|e| io("replace", e))?;
                rustix::fs::linkat(&tdir, name_os(tname), &dir, name_os(name), AtFlags::empty())
                    .map_err(|e| io("hard link", e.into()))?;
            }
            T::Char | T::Block | T::Fifo => {
                let file_type = match kind {
                    T::Char => FileType::CharacterDevice,
                    T::Block => FileType::BlockDevice,
                    _ => FileType::Fifo,
                };
                let header = entry.header();
                let major = header.device_major().ok().flatten().unwrap_or(0);
                let minor = header.device_minor().ok().flatten().unwrap_or(0);
                self.make_room(&dir, name, false)
                    .map_err(|e| io("replace", e))?;
                rustix::fs::mknodat(
                    &dir,
                    name_os(name),
                    file_type,
                    Mode::from_raw_mode(0o600),
                    rustix::fs::makedev(major, minor),
                )
                .map_err(|e| io("mknod", e.into()))?;
                self.apply_at(&dir, name, &meta, true)
                    .map_err(|e| io("set metadata of", e))?;
            }
            _ => {
                tracing::warn!(entry = %shown, kind = ?kind, "skipping tar entry of unsupported type");
            }
        }
        Ok(())
    }

    fn meta<R: Read>(entry: &mut tar::Entry<R>) -> io::Result<Meta> {
        let mut xattrs = Vec::new();
        if let Some(exts) = entry.pax_extensions()? {
            for ext in exts {
                let ext = ext?;
                let Ok(key) = ext.key() else { continue };
                if let Some(name) = key
                    .strip_prefix("SCHILY.xattr.")
                    .filter(|n| !n.starts_with("trusted.overlay."))
                {
                    xattrs.push((name.to_string(), ext.value_bytes().to_vec()));
                }
            }
        }
        let h = entry.header();
        Ok(Meta {
            mode: h.mode()? & 0o7777,
            // Some writers leave these fields blank: blank is 0, as GNU tar reads it.
            uid: h
                .uid()
                .map_or(0, |v| u32::try_from(v).unwrap_or(u32::MAX - 1)),
            gid: h
                .gid()
                .map_or(0, |v| u32::try_from(v).unwrap_or(u32::MAX - 1)),
            mtime: h.mtime().map_or(0, |v| i64::try_from(v).unwrap_or(0)),
            xattrs,
        })
    }

    /// The parent directory `rel` of an entry, created if missing, from the
    /// cache when the previous entry had the same parent.
    fn parent(&mut self, rel: &[u8], shown: &str) -> Result<Rc<OwnedFd>> {
        if let Some((_, fd)) = self.parent_cache.as_ref().filter(|(c, _)| c == rel) {
            return Ok(Rc::clone(fd));
        }
        let fd = Rc::new(self.open_dir(rel, true, shown)?);
        self.parent_cache = Some((rel.to_vec(), Rc::clone(&fd)));
        Ok(fd)
    }

    /// [`remove_existing`], forgetting the cached parent when a directory
    /// goes.
    fn make_room(&mut self, dir: &OwnedFd, name: &[u8], keep_dir: bool) -> io::Result<Prior> {
        let prior = remove_existing(dir, name, keep_dir)?;
        if prior == Prior::RemovedDir {
            self.parent_cache = None;
        }
        Ok(prior)
    }

    /// Opens the directory `rel` below the layer root (see
    /// [`beneath::open_dir`]).
    fn open_dir(&mut self, rel: &[u8], create: bool, shown: &str) -> Result<OwnedFd> {
        beneath::open_dir(&self.root, rel, create, &mut self.openat2, shown)
    }

    fn whiteout(&mut self, dir: &OwnedFd, name: &[u8], shown: &str) -> Result<()> {
        let io = |op, e: io::Error| Error::io(op, format!("whiteout {shown}"), e);
        if name == OPAQUE_MARKER {
            return rustix::fs::fsetxattr(dir, OPAQUE_XATTR, b"y", XattrFlags::empty())
                .map_err(|e| io("set trusted.overlay.opaque on the directory of", e.into()));
        }
        let hidden = &name[WHITEOUT_PREFIX.len()..];
        if hidden.is_empty() || hidden == b"." || hidden == b".." || hidden.contains(&b'/') {
            return Err(Error::UnsafeEntry {
                entry: shown.to_string(),
                reason: "whiteout of no valid name",
            });
        }
        self.make_room(dir, hidden, false)
            .map_err(|e| io("replace", e))?;
        rustix::fs::mknodat(
            dir,
            name_os(hidden),
            FileType::CharacterDevice,
            Mode::empty(),
            rustix::fs::makedev(0, 0),
        )
        .map_err(|e| io("make (needs CAP_MKNOD)", e.into()))
    }

    fn apply_fd(&self, fd: &impl AsFd, meta: &Meta) -> io::Result<()> {
        self.chown(rustix::fs::fchown(
            fd,
            Some(rustix::fs::Uid::from_raw(meta.uid)),
            Some(rustix::fs::Gid::from_raw(meta.gid)),
        ))?;
        for (name, value) in &meta.xattrs {
            if let Err(e) = rustix::fs::fsetxattr(fd, name.as_str(), value, XattrFlags::empty()) {
                self.tolerate(e, name)?;
            }
        }
        rustix::fs::fchmod(fd, Mode::from_raw_mode(meta.mode))?;
        rustix::fs::futimens(fd, &times(meta.mtime))?;
        Ok(())
    }

    fn apply_at(&self, dir: &OwnedFd, name: &[u8], meta: &Meta, chmod: bool) -> io::Result<()> {
        self.chown(rustix::fs::chownat(
            dir,
            name_os(name),
            Some(rustix::fs::Uid::from_raw(meta.uid)),
            Some(rustix::fs::Gid::from_raw(meta.gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        ))?;
        if chmod {
            rustix::fs::chmodat(
                dir,
                name_os(name),
                Mode::from_raw_mode(meta.mode),
                AtFlags::empty(),
            )?;
        }
        rustix::fs::utimensat(
            dir,
            name_os(name),
            &times(meta.mtime),
            AtFlags::SYMLINK_NOFOLLOW,
        )?;
        Ok(())
    }

    /// Without root, owners other than ours cannot be set: keep going, as
    /// rootless runtimes do.
    fn chown(&self, r: rustix::io::Result<()>) -> io::Result<()> {
        match r {
            Err(Errno::PERM | Errno::INVAL) if !self.privileged => Ok(()),
            other => other.map_err(Into::into),
        }
    }

    fn tolerate(&self, e: Errno, name: &str) -> io::Result<()> {
        if !self.privileged || e == Errno::NOTSUP {
            tracing::debug!(xattr = name, error = %e, "xattr not kept");
            Ok(())
        } else {
            Err(e.into())
        }
    }

    fn apply_deferred(&mut self) -> Result<()> {
        let dirs = std::mem::take(&mut self.deferred_dirs);
        for (rel, meta) in dirs.iter().rev() {
            let shown = String::from_utf8_lossy(rel).into_owned();
            let fd = self.open_dir(rel, false, &shown)?;
            self.apply_fd(&fd, meta)
                .map_err(|e| Error::io("set metadata of", format!("layer entry {shown}/"), e))?;
        }
        Ok(())
    }
}

fn times(mtime: i64) -> Timestamps {
    let t = Timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    };
    Timestamps {
        last_access: t,
        last_modification: t,
    }
}

/// `io::copy` with a large reused buffer.
fn copy(r: &mut impl Read, w: &mut impl Write, buf: &mut [u8]) -> io::Result<u64> {
    let mut total = 0u64;
    loop {
        let n = match r.read(buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        w.write_all(&buf[..n])?;
        total += n as u64;
    }
}
