//! The one error type of `peapod-hooks`.

use std::io;

/// What went wrong, naming the object and the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A handler in the manifest cannot be run as written.
    #[error("invalid handler: {field}: {reason}")]
    InvalidHandler {
        /// The field at fault, e.g. `httpGet.port`.
        field: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// A named port is not among the container's ports.
    #[error("port {name:?} is not a named port of the container")]
    UnknownPort {
        /// The name looked up.
        name: String,
    },
    /// The handler needs something its context does not give.
    #[error("{handler} handler: no {missing} in the run context")]
    MissingContext {
        /// `exec`, `httpGet`, `tcpSocket`.
        handler: &'static str,
        /// What is missing (`container`, `host`).
        missing: &'static str,
    },
    /// The command of an exec handler could not be started in the container.
    #[error("exec in container: {0}")]
    Exec(#[from] peapod_core::Error),
    /// A syscall or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// The operation and its object.
        what: &'static str,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

impl Error {
    pub(crate) fn io(what: &'static str, source: impl Into<io::Error>) -> Self {
        Self::Io {
            what,
            source: source.into(),
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidHandler {
            field,
            reason: reason.into(),
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
