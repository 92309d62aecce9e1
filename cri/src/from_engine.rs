//! The engine's records as CRI messages, and the CRI's list filters.

use std::collections::HashMap;

use peapod_runtime::engine::{
    ContainerState, ContainerStatus, InterfaceStats, SandboxState, SandboxStats, SandboxStatus,
};

use crate::api;

fn map(m: &std::collections::BTreeMap<String, String>) -> HashMap<String, String> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Every label of `selector` is on `labels` with that value.
pub(crate) fn selected(
    selector: &HashMap<String, String>,
    labels: &std::collections::BTreeMap<String, String>,
) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

fn sandbox_metadata(s: &SandboxStatus) -> api::PodSandboxMetadata {
    api::PodSandboxMetadata {
        name: s.config.name.clone(),
        uid: s.config.uid.clone(),
        namespace: s.config.namespace().to_string(),
        attempt: s.config.attempt,
    }
}

pub(crate) fn sandbox_state(s: &SandboxStatus) -> i32 {
    match s.state {
        SandboxState::Ready => api::PodSandboxState::SandboxReady as i32,
        SandboxState::NotReady => api::PodSandboxState::SandboxNotready as i32,
    }
}

/// `ListPodSandbox`'s entry.
pub(crate) fn pod_sandbox(s: &SandboxStatus) -> api::PodSandbox {
    api::PodSandbox {
        id: s.id.clone(),
        metadata: Some(sandbox_metadata(s)),
        state: sandbox_state(s),
        created_at: s.created_at,
        labels: map(&s.config.labels),
        annotations: map(&s.config.annotations),
        runtime_handler: String::new(),
    }
}

/// `PodSandboxStatus`'s status: IPs, namespaces, state, times.
pub(crate) fn pod_sandbox_status(s: &SandboxStatus) -> api::PodSandboxStatus {
    use api::NamespaceMode as Mode;
    let mode = |node: bool| if node { Mode::Node } else { Mode::Pod } as i32;
    let mut ips = s.ips.iter().map(ToString::to_string);
    api::PodSandboxStatus {
        id: s.id.clone(),
        metadata: Some(sandbox_metadata(s)),
        state: sandbox_state(s),
        created_at: s.created_at,
        network: Some(api::PodSandboxNetworkStatus {
            ip: ips.next().unwrap_or_default(),
            additional_ips: ips.map(|ip| api::PodIp { ip }).collect(),
        }),
        linux: Some(api::LinuxPodSandboxStatus {
            namespaces: Some(api::Namespace {
                options: Some(api::NamespaceOption {
                    network: mode(s.config.host_network),
                    pid: if s.config.host_pid {
                        Mode::Node
                    } else if s.config.share_pid {
                        Mode::Pod
                    } else {
                        Mode::Container
                    } as i32,
                    ipc: mode(s.config.host_ipc),
                    ..api::NamespaceOption::default()
                }),
            }),
        }),
        labels: map(&s.config.labels),
        annotations: map(&s.config.annotations),
        runtime_handler: String::new(),
    }
}

pub(crate) fn container_state(c: &ContainerStatus) -> i32 {
    (match c.state {
        ContainerState::Created => api::ContainerState::ContainerCreated,
        ContainerState::Running => api::ContainerState::ContainerRunning,
        ContainerState::Exited => api::ContainerState::ContainerExited,
        ContainerState::Unknown => api::ContainerState::ContainerUnknown,
    }) as i32
}

fn container_metadata(c: &ContainerStatus) -> api::ContainerMetadata {
    api::ContainerMetadata {
        name: c.name.clone(),
        attempt: c.attempt,
    }
}

fn image_spec(c: &ContainerStatus) -> api::ImageSpec {
    api::ImageSpec {
        image: c.image.clone(),
        ..api::ImageSpec::default()
    }
}

/// `ListContainers`' entry.
pub(crate) fn container(c: &ContainerStatus) -> api::Container {
    api::Container {
        id: c.id.clone(),
        pod_sandbox_id: c.sandbox_id.clone(),
        metadata: Some(container_metadata(c)),
        image: Some(image_spec(c)),
        image_ref: c.image_id.clone(),
        state: container_state(c),
        created_at: c.created_at,
        labels: map(&c.labels),
        annotations: map(&c.annotations),
        image_id: c.image_id.clone(),
    }
}

