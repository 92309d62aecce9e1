//! Removing what a pod's volumes left on the host.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rustix::io::Errno;
use rustix::mount::{UnmountFlags, unmount};

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
    let err = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Teardown { path, source }
    };
    let mounts = mountinfo::read().map_err(err(pod))?;
    for point in mountinfo::below(&mounts, pod) {
        match unmount(&point, UnmountFlags::DETACH) {
            // EINVAL: no longer a mount point; ENOENT: already gone.
            Ok(()) | Err(Errno::INVAL | Errno::NOENT) => {}
            Err(e) => return Err(err(&point)(e.into())),
        }
    }
    let mounts = mountinfo::read().map_err(err(pod))?;
    if let Some(left) = mountinfo::below(&mounts, pod).first() {
        return Err(err(left)(io::Error::other(
            "still a mount point after unmounting; refusing to remove below it",
        )));
    }
    for dir in dirs.owned() {
        remove_tree(&dir)?;
    }
    match fs::remove_dir(pod) {
        Err(e)
            if e.kind() != io::ErrorKind::NotFound
                && e.kind() != io::ErrorKind::DirectoryNotEmpty =>
        {
            Err(err(pod)(e))
        }
        _ => Ok(()),
    }
}

/// `rm -r` that never leaves the filesystem `root` is on and never
/// follows a symlink. A missing `root` is fine.
fn remove_tree(root: &Path) -> Result<()> {
    let meta = match fs::symlink_metadata(root) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(Error::Teardown {
                path: root.to_owned(),
                source,
            });
        }
    };
    remove_below(root, meta.dev())
}

fn remove_below(dir: &Path, dev: u64) -> Result<()> {
    let err = |path: &Path, source| Error::Teardown {
        path: path.to_owned(),
        source,
    };
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
