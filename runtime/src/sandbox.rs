//! The pod sandbox: everything a pod has before its containers: the pod
//! cgroup (with its pids limit), the pause process holding the shared namespaces, its network
//! (bridge veth and address, or loopback only: [`crate::network`]),
//! the pod files, and the volumes with their pod-level tmpfs.
//!
//! Built step by step; when a step fails, what the earlier ones made is
//! removed before the error is returned, so a failed start leaves nothing.
//! The network is leased here (the hosts file needs the address) but
//! wired by [`Sandbox::connect_network`] once the first containers are set
//! up, before they run.

use std::cell::RefCell;
use std::net::IpAddr;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::PathBuf;

use peapod_core::{Cgroup, IdMap, PauseSpec, Process};
use peapod_spec::Pod;
use peapod_volumes::{PodFiles, PodVolumes, VolumeInputs};
use tracing::debug_span;

use crate::engine;
use crate::error::{Error, Result};
use crate::network;
use crate::parked_streams::ParkedStreams;
use crate::paths::Paths;
use crate::pod_config::PodConfig;
use crate::pod_files;
use crate::seccomp_profile::FilterCache;
use crate::security_context::PodSecurity;
use crate::state::ProcessRecord;
use crate::teardown::{self, PodResources};
use crate::trash::Trash;
use crate::userns_ids::IdBlocks;

/// The running sandbox of one pod.
#[derive(Debug)]
pub(crate) struct Sandbox {
    pub resources: PodResources,
    pub cgroup: Cgroup,
    pub pause: Process,
    pub volumes: PodVolumes,
    pub files: PodFiles,
    pub pod_ips: Vec<IpAddr>,
    /// The links still to make ([`Sandbox::connect_network`]); `None`
    /// once made, and with `hostNetwork`.
    network: Option<network::Pending>,
    /// `status.hostIP`: the host's address.
    pub host_ip: Option<IpAddr>,
    pub host_network: bool,
    pub share_pid: bool,
    /// `hostPID`: containers stay in the host's PID namespace.
    pub host_pid: bool,
    /// `<lib>/pods/<uid>`.
    pub lib_dir: PathBuf,
    /// `<run>/mounts/<uid>`: the mount points nothing writes to.
    pub run_dir: PathBuf,
    /// The ConfigMaps and Secrets the pod reads.
    pub config: PodConfig,
    /// The pod's side of each container's security.
    pub security: PodSecurity,
    /// The containers' seccomp filters, compiled once per profile.
    pub seccomp: RefCell<FilterCache>,
    /// `hostUsers: false`: the host ids of the pod's user namespace.
    pub id_map: Option<IdMap>,
    /// Copies of the containers' log streams, held by the pause.
    pub parked: ParkedStreams,
}

/// What [`Sandbox::build`] made after the pod cgroup.
struct Built {
    pause: Process,
    parked: ParkedStreams,
    id_map: Option<IdMap>,
    volumes: PodVolumes,
    files: PodFiles,
    pod_ips: Vec<IpAddr>,
    network: Option<network::Pending>,
}

