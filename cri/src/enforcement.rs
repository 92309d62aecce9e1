//! Whether peapod can honour a field of the CRI's requests that it has no
//! setting of its own for: the values it does honour pass, the others are
//! refused naming the field. Fields a kubelet sends with every pod and
//! peapod cannot apply (refusing them would refuse every pod) are taken,
//! and said once a `serve` on its stderr (its log), naming the field and
//! what happens instead; README's CRI section lists them.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use tonic::Status;

use crate::api;
use crate::to_engine::unsupported;

static WARNED: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

/// Logs `field` and `why` the first time a request carries it.
pub(crate) fn warn_once(field: &'static str, why: &str) {
    let first = WARNED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(field);
    if first {
        eprintln!("peapod serve: warning: {field} is not enforced: {why} (said once)");
    }
}

/// Whether the host enforces AppArmor profiles (the kernel's module
/// enabled): where it does not, `RuntimeDefault` has nothing to apply on
/// any runtime.
pub(crate) fn apparmor_enabled() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|v| v.trim() == "Y")
}

/// Whether the host has SELinux (its filesystem mounted).
pub(crate) fn selinux_enabled() -> bool {
    std::path::Path::new("/sys/fs/selinux/enforce").exists()
}

/// The swap settings a kubelet sends when swap is off (its `NoSwap`):
/// v1 `memory_swap_limit_in_bytes` equal to the memory limit, v2
/// `unified["memory.swap.max"] = "0"` — what peapod does for a container
/// with a memory limit (memsw = limit, `memory.swap.max` 0). Any other
/// swap limit, and any other `unified` key, is refused.
pub(crate) fn swap(r: &api::LinuxContainerResources) -> Result<(), Status> {
    let limited = r.memory_limit_in_bytes > 0;
    if r.memory_swap_limit_in_bytes != 0
        && !(limited && r.memory_swap_limit_in_bytes == r.memory_limit_in_bytes)
    {
        return Err(Status::invalid_argument(format!(
            "resources.memory_swap_limit_in_bytes {}: peapod gives a container no swap \
             beyond its memory limit ({}): set it equal, or leave it 0",
            r.memory_swap_limit_in_bytes, r.memory_limit_in_bytes
        )));
    }
    for (key, value) in &r.unified {
        if key != "memory.swap.max" || value != "0" {
            return Err(unsupported(
                &format!("resources.unified[{key:?}]"),
                "cgroup v2 files by name are not supported (only memory.swap.max = 0)",
            ));
        }
        if !limited {
            warn_once(
                "resources.unified[\"memory.swap.max\"] of a container without a memory limit",
                "only a container with a memory limit gets memory.swap.max 0",
            );
        }
    }
    Ok(())
}

/// `Strict` supplemental groups (the image's /etc/group left out) are
/// not supported; `Merge` is what peapod does.
pub(crate) fn strict_groups(at: &str, policy: i32) -> Result<(), Status> {
    if policy == api::SupplementalGroupsPolicy::Strict as i32 {
        return Err(unsupported(
            &format!("{at}.supplemental_groups_policy"),
            "Strict is not supported (peapod merges the image's groups)",
        ));
    }
    Ok(())
}

/// AppArmor: a `Localhost` profile is refused; `RuntimeDefault` is said
/// once where the host enforces AppArmor (peapod loads no profile), and
/// is nothing to apply where it does not.
pub(crate) fn apparmor(at: &'static str, p: Option<&api::SecurityProfile>) -> Result<(), Status> {
    use api::security_profile::ProfileType;
    match p.map(|p| ProfileType::try_from(p.profile_type)) {
        None | Some(Ok(ProfileType::Unconfined)) => Ok(()),
        Some(Ok(ProfileType::RuntimeDefault)) => {
            if apparmor_enabled() {
                warn_once(
                    at,
                    "RuntimeDefault: peapod loads no AppArmor profile; seccomp, capabilities \
                     and the masked paths still apply",
                );
            }
            Ok(())
        }
        _ => Err(unsupported(at, "AppArmor profiles are not supported")),
    }
}

