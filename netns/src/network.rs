//! The API the pod supervisor calls: open the network once, attach a pod
//! (veth, address, routes, host ports), detach it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

use crate::bridge::ensure_bridge;
use crate::error::{Error, Result};
use crate::host_ports::{HostPort, check_host_ports};
use crate::ipam::{Ipam, Lease, Owner};
use crate::netlink::{Link, Netlink};
use crate::nftables::{NFT_SEARCHED, Nft};
use crate::subnet::{Ipv4Subnet, ipv6_for};
use crate::sysctl::enable_sysctl;
use crate::veth::{POD_INTERFACE, PodAddress, configure_pod_side, short_id, veth_name};

/// Where sysfs lists the links of the host's network namespace.
const SYS_CLASS_NET: &str = "/sys/class/net";

/// The host's links for a quarantine sweep: looked up in sysfs (no
/// netlink dump, which waits for the RTNL lock the kernel's namespace
/// cleanup holds), deleted over netlink.
struct SysfsLinks;

impl crate::ipam::HostLinks for SysfsLinks {
    fn exists(&self, name: &str) -> bool {
        Path::new(SYS_CLASS_NET).join(name).exists()
    }

    fn delete(&self, name: &str) -> bool {
        match Netlink::open().and_then(|mut n| n.delete_link(name)) {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!("{e}");
                false
            }
        }
    }
}

/// The default bridge name.
pub const DEFAULT_BRIDGE: &str = "peapod0";

/// The default pod subnet, `10.77.0.0/16`: not podman's 10.88.0.0/16 (nor
/// its 10.89.x.0/24 networks), not docker's 172.17.0.0/16 (nor its
/// 172.18+/192.168 pools), not kube's 10.244.0.0/16 (flannel, kubeadm
/// guides), 10.42.0.0/16 (k3s), 10.96.0.0/12 (service range) or CRI-O's
/// 10.85.0.0/16 — so peapod can sit beside any of them.
pub const DEFAULT_SUBNET: Ipv4Subnet = match Ipv4Subnet::new_const(Ipv4Addr::new(10, 77, 0, 0), 16)
{
    Some(subnet) => subnet,
    None => panic!("the default subnet is valid"),
};

/// The default nftables table.
pub const DEFAULT_NFT_TABLE: &str = "peapod";

/// How the pod network is laid out on this host.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// The bridge's name (at most 15 bytes), [`DEFAULT_BRIDGE`] by default.
    pub bridge: String,
    /// The pod subnet; the bridge takes its first address.
    pub subnet: Ipv4Subnet,
    /// The lease folder (`<lib>/net/`).
    pub lease_dir: PathBuf,
    /// The nftables table holding masquerade and host-port rules.
    pub nft_table: String,
    /// Masquerade pod traffic to outside addresses (and turn on
    /// `net.ipv4.ip_forward`).
    pub masquerade: bool,
    /// Dual stack: a /64 (e.g. `fd77:7070::`) from which each pod also
    /// gets an IPv6 address, its IPv4 in the low 32 bits; the bridge takes
    /// the one of the IPv4 gateway. Pod-to-pod and host-to-pod only: no
    /// IPv6 masquerade or host ports (IPv6 forwarding on the host would
    /// turn off its router advertisements). `None` by default.
    pub ipv6_prefix: Option<Ipv6Addr>,
    /// The `nft` binary to run; `None` (the default): `nft` on `PATH`,
    /// else in `/usr/sbin` or `/sbin`.
    pub nft: Option<PathBuf>,
}

impl NetworkConfig {
    /// The defaults, with leases under `lease_dir`.
    pub fn new(lease_dir: impl Into<PathBuf>) -> Self {
        Self {
            bridge: DEFAULT_BRIDGE.to_owned(),
            subnet: DEFAULT_SUBNET,
            lease_dir: lease_dir.into(),
            nft_table: DEFAULT_NFT_TABLE.to_owned(),
            masquerade: true,
            ipv6_prefix: None,
            nft: None,
        }
    }
}

