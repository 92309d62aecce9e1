//! A pod's volumes on the host: made once per pod, removed once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use peapod_spec::{EmptyDirVolumeSource, Pod, StorageMedium, Volume, VolumeSource};

use crate::dirs::VolumeDirs;
use crate::empty_dir::{self, EMPTY_DIR_MODE};
use crate::error::{Error, Result};
use crate::host_path;
use crate::teardown::teardown;
use crate::tmpfs::TmpfsMount;

/// The host side of every volume of one pod: folders made, hostPaths
/// checked, and the pod-level tmpfs mounts still to mount.
///
/// The runtime's pod supervisor, in order:
/// 1. [`PodVolumes::prepare`] — folders and hostPath checks; no mounts.
/// 2. [`PodVolumes::mount_tmpfs`] — in its own mount namespace with
///    private propagation: the pod's `/dev/shm` and `medium: Memory`
///    emptyDirs. Containers cloned afterwards see them.
/// 3. [`PodVolumes::mount_plan`] per container (init containers too).
/// 4. [`PodVolumes::teardown`] once the pod is gone (or the free function
///    [`teardown`](crate::teardown) with only the [`VolumeDirs`], after a
///    crash).
#[derive(Debug, Clone)]
pub struct PodVolumes {
    dirs: VolumeDirs,
    /// Host path of each volume, by volume name.
    sources: BTreeMap<String, PathBuf>,
    tmpfs: Vec<TmpfsMount>,
}

impl PodVolumes {
    /// Makes the pod's volume folders (`emptyDir`, the `/dev/shm` mount
    /// point) and checks or makes each hostPath by its `type`. Mounts
    /// nothing; needs no root beyond write access to the folders.
    ///
    /// On error, what was made is left for [`teardown`](crate::teardown).
    pub fn prepare(pod: &Pod, dirs: VolumeDirs) -> Result<Self> {
        let _span =
            tracing::debug_span!("volumes.prepare", pod = %dirs.pod_dir().display()).entered();
        let shm = dirs.shm_dir();
        empty_dir::make_dir("shm", &shm, 0o1777)?;
        let mut tmpfs = vec![TmpfsMount::shm(shm)];
        let mut sources = BTreeMap::new();
        for volume in &pod.spec.volumes {
            let path = match &volume.source {
                VolumeSource::EmptyDir(source) => {
                    let dir = dirs.empty_dir(&volume.name);
                    empty_dir::make_dir(&volume.name, &dir, EMPTY_DIR_MODE)?;
                    if source.medium == Some(StorageMedium::Memory) {
                        let size = size_limit(volume, source)?;
                        tmpfs.push(TmpfsMount::memory_empty_dir(
                            &volume.name,
                            dir.clone(),
                            size,
                        ));
                    }
                    dir
                }
                VolumeSource::HostPath(source) => {
                    let path = PathBuf::from(&source.path);
                    host_path::prepare(&volume.name, &path, source.type_.unwrap_or_default())?;
                    path
                }
                other => {
                    return Err(Error::Unsupported {
                        volume: volume.name.clone(),
                        kind: kind_name(other).to_owned(),
                    });
                }
            };
            sources.insert(volume.name.clone(), path);
        }
        Ok(Self {
            dirs,
            sources,
            tmpfs,
        })
    }

    /// The pod-level tmpfs mounts [`mount_tmpfs`](Self::mount_tmpfs)
    /// makes: the pod's `/dev/shm` first, then each `medium: Memory`
    /// emptyDir in volume order.
    pub fn tmpfs_mounts(&self) -> &[TmpfsMount] {
        &self.tmpfs
    }

    /// Mounts the pod-level tmpfs, directly (rustix's safe `mount`).
    ///
    /// Call it in the pod supervisor after it has unshared its mount
    /// namespace and made `/` private (`mount --make-rprivate /`): it
    /// refuses with [`Error::NotPrivate`] in the host's namespace or below
    /// a mount with shared propagation, so a pod's tmpfs can never appear
    /// on the host and vanishes with the supervisor.
    pub fn mount_tmpfs(&self) -> Result<()> {
        self.tmpfs.iter().try_for_each(TmpfsMount::mount)
    }

    /// The host path of a volume (the emptyDir folder, the hostPath).
    pub fn host_path(&self, volume: &str) -> Option<&Path> {
        self.sources.get(volume).map(PathBuf::as_path)
    }

    /// The host folder of the pod's `/dev/shm` (a tmpfs once mounted).
    pub fn shm_dir(&self) -> PathBuf {
        self.dirs.shm_dir()
    }

    /// The pod's folders.
    pub fn dirs(&self) -> &VolumeDirs {
        &self.dirs
    }

    /// Unmounts the pod-level tmpfs (where this process sees them) and
    /// removes the pod's volume folders; never a hostPath's contents.
    /// See [`teardown`](crate::teardown).
    pub fn teardown(self) -> Result<()> {
        teardown(&self.dirs)
    }
}

/// `sizeLimit` in bytes; a limit of zero means none, as in kubelet.
fn size_limit(volume: &Volume, source: &EmptyDirVolumeSource) -> Result<Option<u64>> {
    let Some(q) = &source.size_limit else {
        return Ok(None);
    };
    match u64::try_from(q.value()) {
        Ok(0) => Ok(None),
        Ok(bytes) => Ok(Some(bytes)),
        Err(_) => Err(Error::SizeLimit {
            volume: volume.name.clone(),
            size_limit: q.as_str().to_owned(),
        }),
    }
}

/// The manifest's name of a volume source.
fn kind_name(source: &VolumeSource) -> &'static str {
    match source {
        VolumeSource::EmptyDir(_) => "emptyDir",
        VolumeSource::HostPath(_) => "hostPath",
        VolumeSource::ConfigMap(_) => "configMap",
        VolumeSource::Secret(_) => "secret",
        VolumeSource::DownwardAPI(_) => "downwardAPI",
        VolumeSource::Projected(_) => "projected",
    }
}
