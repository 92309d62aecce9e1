//! `peapod serve`'s RuntimeService on the engine, walked as critest's
//! groups walk it: sandbox run/status/list/stop/remove, two containers
//! sharing the sandbox's namespaces, exit codes, `ExecSync`, stats,
//! `ReopenContainerLog` after a rename, idempotence, and `serve`
//! restarted while a pod runs. (In the CLI's package for the reason
//! `cri_images.rs` gives.)

#![allow(clippy::unwrap_used, missing_docs)]

mod common;
#[path = "common/cri_calls.rs"]
mod cri_calls;
#[path = "common/cri_server.rs"]
mod cri_server;

use std::collections::HashMap;

use common::{shared, start};
use cri_calls::{
    SandboxGuard, create_and_start, exec, run_sandbox, sandbox_config, shell, status, wait_for,
};
use cri_server::Serve;
use peapod_cri::api::{
    ContainerState, ContainerStatsRequest, ContainerStatusRequest, ListContainersRequest,
    ListPodSandboxRequest, PodSandboxFilter, PodSandboxState, PodSandboxStateValue,
    PodSandboxStatusRequest, RemoveContainerRequest, RemovePodSandboxRequest,
    ReopenContainerLogRequest, StopContainerRequest, StopPodSandboxRequest,
};
use tonic::Code;

#[test]
fn sandbox_and_containers_through_the_socket() {
    let Some((_g, root)) = start(
        "sandbox_and_containers_through_the_socket",
        "cri-pods",
        shared,
    ) else {
        return;
    };
    let serve = Serve::start(root.path(), &[]);
    let client = serve.client();
    let rt = || client.runtime_service.clone();
    let logs = root.path().join("kubelet-logs/cri_web");

    let id = run_sandbox(&client, sandbox_config("web", &logs)).unwrap();
    let _guard = SandboxGuard {
        client: &client,
        id: id.clone(),
    };
    // The same name, uid and attempt again is refused.
    let again = run_sandbox(&client, sandbox_config("web", &logs)).unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists, "{again:?}");

    let sandbox = client
        .block_on(rt().pod_sandbox_status(PodSandboxStatusRequest {
            pod_sandbox_id: id.clone(),
            verbose: false,
        }))
        .unwrap()
        .into_inner()
        .status
        .unwrap();
    assert_eq!(sandbox.state, PodSandboxState::SandboxReady as i32);
    assert_eq!(sandbox.metadata.as_ref().unwrap().uid, "uid-web");
    assert!(sandbox.created_at > 0);
    let ip = sandbox.network.as_ref().unwrap().ip.clone();
    assert!(ip.starts_with("10.77."), "{sandbox:?}");

    // Two containers: they share the network, IPC and UTS namespaces.
    let a = create_and_start(
        &client,
        &id,
        shell("a", "echo started; hostname > /tmp/h; exec sleep 3600"),
    );
    let b = create_and_start(&client, &id, shell("b", "exec sleep 3600"));
    for c in [&a, &b] {
        wait_for(&client, c, "running", |s| {
            s.state == ContainerState::ContainerRunning as i32
        });
    }
    let (code, host_a) = exec(&client, &a, &["hostname"]);
    assert_eq!(code, 0);
    assert_eq!(host_a.trim(), "web");
    let (_, host_b) = exec(&client, &b, &["hostname"]);
    assert_eq!(host_b, host_a);
    let (_, ns_a) = exec(
        &client,
        &a,
        &[
            "readlink",
            "/proc/self/ns/net",
            "/proc/self/ns/ipc",
            "/proc/self/ns/uts",
        ],
    );
    let (_, ns_b) = exec(
        &client,
        &b,
        &[
            "readlink",
            "/proc/self/ns/net",
            "/proc/self/ns/ipc",
            "/proc/self/ns/uts",
        ],
    );
    assert_eq!(ns_a, ns_b);
    let (_, addr) = exec(&client, &b, &["ip", "-4", "-o", "addr", "show", "eth0"]);
    assert!(addr.contains(&ip), "{addr}");
    // ExecSync's exit code and stderr.
    let (code, _) = exec(&client, &a, &["sh", "-c", "exit 7"]);
    assert_eq!(code, 7);

    // List, filtered by sandbox, state and labels.
    let listed = client
        .block_on(rt().list_containers(ListContainersRequest {
            filter: Some(peapod_cri::api::ContainerFilter {
                pod_sandbox_id: id.clone(),
                label_selector: HashMap::from([("container".into(), "b".into())]),
                ..Default::default()
            }),
        }))
        .unwrap()
        .into_inner()
        .containers;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, b);
    let sandboxes = client
        .block_on(rt().list_pod_sandbox(ListPodSandboxRequest {
            filter: Some(PodSandboxFilter {
                state: Some(PodSandboxStateValue {
                    state: PodSandboxState::SandboxReady as i32,
                }),
                label_selector: HashMap::from([("app".into(), "web".into())]),
                ..Default::default()
            }),
        }))
        .unwrap()
        .into_inner()
        .items;
    assert_eq!(sandboxes.len(), 1);
    assert_eq!(sandboxes[0].id, id);

    // Stats from the cgroup.
    let stats = client
        .block_on(rt().container_stats(ContainerStatsRequest {
            container_id: a.clone(),
        }))
        .unwrap()
        .into_inner()
        .stats
        .unwrap();
    assert!(stats.memory.unwrap().working_set_bytes.unwrap().value > 0);
    assert!(stats.cpu.unwrap().usage_core_nano_seconds.unwrap().value > 0);

    // The log in CRI format where the kubelet asked; renamed, then reopened.
    let log = logs.join("a.log");
    assert_eq!(status(&client, &a).log_path, log.display().to_string());
    // Written by the supervisor a moment after the container printed it.
    let deadline = std::time::Instant::now() + common::WAIT;
    loop {
        let text = std::fs::read_to_string(&log).unwrap();
        if text.contains(" stdout F started") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{text}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::fs::rename(&log, logs.join("a.log.1")).unwrap();
    client
        .block_on(rt().reopen_container_log(ReopenContainerLogRequest {
            container_id: a.clone(),
        }))
        .unwrap();
    assert!(log.exists(), "reopened at its path");

    // A container that exits: its code and reason.
    let c = create_and_start(&client, &id, shell("c", "exit 3"));
    let done = wait_for(&client, &c, "exited", |s| {
        s.state == ContainerState::ContainerExited as i32
    });
    assert_eq!(done.exit_code, 3);
    assert_eq!(done.reason, "Error");
    assert!(done.finished_at >= done.started_at && done.started_at > 0);

    // Stop with a timeout, remove; twice is fine.
    client
        .block_on(rt().stop_container(StopContainerRequest {
            container_id: b.clone(),
            timeout: 1,
        }))
        .unwrap();
    let stopped = status(&client, &b);
    assert_eq!(stopped.state, ContainerState::ContainerExited as i32);
    for _ in 0..2 {
        client
            .block_on(rt().remove_container(RemoveContainerRequest {
                container_id: b.clone(),
            }))
            .unwrap();
    }
    let gone = client
        .block_on(rt().container_status(ContainerStatusRequest {
            container_id: b.clone(),
            verbose: false,
        }))
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound, "{gone:?}");

    // Stop and remove the sandbox, each twice.
    for _ in 0..2 {
        client
            .block_on(rt().stop_pod_sandbox(StopPodSandboxRequest {
                pod_sandbox_id: id.clone(),
            }))
            .unwrap();
    }
    let stopped = client
        .block_on(rt().pod_sandbox_status(PodSandboxStatusRequest {
            pod_sandbox_id: id.clone(),
            verbose: false,
        }))
        .unwrap()
        .into_inner()
        .status
        .unwrap();
    assert_eq!(stopped.state, PodSandboxState::SandboxNotready as i32);
    for _ in 0..2 {
        client
            .block_on(rt().remove_pod_sandbox(RemovePodSandboxRequest {
                pod_sandbox_id: id.clone(),
            }))
            .unwrap();
    }
    let listed = client
        .block_on(rt().list_pod_sandbox(ListPodSandboxRequest { filter: None }))
        .unwrap()
        .into_inner()
        .items;
    assert!(listed.is_empty(), "{listed:?}");
    assert!(root.pod_leftovers().iter().all(|p| !p.ends_with("cri_web")));
}

