//! `httpGet`: a small HTTP/1.1 client on a `TcpStream` (rustls for
//! HTTPS), with kubelet's request and its reading of the answer.
//!
//! - Request: `GET <path> HTTP/1.1`, `Host: <host>:<port>` (or the `Host`
//!   header given), `User-Agent: kube-probe/<ver>` (`kube-lifecycle/<ver>`
//!   for hooks), `Accept: */*`, `Connection: close`, then the handler's
//!   headers; an empty `User-Agent` or `Accept` given drops kubelet's.
//! - Redirects (301, 302, 303, 307, 308) are followed while they stay on
//!   the same host, ten at most; one to another host is not followed and
//!   a probe counts it a success with a warning, as kubelet does.
//! - A probe passes on 200–399; a hook on any answer. The body, up to
//!   10 KiB, is the message.
//!
//! Blocking calls bounded by the run's deadline; they run on the run's own
//! short-lived thread, never on the event loop.

use std::io::{self, Read, Write};
use std::time::Instant;

use crate::handler::{HttpGet, Purpose, Scheme};
use crate::outcome::{MAX_OUTPUT, Outcome, Verdict};
use crate::tcp_socket::{DeadlineStream, connect, is_timeout, join_host_port};
use crate::tls;

/// The Kubernetes version kubelet's `User-Agent` names.
pub const KUBE_VERSION: &str = "1.34";

/// Redirects followed at most (Go's client default).
const MAX_REDIRECTS: usize = 10;

/// Response headers read at most.
const MAX_HEADER: usize = 64 * 1024;

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Url {
    scheme: Scheme,
    host: String,
    port: u16,
    target: String,
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.as_str(),
            join_host_port(&self.host, self.port),
            self.target
        )
    }
}

impl Url {
    /// The URL a `Location` header points to, relative to this one.
    fn join(&self, location: &str) -> Option<Self> {
        for (prefix, scheme, port) in [
            ("http://", Scheme::Http, 80),
            ("https://", Scheme::Https, 443),
        ] {
            if let Some(rest) = location.strip_prefix(prefix) {
                let (authority, target) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
                let (host, port) = split_authority(authority, port)?;
                return Some(Self {
                    scheme,
                    host,
                    port,
                    target: target.to_owned(),
                });
            }
        }
        let target = if location.starts_with('/') {
            location.to_owned()
        } else {
            let path = self.target.split('?').next().unwrap_or("/");
            let dir = &path[..=path.rfind('/').unwrap_or(0)];
            format!("{dir}{location}")
        };
        Some(Self {
            target,
            ..self.clone()
        })
    }
}

fn split_authority(authority: &str, default_port: u16) -> Option<(String, u16)> {
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => {
            (&authority[..i], authority[i + 1..].parse().ok()?)
        }
        _ => (authority, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| (host.to_owned(), port))
}

/// What came back.
#[derive(Debug)]
struct Response {
    status: u16,
    location: Option<String>,
    body: String,
}

/// Runs `get` against `host` (the handler's, or the pod IP) before
/// `deadline`.
pub(crate) fn check(get: &HttpGet, host: &str, deadline: Instant) -> Outcome {
    let mut url = Url {
        scheme: get.scheme,
        host: host.to_owned(),
        port: get.port,
        target: get.path.clone(),
    };
    let mut hops = 0;
    loop {
        let response = match request(get, &url, deadline) {
            Ok(r) => r,
            Err(e) if is_timeout(&e) => {
                return Outcome::timed_out(format!(
                    "Get \"{url}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
                ));
            }
            Err(e) => return Outcome::failure(format!("Get \"{url}\": {e}")),
        };
        let next = match (response.status, &response.location) {
            (301 | 302 | 303 | 307 | 308, Some(loc)) => url.join(loc),
            _ => None,
        };
        if let Some(next) = next
            && next.host == url.host
        {
            hops += 1;
            if hops > MAX_REDIRECTS {
                return Outcome::failure(format!("Get \"{next}\": stopped after 10 redirects"));
            }
            url = next;
            continue;
        }
        return judge(get.purpose, response);
    }
}

/// kubelet's reading of the last response.
fn judge(purpose: Purpose, response: Response) -> Outcome {
    let mut outcome = match (purpose, response.status) {
        (Purpose::Hook, _) | (Purpose::Probe, 200..=299) => Outcome::success(response.body),
        (Purpose::Probe, 300..=399) => Outcome::with(
            Verdict::Warning,
            format!(
                "Probe terminated redirects, Response body: {}",
                response.body
            ),
        ),
        (Purpose::Probe, status) => {
            Outcome::failure(format!("HTTP probe failed with statuscode: {status}"))
        }
    };
    outcome.http_status = Some(response.status);
    outcome
}

