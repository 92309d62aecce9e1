//! `peapod serve` walked through the critest groups `cri_pods.rs` does not
//! walk: pod sandbox stats, container stats listed, the runtime's
//! configuration and the RPCs a single host answers with a clear status,
//! port mappings, the security context, OOMKilled,
//! `UpdateContainerResources` in the cgroup, the PID namespace modes,
//! idempotence of stop and remove, fields refused by name. (In the CLI's
//! package for the reason `cri_images.rs` gives.)

#![allow(clippy::unwrap_used, missing_docs)]

mod common;
#[path = "common/cri_calls.rs"]
mod cri_calls;
#[path = "common/cri_server.rs"]
mod cri_server;

use std::collections::HashMap;
use std::io::Read;
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use std::sync::RwLockReadGuard;

use common::{Root, cgroups_of, free_port, shared, start};
use cri_calls::{
    create_and_start, exec, remove_sandbox, run_sandbox, running, sandbox_config, shell, status,
    wait_for,
};
use cri_server::Serve;
use peapod_cri::Client;
use peapod_cri::api::security_profile::ProfileType;
use peapod_cri::api::{
    Capability, CgroupDriver, CheckpointContainerRequest, ContainerState, ContainerStatsFilter,
    CreateContainerRequest, Int64Value, LinuxContainerConfig, LinuxContainerResources,
    LinuxContainerSecurityContext, LinuxPodSandboxConfig, LinuxSandboxSecurityContext,
    ListContainerStatsRequest, ListPodSandboxStatsRequest, NamespaceMode, NamespaceOption,
    NetworkConfig, PodSandboxConfig, PodSandboxStats, PodSandboxStatsFilter,
    PodSandboxStatsRequest, PortMapping, RemovePodSandboxRequest, RuntimeConfig,
    RuntimeConfigRequest, SecurityProfile, StopPodSandboxRequest, UpdateContainerResourcesRequest,
    UpdateRuntimeConfigRequest,
};
use tonic::Code;

/// A test's `peapod serve` on its own `--root` with one sandbox, named
/// `name` (uid `uid-<name>`, logs in `kubelet-logs/cri_<name>`; `edit`
/// changes its config), removed through the socket before the server
/// stops.
struct Pod {
    id: String,
    client: Client,
    _serve: Serve,
    root: Root,
    _lock: RwLockReadGuard<'static, ()>,
}

impl Pod {
    fn start(test: &str, name: &str, edit: impl FnOnce(&mut PodSandboxConfig)) -> Option<Self> {
        let (lock, root) = start(test, &format!("cri-{name}"), shared)?;
        let serve = Serve::start(root.path(), &[]);
        let client = serve.client();
        let mut config =
            sandbox_config(name, &root.path().join(format!("kubelet-logs/cri_{name}")));
        edit(&mut config);
        let id = run_sandbox(&client, config).unwrap();
        Some(Self {
            id,
            client,
            _serve: serve,
            root,
            _lock: lock,
        })
    }
}

