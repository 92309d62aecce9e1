//! The engine's sandbox-less mode: one container with no pause and no
//! supervisor, driven by the calling process (`peapod run`).
//!
//! The same operations as a sandbox's container, in one process: create
//! (held before its `execve`), start, remove. Its host side: one cgroup
//! `peapod-<uid>` with the container's limits ([`sandbox_cgroup`],
//! [`limit_container`]: no children, there is no pause), a network
//! namespace held by an fd (the calling thread unshares one and moves
//! back; `lo` up, or a veth on the bridge as for a pod: the address is
//! leased first, the links made while the held child makes its mounts on
//! the other core), and a fresh overlay layer in `layer_dir` with
//! `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf` written into its
//! upper layer rather than bind-mounted. The container makes its own
//! mount, PID, IPC, UTS and cgroup namespaces and joins the network one,
//! so its command is PID 1. [`Standalone::remove`] is a sandbox's removal
//! ([`SandboxRemoval`]).

use std::net::IpAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;

use peapod_core::{
    Cgroup, ContainerSpawn, Held, NamespacePlan, Namespaces, Process, SeccompFilter, Stdio,
    WindowSize,
};
use peapod_spec::{Container, Pod};
use rustix::fs::{Mode, OFlags};
use tracing::debug_span;

use super::{SandboxRemoval, limit_container, sandbox_cgroup};
use crate::container_process;
use crate::error::{Error, Result};
use crate::images::ResolvedImage;
use crate::network::{self, Mode as NetworkMode};
use crate::pod_files;
use crate::security_context::ProcessSecurity;

/// What a sandbox-less container is made of.
#[derive(Debug)]
pub(crate) struct StandaloneSpec<'a> {
    /// The pod it stands for (its name, uid, hostname, ports).
    pub pod: &'a Pod,
    /// Its one container.
    pub container: &'a Container,
    pub image: &'a ResolvedImage,
    pub security: &'a ProcessSecurity,
    pub seccomp: Option<Arc<SeccompFilter>>,
    /// `lo` only, or the bridge.
    pub network: NetworkMode,
    /// Its stdio; unused with `tty`.
    pub stdio: Stdio,
    /// A terminal of its own devpts as its stdio
    /// ([`Standalone::terminal`]).
    pub tty: bool,
    /// The terminal's size at start (0×0 when `None`).
    pub window_size: Option<WindowSize>,
    /// Where its writable layer goes (`upper`, `work`, `rootfs`).
    pub layer_dir: PathBuf,
}

/// A sandbox-less container on the host, created or running.
#[derive(Debug)]
pub(crate) struct Standalone {
    name: String,
    uid: String,
    network: NetworkMode,
    cgroup: Option<Cgroup>,
    layer_dir: PathBuf,
    /// Its process, held before `execve` until [`Standalone::start`].
    held: Option<Held>,
    /// Its addresses (none with `lo` only).
    pub ips: Vec<IpAddr>,
    /// The master of its terminal (`tty`), for the caller to take.
    pub terminal: Option<OwnedFd>,
}

impl Standalone {
    /// Makes everything of `spec` and its process, held before `execve`.
    /// On error, what was made is removed.
    pub fn create(spec: StandaloneSpec<'_>) -> Result<Self> {
        let mut made = Self {
            name: spec.container.name.clone(),
            uid: spec.pod.metadata.uid.clone().unwrap_or_default(),
            network: spec.network,
            cgroup: None,
            layer_dir: spec.layer_dir.clone(),
            held: None,
            ips: Vec::new(),
            terminal: None,
        };
        match made.build(spec) {
            Ok(()) => Ok(made),
            Err(e) => {
                let _ = made.remove();
                Err(e)
            }
        }
    }

