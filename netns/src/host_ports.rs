//! Host ports (`ports[].hostPort`): the type, and the checks made before
//! forwarding one (IPv4 `hostIP`, no socket of the host holding it). The
//! DNAT rules themselves are in [`crate::nftables`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, TcpListener, UdpSocket};
use std::str::FromStr;

use crate::error::{Error, Result};

/// `ports[].protocol` of a host port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TCP, the default.
    Tcp,
    /// UDP.
    Udp,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Protocol {
    /// `TCP` or `UDP`, as Kubernetes spells them.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
        }
    }

    pub(crate) fn nft(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
        }
    }
}

impl FromStr for Protocol {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "TCP" => Ok(Self::Tcp),
            "UDP" => Ok(Self::Udp),
            other => Err(Error::Config {
                reason: format!("protocol {other:?}: host ports support TCP and UDP"),
            }),
        }
    }
}

/// One `ports[]` entry with a `hostPort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// `protocol`.
    pub protocol: Protocol,
    /// `hostIP`; `0.0.0.0` (unspecified) for all of the host's addresses,
    /// loopback included.
    pub host_ip: IpAddr,
    /// `hostPort`.
    pub host_port: u16,
    /// `containerPort`.
    pub container_port: u16,
}

impl HostPort {
    /// A TCP host port on all addresses.
    pub fn tcp(host_port: u16, container_port: u16) -> Self {
        Self {
            protocol: Protocol::Tcp,
            host_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            host_port,
            container_port,
        }
    }

    pub(crate) fn taken(&self, pod: &str, holder: String) -> Error {
        Error::HostPortTaken {
            port: self.host_port,
            protocol: self.protocol.as_str(),
            host_ip: self.host_ip,
            pod: pod.to_owned(),
            holder,
        }
    }
}

/// Refuses ports that cannot be forwarded (IPv6 `hostIP`, port 0) and
/// ports a socket of the host already holds (found by trying to bind them).
pub(crate) fn check_host_ports(pod: &str, ports: &[HostPort]) -> Result<()> {
    for port in ports {
        if !port.host_ip.is_ipv4() || port.host_port == 0 || port.container_port == 0 {
            return Err(Error::Config {
                reason: format!(
                    "pod {pod}: hostPort {}:{}/{} -> {}: need an IPv4 hostIP and non-zero ports",
                    port.host_ip, port.host_port, port.protocol, port.container_port
                ),
            });
        }
        let address = (port.host_ip, port.host_port);
        let bound = match port.protocol {
            Protocol::Tcp => TcpListener::bind(address).map(drop),
            Protocol::Udp => UdpSocket::bind(address).map(drop),
        };
        if let Err(error) = bound
            && error.kind() == std::io::ErrorKind::AddrInUse
        {
            return Err(port.taken(pod, "a socket of the host".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_host_socket_makes_host_port_taken() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = listener.local_addr().unwrap().port();
        let port = HostPort {
            host_ip: IpAddr::from([127, 0, 0, 1]),
            ..HostPort::tcp(taken, 80)
        };
        let error = check_host_ports("web", &[port]).unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "hostPort 127.0.0.1:{taken}/TCP of pod web is already taken by a socket of the host"
            )
        );
    }

    #[test]
    fn ipv6_host_ip_is_refused() {
        let port = HostPort {
            host_ip: "::1".parse().unwrap(),
            ..HostPort::tcp(8001, 80)
        };
        assert!(check_host_ports("web", &[port]).is_err());
    }
}
