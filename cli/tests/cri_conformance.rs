//! `peapod serve` walked through the critest groups `cri_pods.rs` does not
//! walk: pod sandbox stats, the runtime's configuration and the RPCs a
//! single host answers with a clear status. (In the CLI's package for the
//! reason `cri_images.rs` gives.)

#![allow(clippy::unwrap_used, missing_docs)]

mod common;
#[path = "common/cri_calls.rs"]
mod cri_calls;
#[path = "common/cri_server.rs"]
mod cri_server;

use std::collections::HashMap;

use common::{shared, start};
use cri_calls::{
    SandboxGuard, create_and_start, exec, run_sandbox, sandbox_config, shell, wait_for,
};
use cri_server::Serve;
use peapod_cri::api::{
    CgroupDriver, CheckpointContainerRequest, ContainerState, ListPodSandboxStatsRequest,
    NetworkConfig, PodSandboxStats, PodSandboxStatsFilter, PodSandboxStatsRequest, RuntimeConfig,
    RuntimeConfigRequest, StopPodSandboxRequest, UpdateRuntimeConfigRequest,
};
use tonic::Code;

fn sandbox_stats(client: &peapod_cri::Client, id: &str) -> Result<PodSandboxStats, tonic::Status> {
    client
        .block_on(
            client
                .runtime_service
                .clone()
                .pod_sandbox_stats(PodSandboxStatsRequest {
                    pod_sandbox_id: id.into(),
                }),
        )
        .map(|r| r.into_inner().stats.unwrap())
}

fn eth0_tx(stats: &PodSandboxStats) -> u64 {
    let network = stats.linux.as_ref().unwrap().network.as_ref().unwrap();
    let eth0 = network.default_interface.as_ref().unwrap();
    assert_eq!(eth0.name, "eth0");
    assert!(
        network.interfaces.iter().all(|i| i.name != "lo"),
        "{network:?}"
    );
    eth0.tx_bytes.unwrap().value
}