/// One request and its response, on a new connection.
fn request(get: &HttpGet, url: &Url, deadline: Instant) -> io::Result<Response> {
    let stream = DeadlineStream::new(connect(&url.host, url.port, deadline)?, deadline);
    let head = request_head(get, url);
    match url.scheme {
        Scheme::Http => exchange(stream, &head),
        Scheme::Https => {
            let config = tls::client_config().map_err(io::Error::other)?;
            let name = tls::server_name(&url.host).map_err(io::Error::other)?;
            let conn = rustls::ClientConnection::new(config, name).map_err(io::Error::other)?;
            exchange(rustls::StreamOwned::new(conn, stream), &head)
        }
    }
}

/// The request line and headers.
fn request_head(get: &HttpGet, url: &Url) -> String {
    let given = |name: &str| {
        get.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let agent = match get.purpose {
        Purpose::Probe => format!("kube-probe/{KUBE_VERSION}"),
        Purpose::Hook => format!("kube-lifecycle/{KUBE_VERSION}"),
    };
    let host = given("Host").map_or_else(|| join_host_port(&url.host, url.port), str::to_owned);
    let mut head = format!("GET {} HTTP/1.1\r\nHost: {host}\r\n", url.target);
    let mut line = |name: &str, value: &str| {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    };
    for (name, default) in [("User-Agent", agent.as_str()), ("Accept", "*/*")] {
        match given(name) {
            None => line(name, default),
            Some("") => {}
            Some(v) => line(name, v),
        }
    }
    line("Connection", "close");
    let kubelet_s = ["Host", "User-Agent", "Accept", "Connection"];
    for (name, value) in &get.headers {
        if !kubelet_s.iter().any(|k| name.eq_ignore_ascii_case(k)) {
            line(name, value);
        }
    }
    head.push_str("\r\n");
    head
}

/// Writes the request, reads the status, the headers and up to 10 KiB of
/// body.
fn exchange(mut stream: impl Read + Write, head: &str) -> io::Result<Response> {
    stream.write_all(head.as_bytes())?;
    stream.flush()?;
    let mut buf = Vec::with_capacity(4096);
    let header_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEADER {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "response headers too long",
            ));
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "EOF"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let rest = buf[header_end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = parse_status(lines.next().unwrap_or(""))?;
    let header = |name: &str| {
        head.split("\r\n").skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let chunked = header("Transfer-Encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked"));
    let length = header("Content-Length").and_then(|l| l.parse::<usize>().ok());
    let body = read_body(&mut stream, rest, chunked, length)?;
    Ok(Response {
        status,
        location: header("Location"),
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn parse_status(line: &str) -> io::Result<u16> {
    let mut parts = line.split(' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().and_then(|c| c.parse().ok());
    match code {
        Some(c) if version.starts_with("HTTP/1.") => Ok(c),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("malformed HTTP response {line:?}"),
        )),
    }
}

/// The most raw bytes read of a chunked body: room for [`MAX_OUTPUT`]
/// decoded bytes in chunks of one byte each (`1\r\nx\r\n`), whatever the
/// server sends (chunk headers that never end, sizes that are not hex).
const MAX_CHUNKED_RAW: usize = 8 * MAX_OUTPUT;

/// Reads the body, up to [`MAX_OUTPUT`] bytes of it, on every framing:
/// `Content-Length`, chunked (at most [`MAX_CHUNKED_RAW`] raw bytes), or
/// until the peer closes.
fn read_body(
    stream: &mut impl Read,
    mut buf: Vec<u8>,
    chunked: bool,
    length: Option<usize>,
) -> io::Result<Vec<u8>> {
    let want = length.unwrap_or(usize::MAX).min(MAX_OUTPUT);
    // Enough raw bytes for `want` decoded ones, chunk headers included.
    let raw_want = if chunked { MAX_CHUNKED_RAW } else { want };
    while buf.len() < raw_want {
        if chunked {
            let (decoded, last) = dechunk(&buf);
            if last || decoded.len() >= want {
                break;
            }
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            // A TLS peer that closes without close_notify: the body ends.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
    }
    let mut body = if chunked { dechunk(&buf).0 } else { buf };
    body.truncate(want);
    Ok(body)
}

/// Decodes what is complete of a chunked body; `true` once the last chunk
/// was seen.
fn dechunk(mut raw: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    while let Some(eol) = find(raw, b"\r\n") {
        let size_field = String::from_utf8_lossy(&raw[..eol]);
        let size_hex = size_field.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_hex, 16) else {
            break;
        };
        if size == 0 {
            return (out, true);
        }
        let data = &raw[eol + 2..];
        let take = size.min(data.len());
        out.extend_from_slice(&data[..take]);
        if data.len() < size + 2 {
            break;
        }
        raw = &data[size + 2..];
    }
    (out, false)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> HttpGet {
        HttpGet {
            host: None,
            port: 8080,
            path: path.into(),
            scheme: Scheme::Http,
            headers: Vec::new(),
            purpose: Purpose::Probe,
        }
    }

    fn url(host: &str, target: &str) -> Url {
        Url {
            scheme: Scheme::Http,
            host: host.into(),
            port: 8080,
            target: target.into(),
        }
    }

    #[test]
    fn request_has_kubelet_headers() {
        let head = request_head(&get("/healthz"), &url("10.1.0.5", "/healthz"));
        assert_eq!(
            head,
            format!(
                "GET /healthz HTTP/1.1\r\nHost: 10.1.0.5:8080\r\nUser-Agent: kube-probe/{KUBE_VERSION}\r\n\
                 Accept: */*\r\nConnection: close\r\n\r\n"
            )
        );
    }

    #[test]
    fn given_host_and_user_agent_replace_kubelet_s_and_empty_accept_drops_it() {
        let mut g = get("/");
        g.purpose = Purpose::Hook;
        g.headers = vec![
            ("host".into(), "example.test".into()),
            ("User-Agent".into(), "mine".into()),
            ("Accept".into(), String::new()),
            ("X-Custom".into(), "yes".into()),
        ];
        let head = request_head(&g, &url("10.1.0.5", "/"));
        assert!(head.contains("\r\nHost: example.test\r\n"), "{head}");
        assert!(head.contains("\r\nUser-Agent: mine\r\n"), "{head}");
        assert!(!head.contains("Accept"), "{head}");
        assert!(head.contains("\r\nX-Custom: yes\r\n"), "{head}");
    }

    #[test]
    fn hook_user_agent_is_kube_lifecycle() {
        let mut g = get("/");
        g.purpose = Purpose::Hook;
        let head = request_head(&g, &url("10.1.0.5", "/"));
        assert!(head.contains(&format!("User-Agent: kube-lifecycle/{KUBE_VERSION}")));
    }

    #[test]
    fn redirect_locations_resolve_against_the_url() {
        let base = url("10.1.0.5", "/a/b?x=1");
        assert_eq!(base.join("/c").unwrap(), url("10.1.0.5", "/c"));
        assert_eq!(base.join("c").unwrap(), url("10.1.0.5", "/a/c"));
        let other = base.join("https://example.test/z").unwrap();
        assert_eq!(other.scheme, Scheme::Https);
        assert_eq!((other.host.as_str(), other.port), ("example.test", 443));
        let v6 = base.join("http://[::1]:81/").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 81));
    }

    /// Endless bytes, counting how many were read.
    struct Endless<'a> {
        pattern: &'a [u8],
        read: usize,
    }

    impl Read for Endless<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(4096);
            for (i, b) in out[..n].iter_mut().enumerate() {
                *b = self.pattern[(self.read + i) % self.pattern.len()];
            }
            self.read += n;
            Ok(n)
        }
    }

    #[test]
    fn an_endless_chunked_body_is_read_no_further_than_its_cap() {
        for pattern in [&b"zz\r\n"[..], b"1;aaaaaaaa", b"1\r\nx\r\n"] {
            let mut server = Endless { pattern, read: 0 };
            let body = read_body(&mut server, Vec::new(), true, None).unwrap();
            assert!(body.len() <= MAX_OUTPUT);
            assert!(server.read <= MAX_CHUNKED_RAW + 4096, "{}", server.read);
        }
    }

    #[test]
    fn an_endless_body_without_length_is_read_to_the_cap() {
        let mut server = Endless {
            pattern: b"x",
            read: 0,
        };
        let body = read_body(&mut server, Vec::new(), false, None).unwrap();
        assert_eq!(body.len(), MAX_OUTPUT);
        assert!(server.read <= MAX_OUTPUT + 4096);
        let mut server = Endless {
            pattern: b"x",
            read: 0,
        };
        let body = read_body(&mut server, Vec::new(), false, Some(usize::MAX)).unwrap();
        assert_eq!(body.len(), MAX_OUTPUT);
    }

    #[test]
    fn chunked_body_decodes() {
        let (body, done) = dechunk(b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n");
        assert_eq!(body, b"hello world");
        assert!(done);
        let (part, done) = dechunk(b"5\r\nhel");
        assert_eq!(part, b"hel");
        assert!(!done);
    }

    #[test]
    fn status_outside_200_399_fails_a_probe_but_not_a_hook() {
        let resp = || Response {
            status: 500,
            location: None,
            body: "boom".into(),
        };
        let probe = judge(Purpose::Probe, resp());
        assert_eq!(probe.verdict, Verdict::Failure);
        assert_eq!(probe.message, "HTTP probe failed with statuscode: 500");
        assert_eq!(probe.http_status, Some(500));
        assert!(judge(Purpose::Hook, resp()).passed());
    }

    #[test]
    fn malformed_status_line_is_an_error() {
        assert!(parse_status("SSH-2.0-OpenSSH").is_err());
        assert_eq!(parse_status("HTTP/1.0 204 No Content").unwrap(), 204);
    }
}
