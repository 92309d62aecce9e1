//! Issue 5's acceptance: pods on the `peapod0` bridge. Pod to pod by IP
//! with the caller's pod IP as the source, a host port from the host's
//! loopback, the kubelet `/etc/hosts` with the pod IP and hostAliases, and
//! nothing of a pod's network left after `delete` (also after a `kill -9`
//! of its supervisor, and after a failed `apply`); pods of two `--root`s
//! share the bridge's leases. Root only.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Pod, Root, cgroups_of, exclusive, free_port, shared, start};
use peapod_runtime::network;

/// A pod serving `hi` with busybox httpd on `port`, logging requests
/// (`-vv`) to the container log; `hostPort` forwards to it when given.
fn httpd_pod(name: &str, port: u16, host_port: Option<u16>) -> String {
    let ports = host_port.map_or_else(String::new, |h| {
        format!("      ports:\n        - {{ containerPort: {port}, hostPort: {h} }}\n")
    });
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{ name: {name} }}
spec:
  containers:
    - name: web
      image: busybox:1.30.1
      command: ["sh", "-c", "mkdir -p /www && echo hi > /www/index.html && exec httpd -f -vv -p {port} -h /www"]
{ports}"#
    )
}

const CLIENT: &str = r#"
apiVersion: v1
kind: Pod
metadata: { name: client }
spec:
  containers:
    - { name: c, image: busybox:1.30.1, command: ["sleep", "1000"] }
"#;

fn pod_ip(pod: &Pod<'_>) -> String {
    let v = pod.json();
    let ip = v["status"]["podIP"].as_str().unwrap_or_default().to_owned();
    assert!(ip.starts_with("10.77."), "podIP: {v:#}");
    assert_eq!(v["status"]["podIPs"][0]["ip"].as_str(), Some(ip.as_str()));
    ip
}

fn uid(pod: &Pod<'_>) -> String {
    pod.json()["metadata"]["uid"].as_str().unwrap().to_owned()
}