impl Drop for Pod {
    fn drop(&mut self) {
        remove_sandbox(&self.client, &self.id);
    }
}

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
    let Some(pod) = Pod::start(
        "pod_sandbox_stats_read_the_pod_cgroup_its_eth0_and_each_container",
        "stats",
        |_| {},
    ) else {
        return;
    };
    let (client, id) = (&pod.client, pod.id.clone());
    // One container writes 2 MiB to its writable layer, one only sleeps.
    let a = running(
        client,
        &id,
        shell(
            "a",
            "dd if=/dev/zero of=/big bs=1024 count=2048 2>/dev/null; exec sleep 3600",
        ),
    );
    let b = running(client, &id, shell("b", "exec sleep 3600"));
    // dd's file exists from its first write: wait for its last.
    let written = "until [ \"$(stat -c %s /big 2>/dev/null)\" = 2097152 ]; do sleep 0.05; done";
    assert_eq!(exec(client, &a, &["sh", "-c", written]).0, 0);

    let before = sandbox_stats(client, &id).unwrap();
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
        client,
        &b,
        &[
            "sh",
            "-c",
            "gw=$(ip route | awk '/^default/ {print $3}'); echo x | nc -w 1 $gw 9 2>&1; true",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let after = sandbox_stats(client, &id).unwrap();
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
    let stopped = sandbox_stats(client, &id).unwrap_err();
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
    let missing = sandbox_stats(client, "cri_nosuchpod").unwrap_err();
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

#[test]
fn a_host_port_mapping_reaches_the_container_port() {
    let port = free_port();
    let Some(pod) = Pod::start(
        "a_host_port_mapping_reaches_the_container_port",
        "ports",
        |config| {
            config.port_mappings = vec![PortMapping {
                protocol: 0, // TCP
                container_port: 8080,
                host_port: i32::from(port),
                host_ip: String::new(),
            }];
        },
    ) else {
        return;
    };
    let (client, id) = (&pod.client, pod.id.clone());
    running(
        client,
        &id,
        shell(
            "web",
            "while true; do echo hello from the pod | nc -l -p 8080; done",
        ),
    );
    // The host's loopback, forwarded to the pod's port 8080, once the
    // container listens.
    let deadline = Instant::now() + Duration::from_secs(60);
    let answer = loop {
        let mut text = String::new();
        if let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) {
            conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let _ = conn.read_to_string(&mut text);
        }
        if !text.is_empty() || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(answer, "hello from the pod\n");
}

fn secured(
    name: &str,
    script: &str,
    sc: LinuxContainerSecurityContext,
) -> peapod_cri::api::ContainerConfig {
    let mut config = shell(name, script);
    config.linux = Some(LinuxContainerConfig {
        resources: None,
        security_context: Some(sc),
    });
    config
}

/// The bounding set of `/proc/self/status`, as a bit mask.
fn cap_bnd(status: &str) -> u64 {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .unwrap()
        .trim();
    u64::from_str_radix(hex, 16).unwrap()
}

#[test]
fn the_security_context_is_what_the_container_sees() {
    let Some(pod) = Pod::start(
        "the_security_context_is_what_the_container_sees",
        "secctx",
        |_| {},
    ) else {
        return;
    };
    let (client, id) = (&pod.client, pod.id.clone());
    let user = running(
        client,
        &id,
        secured(
            "user",
            "exec sleep 3600",
            LinuxContainerSecurityContext {
                run_as_user: Some(Int64Value { value: 1234 }),
                run_as_group: Some(Int64Value { value: 2345 }),
                readonly_rootfs: true,
                capabilities: Some(Capability {
                    drop_capabilities: vec!["NET_RAW".into(), "CAP_CHOWN".into()],
                    ..Capability::default()
                }),
                ..LinuxContainerSecurityContext::default()
            },
        ),
    );
    let plain = running(client, &id, shell("plain", "exec sleep 3600"));
    assert_eq!(exec(client, &user, &["id", "-u"]).1.trim(), "1234");
    assert_eq!(exec(client, &user, &["id", "-g"]).1.trim(), "2345");
    // The root filesystem is read-only; /tmp too (it is the rootfs).
    let (code, _) = exec(client, &user, &["touch", "/tmp/x"]);
    assert_ne!(code, 0, "touch on a read-only rootfs succeeded");
    assert_eq!(exec(client, &plain, &["touch", "/tmp/x"]).0, 0);
    // The dropped capabilities are out of the bounding set; the plain
    // container keeps them.
    let (_, dropped) = exec(client, &user, &["cat", "/proc/self/status"]);
    let (_, kept) = exec(client, &plain, &["cat", "/proc/self/status"]);
    let (chown, net_raw) = (1u64 << 0, 1u64 << 13);
    assert_eq!(cap_bnd(&dropped) & (chown | net_raw), 0, "{dropped}");
    assert_eq!(
        cap_bnd(&kept) & (chown | net_raw),
        chown | net_raw,
        "{kept}"
    );
}

/// A kubelet sends a `Localhost` seccomp profile as the absolute host path
/// it resolved under its own seccomp root (`localhost_ref`); peapod reads
/// that file, as containerd does, and a profile that denies `mkdir` makes
/// `mkdir` fail in the container while a RuntimeDefault neighbour's works.
#[test]
fn a_localhost_seccomp_profile_is_read_from_the_kubelets_absolute_path() {
    let Some(pod) = Pod::start(
        "a_localhost_seccomp_profile_is_read_from_the_kubelets_absolute_path",
        "seclocal",
        |_| {},
    ) else {
        return;
    };
    let profile = pod.root.path().join("kubelet-seccomp/deny-mkdir.json");
    std::fs::create_dir_all(profile.parent().unwrap()).unwrap();
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}"#,
    )
    .unwrap();
    let (client, id) = (&pod.client, pod.id.clone());
    let confined = running(
        client,
        &id,
        secured(
            "confined",
            "exec sleep 3600",
            LinuxContainerSecurityContext {
                seccomp: Some(SecurityProfile {
                    profile_type: ProfileType::Localhost as i32,
                    localhost_ref: profile.display().to_string(),
                }),
                ..LinuxContainerSecurityContext::default()
            },
        ),
    );
    let plain = running(client, &id, shell("plain", "exec sleep 3600"));
    let (code, out) = exec(client, &confined, &["sh", "-c", "mkdir /tmp/denied 2>&1"]);
    assert_ne!(code, 0, "mkdir under a profile denying it: {out}");
    assert!(out.contains("Operation not permitted"), "{out}");
    assert_eq!(exec(client, &plain, &["mkdir", "/tmp/allowed"]).0, 0);
    let (_, status) = exec(client, &confined, &["cat", "/proc/self/status"]);
    assert!(status.contains("Seccomp:\t2"), "{status}");
}

