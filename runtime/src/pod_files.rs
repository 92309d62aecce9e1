//! The files a pod owns and bind-mounts into every container:
//! `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`, rendered by
//! `peapod-netns` in kubelet's format into `<lib>/pods/<uid>/etc/`.

use std::net::IpAddr;
use std::path::Path;

use peapod_netns::{DnsConfig, DnsPolicy, HostNetworkHostsFile, HostsFile, ResolvConf};
use peapod_spec::{DNSPolicy, Pod};
use peapod_volumes::PodFiles;

use crate::error::{Error, Result};

/// The cluster domain the hosts and resolver files name.
pub use peapod_spec::CLUSTER_DOMAIN;

/// The hostname the pod's processes see (UTS, `/etc/hostname`,
/// `HOSTNAME`): the pod's FQDN with `setHostnameAsFQDN` and a `subdomain`,
/// else its hostname, as kubelet sets it.
pub fn uts_hostname(pod: &Pod) -> String {
    pod.hostname_fqdn().unwrap_or_else(|| pod.hostname())
}

/// Renders the three files into `etc_dir` and returns their paths.
pub fn write(pod: &Pod, pod_ips: &[IpAddr], etc_dir: &Path) -> Result<PodFiles> {
    std::fs::create_dir_all(etc_dir).map_err(|e| Error::io(etc_dir, e))?;
    let host_network = pod.spec.host_network.unwrap_or(false);
    let aliases: Vec<(IpAddr, Vec<String>)> = pod
        .spec
        .host_aliases
        .iter()
        .filter_map(|a| Some((a.ip.parse().ok()?, a.hostnames.clone())))
        .collect();
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let hosts = if host_network {
        let host_hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        HostNetworkHostsFile {
            host_hosts,
            aliases,
        }
        .render()
    } else {
        HostsFile {
            pod_ips: pod_ips.to_vec(),
            hostname: pod.hostname(),
            subdomain: pod.spec.subdomain.clone(),
            namespace: namespace.clone(),
            cluster_domain: CLUSTER_DOMAIN.to_owned(),
            aliases,
        }
        .render()
    };
    let resolv = ResolvConf {
        dns_policy: match pod.spec.dns_policy {
            DNSPolicy::ClusterFirst => DnsPolicy::ClusterFirst,
            DNSPolicy::ClusterFirstWithHostNet => DnsPolicy::ClusterFirstWithHostNet,
            DNSPolicy::Default => DnsPolicy::Default,
            DNSPolicy::None => DnsPolicy::None,
        },
        dns_config: pod.spec.dns_config.as_ref().map(|c| DnsConfig {
            nameservers: c.nameservers.clone(),
            searches: c.searches.clone(),
            options: c
                .options
                .iter()
                .map(|o| (o.name.clone(), o.value.clone()))
                .collect(),
        }),
        cluster_dns: Vec::new(),
        cluster_domain: CLUSTER_DOMAIN.to_owned(),
        namespace,
        host_network,
    };
    let host_resolv = peapod_netns::read_host_resolv_conf().unwrap_or_default();
    let files = PodFiles {
        hosts: etc_dir.join("hosts"),
        hostname: etc_dir.join("hostname"),
        resolv_conf: etc_dir.join("resolv.conf"),
    };
    for (path, content) in [
        (&files.hosts, hosts),
        (
            &files.hostname,
            peapod_netns::hostname_file(&uts_hostname(pod)),
        ),
        (&files.resolv_conf, resolv.render(&host_resolv)),
    ] {
        std::fs::write(path, content).map_err(|e| Error::io(path, e))?;
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_carry_aliases_and_hostname() {
        let dir = std::env::temp_dir().join(format!("peapod-podfiles-{}", std::process::id()));
        let mut pod = Pod::default();
        pod.metadata.name = Some("my-first-test".into());
        pod.metadata.namespace = Some("default".into());
        pod.spec.host_aliases = vec![peapod_spec::HostAlias {
            ip: "10.9.8.7".into(),
            hostnames: vec!["host.test.site".into(), "host.aliases.test.site".into()],
        }];
        let ip: IpAddr = "172.172.1.41".parse().expect("ip");
        let files = write(&pod, &[ip], &dir).expect("written");
        let hosts = std::fs::read_to_string(&files.hosts).expect("hosts");
        assert!(hosts.contains("172.172.1.41\tmy-first-test\n"), "{hosts}");
        assert!(hosts.ends_with("10.9.8.7\thost.test.site\thost.aliases.test.site\n"));
        let name = std::fs::read_to_string(&files.hostname).expect("hostname");
        assert_eq!(name, "my-first-test\n");
        let _ = std::fs::remove_dir_all(dir);
    }
}
