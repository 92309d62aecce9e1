//! The control socket of a pod's supervisor: one JSON request line, one
//! JSON response line, over `control.sock` (mode 0600 in a 0700 folder;
//! the supervisor lets in only root and its own user, by `SO_PEERCRED`).
//!
//! A `sockaddr_un` holds at most 107 bytes of path, less than the path of
//! `control.sock` for a pod with a long namespace and name (or under a
//! long `--root`). Both ends therefore `bind` and `connect` through
//! [`via_short_path`]: the same file, reached through the pod folder's
//! `/proc/self/fd/<N>` link when the real path does not fit.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What a client asks of a supervisor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Engine sandboxes only: create a container, held before its
    /// `execve`.
    CreateContainer {
        /// What to create.
        config: Box<crate::engine::ContainerConfig>,
    },
    /// Engine: start a created container (by its id in the sandbox,
    /// `<name>.<attempt>`).
    StartContainer {
        /// The container.
        id: String,
    },
    /// Engine: stop a container (STOPSIGNAL, SIGKILL after the timeout);
    /// answered once it is gone.
    StopContainer {
        /// The container.
        id: String,
        /// Milliseconds between the stop signal and SIGKILL.
        timeout_ms: u64,
    },
    /// Engine: send a signal to a container's process.
    Signal {
        /// The container.
        id: String,
        /// The signal's number.
        signal: i32,
    },
    /// Engine: remove a container (killed first when it runs).
    RemoveContainer {
        /// The container.
        id: String,
    },
    /// Engine: open a container's log file again at its path (the
    /// caller renamed it).
    ReopenLog {
        /// The container.
        id: String,
    },
    /// Engine: kill every container; the sandbox stays until removed.
    StopSandbox,
    /// Apply an update the pod may take while it runs (`apply` of a
    /// changed manifest); the answer comes once it is recorded, the
    /// restarts it brings going on after.
    Configure(Box<crate::pod_update::PodUpdate>),
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

/// The longest path a `sockaddr_un` takes: `sun_path` is 108 bytes on
/// Linux, the last one for the terminating NUL.
const SUN_PATH_MAX: usize = 107;

/// Runs `socket_call` (`UnixListener::bind` or `UnixStream::connect`) on
/// `path`, or, when `path` is too long for a `sockaddr_un`, on
/// `/proc/self/fd/<N>/<file name>`, where `N` is the parent folder opened
/// `O_PATH`: the kernel resolves that link for both calls, so the socket
/// is created (or found) in the real folder while `sun_path` only holds
/// the short string (which is also what `getsockname` and
/// `/proc/net/unix` then show). The folder stays open for the call only.
///
/// # Errors
/// Opening the folder, or what `socket_call` returns.
pub fn via_short_path<T>(
    path: &Path,
    socket_call: impl FnOnce(PathBuf) -> std::io::Result<T>,
) -> std::io::Result<T> {
    if path.as_os_str().len() <= SUN_PATH_MAX {
        return socket_call(path.to_path_buf());
    }
    let (Some(folder), Some(file)) = (path.parent(), path.file_name()) else {
        return socket_call(path.to_path_buf());
    };
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    let fd = rustix::fs::open(
        folder,
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?;
    let short = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd())).join(file);
    socket_call(short)
}

/// Sends `request` to the socket at `path` and waits up to `timeout` for
/// the answer.
pub fn call(path: &Path, request: &Request, timeout: Duration) -> Result<Response> {
    let stream = via_short_path(path, UnixStream::connect).map_err(|e| Error::io(path, e))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| Error::io(path, e))?;
    match send(&stream, request) {
        Ok(()) => {}
        // Refused before the request was read (`check_peer`): the answer
        // is already waiting and says why.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(Error::io(path, e)),
    }
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

/// Reads one request line from an accepted connection, blocking (a slow
/// or silent client is cut off after a second), once [`check_peer`] let
/// the client in: the tests' server. The supervisor reads its clients on
/// its loop instead (`control_clients.rs`).
#[cfg(test)]
pub fn receive(stream: &UnixStream) -> std::io::Result<Request> {
    check_peer(stream)?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    serde_json::from_str(&line).map_err(std::io::Error::other)
}