/// The kubelet's `masked_paths`/`readonly_paths`: the runtime's defaults
/// (procMount `Default`), which peapod applies to every container not
/// privileged. Empty lists are the defaults too, as containerd reads
/// them (an empty repeated field does not travel). A path peapod does not
/// mask is refused.
pub(crate) fn masked_paths(s: &api::LinuxContainerSecurityContext) -> Result<(), Status> {
    let check = |field: &str, paths: &[String], ours: &[&str]| match paths
        .iter()
        .find(|p| !ours.contains(&p.as_str()))
    {
        Some(p) => Err(Status::invalid_argument(format!(
            "{field}: {p:?} is not one of the paths peapod masks ({})",
            ours.join(", ")
        ))),
        None => Ok(()),
    };
    check("masked_paths", &s.masked_paths, peapod_core::MASKED_PATHS)?;
    check(
        "readonly_paths",
        &s.readonly_paths,
        peapod_core::READONLY_PATHS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources(memory: i64, swap_limit: i64) -> api::LinuxContainerResources {
        api::LinuxContainerResources {
            memory_limit_in_bytes: memory,
            memory_swap_limit_in_bytes: swap_limit,
            ..api::LinuxContainerResources::default()
        }
    }

    #[test]
    fn swap_off_as_a_kubelet_sends_it_passes_and_any_swap_is_refused() {
        // v1: memsw equal to the limit, or nothing.
        assert!(swap(&resources(128 << 20, 128 << 20)).is_ok());
        assert!(swap(&resources(0, 0)).is_ok());
        let more = swap(&resources(128 << 20, 256 << 20)).expect_err("refused");
        assert_eq!(more.code(), tonic::Code::InvalidArgument);
        assert!(
            more.message()
                .starts_with("resources.memory_swap_limit_in_bytes")
        );
        assert!(swap(&resources(0, 64 << 20)).is_err());
        // v2: memory.swap.max 0, and nothing else by name.
        let mut r = resources(128 << 20, 0);
        r.unified.insert("memory.swap.max".into(), "0".into());
        assert!(swap(&r).is_ok());
        r.unified.insert("memory.swap.max".into(), "1G".into());
        assert_eq!(
            swap(&r).expect_err("refused").code(),
            tonic::Code::Unimplemented
        );
        let mut r = resources(0, 0);
        r.unified.insert("memory.high".into(), "1G".into());
        assert!(
            swap(&r)
                .expect_err("refused")
                .message()
                .contains("memory.high")
        );
    }

    #[test]
    fn masked_paths_beyond_peapods_are_refused_naming_the_path() {
        let mut s = api::LinuxContainerSecurityContext {
            masked_paths: peapod_core::MASKED_PATHS
                .iter()
                .map(ToString::to_string)
                .collect(),
            readonly_paths: peapod_core::READONLY_PATHS
                .iter()
                .map(ToString::to_string)
                .collect(),
            ..api::LinuxContainerSecurityContext::default()
        };
        assert!(masked_paths(&s).is_ok());
        s.masked_paths.push("/proc/cpuinfo".into());
        let refused = masked_paths(&s).expect_err("refused");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(
            refused.message().contains("\"/proc/cpuinfo\""),
            "{refused:?}"
        );
        // None sent: the defaults, as containerd takes it.
        assert!(masked_paths(&api::LinuxContainerSecurityContext::default()).is_ok());
    }

    #[test]
    fn strict_supplemental_groups_and_localhost_apparmor_are_refused() {
        let strict = api::SupplementalGroupsPolicy::Strict as i32;
        assert!(strict_groups("security_context", strict).is_err());
        assert!(strict_groups("security_context", 0).is_ok());
        let localhost = api::SecurityProfile {
            profile_type: api::security_profile::ProfileType::Localhost as i32,
            localhost_ref: "p".into(),
        };
        let refused = apparmor("apparmor", Some(&localhost)).expect_err("refused");
        assert_eq!(refused.code(), tonic::Code::Unimplemented);
        let default = api::SecurityProfile {
            profile_type: api::security_profile::ProfileType::RuntimeDefault as i32,
            localhost_ref: String::new(),
        };
        assert!(apparmor("apparmor", Some(&default)).is_ok());
        assert!(apparmor("apparmor", None).is_ok());
    }
}