/// What a pod got from [`Network::attach`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodNetwork {
    /// The pod's address (`status.podIP`).
    pub ip: Ipv4Addr,
    /// The default gateway: the bridge's address.
    pub gateway: Ipv4Addr,
    /// The subnet's prefix length.
    pub prefix: u8,
    /// The pod's IPv6 address (a /64), with [`NetworkConfig::ipv6_prefix`].
    pub ipv6: Option<Ipv6Addr>,
    /// The host-side veth name (`pp...`).
    pub veth: String,
}

/// A pod's leased addresses before its links exist ([`Network::reserve`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// The pod's address (`status.podIP`).
    pub ip: Ipv4Addr,
    /// The pod's IPv6 address, with [`NetworkConfig::ipv6_prefix`].
    pub ipv6: Option<Ipv6Addr>,
    lease: Lease,
}

/// The bridge network of this host, opened once per process.
#[derive(Debug)]
pub struct Network {
    config: NetworkConfig,
    bridge: Link,
    ipam: Ipam,
    nft: Nft,
}

impl Network {
    /// Makes sure the bridge exists with its address and is up; on the
    /// first open (the bridge was just made) also installs the masquerade
    /// rules. Cheap when everything is in place: two netlink round trips.
    pub fn open(config: NetworkConfig) -> Result<Self> {
        if config.bridge.is_empty() || config.bridge.len() > 15 {
            return Err(Error::Config {
                reason: format!("bridge {:?}: needs 1 to 15 bytes", config.bridge),
            });
        }
        let _span = tracing::debug_span!("network_open", bridge = %config.bridge).entered();
        let mut netlink = Netlink::open()?;
        let gateway = config.subnet.gateway();
        let gateways: Vec<(IpAddr, u8)> = pod_addresses(&config, gateway)
            .iter()
            .map(|address| (address.gateway, address.prefix))
            .collect();
        let bridge = ensure_bridge(&mut netlink, &config.bridge, &gateways)?;
        let network = Self {
            ipam: Ipam::new(&config.lease_dir, config.subnet),
            nft: Nft::new(&config.nft_table, config.nft.as_deref()),
            bridge: bridge.link,
            config,
        };
        if bridge.created {
            network.install_masquerade()?;
        }
        Ok(network)
    }

    /// (Re)writes the masquerade chain and turns on IP forwarding, when
    /// `masquerade` is set. [`Network::open`] does it when it creates the
    /// bridge; call it again after someone flushed the ruleset.
    pub fn install_masquerade(&self) -> Result<()> {
        if !self.config.masquerade {
            return Ok(());
        }
        enable_sysctl("net/ipv4/ip_forward")?;
        let script = self
            .nft
            .postrouting_script(self.config.subnet, &self.config.bridge, true);
        self.nft.apply("masquerade of the pod subnet", &script)
    }

    /// Whether the `nft` binary was found (without it the masquerade is
    /// skipped with a warning and pods with host ports are refused).
    pub fn nft_available(&self) -> bool {
        self.nft.available()
    }

    /// The configuration this network was opened with.
    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    /// Wires pod `pod` (a stable id without spaces or slashes) whose
    /// network namespace is `netns`: a namespace fd, `/proc/<pause>/ns/net`
    /// opened (not a pidfd: the kernel takes only namespace fds for the
    /// veth peer's `IFLA_NET_NS_FD`):
    /// leases an address (recording the calling process as owner), creates
    /// the veth pair with `eth0` inside the pod, sets address, `lo` and the
    /// default route, and forwards `host_ports`. On failure, whatever was
    /// done is undone. [`Network::reserve`] (with `pod` as its name too)
    /// then [`Network::wire`].
    pub fn attach(
        &self,
        pod: &str,
        netns: BorrowedFd<'_>,
        host_ports: &[HostPort],
    ) -> Result<PodNetwork> {
        let reservation = self.reserve(pod, pod, host_ports)?;
        self.wire(&reservation, netns)
    }