#[test]
fn a_pod_outlives_a_restart_of_serve() {
    let Some((_g, root)) = start("a_pod_outlives_a_restart_of_serve", "cri-restart", shared) else {
        return;
    };
    let logs = root.path().join("kubelet-logs/cri_keep");
    let mut first = Serve::start(root.path(), &[]);
    let client = first.client();
    let id = run_sandbox(&client, sandbox_config("keep", &logs)).unwrap();
    let c = create_and_start(&client, &id, shell("c", "exec sleep 3600"));
    wait_for(&client, &c, "running", |s| {
        s.state == ContainerState::ContainerRunning as i32
    });
    let started_before = status(&client, &c).started_at;
    assert_eq!(exec(&client, &c, &["touch", "/tmp/mark"]).0, 0);
    drop(client);
    assert!(first.terminate().success());

    let second = Serve::start(root.path(), &[]);
    let client = second.client();
    let _guard = SandboxGuard {
        client: &client,
        id: id.clone(),
    };
    let listed = client
        .block_on(
            client
                .runtime_service
                .clone()
                .list_pod_sandbox(ListPodSandboxRequest { filter: None }),
        )
        .unwrap()
        .into_inner()
        .items;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, PodSandboxState::SandboxReady as i32);
    let s = status(&client, &c);
    assert_eq!(s.state, ContainerState::ContainerRunning as i32);
    // The same run of the same container, reached again.
    assert_eq!(s.started_at, started_before);
    assert_eq!(exec(&client, &c, &["ls", "/tmp/mark"]).0, 0);
}
