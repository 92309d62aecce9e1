//! tcpSocket through a `Run`: open and closed ports, the default host, and
//! connecting from inside another network namespace (root).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::os::fd::AsFd;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use peapod_hooks::{Error, Handler, Run, RunContext, TcpSocket, Verdict};
use peapod_testkit::require_root;

fn tcp(port: u16) -> Handler {
    Handler::TcpSocket(TcpSocket { host: None, port })
}

fn ctx<'a>(pod_ip: Option<IpAddr>) -> RunContext<'a> {
    RunContext {
        exec: None,
        pod_ip,
        netns: None,
        timeout: Duration::from_secs(1),
    }
}

#[test]
fn open_port_passes_and_closed_port_fails() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port();
    let local = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let o = Run::start(&tcp(open), &ctx(local)).wait().unwrap();
    assert_eq!(o.verdict, Verdict::Success, "{o:?}");
    let closed = common::free_port();
    let o = Run::start(&tcp(closed), &ctx(local)).wait().unwrap();
    assert_eq!(o.verdict, Verdict::Failure, "{o:?}");
    assert!(o.message.contains("refused"), "{}", o.message);
}

#[test]
fn no_host_and_no_pod_ip_is_a_failure_naming_what_is_missing() {
    let o = Run::start(&tcp(80), &ctx(None)).wait().unwrap();
    assert_eq!(o.verdict, Verdict::Failure);
    let want = Error::MissingContext {
        handler: "tcpSocket",
        missing: "host or pod IP",
    }
    .to_string();
    assert_eq!(o.message, want);
}

/// A process in a new network namespace listening on its loopback.
struct NetnsListener(Child);

impl Drop for NetnsListener {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn netns_fd_makes_localhost_the_pod_s_loopback() {
    if !require_root("netns_fd_makes_localhost_the_pod_s_loopback") {
        return;
    }
    let port = common::free_port();
    let script = format!("ip link set lo up && exec busybox nc -l -p {port}");
    let child = Command::new("unshare")
        .args(["--net", "sh", "-c", &script])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let listener = NetnsListener(child);
    // `unshare` may not have made its namespace yet: wait until it has.
    let deadline = Instant::now() + Duration::from_secs(60);
    let link = format!("/proc/{}/ns/net", listener.0.id());
    let own = std::fs::read_link("/proc/self/ns/net").unwrap();
    while std::fs::read_link(&link).unwrap() == own {
        assert!(Instant::now() < deadline, "unshare made no netns");
        std::thread::sleep(Duration::from_millis(10));
    }
    let netns = std::fs::File::open(&link).unwrap();
    // Then wait for the listener inside the namespace.
    let mut ctx = ctx(None);
    ctx.netns = Some(netns.as_fd());
    let mut o = Run::start(&tcp(port), &ctx).wait().unwrap();
    while o.verdict != Verdict::Success && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        o = Run::start(&tcp(port), &ctx).wait().unwrap();
    }
    assert_eq!(o.verdict, Verdict::Success, "{o:?}");
    // From the host's own namespace nothing listens there.
    let host = Run::start(
        &tcp(port),
        &self::ctx(Some(IpAddr::V4(Ipv4Addr::LOCALHOST))),
    )
    .wait()
    .unwrap();
    assert_eq!(host.verdict, Verdict::Failure, "{host:?}");
}
