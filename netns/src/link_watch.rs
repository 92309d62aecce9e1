//! Waiting for links to vanish: a pod's veth is not deleted on the
//! user's path but goes with its network namespace, destroyed by the
//! kernel in its own worker once the last process and fd are gone. Leak
//! checks wait here, on the link notifications of netlink, before they
//! look.

use std::collections::BTreeSet;
use std::io;
use std::time::{Duration, Instant};

use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
use rustix::event::{PollFd, PollFlags, Timespec, poll};

use crate::error::{Error, Result};
use crate::netlink::Netlink;

/// `RTNLGRP_LINK`: the multicast group of link changes.
const RTNLGRP_LINK: u32 = 1;

/// Waits until no link of the host's network namespace is picked by
/// `watched` (a name filter, such as `pp*`), or `timeout` passed. Returns
/// the watched links still there: empty once they are all gone.
///
/// The notification socket subscribes before the first look, so a link
/// that goes between the look and the wait still wakes it; each wake-up
/// looks again with one dump of the links.
pub fn wait_links_gone(watched: impl Fn(&str) -> bool, timeout: Duration) -> Result<Vec<String>> {
    let deadline = Instant::now() + timeout;
    let watch = subscribe().map_err(|source| Error::netlink("watch link changes", source))?;
    let mut netlink = Netlink::open()?;
    loop {
        let left: Vec<String> = netlink
            .link_names()?
            .into_iter()
            .filter(|name| watched(name))
            .collect();
        let now = Instant::now();
        if left.is_empty() || now >= deadline {
            return Ok(left);
        }
        wait_for_changes(&watch, deadline - now)
            .map_err(|source| Error::netlink("wait for link changes", source))?;
    }
}

/// Waits until the links named `names` are gone, or `timeout` passed;
/// the ones still there.
pub fn wait_named_links_gone(names: &[String], timeout: Duration) -> Result<Vec<String>> {
    let names: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    wait_links_gone(|name| names.contains(name), timeout)
}

fn subscribe() -> io::Result<Socket> {
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind(&SocketAddr::new(0, 0))?;
    socket.add_membership(RTNLGRP_LINK)?;
    socket.set_non_blocking(true)?;
    Ok(socket)
}

/// Sleeps until a link notification arrives (or `timeout`), then reads
/// every pending one: only their arrival matters.
fn wait_for_changes(watch: &Socket, timeout: Duration) -> io::Result<()> {
    let mut fds = [PollFd::new(watch, PollFlags::IN)];
    let timeout = Timespec::try_from(timeout).map_err(io::Error::other)?;
    match poll(&mut fds, Some(&timeout)) {
        Ok(_) | Err(rustix::io::Errno::INTR) => {}
        Err(e) => return Err(e.into()),
    }
    let mut buffer = Vec::with_capacity(64 * 1024);
    loop {
        buffer.clear();
        match watch.recv(&mut buffer, 0) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            // Notifications lost to a full buffer: the next dump tells.
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOBUFS.raw_os_error()) => {}
            Err(e) => return Err(e),
        }
    }
}
