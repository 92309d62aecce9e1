//! `image import`: a root filesystem, as a directory or a tar (plain, gzip,
//! zstd), becomes a one-layer image, as `podman import` makes.
//!
//! A directory is not copied file by file beside a separately computed
//! digest: a thread writes the tree as a canonical tar (entries sorted by
//! name, owners, modes, times, xattrs, hard links and devices kept) into a
//! pipe, and the one layer unpacker reads it, hashing the stream for the
//! diffID as it writes the layer. Each file is read once, the tar never
//! touches the disk, the two halves run on two cores, and imported layers
//! go through the same checked code as every other layer. The same tree
//! gives the same diffID, so importing it again shares the layer.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, IoContext, Result};
use crate::oci::{ConfigFile, ImageConfig, RootFs};
use crate::reference::Reference;
use crate::store::{Image, Provenance, StagedLayer, Store};

const PIPE_BUFFER: usize = 256 * 1024;
/// overlayfs' opaque-directory xattr, as a pax record.
const OPAQUE_RECORD: &str = "SCHILY.xattr.trusted.overlay.opaque";
/// Every overlayfs xattr, as pax records: the layer's, not the image's.
const OVERLAY_RECORDS: &str = "SCHILY.xattr.trusted.overlay.";

impl Store {
    /// Imports `source` (a directory or a tar, possibly compressed) as a
    /// one-layer image named `reference`, with run defaults `config`.
    pub fn import(&self, source: &Path, reference: &str, config: ImageConfig) -> Result<Image> {
        let name = Reference::parse(reference)?;
        let meta = fs::metadata(source).ctx("read", source)?;
        let shown = source.display().to_string();
        let staged = if meta.is_dir() {
            self.stage_tree(source)?
        } else {
            let file = File::open(source).ctx("open", source)?;
            self.stage_layer(BufReader::with_capacity(PIPE_BUFFER, file), None, &shown)?
        };
        let created = rfc3339(SystemTime::now());
        let file = ConfigFile {
            created: Some(created.clone()),
            architecture: "amd64".to_string(),
            os: "linux".to_string(),
            config,
            rootfs: RootFs {
                kind: "layers".to_string(),
                diff_ids: vec![staged.diff_id.clone()],
            },
            history: vec![serde_json::json!({
                "created": created,
                "created_by": format!("peapod image import {shown}"),
            })],
        };
        let bytes = serde_json::to_vec(&file).map_err(|source| Error::Json {
            document: "image config".to_string(),
            source,
        })?;
        self.commit(
            &bytes,
            &file,
            vec![staged],
            std::slice::from_ref(&name),
            &Provenance::default(),
        )?
        .ok_or_else(|| Error::archive(&shown, "layer vanished while importing"))?;
        self.image(&name.to_string())
    }

    /// Streams the tree at `dir` through a pipe into the layer unpacker.
    fn stage_tree(&self, dir: &Path) -> Result<StagedLayer> {
        let (reader, writer) = io::pipe().ctx("pipe for", dir)?;
        let src = dir.to_path_buf();
        let producer = std::thread::Builder::new()
            .name("import-tar".to_string())
            .spawn(move || {
                write_tree_tar(
                    &src,
                    TreeKind::RootFs,
                    BufWriter::with_capacity(PIPE_BUFFER, writer),
                )
            })
            .ctx("start a thread for", dir)?;
        let staged = self.stage_layer(
            BufReader::with_capacity(PIPE_BUFFER, reader),
            None,
            &dir.display().to_string(),
        );
        let produced = producer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("tar writer thread panicked")));
        match (staged, produced) {
            (Ok(s), Ok(())) => Ok(s),
            (Err(e), Err(p)) if p.kind() == io::ErrorKind::BrokenPipe => Err(e),
            (_, Err(p)) => Err(Error::io("read", dir, p)),
            (Err(e), Ok(())) => Err(e),
        }
    }
}

/// What a tree's special files mean when it is written as a tar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TreeKind {
    /// A root filesystem: every file is itself.
    RootFs,
    /// An unpacked layer of the store: its 0:0 character devices and
    /// `trusted.overlay.opaque=y` directories are overlayfs' whiteouts,
    /// written back as the tar's `.wh.NAME` and `.wh..wh..opq` entries.
    Layer,
}