    /// The first half of [`Network::attach`]: leases pod `pod` its
    /// address and host ports (recording the calling process as owner),
    /// so its hosts file can be written and its containers set up before
    /// its links exist. [`Network::detach`] gives the lease back. Errors
    /// call the pod `name` (`default/web`: `pod` is a uid, which tells a
    /// user nothing), and so does a refusal of another pod's host port.
    /// Host ports without an `nft` binary to forward them are refused
    /// here, before anything is leased.
    pub fn reserve(&self, pod: &str, name: &str, host_ports: &[HostPort]) -> Result<Reservation> {
        let _span = tracing::debug_span!("network_reserve", pod).entered();
        check_host_ports(name, host_ports)?;
        if !host_ports.is_empty() && !self.nft.available() {
            return Err(Error::HostPortsWithoutNft {
                ports: host_ports
                    .iter()
                    .map(|p| format!("{}/{}", p.host_port, p.protocol))
                    .collect::<Vec<_>>()
                    .join(", "),
                looked: self.config.nft.as_ref().map_or_else(
                    || format!("looked on {NFT_SEARCHED}"),
                    |given| format!("{} is not a file", given.display()),
                ),
            });
        }
        let owner = Owner::of(std::process::id()).ok_or_else(|| Error::Config {
            reason: "cannot read this process's /proc/self/stat".into(),
        })?;
        let allocation = self
            .ipam
            .allocate(pod, name, owner, host_ports, &SysfsLinks)?;
        for stale in &allocation.reclaimed {
            tracing::info!(pod = %stale.pod, ip = %stale.ip, "reclaiming the lease of a dead supervisor");
            self.remove_links_and_rules(stale)?;
        }
        let ip = allocation.lease.ip;
        Ok(Reservation {
            ip,
            ipv6: self.config.ipv6_prefix.map(|prefix| ipv6_for(prefix, ip)),
            lease: allocation.lease,
        })
    }

    /// The second half of [`Network::attach`]: the veth pair, the
    /// addresses, `lo`, the default route and the host ports of a
    /// reserved pod. On failure the links and the lease are removed.
    pub fn wire(&self, reservation: &Reservation, netns: BorrowedFd<'_>) -> Result<PodNetwork> {
        let pod = reservation.lease.pod.as_str();
        let _span = tracing::debug_span!("network_wire", pod).entered();
        match self.wire_lease(&reservation.lease, netns) {
            Ok(network) => Ok(network),
            Err(error) => {
                if let Err(undo) = self.detach(pod) {
                    tracing::warn!(pod, %undo, "undoing a failed attach");
                }
                Err(error)
            }
        }
    }

    fn wire_lease(&self, lease: &Lease, netns: BorrowedFd<'_>) -> Result<PodNetwork> {
        let veth = veth_name(&lease.pod);
        let mut netlink = Netlink::open()?;
        netlink.delete_link(&veth)?;
        netlink.create_veth(&veth, POD_INTERFACE, self.bridge, netns)?;
        let subnet = self.config.subnet;
        let addresses = pod_addresses(&self.config, lease.ip);
        configure_pod_side(netns, &addresses)?;
        if !lease.host_ports.is_empty() {
            let mut script =
                self.nft
                    .postrouting_script(subnet, &self.config.bridge, self.config.masquerade);
            script.push_str(&self.nft.pod_script(
                &chain_name(&lease.pod),
                lease.ip,
                &lease.host_ports,
            ));
            self.nft
                .apply(&format!("host ports of pod {}", lease.pod), &script)?;
        }
        Ok(PodNetwork {
            ip: lease.ip,
            gateway: subnet.gateway(),
            prefix: subnet.prefix(),
            ipv6: self
                .config
                .ipv6_prefix
                .map(|prefix| ipv6_for(prefix, lease.ip)),
            veth,
        })
    }

    /// Lets pod `pod` go once every process of its network namespace is
    /// dead: its host-port rules are removed (no port forwards to a dead
    /// pod once this returns) and its address goes into quarantine, but
    /// its veth is not deleted here — that takes the kernel an RCU grace
    /// period, tens of ms, on the caller's path. The veth goes with the
    /// namespace instead, destroyed by the kernel in its own worker once
    /// its last process and fd are gone, and the address is not handed out
    /// again while the veth exists. Leak checks wait for it with
    /// [`crate::wait_links_gone`]. Safe to call twice; nothing happens
    /// for a pod without a lease.
    pub fn release(&self, pod: &str) -> Result<()> {
        let _span = tracing::debug_span!("network_release", pod).entered();
        release(&self.ipam, |lease| self.remove_rules(lease), pod)
    }

