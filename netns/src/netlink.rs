//! A synchronous rtnetlink socket: one request, its answers, its ACK.
//!
//! Also the requests this crate makes (links, addresses, routes), each a
//! small function over [`Netlink`], and [`Netlink::open_in`], which opens
//! a socket inside another network namespace without a subprocess.

use std::collections::BTreeSet;
use std::fs::File;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST, NetlinkHeader,
    NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressHeaderFlags, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use crate::error::{Error, Result};

/// Moves the calling thread into the network namespace `netns`.
fn enter(netns: BorrowedFd<'_>) -> io::Result<()> {
    rustix::thread::move_into_link_name_space(
        netns,
        Some(rustix::thread::LinkNameSpaceType::Network),
    )
    .map_err(io::Error::from)
}

/// What the bridge/veth code needs to know about an existing link.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Link {
    pub(crate) index: u32,
    pub(crate) mtu: u32,
}

/// A connected `NETLINK_ROUTE` socket, bound to the network namespace it
/// was opened in.
pub(crate) struct Netlink {
    socket: Socket,
    sequence: u32,
    buffer: Vec<u8>,
}

impl Netlink {
    /// A socket in the caller's network namespace.
    pub(crate) fn open() -> Result<Self> {
        Self::open_here().map_err(|source| Error::netlink("open socket", source))
    }

