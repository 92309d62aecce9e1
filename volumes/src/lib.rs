//! Volumes and the container mount plan.
//!
//! Owns: turning volume sources (emptyDir, hostPath, configMap, secret,
//! downwardAPI, projected) into host paths, the ordered list of mounts a
//! container gets (overlay rootfs, `/proc`, `/dev`, `/dev/shm`, `/sys`,
//! the pod's hosts files, volume mounts with `subPath` and `readOnly`),
//! and removing what a pod's volumes left on the host.
//!
//! Does not own: performing mounts inside a container; `peapod-core`
//! applies the plan in the child.
//!
//! # How the runtime uses it
//!
//! ```text
//! // in the pod supervisor, after unshare(CLONE_NEWNS) and making / rprivate:
//! let vols = PodVolumes::prepare(&pod, VolumeDirs::new(&paths.lib, uid))?;
//! //   or PodVolumes::prepare_with(&pod, dirs, &VolumeInputs { config_maps, secrets, node: None })?
//! vols.mount_tmpfs()?;                 // /dev/shm 64Mi, Memory emptyDirs, secret/projected tmpfs
//! // per container (init containers too), each start:
//! let plan = vols.mount_plan(&container, &RootfsLayers { lower, upper, work, mountpoint },
//!                            &PodFiles { hosts, hostname, resolv_conf })?;
//! //   or mount_plan_with_env(.., &env) when a volumeMount uses subPathExpr
//! // on delete (or from `peapod delete` after a crash, with only the folders):
//! vols.teardown()?;                    // = peapod_volumes::teardown(&dirs)
//! ```
//!
//! Pod-level mounts (tmpfs, pinned subPaths) are made in the supervisor's
//! own mount namespace, so they vanish with it and never reach the host;
//! [`PodVolumes::mount_tmpfs`] refuses to run where they could.
#![forbid(unsafe_code)]

mod atomic_writer;
mod dirs;
mod disk_usage;
mod downward_api;
mod empty_dir;
mod error;
mod fs_group;
mod host_path;
mod mount_plan;
mod mountinfo;
mod payload;
mod pod_volumes;
mod sub_path;
mod teardown;
mod tmpfs;

pub use dirs::VolumeDirs;
pub use disk_usage::{Usage, disk_usage, usage};
pub use downward_api::{metadata_field_value, resource_field_value};
pub use empty_dir::{EmptyDirLimit, SizeLimitExceeded};
pub use error::{Error, Result};
pub use mount_plan::{PodFiles, RootfsLayers, confinement};
pub use payload::{NodeAllocatable, VolumeInputs};
pub use pod_volumes::PodVolumes;
pub use teardown::{teardown, unmount};
pub use tmpfs::{SHM_SIZE, TmpfsMount};
