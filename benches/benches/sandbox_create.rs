//! A pod's sandbox as the supervisor makes it, before any container: the
//! pod cgroup and its `pause` child, the pause process (the `peapod`
//! binary as `/pause`) in new IPC and UTS namespaces, and its network:
//!
//! - `host_network`: no net namespace (`hostNetwork: true`);
//! - `netns_lo`: a new net namespace with `lo` up (`PEAPOD_NETWORK=none`);
//! - `netns_bridge`: the same plus a veth on a bridge with an address and
//!   routes (the default). It uses its own bridge `peapodb1`, subnet
//!   10.213.201.0/24 and nft table, removed at the end, so it never
//!   touches `peapod0`'s pods.
//!
//! Timed: cgroups, pause, network. Not timed: killing the pause, detach,
//! cgroup removal. Needs root and the `peapod` binary (built beside this
//! bench or named by `PEAPOD_BIN`); prints a skip otherwise.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use peapod_core::{CgroupHierarchy, PauseSpec, spawn_pause};
use peapod_netns::{Network, NetworkConfig};
use peapod_testkit::require_root;

use common::{bench_median, peapod_exe};

const BRIDGE: &str = "peapodb1";
const TABLE: &str = "peapod_bench_sandbox";

/// The network a bench's sandbox gets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Net {
    Host,
    Loopback,
    Bridge,
}

fn sandbox_create(c: &mut Criterion) {
    if !require_root("sandbox_create bench") {
        return;
    }
    let Some(exe) = peapod_exe("sandbox_create") else {
        return;
    };
    let lease_dir =
        std::env::temp_dir().join(format!("peapod-bench-sandbox-{}", std::process::id()));
    let mut config = NetworkConfig::new(&lease_dir);
    config.bridge = BRIDGE.into();
    config.subnet = "10.213.201.0/24".parse().unwrap();
    config.nft_table = TABLE.into();
    let network = Network::open(config).unwrap();
    let hierarchy = CgroupHierarchy::detect().unwrap();
    let mut n = 0u64;

    let mut group = c.benchmark_group("sandbox_create");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(6));
    for (id, net) in [
        ("host_network", Net::Host),
        ("netns_lo", Net::Loopback),
        ("netns_bridge", Net::Bridge),
    ] {
        bench_median(&mut group, &format!("sandbox_create {id}"), id, || {
            n += 1;
            let pod = format!("peapod-bench-sandbox-{}-{n}", std::process::id());
            let t = Instant::now();
            let cgroup = hierarchy.create(&pod).unwrap();
            let pause_cgroup = cgroup.child("pause").unwrap();
            let pause = spawn_pause(&PauseSpec {
                host_network: net == Net::Host,
                share_process_namespace: false,
                host_ipc: false,
                hostname: Some("bench".into()),
                cgroup: Some(&pause_cgroup),
                exe: Some(exe.clone()),
                sysctls: Vec::new(),
                user_namespace: None,
                keeper: None,
            })
            .unwrap();
            if net != Net::Host {
                let netns = std::fs::File::open(format!("/proc/{}/ns/net", pause.pid())).unwrap();
                if net == Net::Bridge {
                    network.attach(&pod, netns.as_fd(), &[]).unwrap();
                } else {
                    peapod_netns::loopback_up(netns.as_fd()).unwrap();
                }
            }
            let took = t.elapsed();
            if net == Net::Bridge {
                network.detach(&pod).unwrap();
            }
            pause.kill().unwrap();
            pause.wait().unwrap();
            cgroup.remove(Duration::from_secs(5)).unwrap();
            took
        });
    }
    group.finish();
    common::remove_bench_network(BRIDGE, TABLE, &lease_dir);
}

criterion_group!(benches, sandbox_create);
criterion_main!(benches);