/// `config` with a memory limit and a memory+swap limit (0: none).
fn limited(
    mut config: peapod_cri::api::ContainerConfig,
    memory: i64,
    swap: i64,
) -> peapod_cri::api::ContainerConfig {
    config.linux = Some(LinuxContainerConfig {
        resources: Some(LinuxContainerResources {
            memory_limit_in_bytes: memory,
            memory_swap_limit_in_bytes: swap,
            ..LinuxContainerResources::default()
        }),
        security_context: None,
    });
    config
}

#[test]
fn a_container_over_its_memory_limit_ends_oomkilled() {
    let Some(pod) = Pod::start(
        "a_container_over_its_memory_limit_ends_oomkilled",
        "oom",
        |_| {},
    ) else {
        return;
    };
    let (client, id) = (&pod.client, pod.id.clone());
    // `tail` of a file without a newline keeps all of it in memory.
    let config = limited(shell("hog", "tail /dev/zero"), 16 << 20, 16 << 20);
    let hog = create_and_start(client, &id, config);
    let done = wait_for(client, &hog, "exited", |s| {
        s.state == ContainerState::ContainerExited as i32
    });
    assert_eq!(done.reason, "OOMKilled", "{done:?}");
    assert_eq!(done.exit_code, 137, "{done:?}");
}

/// The engine's own uid of sandbox `id` (its cgroup is `peapod-<uid>`),
/// from its `pod.json` under `root`.
fn engine_uid(root: &std::path::Path, id: &str) -> String {
    let file = root.join("run/pods").join(id).join("pod.json");
    let pod: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    pod["metadata"]["uid"].as_str().unwrap().to_owned()
}

/// The memory limit the host's cgroup of container `name` (attempt 0) of
/// the pod `uid` holds, in bytes (`None`: unlimited).
fn memory_limit(uid: &str, name: &str) -> Option<u64> {
    for pod in cgroups_of(uid) {
        let dir: PathBuf = pod.join(format!("{name}.0"));
        for file in ["memory.limit_in_bytes", "memory.max"] {
            if let Ok(text) = std::fs::read_to_string(dir.join(file)) {
                return text.trim().parse().ok().filter(|v| *v < (1 << 62));
            }
        }
    }
    panic!("no memory cgroup of {name} in pod {uid}");
}

#[test]
fn update_container_resources_raises_and_lowers_the_memory_limit_in_place() {
    let Some(pod) = Pod::start(
        "update_container_resources_raises_and_lowers_the_memory_limit_in_place",
        "update",
        |_| {},
    ) else {
        return;
    };
    let (client, id) = (&pod.client, pod.id.clone());
    let a = running(
        client,
        &id,
        limited(shell("a", "exec sleep 3600"), 64 << 20, 0),
    );
    let uid = engine_uid(pod.root.path(), &id);
    assert_eq!(memory_limit(&uid, "a"), Some(64 << 20));
    let started = status(client, &a).started_at;
    // Raised (on cgroup v1 past memsw's bound, which was the old limit:
    // EINVAL until memsw went first), then lowered.
    for limit in [96 << 20, 48 << 20] {
        client
            .block_on(client.runtime_service.clone().update_container_resources(
                UpdateContainerResourcesRequest {
                    container_id: a.clone(),
                    linux: Some(LinuxContainerResources {
                        memory_limit_in_bytes: limit,
                        ..LinuxContainerResources::default()
                    }),
                    ..UpdateContainerResourcesRequest::default()
                },
            ))
            .unwrap();
        assert_eq!(memory_limit(&uid, "a"), Some(u64::try_from(limit).unwrap()));
    }
    // In place: the same run of the container.
    let s = status(client, &a);
    assert_eq!(s.state, ContainerState::ContainerRunning as i32);
    assert_eq!(s.started_at, started);
}