/// Lets in a client whose process (as the kernel saw it at `connect`,
/// `SO_PEERCRED`) runs as root or as this process's own user; refuses any
/// other, whatever the socket file's mode says (a socket passed on, or a
/// folder whose mode was loosened, must not open the pod to every user).
///
/// # Errors
/// `PermissionDenied` naming the peer, or what `getsockopt` returns.
pub fn check_peer(stream: &UnixStream) -> std::io::Result<()> {
    let peer = rustix::net::sockopt::socket_peercred(stream)?;
    let own = rustix::process::geteuid();
    if peer.uid.is_root() || peer.uid == own {
        return Ok(());
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        format!(
            "control socket: refused uid {} (pid {}): only root and uid {} may control this pod",
            peer.uid.as_raw(),
            peer.pid.as_raw_nonzero(),
            own.as_raw()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    use std::os::unix::net::UnixListener;

    use super::*;

    /// Removes the folder even when the test fails.
    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_socket_path_longer_than_sun_path_binds_and_answers_in_its_real_folder() {
        let scratch =
            Scratch(std::env::temp_dir().join(format!("peapod-control-{}", std::process::id())));
        let folder = scratch.0.join("n".repeat(63)).join("p".repeat(200));
        std::fs::create_dir_all(&folder).expect("folder");
        let socket = folder.join("control.sock");
        assert!(socket.as_os_str().len() > 250);
        assert!(
            UnixListener::bind(&socket).is_err(),
            "too long to bind as is"
        );

        let listener = via_short_path(&socket, UnixListener::bind).expect("bind");
        let kind = std::fs::symlink_metadata(&socket)
            .expect("socket file")
            .file_type();
        assert!(kind.is_socket(), "{kind:?}");
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            assert_eq!(receive(&stream).expect("request"), Request::Ping);
            send(&stream, &Response::Ok).expect("answer");
        });
        let answer = call(&socket, &Request::Ping, Duration::from_secs(5)).expect("call");
        assert_eq!(answer, Response::Ok);
        server.join().expect("server");
    }

    #[test]
    fn a_short_socket_path_is_used_as_is() {
        let scratch = Scratch(
            std::env::temp_dir().join(format!("peapod-control-short-{}", std::process::id())),
        );
        std::fs::create_dir_all(&scratch.0).expect("folder");
        let socket = scratch.0.join("c.sock");
        let listener = via_short_path(&socket, UnixListener::bind).expect("bind");
        let bound = listener.local_addr().expect("address");
        assert_eq!(bound.as_pathname(), Some(socket.as_path()));
    }

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

    /// Connects to `socket` from a thread whose credentials (Linux keeps
    /// them per thread; `set_thread_res_uid` is the raw `setresuid`) are
    /// `uid`, and returns the supervisor's answer to a ping.
    fn ping_as(socket: &Path, uid: u32) -> Response {
        let socket = socket.to_path_buf();
        std::thread::spawn(move || {
            // This thread alone changes its uid, and ends right after.
            let id = rustix::process::Uid::from_raw(uid);
            rustix::thread::set_thread_res_uid(id, id, id).expect("setresuid");
            call(&socket, &Request::Ping, Duration::from_secs(5)).expect("call")
        })
        .join()
        .expect("client thread")
    }

    #[test]
    fn the_control_socket_refuses_a_peer_that_is_neither_root_nor_its_user() {
        if !peapod_testkit::require_root("control_socket_peer_check") {
            return;
        }
        let scratch = Scratch(
            std::env::temp_dir().join(format!("peapod-control-peer-{}", std::process::id())),
        );
        std::fs::create_dir_all(&scratch.0).expect("folder");
        std::fs::set_permissions(&scratch.0, std::fs::Permissions::from_mode(0o755))
            .expect("chmod folder");
        let socket = scratch.0.join("control.sock");
        let listener = UnixListener::bind(&socket).expect("bind");
        // Open to all on purpose: only the peer check stands in the way.
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666))
            .expect("chmod socket");
        let server = std::thread::spawn(move || {
            for _ in 0..2 {
                let (stream, _) = listener.accept().expect("accept");
                let answer = match receive(&stream) {
                    Ok(Request::Ping) => Response::Ok,
                    Ok(other) => Response::Error(format!("unexpected {other:?}")),
                    Err(e) => Response::Error(e.to_string()),
                };
                send(&stream, &answer).expect("answer");
            }
        });
        assert_eq!(
            ping_as(&socket, 65534),
            Response::Error(format!(
                "control socket: refused uid 65534 (pid {}): only root and uid 0 may control this pod",
                std::process::id()
            ))
        );
        assert_eq!(ping_as(&socket, 0), Response::Ok);
        server.join().expect("server");
    }
}
