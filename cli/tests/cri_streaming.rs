//! `peapod serve`'s streaming server: the URLs `Exec`, `Attach` and
//! `PortForward` return, opened as a WebSocket with Kubernetes' channel
//! subprotocols as a kubelet (or `crictl`) opens them: exec's output and
//! exit status, a terminal and its resize, attach to a container's stdin,
//! and a byte round trip through port-forward. (In the CLI's package for
//! the reason `cri_images.rs` gives.)

#![allow(clippy::unwrap_used, missing_docs)]

mod common;
#[path = "common/cri_calls.rs"]
mod cri_calls;
#[path = "common/cri_server.rs"]
mod cri_server;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{shared, start};
use cri_calls::{SandboxGuard, run_sandbox, running, sandbox_config, shell, status};
use cri_server::Serve;
use peapod_cri::Client;
use peapod_cri::api::{
    AttachRequest, ContainerConfig, ContainerState, ExecRequest, PortForwardRequest,
};
use tonic::Code;
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

/// A test's `serve` on a root of its own, and its client (dropped in
/// this order: `serve` stopped before its root goes).
struct Served {
    client: Client,
    _serve: Serve,
    root: common::Root,
    _host: std::sync::RwLockReadGuard<'static, ()>,
}

/// The root gate (`None`: skip), then `serve` started.
fn served(test: &str) -> Option<Served> {
    let (host, root) = start(test, "cri-stream", shared)?;
    let serve = Serve::start(root.path(), &[]);
    let client = serve.client();
    Some(Served {
        client,
        _serve: serve,
        root,
        _host: host,
    })
}

/// A sandbox of its own (removed at the end) with one busybox container
/// `main` (running `script`, or of `config`).
struct Pod<'a> {
    client: &'a Client,
    sandbox: SandboxGuard<'a>,
    container: String,
}

impl<'a> Pod<'a> {
    fn run(served: &'a Served, name: &str, script: &str) -> Self {
        Self::with(served, name, shell("main", script))
    }

    fn with(served: &'a Served, name: &str, config: ContainerConfig) -> Self {
        let client = &served.client;
        let logs = served.root.path().join("logs");
        let sandbox = SandboxGuard {
            client,
            id: run_sandbox(client, sandbox_config(name, &logs)).unwrap(),
        };
        let container = running(client, &sandbox.id, config);
        Pod {
            client,
            sandbox,
            container,
        }
    }

    /// `Exec`'s answer for `cmd` with these streams.
    fn exec(
        &self,
        cmd: &[&str],
        stdin: bool,
        tty: bool,
        stderr: bool,
    ) -> Result<String, tonic::Status> {
        self.client
            .block_on(self.client.runtime_service.clone().exec(ExecRequest {
                container_id: self.container.clone(),
                cmd: cmd.iter().map(ToString::to_string).collect(),
                tty,
                stdin,
                stdout: true,
                stderr,
            }))
            .map(|r| r.into_inner().url)
    }

