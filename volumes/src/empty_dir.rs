//! emptyDir volumes: a folder of the pod, on disk or on a tmpfs.

use std::fmt;
use std::fs::{self, Permissions};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::disk_usage::disk_usage;
use crate::error::{Error, Result};

/// Makes the folder of an emptyDir (or any folder this crate owns) with
/// `mode` exactly, whatever the umask, as kubelet's emptyDir `setupDir`
/// does (0777 for emptyDir). Idempotent.
pub(crate) fn make_dir(volume: &str, dir: &Path, mode: u32) -> Result<()> {
    let err = |source| Error::CreateDir {
        volume: volume.to_owned(),
        path: dir.to_owned(),
        source,
    };
    fs::create_dir_all(dir).map_err(err)?;
    fs::set_permissions(dir, Permissions::from_mode(mode)).map_err(err)
}

/// Mode of the pod's folder `<lib>/pods/<uid>`: root's alone (kubelet's
/// is 0750). What containers use below it keeps its own mode.
pub(crate) const POD_DIR_MODE: u32 = 0o700;

/// Mode of an emptyDir's folder (and of its tmpfs root).
pub(crate) const EMPTY_DIR_MODE: u32 = 0o777;

/// A disk emptyDir holding more than its `sizeLimit`: kubelet evicts the
/// pod then, and its `Display` is kubelet's eviction message (with its
/// trailing space).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeLimitExceeded {
    /// The volume's name.
    pub volume: String,
    /// Bytes it holds (allocated blocks, as `du`).
    pub used: u64,
    /// The `sizeLimit` as Kubernetes prints it (`1Gi`, also for `1024Mi`).
    pub size_limit: String,
}

/// The `sizeLimit` of a disk emptyDir and its folder: what to measure,
/// owned, so the measure may run beside the caller's loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmptyDirLimit {
    /// The volume's name.
    pub volume: String,
    /// Its folder on the host.
    pub dir: PathBuf,
    /// The limit in bytes.
    pub bytes: u64,
    /// The `sizeLimit` as Kubernetes prints it.
    pub size_limit: String,
}

impl EmptyDirLimit {
    /// Measures the folder (`du`); what kubelet evicts for when it holds
    /// more than the limit. A folder that cannot be read is not over.
    pub fn exceeded(&self) -> Option<SizeLimitExceeded> {
        let used = disk_usage(&self.dir).ok()?;
        (self.bytes > 0 && used > self.bytes).then(|| SizeLimitExceeded {
            volume: self.volume.clone(),
            used,
            size_limit: self.size_limit.clone(),
        })
    }
}

impl fmt::Display for SizeLimitExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Usage of EmptyDir volume {:?} exceeds the limit {:?}. ",
            self.volume, self.size_limit
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_testkit::TempDir;

    #[test]
    fn empty_dir_folder_is_world_writable_whatever_the_umask() {
        let t = TempDir::new("ed-mode");
        let d = t.path().join("pods/u/volumes/emptyDir/cache");
        make_dir("cache", &d, EMPTY_DIR_MODE).expect("make");
        make_dir("cache", &d, EMPTY_DIR_MODE).expect("again");
        let mode = fs::metadata(&d).expect("stat").permissions().mode() & 0o7777;
        assert_eq!(mode, 0o777);
    }
}
