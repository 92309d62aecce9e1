//! Pod networking.
//!
//! Owns: the bridge, a veth pair per pod moved into the pod's network
//! namespace, addresses and routes, loopback, IPAM leases with a lock file,
//! host ports and egress masquerade (nftables), and the files a pod owns in
//! kubelet's format: `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`.
//! Netlink is spoken directly; no `ip` subprocess.
//!
//! Does not own: creating the namespaces (that is `peapod-core`), nor
//! reading the Pod manifest (the caller passes plain values).
//!
//! The runtime's calls, in a pod's life:
//! - [`Network::open`] once per supervisor ([`NetworkConfig::new`] with
//!   the lease folder, best on tmpfs such as `/run/peapod/net/`: leases
//!   describe kernel state a reboot clears too; `ipv6_prefix` for dual
//!   stack);
//! - [`Network::attach`] with the pause process's netns fd, giving a
//!   [`PodNetwork`]; or [`loopback_up`] alone for a pod without bridge
//!   networking; nothing for `hostNetwork: true`;
//! - [`HostsFile`] / [`HostNetworkHostsFile`], [`hostname_file`] and
//!   [`ResolvConf`] for the files bind-mounted into containers;
//! - [`Network::release`] on delete, once the pod's processes are dead
//!   (idempotent): host-port rules go at once, the veth with the pod's
//!   network namespace in the kernel's own time, the address after it
//!   ([`wait_links_gone`] waits for that); [`Network::detach`] removes
//!   the veth at once (a failed attach, a namespace that lives on).
#![forbid(unsafe_code)]
// `unwrap` is denied in the crate's code, not in its unit tests.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod bridge;
mod error;
mod host_ports;
mod hosts_file;
mod ipam;
mod link_watch;
mod netlink;
mod network;
mod nftables;
mod resolv_conf;
mod subnet;
mod sysctl;
mod veth;

pub use error::{Error, Result};
pub use host_ports::{HostPort, Protocol};
pub use hosts_file::{HostAlias, HostNetworkHostsFile, HostsFile, hostname_file};
pub use link_watch::{wait_links_gone, wait_named_links_gone};
pub use network::{
    DEFAULT_BRIDGE, DEFAULT_NFT_TABLE, DEFAULT_SUBNET, Network, NetworkConfig, PodNetwork,
    Reservation,
};
pub use resolv_conf::{
    DnsConfig, DnsPolicy, HOST_RESOLV_CONF, ResolvConf, SYSTEMD_RESOLVED_UPSTREAM,
    read_host_resolv_conf, read_resolv_conf_from,
};
pub use subnet::Ipv4Subnet;
pub use veth::{loopback_up, veth_name};
