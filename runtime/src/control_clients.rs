//! The control socket's clients while their request is read: accepted
//! non-blocking, watched on the supervisor's loop, read as bytes come,
//! each with a deadline. A client that says nothing, trickles, or sends
//! more than a request's worth never holds the loop up: it is answered
//! with an error and dropped.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use crate::control::{self, Request};

/// How long a client has to send its request line.
pub(crate) const READ_DEADLINE: Duration = Duration::from_secs(1);

/// The longest request line taken: room for an engine's container
/// configuration (environment, mounts, labels, annotations) and for a
/// configure request, whose annotations hold the applied manifest (the
/// API server takes 256 KiB of annotations).
const MAX_REQUEST: usize = 1 << 20;

/// A client whose request is being read.
#[derive(Debug)]
struct Client {
    stream: UnixStream,
    line: Vec<u8>,
    deadline: Instant,
}

/// What came of a read.
#[derive(Debug)]
pub(crate) enum Received {
    /// Not a whole line yet: watch the client again.
    Pending,
    /// A request, with the client to answer.
    Request(UnixStream, Request),
    /// Refused, with the client to tell why.
    Refused(UnixStream, String),
    /// No such client (dropped meanwhile).
    Gone,
}

/// The clients being read, by id.
#[derive(Debug, Default)]
pub(crate) struct ControlClients {
    next_id: u64,
    reading: HashMap<u64, Client>,
}

impl ControlClients {
    /// Takes in an accepted client at `now`: its id to watch it by, or
    /// the client and why it is refused (its peer, `SO_PEERCRED`).
    pub fn add(
        &mut self,
        stream: UnixStream,
        now: Instant,
    ) -> Result<u64, (UnixStream, std::io::Error)> {
        if let Err(e) = control::check_peer(&stream).and_then(|()| stream.set_nonblocking(true)) {
            return Err((stream, e));
        }
        self.next_id += 1;
        self.reading.insert(
            self.next_id,
            Client {
                stream,
                line: Vec::new(),
                deadline: now + READ_DEADLINE,
            },
        );
        Ok(self.next_id)
    }

    /// The client `id`'s stream, to watch.
    pub fn stream(&self, id: u64) -> Option<&UnixStream> {
        self.reading.get(&id).map(|c| &c.stream)
    }

    /// Reads what client `id` sent, without blocking.
    pub fn read(&mut self, id: u64) -> Received {
        let Some(client) = self.reading.get_mut(&id) else {
            return Received::Gone;
        };
        let mut buf = [0u8; 16 * 1024];
        loop {
            match client.stream.read(&mut buf) {
                Ok(0) => return self.refuse(id, "the client hung up before its request"),
                Ok(n) => {
                    client.line.extend_from_slice(&buf[..n]);
                    if let Some(end) = client.line.iter().position(|&b| b == b'\n') {
                        return self.parse(id, end);
                    }
                    if client.line.len() > MAX_REQUEST {
                        let why = format!("request longer than {MAX_REQUEST} bytes");
                        return self.refuse(id, &why);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Received::Pending,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return self.refuse(id, &e.to_string()),
            }
        }
    }

    fn parse(&mut self, id: u64, end: usize) -> Received {
        let Some(client) = self.reading.remove(&id) else {
            return Received::Gone;
        };
        match serde_json::from_slice(&client.line[..end]) {
            Ok(request) => Received::Request(client.stream, request),
            Err(e) => Received::Refused(client.stream, format!("bad request: {e}")),
        }
    }

    fn refuse(&mut self, id: u64, why: &str) -> Received {
        match self.reading.remove(&id) {
            Some(client) => Received::Refused(client.stream, why.to_owned()),
            None => Received::Gone,
        }
    }

    /// The clients whose deadline passed at `now`, with their ids, taken
    /// out.
    pub fn expired(&mut self, now: Instant) -> Vec<(u64, UnixStream)> {
        let ids: Vec<u64> = self
            .reading
            .iter()
            .filter(|(_, c)| c.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter()
            .filter_map(|id| self.reading.remove(&id).map(|c| (id, c.stream)))
            .collect()
    }

    /// The earliest deadline of a client being read.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.reading.values().map(|c| c.deadline).min()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn a_request_sent_in_pieces_is_read_once_whole() {
        let (mut ours, theirs) = UnixStream::pair().expect("a socket pair");
        let mut clients = ControlClients::default();
        let id = clients.add(theirs, Instant::now()).expect("a socket pair");
        ours.write_all(b"\"pi").expect("a socket pair");
        assert!(matches!(clients.read(id), Received::Pending));
        ours.write_all(b"ng\"\n").expect("a socket pair");
        assert!(matches!(
            clients.read(id),
            Received::Request(_, Request::Ping)
        ));
        assert!(matches!(clients.read(id), Received::Gone));
    }

    #[test]
    fn a_silent_client_expires_at_its_deadline_without_blocking() {
        let (_ours, theirs) = UnixStream::pair().expect("a socket pair");
        let mut clients = ControlClients::default();
        let now = Instant::now();
        let id = clients.add(theirs, now).expect("a socket pair");
        assert!(matches!(clients.read(id), Received::Pending));
        assert_eq!(clients.next_deadline(), Some(now + READ_DEADLINE));
        assert!(clients.expired(now).is_empty());
        let gone = clients.expired(now + READ_DEADLINE);
        assert_eq!(gone.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [id]);
        assert_eq!(clients.next_deadline(), None);
    }

    #[test]
    fn an_endless_request_is_refused_past_its_cap() {
        let (mut ours, theirs) = UnixStream::pair().expect("a socket pair");
        let mut clients = ControlClients::default();
        let id = clients.add(theirs, Instant::now()).expect("a socket pair");
        // More than a socket buffer holds: written while it is read.
        let writer = std::thread::spawn(move || {
            let _ = ours.write_all(&vec![b'x'; MAX_REQUEST + 10]);
        });
        let received = loop {
            match clients.read(id) {
                Received::Pending => std::thread::yield_now(),
                other => break other,
            }
        };
        let Received::Refused(stream, why) = received else {
            panic!("refused: {received:?}");
        };
        drop(stream);
        writer.join().expect("writer");
        assert_eq!(why, format!("request longer than {MAX_REQUEST} bytes"));
    }
}
