//! The CRI calls the root CRI tests make again and again, through
//! peapod-cri's blocking `Client`: a sandbox and busybox shell containers,
//! create + start, `ContainerStatus` polled until a snapshot shows what a
//! test waits for, `ExecSync`, and a guard removing the sandbox.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use peapod_cri::Client;
use peapod_cri::api::{
    ContainerConfig, ContainerMetadata, ContainerStatusRequest, CreateContainerRequest,
    ExecSyncRequest, ImageSpec, PodSandboxConfig, PodSandboxMetadata, RemovePodSandboxRequest,
    RunPodSandboxRequest, StartContainerRequest,
};

pub fn sandbox_config(name: &str, log_dir: &std::path::Path) -> PodSandboxConfig {
    PodSandboxConfig {
        metadata: Some(PodSandboxMetadata {
            name: name.into(),
            uid: format!("uid-{name}"),
            namespace: "cri".into(),
            attempt: 0,
        }),
        hostname: name.into(),
        log_directory: log_dir.display().to_string(),
        labels: HashMap::from([("app".to_string(), name.to_string())]),
        ..PodSandboxConfig::default()
    }
}

pub fn shell(name: &str, script: &str) -> ContainerConfig {
    ContainerConfig {
        metadata: Some(ContainerMetadata {
            name: name.into(),
            attempt: 0,
        }),
        image: Some(ImageSpec {
            image: "busybox:1.31.1".into(),
            ..ImageSpec::default()
        }),
        command: vec!["sh".into(), "-c".into(), script.into()],
        log_path: format!("{name}.log"),
        labels: HashMap::from([("container".to_string(), name.to_string())]),
        ..ContainerConfig::default()
    }
}

/// Removes the sandbox through the socket when the test ends.
pub struct SandboxGuard<'a> {
    pub client: &'a Client,
    pub id: String,
}

impl Drop for SandboxGuard<'_> {
    fn drop(&mut self) {
        remove_sandbox(self.client, &self.id);
    }
}

/// Removes sandbox `id`, whatever comes of it (a guard's end).
pub fn remove_sandbox(client: &Client, id: &str) {
    let _ = client.block_on(client.runtime_service.clone().remove_pod_sandbox(
        RemovePodSandboxRequest {
            pod_sandbox_id: id.into(),
        },
    ));
}

pub fn run_sandbox(client: &Client, config: PodSandboxConfig) -> Result<String, tonic::Status> {
    client
        .block_on(
            client
                .runtime_service
                .clone()
                .run_pod_sandbox(RunPodSandboxRequest {
                    config: Some(config),
                    runtime_handler: String::new(),
                }),
        )
        .map(|r| r.into_inner().pod_sandbox_id)
}

pub fn create_and_start(client: &Client, sandbox: &str, config: ContainerConfig) -> String {
    let rt = || client.runtime_service.clone();
    let id = client
        .block_on(rt().create_container(CreateContainerRequest {
            pod_sandbox_id: sandbox.into(),
            config: Some(config),
            sandbox_config: None,
        }))
        .unwrap()
        .into_inner()
        .container_id;
    client
        .block_on(rt().start_container(StartContainerRequest {
            container_id: id.clone(),
        }))
        .unwrap();
    id
}

/// Creates and starts `config` in `sandbox`, and waits until it runs.
pub fn running(client: &Client, sandbox: &str, config: ContainerConfig) -> String {
    let id = create_and_start(client, sandbox, config);
    wait_for(client, &id, "running", |s| {
        s.state == peapod_cri::api::ContainerState::ContainerRunning as i32
    });
    id
}

pub fn status(client: &Client, id: &str) -> peapod_cri::api::ContainerStatus {
    client
        .block_on(
            client
                .runtime_service
                .clone()
                .container_status(ContainerStatusRequest {
                    container_id: id.into(),
                    verbose: false,
                }),
        )
        .unwrap()
        .into_inner()
        .status
        .unwrap()
}

/// Polls `ContainerStatus` until one snapshot satisfies `check`.
pub fn wait_for(
    client: &Client,
    id: &str,
    what: &str,
    check: impl Fn(&peapod_cri::api::ContainerStatus) -> bool,
) -> peapod_cri::api::ContainerStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = status(client, id);
        if check(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "{what}: {s:#?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn exec(client: &Client, id: &str, cmd: &[&str]) -> (i32, String) {
    let out = client
        .block_on(client.runtime_service.clone().exec_sync(ExecSyncRequest {
            container_id: id.into(),
            cmd: cmd.iter().map(ToString::to_string).collect(),
            timeout: 30,
        }))
        .unwrap()
        .into_inner();
    (
        out.exit_code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