    /// [`Network::release`] of pod `pod` without opening the network:
    /// the bridge is neither looked at nor made (a deleted pod has no use
    /// for it: no netlink round trip), and `nft` is looked for only when
    /// the pod has host-port rules to remove.
    pub fn release_pod(config: &NetworkConfig, pod: &str) -> Result<()> {
        let _span = tracing::debug_span!("network_release", pod).entered();
        let ipam = Ipam::new(&config.lease_dir, config.subnet);
        let remove_rules = |lease: &Lease| {
            if lease.host_ports.is_empty() {
                return Ok(());
            }
            remove_rules(&Nft::new(&config.nft_table, config.nft.as_deref()), lease)
        };
        release(&ipam, remove_rules, pod)
    }

    /// Unwires pod `pod` at once: its host-port rules, its veth (the peer
    /// goes with it; the caller waits for the kernel's RCU grace period),
    /// its lease. The bridge stays. For a failed attach, or a namespace
    /// that may outlive the pod; [`Network::release`] otherwise. Safe to call twice, after a failed
    /// attach, or once the pod's netns is gone. Every step runs even when
    /// an earlier one failed (a refused nft must not keep the lease); the
    /// first error is returned.
    pub fn detach(&self, pod: &str) -> Result<()> {
        let _span = tracing::debug_span!("network_detach", pod).entered();
        let removed = match self.ipam.lease_of(pod)? {
            Some(lease) => self.remove_links_and_rules(&lease),
            None => Netlink::open().and_then(|mut n| n.delete_link(&veth_name(pod)).map(drop)),
        };
        let released = self.ipam.release(pod).map(drop);
        removed.and(released)
    }

    /// Removes the pod's host-port rules and its veth; both are tried,
    /// the first error is returned.
    fn remove_links_and_rules(&self, lease: &Lease) -> Result<()> {
        let rules = self.remove_rules(lease);
        let link = Netlink::open()
            .and_then(|mut netlink| netlink.delete_link(&veth_name(&lease.pod)).map(drop));
        rules.and(link)
    }

    /// Removes the pod's host-port rules, if it has host ports.
    fn remove_rules(&self, lease: &Lease) -> Result<()> {
        remove_rules(&self.nft, lease)
    }

    /// The address leased to `pod`, if any.
    pub fn pod_ip(&self, pod: &str) -> Result<Option<Ipv4Addr>> {
        Ok(self.ipam.lease_of(pod)?.map(|lease| lease.ip))
    }

    /// The pods holding a lease, with their addresses.
    pub fn leases(&self) -> Result<Vec<(String, Ipv4Addr)>> {
        Ok(self
            .ipam
            .all()?
            .into_iter()
            .map(|lease| (lease.pod, lease.ip))
            .collect())
    }
}

/// Lets pod `pod`'s lease go ([`Network::release`]): its host-port rules
/// (`remove_rules`), then its address into quarantine. Nothing happens for
/// a pod without a lease.
fn release(ipam: &Ipam, remove_rules: impl FnOnce(&Lease) -> Result<()>, pod: &str) -> Result<()> {
    ipam.quarantine_after(pod, remove_rules).map(drop)
}

/// Removes the host-port rules of `lease`'s pod, if it has host ports.
fn remove_rules(nft: &Nft, lease: &Lease) -> Result<()> {
    if lease.host_ports.is_empty() {
        return Ok(());
    }
    let script = nft.remove_pod_script(&chain_name(&lease.pod));
    nft.apply(
        &format!("removing host ports of pod {}", lease.pod),
        &script,
    )
}

/// The addresses of `ip` (and of its IPv6 twin with dual stack), with
/// their prefixes and gateways. For the gateway's own IPv4 this gives the
/// bridge's addresses.
fn pod_addresses(config: &NetworkConfig, ip: Ipv4Addr) -> Vec<PodAddress> {
    let gateway = config.subnet.gateway();
    let mut addresses = vec![PodAddress {
        ip: ip.into(),
        prefix: config.subnet.prefix(),
        gateway: gateway.into(),
    }];
    if let Some(prefix) = config.ipv6_prefix {
        addresses.push(PodAddress {
            ip: ipv6_for(prefix, ip).into(),
            prefix: 64,
            gateway: ipv6_for(prefix, gateway).into(),
        });
    }
    addresses
}

/// The nftables chain prefix of a pod's host ports.
fn chain_name(pod: &str) -> String {
    format!("pod_{}", short_id(pod))
}
