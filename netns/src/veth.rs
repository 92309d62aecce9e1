//! A pod's veth pair: its host-side name, and the configuration of its
//! pod side from inside the pod's network namespace.

use std::net::IpAddr;
use std::os::fd::BorrowedFd;

use crate::error::{Error, Result};
use crate::netlink::Netlink;

/// The name of the pod-side end inside the pod.
pub(crate) const POD_INTERFACE: &str = "eth0";

/// The host-side veth name of `pod`: `pp` and 13 hex digits of the
/// FNV-1a hash of the pod id (15 bytes, the kernel's limit). Leak checks
/// look for links named `pp*`.
pub fn veth_name(pod: &str) -> String {
    format!("pp{}", short_id(pod))
}

/// 13 hex digits of the FNV-1a 64-bit hash of `pod`, also naming the
/// pod's nftables chains.
pub(crate) fn short_id(pod: &str) -> String {
    let hash = pod.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{:013x}", hash >> 12)
}

/// One address of a pod's `eth0`, with its default gateway.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PodAddress {
    pub(crate) ip: IpAddr,
    pub(crate) prefix: u8,
    pub(crate) gateway: IpAddr,
}

/// Inside the pod: `eth0` gets its addresses and goes up, `lo` goes up,
/// and a default route per address family points at its gateway.
pub(crate) fn configure_pod_side(netns: BorrowedFd<'_>, addresses: &[PodAddress]) -> Result<()> {
    let mut netlink = Netlink::open_in(netns)?;
    let eth0 = netlink.link(POD_INTERFACE)?.ok_or_else(|| Error::Netlink {
        action: format!("find {POD_INTERFACE} in the pod's netns"),
        source: std::io::Error::from(std::io::ErrorKind::NotFound),
    })?;
    for address in addresses {
        netlink.add_address(eth0.index, POD_INTERFACE, address.ip, address.prefix)?;
    }
    netlink.set_up(eth0.index, POD_INTERFACE)?;
    set_loopback_up(&mut netlink)?;
    for address in addresses {
        netlink.add_default_route(eth0.index, address.gateway)?;
    }
    Ok(())
}

/// Sets `lo` up inside the network namespace `netns`: all a pod without
/// bridge networking needs.
pub fn loopback_up(netns: BorrowedFd<'_>) -> Result<()> {
    set_loopback_up(&mut Netlink::open_in(netns)?)
}

fn set_loopback_up(netlink: &mut Netlink) -> Result<()> {
    let lo = netlink.link("lo")?.ok_or_else(|| Error::Netlink {
        action: "find lo".into(),
        source: std::io::Error::from(std::io::ErrorKind::NotFound),
    })?;
    netlink.set_up(lo.index, "lo")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn veth_name_is_pp_and_fits_ifnamsiz() {
        let name = veth_name("default_my-first-test_0d9c1b8e-1f9b-4f3c-9d7a-8c2b1e6f5a4d");
        assert!(name.starts_with("pp"));
        assert_eq!(name.len(), 15);
        assert_eq!(
            name,
            veth_name("default_my-first-test_0d9c1b8e-1f9b-4f3c-9d7a-8c2b1e6f5a4d")
        );
        assert_ne!(name, veth_name("default_other"));
    }
}
