//! The one error type of the crate: every variant names the object and the
//! cause.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in the image store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file-system call on a path of the store or of an input failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done (`"read"`, `"create"`, `"rename"`...).
        op: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// An image reference that does not follow the reference grammar.
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference {
        /// The reference as given.
        reference: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An `image import --change` instruction that cannot be applied.
    #[error("invalid change {change:?}: {reason}")]
    InvalidChange {
        /// The instruction as given.
        change: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The image is not in the store and the pull policy forbids pulling
    /// (kubelet's `ErrImageNeverPull`, in its words).
    #[error("Container image {reference:?} is not present with pull policy of Never")]
    NotPresentNever {
        /// The reference as the caller wrote it.
        reference: String,
    },
    /// No image in the store has this name or ID.
    #[error("image {reference:?} not found")]
    UnknownImage {
        /// The reference or ID as given.
        reference: String,
    },
    /// A configuration file (`registries.conf`) that cannot be followed.
    #[error("{file}: {message}")]
    Config {
        /// The file.
        file: String,
        /// What is wrong, with the line or the field.
        message: String,
    },
    /// An image a pod uses, which a removal would delete.
    #[error("image {image:?} is in use by {user}")]
    InUse {
        /// The name or ID given.
        image: String,
        /// Who uses it (`pod default/web`).
        user: String,
    },
    /// A layer entry that would write outside its layer, or that cannot be
    /// represented safely.
    #[error("layer entry {entry:?}: {reason}")]
    UnsafeEntry {
        /// The entry's path in the archive.
        entry: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A layer that cannot be unpacked as a whole (truncated, too large,
    /// corrupt); nothing of it is kept.
    #[error("layer {layer}: {reason}")]
    BadLayer {
        /// Which layer (its digest or its file).
        layer: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Content whose SHA-256 is not the one it was announced with.
    #[error("{object}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// What was checked (a blob, a layer's diffID, a manifest).
        object: String,
        /// The announced digest.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// A JSON document (manifest, config, index) that does not parse.
    #[error("{document}: {source}")]
    Json {
        /// Which document.
        document: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// An image archive or layout that does not hold what it must.
    #[error("{archive}: {reason}")]
    Archive {
        /// The archive or layout.
        archive: String,
        /// What is missing or wrong.
        reason: String,
    },
    /// A registry answered with an error of the distribution API.
    #[error("registry {registry}: {code}: {message}")]
    Registry {
        /// The registry host.
        registry: String,
        /// The registry's own error code (`MANIFEST_UNKNOWN`, `UNAUTHORIZED`...)
        /// or the HTTP status when it gave none.
        code: String,
        /// The registry's message.
        message: String,
    },
    /// An HTTP exchange failed before the registry could answer.
    #[error("{url}: {reason}")]
    Http {
        /// The URL requested.
        url: String,
        /// The transport error.
        reason: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Io`] for `op` on `path`.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// An [`Error::Archive`].
    pub(crate) fn archive(archive: impl std::fmt::Display, reason: impl Into<String>) -> Self {
        Self::Archive {
            archive: archive.to_string(),
            reason: reason.into(),
        }
    }
}

/// Adds the path and operation to an `io::Result`.
pub(crate) trait IoContext<T> {
    /// Turns an `io::Error` into [`Error::Io`] for `op` on `path`.
    fn ctx(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::io(op, path, e))
    }
}
