//! Removing what a pod's volumes left on the host.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustix::io::Errno;
use rustix::mount::{UnmountFlags, unmount as unmount_point};

use crate::dirs::VolumeDirs;
use crate::error::{Error, Result};
use crate::mountinfo;

/// Removes the pod's volume folders and unmounts its pod-level tmpfs
/// (memory emptyDirs, /dev/shm) where this process still sees them.
///
/// Idempotent and safe after a crash: it needs nothing but the folders, so
/// `peapod delete` can call it for a pod whose supervisor died. In the
/// host's namespace the tmpfs mounts were never visible (they lived in the
/// supervisor's namespace), so there only folders are left to remove.
///
/// It never touches a hostPath's contents: hostPaths are not below the pod
/// folder, and removal refuses to descend into anything still mounted
/// there (another filesystem, or a mount point listed in mountinfo).
/// Folders other crates keep in the pod folder are left alone; the pod
/// folder itself is removed once empty.
pub fn teardown(dirs: &VolumeDirs) -> Result<()> {
    let pod = dirs.pod_dir();
    let _span = tracing::debug_span!("volumes.teardown", pod = %pod.display()).entered();
    unmount(dirs)?;
    for dir in dirs.owned() {
        remove_tree(&dir)?;
    }
    match fs::remove_dir(pod) {
        Err(e)
            if e.kind() != io::ErrorKind::NotFound
                && e.kind() != io::ErrorKind::DirectoryNotEmpty =>
        {
            Err(teardown_error(pod, e))
        }
        _ => Ok(()),
    }
}

/// The first half of [`teardown`]: unmounts every mount below the pod
/// folder that this process sees (its memory emptyDirs, secrets, pinned
/// subPaths, `/dev/shm`) and checks that none is left, so that the folder
/// can be removed as plain folders by whoever removes it, later (the
/// runtime moves it aside at `delete` and removes it after answering).
/// The folders stay. Idempotent.
pub fn unmount(dirs: &VolumeDirs) -> Result<()> {
    let pod = dirs.pod_dir();
    let _span = tracing::debug_span!("volumes.unmount", pod = %pod.display()).entered();
    let mounts = mountinfo::read().map_err(|e| teardown_error(pod, e))?;
    let points = mount_points(dirs, &mounts);
    if points.is_empty() {
        return Ok(());
    }
    for point in &points {
        match unmount_point(point, UnmountFlags::DETACH) {
            // EINVAL: no longer a mount point; ENOENT: already gone.
            Ok(()) | Err(Errno::INVAL | Errno::NOENT) => {}
            Err(e) => return Err(teardown_error(point, e.into())),
        }
    }
    let mounts = mountinfo::read().map_err(|e| teardown_error(pod, e))?;
    if let Some(left) = mount_points(dirs, &mounts).first() {
        return Err(teardown_error(
            left,
            io::Error::other("still a mount point after unmounting; refusing to remove below it"),
        ));
    }
    Ok(())
}

/// The mounts below the pod folder and on its /dev/shm mount point
/// (which may live elsewhere: [`VolumeDirs::with_shm_in`]), deepest first.
fn mount_points(dirs: &VolumeDirs, mounts: &[mountinfo::MountEntry]) -> Vec<PathBuf> {
    let mut points = mountinfo::below(mounts, dirs.pod_dir());
    let shm = dirs.shm_dir();
    if !shm.starts_with(dirs.pod_dir()) {
        points.extend(mountinfo::below(mounts, &shm));
    }
    points
}

fn teardown_error(path: &Path, source: io::Error) -> Error {
    Error::Teardown {
        path: path.to_owned(),
        source,
    }
}

/// `rm -r` that never leaves the filesystem `root` is on and never
/// follows a symlink. A missing `root` is fine.
fn remove_tree(root: &Path) -> Result<()> {
    let meta = match fs::symlink_metadata(root) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(teardown_error(root, source)),
    };
    remove_below(root, meta.dev())
}

fn remove_below(dir: &Path, dev: u64) -> Result<()> {
    let err = teardown_error;
    for entry in fs::read_dir(dir).map_err(|e| err(dir, e))? {
        let entry = entry.map_err(|e| err(dir, e))?;
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).map_err(|e| err(&path, e))?;
        if meta.is_dir() {
            if meta.dev() != dev {
                return Err(err(
                    &path,
                    io::Error::other("on another filesystem (a mount?); refusing to remove it"),
                ));
            }
            remove_below(&path, dev)?;
        } else {
            fs::remove_file(&path).map_err(|e| err(&path, e))?;
        }
    }
    fs::remove_dir(dir).map_err(|e| err(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_testkit::TempDir;

    #[test]
    fn teardown_removes_volume_folders_and_is_idempotent() {
        let t = TempDir::new("td");
        let dirs = VolumeDirs::new(t.path(), "u1");
        let d = dirs.empty_dir("cache");
        fs::create_dir_all(d.join("sub")).expect("mkdir");
        fs::write(d.join("sub/f"), "x").expect("write");
        fs::create_dir_all(dirs.shm_dir()).expect("mkdir");
        teardown(&dirs).expect("teardown");
        assert!(!dirs.pod_dir().exists());
        teardown(&dirs).expect("again");
    }

    #[test]
    fn unmount_alone_leaves_the_folders_for_their_remover() {
        let t = TempDir::new("td-unmount");
        let dirs = VolumeDirs::new(t.path(), "u1");
        let d = dirs.empty_dir("cache");
        fs::create_dir_all(&d).expect("mkdir");
        fs::write(d.join("f"), "x").expect("write");
        unmount(&dirs).expect("unmount");
        assert_eq!(fs::read_to_string(d.join("f")).expect("kept"), "x");
    }

    #[test]
    fn teardown_does_not_follow_symlinks_out_of_the_pod() {
        let t = TempDir::new("td-link");
        let outside = t.path().join("host-data");
        fs::create_dir_all(&outside).expect("mkdir");
        fs::write(outside.join("keep"), "x").expect("write");
        let dirs = VolumeDirs::new(t.path(), "u1");
        let d = dirs.empty_dir("cache");
        fs::create_dir_all(&d).expect("mkdir");
        std::os::unix::fs::symlink(&outside, d.join("link")).expect("symlink");
        teardown(&dirs).expect("teardown");
        assert!(outside.join("keep").exists());
    }

    #[test]
    fn teardown_leaves_other_crates_folders_in_the_pod_folder() {
        let t = TempDir::new("td-other");
        let dirs = VolumeDirs::new(t.path(), "u1");
        fs::create_dir_all(dirs.empty_dir("a")).expect("mkdir");
        fs::create_dir_all(dirs.pod_dir().join("containers")).expect("mkdir");
        teardown(&dirs).expect("teardown");
        assert!(dirs.pod_dir().join("containers").exists());
        assert!(!dirs.volumes_dir().exists());
    }
}
