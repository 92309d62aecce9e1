//! `peapod serve`: the socket, the current-thread runtime, the services,
//! and the graceful shutdown on SIGTERM or SIGINT.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use peapod_runtime::Paths;
use peapod_runtime::engine::Engine;
use tokio::signal::unix::{SignalKind, signal};
use tokio_stream::wrappers::UnixListenerStream;

use crate::api::image_service_server::ImageServiceServer;
use crate::api::runtime_service_server::RuntimeServiceServer;
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::image_service::Images;
use crate::runtime_service::Runtime;
use crate::streaming::Streaming;

/// What `peapod serve` serves, and where.
#[derive(Debug, Clone)]
pub struct Options {
    /// The CRI socket.
    pub endpoint: Endpoint,
    /// peapod's state roots (`--root`); pulls read the registries
    /// configuration (mirrors, insecure and blocked registries) of
    /// [`Paths::registries_conf`], as CRI-O reads its registries.conf.
    pub paths: Paths,
    /// Where the streaming server of `Exec`, `Attach` and `PortForward`
    /// listens (`--streaming-addr`; port 0: a free one).
    pub streaming_addr: std::net::SocketAddr,
}

/// The default streaming address: a free port of 127.0.0.1, as
/// containerd's.
pub const DEFAULT_STREAMING_ADDR: std::net::SocketAddr = std::net::SocketAddr::V4(
    std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 0),
);

/// Serves the CRI on `options.endpoint` until SIGTERM or SIGINT, then
/// stops accepting, lets the calls in flight finish, and removes the
/// socket. Writes `listening on unix://…` to `ready` once clients can
/// connect.
pub fn serve(options: &Options, ready: &mut dyn std::io::Write) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Server {
            op: "start the async runtime",
            source: e.into(),
        })?;
    runtime.block_on(run(options, ready))
}

async fn run(options: &Options, ready: &mut dyn std::io::Write) -> Result<()> {
    let path = options.endpoint.path();
    let listener = bind(path)?;
    let listener = tokio::net::UnixListener::from_std(listener)
        .map_err(|e| Error::io("listen on", path, e))?;
    let mut terminate =
        signal(SignalKind::terminate()).map_err(|e| Error::io("watch SIGTERM for", path, e))?;
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(|e| Error::io("watch SIGINT for", path, e))?;
    let shutdown = async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        tracing::info!("shutting down");
    };
    let exe = peapod_runtime::SealedExe::own_binary()
        .map_err(|e| Error::io("find", "/proc/self/exe", e))?;
    let engine = Engine::new(options.paths.clone(), exe);
    let (streaming, tcp) = Streaming::bind(
        options.streaming_addr,
        engine.clone(),
        options.paths.clone(),
    )?;
    let tcp = tokio::net::TcpListener::from_std(tcp).map_err(|source| Error::Streaming {
        addr: options.streaming_addr,
        source,
    })?;
    tracing::info!("streaming server on {}", streaming.base());
    // Ends with the runtime, when `serve` returns.
    tokio::spawn(streaming.clone().serve(tcp));
    let _ = writeln!(ready, "listening on {}", options.endpoint);
    let _ = ready.flush();
    let runtime = Runtime::new(options.paths.clone(), engine, streaming);
    let images = Images::new(options)?;
    let served = tonic::transport::Server::builder()
        .add_service(RuntimeServiceServer::new(runtime))
        .add_service(ImageServiceServer::new(images))
        .serve_with_incoming_shutdown(UnixListenerStream::new(listener), shutdown)
        .await;
    let _ = std::fs::remove_file(path);
    served.map_err(|e| Error::Server {
        op: "serve",
        source: e.into(),
    })
}

/// Binds the socket at `path`, mode 0660: a socket file left by a server
/// that is gone is replaced; one a live server answers on is refused, and
/// so is any other kind of file.
fn bind(path: &Path) -> Result<std::os::unix::net::UnixListener> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(Error::InUse {
                    path: path.to_path_buf(),
                });
            }
            std::fs::remove_file(path).map_err(|e| Error::io("remove the stale", path, e))?;
        }
        Ok(_) => {
            return Err(Error::io(
                "bind",
                path,
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "a file that is not a socket is in the way",
                ),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("stat", path, e)),
    }
    let listener =
        std::os::unix::net::UnixListener::bind(path).map_err(|e| Error::io("bind", path, e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| Error::io("chmod", path, e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io("listen on", path, e))?;
    Ok(listener)
}
