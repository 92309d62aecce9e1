//! `/etc/resolv.conf` of a pod, by `dnsPolicy`, in the format the CRI
//! runtimes write (`search`, then `nameserver` lines, then `options`).

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The host's resolver file.
pub const HOST_RESOLV_CONF: &str = "/etc/resolv.conf";
/// The real upstream servers when systemd-resolved runs its stub.
pub const SYSTEMD_RESOLVED_UPSTREAM: &str = "/run/systemd/resolve/resolv.conf";
/// The address of systemd-resolved's local stub.
const RESOLVED_STUB: &str = "127.0.0.53";

/// `spec.dnsPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DnsPolicy {
    /// The cluster's DNS, or the host's resolver when there is none.
    #[default]
    ClusterFirst,
    /// As `ClusterFirst`, also for `hostNetwork` pods.
    ClusterFirstWithHostNet,
    /// The host's resolver.
    Default,
    /// Only what `dnsConfig` says.
    None,
}

/// `spec.dnsConfig`: merged into what the policy gives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsConfig {
    /// `nameservers`, appended (duplicates dropped).
    pub nameservers: Vec<String>,
    /// `searches`, appended (duplicates dropped).
    pub searches: Vec<String>,
    /// `options` as `(name, value)`; an option of the same name replaces
    /// the policy's.
    pub options: Vec<(String, Option<String>)>,
}

/// What decides a pod's `/etc/resolv.conf`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResolvConf {
    /// `spec.dnsPolicy`.
    pub dns_policy: DnsPolicy,
    /// `spec.dnsConfig`, if any.
    pub dns_config: Option<DnsConfig>,
    /// The cluster DNS servers; empty on a host without a cluster.
    pub cluster_dns: Vec<IpAddr>,
    /// The cluster domain, `cluster.local` by default.
    pub cluster_domain: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `spec.hostNetwork`: loopback servers of the host stay usable.
    pub host_network: bool,
}

/// A parsed resolver file.
#[derive(Debug, Default)]
struct Resolver {
    nameservers: Vec<String>,
    searches: Vec<String>,
    options: Vec<(String, Option<String>)>,
}

impl Resolver {
    /// Reads `nameserver`, `search`/`domain` and `options` lines; the last
    /// `search` wins, as in glibc.
    fn parse(text: &str) -> Self {
        let mut resolver = Self::default();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => resolver.nameservers.extend(words.next().map(str::to_owned)),
                Some("search" | "domain") => resolver.searches = words.map(str::to_owned).collect(),
                Some("options") => {
                    for word in words {
                        merge_option(&mut resolver.options, parse_option(word));
                    }
                }
                _ => {}
            }
        }
        resolver
    }

    fn merge(&mut self, config: &DnsConfig) {
        push_unique(&mut self.nameservers, &config.nameservers);
        push_unique(&mut self.searches, &config.searches);
        for option in &config.options {
            merge_option(&mut self.options, option.clone());
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        if !self.searches.is_empty() {
            let _ = writeln!(out, "search {}", self.searches.join(" "));
        }
        for server in &self.nameservers {
            let _ = writeln!(out, "nameserver {server}");
        }
        if !self.options.is_empty() {
            let options: Vec<String> = self
                .options
                .iter()
                .map(|(name, value)| match value {
                    Some(value) => format!("{name}:{value}"),
                    None => name.clone(),
                })
                .collect();
            let _ = writeln!(out, "options {}", options.join(" "));
        }
        out
    }
}

fn parse_option(word: &str) -> (String, Option<String>) {
    match word.split_once(':') {
        Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
        None => (word.to_owned(), None),
    }
}

fn merge_option(options: &mut Vec<(String, Option<String>)>, option: (String, Option<String>)) {
    match options.iter_mut().find(|(name, _)| *name == option.0) {
        Some(existing) => *existing = option,
        None => options.push(option),
    }
}

fn push_unique(list: &mut Vec<String>, more: &[String]) {
    for item in more {
        if !list.contains(item) {
            list.push(item.clone());
        }
    }
}

