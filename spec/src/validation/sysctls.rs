//! `spec.securityContext.sysctls`: the API server's name rules, then the
//! kubelet's admission: only sysctls of the pod's own namespaces
//! (`kernel.shm*`, `kernel.msg*`, `kernel.sem`, `fs.mqueue.*` of its IPC
//! namespace, `net.*` of its net namespace) are written; any other would
//! change the host and is refused with the kubelet's `SysctlForbidden`
//! reason, as are `net.*` with `hostNetwork` and IPC ones with `hostIPC`.
//!
//! A kubelet runs only its safe set ([`SAFE_SYSCTLS`]) unless started with
//! `--allowed-unsafe-sysctls`; peapod runs every namespaced sysctl (whoever
//! writes the manifest is the host's admin) and warns for the others.

use std::collections::BTreeSet;

use super::{Doc, Validator};
use crate::pod::PodSpec;

/// The kubelet's safe sysctls (`pkg/kubelet/sysctl/safe_sysctls.go`):
/// namespaced, and unable to touch other pods or the node.
pub(crate) const SAFE_SYSCTLS: [&str; 12] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];

/// The namespace a sysctl belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Namespace {
    Ipc,
    Net,
}

/// `name` with dots between components (a `/`-separated name has its
/// separators and dots swapped, as the kubelet converts it).
fn dotted(name: &str) -> String {
    if name
        .find(['.', '/'])
        .is_some_and(|i| name[i..].starts_with('/'))
    {
        name.chars()
            .map(|c| match c {
                '/' => '.',
                '.' => '/',
                c => c,
            })
            .collect()
    } else {
        name.to_owned()
    }
}

/// The kubelet's namespaced groups (`pkg/kubelet/sysctl/namespace.go`).
fn namespace_of(dotted: &str) -> Option<Namespace> {
    let ipc = dotted == "kernel.sem"
        || dotted.starts_with("kernel.shm")
        || dotted.starts_with("kernel.msg")
        || dotted.starts_with("fs.mqueue.");
    if ipc {
        Some(Namespace::Ipc)
    } else if dotted.starts_with("net.") {
        Some(Namespace::Net)
    } else {
        None
    }
}

/// The API server's sysctl name: lower-case alphanumeric words with `-`
/// or `_` inside, joined by `.` or `/`, at most 253 characters.
fn valid_name(name: &str) -> bool {
    let word = |w: &str| {
        let b = w.as_bytes();
        let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        b.first().is_some_and(edge)
            && b.last().is_some_and(edge)
            && b.iter().all(|c| edge(c) || *c == b'-' || *c == b'_')
    };
    name.len() <= 253 && name.split(['.', '/']).all(word)
}

impl Validator<'_, '_> {
    pub(super) fn sysctls(&mut self, doc: Doc<'_>, spec: &PodSpec) {
        let Some(sc) = &spec.security_context else {
            return;
        };
        let mut seen = BTreeSet::new();
        for (i, sysctl) in sc.sysctls.iter().enumerate() {
            let path = format!("spec.securityContext.sysctls[{i}].name");
            let name = sysctl.name.as_str();
            if name.is_empty() {
                self.error(doc, &path, "required value");
                continue;
            }
            if !valid_name(name) {
                let message = format!(
                    "invalid value {name:?}: expected a sysctl name: lower-case words of a-z, 0-9, '-' or '_' joined by '.' or '/'"
                );
                self.error(doc, &path, message);
                continue;
            }
            let dotted = dotted(name);
            if !seen.insert(dotted.clone()) {
                self.error(doc, &path, format!("duplicate sysctl {name:?}"));
            }
            let forbidden =
                |why: &str| format!("SysctlForbidden: forbidden sysctl: {name:?} {why}");
            match namespace_of(&dotted) {
                None => {
                    let message = forbidden(
                        "not allowlisted: not namespaced, it would change the host (allowed: kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.*)",
                    );
                    self.error(doc, &path, message);
                }
                Some(Namespace::Net) if spec.host_network == Some(true) => {
                    self.error(doc, &path, forbidden("not allowed with host net enabled"));
                }
                Some(Namespace::Ipc) if spec.host_ipc == Some(true) => {
                    self.error(doc, &path, forbidden("not allowed with host ipc enabled"));
                }
                Some(_) if !SAFE_SYSCTLS.contains(&dotted.as_str()) => {
                    let message = format!(
                        "unsafe sysctl {name:?}: a kubelet sets it only when started with --allowed-unsafe-sysctls; peapod sets it in the pod's namespaces"
                    );
                    self.warn(doc, &path, message);
                }
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaced_groups_are_the_kubelets() {
        assert_eq!(namespace_of("kernel.shm_rmid_forced"), Some(Namespace::Ipc));
        assert_eq!(namespace_of("kernel.msgmax"), Some(Namespace::Ipc));
        assert_eq!(namespace_of("kernel.sem"), Some(Namespace::Ipc));
        assert_eq!(namespace_of("fs.mqueue.queues_max"), Some(Namespace::Ipc));
        assert_eq!(namespace_of("net.ipv4.ip_forward"), Some(Namespace::Net));
        for host in [
            "kernel.panic",
            "kernel.semaphore",
            "vm.swappiness",
            "fs.file-max",
        ] {
            assert_eq!(namespace_of(host), None, "{host}");
        }
    }

    #[test]
    fn slashed_names_are_read_as_dotted() {
        assert_eq!(
            dotted("net/ipv4/conf/eth0.100/forwarding"),
            "net.ipv4.conf.eth0/100.forwarding"
        );
        assert_eq!(dotted("kernel.shm_rmid_forced"), "kernel.shm_rmid_forced");
    }

    #[test]
    fn names_follow_the_api_servers_rule() {
        assert!(valid_name("net.ipv4.ip_unprivileged_port_start"));
        assert!(valid_name("net/ipv4/conf/eth0.100/forwarding"));
        for bad in [
            "Net.ipv4",
            "net..ipv4",
            "net.ipv4.",
            "-net",
            "net.ip v4",
            "net.ipv4_",
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
