//! Pod networking.
//!
//! Owns: the bridge, a veth pair per pod moved into the pod's network
//! namespace, addresses and routes, loopback, IPAM leases with a lock file,
//! host ports, `hostNetwork`, and the files a pod owns in kubelet's format:
//! `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`. Netlink is spoken
//! directly; no `ip` subprocess.
//!
//! Does not own: creating the namespaces (that is `peapod-core`), nor
//! reading the Pod manifest (the caller passes plain values).
#![forbid(unsafe_code)]
// `unwrap` is denied in the crate's code, not in its unit tests.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod error;
mod hosts_file;
mod resolv_conf;

pub use error::{Error, Result};
pub use hosts_file::{HostAlias, HostNetworkHostsFile, HostsFile, hostname_file};
pub use resolv_conf::{
    DnsConfig, DnsPolicy, HOST_RESOLV_CONF, ResolvConf, SYSTEMD_RESOLVED_UPSTREAM,
    read_host_resolv_conf, read_resolv_conf_from,
};
