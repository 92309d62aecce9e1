//! Networking's share of a pod start: `Network::attach` (lease, veth pair
//! with its peer created inside a fresh netns, address, `lo`, default
//! route) and `Network::detach`. The netns itself (`unshare -n sleep`) is
//! made outside the timed part. Needs root; prints a skip otherwise.
//! Uses its own bridge `peapodb0`, subnet 10.213.200.0/24 and nft table,
//! removed at the end; no traffic is sent.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::fs::File;
use std::os::fd::AsFd;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use peapod_netns::{Network, NetworkConfig};

const BRIDGE: &str = "peapodb0";
const TABLE: &str = "peapod_bench";

/// A fresh network namespace held by `sleep`.
fn fresh_netns() -> (Child, File) {
    let child = Command::new("unshare")
        .args(["-n", "sleep", "60"])
        .spawn()
        .unwrap();
    let own = std::fs::read_link("/proc/self/ns/net").unwrap();
    let path = format!("/proc/{}/ns/net", child.id());
    while std::fs::read_link(&path).ok() == Some(own.clone()) {
        std::thread::sleep(Duration::from_micros(200));
    }
    let netns = File::open(&path).unwrap();
    (child, netns)
}

fn netns_setup(c: &mut Criterion) {
    if !peapod_testkit::is_root() {
        eprintln!("netns_setup: skipped, needs root");
        return;
    }
    let lease_dir = std::env::temp_dir().join(format!("peapod-bench-net-{}", std::process::id()));
    let mut config = NetworkConfig::new(&lease_dir);
    config.bridge = BRIDGE.into();
    config.subnet = "10.213.200.0/24".parse().unwrap();
    config.nft_table = TABLE.into();
    let network = Network::open(config).unwrap();

    let mut group = c.benchmark_group("netns");
    group.sample_size(50);
    // Each sample first makes its namespaces, lets the kernel settle
    // (tearing a netns down holds the rtnl lock for a while), then times
    // one attach per namespace; detach and kill come after the clock.
    group.bench_function("attach_veth_address_routes", |b| {
        b.iter_custom(|iters| {
            let pods: Vec<_> = (0..iters).map(|_| fresh_netns()).collect();
            std::thread::sleep(Duration::from_millis(50));
            let mut timed = Duration::ZERO;
            for (i, (_, netns)) in pods.iter().enumerate() {
                let start = Instant::now();
                network
                    .attach(&format!("bench{i}"), netns.as_fd(), &[])
                    .unwrap();
                timed += start.elapsed();
            }
            for (i, (mut child, _)) in pods.into_iter().enumerate() {
                network.detach(&format!("bench{i}")).unwrap();
                let _ = child.kill();
                let _ = child.wait();
            }
            timed
        });
    });
    group.bench_function("detach", |b| {
        b.iter_custom(|iters| {
            let pods: Vec<_> = (0..iters).map(|_| fresh_netns()).collect();
            for (i, (_, netns)) in pods.iter().enumerate() {
                network
                    .attach(&format!("bench{i}"), netns.as_fd(), &[])
                    .unwrap();
            }
            std::thread::sleep(Duration::from_millis(50));
            let mut timed = Duration::ZERO;
            for i in 0..pods.len() {
                let start = Instant::now();
                network.detach(&format!("bench{i}")).unwrap();
                timed += start.elapsed();
            }
            for (mut child, _) in pods {
                let _ = child.kill();
                let _ = child.wait();
            }
            timed
        });
    });
    group.finish();
    common::remove_bench_network(BRIDGE, TABLE, &lease_dir);
}

criterion_group!(benches, netns_setup);
criterion_main!(benches);
