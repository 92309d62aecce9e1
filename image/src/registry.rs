//! Pulling from OCI registries.

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::store::{Image, Store};

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// Plain HTTP instead of HTTPS.
    pub insecure: bool,
    /// Credentials (`auths` as in `~/.docker/config.json`); by default
    /// `$REGISTRY_AUTH_FILE`, then `~/.docker/config.json`.
    pub auth_file: Option<std::path::PathBuf>,
}

/// What a pull reports as it goes.
#[derive(Debug, Clone)]
pub enum Progress {
    /// The manifest for linux/amd64 was found.
    Resolved {
        /// Its digest.
        manifest: Digest,
    },
    /// A layer is already in the store.
    LayerExists {
        /// The layer blob's digest.
        digest: Digest,
    },
    /// Bytes of a layer blob downloaded so far.
    Layer {
        /// The layer blob's digest.
        digest: Digest,
        /// Bytes received.
        done: u64,
        /// The blob's size.
        total: u64,
    },
    /// A layer is downloaded, verified and unpacked.
    LayerDone {
        /// The layer blob's digest.
        digest: Digest,
    },
}

impl Store {
    /// Pulls `reference` into the store.
    pub fn pull(
        &self,
        reference: &Reference,
        _options: &PullOptions,
        _progress: &mut dyn FnMut(Progress),
    ) -> Result<Image> {
        Err(Error::Registry {
            registry: reference.registry().to_string(),
            code: "UNSUPPORTED".to_string(),
            message: "pull is not implemented yet".to_string(),
        })
    }
}