/// `ContainerStatus`'s status.
pub(crate) fn container_status(c: &ContainerStatus) -> api::ContainerStatus {
    api::ContainerStatus {
        id: c.id.clone(),
        metadata: Some(container_metadata(c)),
        state: container_state(c),
        created_at: c.created_at,
        started_at: c.started_at,
        finished_at: c.finished_at,
        exit_code: c.exit_code,
        image: Some(image_spec(c)),
        image_ref: c.image_id.clone(),
        reason: c.reason.clone(),
        message: c.message.clone(),
        labels: map(&c.labels),
        annotations: map(&c.annotations),
        mounts: c
            .mounts
            .iter()
            .map(|m| api::Mount {
                container_path: m.container_path.display().to_string(),
                host_path: m.host_path.display().to_string(),
                readonly: m.readonly,
                ..api::Mount::default()
            })
            .collect(),
        log_path: c.log_path.display().to_string(),
        resources: None,
        image_id: c.image_id.clone(),
        user: None,
    }
}

/// `ContainerStats`' stats from the engine's counters.
pub(crate) fn container_stats(
    c: &ContainerStatus,
    stats: &peapod_runtime::engine::ContainerStats,
    now: i64,
) -> api::ContainerStats {
    api::ContainerStats {
        attributes: Some(api::ContainerAttributes {
            id: c.id.clone(),
            metadata: Some(container_metadata(c)),
            labels: map(&c.labels),
            annotations: map(&c.annotations),
        }),
        cpu: Some(api::CpuUsage {
            timestamp: now,
            usage_core_nano_seconds: Some(api::UInt64Value {
                value: stats.cpu_usage_ns,
            }),
            usage_nano_cores: None,
        }),
        memory: Some(api::MemoryUsage {
            timestamp: now,
            working_set_bytes: Some(api::UInt64Value {
                value: stats.memory_working_set_bytes,
            }),
            ..api::MemoryUsage::default()
        }),
        writable_layer: Some(api::FilesystemUsage {
            timestamp: now,
            fs_id: None,
            used_bytes: Some(api::UInt64Value {
                value: stats.writable_layer_bytes,
            }),
            inodes_used: None,
        }),
        swap: None,
    }
}

fn interface(i: &InterfaceStats) -> api::NetworkInterfaceUsage {
    let value = |value| Some(api::UInt64Value { value });
    api::NetworkInterfaceUsage {
        name: i.name.clone(),
        rx_bytes: value(i.rx_bytes),
        rx_errors: value(i.rx_errors),
        tx_bytes: value(i.tx_bytes),
        tx_errors: value(i.tx_errors),
    }
}

/// `PodSandboxStats`' stats: the sandbox's cgroup, its processes, its
/// network (`eth0` the default interface, the others but loopback after
/// it; none on the host's network), and its running containers' `stats`.
pub(crate) fn pod_sandbox_stats(
    s: &SandboxStatus,
    stats: &SandboxStats,
    containers: Vec<api::ContainerStats>,
    now: i64,
) -> api::PodSandboxStats {
    let value = |value| Some(api::UInt64Value { value });
    let (default, others): (Vec<_>, Vec<_>) =
        stats.interfaces.iter().partition(|i| i.name == "eth0");
    let network = (!stats.interfaces.is_empty()).then(|| api::NetworkUsage {
        timestamp: now,
        default_interface: default.first().map(|i| interface(i)),
        interfaces: others.into_iter().map(interface).collect(),
    });
    api::PodSandboxStats {
        attributes: Some(api::PodSandboxAttributes {
            id: s.id.clone(),
            metadata: Some(sandbox_metadata(s)),
            labels: map(&s.config.labels),
            annotations: map(&s.config.annotations),
        }),
        linux: Some(api::LinuxPodSandboxStats {
            cpu: Some(api::CpuUsage {
                timestamp: now,
                usage_core_nano_seconds: value(stats.cpu_usage_ns),
                usage_nano_cores: None,
            }),
            memory: Some(api::MemoryUsage {
                timestamp: now,
                working_set_bytes: value(stats.memory_working_set_bytes),
                usage_bytes: value(stats.memory_usage_bytes),
                ..api::MemoryUsage::default()
            }),
            network,
            process: Some(api::ProcessUsage {
                timestamp: now,
                process_count: value(stats.process_count),
            }),
            containers,
        }),
        windows: None,
    }
}
