//! `spec.securityContext.sysctls` and `procMount` at validation: only the
//! pod's namespaced sysctls pass (kubelet's `SysctlForbidden` for the
//! others, and for `net.*` with `hostNetwork`), unsafe ones warn, and
//! `procMount: Unmasked` needs `hostUsers: false`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::fmt::Write as _;

use peapod_spec::{ValidationMode, parse_manifest};

fn pod(spec_lines: &str, container_lines: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n{spec_lines}  containers:\n  - name: app\n    image: nginx:1.25\n{container_lines}"
    )
}

/// (errors, warnings) of a manifest, as `file:line:col: path: message`.
fn findings(source: &str) -> (Vec<String>, Vec<String>) {
    match parse_manifest(source, "pod.yaml", ValidationMode::Strict) {
        Ok(m) => (
            Vec::new(),
            m.warnings.iter().map(ToString::to_string).collect(),
        ),
        Err(d) => (
            d.errors.iter().map(ToString::to_string).collect(),
            d.warnings.iter().map(ToString::to_string).collect(),
        ),
    }
}

fn sysctls(host_network: bool, names: &[&str]) -> String {
    let mut spec = String::new();
    if host_network {
        spec.push_str("  hostNetwork: true\n");
    }
    spec.push_str("  securityContext:\n    sysctls:\n");
    for name in names {
        writeln!(spec, "    - name: {name}\n      value: \"1\"").unwrap();
    }
    pod(&spec, "")
}

#[test]
fn safe_namespaced_sysctls_pass_without_a_word() {
    let (errors, warnings) = findings(&sysctls(
        false,
        &[
            "kernel.shm_rmid_forced",
            "net.ipv4.ip_unprivileged_port_start",
        ],
    ));
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(warnings, Vec::<String>::new());
}

#[test]
fn a_host_sysctl_is_forbidden_naming_file_line_and_field() {
    let (errors, _) = findings(&sysctls(false, &["kernel.panic", "vm.swappiness"]));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with(
            "pod.yaml:8:7: spec.securityContext.sysctls[0].name: SysctlForbidden: forbidden sysctl: \"kernel.panic\" not allowlisted"
        ),
        "{errors:?}"
    );
    assert!(errors[1].contains("sysctls[1].name") && errors[1].contains("vm.swappiness"));
}

#[test]
fn net_sysctls_are_forbidden_with_host_network() {
    let (errors, _) = findings(&sysctls(true, &["net.ipv4.ip_unprivileged_port_start"]));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].ends_with(
            "SysctlForbidden: forbidden sysctl: \"net.ipv4.ip_unprivileged_port_start\" not allowed with host net enabled"
        ),
        "{errors:?}"
    );
}

#[test]
fn unsafe_namespaced_sysctls_pass_with_a_warning() {
    let (errors, warnings) = findings(&sysctls(false, &["kernel.msgmax", "net.core.somaxconn"]));
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("--allowed-unsafe-sysctls"),
        "{warnings:?}"
    );
}

#[test]
fn bad_and_duplicate_names_are_errors() {
    let (errors, _) = findings(&sysctls(false, &["Kernel.sem", "kernel.sem", "kernel/sem"]));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("sysctls[0].name: invalid value \"Kernel.sem\""),
        "{errors:?}"
    );
    assert!(
        errors[1].contains("sysctls[2].name: duplicate sysctl"),
        "{errors:?}"
    );
}

#[test]
fn unmasked_proc_mount_needs_a_user_namespace() {
    let unmasked = "    securityContext:\n      procMount: Unmasked\n";
    let (errors, _) = findings(&pod("", unmasked));
    assert_eq!(
        errors,
        [
            "pod.yaml:10:7: spec.containers[0].securityContext.procMount: invalid value \"Unmasked\": `hostUsers` must be false to use `Unmasked`"
        ]
    );
    let (errors, warnings) = findings(&pod("  hostUsers: false\n", unmasked));
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(warnings, Vec::<String>::new());
}