/// Writes the tree at `root` as a tar with entries in name order.
pub(crate) fn write_tree_tar(root: &Path, kind: TreeKind, out: impl Write) -> io::Result<()> {
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    let mut links = HashMap::new();
    walk(root, Path::new(""), kind, &mut builder, &mut links)?;
    builder.into_inner()?.flush()
}

/// An empty regular file entry `path` (a whiteout marker).
fn append_marker<W: Write>(b: &mut tar::Builder<W>, path: &Path) -> io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(0);
    h.set_mode(0o644);
    b.append_data(&mut h, path, io::empty())
}

fn walk<W: Write>(
    root: &Path,
    rel: &Path,
    kind: TreeKind,
    b: &mut tar::Builder<W>,
    links: &mut HashMap<(u64, u64), PathBuf>,
) -> io::Result<()> {
    let mut entries = fs::read_dir(root.join(rel))?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for e in entries {
        let rel_child = rel.join(e.file_name());
        let path = e.path();
        let meta = fs::symlink_metadata(&path)?;
        let ft = meta.file_type();
        let layer = kind == TreeKind::Layer;
        if layer && ft.is_char_device() && meta.rdev() == 0 {
            let mut name = std::ffi::OsString::from(".wh.");
            name.push(e.file_name());
            append_marker(b, &rel.join(name))?;
            continue;
        }
        let mut h = tar::Header::new_gnu();
        h.set_metadata_in_mode(&meta, tar::HeaderMode::Complete);
        if !ft.is_file() {
            h.set_size(0);
        }
        if matches!(h.entry_type(), tar::EntryType::Char | tar::EntryType::Block) {
            h.set_device_major(rustix::fs::major(meta.rdev()))?;
            h.set_device_minor(rustix::fs::minor(meta.rdev()))?;
        }
        let mut xattrs = read_xattrs(&path)?;
        let opaque = layer
            && xattrs
                .iter()
                .any(|(k, v)| k == OPAQUE_RECORD && v.as_slice() == b"y");
        if layer {
            xattrs.retain(|(k, _)| !k.starts_with(OVERLAY_RECORDS));
        }
        if !xattrs.is_empty() {
            b.append_pax_extensions(xattrs.iter().map(|(k, v)| (k.as_str(), v.as_slice())))?;
        }
        if ft.is_file() && meta.nlink() > 1 {
            if let Some(first) = links.get(&(meta.dev(), meta.ino())) {
                h.set_entry_type(tar::EntryType::Link);
                h.set_size(0);
                b.append_link(&mut h, &rel_child, first)?;
                continue;
            }
            links.insert((meta.dev(), meta.ino()), rel_child.clone());
        }
        if ft.is_dir() {
            b.append_data(&mut h, &rel_child, io::empty())?;
            if opaque {
                append_marker(b, &rel_child.join(".wh..wh..opq"))?;
            }
            walk(root, &rel_child, kind, b, links)?;
        } else if ft.is_symlink() {
            let target = fs::read_link(&path)?;
            b.append_link(&mut h, &rel_child, &target)?;
        } else if ft.is_file() {
            b.append_data(&mut h, &rel_child, File::open(&path)?)?;
        } else if h.entry_type() != tar::EntryType::Regular {
            // Devices and FIFOs; sockets have no tar form and are left out.
            if !ft.is_socket() {
                b.append_data(&mut h, &rel_child, io::empty())?;
            }
        }
    }
    Ok(())
}

/// The extended attributes of `path` (not following a symlink), as pax
/// `SCHILY.xattr.*` records.
fn read_xattrs(path: &Path) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut names = vec![0u8; 4096];
    let n = match rustix::fs::llistxattr(path, &mut names[..]) {
        Ok(n) => n,
        Err(rustix::io::Errno::NOTSUP | rustix::io::Errno::RANGE) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for name in names[..n].split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name_os = std::ffi::OsStr::from_bytes(name);
        let mut value = vec![0u8; 65536];
        match rustix::fs::lgetxattr(path, name_os, &mut value[..]) {
            Ok(len) => {
                value.truncate(len);
                out.push((
                    format!("SCHILY.xattr.{}", String::from_utf8_lossy(name)),
                    value,
                ));
            }
            Err(rustix::io::Errno::NODATA) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// `2024-01-02T03:04:05Z` for `t` (UTC), without a date crate.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_709_251_199)),
            "2024-02-29T23:59:59Z"
        );
    }
}