    fn open_here() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(Self {
            socket,
            sequence: 0,
            buffer: Vec::with_capacity(32 * 1024),
        })
    }

    /// A socket inside the network namespace `netns`. The calling thread
    /// enters it (`setns` moves only this thread), opens the socket, which
    /// stays bound to that namespace for its whole life, and comes back.
    /// No helper thread: under load, waiting for one to be scheduled cost
    /// more than the whole setup.
    pub(crate) fn open_in(netns: BorrowedFd<'_>) -> Result<Self> {
        let home_path = "/proc/thread-self/ns/net";
        let home = File::open(home_path).map_err(|e| Error::file(home_path, e))?;
        enter(netns).map_err(|source| Error::EnterNetns { source })?;
        let socket = Self::open_here();
        if let Err(error) = enter(home.as_fd()) {
            // Going on in the pod's namespace would wire the host's links
            // into the wrong one; setns to our own namespace's fd cannot
            // fail short of kernel trouble, so stop here.
            panic!("cannot return to the host network namespace after setns: {error}");
        }
        socket.map_err(|source| Error::netlink("open socket in the pod's netns", source))
    }

    /// Sends one request and gathers the answers until its ACK or the end
    /// of a dump. A kernel error becomes the `io::Error` of its errno.
    fn request(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> io::Result<Vec<RouteNetlinkMessage>> {
        self.sequence = self.sequence.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.sequence;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(message));
        packet.finalize();
        let mut bytes = vec![0; packet.buffer_len()];
        packet.serialize(&mut bytes);
        self.socket.send(&bytes, 0)?;

        let mut answers = Vec::new();
        loop {
            self.buffer.clear();
            let received = self.socket.recv(&mut self.buffer, 0)?;
            if received > self.buffer.len() {
                return Err(io::Error::other("netlink answer truncated"));
            }
            let mut offset = 0;
            while offset < self.buffer.len() {
                let answer: NetlinkMessage<RouteNetlinkMessage> =
                    NetlinkMessage::deserialize(&self.buffer[offset..])
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                let length = answer.header.length as usize;
                if answer.header.sequence_number == self.sequence {
                    match answer.payload {
                        NetlinkPayload::Error(error) if error.code.is_some() => {
                            return Err(error.to_io());
                        }
                        NetlinkPayload::Error(_) | NetlinkPayload::Done(_) => return Ok(answers),
                        NetlinkPayload::InnerMessage(inner) => answers.push(inner),
                        _ => {}
                    }
                }
                if length == 0 {
                    break;
                }
                offset += length;
            }
        }
    }

    /// Sends a request that creates or changes something, waiting for the ACK.
    fn change(&mut self, message: RouteNetlinkMessage, flags: u16) -> io::Result<()> {
        self.request(message, NLM_F_ACK | flags).map(drop)
    }

    /// The link called `name`, or `None` when there is none.
    pub(crate) fn link(&mut self, name: &str) -> Result<Option<Link>> {
        let mut message = LinkMessage::default();
        message
            .attributes
            .push(LinkAttribute::IfName(name.to_owned()));
        match self.request(RouteNetlinkMessage::GetLink(message), NLM_F_ACK) {
            Ok(answers) => Ok(answers.into_iter().find_map(|answer| match answer {
                RouteNetlinkMessage::NewLink(link) => Some(Link {
                    index: link.header.index,
                    mtu: link
                        .attributes
                        .iter()
                        .find_map(|a| match a {
                            LinkAttribute::Mtu(mtu) => Some(*mtu),
                            _ => None,
                        })
                        .unwrap_or(1500),
                }),
                _ => None,
            })),
            Err(error) if error.raw_os_error() == Some(rustix::io::Errno::NODEV.raw_os_error()) => {
                Ok(None)
            }
            Err(source) => Err(Error::netlink(format!("look up link {name}"), source)),
        }
    }

    /// The names of every link of this namespace, in one dump.
    pub(crate) fn link_names(&mut self) -> Result<BTreeSet<String>> {
        let answers = self
            .request(
                RouteNetlinkMessage::GetLink(LinkMessage::default()),
                NLM_F_DUMP,
            )
            .map_err(|source| Error::netlink("list links", source))?;
        Ok(answers
            .into_iter()
            .filter_map(|answer| match answer {
                RouteNetlinkMessage::NewLink(link) => {
                    link.attributes.into_iter().find_map(|a| match a {
                        LinkAttribute::IfName(name) => Some(name),
                        _ => None,
                    })
                }
                _ => None,
            })
            .collect())
    }

    /// Creates a bridge called `name`; an existing one is left alone.
    pub(crate) fn create_bridge(&mut self, name: &str) -> Result<()> {
        let mut message = LinkMessage::default();
        message.attributes = vec![
            LinkAttribute::IfName(name.to_owned()),
            LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Bridge)]),
        ];
        match self.change(
            RouteNetlinkMessage::NewLink(message),
            NLM_F_CREATE | NLM_F_EXCL,
        ) {
            Err(error) if error.kind() != io::ErrorKind::AlreadyExists => {
                Err(Error::netlink(format!("create bridge {name}"), error))
            }
            _ => Ok(()),
        }
    }

    /// Creates a veth pair in one request: `host` here, up, attached to
    /// `bridge`; its peer created directly inside `netns` as `peer`. Both
    /// ends take the bridge's MTU.
    pub(crate) fn create_veth(
        &mut self,
        host: &str,
        peer: &str,
        bridge: Link,
        netns: BorrowedFd<'_>,
    ) -> Result<()> {
        let mut peer_message = LinkMessage::default();
        peer_message.attributes = vec![
            LinkAttribute::IfName(peer.to_owned()),
            LinkAttribute::Mtu(bridge.mtu),
            LinkAttribute::NetNsFd(netns.as_raw_fd()),
        ];
        let mut message = LinkMessage::default();
        message.header.flags = LinkFlags::Up;
        message.header.change_mask = LinkFlags::Up;
        message.attributes = vec![
            LinkAttribute::IfName(host.to_owned()),
            LinkAttribute::Mtu(bridge.mtu),
            LinkAttribute::Controller(bridge.index),
            LinkAttribute::LinkInfo(vec![
                LinkInfo::Kind(InfoKind::Veth),
                LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_message))),
            ]),
        ];
        self.change(
            RouteNetlinkMessage::NewLink(message),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .map_err(|source| Error::netlink(format!("create veth {host} (peer {peer})"), source))
    }

    /// Deletes the link called `name`; `false` when there was none.
    pub(crate) fn delete_link(&mut self, name: &str) -> Result<bool> {
        let mut message = LinkMessage::default();
        message
            .attributes
            .push(LinkAttribute::IfName(name.to_owned()));
        match self.change(RouteNetlinkMessage::DelLink(message), 0) {
            Ok(()) => Ok(true),
            Err(error) if error.raw_os_error() == Some(rustix::io::Errno::NODEV.raw_os_error()) => {
                Ok(false)
            }
            Err(source) => Err(Error::netlink(format!("delete link {name}"), source)),
        }
    }

    /// Sets the link `index` (called `name` in errors) up.
    pub(crate) fn set_up(&mut self, index: u32, name: &str) -> Result<()> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        message.header.flags = LinkFlags::Up;
        message.header.change_mask = LinkFlags::Up;
        self.change(RouteNetlinkMessage::SetLink(message), 0)
            .map_err(|source| Error::netlink(format!("set {name} up"), source))
    }

    /// Gives the link `index` the address `ip/prefix` (replacing the same
    /// address if present, so calling twice is harmless). IPv6 addresses
    /// skip duplicate address detection: IPAM already made them unique,
    /// and DAD would keep them unusable for a second.
    pub(crate) fn add_address(
        &mut self,
        index: u32,
        name: &str,
        ip: IpAddr,
        prefix: u8,
    ) -> Result<()> {
        let mut message = AddressMessage::default();
        message.header.prefix_len = prefix;
        message.header.index = index;
        message.attributes = vec![AddressAttribute::Local(ip), AddressAttribute::Address(ip)];
        match ip {
            IpAddr::V4(v4) => {
                message.header.family = AddressFamily::Inet;
                let host_bits = u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
                let broadcast = Ipv4Addr::from(u32::from(v4) | host_bits);
                message
                    .attributes
                    .push(AddressAttribute::Broadcast(broadcast));
            }
            IpAddr::V6(_) => {
                message.header.family = AddressFamily::Inet6;
                message.header.flags = AddressHeaderFlags::Nodad;
            }
        }
        self.change(
            RouteNetlinkMessage::NewAddress(message),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
        .map_err(|source| Error::netlink(format!("add address {ip}/{prefix} to {name}"), source))
    }

    /// Adds the default route via `gateway` out of link `index`.
    pub(crate) fn add_default_route(&mut self, index: u32, gateway: IpAddr) -> Result<()> {
        let mut message = RouteMessage::default();
        message.header.address_family = match gateway {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        };
        message.header.table = RouteHeader::RT_TABLE_MAIN;
        message.header.protocol = RouteProtocol::Boot;
        message.header.scope = RouteScope::Universe;
        message.header.kind = RouteType::Unicast;
        message.attributes = vec![
            RouteAttribute::Gateway(RouteAddress::from(gateway)),
            RouteAttribute::Oif(index),
        ];
        self.change(
            RouteNetlinkMessage::NewRoute(message),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
        .map_err(|source| Error::netlink(format!("add default route via {gateway}"), source))
    }
}