    /// Polls `ExecSync` of `script` until it exits 0.
    fn wait_until(&self, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while cri_calls::exec(self.client, &self.container, &["sh", "-c", script]).0 != 0 {
            assert!(Instant::now() < deadline, "{script}: never true");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The WebSocket of `url` with `protocol` offered (and chosen).
fn open(url: &str, protocol: &str) -> WebSocket<TcpStream> {
    let (ws, response) = handshake(url, protocol).unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        protocol,
        "{response:?}"
    );
    ws
}

fn handshake(
    url: &str,
    protocol: &str,
) -> Result<
    (
        WebSocket<TcpStream>,
        tungstenite::handshake::client::Response,
    ),
    String,
> {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("{url}"));
    let addr = rest.split('/').next().unwrap();
    assert!(addr.starts_with("127.0.0.1:"), "{url}: on loopback");
    let mut request = format!("ws://{rest}").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
    let stream = TcpStream::connect(addr).unwrap();
    tungstenite::client::client(request, stream).map_err(|e| match e {
        tungstenite::HandshakeError::Failure(tungstenite::Error::Http(r)) => {
            format!("HTTP {}", r.status())
        }
        other => other.to_string(),
    })
}

fn send(ws: &mut WebSocket<TcpStream>, channel: u8, data: &[u8]) {
    let mut frame = vec![channel];
    frame.extend_from_slice(data);
    ws.send(Message::Binary(frame.into())).unwrap();
}

/// What a session gave: its stdout, stderr and status, to its close.
#[derive(Debug, Default)]
struct Ended {
    stdout: String,
    stderr: String,
    status: Option<serde_json::Value>,
}

/// Reads to the session's close.
fn drain(ws: &mut WebSocket<TcpStream>) -> Ended {
    read_while(ws, |_| true)
}

/// Reads until what came satisfies `enough` (the session still open).
fn read_until(ws: &mut WebSocket<TcpStream>, enough: impl Fn(&Ended) -> bool) -> Ended {
    let got = read_while(ws, |o| !enough(o));
    assert!(enough(&got), "closed first: {got:?}");
    got
}

fn read_while(ws: &mut WebSocket<TcpStream>, more: impl Fn(&Ended) -> bool) -> Ended {
    let mut ended = Ended::default();
    while more(&ended) {
        match ws.read() {
            Ok(Message::Binary(data)) => match data[0] {
                1 => ended.stdout.push_str(&String::from_utf8_lossy(&data[1..])),
                2 => ended.stderr.push_str(&String::from_utf8_lossy(&data[1..])),
                3 => ended.status = Some(serde_json::from_slice(&data[1..]).unwrap()),
                other => panic!("channel {other}"),
            },
            Ok(Message::Close(_))
            | Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("{e}: so far {ended:?}"),
        }
    }
    ended
}

/// Closes from the client's side: the close handshake completes.
fn close(ws: &mut WebSocket<TcpStream>) {
    ws.close(None).unwrap();
    loop {
        match ws.read() {
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) => return,
            Err(e) => panic!("closing: {e}"),
        }
    }
}

/// The exit code a status says (0 for `Success`).
fn exit_code(status: &serde_json::Value) -> i64 {
    if status["status"] == "Success" {
        return 0;
    }
    assert_eq!(status["reason"], "NonZeroExitCode", "{status}");
    let cause = &status["details"]["causes"][0];
    assert_eq!(cause["reason"], "ExitCode", "{status}");
    cause["message"].as_str().unwrap().parse().unwrap()
}

#[test]
fn exec_through_the_url_with_output_input_and_exit_status() {
    let Some(served) = served("exec_through_the_url_with_output_input_and_exit_status") else {
        return;
    };
    let client = &served.client;
    let pod = Pod::run(&served, "exec", "exec sleep 3600");

    // `echo hello` (v4): its output and a Success.
    let url = pod.exec(&["echo", "hello"], false, false, true).unwrap();
    let mut ws = open(&url, "v4.channel.k8s.io");
    let ended = drain(&mut ws);
    assert_eq!(ended.stdout, "hello\n", "{ended:?}");
    assert_eq!(exit_code(ended.status.as_ref().unwrap()), 0);
    // The URL was good once.
    assert_eq!(
        handshake(&url, "v4.channel.k8s.io").err().unwrap(),
        "HTTP 404 Not Found"
    );

    // An exit 3 (v5) with stderr: a NonZeroExitCode failure whose cause is 3.
    let url = pod
        .exec(&["sh", "-c", "echo oops >&2; exit 3"], false, false, true)
        .unwrap();
    let ended = drain(&mut open(&url, "v5.channel.k8s.io"));
    assert_eq!(ended.stderr, "oops\n", "{ended:?}");
    assert_eq!(exit_code(ended.status.as_ref().unwrap()), 3);

    // stdin, closed through v5's close channel: `cat` sees its end.
    let url = pod.exec(&["cat"], true, false, false).unwrap();
    let mut ws = open(&url, "v5.channel.k8s.io");
    send(&mut ws, 0, b"ping\n");
    send(&mut ws, 255, &[0]);
    let ended = drain(&mut ws);
    assert_eq!(ended.stdout, "ping\n", "{ended:?}");
    assert_eq!(exit_code(ended.status.as_ref().unwrap()), 0);

    // A client offering no channel protocol peapod speaks is refused.
    let url = pod.exec(&["true"], false, false, false).unwrap();
    assert_eq!(
        handshake(&url, "channel.k8s.io").err().unwrap(),
        "HTTP 400 Bad Request"
    );

    // kubelet's checks, before any URL.
    let none = client
        .block_on(client.runtime_service.clone().exec(ExecRequest {
            container_id: pod.container.clone(),
            cmd: vec!["true".into()],
            ..ExecRequest::default()
        }))
        .unwrap_err();
    assert_eq!(none.code(), Code::InvalidArgument, "{none:?}");
    let tty_and_stderr = pod.exec(&["true"], false, true, true).unwrap_err();
    assert_eq!(
        tty_and_stderr.code(),
        Code::InvalidArgument,
        "{tty_and_stderr:?}"
    );
    let missing = client
        .block_on(client.runtime_service.clone().exec(ExecRequest {
            container_id: format!("{}.nope.0", pod.sandbox.id),
            cmd: vec!["true".into()],
            stdout: true,
            ..ExecRequest::default()
        }))
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
}

