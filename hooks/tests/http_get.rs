//! httpGet against real servers on 127.0.0.1 started by the test: status
//! ranges, kubelet's headers, redirects, HTTPS without certificate checks,
//! and timeouts honoured.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use peapod_hooks::{
    Handler, HttpGet, KUBE_VERSION, Outcome, Purpose, Run, RunContext, Scheme, Verdict,
};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A server answering each connection with `answer(request head)`; the
/// request heads are sent on the returned channel.
fn serve(answer: impl Fn(&str) -> String + Send + 'static) -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (send, recv) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let head = read_head(&conn);
            let reply = answer(&head);
            let _ = conn.write_all(reply.as_bytes());
            let _ = send.send(head);
        }
    });
    (port, recv)
}

fn read_head(conn: &TcpStream) -> String {
    let mut reader = BufReader::new(conn);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            return head;
        }
        head.push_str(&line);
    }
}

fn reply(status: &str, extra: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        body.len()
    )
}

fn probe(port: u16, path: &str) -> HttpGet {
    HttpGet {
        host: None,
        port,
        path: path.into(),
        scheme: Scheme::Http,
        headers: Vec::new(),
        purpose: Purpose::Probe,
    }
}

fn run(get: HttpGet, timeout: Duration) -> Outcome {
    let ctx = RunContext {
        exec: None,
        pod_ip: Some(LOCALHOST),
        netns: None,
        timeout,
    };
    Run::start(&Handler::HttpGet(get), &ctx).wait().unwrap()
}

#[test]
fn ok_status_passes_with_the_body_and_kubelet_s_headers() {
    let (port, heads) = serve(|_| reply("200 OK", "", "all good"));
    let mut get = probe(port, "/healthz");
    get.headers = vec![("X-Custom".into(), "yes".into())];
    let o = run(get, Duration::from_secs(2));
    assert_eq!(o.verdict, Verdict::Success, "{o:?}");
    assert_eq!(o.message, "all good");
    assert_eq!(o.http_status, Some(200));
    let head = heads.recv().unwrap();
    assert!(head.starts_with("GET /healthz HTTP/1.1\r\n"), "{head}");
    assert!(
        head.contains(&format!("Host: 127.0.0.1:{port}\r\n")),
        "{head}"
    );
    assert!(
        head.contains(&format!("User-Agent: kube-probe/{KUBE_VERSION}\r\n")),
        "{head}"
    );
    assert!(head.contains("X-Custom: yes\r\n"), "{head}");
}

#[test]
fn server_error_fails_a_probe_and_passes_a_hook() {
    let (port, _heads) = serve(|_| reply("503 Service Unavailable", "", "down"));
    let o = run(probe(port, "/"), Duration::from_secs(2));
    assert_eq!(o.verdict, Verdict::Failure);
    assert_eq!(o.message, "HTTP probe failed with statuscode: 503");
    let mut hook = probe(port, "/");
    hook.purpose = Purpose::Hook;
    assert!(run(hook, Duration::from_secs(2)).passed());
}

#[test]
fn redirect_on_the_same_host_is_followed() {
    let (port, heads) = serve(|head| {
        if head.starts_with("GET /old ") {
            reply("302 Found", "Location: /new\r\n", "")
        } else {
            reply("200 OK", "", "moved here")
        }
    });
    let o = run(probe(port, "/old"), Duration::from_secs(2));
    assert_eq!(o.verdict, Verdict::Success, "{o:?}");
    assert_eq!(o.message, "moved here");
    assert!(heads.recv().unwrap().starts_with("GET /old "));
    assert!(heads.recv().unwrap().starts_with("GET /new "));
}

#[test]
fn redirect_to_another_host_is_a_warning_not_followed() {
    let (port, heads) = serve(|_| {
        reply(
            "301 Moved Permanently",
            "Location: http://elsewhere.invalid/\r\n",
            "bye",
        )
    });
    let o = run(probe(port, "/"), Duration::from_secs(2));
    assert_eq!(o.verdict, Verdict::Warning, "{o:?}");
    assert!(o.passed());
    assert_eq!(o.message, "Probe terminated redirects, Response body: bye");
    heads.recv().unwrap();
    assert!(heads.try_recv().is_err(), "followed the redirect");
}

#[test]
fn chunked_body_is_read() {
    let (port, _heads) = serve(|_| {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
            .to_owned()
    });
    let o = run(probe(port, "/"), Duration::from_secs(2));
    assert_eq!(o.message, "abcde");
}

#[test]
fn server_that_never_answers_times_out_on_time() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts and holds the connections, never answers.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming() {
            held.push(c);
        }
    });
    let timeout = Duration::from_millis(300);
    let t0 = Instant::now();
    let o = run(probe(port, "/slow"), timeout);
    let took = t0.elapsed();
    assert_eq!(o.verdict, Verdict::TimedOut, "{o:?}");
    assert!(
        o.message.contains("context deadline exceeded"),
        "{}",
        o.message
    );
    assert!(took >= timeout, "{took:?}");
    assert!(took < timeout + Duration::from_millis(150), "{took:?}");
}

#[test]
fn refused_connection_fails_with_the_url() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = run(probe(port, "/x"), Duration::from_secs(1));
    assert_eq!(o.verdict, Verdict::Failure, "{o:?}");
    assert!(
        o.message
            .starts_with(&format!("Get \"http://127.0.0.1:{port}/x\": ")),
        "{}",
        o.message
    );
}

/// An HTTPS server with a self-signed certificate (openssl s_server), if
/// openssl is installed.
#[test]
fn https_passes_without_checking_the_certificate() {
    let dir = peapod_testkit::TempDir::new("hooks-https");
    let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=not-the-pod"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("https test skipped: no openssl");
        return;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = std::process::Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept"])
        .arg(port.to_string())
        .arg("-key")
        .arg(&key)
        .arg("-cert")
        .arg(&cert)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut get = probe(port, "/");
    get.scheme = Scheme::Https;
    let o = run(get, Duration::from_secs(3));
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(o.verdict, Verdict::Success, "{o:?}");
    assert_eq!(o.http_status, Some(200));
}
