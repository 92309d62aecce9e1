//! The seed 000 pod as a kubelet starts it over the CRI: `RunPodSandbox`,
//! then `CreateContainer` + `StartContainer` of its two busybox containers
//! (`sleep`, a shared PID namespace, 500m CPU and 128Mi limits each), timed
//! from the first request to the last answer; stopped and removed after,
//! outside the timing. One sequence, driven by the same client against
//! any CRI endpoint: the `cri_pod_start` bench (peapod) and `cri_cycle`
//! (peapod and containerd side by side, `compare.sh`). The manifest's
//! emptyDir is left out: over the CRI a volume is a host path the kubelet
//! made.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use peapod_cri::Client;
use peapod_cri::api::{
    ContainerConfig, ContainerMetadata, CreateContainerRequest, ImageSpec, LinuxContainerConfig,
    LinuxContainerResources, LinuxPodSandboxConfig, LinuxSandboxSecurityContext, NamespaceOption,
    PodSandboxConfig, PodSandboxMetadata, RemovePodSandboxRequest, RunPodSandboxRequest,
    StartContainerRequest, StopPodSandboxRequest,
};

/// The two containers of the seed pod: name and image.
pub const CONTAINERS: [(&str, &str); 2] =
    [("myapp1", "busybox:1.30.1"), ("myapp2", "busybox:1.31.1")];

/// The sandbox of run `n`: named `myapp-<n>` (uid `uid-<n>`), its logs
/// in `log_dir/<n>` when given, as a kubelet's `/var/log/pods/...`.
pub fn sandbox(n: u32, log_dir: Option<&Path>) -> PodSandboxConfig {
    PodSandboxConfig {
        metadata: Some(PodSandboxMetadata {
            name: format!("myapp-{n}"),
            uid: format!("uid-{n}"),
            namespace: "default".into(),
            attempt: 0,
        }),
        hostname: "myapp".into(),
        log_directory: log_dir
            .map_or_else(String::new, |d| d.join(n.to_string()).display().to_string()),
        linux: Some(LinuxPodSandboxConfig {
            security_context: Some(LinuxSandboxSecurityContext {
                // shareProcessNamespace: the pod's PID namespace.
                namespace_options: Some(NamespaceOption::default()),
                ..LinuxSandboxSecurityContext::default()
            }),
            ..LinuxPodSandboxConfig::default()
        }),
        labels: HashMap::from([("app".into(), "myapp".into())]),
        ..PodSandboxConfig::default()
    }
}

/// Container `name` of `image`: `sleep 1000`, 500m CPU, 128Mi.
pub fn container(name: &str, image: &str) -> ContainerConfig {
    ContainerConfig {
        metadata: Some(ContainerMetadata {
            name: name.into(),
            attempt: 0,
        }),
        image: Some(ImageSpec {
            image: image.into(),
            ..ImageSpec::default()
        }),
        command: vec!["sleep".into(), "1000".into()],
        log_path: format!("{name}/0.log"),
        linux: Some(LinuxContainerConfig {
            resources: Some(LinuxContainerResources {
                cpu_period: 100_000,
                cpu_quota: 50_000,
                memory_limit_in_bytes: 128 << 20,
                ..LinuxContainerResources::default()
            }),
            security_context: None,
        }),
        ..ContainerConfig::default()
    }
}

/// Starts the seed pod as run `n`; returns the time from the first
/// request to the last answer, and the sandbox's id.
///
/// # Errors
/// The first failed call's status.
pub fn start(
    client: &Client,
    n: u32,
    log_dir: Option<&Path>,
) -> Result<(Duration, String), tonic::Status> {
    let rt = || client.runtime_service.clone();
    let began = Instant::now();
    let id = client
        .block_on(rt().run_pod_sandbox(RunPodSandboxRequest {
            config: Some(sandbox(n, log_dir)),
            runtime_handler: String::new(),
        }))?
        .into_inner()
        .pod_sandbox_id;
    for (name, image) in CONTAINERS {
        let container_id = client
            .block_on(rt().create_container(CreateContainerRequest {
                pod_sandbox_id: id.clone(),
                config: Some(container(name, image)),
                sandbox_config: Some(sandbox(n, log_dir)),
            }))?
            .into_inner()
            .container_id;
        client.block_on(rt().start_container(StartContainerRequest { container_id }))?;
    }
    Ok((began.elapsed(), id))
}

/// Stops and removes sandbox `id` with its containers (a kubelet stops a
/// sandbox before it removes it; containerd insists).
///
/// # Errors
/// The failed call's status.
pub fn stop_and_remove(client: &Client, id: &str) -> Result<(), tonic::Status> {
    let rt = || client.runtime_service.clone();
    client.block_on(rt().stop_pod_sandbox(StopPodSandboxRequest {
        pod_sandbox_id: id.into(),
    }))?;
    client.block_on(rt().remove_pod_sandbox(RemovePodSandboxRequest {
        pod_sandbox_id: id.into(),
    }))?;
    Ok(())
}
