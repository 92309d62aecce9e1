//! Disk usage of a folder as `du -s` counts it: the blocks its files
//! hold, what kubelet's eviction manager compares with `sizeLimit` and
//! `ephemeral-storage` limits.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Bytes allocated below `path` on its filesystem (512-byte blocks, as
/// `du` counts them): symlinks not followed, other filesystems not
/// entered, each hard-linked inode counted once per visit. A file or
/// folder removed while it is being walked (a container deleting as it
/// writes) counts as empty rather than failing the measure; a missing
/// `path` is 0.
pub fn disk_usage(path: &Path) -> io::Result<u64> {
    usage(path).map(|u| u.bytes)
}

/// What a folder holds on its filesystem: bytes as [`disk_usage`] counts
/// them, and inodes (the folder itself included), as kubelet's image
/// filesystem stats report both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes allocated (512-byte blocks).
    pub bytes: u64,
    /// Files, folders and links walked.
    pub inodes: u64,
}

/// [`disk_usage`] with the inode count: the same walk.
pub fn usage(path: &Path) -> io::Result<Usage> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Usage::default()),
        Err(e) => return Err(e),
    };
    below(path, &meta, meta.dev())
}

fn below(path: &Path, meta: &fs::Metadata, device: u64) -> io::Result<Usage> {
    let mut total = Usage {
        bytes: meta.blocks() * 512,
        inodes: 1,
    };
    if !meta.is_dir() || meta.dev() != device {
        return Ok(total);
    }
    let entries = match fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(total),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let child = entry.path();
        let meta = match fs::symlink_metadata(&child) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let sub = below(&child, &meta, device)?;
        total.bytes += sub.bytes;
        total.inodes += sub.inodes;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_testkit::TempDir;

    #[test]
    fn usage_counts_what_files_hold_in_subfolders() {
        let t = TempDir::new("du-usage");
        let before = disk_usage(t.path()).expect("du");
        fs::create_dir(t.path().join("d")).expect("mkdir");
        fs::write(t.path().join("d/f"), vec![1u8; 256 * 1024]).expect("write");
        let after = disk_usage(t.path()).expect("du");
        assert!(after >= before + 256 * 1024, "{before} -> {after}");
    }

    #[test]
    fn inodes_count_the_folder_and_everything_below_it() {
        let t = TempDir::new("du-inodes");
        fs::create_dir(t.path().join("d")).expect("mkdir");
        fs::write(t.path().join("d/f"), b"x").expect("write");
        std::os::unix::fs::symlink("f", t.path().join("d/l")).expect("symlink");
        assert_eq!(usage(t.path()).expect("du").inodes, 4);
    }

    #[test]
    fn sparse_files_count_their_blocks_not_their_length() {
        let t = TempDir::new("du-sparse");
        let f = fs::File::create(t.path().join("sparse")).expect("create");
        f.set_len(1 << 30).expect("truncate");
        assert!(disk_usage(t.path()).expect("du") < 1 << 20);
    }

    #[test]
    fn missing_folder_uses_nothing() {
        let t = TempDir::new("du-missing");
        assert_eq!(disk_usage(&t.path().join("gone")).expect("du"), 0);
    }
}
