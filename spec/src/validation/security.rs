//! Security contexts, as the API server validates them: user and group
//! IDs in range, and the combinations
//! Kubernetes refuses (`allowPrivilegeEscalation: false` with
//! `privileged: true` or with `CAP_SYS_ADMIN` added).

use super::{Doc, Validator};
use crate::pod::PodSpec;
use crate::security::SecurityContext;

/// The largest user or group ID Kubernetes accepts (`IsValidUserID`).
const MAX_ID: i64 = 2_147_483_647;

impl Validator<'_, '_> {
    /// The pod's and every container's security context.
    pub(super) fn security(&mut self, doc: Doc<'_>, spec: &PodSpec) {
        if let Some(sc) = &spec.security_context {
            let ids = [
                ("runAsUser", sc.run_as_user),
                ("runAsGroup", sc.run_as_group),
                ("fsGroup", sc.fs_group),
            ];
            for (field, id) in ids {
                self.id(doc, &format!("spec.securityContext.{field}"), id);
            }
            for (i, g) in sc.supplemental_groups.iter().enumerate() {
                let path = format!("spec.securityContext.supplementalGroups[{i}]");
                self.id(doc, &path, Some(*g));
            }
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
                self.container_security(doc, &format!("{path}.securityContext"), sc);
            }
        }
    }

    fn container_security(&mut self, doc: Doc<'_>, path: &str, sc: &SecurityContext) {
        self.id(doc, &format!("{path}.runAsUser"), sc.run_as_user);
        self.id(doc, &format!("{path}.runAsGroup"), sc.run_as_group);
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

    /// A user or group ID in Kubernetes' range.
    fn id(&mut self, doc: Doc<'_>, path: &str, id: Option<i64>) {
        if let Some(id) = id.filter(|id| !(0..=MAX_ID).contains(id)) {
            self.error(
                doc,
                path,
                format!("{id}: must be between 0 and {MAX_ID}, inclusive"),
            );
        }
    }
}