#[test]
fn pod_sandbox_stats_read_the_pod_cgroup_its_eth0_and_each_container() {
    let Some((_g, root)) = start(
        "pod_sandbox_stats_read_the_pod_cgroup_its_eth0_and_each_container",
        "cri-sbstats",
        shared,
    ) else {
        return;
    };
    let serve = Serve::start(root.path(), &[]);
    let client = serve.client();
    let logs = root.path().join("kubelet-logs/cri_stats");
    let id = run_sandbox(&client, sandbox_config("stats", &logs)).unwrap();
    let _guard = SandboxGuard {
        client: &client,
        id: id.clone(),
    };
    // One container writes 2 MiB to its writable layer, one only sleeps.
    let a = create_and_start(
        &client,
        &id,
        shell(
            "a",
            "dd if=/dev/zero of=/big bs=1024 count=2048 2>/dev/null; exec sleep 3600",
        ),
    );
    let b = create_and_start(&client, &id, shell("b", "exec sleep 3600"));
    for c in [&a, &b] {
        wait_for(&client, c, "running", |s| {
            s.state == ContainerState::ContainerRunning as i32
        });
    }
    assert_eq!(exec(&client, &a, &["ls", "/big"]).0, 0);

    let before = sandbox_stats(&client, &id).unwrap();
    let attributes = before.attributes.as_ref().unwrap();
    assert_eq!(attributes.id, id);
    assert_eq!(attributes.metadata.as_ref().unwrap().name, "stats");
    assert_eq!(attributes.labels.get("app").unwrap(), "stats");
    let linux = before.linux.as_ref().unwrap();
    assert!(
        linux
            .cpu
            .as_ref()
            .unwrap()
            .usage_core_nano_seconds
            .unwrap()
            .value
            > 0
    );
    let memory = linux.memory.as_ref().unwrap();
    assert!(memory.working_set_bytes.unwrap().value > 0, "{memory:?}");
    assert!(memory.usage_bytes.unwrap().value >= memory.working_set_bytes.unwrap().value);
    // pause and the two sleeps at least.
    let processes = linux.process.as_ref().unwrap().process_count.unwrap().value;
    assert!(processes >= 3, "{processes} processes");
    let mut containers: Vec<_> = linux
        .containers
        .iter()
        .map(|c| {
            let layer = c.writable_layer.as_ref().unwrap().used_bytes.unwrap().value;
            (c.attributes.as_ref().unwrap().id.clone(), layer)
        })
        .collect();
    containers.sort();
    assert_eq!(containers.len(), 2, "{containers:?}");
    assert_eq!(containers[0].0, a);
    assert!(containers[0].1 >= 2 << 20, "{containers:?}");
    assert_eq!(containers[1].0, b);
    assert!(containers[1].1 < 1 << 20, "{containers:?}");

    // Traffic out of the pod shows on eth0's counters: a TCP connection
    // tried to the gateway (refused, but its packets left through eth0).
    let tx = eth0_tx(&before);
    let (code, out) = exec(
        &client,
        &b,
        &[
            "sh",
            "-c",
            "gw=$(ip route | awk '/^default/ {print $3}'); echo x | nc -w 1 $gw 9 2>&1; true",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let after = sandbox_stats(&client, &id).unwrap();
    assert!(eth0_tx(&after) > tx, "{:?}", after.linux.unwrap().network);

    // The list: by label (ours only, among other tests' sandboxes), by id.
    let rt = || client.runtime_service.clone();
    let by_label = client
        .block_on(rt().list_pod_sandbox_stats(ListPodSandboxStatsRequest {
            filter: Some(PodSandboxStatsFilter {
                label_selector: HashMap::from([("app".into(), "stats".into())]),
                ..PodSandboxStatsFilter::default()
            }),
        }))
        .unwrap()
        .into_inner()
        .stats;
    assert_eq!(by_label.len(), 1);
    assert_eq!(by_label[0].attributes.as_ref().unwrap().id, id);
    assert_eq!(by_label[0].linux.as_ref().unwrap().containers.len(), 2);
    let by_other_id = client
        .block_on(rt().list_pod_sandbox_stats(ListPodSandboxStatsRequest {
            filter: Some(PodSandboxStatsFilter {
                id: "cri_nosuchpod".into(),
                ..PodSandboxStatsFilter::default()
            }),
        }))
        .unwrap()
        .into_inner()
        .stats;
    assert!(by_other_id.is_empty());

    // A stopped sandbox has nothing to measure; a missing one is not found.
    client
        .block_on(rt().stop_pod_sandbox(StopPodSandboxRequest {
            pod_sandbox_id: id.clone(),
        }))
        .unwrap();
    let stopped = sandbox_stats(&client, &id).unwrap_err();
    assert_eq!(stopped.code(), Code::FailedPrecondition, "{stopped:?}");
    let listed = client
        .block_on(rt().list_pod_sandbox_stats(ListPodSandboxStatsRequest {
            filter: Some(PodSandboxStatsFilter {
                id: id.clone(),
                ..PodSandboxStatsFilter::default()
            }),
        }))
        .unwrap()
        .into_inner()
        .stats;
    assert!(listed.is_empty(), "{listed:?}");
    let missing = sandbox_stats(&client, "cri_nosuchpod").unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
}

#[test]
fn runtime_config_is_cgroupfs_and_what_a_host_cannot_do_is_a_clear_status() {
    let Some((_g, root)) = start(
        "runtime_config_is_cgroupfs_and_what_a_host_cannot_do_is_a_clear_status",
        "cri-config",
        shared,
    ) else {
        return;
    };
    let serve = Serve::start(root.path(), &[]);
    let client = serve.client();
    let rt = || client.runtime_service.clone();
    let config = client
        .block_on(rt().runtime_config(RuntimeConfigRequest {}))
        .unwrap()
        .into_inner();
    assert_eq!(
        config.linux.unwrap().cgroup_driver,
        CgroupDriver::Cgroupfs as i32
    );

    let update = |cidr: &str| {
        client.block_on(rt().update_runtime_config(UpdateRuntimeConfigRequest {
            runtime_config: Some(RuntimeConfig {
                network_config: Some(NetworkConfig {
                    pod_cidr: cidr.into(),
                }),
            }),
        }))
    };
    // No CIDR, or the bridge's own: nothing to change.
    update("").unwrap();
    update("10.77.0.0/16").unwrap();
    // Another one cannot be honoured: refused, naming the field and ours.
    let refused = update("10.244.1.0/24").unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains("pod_cidr"), "{refused:?}");
    assert!(refused.message().contains("10.77.0.0/16"), "{refused:?}");

    let checkpoint = client
        .block_on(rt().checkpoint_container(CheckpointContainerRequest::default()))
        .unwrap_err();
    assert_eq!(checkpoint.code(), Code::Unimplemented);
    assert!(
        checkpoint.message().starts_with("CheckpointContainer: "),
        "{checkpoint:?}"
    );
}
