//! Connections into a pod's network namespace from the host
//! (`port-forward`): the socket is made by a short-lived thread that
//! joined the namespace (`setns` moves only the calling thread), so it
//! lives in the pod's namespace whichever thread then uses it, and
//! `127.0.0.1` there is the pod's loopback.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::OwnedFd;

use rustix::fs::{Mode, OFlags};
use rustix::thread::LinkNameSpaceType;

use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::state::{PodKey, StateStore};

/// A pod's network namespace, held open.
#[derive(Debug)]
pub struct PodNetwork {
    netns: OwnedFd,
}

impl PodNetwork {
    /// The network namespace of pod `key`, through one of its running
    /// containers' processes (every container of a pod shares it).
    pub fn of(paths: &Paths, key: &PodKey) -> Result<Self> {
        let dir = StateStore::new(paths).existing(key)?;
        let record = dir.read_supervisor()?.unwrap_or_default();
        for process in record.containers.values() {
            let path = format!("/proc/{}/ns/net", process.pid);
            let Ok(netns) =
                rustix::fs::open(&path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
            else {
                continue;
            };
            // Opened first, checked after: the namespace is the
            // container's, not a recycled pid's.
            if process.is_alive() {
                return Ok(Self { netns });
            }
        }
        Err(Error::pod(
            &key.name,
            "no running container: the pod's network is not there",
        ))
    }

    /// The network namespace of the engine's sandbox `id` (the CRI's
    /// `PortForward`).
    ///
    /// # Errors
    /// No such sandbox, or none of its containers runs.
    pub fn of_sandbox(paths: &Paths, id: &str) -> Result<Self> {
        let key = PodKey::from_dir_name(id).ok_or_else(|| Error::NotFound {
            name: id.to_owned(),
        })?;
        Self::of(paths, &key)
    }

    /// A TCP connection to `127.0.0.1:port` inside the pod.
    pub fn connect(&self, port: u16) -> std::io::Result<TcpStream> {
        std::thread::scope(|s| {
            s.spawn(|| {
                rustix::thread::move_into_link_name_space(
                    std::os::fd::AsFd::as_fd(&self.netns),
                    Some(LinkNameSpaceType::Network),
                )?;
                TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            })
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the connecting thread panicked")))
        })
    }
}
