//! What a pod's cgroups bound beyond its resources: the number of
//! processes of the whole pod (kubelet's `podPidsLimit`), and the devices
//! each container may use.

use peapod_core::{Cgroup, CgroupLimits, DEFAULT_ALLOWED_DEVICES};
use peapod_spec::Container;

use crate::error::{Error, Result};

/// The environment variable setting the pods limit of every pod (its
/// `pids.max`): a number, or `-1` / `max` for no limit (kubelet's
/// `--pod-max-pids`, whose default is no limit).
pub const POD_PIDS_LIMIT_ENV: &str = "PEAPOD_POD_PIDS_LIMIT";

/// peapod's default pods limit: a fork bomb in one pod stops there, far
/// below the host's `kernel.pid_max` (4,194,304 on 64-bit hosts; 32,768
/// on small ones), and far above what a pod of a few services runs.
pub const DEFAULT_POD_PIDS_LIMIT: u64 = 4096;

/// The pod cgroup's limits: `pids.max` from [`POD_PIDS_LIMIT_ENV`], else
/// [`DEFAULT_POD_PIDS_LIMIT`].
pub(crate) fn pod_limits() -> Result<CgroupLimits> {
    Ok(CgroupLimits {
        pids_max: pids_limit(std::env::var(POD_PIDS_LIMIT_ENV).ok().as_deref())?,
        ..CgroupLimits::default()
    })
}

fn pids_limit(value: Option<&str>) -> Result<Option<u64>> {
    match value.map(str::trim) {
        None | Some("") => Ok(Some(DEFAULT_POD_PIDS_LIMIT)),
        Some("-1" | "max") => Ok(None),
        Some(n) => match n.parse::<u64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(Error::Config(format!(
                "{POD_PIDS_LIMIT_ENV}={n:?}: expected a number of processes above 0, -1 or max"
            ))),
        },
    }
}

/// `securityContext.privileged` of the container.
pub(crate) fn privileged(container: &Container) -> bool {
    container
        .security_context
        .as_ref()
        .and_then(|sc| sc.privileged)
        .unwrap_or(false)
}

/// The device cgroup of a container's own cgroup: runc's default devices
/// (v1 files, or a BPF program on v2), or every device for a privileged
/// container.
pub(crate) fn restrict_devices(cgroup: &Cgroup, container: &Container) -> peapod_core::Result<()> {
    if privileged(container) {
        return Ok(());
    }
    cgroup.restrict_devices(DEFAULT_ALLOWED_DEVICES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_limit_defaults_to_4096_and_reads_the_setting() {
        assert_eq!(pids_limit(None).expect("ok"), Some(4096));
        assert_eq!(pids_limit(Some("")).expect("ok"), Some(4096));
        assert_eq!(pids_limit(Some("64")).expect("ok"), Some(64));
        assert_eq!(pids_limit(Some("-1")).expect("ok"), None);
        assert_eq!(pids_limit(Some("max")).expect("ok"), None);
    }

    #[test]
    fn pids_limit_of_zero_or_text_is_refused_naming_the_variable() {
        for bad in ["0", "many", "-5"] {
            let err = pids_limit(Some(bad)).expect_err(bad).to_string();
            assert!(err.contains(POD_PIDS_LIMIT_ENV), "{err}");
        }
    }
}
