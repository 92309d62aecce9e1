//! emptyDir volumes: a folder of the pod, on disk or on a tmpfs.

use std::fs::{self, Permissions};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

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

/// Mode of an emptyDir's folder (and of its tmpfs root).
pub(crate) const EMPTY_DIR_MODE: u32 = 0o777;

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