#[test]
fn exec_on_a_terminal_sees_the_resize() {
    let Some(served) = served("exec_on_a_terminal_sees_the_resize") else {
        return;
    };
    let pod = Pod::run(&served, "tty", "exec sleep 3600");
    let url = pod.exec(&["sh"], true, true, false).unwrap();
    let mut ws = open(&url, "v4.channel.k8s.io");
    // In order on one connection: the size is set before the shell reads.
    send(&mut ws, 4, br#"{"Width":100,"Height":40}"#);
    send(&mut ws, 0, b"stty size; tty; exit 7\n");
    let ended = drain(&mut ws);
    assert!(ended.stdout.contains("40 100"), "{ended:?}");
    assert!(ended.stdout.contains("/dev/pts/"), "{ended:?}");
    assert_eq!(exit_code(ended.status.as_ref().unwrap()), 7);

    // A client gone hangs the terminal up: its process gets SIGHUP.
    let url = pod.exec(&["sleep", "3601"], true, true, false).unwrap();
    let mut ws = open(&url, "v5.channel.k8s.io");
    pod.wait_until("ps | grep -q 'sleep 360[1]'");
    close(&mut ws);
    pod.wait_until("! ps | grep -q 'sleep 360[1]'");
}

#[test]
fn attach_passes_stdin_and_streams_the_output() {
    let Some(served) = served("attach_passes_stdin_and_streams_the_output") else {
        return;
    };
    let client = &served.client;
    let script =
        "echo before; while read line; do echo \"got $line\"; echo \"err $line\" >&2; done";
    let pod = Pod::with(
        &served,
        "attach",
        ContainerConfig {
            stdin: true,
            ..shell("main", script)
        },
    );
    let attach = |stderr: bool| {
        client
            .block_on(client.runtime_service.clone().attach(AttachRequest {
                container_id: pod.container.clone(),
                stdin: true,
                tty: false,
                stdout: true,
                stderr,
            }))
            .unwrap()
            .into_inner()
            .url
    };
    // "before" in the log first: then an attach must not replay it.
    let log = served.root.path().join("logs/main.log");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&log).is_ok_and(|l| l.contains("before")) {
        assert!(
            Instant::now() < deadline,
            "{}: no \"before\"",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut ws = open(&attach(true), "v5.channel.k8s.io");
    send(&mut ws, 0, b"hello\n");
    let seen = read_until(&mut ws, |o| {
        o.stdout.contains("got hello\n") && o.stderr.contains("err hello\n")
    });
    // Only what came after the attach.
    assert!(!seen.stdout.contains("before"), "{seen:?}");
    close(&mut ws);
    // A client leaving detaches: the container runs on.
    assert_eq!(
        status(client, &pod.container).state,
        ContainerState::ContainerRunning as i32
    );

    // Input sent again reaches the same process, through a new URL, and
    // the end of its run ends the session with a Success.
    let mut ws = open(&attach(false), "v4.channel.k8s.io");
    send(&mut ws, 0, b"again\n");
    read_until(&mut ws, |o| o.stdout.contains("got again\n"));
    client
        .block_on(client.runtime_service.clone().stop_container(
            peapod_cri::api::StopContainerRequest {
                container_id: pod.container.clone(),
                timeout: 1,
            },
        ))
        .unwrap();
    let ended = drain(&mut ws);
    assert_eq!(exit_code(ended.status.as_ref().unwrap()), 0, "{ended:?}");
}

#[test]
fn port_forward_round_trips_bytes() {
    let Some(served) = served("port_forward_round_trips_bytes") else {
        return;
    };
    let client = &served.client;
    let pod = Pod::run(&served, "forward", "exec nc -ll -p 8080 -e cat");
    pod.wait_until("netstat -ltn | grep -q ':8080 '");
    let forward = |port: i32| {
        client
            .block_on(
                client
                    .runtime_service
                    .clone()
                    .port_forward(PortForwardRequest {
                        pod_sandbox_id: pod.sandbox.id.clone(),
                        port: vec![port],
                    }),
            )
            .unwrap()
            .into_inner()
            .url
    };

    let url = forward(8080);
    let mut ws = open(&format!("{url}?port=8080"), "v4.channel.k8s.io");
    // Each of the port's channels starts with the port, little-endian.
    let prefix = 8080u16.to_le_bytes();
    let mut firsts = Vec::new();
    for _ in 0..2 {
        match ws.read().unwrap() {
            Message::Binary(data) => firsts.push(data.to_vec()),
            other => panic!("{other:?}"),
        }
    }
    firsts.sort();
    assert_eq!(
        firsts,
        vec![vec![0, prefix[0], prefix[1]], vec![1, prefix[0], prefix[1]]]
    );
    send(&mut ws, 0, b"ping through the pod\n");
    let mut echoed = Vec::new();
    while echoed != b"ping through the pod\n" {
        match ws.read().unwrap() {
            Message::Binary(data) if data[0] == 0 => echoed.extend_from_slice(&data[1..]),
            other => panic!("{other:?}: so far {echoed:?}"),
        }
    }
    close(&mut ws);

    // Nothing listening: the port's error channel says so, and the
    // session ends.
    let mut ws = open(&forward(9999), "v4.channel.k8s.io");
    let mut error = Vec::new();
    loop {
        match ws.read() {
            Ok(Message::Binary(data)) if data[0] == 1 => error.extend_from_slice(&data[1..]),
            Ok(Message::Binary(data)) => assert_eq!(data[0], 0, "{data:?}"),
            Ok(Message::Close(_)) | Err(tungstenite::Error::ConnectionClosed) => break,
            other => panic!("{other:?}"),
        }
    }
    let error = String::from_utf8_lossy(&error[2..]).into_owned();
    assert!(error.contains("error forwarding port 9999"), "{error:?}");

    // A port outside the request is refused.
    let url = forward(8080);
    assert_eq!(
        handshake(&format!("{url}?port=9090"), "v4.channel.k8s.io")
            .err()
            .unwrap(),
        "HTTP 400 Bad Request"
    );
}

#[test]
fn attach_to_a_terminal_passes_the_resize() {
    let Some(served) = served("attach_to_a_terminal_passes_the_resize") else {
        return;
    };
    let client = &served.client;
    let pod = Pod::with(
        &served,
        "attach-tty",
        ContainerConfig {
            stdin: true,
            tty: true,
            ..shell(
                "main",
                "while read line; do echo \"size $(stty size)\"; done",
            )
        },
    );
    let url = client
        .block_on(client.runtime_service.clone().attach(AttachRequest {
            container_id: pod.container.clone(),
            stdin: true,
            tty: true,
            stdout: true,
            stderr: false,
        }))
        .unwrap()
        .into_inner()
        .url;
    let mut ws = open(&url, "v5.channel.k8s.io");
    send(&mut ws, 4, br#"{"Width":90,"Height":30}"#);
    send(&mut ws, 0, b"x\n");
    let seen = read_until(&mut ws, |o| {
        o.stdout
            .split_once("size ")
            .is_some_and(|(_, rest)| rest.contains('\n'))
    });
    assert!(seen.stdout.contains("size 30 90"), "{seen:?}");
    close(&mut ws);
}