fn is_loopback(server: &str) -> bool {
    server.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl ResolvConf {
    /// The file's content. `host_resolv_conf` is the host's resolver file
    /// as [`read_host_resolv_conf`] returns it.
    pub fn render(&self, host_resolv_conf: &str) -> String {
        let mut resolver = match self.dns_policy {
            DnsPolicy::None => Resolver::default(),
            DnsPolicy::ClusterFirst if self.host_network => self.host(host_resolv_conf),
            DnsPolicy::ClusterFirst | DnsPolicy::ClusterFirstWithHostNet
                if !self.cluster_dns.is_empty() =>
            {
                self.cluster(host_resolv_conf)
            }
            DnsPolicy::ClusterFirst | DnsPolicy::ClusterFirstWithHostNet | DnsPolicy::Default => {
                self.host(host_resolv_conf)
            }
        };
        if let Some(config) = &self.dns_config {
            resolver.merge(config);
        }
        resolver.render()
    }

    /// The host's resolver, without loopback servers a pod with its own
    /// network namespace cannot reach.
    fn host(&self, host_resolv_conf: &str) -> Resolver {
        let mut resolver = Resolver::parse(host_resolv_conf);
        if !self.host_network {
            resolver.nameservers.retain(|server| !is_loopback(server));
        }
        resolver
    }

    /// The cluster DNS with the kubelet's search path and `ndots:5`.
    fn cluster(&self, host_resolv_conf: &str) -> Resolver {
        let domain = &self.cluster_domain;
        let mut searches = vec![
            format!("{}.svc.{domain}", self.namespace),
            format!("svc.{domain}"),
            domain.clone(),
        ];
        push_unique(&mut searches, &Resolver::parse(host_resolv_conf).searches);
        Resolver {
            nameservers: self.cluster_dns.iter().map(ToString::to_string).collect(),
            searches,
            options: vec![("ndots".into(), Some("5".into()))],
        }
    }
}

/// Reads the host's resolver file the way podman does: when
/// `/etc/resolv.conf` points at systemd-resolved's stub (127.0.0.53), the
/// upstream servers in `/run/systemd/resolve/resolv.conf` are used instead.
pub fn read_host_resolv_conf() -> Result<String> {
    read_resolv_conf_from(
        Path::new(HOST_RESOLV_CONF),
        Path::new(SYSTEMD_RESOLVED_UPSTREAM),
    )
}

/// [`read_host_resolv_conf`] with both paths given.
pub fn read_resolv_conf_from(etc: &Path, resolved_upstream: &Path) -> Result<String> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| Error::file(PathBuf::from(path), source))
    };
    let text = match read(etc) {
        Ok(text) => text,
        Err(Error::File { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(String::new());
        }
        Err(error) => return Err(error),
    };
    let uses_stub = Resolver::parse(&text)
        .nameservers
        .iter()
        .any(|server| server == RESOLVED_STUB);
    if uses_stub && resolved_upstream.exists() {
        return read(resolved_upstream);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "# generated\nnameserver 192.0.2.1\nnameserver 127.0.0.1\nsearch example.org corp\noptions edns0 ndots:2\n";

    fn conf(policy: DnsPolicy) -> ResolvConf {
        ResolvConf {
            dns_policy: policy,
            cluster_domain: "cluster.local".into(),
            namespace: "default".into(),
            ..ResolvConf::default()
        }
    }

    #[test]
    fn default_policy_uses_host_servers_without_loopback() {
        assert_eq!(
            conf(DnsPolicy::Default).render(HOST),
            "search example.org corp\nnameserver 192.0.2.1\noptions edns0 ndots:2\n"
        );
    }

    #[test]
    fn host_network_keeps_loopback_servers() {
        let mut c = conf(DnsPolicy::Default);
        c.host_network = true;
        assert!(c.render(HOST).contains("nameserver 127.0.0.1\n"));
    }

    #[test]
    fn cluster_first_without_cluster_dns_falls_back_to_host() {
        assert_eq!(
            conf(DnsPolicy::ClusterFirst).render(HOST),
            conf(DnsPolicy::Default).render(HOST)
        );
    }

    #[test]
    fn cluster_first_with_cluster_dns_uses_kubelet_search_path() {
        let mut c = conf(DnsPolicy::ClusterFirst);
        c.cluster_dns = vec!["10.96.0.10".parse().unwrap()];
        assert_eq!(
            c.render(HOST),
            "search default.svc.cluster.local svc.cluster.local cluster.local example.org corp\n\
nameserver 10.96.0.10\noptions ndots:5\n"
        );
    }

    #[test]
    fn none_policy_writes_exactly_dns_config() {
        let mut c = conf(DnsPolicy::None);
        c.dns_config = Some(DnsConfig {
            nameservers: vec!["1.2.3.4".into()],
            searches: vec![
                "ns1.svc.cluster-domain.example".into(),
                "my.dns.search.suffix".into(),
            ],
            options: vec![("ndots".into(), Some("2".into())), ("edns0".into(), None)],
        });
        assert_eq!(
            c.render(HOST),
            "search ns1.svc.cluster-domain.example my.dns.search.suffix\n\
nameserver 1.2.3.4\noptions ndots:2 edns0\n"
        );
    }

    #[test]
    fn none_policy_without_dns_config_is_empty() {
        assert_eq!(conf(DnsPolicy::None).render(HOST), "");
    }

    #[test]
    fn dns_config_options_replace_same_name_and_append_others() {
        let mut c = conf(DnsPolicy::Default);
        c.dns_config = Some(DnsConfig {
            nameservers: vec!["192.0.2.1".into(), "192.0.2.9".into()],
            searches: vec!["corp".into(), "extra".into()],
            options: vec![("ndots".into(), Some("1".into())), ("rotate".into(), None)],
        });
        assert_eq!(
            c.render(HOST),
            "search example.org corp extra\nnameserver 192.0.2.1\nnameserver 192.0.2.9\n\
options edns0 ndots:1 rotate\n"
        );
    }

    #[test]
    fn systemd_resolved_stub_is_skipped_for_upstream_file() {
        let dir = std::env::temp_dir().join(format!("peapod-netns-resolv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let etc = dir.join("resolv.conf");
        let upstream = dir.join("upstream.conf");
        std::fs::write(&etc, "nameserver 127.0.0.53\noptions edns0 trust-ad\n").unwrap();
        std::fs::write(&upstream, "nameserver 192.0.2.7\n").unwrap();
        assert_eq!(
            read_resolv_conf_from(&etc, &upstream).unwrap(),
            "nameserver 192.0.2.7\n"
        );
        std::fs::write(&etc, "nameserver 192.0.2.8\n").unwrap();
        assert_eq!(
            read_resolv_conf_from(&etc, &upstream).unwrap(),
            "nameserver 192.0.2.8\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
