//! The sessions' file descriptors on the async runtime: pipes, a pty's
//! master and a process's pidfd, non-blocking and driven by tokio's
//! `AsyncFd`, and the WebSocket's writing half fed from a queue.

use std::io;
use std::os::fd::OwnedFd;

use futures_util::stream::SplitStream;
use futures_util::{Sink, SinkExt, StreamExt};
use peapod_runtime::engine::ExecProcess;
use rustix::fs::OFlags;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, Message};

use super::channel;

/// What the sessions queue for the WebSocket.
pub(super) type Outgoing = mpsc::Sender<Message>;

/// A non-blocking fd registered with the runtime.
#[derive(Debug)]
pub(super) struct Fd(AsyncFd<OwnedFd>);

impl Fd {
    /// `fd`, made non-blocking (its file description: every holder's).
    pub(super) fn new(fd: OwnedFd) -> io::Result<Self> {
        let flags = rustix::fs::fcntl_getfl(&fd)?;
        rustix::fs::fcntl_setfl(&fd, flags | OFlags::NONBLOCK)?;
        Ok(Self(register(fd, Interest::READABLE | Interest::WRITABLE)?))
    }

    /// The fd, for ioctls.
    pub(super) fn raw(&self) -> &OwnedFd {
        self.0.get_ref()
    }

    /// Reads what is there, waiting for something; 0 at the end (a pty's
    /// master reads EIO once its last slave closed: the end too).
    pub(super) async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut ready = self.0.readable().await?;
            match ready.try_io(|fd| Ok(rustix::io::read(fd.get_ref(), &mut *buf)?)) {
                Ok(Err(e)) if e.raw_os_error() == Some(rustix::io::Errno::IO.raw_os_error()) => {
                    return Ok(0);
                }
                Ok(result) => return result,
                Err(_would_block) => {}
            }
        }
    }

    /// Writes all of `bytes`.
    pub(super) async fn write_all(&self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let mut ready = self.0.writable().await?;
            if let Ok(written) = ready.try_io(|fd| Ok(rustix::io::write(fd.get_ref(), bytes)?)) {
                bytes = &bytes[written?..];
            }
        }
        Ok(())
    }
}

/// Queues what `fd` gives on `channel` until its end or the queue's.
pub(super) async fn pump(fd: std::sync::Arc<Fd>, channel: u8, out: Outgoing) {
    let mut buf = vec![0u8; 32 * 1024];
    while let Ok(n @ 1..) = fd.read(&mut buf).await {
        if out.send(channel::frame(channel, &buf[..n])).await.is_err() {
            return;
        }
    }
}

/// A session's WebSocket: the client's messages, the queue to the client,
/// and the task that writes the queue out (it ends, closing the
/// WebSocket, once every sender is dropped).
pub(super) fn session(
    ws: WebSocketStream<TcpStream>,
) -> (
    SplitStream<WebSocketStream<TcpStream>>,
    Outgoing,
    JoinHandle<()>,
) {
    let (sink, incoming) = ws.split();
    let (out, queue) = mpsc::channel(16);
    (incoming, out, tokio::spawn(write(queue, sink)))
}

/// Sends what is queued to `sink` until every sender is gone, then closes
/// the WebSocket (a normal close).
pub(super) async fn write<S>(mut queue: mpsc::Receiver<Message>, mut sink: S)
where
    S: Sink<Message, Error = tungstenite::Error> + Unpin,
{
    while let Some(message) = queue.recv().await {
        if sink.send(message).await.is_err() {
            return;
        }
    }
    let _ = sink.close().await;
}

/// `fd` registered with the runtime's reactor for `interest`.
///
/// tokio deprecated its safe `AsyncFd` constructors (tokio#8587) because
/// an arbitrary `AsRawFd` may close or change its fd while registered; an
/// `OwnedFd`, owned by the `AsyncFd` until it is dropped, cannot, so the
/// condition of the `unsafe` replacement holds here and this crate keeps
/// to the workspace's rule of `unsafe` in `core` only.
#[allow(deprecated)]
fn register(fd: OwnedFd, interest: Interest) -> io::Result<AsyncFd<OwnedFd>> {
    AsyncFd::with_interest(fd, interest)
}

/// An exec's process, its exit awaited on (a duplicate of) its pidfd.
pub(super) struct Exiting {
    pidfd: AsyncFd<OwnedFd>,
    process: ExecProcess,
}

impl Exiting {
    /// Watches `process`.
    pub(super) fn new(process: ExecProcess) -> io::Result<Self> {
        let pidfd = process.pidfd().try_clone_to_owned()?;
        Ok(Self {
            pidfd: register(pidfd, Interest::READABLE)?,
            process,
        })
    }

    /// Its exit code (128 + n for signal n), once it exited.
    pub(super) async fn code(&self) -> io::Result<i32> {
        let _ready = self.pidfd.readable().await?;
        self.process.wait().map_err(io::Error::other)
    }
}
