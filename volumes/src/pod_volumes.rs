//! A pod's volumes on the host: made once per pod, removed once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use peapod_spec::{EmptyDirVolumeSource, Pod, ResourceKind, StorageMedium, Volume, VolumeSource};

use crate::atomic_writer;
use crate::dirs::VolumeDirs;
use crate::empty_dir::{self, EMPTY_DIR_MODE, EmptyDirLimit, POD_DIR_MODE};
use crate::error::{Error, Result};
use crate::fs_group;
use crate::host_path;
use crate::payload::{self, Payload, VolumeInputs};
use crate::teardown::teardown;
use crate::tmpfs::TmpfsMount;

/// The host side of every volume of one pod: folders made, hostPaths
/// checked, and the pod-level tmpfs mounts still to mount.
///
/// The runtime's pod supervisor, in order:
/// 1. [`PodVolumes::prepare`] (or [`PodVolumes::prepare_with`] the pod's
///    ConfigMaps and Secrets) — folders, hostPath checks, configMap and
///    downwardAPI files; no mounts.
/// 2. [`PodVolumes::mount_tmpfs`] — in its own mount namespace with
///    private propagation: the pod's `/dev/shm` and `medium: Memory`
///    emptyDirs. Containers cloned afterwards see them.
/// 3. [`PodVolumes::mount_plan`] per container (init containers too).
/// 4. [`PodVolumes::teardown`] once the pod is gone (or the free function
///    [`teardown`](crate::teardown) with only the [`VolumeDirs`], after a
///    crash).
#[derive(Debug)]
pub struct PodVolumes {
    dirs: VolumeDirs,
    /// Each volume by name.
    sources: BTreeMap<String, HostVolume>,
    tmpfs: Vec<TmpfsMount>,
    /// Files of secret and projected volumes, written once their tmpfs is
    /// mounted (never to disk).
    pending: Vec<Pending>,
    /// `sizeLimit`s of disk emptyDirs, for [`PodVolumes::empty_dirs_over_limit`].
    disk_limits: Vec<EmptyDirLimit>,
    /// Folders of the volumes kubelet counts in a pod's local ephemeral
    /// storage (disk emptyDirs, configMaps), for [`PodVolumes::local_dirs`].
    local: Vec<PathBuf>,
    /// `securityContext.fsGroup`: the group given the pod's volumes.
    fs_group: Option<u32>,
    /// `hostIPC`: containers get the host's `/dev/shm`, as containerd
    /// gives them with the host's IPC namespace.
    host_ipc: bool,
    /// Set once [`PodVolumes::mount_tmpfs`] has proved this process's mount
    /// namespace private: from then on subPaths are pinned.
    private_namespace: AtomicBool,
}

/// Where a volume is on the host.
#[derive(Debug, Clone)]
pub(crate) struct HostVolume {
    /// The folder (or file) bound into containers.
    pub path: PathBuf,
    /// configMap, secret, downwardAPI and projected volumes are always
    /// mounted read-only, as kubelet does since 1.10.
    pub always_read_only: bool,
}

/// Files to write into a volume's tmpfs after it is mounted.
#[derive(Debug)]
struct Pending {
    volume: String,
    dir: PathBuf,
    payload: Payload,
}

impl PodVolumes {
    /// [`prepare_with`](Self::prepare_with) no ConfigMaps or Secrets and
    /// the host's own capacity for downwardAPI limits.
    pub fn prepare(pod: &Pod, dirs: VolumeDirs) -> Result<Self> {
        Self::prepare_with(pod, dirs, &VolumeInputs::default())
    }

