//! The one error type of `peapod-netns`.

use std::io;
use std::net::IpAddr;
use std::path::PathBuf;

/// Everything that can go wrong while wiring or unwiring a pod's network.
///
/// Each variant names the object it was about and keeps the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A netlink request failed (the kernel said no, or the socket failed).
    #[error("netlink: {action}: {source}")]
    Netlink {
        /// What was asked, with the names involved (`create veth pp1a2b for pod web`).
        action: String,
        /// The kernel's errno or the socket's failure.
        #[source]
        source: io::Error,
    },
    /// Entering a network namespace (by its fd) failed.
    #[error("enter the pod's network namespace: {source}")]
    EnterNetns {
        /// The `setns` failure.
        #[source]
        source: io::Error,
    },
    /// A file of the lease store, or another file this crate reads or
    /// writes, could not be used.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: io::Error,
    },
    /// Every address of the subnet is leased.
    #[error("no free address left in {subnet} for pod {pod}")]
    AddressesExhausted {
        /// The subnet, as `10.77.0.0/16`.
        subnet: String,
        /// The pod that asked.
        pod: String,
    },
    /// A host port is already held, by another pod or by a socket of the host.
    #[error("hostPort {host_ip}:{port}/{protocol} of pod {pod} is already taken by {holder}")]
    HostPortTaken {
        /// The port on the host.
        port: u16,
        /// `TCP` or `UDP`.
        protocol: &'static str,
        /// The host address asked for (`0.0.0.0` for all).
        host_ip: IpAddr,
        /// The pod that asked.
        pod: String,
        /// Who holds it: `pod <id>` or `a listening socket on the host`.
        holder: String,
    },
    /// The `nft` binary ran and refused the ruleset.
    #[error("nft for {what}: {stderr}")]
    Nft {
        /// What the rules were for (`host ports of pod web`).
        what: String,
        /// What nft printed on stderr.
        stderr: String,
    },
    /// A pod asks for host ports but there is no `nft` binary to install
    /// their rules: the pod is refused rather than run unreachable.
    #[error(
        "hostPort {ports} cannot be forwarded: no nft binary ({looked}); install nftables, or remove the hostPort"
    )]
    HostPortsWithoutNft {
        /// The ports asked for, as `8080/TCP, 5353/UDP`.
        ports: String,
        /// Where `nft` was looked for.
        looked: String,
    },
    /// The network configuration given by the caller does not hold.
    #[error("network configuration: {reason}")]
    Config {
        /// What is wrong, naming the field.
        reason: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn file(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::File {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn netlink(action: impl Into<String>, source: io::Error) -> Self {
        Self::Netlink {
            action: action.into(),
            source,
        }
    }
}
