//! The control socket of a pod's supervisor: one JSON request line, one
//! JSON response line, over `control.sock` (mode 0600, root only).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What a client asks of a supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Request {
    /// Stop the pod (reverse order, SIGTERM, grace period, SIGKILL), clean
    /// up everything and exit; the answer comes once all is gone.
    Stop {
        /// Overrides `terminationGracePeriodSeconds`.
        grace_period_seconds: Option<u64>,
    },
    /// Is it there? (answers [`Response::Ok`])
    Ping,
}

/// What a supervisor answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Response {
    /// Done.
    Ok,
    /// It could not.
    Error(String),
}

/// Sends `request` to the socket at `path` and waits up to `timeout` for
/// the answer.
pub fn call(path: &Path, request: &Request, timeout: Duration) -> Result<Response> {
    let stream = UnixStream::connect(path).map_err(|e| Error::io(path, e))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| Error::io(path, e))?;
    send(&stream, request).map_err(|e| Error::io(path, e))?;
    let mut line = String::new();
    BufReader::new(&stream)
        .read_line(&mut line)
        .map_err(|e| Error::io(path, e))?;
    if line.is_empty() {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "supervisor hung up"),
        ));
    }
    serde_json::from_str(&line).map_err(|e| Error::json("control response", e))
}

/// Writes one message as a JSON line.
pub fn send<T: Serialize>(mut stream: &UnixStream, message: &T) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(message).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    stream.write_all(&bytes)
}

/// Reads one request line from an accepted connection (the client writes
/// it at once; a slow or silent client is cut off after a second).
pub fn receive(stream: &UnixStream) -> std::io::Result<Request> {
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    serde_json::from_str(&line).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_response_round_trip_over_a_socket() {
        let (a, b) = UnixStream::pair().expect("pair");
        send(
            &a,
            &Request::Stop {
                grace_period_seconds: Some(3),
            },
        )
        .expect("sent");
        let req = receive(&b).expect("received");
        assert_eq!(
            req,
            Request::Stop {
                grace_period_seconds: Some(3)
            }
        );
    }
}