    /// Makes the pod's volume folders (`emptyDir`, the `/dev/shm` mount
    /// point), checks or makes each hostPath by its `type`, writes the
    /// files of configMap and downwardAPI volumes, and computes those of
    /// secret and projected volumes (written by
    /// [`mount_tmpfs`](Self::mount_tmpfs) onto their tmpfs). With
    /// `securityContext.fsGroup`, every volume but hostPaths is given to
    /// that group as kubelet does. ConfigMaps and Secrets come from
    /// `inputs`. Mounts nothing; needs no root beyond
    /// write access to the folders.
    ///
    /// On error, what was made is left for [`teardown`](crate::teardown).
    pub fn prepare_with(pod: &Pod, dirs: VolumeDirs, inputs: &VolumeInputs) -> Result<Self> {
        let _span =
            tracing::debug_span!("volumes.prepare", pod = %dirs.pod_dir().display()).entered();
        // Root's alone: containers reach their volumes and layers through
        // mounts, which never walk the host folders above them.
        empty_dir::make_dir("(pod folder)", dirs.pod_dir(), POD_DIR_MODE)?;
        let shm = dirs.shm_dir();
        empty_dir::make_dir("shm", &shm, 0o1777)?;
        let mut tmpfs = vec![TmpfsMount::shm(shm)];
        let mut sources = BTreeMap::new();
        let mut pending = Vec::new();
        let mut disk_limits = Vec::new();
        let mut local = Vec::new();
        let fs_group = pod
            .spec
            .security_context
            .as_ref()
            .and_then(|sc| sc.fs_group)
            .and_then(|g| u32::try_from(g).ok());
        for volume in &pod.spec.volumes {
            let payload =
                payload::build(&volume.source, pod, inputs).map_err(|e| Error::Payload {
                    volume: volume.name.clone(),
                    problem: e.0,
                })?;
            let (path, always_read_only) = match &volume.source {
                VolumeSource::EmptyDir(source) => {
                    let dir = dirs.empty_dir(&volume.name);
                    empty_dir::make_dir(&volume.name, &dir, EMPTY_DIR_MODE)?;
                    if source.medium == Some(StorageMedium::Memory) {
                        let size = memory_size(pod, volume, source)?;
                        tmpfs.push(TmpfsMount::memory_empty_dir(
                            &volume.name,
                            dir.clone(),
                            size,
                        ));
                    } else {
                        local.push(dir.clone());
                        if let Some(limit) = &source.size_limit {
                            disk_limits.push(EmptyDirLimit {
                                volume: volume.name.clone(),
                                dir: dir.clone(),
                                bytes: u64::try_from(limit.value()).unwrap_or(0),
                                size_limit: limit.canonical(),
                            });
                        }
                    }
                    (dir, false)
                }
                VolumeSource::HostPath(source) => {
                    let path = PathBuf::from(&source.path);
                    host_path::prepare(&volume.name, &path, source.type_.unwrap_or_default())?;
                    (path, false)
                }
                source => {
                    let dir = dirs.volume_dir(kind_name(source), &volume.name);
                    empty_dir::make_dir(&volume.name, &dir, 0o755)?;
                    let payload = payload.unwrap_or_default();
                    if matches!(source, VolumeSource::Secret(_) | VolumeSource::Projected(_)) {
                        tmpfs.push(TmpfsMount::secret(&volume.name, dir.clone()));
                        pending.push(Pending {
                            volume: volume.name.clone(),
                            dir: dir.clone(),
                            payload,
                        });
                    } else {
                        write_files(&volume.name, &dir, &payload)?;
                        if matches!(source, VolumeSource::ConfigMap(_)) {
                            local.push(dir.clone());
                        }
                    }
                    (dir, true)
                }
            };
            // A tmpfs volume gets its group once mounted (in `mount_tmpfs`).
            let on_tmpfs = tmpfs.iter().any(|t| t.target == path);
            if let (Some(gid), false, false) = (fs_group, on_tmpfs, is_host_path(&volume.source)) {
                give_to_group(&volume.name, &path, gid, always_read_only)?;
            }
            let host = HostVolume {
                path,
                always_read_only,
            };
            sources.insert(volume.name.clone(), host);
        }
        Ok(Self {
            dirs,
            sources,
            tmpfs,
            pending,
            disk_limits,
            local,
            fs_group,
            host_ipc: pod.spec.host_ipc.unwrap_or(false),
            private_namespace: AtomicBool::new(false),
        })
    }

    /// The pod-level tmpfs mounts [`mount_tmpfs`](Self::mount_tmpfs)
    /// makes: the pod's `/dev/shm` first, then each `medium: Memory`
    /// emptyDir in volume order.
    pub fn tmpfs_mounts(&self) -> &[TmpfsMount] {
        &self.tmpfs
    }

