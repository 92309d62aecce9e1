//! A pod start through the CRI socket, as a kubelet drives it: the seed
//! 000 pod (two busybox containers running `sleep`, a shared PID
//! namespace, 128Mi/500m limits each) as `RunPodSandbox`, then
//! `CreateContainer` + `StartContainer` for each container, timed from the
//! first request to the last answer. The sandbox is removed after each
//! run, outside the timing. (The manifest's emptyDir is left out: over the
//! CRI a volume is a host path the kubelet made.)
//!
//! `peapod serve` runs on the bench's own `--root` (a tmpfs on `run/`),
//! driven by peapod-cri's `Client`; the network is `PEAPOD_NETWORK`'s
//! (bridge when unset). Needs root and the `peapod` binary
//! (`cargo build --release -p peapod` or `PEAPOD_BIN`); prints a skip
//! otherwise.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use peapod_cri::Client;
use peapod_cri::api::{
    ContainerConfig, ContainerMetadata, CreateContainerRequest, ImageSpec, LinuxContainerConfig,
    LinuxContainerResources, LinuxPodSandboxConfig, LinuxSandboxSecurityContext, NamespaceOption,
    PodSandboxConfig, PodSandboxMetadata, RemovePodSandboxRequest, RunPodSandboxRequest,
    StartContainerRequest,
};
use peapod_testkit::{TempDir, require_root};

use common::{RunTmpfs, bench_median, import_busybox, peapod_exe};

fn sandbox(n: u32) -> PodSandboxConfig {
    PodSandboxConfig {
        metadata: Some(PodSandboxMetadata {
            name: format!("myapp-{n}"),
            uid: format!("uid-{n}"),
            namespace: "default".into(),
            attempt: 0,
        }),
        hostname: "myapp".into(),
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

fn container(name: &str, image: &str) -> ContainerConfig {
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

/// One pod start; returns its time and the sandbox's id.
fn start(client: &Client, n: u32) -> (Duration, String) {
    let rt = || client.runtime_service.clone();
    let began = Instant::now();
    let id = client
        .block_on(rt().run_pod_sandbox(RunPodSandboxRequest {
            config: Some(sandbox(n)),
            runtime_handler: String::new(),
        }))
        .unwrap()
        .into_inner()
        .pod_sandbox_id;
    for (name, image) in [("myapp1", "busybox:1.30.1"), ("myapp2", "busybox:1.31.1")] {
        let container_id = client
            .block_on(rt().create_container(CreateContainerRequest {
                pod_sandbox_id: id.clone(),
                config: Some(container(name, image)),
                sandbox_config: Some(sandbox(n)),
            }))
            .unwrap()
            .into_inner()
            .container_id;
        client
            .block_on(rt().start_container(StartContainerRequest { container_id }))
            .unwrap();
    }
    (began.elapsed(), id)
}

fn cri_pod_start(c: &mut Criterion) {
    if !require_root("cri_pod_start bench") {
        return;
    }
    let Some(exe) = peapod_exe("cri_pod_start") else {
        return;
    };
    let tmp = TempDir::new("bench-cri-pod-start");
    let _run = RunTmpfs::mount(tmp.path());
    import_busybox(&exe, tmp.path(), &["busybox:1.30.1", "busybox:1.31.1"]);
    let mut serve = Command::new(&exe)
        .arg("--root")
        .arg(tmp.path())
        .arg("serve")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let socket = line.trim().strip_prefix("listening on unix://").unwrap();
    let client = Client::connect(std::path::Path::new(socket)).unwrap();
    let mode = std::env::var("PEAPOD_NETWORK").unwrap_or_else(|_| "bridge".into());

    let mut group = c.benchmark_group("cri");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    let mut n = 0;
    bench_median(
        &mut group,
        &format!("cri_pod_start (PEAPOD_NETWORK={mode})"),
        &format!("cri_pod_start/{mode}"),
        || {
            n += 1;
            let (took, id) = start(&client, n);
            client
                .block_on(
                    client
                        .runtime_service
                        .clone()
                        .remove_pod_sandbox(RemovePodSandboxRequest { pod_sandbox_id: id }),
                )
                .unwrap();
            took
        },
    );
    group.finish();
    drop(client);
    let _ = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status();
    let _ = serve.wait();
}

criterion_group!(benches, cri_pod_start);
criterion_main!(benches);
