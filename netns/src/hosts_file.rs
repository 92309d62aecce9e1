//! `/etc/hosts` of a pod, in the kubelet's exact format
//! (`pkg/kubelet/kubelet_pods.go`: `managedHostsFileContent`,
//! `hostsEntriesFromHostAliases`).

use std::fmt::Write as _;
use std::net::IpAddr;

/// The localhost lines every kubelet-managed hosts file starts with.
const LOCALHOST_LINES: &str = "127.0.0.1\tlocalhost\n\
::1\tlocalhost ip6-localhost ip6-loopback\n\
fe00::0\tip6-localnet\n\
fe00::0\tip6-mcastprefix\n\
fe00::1\tip6-allnodes\n\
fe00::2\tip6-allrouters\n";

/// One `hostAliases` entry: an address and its names, in manifest order.
pub type HostAlias = (IpAddr, Vec<String>);

/// `/etc/hosts` of a pod with its own network namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostsFile {
    /// The pod's addresses (`status.podIPs`); one line each.
    pub pod_ips: Vec<IpAddr>,
    /// `spec.hostname`, or else the pod name (at most 63 bytes).
    pub hostname: String,
    /// `spec.subdomain`, when set: the pod line then carries the FQDN.
    pub subdomain: Option<String>,
    /// `metadata.namespace`.
    pub namespace: String,
    /// The cluster domain, `cluster.local` by default.
    pub cluster_domain: String,
    /// `spec.hostAliases`, in order.
    pub aliases: Vec<HostAlias>,
}

impl HostsFile {
    /// The file's content, byte for byte what a kubelet writes.
    pub fn render(&self) -> String {
        let mut out = String::from("# Kubernetes-managed hosts file.\n");
        out.push_str(LOCALHOST_LINES);
        for ip in &self.pod_ips {
            match self.subdomain.as_deref().filter(|s| !s.is_empty()) {
                Some(subdomain) => {
                    let _ = writeln!(
                        out,
                        "{ip}\t{host}.{subdomain}.{ns}.svc.{domain}\t{host}",
                        host = self.hostname,
                        ns = self.namespace,
                        domain = self.cluster_domain,
                    );
                }
                None => {
                    let _ = writeln!(out, "{ip}\t{}", self.hostname);
                }
            }
        }
        push_aliases(&mut out, &self.aliases);
        out
    }
}

/// `/etc/hosts` of a `hostNetwork: true` pod: the host's own file, then
/// the aliases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostNetworkHostsFile {
    /// The content of the host's `/etc/hosts`, as read.
    pub host_hosts: String,
    /// `spec.hostAliases`, in order.
    pub aliases: Vec<HostAlias>,
}

impl HostNetworkHostsFile {
    /// The file's content, byte for byte what a kubelet writes.
    pub fn render(&self) -> String {
        let mut out = String::from("# Kubernetes-managed hosts file (host network).\n");
        out.push_str(&self.host_hosts);
        push_aliases(&mut out, &self.aliases);
        out
    }
}

/// The blank line, the HostAliases header and one TAB-joined line per
/// alias; nothing at all without aliases.
fn push_aliases(out: &mut String, aliases: &[HostAlias]) {
    if aliases.is_empty() {
        return;
    }
    out.push_str("\n# Entries added by HostAliases.\n");
    for (ip, hostnames) in aliases {
        let _ = writeln!(out, "{ip}\t{}", hostnames.join("\t"));
    }
}

/// `/etc/hostname` of a pod: the hostname and a newline.
pub fn hostname_file(hostname: &str) -> String {
    format!("{hostname}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_001() -> HostsFile {
        HostsFile {
            pod_ips: vec!["172.172.1.41".parse().unwrap()],
            hostname: "my-first-test".into(),
            subdomain: None,
            namespace: "default".into(),
            cluster_domain: "cluster.local".into(),
            aliases: vec![(
                "10.9.8.7".parse().unwrap(),
                vec!["host.test.site".into(), "host.aliases.test.site".into()],
            )],
        }
    }

    #[test]
    fn hosts_file_matches_seed_001_byte_for_byte() {
        let expected = "# Kubernetes-managed hosts file.\n\
127.0.0.1\tlocalhost\n\
::1\tlocalhost ip6-localhost ip6-loopback\n\
fe00::0\tip6-localnet\n\
fe00::0\tip6-mcastprefix\n\
fe00::1\tip6-allnodes\n\
fe00::2\tip6-allrouters\n\
172.172.1.41\tmy-first-test\n\
\n\
# Entries added by HostAliases.\n\
10.9.8.7\thost.test.site\thost.aliases.test.site\n";
        assert_eq!(seed_001().render(), expected);
    }

    #[test]
    fn hosts_file_without_aliases_has_no_alias_block() {
        let file = HostsFile {
            aliases: vec![],
            ..seed_001()
        };
        let text = file.render();
        assert!(text.ends_with("fe00::2\tip6-allrouters\n172.172.1.41\tmy-first-test\n"));
        assert!(!text.contains("HostAliases"));
    }

    #[test]
    fn hosts_file_with_subdomain_lists_fqdn_then_hostname() {
        let file = HostsFile {
            subdomain: Some("web".into()),
            namespace: "shop".into(),
            aliases: vec![],
            ..seed_001()
        };
        assert!(
            file.render().ends_with(
                "172.172.1.41\tmy-first-test.web.shop.svc.cluster.local\tmy-first-test\n"
            )
        );
    }

    #[test]
    fn hosts_file_lists_aliases_after_pod_ip() {
        let mut file = seed_001();
        file.aliases
            .push(("fd00::1".parse().unwrap(), vec!["six.test".into()]));
        let text = file.render();
        let pod = text.find("my-first-test").unwrap();
        let alias = text.find("10.9.8.7").unwrap();
        assert!(pod < alias);
        assert!(text.ends_with("fd00::1\tsix.test\n"));
    }

    #[test]
    fn host_network_hosts_file_keeps_host_content_then_aliases() {
        let file = HostNetworkHostsFile {
            host_hosts: "127.0.0.1\tlocalhost\n10.0.0.5\tbox\n".into(),
            aliases: seed_001().aliases,
        };
        assert_eq!(
            file.render(),
            "# Kubernetes-managed hosts file (host network).\n\
127.0.0.1\tlocalhost\n10.0.0.5\tbox\n\
\n# Entries added by HostAliases.\n10.9.8.7\thost.test.site\thost.aliases.test.site\n"
        );
    }

    #[test]
    fn host_network_hosts_file_without_aliases_is_header_and_host_file() {
        let file = HostNetworkHostsFile {
            host_hosts: "127.0.0.1 localhost\n".into(),
            aliases: vec![],
        };
        assert_eq!(
            file.render(),
            "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n"
        );
    }

    #[test]
    fn hostname_file_is_name_and_newline() {
        assert_eq!(hostname_file("my-first-test"), "my-first-test\n");
    }
}
