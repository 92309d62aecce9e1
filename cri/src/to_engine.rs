//! CRI requests as the engine's configurations. What a single host cannot
//! give, or peapod does not do yet, is refused with `INVALID_ARGUMENT` or
//! `UNIMPLEMENTED` naming the field, never dropped silently; what every
//! kubelet sends and peapod cannot apply is said once ([`enforcement`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use peapod_runtime::engine::{ContainerConfig, Mount, PortMapping, Propagation, SandboxConfig};
use peapod_spec::{
    Capabilities, PodDNSConfig, PodDNSConfigOption, PodSecurityContext, Protocol, Quantity,
    ResourceRequirements, SeccompProfile, SeccompProfileType, SecurityContext, Sysctl,
};
use tonic::Status;

use crate::api;
use crate::enforcement::{self, apparmor, masked_paths, strict_groups, swap, warn_once};

/// `NamespaceMode` values of the CRI.
const MODE_POD: i32 = 0;
const MODE_CONTAINER: i32 = 1;
const MODE_NODE: i32 = 2;
const MODE_TARGET: i32 = 3;

/// `UNIMPLEMENTED`, naming the field and why.
pub(crate) fn unsupported(field: &str, why: &str) -> Status {
    Status::unimplemented(format!("{field}: {why}"))
}

/// `RunPodSandbox`'s config as the engine's.
pub(crate) fn sandbox(config: &api::PodSandboxConfig) -> Result<SandboxConfig, Status> {
    let meta = config
        .metadata
        .as_ref()
        .ok_or_else(|| Status::invalid_argument("config.metadata is required"))?;
    let linux = config.linux.clone().unwrap_or_default();
    let security = linux.security_context.clone().unwrap_or_default();
    let ns = security.namespace_options.clone().unwrap_or_default();
    if ns.network == MODE_CONTAINER || ns.ipc == MODE_CONTAINER {
        return Err(Status::invalid_argument(
            "namespace_options: network and ipc are the pod's or the node's",
        ));
    }
    if !ns.target_id.is_empty() || ns.pid > MODE_NODE {
        return Err(unsupported(
            "namespace_options.target_id",
            "a target PID namespace is not supported",
        ));
    }
    if ns
        .userns_options
        .as_ref()
        .is_some_and(|u| u.mode != MODE_NODE)
    {
        return Err(unsupported(
            "namespace_options.userns_options",
            "a user namespace of the pod's own is not supported over the CRI yet",
        ));
    }
    if security.selinux_options.is_some() {
        return Err(unsupported("selinux_options", "SELinux is not supported"));
    }
    strict_groups(
        "linux.security_context",
        security.supplemental_groups_policy,
    )?;
    apparmor(
        "linux.security_context.apparmor",
        security.apparmor.as_ref(),
    )?;
    if linux.resources.is_some() || linux.overhead.is_some() {
        // The CRI's own words: on Linux the kubelet configures the pod
        // cgroup (`cgroup_parent`) with them; hints for VM runtimes.
        warn_once(
            "linux.resources/overhead of a sandbox",
            "the kubelet limits the pod cgroup under cgroup_parent itself; peapod limits \
             each container",
        );
    }
    let mut pod_security = PodSecurityContext {
        run_as_user: security.run_as_user.map(|v| v.value),
        run_as_group: security.run_as_group.map(|v| v.value),
        supplemental_groups: security.supplemental_groups.clone(),
        seccomp_profile: security.seccomp.as_ref().map(seccomp).transpose()?,
        ..PodSecurityContext::default()
    };
    pod_security.sysctls = linux
        .sysctls
        .iter()
        .map(|(name, value)| Sysctl {
            name: name.clone(),
            value: value.clone(),
        })
        .collect::<Vec<_>>();
    pod_security.sysctls.sort_by(|a, b| a.name.cmp(&b.name));
    let port_mappings = config
        .port_mappings
        .iter()
        .map(port_mapping)
        .collect::<Result<_, _>>()?;
    Ok(SandboxConfig {
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        attempt: meta.attempt,
        hostname: Some(config.hostname.clone()).filter(|h| !h.is_empty()),
        dns: config.dns_config.as_ref().map(dns),
        port_mappings,
        cgroup_parent: Some(linux.cgroup_parent.clone()).filter(|p| !p.is_empty()),
        host_network: ns.network == MODE_NODE,
        host_pid: ns.pid == MODE_NODE,
        host_ipc: ns.ipc == MODE_NODE,
        share_pid: ns.pid == MODE_POD,
        security_context: Some(pod_security),
        labels: sorted(&config.labels),
        annotations: sorted(&config.annotations),
        log_directory: Some(PathBuf::from(&config.log_directory))
            .filter(|d| !d.as_os_str().is_empty()),
    })
}