/// Retries `attempt` for a few seconds (a server may not listen yet when
/// `apply` returns).
fn eventually(what: &str, attempt: impl Fn() -> Option<String>) -> String {
    let deadline = Instant::now() + common::WAIT;
    loop {
        if let Some(out) = attempt() {
            return out;
        }
        assert!(Instant::now() < deadline, "{what}: never happened");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The nftables ruleset of peapod's table (empty without `nft`).
fn nft_table() -> String {
    Command::new("nft")
        .args(["list", "table", "ip", "peapod"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// The leases pod `uid` holds in the host's lease folder (a lease file
/// holds a `pod <uid>` line; pods of other roots have leases there too).
/// A lease in quarantine (`released`: the pod is gone, its address waits
/// for its veth to vanish) is not held.
fn leases_of(uid: &str) -> Vec<String> {
    let line = format!("pod {uid}\n");
    std::fs::read_dir(network::lease_dir())
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            std::fs::read_to_string(p)
                .is_ok_and(|text| text.contains(&line) && !text.contains("\nreleased\n"))
        })
        .map(|p| format!("lease {}", p.display()))
        .collect()
}

/// What of pod `uid`'s network is on the host: its lease and its nft
/// chains as they are now (both must be gone when `delete` returns), then
/// its veth once the kernel is done (it goes with the pod's network
/// namespace, in the kernel's own worker: waited for on netlink).
fn network_of(uid: &str) -> Vec<String> {
    let mut found = leases_and_rules_of(uid);
    let left = network::wait_host_links_gone(&[uid], common::WAIT).unwrap();
    found.extend(left.into_iter().map(|link| format!("link {link}")));
    found
}

/// [`network_of`] without waiting: the veth as it is now.
fn network_now(uid: &str) -> Vec<String> {
    let link = network::host_link(uid);
    let mut found = leases_and_rules_of(uid);
    if Path::new("/sys/class/net").join(&link).exists() {
        found.push(format!("link {link}"));
    }
    found
}

/// The leases and the nft chain of pod `uid`: gone when `delete` returns
/// (its veth goes later, with the pod's network namespace).
fn leases_and_rules_of(uid: &str) -> Vec<String> {
    let link = network::host_link(uid);
    let chain = format!("pod_{}", &link[2..]);
    let mut found = leases_of(uid);
    if nft_table().contains(&chain) {
        found.push(format!("nft chain {chain}"));
    }
    found
}

fn http_get(address: &str) -> Option<String> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.ends_with("hi\n").then_some(answer)
}

#[test]
fn pod_reaches_another_pods_ip_which_sees_the_callers_pod_ip() {
    let Some((_host, root)) = start("pod_to_pod", "net-p2p", exclusive) else {
        return;
    };
    let server = root.apply("server", &httpd_pod("server", 80, None));
    let client = root.apply("client", CLIENT);
    let (server_ip, client_ip) = (pod_ip(&server), pod_ip(&client));
    assert_ne!(server_ip, client_ip);
    let wide = root.ok(&["get", "pod", "server", "-o", "wide"]);
    let header = wide.lines().next().unwrap_or_default();
    assert!(header.contains(" IP "), "{wide}");
    assert!(wide.contains(&server_ip), "{wide}");
    let request = format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc {server_ip} 80");
    eventually("client gets the page", || {
        let (code, out) = client.exec("c", &["sh", "-c", &request]);
        (code == 0 && out.ends_with("hi\n")).then_some(out)
    });
    let source = format!("[::ffff:{client_ip}]:");
    eventually("the server logs the client's pod IP", || {
        let log = root.ok(&["logs", "server"]);
        log.contains(&source).then_some(log)
    });
}

#[test]
fn pods_of_two_roots_get_two_addresses_of_the_one_bridge() {
    let Some((_host, root)) = start("two_roots", "net-root-a", exclusive) else {
        return;
    };
    let other = Root::new("net-root-b");
    let a = root.apply("client", CLIENT);
    let b = other.apply("client", CLIENT);
    let (ip_a, ip_b) = (pod_ip(&a), pod_ip(&b));
    assert_ne!(ip_a, ip_b, "one bridge, one lease per address");
    assert_eq!(leases_of(&uid(&a)).len(), 1);
    assert_eq!(leases_of(&uid(&b)).len(), 1);
    let ping = format!("ping -c 1 -W 2 {ip_b}");
    let (code, out) = a.exec("c", &["sh", "-c", &ping]);
    assert_eq!(
        code, 0,
        "a pod of one root reaches a pod of the other: {out}"
    );
}

#[test]
fn host_port_answers_on_the_hosts_loopback() {
    let Some((_host, root)) = start("host_port", "net-hostport", exclusive) else {
        return;
    };
    let port = free_port();
    let _web = root.apply("web", &httpd_pod("web", 8080, Some(port)));
    eventually("127.0.0.1:hostPort answers", || {
        http_get(&format!("127.0.0.1:{port}"))
    });
}

#[test]
fn hosts_file_has_the_pod_ip_and_the_host_aliases_in_every_container() {
    let Some((_host, root)) = start("hosts_file", "net-hosts", exclusive) else {
        return;
    };
    let pod = root.apply(
        "my-first-test",
        include_str!("../../spec/tests/fixtures/seeds/001-1-my-first-test.yaml"),
    );
    let ip = pod_ip(&pod);
    let expected = common::seed_001_hosts_file(&ip);
    for container in ["my-test-container1", "my-test-container2"] {
        assert_eq!(pod.sh(container, "cat /etc/hosts"), expected);
    }
}

#[test]
fn every_container_sees_its_address_and_route_from_its_first_instruction() {
    let Some((_host, root)) = start("network_first", "net-first", exclusive) else {
        return;
    };
    // The containers are set up while the pod's veth is made, but none
    // runs before it is there: what each prints first is the pod's.
    let script = "ip -4 -o addr show dev eth0; ip route show default; exec sleep 1000";
    let pod = root.apply(
        "first",
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{ name: first }}
spec:
  containers:
    - {{ name: a, image: busybox:1.30.1, command: ["sh", "-c", "{script}"] }}
    - {{ name: b, image: busybox:1.31.1, command: ["sh", "-c", "{script}"] }}
"#
        ),
    );
    let ip = pod_ip(&pod);
    for container in ["a", "b"] {
        let log = eventually(&format!("{container}'s first lines"), || {
            let out = root.ok(&["logs", "first", "-c", container]);
            out.contains("default via").then_some(out)
        });
        assert!(log.contains(&format!("inet {ip}/")), "{container}: {log}");
        assert!(
            log.contains("default via 10.77.0.1 dev eth0"),
            "{container}: {log}"
        );
    }
}

