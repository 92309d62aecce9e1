//! Root integration tests of pod networking: real network namespaces
//! (made here with `unshare -n`), a bridge, subnet and nftables table of
//! each test's own, cleaned up by drop guards even when a test fails.
//! All traffic stays between those namespaces and the test bridge.
#![allow(clippy::unwrap_used, missing_docs)]

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use peapod_netns::{
    HostPort, Network, NetworkConfig, PodNetwork, Protocol, loopback_up, veth_name,
};
use peapod_testkit::{TempDir, require_host, require_root};

/// A network of the test's own: bridge `peapodt<n>`, subnet
/// `10.213.<n>.0/24`, nft table `peapod_test<n>`, leases in a temp dir.
/// Dropping it removes the bridge and the table.
struct TestNetwork {
    network: Network,
    _leases: TempDir,
}

/// Test `n`'s network: bridge `peapodt<n>`, subnet `10.213.<n>.0/<prefix>`,
/// nft table `peapod_test<n>`, leases in `lease_dir`.
fn test_config(n: u8, prefix: u8, lease_dir: &Path) -> NetworkConfig {
    let mut config = NetworkConfig::new(lease_dir);
    config.bridge = format!("peapodt{n}");
    config.subnet = format!("10.213.{n}.0/{prefix}").parse().unwrap();
    config.nft_table = format!("peapod_test{n}");
    config
}

impl TestNetwork {
    fn new(n: u8) -> Self {
        Self::with_prefix(n, 24)
    }

    fn with_prefix(n: u8, prefix: u8) -> Self {
        let leases = TempDir::new(&format!("netns-{n}"));
        // The masquerade chain is written, but no test sends traffic out.
        let config = test_config(n, prefix, &leases.path().join("net"));
        let test = Self {
            network: Network::open(config).unwrap(),
            _leases: leases,
        };
        assert!(link_exists(&test.network.config().bridge));
        test
    }

    fn lease_dir(&self) -> &Path {
        &self.network.config().lease_dir
    }
}

impl TestNetwork {
    /// Pods `pod-a` and `pod-b`, attached without host ports.
    fn two_pods(&self) -> (TestPod, PodNetwork, TestPod, PodNetwork) {
        let (a, b) = (TestPod::new(), TestPod::new());
        let net_a = self.network.attach("pod-a", a.netns.as_fd(), &[]).unwrap();
        let net_b = self.network.attach("pod-b", b.netns.as_fd(), &[]).unwrap();
        (a, net_a, b, net_b)
    }
}

impl Drop for TestNetwork {
    fn drop(&mut self) {
        let config = self.network.config();
        for (pod, _) in self.network.leases().unwrap_or_default() {
            let _ = self.network.detach(&pod);
        }
        let _ = Command::new("ip")
            .args(["link", "del", &config.bridge])
            .status();
        let _ = Command::new("nft")
            .args(["delete", "table", "ip", &config.nft_table])
            .stderr(Stdio::null())
            .status();
    }
}

/// A "pod": `sleep` in a network namespace of its own, killed on drop.
struct TestPod {
    child: Child,
    netns: File,
}

impl TestPod {
    fn new() -> Self {
        let child = Command::new("unshare")
            .args(["-n", "sleep", "300"])
            .spawn()
            .unwrap();
        let pid = child.id();
        let own = std::fs::read_link("/proc/self/ns/net").unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        // `unshare` execs `sleep` after it has entered the new namespace.
        while std::fs::read_link(format!("/proc/{pid}/ns/net")).ok() == Some(own.clone()) {
            assert!(Instant::now() < deadline, "unshare -n did not start");
            std::thread::sleep(Duration::from_millis(2));
        }
        let netns = File::open(format!("/proc/{pid}/ns/net")).unwrap();
        Self { child, netns }
    }