    /// Mounts the pod-level tmpfs, directly (rustix's safe `mount`), then
    /// writes the files of secret and projected volumes onto theirs (and
    /// gives them to the pod's `fsGroup`).
    ///
    /// Call it in the pod supervisor after it has unshared its mount
    /// namespace and made `/` private (`mount --make-rprivate /`): it
    /// refuses with [`Error::NotPrivate`] in the host's namespace or below
    /// a mount with shared propagation, so a pod's tmpfs (and its secrets)
    /// can never appear on the host and vanish with the supervisor.
    ///
    /// Afterwards [`mount_plan`](Self::mount_plan) pins each subPath: the
    /// descriptor it resolved is bind-mounted below
    /// `<pod>/volume-subpaths/`, and the container binds from there, so a
    /// symlink swapped into the volume later cannot redirect the mount.
    pub fn mount_tmpfs(&self) -> Result<()> {
        self.tmpfs.iter().try_for_each(TmpfsMount::mount)?;
        self.private_namespace.store(true, Ordering::Relaxed);
        for p in &self.pending {
            write_files(&p.volume, &p.dir, &p.payload)?;
        }
        let Some(gid) = self.fs_group else {
            return Ok(());
        };
        let shm = self.dirs.shm_dir();
        for mount in self.tmpfs.iter().filter(|m| m.target != shm) {
            let read_only = self
                .sources
                .get(&mount.volume)
                .is_some_and(|v| v.always_read_only);
            give_to_group(&mount.volume, &mount.target, gid, read_only)?;
        }
        Ok(())
    }

    /// Whether pod-level mounts may be made here (see `mount_tmpfs`).
    pub(crate) fn in_private_namespace(&self) -> bool {
        self.private_namespace.load(Ordering::Relaxed)
    }

    /// The `sizeLimit`s of disk emptyDirs, to measure
    /// ([`EmptyDirLimit::exceeded`]): kubelet evicts a pod whose emptyDir
    /// holds more (reason `Evicted`, the message of
    /// [`SizeLimitExceeded`](crate::SizeLimitExceeded)). A `medium:
    /// Memory` emptyDir needs no measure: its tmpfs is sized.
    pub fn empty_dir_limits(&self) -> &[EmptyDirLimit] {
        &self.disk_limits
    }

    /// The folders of the volumes kubelet counts in the pod's local
    /// ephemeral storage: disk emptyDirs and configMap volumes (tmpfs
    /// volumes count as memory, hostPaths are not the pod's).
    pub fn local_dirs(&self) -> &[PathBuf] {
        &self.local
    }

    /// The host path of a volume (the emptyDir folder, the hostPath).
    pub fn host_path(&self, volume: &str) -> Option<&Path> {
        self.sources.get(volume).map(|v| v.path.as_path())
    }

    /// A volume by name, for the mount plan.
    pub(crate) fn volume(&self, name: &str) -> Option<&HostVolume> {
        self.sources.get(name)
    }

    /// The host folder of the pod's `/dev/shm` (a tmpfs once mounted).
    pub fn shm_dir(&self) -> PathBuf {
        self.dirs.shm_dir()
    }

