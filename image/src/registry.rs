//! Pulling from OCI registries.

use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::store::{Image, Store};

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// Plain HTTP instead of HTTPS.
    pub insecure: bool,
}

/// What a pull reports as it goes.
#[derive(Debug, Clone)]
pub enum Progress {
    /// A line of text.
    Message(String),
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