#[test]
fn delete_kill_9_and_failed_apply_leave_no_veth_lease_or_rule() {
    let Some((_host, root)) = start("network_teardown", "net-teardown", exclusive) else {
        return;
    };
    let port = free_port();
    let yaml = httpd_pod("web", 8080, Some(port));

    let pod = root.apply("web", &yaml);
    let id = uid(&pod);
    assert_eq!(network_now(&id).len(), 3, "lease, veth, nft chain");
    root.ok(&["delete", "pod", "web", "--grace-period", "0"]);
    assert_eq!(network_of(&id), Vec::<String>::new());
    drop(pod);

    let pod = root.apply("web", &yaml);
    let id = uid(&pod);
    Command::new("kill")
        .args(["-9", &pod.supervisor_pid().to_string()])
        .status()
        .unwrap();
    root.ok(&["delete", "pod", "web", "--grace-period", "0"]);
    assert_eq!(network_of(&id), Vec::<String>::new());
    drop(pod);

    let broken = format!(
        "{yaml}    - {{ name: bad, image: busybox:1.30.1, command: [\"/usr/sbin/nginx\"] }}\n"
    );
    let (err, id) = apply_fails_with_uid(&root, &broken, &[]);
    assert!(err.contains("/usr/sbin/nginx"), "{err}");
    assert_eq!(network_of(&id), Vec::<String>::new());
}

/// The supervisor leases the pod's address (and writes its hosts files)
/// while the pause makes the pod's namespaces: a pause that then fails
/// (here its child cannot write a sysctl's value) gives the lease back.
#[test]
fn a_pause_that_fails_to_start_gives_its_lease_back() {
    let Some((_host, root)) = start("pause_fails_after_lease", "net-pause-fails", shared) else {
        return;
    };
    let port = free_port();
    let yaml = httpd_pod("web", 8080, Some(port)).replace(
        "spec:\n",
        "spec:\n  securityContext:\n    sysctls:\n      - { name: net.ipv4.ip_local_port_range, value: \"no range\" }\n",
    );
    let (err, id) = apply_fails_with_uid(&root, &yaml, &[]);
    assert!(
        err.contains("pause: sysctl") && err.contains("ip_local_port_range"),
        "{err}"
    );
    assert_eq!(network_of(&id), Vec::<String>::new());
    assert_eq!(cgroups_of(&id), Vec::<PathBuf>::new());
    assert_eq!(root.pod_leftovers(), Vec::<PathBuf>::new());
}

#[test]
fn host_port_without_working_nft_fails_apply_and_leaves_nothing() {
    let Some((_host, root)) = start("host_port_without_nft", "net-no-nft", shared) else {
        return;
    };
    let port = free_port();
    let yaml = httpd_pod("web", 8080, Some(port));
    // An nft that refuses every ruleset, as on a kernel without nf_tables.
    let refusing = root.path().join("refusing-nft");
    std::fs::write(
        &refusing,
        "#!/bin/sh\ncat >/dev/null\necho 'Error: Could not process rule: No such file or directory' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&refusing, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cases = [
        (
            network::NFT_ENV,
            "/nonexistent/nft".to_owned(),
            format!(
                "pod web: hostPort {port}/TCP cannot be forwarded: no nft binary (/nonexistent/nft is not a file)"
            ),
        ),
        (
            network::NFT_ENV,
            refusing.display().to_string(),
            "Error: Could not process rule: No such file or directory".to_owned(),
        ),
        (
            network::NETWORK_ENV,
            "none".to_owned(),
            format!(
                "pod web: hostPort {port}/TCP cannot be forwarded: PEAPOD_NETWORK=none gives the pod loopback only"
            ),
        ),
    ];
    for (variable, value, message) in cases {
        let (err, id) = apply_fails_with_uid(&root, &yaml, &[(variable, &value)]);
        assert!(err.contains(&message), "{err}");
        assert_eq!(network_of(&id), Vec::<String>::new(), "with {value}");
        assert_eq!(cgroups_of(&id), Vec::<PathBuf>::new());
        assert_eq!(root.pod_leftovers(), Vec::<PathBuf>::new());
    }
    // The same pod with nft starts, so the failure was nft's.
    let pod = root.apply("web", &yaml);
    assert_eq!(network_now(&uid(&pod)).len(), 3, "lease, veth, nft chain");
}

/// Applies pod `web` from `yaml` expecting a failure; returns stderr and
/// the uid the pod had while it was starting; `env` is set for the
/// apply (and so its supervisor) (read from its `pod.json`
/// meanwhile: other pods of the host may come and go, so only the uid
/// tells what was ours).
fn apply_fails_with_uid(root: &Root, yaml: &str, env: &[(&str, &str)]) -> (String, String) {
    let pod_json = root.path().join("run/pods/default_web/pod.json");
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                let text = std::fs::read_to_string(&pod_json).unwrap_or_default();
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
                    && let Some(uid) = v["metadata"]["uid"].as_str()
                {
                    return Some(uid.to_owned());
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            None
        });
        let err = root.apply_fails_with_env("web", yaml, env);
        done.store(true, Ordering::Relaxed);
        let uid = watcher.join().unwrap();
        (err, uid.expect("pod.json seen while the pod was starting"))
    })
}
