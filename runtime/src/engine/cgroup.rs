//! The cgroups of a sandbox and its containers.

use std::path::{Path, PathBuf};

use peapod_core::{Cgroup, CgroupHierarchy};
use peapod_spec::Container;

use crate::cgroup_boundary;
use crate::container_process;
use crate::error::{Error, Result};
use crate::state::PodDir;
use crate::teardown;

use super::{config, record};

/// Creates the cgroup `peapod-<uid>` of sandbox `name` (in `parent`, a
/// cgroup that exists, when given) with the pod's limits (the pids limit,
/// [`cgroup_boundary::pod_limits`]); on a failed limit the cgroup is
/// removed again.
pub(crate) fn sandbox_cgroup(name: &str, uid: &str, parent: Option<&Path>) -> Result<Cgroup> {
    let limits = cgroup_boundary::pod_limits()?;
    let fail = |e: peapod_core::Error| Error::pod(name, e);
    let rel = parent
        .map_or_else(PathBuf::new, Path::to_path_buf)
        .join(teardown::cgroup_name(uid));
    let cgroup = CgroupHierarchy::detect()
        .and_then(|h| h.create(rel))
        .map_err(fail)?;
    if let Err(e) = cgroup.set_limits(&limits) {
        let _ = cgroup.remove(teardown::CGROUP_TIMEOUT);
        return Err(fail(e));
    }
    Ok(cgroup)
}

/// The cgroup of the pod in `dir` whose uid is `uid`, relative to each
/// hierarchy's root: `peapod-<uid>`, below the cgroup parent an engine
/// caller gave its sandbox (a CRI `cgroup_parent`, kept in its
/// `sandbox.json`), at the root for a pod of `apply`'s.
pub(crate) fn recorded_cgroup(dir: &PodDir, uid: &str) -> Result<PathBuf> {
    let parent = match record::read(dir)?.and_then(|r| r.config.cgroup_parent) {
        Some(p) => config::cgroup_parent(&p)?,
        None => PathBuf::new(),
    };
    Ok(parent.join(teardown::cgroup_name(uid)))
}

/// Gives `cgroup` the limits of `container` (cpu, memory, ...) and its
/// device rules (runc's default devices unless privileged).
pub(crate) fn limit_container(cgroup: &Cgroup, container: &Container) -> peapod_core::Result<()> {
    cgroup.set_limits(&container_process::cgroup_limits(container))?;
    cgroup_boundary::restrict_devices(cgroup, container)
}