    /// Waits (60 s at most) until an established TCP connection of the pod
    /// has a peer address containing `peer`.
    /// Waits until a TCP socket of the pod listens on `port` (a server
    /// just spawned binds a moment later).
    fn wait_listening(&self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut listening = String::new();
        while Instant::now() < deadline {
            listening = self.stdout(&["ss", "-Hltn", &format!("sport = :{port}")]);
            if !listening.trim().is_empty() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("nothing listens on port {port}: {listening:?}");
    }

    fn wait_for_peer(&self, peer: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut peers = String::new();
        while Instant::now() < deadline {
            peers = self.stdout(&["ss", "-Htn", "state", "established"]);
            if peers.contains(peer) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no connection from {peer} in {peers:?}");
    }

    /// Runs a command inside the pod's network namespace.
    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("nsenter")
            .arg(format!("--net=/proc/{}/ns/net", self.child.id()))
            .args(args)
            .output()
            .unwrap()
    }

    fn stdout(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// Starts a long-running command inside the pod's namespace.
    fn spawn(&self, args: &[&str]) -> Child {
        Command::new("nsenter")
            .arg(format!("--net=/proc/{}/ns/net", self.child.id()))
            .args(args)
            // A pipe kept open: servers like `nc -l` quit on EOF.
            .stdin(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

impl Drop for TestPod {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Kills a spawned helper process on drop.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn link_exists(name: &str) -> bool {
    std::path::Path::new("/sys/class/net").join(name).exists()
}

fn ping(from: Option<&TestPod>, to: Ipv4Addr) -> bool {
    let to = to.to_string();
    let args = ["busybox", "ping", "-c1", "-W2", &to];
    match from {
        Some(pod) => pod.run(&args).status.success(),
        None => Command::new(args[0])
            .args(&args[1..])
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success(),
    }
}

fn count_lines(program: &str, args: &[&str]) -> usize {
    let out = Command::new(program).args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// Host port `i` of test `n`: 20000 + 100 n + i, below the kernel's
/// ephemeral range (32768+), so no client socket of another test running
/// beside can hold it by chance. (Asking the kernel for a free port and
/// releasing it raced with those.)
fn host_port(n: u16, i: u16) -> u16 {
    20_000 + 100 * n + i
}

#[test]
fn two_pods_reach_each_other_and_the_host_reaches_both() {
    if !require_root("two_pods_reach_each_other_and_the_host_reaches_both") {
        return;
    }
    let test = TestNetwork::new(1);
    let (a, net_a, b, net_b) = test.two_pods();
    assert_ne!(net_a.ip, net_b.ip);
    assert_eq!(net_a.gateway, Ipv4Addr::new(10, 213, 1, 1));
    assert_eq!(net_a.veth, veth_name("pod-a"));
    assert!(link_exists(&net_a.veth));

    let addr = a.stdout(&["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
    assert!(addr.contains(&format!("inet {}/24", net_a.ip)), "{addr}");
    let route = a.stdout(&["ip", "-4", "route", "show", "default"]);
    assert!(route.contains("default via 10.213.1.1 dev eth0"), "{route}");
    let lo = a.stdout(&["ip", "-o", "link", "show", "dev", "lo"]);
    assert!(lo.contains("UP"), "{lo}");

    assert!(ping(Some(&a), net_b.ip), "pod A reaches pod B");
    assert!(ping(Some(&b), net_a.ip), "pod B reaches pod A");
    assert!(ping(None, net_a.ip), "the host reaches pod A");
    assert!(ping(Some(&a), net_a.gateway), "pod A reaches its gateway");
}

#[test]
fn pod_sees_the_callers_pod_ip_as_source() {
    if !require_root("pod_sees_the_callers_pod_ip_as_source") {
        return;
    }
    let test = TestNetwork::new(2);
    let (a, net_a, b, net_b) = test.two_pods();
    // A accepts a connection from B; A's socket table shows B's pod IP
    // as the peer: no NAT on the bridge.
    let _server = KillOnDrop(a.spawn(&["busybox", "nc", "-l", "-p", "8080"]));
    a.wait_listening(8080);
    let client = Command::new("nsenter")
        .arg(format!("--net=/proc/{}/ns/net", b.child.id()))
        .args(["busybox", "nc", &net_a.ip.to_string(), "8080"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let _client = KillOnDrop(client);
    // busybox listens on IPv6: the peer shows as [::ffff:<ip>]:port.
    a.wait_for_peer(&format!("{}]:", net_b.ip));
}

#[test]
fn host_port_reaches_the_container_port_from_host_loopback() {
    if !require_root("host_port_reaches_the_container_port_from_host_loopback") {
        return;
    }
    let test = TestNetwork::new(3);
    if !require_host(
        "host_port_reaches_the_container_port_from_host_loopback",
        "nft",
        test.network.nft_available(),
    ) {
        return;
    }
    let pod = TestPod::new();
    let host_port = host_port(3, 0);
    let net = test
        .network
        .attach("web", pod.netns.as_fd(), &[HostPort::tcp(host_port, 8080)])
        .unwrap();
    let www = TempDir::new("netns-www");
    std::fs::write(www.path().join("index.html"), "hello from the pod\n").unwrap();
    let dir = www.path().to_str().unwrap();
    let _httpd = KillOnDrop(pod.spawn(&["busybox", "httpd", "-f", "-p", "8080", "-h", dir]));
    pod.wait_listening(8080);

    for host in ["127.0.0.1", "10.213.3.1"] {
        let mut stream = TcpStream::connect((host, host_port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
            .write_all(b"GET /index.html HTTP/1.0\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.contains("hello from the pod"), "{host}: {answer}");
    }

    // A second pod may not take the same host port; the error names both.
    let other = TestPod::new();
    let error = test
        .network
        .attach("api", other.netns.as_fd(), &[HostPort::tcp(host_port, 80)])
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        format!("hostPort 0.0.0.0:{host_port}/TCP of pod api is already taken by pod web")
    );
    assert!(!link_exists(&veth_name("api")));

    // Nor one a socket of the host listens on.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = listener.local_addr().unwrap().port();
    let error = test
        .network
        .attach("api", other.netns.as_fd(), &[HostPort::tcp(busy, 80)])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!(
            "{busy}/TCP of pod api is already taken by a socket"
        )),
        "{error}"
    );

    // Another pod reaches it through the host port too (hairpin NAT).
    let client = TestPod::new();
    test.network
        .attach("client", client.netns.as_fd(), &[])
        .unwrap();
    // (busybox wget crashes on this Debian build: HTTP by hand over nc.)
    let request = format!(
        "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 5 10.213.3.1 {host_port}"
    );
    let page = client.stdout(&["busybox", "sh", "-c", &request]);
    assert!(page.contains("hello from the pod"), "{page}");

    test.network.detach("web").unwrap();
    assert!(
        TcpStream::connect_timeout(
            &(Ipv4Addr::LOCALHOST, host_port).into(),
            Duration::from_millis(500)
        )
        .is_err()
    );
    let _ = net;
}

#[test]
fn fifty_attach_detach_cycles_leave_links_addresses_leases_and_rules_unchanged() {
    if !require_root("fifty_attach_detach_cycles_leave_links_addresses_leases_and_rules_unchanged")
    {
        return;
    }
    let test = TestNetwork::new(4);
    let config = test.network.config().clone();
    let (bridge, table) = (config.bridge, config.nft_table);
    // Only what belongs to this test: other tests run beside it.
    let count = || {
        (
            count_lines("ip", &["-o", "link", "show", "master", &bridge]),
            count_lines("ip", &["-o", "addr", "show", "to", "10.213.4.0/24"]),
            test.network.leases().unwrap().len(),
            count_lines("nft", &["list", "table", "ip", &table]),
        )
    };
    let before = count();
    for cycle in 0..50_u16 {
        let pod = TestPod::new();
        let ports = [HostPort::tcp(host_port(4, cycle), 80)];
        let name = format!("cycle-{cycle}");
        test.network
            .attach(&name, pod.netns.as_fd(), &ports)
            .unwrap();
        assert_ne!(count(), before);
        test.network.detach(&name).unwrap();
        test.network.detach(&name).unwrap();
    }
    assert_eq!(count(), before);
}

#[test]
fn detach_after_the_netns_is_gone_cleans_up() {
    if !require_root("detach_after_the_netns_is_gone_cleans_up") {
        return;
    }
    let test = TestNetwork::new(5);
    let pod = TestPod::new();
    let net = test.network.attach("gone", pod.netns.as_fd(), &[]).unwrap();
    drop(pod);
    // The namespace dies with its last process and fd; the veth goes with it.
    let deadline = Instant::now() + Duration::from_secs(60);
    while link_exists(&net.veth) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    test.network.detach("gone").unwrap();
    assert!(!link_exists(&net.veth));
    assert!(test.network.leases().unwrap().is_empty());
}

#[test]
fn loopback_up_alone_for_a_pod_without_bridge_networking() {
    if !require_root("loopback_up_alone_for_a_pod_without_bridge_networking") {
        return;
    }
    let pod = TestPod::new();
    loopback_up(pod.netns.as_fd()).unwrap();
    assert!(
        pod.stdout(&["ip", "-o", "link", "show", "dev", "lo"])
            .contains("UP")
    );
    assert!(
        pod.run(&["busybox", "ping", "-c1", "-W2", "127.0.0.1"])
            .status
            .success()
    );
}

#[test]
fn host_ip_limits_the_host_port_to_that_address() {
    if !require_root("host_ip_limits_the_host_port_to_that_address") {
        return;
    }
    let test = TestNetwork::new(6);
    if !require_host(
        "host_ip_limits_the_host_port_to_that_address",
        "nft",
        test.network.nft_available(),
    ) {
        return;
    }
    let pod = TestPod::new();
    let host_port = host_port(6, 0);
    let port = HostPort {
        host_ip: Ipv4Addr::LOCALHOST.into(),
        ..HostPort::tcp(host_port, 8080)
    };
    test.network
        .attach("local-only", pod.netns.as_fd(), &[port])
        .unwrap();
    let _server = KillOnDrop(pod.spawn(&["busybox", "nc", "-l", "-p", "8080"]));
    pod.wait_listening(8080);
    let connect = |host: Ipv4Addr| {
        TcpStream::connect_timeout(&(host, host_port).into(), Duration::from_secs(30)).is_ok()
    };
    // The bridge address is the host's too, but not the hostIP asked for.
    assert!(!connect(Ipv4Addr::new(10, 213, 6, 1)));
    assert!(connect(Ipv4Addr::LOCALHOST));
}

/// The child half of the SIGKILL test: plays a supervisor that attaches a
/// pod and hangs until killed. Does nothing unless the parent set
/// `PEAPOD_NETNS_SUPERVISOR` (ignored: only that test runs it).
#[test]
#[ignore = "helper run by the SIGKILL test"]
fn supervisor_child_attaches_and_hangs() {
    let Ok(spec) = std::env::var("PEAPOD_NETNS_SUPERVISOR") else {
        return;
    };
    let [lease_dir, pod, pause, port] = spec.split(',').collect::<Vec<_>>()[..] else {
        panic!("bad PEAPOD_NETNS_SUPERVISOR {spec}");
    };
    let network = Network::open(test_config(7, 29, Path::new(lease_dir))).unwrap();
    let netns = File::open(format!("/proc/{pause}/ns/net")).unwrap();
    let ports = [HostPort::tcp(port.parse().unwrap(), 80)];
    network.attach(pod, netns.as_fd(), &ports).unwrap();
    println!("attached");
    std::thread::sleep(Duration::from_secs(300));
}

#[test]
fn sigkilled_supervisor_is_cleaned_by_detach_or_reclaimed_by_the_next_pod() {
    if !require_root("sigkilled_supervisor_is_cleaned_by_detach_or_reclaimed_by_the_next_pod") {
        return;
    }
    // A /29 has 5 pod addresses.
    let test = TestNetwork::with_prefix(7, 29);
    let lease_dir = test.lease_dir().to_owned();
    let table_lists = |chain: &str| {
        let out = Command::new("nft")
            .args(["list", "table", "ip", "peapod_test7"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).contains(chain)
    };
    let killed_supervisor = |pod: &str, pause: &TestPod, port: u16| {
        let spec = format!("{},{pod},{},{port}", lease_dir.display(), pause.child.id());
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "supervisor_child_attaches_and_hangs",
                "--nocapture",
                "--include-ignored",
            ])
            .env("PEAPOD_NETNS_SUPERVISOR", spec)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // libtest prints its own lines first; wait for the child's.
        let stdout = BufReader::new(child.stdout.take().unwrap());
        assert!(stdout.lines().any(|line| line.unwrap() == "attached"));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(link_exists(&veth_name(pod)));
    };

    // `peapod delete` after a SIGKILL: detach from another process.
    let pause = TestPod::new();
    killed_supervisor("victim", &pause, host_port(7, 0));
    test.network.detach("victim").unwrap();
    assert!(!link_exists(&veth_name("victim")));
    assert!(test.network.leases().unwrap().is_empty());

    // No delete: the next pod asking for the same host port reclaims it.
    let pause = TestPod::new();
    let port = host_port(7, 1);
    killed_supervisor("orphan", &pause, port);
    let orphan_chain = test.network.leases().unwrap();
    assert_eq!(orphan_chain.len(), 1);
    let heir = TestPod::new();
    test.network
        .attach("heir", heir.netns.as_fd(), &[HostPort::tcp(port, 80)])
        .unwrap();
    assert!(!link_exists(&veth_name("orphan")));
    let pods: Vec<String> = test
        .network
        .leases()
        .unwrap()
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(pods, ["heir"]);
    assert!(table_lists("_pre"), "heir's chain is there");
    test.network.detach("heir").unwrap();
    assert!(!table_lists("_pre"), "no pod chain is left");
}

/// Runs `ip` on the host (test plumbing only; the crate itself never does).
fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().unwrap();
    assert!(status.success(), "ip {args:?}");
}

#[test]
fn egress_from_a_pod_is_masqueraded_behind_the_host() {
    if !require_root("egress_from_a_pod_is_masqueraded_behind_the_host") {
        return;
    }
    let test = TestNetwork::new(8);
    if !require_host(
        "egress_from_a_pod_is_masqueraded_behind_the_host",
        "nft",
        test.network.nft_available(),
    ) {
        return;
    }
    // "Outside": a namespace of this test behind a veth of its own,
    // 10.213.108.0/30, with no route back to the pod subnet: only
    // masqueraded traffic can get an answer.
    let outside = TestPod::new();
    let pid = outside.child.id().to_string();
    ip(&[
        "link", "add", "pxo8", "type", "veth", "peer", "name", "pxo8o", "netns", &pid,
    ]);
    ip(&["addr", "add", "10.213.108.1/30", "dev", "pxo8"]);
    ip(&["link", "set", "pxo8", "up"]);
    outside.stdout(&["ip", "addr", "add", "10.213.108.2/30", "dev", "pxo8o"]);
    outside.stdout(&["ip", "link", "set", "pxo8o", "up"]);

    let pod = TestPod::new();
    test.network
        .attach("egress", pod.netns.as_fd(), &[])
        .unwrap();
    let _server = KillOnDrop(outside.spawn(&["busybox", "nc", "-l", "-p", "9000"]));
    outside.wait_listening(9000);
    let client = Command::new("nsenter")
        .arg(format!("--net=/proc/{}/ns/net", pod.child.id()))
        .args(["busybox", "nc", "10.213.108.2", "9000"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let _client = KillOnDrop(client);
    // The host's address, not the pod's.
    outside.wait_for_peer("10.213.108.1]:");
}

#[test]
fn udp_host_port_reaches_the_pod() {
    if !require_root("udp_host_port_reaches_the_pod") {
        return;
    }
    let test = TestNetwork::new(9);
    if !require_host(
        "udp_host_port_reaches_the_pod",
        "nft",
        test.network.nft_available(),
    ) {
        return;
    }
    let pod = TestPod::new();
    let host_port = host_port(9, 0);
    let port = HostPort {
        protocol: Protocol::Udp,
        ..HostPort::tcp(host_port, 5353)
    };
    test.network
        .attach("dns", pod.netns.as_fd(), &[port])
        .unwrap();
    // A UDP echo inside the pod: a thread of this test enters its netns.
    let netns = pod.netns.try_clone().unwrap();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let echo = std::thread::spawn(move || {
        rustix::thread::move_into_link_name_space(
            netns.as_fd(),
            Some(rustix::thread::LinkNameSpaceType::Network),
        )
        .unwrap();
        let socket = std::net::UdpSocket::bind("0.0.0.0:5353").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        ready_tx.send(()).unwrap();
        let mut buffer = [0; 64];
        let (len, from) = socket.recv_from(&mut buffer).unwrap();
        socket.send_to(&buffer[..len], from).unwrap();
    });
    ready_rx.recv().unwrap();
    let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    client.send_to(b"ping", ("127.0.0.1", host_port)).unwrap();
    let mut answer = [0; 64];
    let (len, _) = client.recv_from(&mut answer).unwrap();
    assert_eq!(&answer[..len], b"ping");
    echo.join().unwrap();
}

#[test]
fn dual_stack_pods_reach_each_other_over_ipv6() {
    if !require_root("dual_stack_pods_reach_each_other_over_ipv6") {
        return;
    }
    let leases = TempDir::new("netns-10");
    let mut config = test_config(10, 24, &leases.path().join("net"));
    config.ipv6_prefix = Some("fd77:7070:0:a::".parse().unwrap());
    let test = TestNetwork {
        network: Network::open(config).unwrap(),
        _leases: leases,
    };
    let (a, net_a, b, net_b) = test.two_pods();
    let (a6, b6) = (net_a.ipv6.unwrap(), net_b.ipv6.unwrap());
    // 10.213.10.x in the low 32 bits: 0ad5:0axx.
    let low = format!("ad5:a{:02x}", net_a.ip.octets()[3]);
    assert_eq!(a6.to_string(), format!("fd77:7070:0:a::{low}"));
    let addr = a.stdout(&[
        "ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "global",
    ]);
    assert!(addr.contains(&format!("inet6 {a6}/64")), "{addr}");
    let route = a.stdout(&["ip", "-6", "route", "show", "default"]);
    assert!(
        route.contains("default via fd77:7070:0:a::ad5:a01 dev eth0"),
        "{route}"
    );
    let ping6 = |pod: &TestPod, to: std::net::Ipv6Addr| {
        pod.run(&["busybox", "ping", "-6", "-c1", "-W2", &to.to_string()])
            .status
            .success()
    };
    assert!(ping6(&a, b6), "pod A reaches pod B over IPv6");
    assert!(ping6(&b, a6), "pod B reaches pod A over IPv6");
    let host = Command::new("busybox")
        .args(["ping", "-6", "-c1", "-W2", &a6.to_string()])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(host.success(), "the host reaches pod A over IPv6");
}

#[test]
fn release_leaves_the_veth_to_its_namespace_and_quarantines_its_address() {
    if !require_root("release_leaves_the_veth_to_its_namespace_and_quarantines_its_address") {
        return;
    }
    // A /30 has one pod address: the next pod can only get the first's.
    let test = TestNetwork::with_prefix(10, 30);
    if !require_host(
        "release_leaves_the_veth_to_its_namespace_and_quarantines_its_address",
        "nft",
        test.network.nft_available(),
    ) {
        return;
    }
    let table = test.network.config().nft_table.clone();
    let chains = || count_lines("nft", &["list", "table", "ip", &table]);
    let no_pod_chains = chains();
    let first = TestPod::new();
    let net = test
        .network
        .attach(
            "first",
            first.netns.as_fd(),
            &[HostPort::tcp(host_port(10, 0), 80)],
        )
        .unwrap();
    assert_ne!(chains(), no_pod_chains);
    // As a delete releases it: without opening the network.
    Network::release_pod(test.network.config(), "first").unwrap();
    // The host-port rules are gone when release returns.
    assert_eq!(chains(), no_pod_chains);
    assert!(test.network.leases().unwrap().is_empty());
    // The namespace still lives (its process does): so does the veth, and
    // its address is not handed out meanwhile.
    assert!(link_exists(&net.veth));
    let second = TestPod::new();
    let error = test
        .network
        .attach("second", second.netns.as_fd(), &[])
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "no free address left in 10.213.10.0/30 for pod second"
    );
    // The namespace's last process dies: the kernel destroys it and the
    // veth pair in its own worker.
    drop(first);
    assert_eq!(
        peapod_netns::wait_named_links_gone(
            std::slice::from_ref(&net.veth),
            Duration::from_secs(60)
        )
        .unwrap(),
        Vec::<String>::new()
    );
    let again = test
        .network
        .attach("second", second.netns.as_fd(), &[])
        .unwrap();
    assert_eq!(again.ip, net.ip);
    test.network.release("second").unwrap();
    test.network.release("second").unwrap();
    drop(second);
    assert_eq!(
        peapod_netns::wait_named_links_gone(&[again.veth], Duration::from_secs(60)).unwrap(),
        Vec::<String>::new()
    );
}

/// A delete releases its pod's lease without opening the network: a
/// missing bridge is not made (nor its masquerade rules), and a pod
/// without a lease is no error.
#[test]
fn release_pod_never_makes_the_bridge() {
    if !require_root("release_pod_never_makes_the_bridge") {
        return;
    }
    let leases = TempDir::new("netns-15");
    let config = test_config(15, 24, &leases.path().join("net"));
    assert!(!link_exists(&config.bridge));
    Network::release_pod(&config, "never-attached").unwrap();
    assert!(!link_exists(&config.bridge));
}

/// The fallback of the quarantine: a namespace whose processes are all
/// gone but which an fd still holds (someone's open
/// `/proc/<pid>/ns/net`; a bind mount of it does the same) keeps the
/// veth, so the address would stay in quarantine forever. Past the
/// quarantine limit (the lease file backdated here), the next allocation
/// deletes that veth itself and hands the address out again.
#[test]
fn a_veth_kept_by_a_leaked_namespace_is_deleted_after_the_quarantine_limit() {
    if !require_root("a_veth_kept_by_a_leaked_namespace_is_deleted_after_the_quarantine_limit") {
        return;
    }
    // A /30 has one pod address: the next pod can only get the first's.
    let test = TestNetwork::with_prefix(14, 30);
    let leaked = TestPod::new();
    let net = test
        .network
        .attach("leaked", leaked.netns.as_fd(), &[])
        .unwrap();
    test.network.release("leaked").unwrap();
    // The pod's last process dies; the fd alone keeps its namespace.
    let netns = leaked.netns.try_clone().unwrap();
    drop(leaked); // kills and reaps its process
    let second = TestPod::new();
    assert!(
        test.network
            .attach("second", second.netns.as_fd(), &[])
            .is_err()
    );
    assert!(
        link_exists(&net.veth),
        "within the limit: left to the kernel"
    );
    let released = std::time::SystemTime::now() - Duration::from_secs(11);
    File::options()
        .write(true)
        .open(test.lease_dir().join(net.ip.to_string()))
        .and_then(|f| f.set_times(std::fs::FileTimes::new().set_modified(released)))
        .unwrap();
    let again = test
        .network
        .attach("second", second.netns.as_fd(), &[])
        .unwrap();
    assert_eq!(again.ip, net.ip);
    assert!(!link_exists(&net.veth), "deleted by the sweep");
    test.network.release("second").unwrap();
    drop((netns, second));
    assert_eq!(
        peapod_netns::wait_named_links_gone(&[again.veth], Duration::from_secs(60)).unwrap(),
        Vec::<String>::new()
    );
}
