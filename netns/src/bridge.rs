//! The bridge every pod's veth is attached to: created when absent, with
//! the gateway address, up. It stays when pods go.

use std::net::IpAddr;

use crate::error::Result;
use crate::netlink::{Link, Netlink};
use crate::sysctl::enable_sysctl;

/// The bridge, and whether this call created it.
pub(crate) struct Bridge {
    pub(crate) link: Link,
    pub(crate) created: bool,
}

/// Makes sure bridge `name` exists, holds the gateway addresses
/// (`(address, prefix)`, IPv4 first) and is up. Also lets host-loopback traffic DNATed to a pod (hostPort on
/// 127.0.0.1) be routed out of it (`route_localnet`).
pub(crate) fn ensure_bridge(
    netlink: &mut Netlink,
    name: &str,
    gateways: &[(IpAddr, u8)],
) -> Result<Bridge> {
    let created = netlink.link(name)?.is_none();
    if created {
        netlink.create_bridge(name)?;
    }
    let link = netlink.link(name)?.ok_or_else(|| crate::Error::Netlink {
        action: format!("find bridge {name} after creating it"),
        source: std::io::Error::from(std::io::ErrorKind::NotFound),
    })?;
    for (address, prefix) in gateways {
        netlink.add_address(link.index, name, *address, *prefix)?;
    }
    netlink.set_up(link.index, name)?;
    enable_sysctl(&format!("net/ipv4/conf/{name}/route_localnet"))?;
    Ok(Bridge { link, created })
}
