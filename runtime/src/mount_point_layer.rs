//! A container's overlay gets its image's mount-point layer
//! (`peapod_image`'s `mount_points.rs`) right under its upper layer: the
//! folders and files its mount plan makes on the root (`/etc/hosts`, a
//! volume's folder) are then found in a lower layer, so overlayfs copies
//! nothing up into the upper layer on the host's disk, and `delete` has
//! nothing of them to remove.
//!
//! The layer is an optimisation only: when it cannot be made the
//! container's child makes its mount points through the overlay as it
//! always did (a warning in the supervisor's log).

use std::path::Path;

use peapod_core::{MountPlan, RootFs};

use crate::images::ResolvedImage;

/// The most bytes of mount options the kernel takes (one page, with the
/// final NUL): overlayfs' `lowerdir=...,upperdir=...,workdir=...`.
const MOUNT_DATA_MAX: usize = 4095;

/// Puts `image`'s mount-point layer for `plan` on top of its lower
/// layers, when the plan makes anything on its root the image lacks.
pub(crate) fn put_under_upper(plan: &mut MountPlan, image: &ResolvedImage, container: &str) {
    let _span = tracing::debug_span!("mount_point_layer").entered();
    // An invalid plan is refused at the spawn.
    let Ok(points) = plan.root_mount_points() else {
        return;
    };
    let RootFs::Overlay { lower, upper, work } = &mut plan.root else {
        return;
    };
    let dirs: Vec<&Path> = points
        .iter()
        .filter(|p| p.is_dir)
        .map(|p| p.path.as_path())
        .collect();
    let files: Vec<&Path> = points
        .iter()
        .filter(|p| !p.is_dir)
        .map(|p| p.path.as_path())
        .collect();
    let layer = match image
        .store
        .mount_point_layer(&image.id, lower, &dirs, &files)
    {
        Ok(Some(layer)) => layer,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!("container {container}: no mount-point layer: {e}");
            return;
        }
    };
    let length = |p: &Path| p.as_os_str().len() + 1;
    // With `,volatile` (`MountPlan::volatile_root`).
    let data = "lowerdir=,upperdir=,workdir=,volatile".len()
        + lower.iter().map(|l| length(l)).sum::<usize>()
        + length(&layer)
        + length(upper)
        + length(work);
    if data <= MOUNT_DATA_MAX {
        lower.insert(0, layer);
    }
}
