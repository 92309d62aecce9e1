//! Where a pod's volumes live on the host.

use std::path::{Path, PathBuf};

/// The folders of one pod's volumes: `<lib>/pods/<uid>/`.
///
/// ```text
/// <lib>/pods/<uid>/volumes/emptyDir/<name>   emptyDir (disk, or a tmpfs mount point)
/// <lib>/pods/<uid>/volumes/configMap/<name>  files (also downwardAPI; secret and
///                                            projected on a tmpfs mounted there)
/// <lib>/pods/<uid>/shm                       mount point of the pod's /dev/shm tmpfs
///                                            (or `<dir>/shm`: [`VolumeDirs::with_shm_in`])
/// <lib>/pods/<uid>/volume-subpaths/...       subPaths pinned by their descriptor
/// ```
///
/// Everything below `volumes/`, `volume-subpaths/` and `shm` is this crate's, made by
/// [`PodVolumes::prepare`](crate::PodVolumes::prepare) and removed by
/// [`teardown`](crate::teardown). Other crates may keep their own folders
/// beside them in the pod folder; teardown leaves those alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeDirs {
    pod: PathBuf,
    shm: PathBuf,
}

impl VolumeDirs {
    /// The pod folder below `lib` (the runtime's `Paths::lib`, e.g.
    /// `/var/lib/peapod`) for the pod with this uid.
    pub fn new(lib: &Path, pod_uid: &str) -> Self {
        let pod = lib.join("pods").join(pod_uid);
        Self {
            shm: pod.join("shm"),
            pod,
        }
    }

    /// The same folders, the /dev/shm mount point `<dir>/shm` instead
    /// (a runtime keeps it on a tmpfs: an empty folder nothing writes
    /// to, one disk inode less a pod). `dir` is made when needed.
    #[must_use]
    pub fn with_shm_in(mut self, dir: &Path) -> Self {
        self.shm = dir.join("shm");
        self
    }

    /// `<lib>/pods/<uid>`.
    pub fn pod_dir(&self) -> &Path {
        &self.pod
    }

    /// `<lib>/pods/<uid>/volumes`: everything volume-related of the pod.
    pub fn volumes_dir(&self) -> PathBuf {
        self.pod.join("volumes")
    }

    /// `<lib>/pods/<uid>/volumes/<kind>/<name>`, `kind` as the manifest
    /// spells the source (`emptyDir`, `configMap`, `secret`, ...).
    pub fn volume_dir(&self, kind: &str, name: &str) -> PathBuf {
        self.volumes_dir().join(kind).join(name)
    }

    /// `<lib>/pods/<uid>/volumes/emptyDir/<name>`.
    pub fn empty_dir(&self, name: &str) -> PathBuf {
        self.volume_dir("emptyDir", name)
    }

    /// `<lib>/pods/<uid>/volume-subpaths/<volume>/<container>/<index>`:
    /// where the `index`th volumeMount's subPath of `container` is pinned
    /// (kubelet's layout).
    pub fn sub_path_pin(&self, volume: &str, container: &str, index: usize) -> PathBuf {
        self.pod
            .join("volume-subpaths")
            .join(volume)
            .join(container)
            .join(index.to_string())
    }

    /// `<lib>/pods/<uid>/shm` (or [`VolumeDirs::with_shm_in`]'s): where
    /// the pod's /dev/shm tmpfs is mounted.
    pub fn shm_dir(&self) -> PathBuf {
        self.shm.clone()
    }

    /// The folders teardown removes, in that order.
    pub(crate) fn owned(&self) -> [PathBuf; 3] {
        [
            self.pod.join("volume-subpaths"),
            self.volumes_dir(),
            self.shm_dir(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_dir_lives_below_the_pod_uid() {
        let d = VolumeDirs::new(Path::new("/var/lib/peapod"), "u1");
        assert_eq!(
            d.empty_dir("cache"),
            Path::new("/var/lib/peapod/pods/u1/volumes/emptyDir/cache")
        );
        assert_eq!(d.shm_dir(), Path::new("/var/lib/peapod/pods/u1/shm"));
        let d = d.with_shm_in(Path::new("/run/peapod/mounts/u1"));
        assert_eq!(d.shm_dir(), Path::new("/run/peapod/mounts/u1/shm"));
        assert_eq!(d.pod_dir(), Path::new("/var/lib/peapod/pods/u1"));
    }
}
