//! A container's resource usage, as the kubelet reports it
//! (`ContainerStats` of the CRI, `kubectl top`): the CPU time and the
//! memory working set of its cgroup, and the disk its writable layer
//! takes.

use std::path::Path;

use peapod_core::CgroupHierarchy;

use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::teardown::{cgroup_name, lib_dir};

/// One reading of a container's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContainerStats {
    /// CPU time its processes used since it started, in ns (cumulative:
    /// two readings apart give the rate).
    pub cpu_usage_ns: u64,
    /// Memory in use less the inactive file cache (the kubelet's
    /// `memory.working_set_bytes`, what `top` shows and eviction counts).
    pub memory_working_set_bytes: u64,
    /// The disk its writable (overlay upper) layer takes.
    pub writable_layer_bytes: u64,
}

/// Reads `container`'s counters in the pod whose uid is `pod_uid`.
pub fn stats(paths: &Paths, pod_uid: &str, container: &str) -> Result<ContainerStats> {
    stats_in(paths, Path::new(&cgroup_name(pod_uid)), pod_uid, container)
}

/// [`stats`] of a pod whose cgroup is `pod_cgroup` (relative to the
/// hierarchy's root: an engine sandbox's may have a parent).
pub(crate) fn stats_in(
    paths: &Paths,
    pod_cgroup: &Path,
    pod_uid: &str,
    container: &str,
) -> Result<ContainerStats> {
    let hierarchy = CgroupHierarchy::detect().map_err(|e| Error::container(container, e))?;
    let usage = hierarchy
        .open(pod_cgroup.join(container))
        .usage()
        .map_err(|e| Error::container(container, e))?;
    let upper = crate::container::layers_dir(&lib_dir(paths, pod_uid), container).join("upper");
    let writable_layer_bytes = peapod_volumes::disk_usage(&upper)
        .map_err(|e| Error::container(container, format!("{}: {e}", upper.display())))?;
    Ok(ContainerStats {
        cpu_usage_ns: usage.cpu_usage_ns,
        memory_working_set_bytes: usage.memory_working_set_bytes,
        writable_layer_bytes,
    })
}
