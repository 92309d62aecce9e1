//! `securityContext.fsGroup`: a pod's volumes owned by one group, as
//! kubelet's `SetVolumeOwnership` (`pkg/volume/volume_linux.go`) leaves
//! them: every file and folder gets the group, files are group-readable
//! (and group-writable unless the volume is read-only), folders also
//! group-searchable and setgid so new files inherit the group. Symlinks
//! get the group but no chmod (it would change their target). hostPath
//! volumes are never touched.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt, lchown};
use std::path::Path;

const RW: u32 = 0o660;
const RO: u32 = 0o440;
const EXEC: u32 = 0o110;
const SETGID: u32 = 0o2000;

/// Gives `dir` and everything below it (on the same filesystem) to `gid`.
pub(crate) fn apply(dir: &Path, gid: u32, read_only: bool) -> io::Result<()> {
    let dev = fs::symlink_metadata(dir)?.dev();
    walk(dir, dev, gid, if read_only { RO } else { RW })
}

fn walk(path: &Path, dev: u64, gid: u32, mask: u32) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    lchown(path, None, Some(gid))?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let mode = meta.permissions().mode() & 0o7777;
    if meta.is_dir() {
        fs::set_permissions(
            path,
            fs::Permissions::from_mode(mode | mask | EXEC | SETGID),
        )?;
        if meta.dev() == dev {
            for entry in fs::read_dir(path)? {
                walk(&entry?.path(), dev, gid, mask)?;
            }
        }
    } else {
        fs::set_permissions(path, fs::Permissions::from_mode(mode | mask))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_testkit::TempDir;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).expect("stat").permissions().mode() & 0o7777
    }

    #[test]
    fn files_become_group_writable_and_folders_setgid() {
        let t = TempDir::new("fsg");
        let d = t.path().join("vol");
        fs::create_dir_all(d.join("sub")).expect("mkdir");
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).expect("chmod");
        fs::write(d.join("sub/f"), "x").expect("write");
        fs::set_permissions(d.join("sub/f"), fs::Permissions::from_mode(0o644)).expect("chmod");
        std::os::unix::fs::symlink("sub/f", d.join("link")).expect("symlink");
        let gid = fs::metadata(&d).expect("stat").gid();
        apply(&d, gid, false).expect("apply");
        assert_eq!(mode(&d), 0o2775);
        assert_eq!(mode(&d.join("sub/f")), 0o664);
        assert_eq!(fs::metadata(d.join("sub/f")).expect("stat").gid(), gid);
    }

    #[test]
    fn read_only_volumes_get_group_read_only() {
        let t = TempDir::new("fsg-ro");
        let f = t.path().join("secret");
        fs::write(&f, "x").expect("write");
        fs::set_permissions(&f, fs::Permissions::from_mode(0o400)).expect("chmod");
        let gid = fs::metadata(&f).expect("stat").gid();
        apply(t.path(), gid, true).expect("apply");
        assert_eq!(mode(&f), 0o440);
    }
}