fn port_mapping(m: &api::PortMapping) -> Result<PortMapping, Status> {
    let protocol = match api::Protocol::try_from(m.protocol) {
        Ok(api::Protocol::Tcp) => Protocol::Tcp,
        Ok(api::Protocol::Udp) => Protocol::Udp,
        _ => {
            return Err(unsupported(
                "port_mappings.protocol",
                "SCTP is not supported",
            ));
        }
    };
    let port = |p: i32, what: &str| {
        u16::try_from(p)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| Status::invalid_argument(format!("port_mappings.{what}: {p}")))
    };
    Ok(PortMapping {
        protocol,
        container_port: port(m.container_port, "container_port")?,
        host_port: port(m.host_port, "host_port")?,
        host_ip: Some(m.host_ip.clone()).filter(|ip| !ip.is_empty()),
    })
}

fn dns(d: &api::DnsConfig) -> PodDNSConfig {
    PodDNSConfig {
        nameservers: d.servers.clone(),
        searches: d.searches.clone(),
        options: d
            .options
            .iter()
            .map(|o| {
                let (name, value) = match o.split_once(':') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (o.as_str(), None),
                };
                PodDNSConfigOption {
                    name: name.to_string(),
                    value,
                }
            })
            .collect(),
    }
}

fn seccomp(p: &api::SecurityProfile) -> Result<SeccompProfile, Status> {
    use api::security_profile::ProfileType;
    Ok(match ProfileType::try_from(p.profile_type) {
        Ok(ProfileType::RuntimeDefault) => SeccompProfile {
            type_: SeccompProfileType::RuntimeDefault,
            localhost_profile: None,
        },
        Ok(ProfileType::Unconfined) => SeccompProfile {
            type_: SeccompProfileType::Unconfined,
            localhost_profile: None,
        },
        Ok(ProfileType::Localhost) => SeccompProfile {
            type_: SeccompProfileType::Localhost,
            localhost_profile: Some(p.localhost_ref.clone()),
        },
        Err(_) => return Err(Status::invalid_argument("seccomp.profile_type")),
    })
}

fn sorted(map: &std::collections::HashMap<String, String>) -> BTreeMap<String, String> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The kubelet's QoS score of a container: enforced (0 is what it
/// inherits anyway).
fn oom_score_adj(r: &api::LinuxContainerResources) -> Result<Option<i32>, Status> {
    match r.oom_score_adj {
        0 => Ok(None),
        v @ -1000..=1000 => Ok(i32::try_from(v).ok()),
        v => Err(Status::invalid_argument(format!(
            "resources.oom_score_adj {v}: out of -1000..=1000"
        ))),
    }
}

/// `CreateContainer`'s config as the engine's.
pub(crate) fn container(config: &api::ContainerConfig) -> Result<ContainerConfig, Status> {
    let meta = config
        .metadata
        .as_ref()
        .ok_or_else(|| Status::invalid_argument("config.metadata is required"))?;
    let image = config
        .image
        .as_ref()
        .map(|i| i.image.clone())
        .filter(|i| !i.is_empty())
        .ok_or_else(|| Status::invalid_argument("config.image is required"))?;
    if !config.devices.is_empty() || !config.cdi_devices.is_empty() {
        return Err(unsupported("devices", "host devices are not supported yet"));
    }
    if config.stdin_once {
        return Err(Status::invalid_argument(
            "stdin_once: peapod keeps a container's stdin open across attaches; \
             leave stdinOnce unset",
        ));
    }
    let linux = config.linux.clone().unwrap_or_default();
    let mounts = config
        .mounts
        .iter()
        .map(mount)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ContainerConfig {
        name: meta.name.clone(),
        attempt: meta.attempt,
        image,
        command: config.command.clone(),
        args: config.args.clone(),
        env: config
            .envs
            .iter()
            .map(|kv| (kv.key.clone(), kv.value.clone()))
            .collect(),
        working_dir: Some(config.working_dir.clone()).filter(|w| !w.is_empty()),
        mounts,
        devices: Vec::new(),
        resources: linux.resources.as_ref().map(resources).transpose()?,
        security_context: linux
            .security_context
            .as_ref()
            .map(container_security)
            .transpose()?,
        log_path: Some(PathBuf::from(&config.log_path)).filter(|p| !p.as_os_str().is_empty()),
        stdin: config.stdin,
        tty: config.tty,
        oom_score_adj: linux
            .resources
            .as_ref()
            .map(oom_score_adj)
            .transpose()?
            .flatten(),
        labels: sorted(&config.labels),
        annotations: sorted(&config.annotations),
    })
}

