//! Security contexts, as the API server validates them: user and group
//! IDs in range, the combinations
//! Kubernetes refuses (`allowPrivilegeEscalation: false` with
//! `privileged: true` or with `CAP_SYS_ADMIN` added), and
//! `seccompProfile.localhostProfile` (set exactly with `type: Localhost`, a
//! relative path without `..`).

use super::{Doc, Validator};
use crate::pod::PodSpec;
use crate::security::{SeccompProfile, SeccompProfileType, SecurityContext};

/// The largest user or group ID Kubernetes accepts (`IsValidUserID`).
const MAX_ID: i64 = 2_147_483_647;

/// The largest ID of a pod's own user namespace (`hostUsers: false`: 65,536
/// ids mapped); a larger one has no host id and `setuid` would fail.
const MAX_USERNS_ID: i64 = 65_535;

impl Validator<'_, '_> {
    /// The pod's and every container's security context.
    pub(super) fn security(&mut self, doc: Doc<'_>, spec: &PodSpec) {
        let max = if spec.host_users == Some(false) {
            MAX_USERNS_ID
        } else {
            MAX_ID
        };
        if let Some(sc) = &spec.security_context {
            let ids = [
                ("runAsUser", sc.run_as_user),
                ("runAsGroup", sc.run_as_group),
                ("fsGroup", sc.fs_group),
            ];
            for (field, id) in ids {
                self.id(doc, &format!("spec.securityContext.{field}"), id, max);
            }
            for (i, g) in sc.supplemental_groups.iter().enumerate() {
                let path = format!("spec.securityContext.supplementalGroups[{i}]");
                self.id(doc, &path, Some(*g), max);
            }
            self.seccomp_profile(
                doc,
                "spec.securityContext.seccompProfile",
                sc.seccomp_profile.as_ref(),
            );
        }
        let all = spec
            .init_containers
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("spec.initContainers[{i}]"), c))
            .chain(
                spec.containers
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (format!("spec.containers[{i}]"), c)),
            );
        for (path, container) in all {
            if let Some(sc) = &container.security_context {
                self.container_security(doc, &format!("{path}.securityContext"), sc, max);
            }
        }
    }

    fn container_security(&mut self, doc: Doc<'_>, path: &str, sc: &SecurityContext, max: i64) {
        self.id(doc, &format!("{path}.runAsUser"), sc.run_as_user, max);
        self.id(doc, &format!("{path}.runAsGroup"), sc.run_as_group, max);
        self.seccomp_profile(
            doc,
            &format!("{path}.seccompProfile"),
            sc.seccomp_profile.as_ref(),
        );
        // Kubernetes compares with `CAP_SYS_ADMIN` only; peapod takes
        // capability names with or without the prefix, so both.
        let adds_sys_admin = sc.capabilities.as_ref().is_some_and(|caps| {
            caps.add.iter().any(|name| {
                let upper = name.to_ascii_uppercase();
                upper.strip_prefix("CAP_").unwrap_or(&upper) == "SYS_ADMIN"
            })
        });
        if sc.allow_privilege_escalation == Some(false) {
            if sc.privileged == Some(true) {
                self.error(
                    doc,
                    path,
                    "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
                );
            }
            if adds_sys_admin {
                self.error(
                    doc,
                    path,
                    "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
                );
            }
        }
    }

    /// `localhostProfile` with `type: Localhost` only, relative and
    /// without `..` (the API server's `ValidateSeccompProfileField`).
    fn seccomp_profile(&mut self, doc: Doc<'_>, path: &str, profile: Option<&SeccompProfile>) {
        let Some(profile) = profile else { return };
        let file = profile.localhost_profile.as_deref();
        let field = format!("{path}.localhostProfile");
        match (profile.type_, file) {
            (SeccompProfileType::Localhost, None | Some("")) => {
                self.error(
                    doc,
                    path,
                    "`localhostProfile` must be set when `type` is Localhost",
                );
            }
            (SeccompProfileType::Localhost, Some(file)) => {
                let escapes = file.starts_with('/') || file.split('/').any(|part| part == "..");
                if escapes {
                    self.error(
                        doc,
                        &field,
                        format!("{file:?}: must be a relative path without `..`"),
                    );
                }
            }
            (_, Some(_)) => {
                self.error(doc, &field, "can only be set when `type` is Localhost");
            }
            (_, None) => {}
        }
    }

    /// A user or group ID in Kubernetes' range, or in the pod's user
    /// namespace (`max`).
    fn id(&mut self, doc: Doc<'_>, path: &str, id: Option<i64>, max: i64) {
        if let Some(id) = id.filter(|id| !(0..=max).contains(id)) {
            let within = if max == MAX_USERNS_ID {
                " in the pod's user namespace (hostUsers: false)"
            } else {
                ""
            };
            self.error(
                doc,
                path,
                format!("{id}: must be between 0 and {max}, inclusive{within}"),
            );
        }
    }
}
