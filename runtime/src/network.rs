//! The pod's network, wired from the supervisor: a veth on the bridge of
//! `peapod-netns` with a leased address and the pod's host ports
//! (`bridge`, the default), or `lo` alone (`PEAPOD_NETWORK=none`, for
//! benches). `hostNetwork: true` pods get neither.
//!
//! Leases live in `<run>/net/`: they describe kernel state (veths, nft
//! rules) that a reboot clears too. The pod id given to `peapod-netns` is
//! the pod's uid, so `delete` after a `kill -9` of the supervisor finds the
//! veth, lease and rules from `pod.json` alone.

use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use peapod_netns::{HostPort, Network, NetworkConfig, Protocol, Reservation};
use peapod_spec::Pod;

use crate::error::{Error, Result};

/// The environment variable choosing the pod network: `bridge` (default)
/// or `none` (`lo` only, no `podIP`).
pub const NETWORK_ENV: &str = "PEAPOD_NETWORK";

/// How pods without `hostNetwork` are networked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A veth on the `peapod0` bridge, an address, host ports.
    Bridge,
    /// Loopback only.
    None,
}

impl Mode {
    /// The mode `PEAPOD_NETWORK` asks for; `bridge` when unset.
    pub fn from_env() -> Result<Self> {
        match std::env::var(NETWORK_ENV).as_deref() {
            Err(_) | Ok("" | "bridge") => Ok(Self::Bridge),
            Ok("none") => Ok(Self::None),
            Ok(other) => Err(Error::Config(format!(
                "{NETWORK_ENV}={other:?}: expected \"bridge\" or \"none\""
            ))),
        }
    }
}

/// The environment variable naming the `nft` binary host ports and the
/// masquerade are installed with; unset: `nft` on `PATH`, `/usr/sbin`,
/// `/sbin`. A pod with a `hostPort` fails to start when it names no file.
pub const NFT_ENV: &str = "PEAPOD_NFT";

/// The lease folder, one for the whole host like the bridge it serves:
/// pods of every `--root` share `peapod0`, so they must share its leases
/// too, or two roots would hand out the same address.
pub const LEASE_DIR: &str = "/run/peapod/net";

/// The lease folder ([`LEASE_DIR`]).
pub fn lease_dir() -> PathBuf {
    PathBuf::from(LEASE_DIR)
}

/// The host-side veth of pod `uid` (`pp` and 13 hex digits); its
/// host-port chains are `pod_<the same digits>_pre`/`_out`.
pub fn host_link(uid: &str) -> String {
    peapod_netns::veth_name(uid)
}

/// The bridge network's configuration: leases in [`LEASE_DIR`], the
/// `nft` binary of [`NFT_ENV`].
fn network_config() -> NetworkConfig {
    let mut config = NetworkConfig::new(lease_dir());
    config.nft = std::env::var_os(NFT_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    config
}

/// The subnet the bridge network leases pod addresses from
/// (`10.77.0.0/16`): what the CRI's `UpdateRuntimeConfig` compares a
/// kubelet's pod CIDR with.
pub fn pod_subnet() -> String {
    network_config().subnet.to_string()
}

/// A pod's network between its lease and its links ([`prepare`]): the
/// addresses are known (for the hosts file and the status), and
/// [`Pending::connect`] makes the links (or brings `lo` up) after the
/// containers were set up, before they run — on the supervisor's core
/// while the containers' children make their mounts on the other.
#[derive(Debug)]
pub(crate) struct Pending {
    pod: String,
    netns: OwnedFd,
    bridge: Option<(Network, Reservation)>,
}

impl Pending {
    /// Wires the pod's veth, addresses and host ports (bridge), or brings
    /// `lo` up (none). A failed wiring gives the lease back.
    pub(crate) fn connect(self) -> Result<()> {
        let _span = tracing::debug_span!("network_connect").entered();
        let fail = |e: &dyn std::fmt::Display| Error::pod(&self.pod, e);
        match &self.bridge {
            None => peapod_netns::loopback_up(self.netns.as_fd()).map_err(|e| fail(&e)),
            Some((network, reservation)) => network
                .wire(reservation, self.netns.as_fd())
                .map(drop)
                .map_err(|e| fail(&e)),
        }
    }
}

/// The addresses and host ports of a pod, leased before its network
/// namespace exists (the supervisor leases them while the pause makes
/// its namespaces); [`Lease::in_netns`] makes it the [`Pending`] wiring.
pub(crate) struct Lease {
    pod: String,
    bridge: Option<(Network, Reservation)>,
}

impl Lease {
    /// The wiring of this lease into `netns`.
    pub(crate) fn in_netns(self, netns: OwnedFd) -> Pending {
        Pending {
            pod: self.pod,
            netns,
            bridge: self.bridge,
        }
    }

    /// The wiring of this lease into the network namespace of the pause
    /// `pause_pid` (which made it).
    pub(crate) fn in_pause_netns(self, pause_pid: i32) -> Result<Pending> {
        let netns = open_netns(pause_pid).map_err(|e| Error::pod(&self.pod, e))?;
        Ok(self.in_netns(netns))
    }
}

/// Leases the network of the pod `uid` in the mode `PEAPOD_NETWORK`
/// says (an address and host ports on the bridge; nothing with
/// [`Mode::None`]) and returns the pod's addresses (empty with
/// [`Mode::None`]) and the lease, wired once its namespace exists.
pub(crate) fn lease(pod: &Pod, uid: &str) -> Result<(Vec<IpAddr>, Lease)> {
    lease_in_mode(pod, uid, Mode::from_env()?)
}

/// Leases the addresses of `pod` for the network namespace `netns` (none
/// with [`Mode::None`]); the links are made by [`Pending::connect`].
pub(crate) fn lease_netns(
    pod: &Pod,
    uid: &str,
    netns: BorrowedFd<'_>,
    mode: Mode,
) -> Result<(Vec<IpAddr>, Pending)> {
    let netns = netns
        .try_clone_to_owned()
        .map_err(|e| Error::pod(pod_name(pod), e))?;
    let (ips, lease) = lease_in_mode(pod, uid, mode)?;
    Ok((ips, lease.in_netns(netns)))
}

/// [`lease`] in `mode`.
fn lease_in_mode(pod: &Pod, uid: &str, mode: Mode) -> Result<(Vec<IpAddr>, Lease)> {
    let name = pod_name(pod);
    let fail = |e: &dyn std::fmt::Display| Error::pod(name, e);
    let (ips, bridge) = match mode {
        Mode::None => {
            if let Some(port) = host_ports(pod)?.first() {
                return Err(fail(&format_args!(
                    "hostPort {}/{} cannot be forwarded: {NETWORK_ENV}=none gives the pod loopback only",
                    port.host_port, port.protocol
                )));
            }
            (Vec::new(), None)
        }
        Mode::Bridge => {
            let ports = host_ports(pod)?;
            let network = Network::open(network_config()).map_err(|e| fail(&e))?;
            let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
            let reservation = network
                .reserve(uid, &format!("{namespace}/{name}"), &ports)
                .map_err(|e| fail(&e))?;
            let mut ips = vec![IpAddr::V4(reservation.ip)];
            ips.extend(reservation.ipv6.map(IpAddr::V6));
            (ips, Some((network, reservation)))
        }
    };
    let lease = Lease {
        pod: name.to_owned(),
        bridge,
    };
    Ok((ips, lease))
}

fn pod_name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or_default()
}