fn mount(m: &api::Mount) -> Result<Mount, Status> {
    if m.image.as_ref().is_some_and(|i| !i.image.is_empty()) {
        return Err(unsupported(
            "mounts.image",
            "image volumes are not supported",
        ));
    }
    if !m.uid_mappings.is_empty() || !m.gid_mappings.is_empty() {
        return Err(unsupported(
            "mounts.uidMappings",
            "idmapped mounts over the CRI",
        ));
    }
    if m.selinux_relabel && enforcement::selinux_enabled() {
        return Err(unsupported(
            "mounts.selinux_relabel",
            "SELinux is not supported",
        ));
    }
    let propagation = match api::MountPropagation::try_from(m.propagation) {
        Ok(api::MountPropagation::PropagationHostToContainer) => Propagation::HostToContainer,
        Ok(api::MountPropagation::PropagationBidirectional) => Propagation::Bidirectional,
        _ => Propagation::Private,
    };
    Ok(Mount {
        host_path: PathBuf::from(&m.host_path),
        container_path: PathBuf::from(&m.container_path),
        readonly: m.readonly || m.recursive_read_only,
        propagation,
    })
}

/// The CRI's cgroup settings as a container's `resources`: the CPU
/// quota over the period as a CPU limit, shares as a CPU request, the
/// memory limit. cpuset, hugepages and `unified` are refused when set.
/// `oom_score_adj` is taken at creation only (an update cannot change a
/// pod's QoS class, whose score it is).
pub(crate) fn resources(r: &api::LinuxContainerResources) -> Result<ResourceRequirements, Status> {
    if !r.cpuset_cpus.is_empty() || !r.cpuset_mems.is_empty() {
        return Err(unsupported("resources.cpuset", "cpusets are not supported"));
    }
    if r.hugepage_limits.iter().any(|h| h.limit != 0) {
        return Err(unsupported("resources.hugepage_limits", "not supported"));
    }
    swap(r)?;
    let quantity = |text: String| {
        Quantity::parse(&text).map_err(|e| Status::invalid_argument(format!("resources: {e}")))
    };
    let mut out = ResourceRequirements::default();
    if r.cpu_quota > 0 && r.cpu_period > 0 {
        let milli = r.cpu_quota * 1000 / r.cpu_period;
        out.limits
            .insert("cpu".into(), quantity(format!("{}m", milli.max(1)))?);
    }
    if r.cpu_shares > 2 {
        let milli = r.cpu_shares * 1000 / 1024;
        out.requests
            .insert("cpu".into(), quantity(format!("{}m", milli.max(1)))?);
    }
    if r.memory_limit_in_bytes > 0 {
        out.limits.insert(
            "memory".into(),
            quantity(r.memory_limit_in_bytes.to_string())?,
        );
    }
    Ok(out)
}

fn container_security(s: &api::LinuxContainerSecurityContext) -> Result<SecurityContext, Status> {
    if s.selinux_options.is_some() {
        return Err(unsupported("selinux_options", "SELinux is not supported"));
    }
    if !s.run_as_username.is_empty() {
        return Err(unsupported(
            "run_as_username",
            "give a numeric run_as_user (the image's user is used otherwise)",
        ));
    }
    apparmor("apparmor", s.apparmor.as_ref())?;
    masked_paths(s)?;
    strict_groups("security_context", s.supplemental_groups_policy)?;
    if s.namespace_options
        .as_ref()
        .is_some_and(|n| n.pid == MODE_TARGET || !n.target_id.is_empty())
    {
        return Err(unsupported(
            "namespace_options.pid",
            "a container in another container's PID namespace (TARGET) is not supported",
        ));
    }
    let caps = s.capabilities.clone().unwrap_or_default();
    if !caps.add_ambient_capabilities.is_empty() {
        return Err(unsupported(
            "capabilities.add_ambient_capabilities",
            "ambient capabilities are not supported",
        ));
    }
    let name = |c: &String| c.strip_prefix("CAP_").unwrap_or(c).to_string();
    Ok(SecurityContext {
        capabilities: Some(Capabilities {
            add: caps.add_capabilities.iter().map(name).collect(),
            drop: caps.drop_capabilities.iter().map(name).collect(),
        }),
        privileged: Some(s.privileged),
        run_as_user: s.run_as_user.map(|v| v.value),
        run_as_group: s.run_as_group.map(|v| v.value),
        read_only_root_filesystem: Some(s.readonly_rootfs),
        allow_privilege_escalation: Some(!s.no_new_privs),
        seccomp_profile: s.seccomp.as_ref().map(seccomp).transpose()?,
        ..SecurityContext::default()
    })
}