    fn build(&mut self, spec: StandaloneSpec<'_>) -> Result<()> {
        let name = &spec.container.name;
        let fail = |e: &dyn std::fmt::Display| Error::container(name, e);
        let cgroup = sandbox_cgroup(name, &self.uid, None)?;
        let cgroup = &*self.cgroup.insert(cgroup);
        limit_container(cgroup, spec.container).map_err(|e| fail(&e))?;
        let netns = new_netns().map_err(|e| fail(&e))?;
        let (ips, links) = {
            let _s = debug_span!("network_lease").entered();
            network::lease_netns(spec.pod, &self.uid, netns.as_fd(), self.network)?
        };
        self.ips = ips;
        let layers =
            crate::container::fresh_layers(&spec.layer_dir, &spec.layer_dir, &spec.image.lower)
                .map_err(|e| fail(&e))?;
        pod_files::write(spec.pod, &self.ips, &layers.upper.join("etc"))?;
        let hostname = spec.pod.hostname();
        let mut process =
            container_process::process_spec(spec.container, &spec.image.defaults, &hostname);
        spec.security.apply(&mut process);
        process.hostname = Some(hostname);
        process.seccomp = spec.seccomp;
        process.tty = spec.tty;
        process.window_size = spec.window_size;
        let spawn = ContainerSpawn {
            process,
            namespaces: NamespacePlan {
                create: Namespaces::MNT
                    | Namespaces::PID
                    | Namespaces::IPC
                    | Namespaces::UTS
                    | Namespaces::CGROUP,
                join: Namespaces::NET,
            },
            join_from: Some(netns.as_fd()),
            mounts: Some(crate::container::fresh_root_plan(&layers, spec.container)),
            cgroup: Some(cgroup),
            stdio: if spec.tty {
                Stdio::default()
            } else {
                spec.stdio
            },
        };
        let mut held = spawn.spawn_held().map_err(|e| Error::spawn(name, &e))?;
        // The links are made while the child makes its mounts.
        {
            let _s = debug_span!("network_links").entered();
            links.connect()?;
        }
        if spec.tty {
            // Opened by the child once its devpts is mounted.
            self.terminal = Some(held.terminal().map_err(|e| Error::spawn(name, &e))?);
        }
        self.held = Some(held);
        Ok(())
    }

    /// Lets the created process `execve`; the error is the step that
    /// failed before it (a missing executable, a mount).
    pub fn start(&mut self) -> Result<Process> {
        let held = (self.held.take())
            .ok_or_else(|| Error::container(&self.name, "not created, or started already"))?;
        held.release().map_err(|e| Error::spawn(&self.name, &e))
    }

    /// Kills what is left in its cgroup, removes its network, its layer
    /// and its cgroup ([`SandboxRemoval`]). Every step runs; the first
    /// error is returned.
    pub fn remove(&mut self) -> Result<()> {
        // A held child is killed and reaped when dropped.
        self.held = None;
        let cgroup = self.cgroup.take();
        SandboxRemoval {
            name: &self.name,
            uid: &self.uid,
            cgroup: cgroup.as_ref(),
            network: self.network == NetworkMode::Bridge,
            volumes: None,
            folders: vec![self.layer_dir.clone()],
            dying: None,
        }
        .remove()
    }
}

/// `/dev/null` to read, for a container whose stdin is nothing.
pub(crate) fn null_stdin() -> Result<Stdio> {
    Ok(Stdio {
        stdin: Some(
            rustix::fs::open("/dev/null", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
                .map_err(|e| Error::sys("open /dev/null", e))?,
        ),
        ..Stdio::default()
    })
}

/// A new network namespace, held by the returned fd only: the calling
/// thread unshares one and goes back to its own.
fn new_netns() -> std::io::Result<OwnedFd> {
    use rustix::thread::{LinkNameSpaceType, UnshareFlags};
    let open = || {
        rustix::fs::open(
            "/proc/thread-self/ns/net",
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
    };
    let own = open()?;
    // `unshare(CLONE_NEWNET)` alone is sound: rustix deprecated the safe
    // wrapper because of `CLONE_FILES`, which is not used here. Only the
    // calling thread moves, and it moves back below.
    #[allow(deprecated)]
    rustix::thread::unshare(UnshareFlags::NEWNET)?;
    let new = open();
    rustix::thread::move_into_link_name_space(own.as_fd(), Some(LinkNameSpaceType::Network))?;
    Ok(new?)
}