    /// What containers get as `/dev/shm`: the pod's tmpfs, or the host's
    /// own `/dev/shm` with `hostIPC` (POSIX shared memory is files there:
    /// sharing the host's IPC namespace without it would share only half).
    pub(crate) fn container_shm(&self) -> PathBuf {
        if self.host_ipc {
            PathBuf::from("/dev/shm")
        } else {
            self.shm_dir()
        }
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

fn is_host_path(source: &VolumeSource) -> bool {
    matches!(source, VolumeSource::HostPath(_))
}

/// Applies `fsGroup` to a volume's folder (see `fs_group`).
fn give_to_group(volume: &str, dir: &Path, gid: u32, read_only: bool) -> Result<()> {
    fs_group::apply(dir, gid, read_only).map_err(|source| Error::Ownership {
        volume: volume.to_owned(),
        path: dir.to_owned(),
        source,
    })
}

fn write_files(volume: &str, dir: &Path, payload: &Payload) -> Result<()> {
    atomic_writer::write(dir, payload).map_err(|source| Error::Write {
        volume: volume.to_owned(),
        path: dir.to_owned(),
        source,
    })
}

/// The size of a `medium: Memory` emptyDir, as kubelet sizes it
/// (KEP-1967): the smaller of `sizeLimit` and the pod's memory limit;
/// `None` (the kernel's default, half of RAM) when neither is set. A
/// `sizeLimit` of zero means none.
fn memory_size(pod: &Pod, volume: &Volume, source: &EmptyDirVolumeSource) -> Result<Option<u64>> {
    let size_limit = match &source.size_limit {
        None => None,
        Some(q) => match u64::try_from(q.value()) {
            Ok(0) => None,
            Ok(bytes) => Some(bytes),
            Err(_) => {
                return Err(Error::SizeLimit {
                    volume: volume.name.clone(),
                    size_limit: q.as_str().to_owned(),
                });
            }
        },
    };
    Ok(match (size_limit, pod_memory_limit(pod)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

/// The pod's memory limit when every container sets one: the sum over
/// app containers, or the largest init container's if that is more.
fn pod_memory_limit(pod: &Pod) -> Option<u64> {
    let limit = |c: &peapod_spec::Container| {
        c.resource_list(ResourceKind::Limits)
            .and_then(|l| l.get("memory"))
            .and_then(|q| u64::try_from(q.value()).ok())
    };
    let apps: Option<Vec<u64>> = pod.spec.containers.iter().map(limit).collect();
    let inits: Option<Vec<u64>> = pod.spec.init_containers.iter().map(limit).collect();
    let sum: u64 = apps?.iter().sum();
    let init_max = inits?.into_iter().max().unwrap_or(0);
    Some(sum.max(init_max)).filter(|l| *l > 0)
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

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_spec::{
        ConfigMap, ConfigMapVolumeSource, DownwardAPIVolumeFile, DownwardAPIVolumeSource,
        ObjectFieldSelector, Secret, SecretVolumeSource,
    };
    use peapod_testkit::TempDir;
    use std::fs;

    fn pod(volumes: Vec<(&str, VolumeSource)>) -> Pod {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web".into());
        pod.spec.volumes = volumes
            .into_iter()
            .map(|(name, source)| Volume {
                name: name.into(),
                source,
            })
            .collect();
        pod
    }

    fn config_map(name: &str, data: &[(&str, &str)]) -> ConfigMap {
        let mut cm = ConfigMap::default();
        cm.metadata.name = Some(name.into());
        cm.data = data
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        cm
    }

    #[test]
    fn config_map_and_downward_api_files_are_written_by_prepare() {
        let t = TempDir::new("pv-files");
        let cms = [config_map("app", &[("app.conf", "port=80")])];
        let p = pod(vec![
            (
                "cfg",
                VolumeSource::ConfigMap(ConfigMapVolumeSource {
                    name: "app".into(),
                    ..ConfigMapVolumeSource::default()
                }),
            ),
            (
                "info",
                VolumeSource::DownwardAPI(DownwardAPIVolumeSource {
                    items: vec![DownwardAPIVolumeFile {
                        path: "name".into(),
                        field_ref: Some(ObjectFieldSelector {
                            field_path: "metadata.name".into(),
                            ..ObjectFieldSelector::default()
                        }),
                        ..DownwardAPIVolumeFile::default()
                    }],
                    ..DownwardAPIVolumeSource::default()
                }),
            ),
        ]);
        let inputs = VolumeInputs {
            config_maps: &cms,
            ..VolumeInputs::default()
        };
        let vols =
            PodVolumes::prepare_with(&p, VolumeDirs::new(t.path(), "u"), &inputs).expect("prepare");
        let cfg = vols.host_path("cfg").expect("cfg");
        assert_eq!(cfg, t.path().join("pods/u/volumes/configMap/cfg"));
        assert_eq!(
            fs::read_to_string(cfg.join("app.conf")).expect("file"),
            "port=80"
        );
        let info = vols.host_path("info").expect("info");
        assert_eq!(fs::read_to_string(info.join("name")).expect("file"), "web");
        assert!(vols.volume("cfg").expect("cfg").always_read_only);
    }

    #[test]
    fn secret_files_wait_for_their_tmpfs_and_never_touch_disk() {
        let t = TempDir::new("pv-secret");
        let mut secret = Secret::default();
        secret.metadata.name = Some("db".into());
        secret
            .string_data
            .insert("password".into(), "hunter2".into());
        let secrets = [secret];
        let p = pod(vec![(
            "creds",
            VolumeSource::Secret(SecretVolumeSource {
                secret_name: "db".into(),
                ..SecretVolumeSource::default()
            }),
        )]);
        let inputs = VolumeInputs {
            secrets: &secrets,
            ..VolumeInputs::default()
        };
        let vols =
            PodVolumes::prepare_with(&p, VolumeDirs::new(t.path(), "u"), &inputs).expect("prepare");
        let dir = vols.host_path("creds").expect("creds");
        assert_eq!(fs::read_dir(dir).expect("ls").count(), 0, "nothing on disk");
        let targets: Vec<_> = vols
            .tmpfs_mounts()
            .iter()
            .map(|m| m.target.clone())
            .collect();
        assert_eq!(targets, vec![vols.shm_dir(), dir.to_path_buf()]);
    }

    #[test]
    fn memory_empty_dir_is_no_larger_than_the_pod_memory_limit() {
        use peapod_spec::{Container, EmptyDirVolumeSource, Quantity, ResourceRequirements};
        let t = TempDir::new("pv-memsize");
        let memory = |q: &str| Container {
            resources: Some(ResourceRequirements {
                limits: [("memory".to_owned(), Quantity::parse(q).expect("q"))].into(),
                ..ResourceRequirements::default()
            }),
            ..Container::default()
        };
        let volume = |limit: Option<&str>| {
            VolumeSource::EmptyDir(EmptyDirVolumeSource {
                medium: Some(StorageMedium::Memory),
                size_limit: limit.map(|l| Quantity::parse(l).expect("q")),
            })
        };
        let mut p = pod(vec![
            ("big", volume(Some("1Gi"))),
            ("small", volume(Some("1Mi"))),
            ("none", volume(None)),
        ]);
        p.spec.containers = vec![memory("64Mi"), memory("64Mi")];
        let vols = PodVolumes::prepare(&p, VolumeDirs::new(t.path(), "u")).expect("prepare");
        let sizes: Vec<_> = vols.tmpfs_mounts()[1..].iter().map(|m| m.size).collect();
        assert_eq!(sizes, vec![Some(128 << 20), Some(1 << 20), Some(128 << 20)]);
        p.spec.containers.push(Container::default());
        let vols = PodVolumes::prepare(&p, VolumeDirs::new(t.path(), "u")).expect("prepare");
        let sizes: Vec<_> = vols.tmpfs_mounts()[1..].iter().map(|m| m.size).collect();
        assert_eq!(
            sizes,
            vec![Some(1 << 30), Some(1 << 20), None],
            "a container without limit"
        );
    }

    #[test]
    fn fs_group_owns_disk_volumes_but_never_a_host_path() {
        use peapod_spec::{HostPathVolumeSource, PodSecurityContext};
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let t = TempDir::new("pv-fsgroup");
        let host = t.path().join("host");
        fs::create_dir(&host).expect("mkdir");
        fs::set_permissions(&host, fs::Permissions::from_mode(0o755)).expect("chmod");
        let gid = fs::metadata(&host).expect("stat").gid();
        let mut p = pod(vec![
            (
                "cache",
                VolumeSource::EmptyDir(EmptyDirVolumeSource::default()),
            ),
            (
                "host",
                VolumeSource::HostPath(HostPathVolumeSource {
                    path: host.to_string_lossy().into_owned(),
                    type_: None,
                }),
            ),
        ]);
        p.spec.security_context = Some(PodSecurityContext {
            fs_group: Some(i64::from(gid)),
            ..PodSecurityContext::default()
        });
        let vols = PodVolumes::prepare(&p, VolumeDirs::new(t.path(), "u")).expect("prepare");
        let mode = |path: &Path| fs::metadata(path).expect("stat").permissions().mode() & 0o7777;
        assert_eq!(mode(vols.host_path("cache").expect("cache")), 0o2777);
        assert_eq!(mode(&host), 0o755, "hostPath untouched");
    }

    #[test]
    fn disk_empty_dir_past_its_size_limit_is_reported_as_kubelet_evicts() {
        use peapod_spec::Quantity;
        let t = TempDir::new("pv-disk-limit");
        let p = pod(vec![(
            "scratch",
            VolumeSource::EmptyDir(EmptyDirVolumeSource {
                medium: None,
                size_limit: Some(Quantity::parse("64Ki").expect("q")),
            }),
        )]);
        let vols = PodVolumes::prepare(&p, VolumeDirs::new(t.path(), "u")).expect("prepare");
        let over = || -> Vec<_> {
            vols.empty_dir_limits()
                .iter()
                .filter_map(EmptyDirLimit::exceeded)
                .collect()
        };
        assert!(over().is_empty());
        let dir = vols.host_path("scratch").expect("dir");
        fs::write(dir.join("big"), vec![1u8; 128 * 1024]).expect("write");
        let over = over();
        assert_eq!(over.len(), 1);
        assert_eq!(
            over[0].to_string(),
            "Usage of EmptyDir volume \"scratch\" exceeds the limit \"64Ki\". "
        );
        let local: u64 = vols
            .local_dirs()
            .iter()
            .map(|d| crate::disk_usage(d).expect("du"))
            .sum();
        assert!(local >= 128 * 1024, "{local}");
    }

    #[test]
    fn missing_config_map_names_the_volume() {
        let t = TempDir::new("pv-missing");
        let p = pod(vec![(
            "cfg",
            VolumeSource::ConfigMap(ConfigMapVolumeSource {
                name: "nope".into(),
                ..ConfigMapVolumeSource::default()
            }),
        )]);
        let err = PodVolumes::prepare(&p, VolumeDirs::new(t.path(), "u"))
            .expect_err("missing")
            .to_string();
        assert_eq!(err, "volume \"cfg\": configMap \"nope\" not found");
    }
}
