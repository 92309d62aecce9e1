//! An IPv4 subnet in CIDR notation, and the addresses pods get from it.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::error::Error;

/// An IPv4 subnet, as `10.77.0.0/16`. The first host address is the
/// bridge's (the pods' gateway); pods get the ones after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Subnet {
    network: Ipv4Addr,
    prefix: u8,
}

impl Ipv4Subnet {
    /// The subnet of `address/prefix` (host bits cleared). `prefix` must be
    /// 8..=30 so there is room for a gateway and pods.
    pub fn new(address: Ipv4Addr, prefix: u8) -> Result<Self, Error> {
        Self::new_const(address, prefix).ok_or_else(|| Error::Config {
            reason: format!("subnet {address}/{prefix}: prefix must be between 8 and 30"),
        })
    }

    /// [`Ipv4Subnet::new`] for constants: `None` for a bad prefix.
    pub const fn new_const(address: Ipv4Addr, prefix: u8) -> Option<Self> {
        if prefix < 8 || prefix > 30 {
            return None;
        }
        let mask = u32::MAX << (32 - prefix as u32);
        Some(Self {
            network: Ipv4Addr::from_bits(address.to_bits() & mask),
            prefix,
        })
    }

    /// The prefix length.
    pub fn prefix(self) -> u8 {
        self.prefix
    }

    /// The network address.
    pub fn network(self) -> Ipv4Addr {
        self.network
    }

    /// The bridge's address, the pods' default gateway: the first host.
    pub fn gateway(self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) + 1)
    }

    /// Whether `ip` lies inside the subnet.
    pub fn contains(self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX << (32 - u32::from(self.prefix));
        u32::from(ip) & mask == u32::from(self.network)
    }

    /// The addresses pods may lease: after the gateway, before broadcast.
    pub(crate) fn pod_addresses(self) -> impl Iterator<Item = Ipv4Addr> {
        let first = u32::from(self.network) + 2;
        let broadcast = u32::from(self.network) | (u32::MAX >> u32::from(self.prefix));
        (first..broadcast).map(Ipv4Addr::from)
    }
}

/// The IPv6 address that goes with `v4` in the /64 `prefix`: the prefix's
/// upper 64 bits, then `v4` in the lowest 32. One lease gives both
/// addresses of a dual-stack pod, and the bridge's IPv4 gateway maps to
/// the pods' IPv6 gateway the same way.
pub(crate) fn ipv6_for(prefix: Ipv6Addr, v4: Ipv4Addr) -> Ipv6Addr {
    let upper = prefix.to_bits() & !u128::from(u64::MAX);
    Ipv6Addr::from_bits(upper | u128::from(v4.to_bits()))
}

impl fmt::Display for Ipv4Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl FromStr for Ipv4Subnet {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = || Error::Config {
            reason: format!("subnet {text:?}: expected an IPv4 CIDR like 10.77.0.0/16"),
        };
        let (address, prefix) = text.split_once('/').ok_or_else(invalid)?;
        Self::new(
            address.parse().map_err(|_| invalid())?,
            prefix.parse().map_err(|_| invalid())?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_parses_and_clears_host_bits() {
        let subnet: Ipv4Subnet = "10.77.3.4/16".parse().unwrap();
        assert_eq!(subnet.to_string(), "10.77.0.0/16");
        assert_eq!(subnet.gateway(), Ipv4Addr::new(10, 77, 0, 1));
        assert!(subnet.contains(Ipv4Addr::new(10, 77, 255, 254)));
        assert!(!subnet.contains(Ipv4Addr::new(10, 78, 0, 1)));
    }

    #[test]
    fn pod_addresses_skip_network_gateway_and_broadcast() {
        let subnet: Ipv4Subnet = "192.0.2.0/29".parse().unwrap();
        let all: Vec<_> = subnet.pod_addresses().collect();
        assert_eq!(all.first(), Some(&Ipv4Addr::new(192, 0, 2, 2)));
        assert_eq!(all.last(), Some(&Ipv4Addr::new(192, 0, 2, 6)));
        assert_eq!(all.len(), 5);
    }

    #[test]
    fn ipv6_address_carries_the_ipv4_in_its_low_bits() {
        let prefix: Ipv6Addr = "fd77:7070:0:0:dead::".parse().unwrap();
        assert_eq!(
            ipv6_for(prefix, Ipv4Addr::new(10, 77, 0, 2)).to_string(),
            "fd77:7070::a4d:2"
        );
    }

    #[test]
    fn subnet_rejects_bad_text_and_prefixes() {
        assert!("10.77.0.0".parse::<Ipv4Subnet>().is_err());
        assert!("10.77.0.0/31".parse::<Ipv4Subnet>().is_err());
        assert!("nope/16".parse::<Ipv4Subnet>().is_err());
    }
}
