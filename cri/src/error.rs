//! The one error type of the CRI endpoint.

use std::path::PathBuf;

/// What can stop `peapod serve` from serving.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `--cri` endpoint is not a `unix://` address.
    #[error("--cri {endpoint:?}: {reason}")]
    Endpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Another `peapod serve` answers on the socket already.
    #[error("{}: another server is listening on this socket", path.display())]
    InUse {
        /// The socket.
        path: PathBuf,
    },
    /// A file or socket of the host.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was attempted.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The async runtime or the gRPC server itself.
    #[error("{op}: {source}")]
    Server {
        /// What was attempted.
        op: &'static str,
        /// The cause.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The streaming server's address.
    #[error("--streaming-addr {addr}: {source}")]
    Streaming {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The image store.
    #[error(transparent)]
    Image(#[from] peapod_image::Error),
}

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