impl Sandbox {
    /// Builds the sandbox of `pod`, in the supervisor's own mount
    /// namespace (the pod tmpfs are mounted there); its cgroup in
    /// `cgroup_parent` when given.
    pub fn create(
        paths: &Paths,
        pod: &Pod,
        resources: PodResources,
        config: PodConfig,
        cgroup_parent: Option<&std::path::Path>,
    ) -> Result<Self> {
        let _span = debug_span!("sandbox", pod = %resources.name).entered();
        let name = resources.name.clone();
        let fail = |e: &dyn std::fmt::Display| Error::pod(&name, e);
        let security = PodSecurity::of(pod).map_err(|e| fail(&e))?;
        let cgroup = {
            let _s = debug_span!("pod_cgroup").entered();
            engine::sandbox_cgroup(&name, &resources.uid, cgroup_parent)?
        };
        if let Some(pod_resources) = &pod.spec.resources {
            // Pod-level resources: the pod cgroup's own limits, above
            // every container's.
            let limits = crate::container_process::resource_limits(pod_resources);
            if let Err(e) = cgroup.set_limits(&limits) {
                let _ = cgroup.remove(crate::teardown::CGROUP_TIMEOUT);
                return Err(fail(&e));
            }
        }
        let built = Self::build(paths, pod, &resources, &cgroup, &config);
        match built {
            Ok(Built {
                pause,
                parked,
                id_map,
                volumes,
                files,
                pod_ips,
                network,
            }) => {
                let host_ip = {
                    let _s = debug_span!("host_ip").entered();
                    host_ips().first().copied()
                };
                Ok(Self {
                    host_ip,
                    lib_dir: teardown::lib_dir(paths, &resources.uid),
                    run_dir: teardown::run_dir(paths, &resources.uid),
                    seccomp: RefCell::new(FilterCache::new(paths)),
                    config: config.with_fields(pod, &pod_ips, host_ip),
                    resources,
                    cgroup,
                    pause,
                    volumes,
                    files,
                    pod_ips,
                    network,
                    host_network: pod.spec.host_network.unwrap_or(false),
                    share_pid: pod.spec.share_process_namespace.unwrap_or(false),
                    host_pid: pod.spec.host_pid.unwrap_or(false),
                    security,
                    id_map,
                    parked,
                })
            }
            Err(e) => {
                let _ = teardown::remove_pod_resources(paths, &resources, Some(&cgroup));
                Err(e)
            }
        }
    }

    fn build(
        paths: &Paths,
        pod: &Pod,
        resources: &PodResources,
        cgroup: &Cgroup,
        config: &PodConfig,
    ) -> Result<Built> {
        let name = &resources.name;
        let host_network = pod.spec.host_network.unwrap_or(false);
        // The pause makes the pod's namespaces on the other core while the
        // volumes are prepared here.
        let pause_cgroup = cgroup
            .child(PAUSE_CGROUP)
            .map_err(|e| Error::pod(name, e))?;
        let user_namespace = if pod.spec.host_users == Some(false) {
            let me = ProcessRecord::of(std::process::id().cast_signed())
                .ok_or_else(|| Error::pod(name, "the supervisor's own start time is unreadable"))?;
            Some(IdBlocks::new(&paths.lib).allocate(&resources.uid, me)?)
        } else {
            None
        };
        let parked = ParkedStreams::new().map_err(|e| Error::pod(name, e))?;
        let pause_spec = PauseSpec {
            host_network,
            share_process_namespace: pod.spec.share_process_namespace.unwrap_or(false),
            host_ipc: pod.spec.host_ipc.unwrap_or(false),
            hostname: Some(pod_files::uts_hostname(pod)),
            cgroup: Some(&pause_cgroup),
            exe: None,
            user_namespace,
            keeper: Some(parked.pause_end()),
            sysctls: pod
                .spec
                .security_context
                .iter()
                .flat_map(|sc| &sc.sysctls)
                .map(|s| (s.name.clone(), s.value.clone()))
                .collect(),
        };
        let pause_error = |e| Error::pod(name, format!("pause: {e}"));
        let starting = peapod_core::start_pause(&pause_spec).map_err(pause_error)?;
        let volumes = {
            let _s = debug_span!("volumes").entered();
            let inputs = VolumeInputs {
                config_maps: &config.config_maps,
                secrets: &config.secrets,
                node: None,
            };
            let run = teardown::run_dir(paths, &resources.uid);
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&run)
                .map_err(|e| Error::io(&run, e))?;
            let dirs = teardown::volume_dirs(paths, &resources.uid);
            let v =
                PodVolumes::prepare_with(pod, dirs, &inputs).map_err(|e| Error::pod(name, e))?;
            v.mount_tmpfs().map_err(|e| Error::pod(name, e))?;
            v
        };
        // The address (the hosts file needs it) and the pod files need no
        // namespace: made while the pause still makes its own. A failure
        // from here on gives the lease back with the pod's resources.
        let (pod_ips, lease) = if host_network {
            (host_ips(), None)
        } else {
            let _s = debug_span!("network").entered();
            let (ips, lease) = network::lease(pod, &resources.uid)?;
            (ips, Some(lease))
        };
        let etc = teardown::lib_dir(paths, &resources.uid).join("etc");
        let files = {
            let _s = debug_span!("pod_files").entered();
            pod_files::write(pod, &pod_ips, &etc)?
        };
        let pause = starting.wait().map_err(pause_error)?;
        let network = lease
            .map(|lease| lease.in_pause_netns(pause.pid()))
            .transpose()?;
        Ok(Built {
            pause,
            parked,
            id_map: user_namespace,
            volumes,
            files,
            pod_ips,
            network,
        })
    }

    /// Stops the pause and removes everything of the pod (processes left
    /// in its cgroup are killed), its folders put in `trash`.
    pub fn destroy(self, paths: &Paths, trash: &mut Trash) -> Result<()> {
        // Reaped on the way (no zombie pause outlives the supervisor),
        // while its network, volumes and folders go.
        let dying = self.pause.kill().is_ok().then_some(&self.pause);
        teardown::remove_pod_resources_with(
            paths,
            &self.resources,
            Some(&self.cgroup),
            dying,
            trash,
        )
    }

    /// Makes the pod's links (bridge veth, addresses, host ports; or `lo`
    /// up): called once its first containers are set up, before any of
    /// them runs. Nothing to do the second time.
    pub fn connect_network(&mut self) -> Result<()> {
        self.network
            .take()
            .map_or(Ok(()), network::Pending::connect)
    }

    /// The pause's cgroup child for a container, made with its limits.
    pub fn container_cgroup(&self, container: &str) -> peapod_core::Result<Cgroup> {
        self.cgroup.child(container)
    }
}