/// Lets the network of pod `uid` go, once its processes are dead: its
/// host-port rules are removed and its address quarantined before this
/// returns; its veth goes with its network namespace, destroyed by the
/// kernel in its own worker (off the user's path: deleting it here cost
/// an RCU grace period, tens of ms, on every `delete` and `run --rm`).
/// The bridge stays. Idempotent; nothing to do when no pod of this host
/// was ever on the bridge (no lease folder), so a `none` host never gets
/// a bridge.
pub(crate) fn detach(name: &str, uid: &str) -> Result<()> {
    let dir = lease_dir();
    if !dir.exists() {
        return Ok(());
    }
    Network::release_pod(&network_config(), uid).map_err(|e| Error::pod(name, e))
}

pub use peapod_netns::{wait_links_gone, wait_named_links_gone};

/// Waits until the host-side veths of the pods `uids` are gone (the
/// kernel destroys them with their network namespaces, in its own time),
/// at most `timeout`; the ones still there. For leak checks.
pub fn wait_host_links_gone(uids: &[&str], timeout: std::time::Duration) -> Result<Vec<String>> {
    let names: Vec<String> = uids.iter().map(|uid| host_link(uid)).collect();
    peapod_netns::wait_named_links_gone(&names, timeout)
        .map_err(|e| Error::Config(format!("waiting for veths to vanish: {e}")))
}

/// Every `ports[]` entry with a `hostPort`, of init and app containers.
fn host_ports(pod: &Pod) -> Result<Vec<HostPort>> {
    let name = pod_name(pod);
    let invalid = |what: String| Error::pod(name, what);
    let containers = pod.spec.init_containers.iter().chain(&pod.spec.containers);
    let mut ports = Vec::new();
    for port in containers.flat_map(|c| &c.ports) {
        let Some(host_port) = port.host_port else {
            continue;
        };
        let protocol = match port.protocol {
            peapod_spec::Protocol::Tcp => Protocol::Tcp,
            peapod_spec::Protocol::Udp => Protocol::Udp,
            peapod_spec::Protocol::Sctp => {
                return Err(invalid(format!(
                    "hostPort {host_port}/SCTP: host ports support TCP and UDP"
                )));
            }
        };
        let host_ip = match port.host_ip.as_deref() {
            None | Some("") => IpAddr::from([0, 0, 0, 0]),
            Some(ip) => ip
                .parse()
                .map_err(|_| invalid(format!("hostPort {host_port}: hostIP {ip:?}")))?,
        };
        let number = |n: i32, what: &str| {
            u16::try_from(n).map_err(|_| invalid(format!("{what} {n} is out of range")))
        };
        ports.push(HostPort {
            protocol,
            host_ip,
            host_port: number(host_port, "hostPort")?,
            container_port: number(port.container_port, "containerPort")?,
        });
    }
    Ok(ports)
}

fn open_netns(pid: i32) -> std::io::Result<OwnedFd> {
    let f = std::fs::File::open(format!("/proc/{pid}/ns/net"))?;
    Ok(OwnedFd::from(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_ports_come_from_every_container_with_protocol_and_host_ip() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": { "name": "web" },
            "spec": { "containers": [{ "name": "a", "image": "busybox", "ports": [
                { "containerPort": 8080, "hostPort": 8001 },
                { "containerPort": 53, "hostPort": 5353, "protocol": "UDP", "hostIP": "127.0.0.1" },
                { "containerPort": 9000 },
            ]}]},
        }))
        .expect("pod");
        let ports = host_ports(&pod).expect("ports");
        assert_eq!(
            ports,
            vec![
                HostPort::tcp(8001, 8080),
                HostPort {
                    protocol: Protocol::Udp,
                    host_ip: IpAddr::from([127, 0, 0, 1]),
                    host_port: 5353,
                    container_port: 53,
                },
            ]
        );
    }
}
