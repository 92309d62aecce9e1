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
#![forbid(unsafe_code)]

mod atomic_writer;
mod dirs;
mod downward_api;
mod empty_dir;
mod error;
mod host_path;
mod mount_plan;
mod mountinfo;
mod payload;
mod pod_volumes;
mod sub_path;
mod teardown;
mod tmpfs;

pub use dirs::VolumeDirs;
pub use error::{Error, Result};
pub use mount_plan::{PodFiles, RootfsLayers};
pub use payload::{NodeAllocatable, VolumeInputs};
pub use pod_volumes::PodVolumes;
pub use teardown::teardown;
pub use tmpfs::{SHM_SIZE, TmpfsMount};
