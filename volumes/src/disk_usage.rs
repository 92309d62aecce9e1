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
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    below(path, &meta, meta.dev())
}

fn below(path: &Path, meta: &fs::Metadata, device: u64) -> io::Result<u64> {
    let mut total = meta.blocks() * 512;
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
        total += below(&child, &meta, device)?;
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