#[test]
fn list_container_stats_has_the_running_containers_of_a_sandbox() {
    let Some(pod) = Pod::start(
        "list_container_stats_has_the_running_containers_of_a_sandbox",
        "cstats",
        |_| {},
    ) else {
        return;
    };
    let (client, id) = (&pod.client, pod.id.clone());
    let a = running(client, &id, shell("a", "exec sleep 3600"));
    let b = running(client, &id, shell("b", "exec sleep 3600"));
    let gone = create_and_start(client, &id, shell("gone", "true"));
    wait_for(client, &gone, "exited", |s| {
        s.state == ContainerState::ContainerExited as i32
    });
    let list = |filter: ContainerStatsFilter| {
        let mut ids: Vec<_> = client
            .block_on(client.runtime_service.clone().list_container_stats(
                ListContainerStatsRequest {
                    filter: Some(filter),
                },
            ))
            .unwrap()
            .into_inner()
            .stats
            .into_iter()
            .map(|s| {
                assert!(s.memory.unwrap().working_set_bytes.unwrap().value > 0);
                s.attributes.unwrap().id
            })
            .collect();
        ids.sort();
        ids
    };
    // The exited container has no stats.
    let by_sandbox = list(ContainerStatsFilter {
        pod_sandbox_id: id.clone(),
        ..ContainerStatsFilter::default()
    });
    assert_eq!(by_sandbox, vec![a.clone(), b.clone()]);
    let by_label = list(ContainerStatsFilter {
        pod_sandbox_id: id.clone(),
        label_selector: HashMap::from([("container".into(), "b".into())]),
        ..ContainerStatsFilter::default()
    });
    assert_eq!(by_label, vec![b.clone()]);
}

fn pid_ns(client: &peapod_cri::Client, id: &str) -> String {
    exec(client, id, &["readlink", "/proc/self/ns/pid"]).1
}

#[test]
fn containers_share_the_pid_namespace_in_pod_mode_only() {
    for (name, mode) in [
        ("pidpod", NamespaceMode::Pod),
        ("pidctr", NamespaceMode::Container),
    ] {
        let Some(pod) = Pod::start(
            "containers_share_the_pid_namespace_in_pod_mode_only",
            name,
            |config| {
                config.linux = Some(LinuxPodSandboxConfig {
                    security_context: Some(LinuxSandboxSecurityContext {
                        namespace_options: Some(NamespaceOption {
                            pid: mode as i32,
                            ..NamespaceOption::default()
                        }),
                        ..LinuxSandboxSecurityContext::default()
                    }),
                    ..LinuxPodSandboxConfig::default()
                });
            },
        ) else {
            return;
        };
        let (client, id) = (&pod.client, pod.id.clone());
        let a = running(client, &id, shell("a", "exec sleep 3601"));
        let b = running(client, &id, shell("b", "exec sleep 3602"));
        let (_, ps) = exec(client, &b, &["ps", "-o", "args"]);
        if mode == NamespaceMode::Pod {
            assert_eq!(pid_ns(client, &a), pid_ns(client, &b));
            assert!(ps.contains("sleep 3601"), "b sees a's process: {ps}");
        } else {
            assert_ne!(pid_ns(client, &a), pid_ns(client, &b));
            assert!(!ps.contains("sleep 3601"), "b sees a's process: {ps}");
        }
    }
}

