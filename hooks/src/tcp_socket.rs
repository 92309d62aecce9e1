//! `tcpSocket`: a connection that opens passes. Also the connect and the
//! deadline-bound stream `httpGet` builds on.
//!
//! Blocking calls bounded by the run's deadline; they run on the run's own
//! short-lived thread (see `network_check`), never on the event loop.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Instant;

use crate::outcome::{Outcome, Verdict};

/// `host:port`, with brackets around an IPv6 address (Go's `JoinHostPort`).
pub(crate) fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The time left before `deadline`, or a `TimedOut` error.
fn remaining(deadline: Instant) -> io::Result<std::time::Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(io::Error::from(io::ErrorKind::TimedOut))
    } else {
        Ok(left)
    }
}

/// Connects to `host:port` before `deadline`, trying each address `host`
/// resolves to in turn.
pub(crate) fn connect(host: &str, port: u16, deadline: Instant) -> io::Result<TcpStream> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = (bare, port).to_socket_addrs()?.collect();
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address for host");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, remaining(deadline)?) {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Whether an I/O error means the deadline ran out.
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// The outcome of `tcpSocket` against `host:port`, with Go's wording
/// (`dial tcp 10.1.0.5:80: connect: connection refused`).
pub(crate) fn check(host: &str, port: u16, deadline: Instant) -> Outcome {
    match connect(host, port, deadline) {
        Ok(_) => Outcome::success(""),
        Err(e) => {
            let target = join_host_port(host, port);
            if is_timeout(&e) {
                Outcome::timed_out(format!("dial tcp {target}: i/o timeout"))
            } else {
                Outcome::with(Verdict::Failure, format!("dial tcp {target}: connect: {e}"))
            }
        }
    }
}

/// Calls `op` again when a signal interrupted it (a socket call with a
/// timeout returns `EINTR` even for signals with `SA_RESTART`, e.g. after
/// a SIGSTOP/SIGCONT, and any thread of the supervisor may take one).
fn retry_interrupted(mut op: impl FnMut() -> io::Result<usize>) -> io::Result<usize> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            r => return r,
        }
    }
}

/// A `TcpStream` whose every read and write ends by the run's deadline.
pub(crate) struct DeadlineStream {
    stream: TcpStream,
    deadline: Instant,
}

impl DeadlineStream {
    pub(crate) fn new(stream: TcpStream, deadline: Instant) -> Self {
        Self { stream, deadline }
    }
}

impl Read for DeadlineStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        retry_interrupted(|| {
            self.stream
                .set_read_timeout(Some(remaining(self.deadline)?))?;
            self.stream.read(buf)
        })
    }
}

impl Write for DeadlineStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        retry_interrupted(|| {
            self.stream
                .set_write_timeout(Some(remaining(self.deadline)?))?;
            self.stream.write(buf)
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Duration;

    #[test]
    fn open_port_passes() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let o = check("127.0.0.1", port, Instant::now() + Duration::from_secs(1));
        assert_eq!(o.verdict, Verdict::Success, "{o:?}");
    }

    #[test]
    fn closed_port_fails_with_connection_refused() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let o = check("127.0.0.1", port, Instant::now() + Duration::from_secs(1));
        assert_eq!(o.verdict, Verdict::Failure, "{o:?}");
        assert!(
            o.message
                .starts_with(&format!("dial tcp 127.0.0.1:{port}: connect: ")),
            "{}",
            o.message
        );
        assert!(o.message.contains("refused"), "{}", o.message);
    }

    #[test]
    fn http_read_interrupted_by_a_signal_is_retried() {
        let mut calls = 0;
        let r = retry_interrupted(|| {
            calls += 1;
            if calls == 1 {
                Err(io::Error::from(io::ErrorKind::Interrupted))
            } else {
                Ok(7)
            }
        });
        assert_eq!(r.unwrap(), 7);
        assert_eq!(calls, 2);
    }

    #[test]
    fn ipv6_host_is_bracketed() {
        assert_eq!(join_host_port("::1", 80), "[::1]:80");
        assert_eq!(join_host_port("10.0.0.1", 80), "10.0.0.1:80");
        assert_eq!(join_host_port("[::1]", 80), "[::1]:80");
    }

    #[test]
    fn passed_deadline_times_out_at_once() {
        let o = check("127.0.0.1", 9, Instant::now());
        assert_eq!(o.verdict, Verdict::TimedOut, "{o:?}");
    }
}