/// The pause's cgroup in the pod's: not a DNS-1123 label, so no
/// container's (named by a label; an engine container's is
/// `<name>.<attempt>`) nor an ephemeral container's is ever the pause's:
/// the leftovers of a container named `pause`, killed by its cgroup when
/// it exits, are never the pause.
pub(crate) const PAUSE_CGROUP: &str = "_pause";

/// Makes the supervisor's mount namespace its own, with private
/// propagation: pod-level mounts never reach the host and vanish with it.
pub(crate) fn enter_private_mount_namespace() -> Result<()> {
    // `unshare(CLONE_NEWNS)` alone is sound: rustix deprecated the safe
    // wrapper because of `CLONE_FILES`, which is not used here. The
    // supervisor is single-threaded at this point.
    #[allow(deprecated)]
    rustix::thread::unshare(rustix::thread::UnshareFlags::NEWNS)
        .map_err(|e| Error::sys("unshare mount namespace", e))?;
    rustix::mount::mount_change(
        "/",
        rustix::mount::MountPropagationFlags::PRIVATE | rustix::mount::MountPropagationFlags::REC,
    )
    .map_err(|e| Error::sys("make / private", e))
}

/// The host's address, for `status.hostIP` and a `hostNetwork` pod's
/// `podIP`: the source address of the host's default route (a UDP socket
/// connected to TEST-NET-1 sends nothing: a route lookup, no DNS, no
/// file), else the first non-loopback address the host's name resolves to
/// (`hostname -i`; a lookup in `/etc/hosts`, maybe DNS) on a host without
/// a default route.
fn host_ips() -> Vec<IpAddr> {
    use std::net::{ToSocketAddrs, UdpSocket};
    let routed = || {
        let socket = UdpSocket::bind(("0.0.0.0", 0)).ok()?;
        socket.connect(("192.0.2.1", 9)).ok()?;
        Some(socket.local_addr().ok()?.ip())
    };
    let named = || {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        (host.trim(), 0)
            .to_socket_addrs()
            .ok()
            .and_then(|addrs| addrs.map(|a| a.ip()).find(|ip| !ip.is_loopback()))
    };
    routed().or_else(named).into_iter().collect()
}