#[test]
fn stop_and_remove_of_a_sandbox_that_is_gone_succeed() {
    let Some(pod) = Pod::start(
        "stop_and_remove_of_a_sandbox_that_is_gone_succeed",
        "idem",
        |_| {},
    ) else {
        return;
    };
    let (client, id) = (&pod.client, pod.id.clone());
    let rt = || client.runtime_service.clone();
    // A sandbox never made, or made and removed: both calls succeed, as
    // the CRI asks (the kubelet retries them).
    for pod_sandbox_id in ["cri_nevermade".to_string(), id.clone(), id.clone()] {
        client
            .block_on(rt().stop_pod_sandbox(StopPodSandboxRequest {
                pod_sandbox_id: pod_sandbox_id.clone(),
            }))
            .unwrap();
        client
            .block_on(rt().remove_pod_sandbox(RemovePodSandboxRequest { pod_sandbox_id }))
            .unwrap();
    }
    // Its name can be used again once it is removed (the guard removes
    // it again at the end).
    let logs = pod.root.path().join("kubelet-logs/cri_idem");
    assert_eq!(
        run_sandbox(client, sandbox_config("idem", &logs)).unwrap(),
        id
    );
}

#[test]
fn fields_peapod_cannot_honour_are_refused_by_name() {
    let Some(pod) = Pod::start(
        "fields_peapod_cannot_honour_are_refused_by_name",
        "refuse",
        |_| {},
    ) else {
        return;
    };
    let (client, id) = (&pod.client, pod.id.clone());
    let create = |config| {
        client
            .block_on(
                client
                    .runtime_service
                    .clone()
                    .create_container(CreateContainerRequest {
                        pod_sandbox_id: id.clone(),
                        config: Some(config),
                        sandbox_config: None,
                    }),
            )
            .unwrap_err()
    };
    let mut once = shell("once", "cat");
    once.stdin = true;
    once.stdin_once = true;
    let refused = create(once);
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().starts_with("stdin_once: "), "{refused:?}");

    let refused = create(limited(shell("swap", "true"), 64 << 20, 128 << 20));
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(
        refused
            .message()
            .starts_with("resources.memory_swap_limit_in_bytes "),
        "{refused:?}"
    );

    let target = secured(
        "target",
        "true",
        LinuxContainerSecurityContext {
            namespace_options: Some(NamespaceOption {
                pid: NamespaceMode::Target as i32,
                target_id: "someone".into(),
                ..NamespaceOption::default()
            }),
            ..LinuxContainerSecurityContext::default()
        },
    );
    let refused = create(target);
    assert_eq!(refused.code(), Code::Unimplemented, "{refused:?}");
    assert!(
        refused.message().starts_with("namespace_options.pid: "),
        "{refused:?}"
    );
    // Nothing was made of the refused containers.
    let listed = client
        .block_on(client.runtime_service.clone().list_containers(
            peapod_cri::api::ListContainersRequest {
                filter: Some(peapod_cri::api::ContainerFilter {
                    pod_sandbox_id: id.clone(),
                    ..Default::default()
                }),
            },
        ))
        .unwrap()
        .into_inner()
        .containers;
    assert!(listed.is_empty(), "{listed:?}");
}

#[test]
fn the_kubelets_oom_score_adj_is_the_containers_never_below_the_supervisors() {
    let Some(pod) = Pod::start(
        "the_kubelets_oom_score_adj_is_the_containers_never_below_the_supervisors",
        "oomscore",
        |_| {},
    ) else {
        return;
    };
    let (client, id) = (&pod.client, pod.id.clone());
    // The supervisor's own score is this process's (serve's, inherited).
    let own: i64 = std::fs::read_to_string("/proc/self/oom_score_adj")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    for (name, wanted) in [("burstable", 500), ("guaranteed", -998)] {
        let mut config = shell(name, "cat /proc/self/oom_score_adj; exec sleep 3600");
        config.linux = Some(LinuxContainerConfig {
            resources: Some(LinuxContainerResources {
                oom_score_adj: wanted,
                ..LinuxContainerResources::default()
            }),
            security_context: None,
        });
        running(client, &id, config);
        // The container's own process, as its first output line says.
        let log = pod
            .root
            .path()
            .join(format!("kubelet-logs/cri_oomscore/{name}.log"));
        let deadline = Instant::now() + Duration::from_secs(30);
        let line = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(line) = text.lines().next() {
                break line.to_owned();
            }
            assert!(Instant::now() < deadline, "{name}: nothing in {log:?}");
            std::thread::sleep(Duration::from_millis(20));
        };
        let score = line.rsplit(' ').next().unwrap();
        assert_eq!(score, wanted.max(own).to_string(), "{name}: {line}");
    }
}
