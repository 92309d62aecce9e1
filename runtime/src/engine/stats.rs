//! A container's resource usage, as the kubelet reports it
//! (`ContainerStats` of the CRI, `kubectl top`): the CPU time and the
//! memory working set of its cgroup, and the disk its writable layer
//! takes; and a sandbox's (`PodSandboxStats`): its cgroup's, the number
//! of its processes and its network namespace's interface counters.

use std::path::Path;

use peapod_core::CgroupHierarchy;

use super::net_dev::{self, InterfaceStats};
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

/// One reading of a sandbox's counters (its containers' are read one by
/// one with [`stats`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SandboxStats {
    /// CPU time of every process of the sandbox (pause and containers)
    /// since it was created, in ns.
    pub cpu_usage_ns: u64,
    /// Memory charged to the sandbox's cgroup, page cache included.
    pub memory_usage_bytes: u64,
    /// That usage less the inactive file cache (see
    /// [`ContainerStats::memory_working_set_bytes`]).
    pub memory_working_set_bytes: u64,
    /// Processes in the sandbox's cgroup, pause included.
    pub process_count: u64,
    /// The interfaces of its network namespace but loopback (`eth0` on
    /// the bridge); none on the host's network.
    pub interfaces: Vec<InterfaceStats>,
}

/// Reads the counters of the sandbox whose cgroup is `pod_cgroup`
/// (relative to the hierarchy's root); the network's through its pause
/// process (cgroup `pause` under it) unless it is on the host's network.
pub(crate) fn sandbox_stats_in(
    name: &str,
    pod_cgroup: &Path,
    host_network: bool,
) -> Result<SandboxStats> {
    let fail = |e: peapod_core::Error| Error::pod(name, e);
    let hierarchy = CgroupHierarchy::detect().map_err(fail)?;
    let cgroup = hierarchy.open(pod_cgroup);
    let usage = cgroup.usage().map_err(fail)?;
    let pids = cgroup.pids().map_err(fail)?;
    let interfaces = if host_network {
        Vec::new()
    } else {
        let pause = hierarchy
            .open(pod_cgroup.join(crate::sandbox::PAUSE_CGROUP))
            .pids()
            .map_err(fail)?;
        let pid = pause
            .first()
            .ok_or_else(|| Error::pod(name, "its pause process is gone: no network to read"))?;
        net_dev::read(*pid)?
    };
    Ok(SandboxStats {
        cpu_usage_ns: usage.cpu_usage_ns,
        memory_usage_bytes: usage.memory_usage_bytes,
        memory_working_set_bytes: usage.memory_working_set_bytes,
        process_count: u64::try_from(pids.len()).unwrap_or(u64::MAX),
        interfaces,
    })
}
