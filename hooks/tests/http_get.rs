//! httpGet against real servers on 127.0.0.1 started by the test: status
//! ranges, kubelet's headers, redirects, HTTPS without certificate checks,
//! and timeouts honoured.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

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
    // The server never answers: without the timeout this never ends.
    // Under 10 s leaves a loaded machine room.
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn refused_connection_fails_with_the_url() {
    let port = common::free_port();
    let o = run(probe(port, "/x"), Duration::from_secs(1));
    assert_eq!(o.verdict, Verdict::Failure, "{o:?}");
    assert!(
        o.message
            .starts_with(&format!("Get \"http://127.0.0.1:{port}/x\": ")),
        "{}",
        o.message
    );
}

/// A self-signed certificate for `CN=not-the-pod` (100 years), and its key:
/// the name matches nothing, as a pod's certificate rarely names its IP.
const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBgzCCASmgAwIBAgIUES3BqDQONn4WDpMDPrQcrkZctE4wCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLbm90LXRoZS1wb2QwIBcNMjYxMTI0MTY1NTAyWhgPMjEyNjEw
MzExNjU1MDJaMBYxFDASBgNVBAMMC25vdC10aGUtcG9kMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEXNq9EDC2NNIEv8ebV6ARclR3DDVk3DMLOXdpwgvjh347a98i
+XALtcOF9qUg/vGWjfxV6ldHbNbDw7NpL7qn/qNTMFEwHQYDVR0OBBYEFBau7FPm
MKjq4ZvDaZJI5etpw2DUMB8GA1UdIwQYMBaAFBau7FPmMKjq4ZvDaZJI5etpw2DU
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgMbXGGkR3AarMr2zQ
tsRLgP/r8capgUDgRP8J8Ivc6AQCIQCwjPrF2WiB/N/vAghURMD59sulH3XLawPU
g5BBMXOC1A==
-----END CERTIFICATE-----
";
const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgxXR+XVqBGx8iRiPw
O8uVftYfYIMVkSfdXMtnHl3nqhGhRANCAARc2r0QMLY00gS/x5tXoBFyVHcMNWTc
Mws5d2nCC+OHfjtr3yL5cAu1w4X2pSD+8ZaN/FXqV0ds1sPDs2kvuqf+
-----END PRIVATE KEY-----
";

/// An HTTPS server (rustls, in-process) answering `200 OK` to one request.
fn serve_https() -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let cert = CertificateDer::from_pem_slice(CERT.as_bytes()).unwrap();
    let key = PrivateKeyDer::from_pem_slice(KEY.as_bytes()).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let config = std::sync::Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let conn = rustls::ServerConnection::new(config).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            std::io::Read::read_exact(&mut tls, &mut byte).unwrap();
            head.push(byte[0]);
        }
        tls.write_all(reply("200 OK", "", "secure").as_bytes())
            .unwrap();
        tls.conn.send_close_notify();
        let _ = tls.flush();
    });
    port
}

#[test]
fn https_passes_without_checking_the_certificate() {
    let port = serve_https();
    let mut get = probe(port, "/");
    get.scheme = Scheme::Https;
    let o = run(get, Duration::from_secs(3));
    assert_eq!(o.verdict, Verdict::Success, "{o:?}");
    assert_eq!(o.http_status, Some(200));
    assert_eq!(o.message, "secure");
}
