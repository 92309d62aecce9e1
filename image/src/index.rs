//! The store's index (`index.json`): references, image records, layer
//! records, and finding an image by name or ID.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::Reference;

/// The on-disk index.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Index {
    /// Normalised reference → image ID.
    #[serde(default)]
    pub references: BTreeMap<String, Digest>,
    /// Image ID → what it is made of.
    #[serde(default)]
    pub images: BTreeMap<Digest, ImageRecord>,
    /// diffID → layer facts.
    #[serde(default)]
    pub layers: BTreeMap<Digest, LayerRecord>,
}

/// One image: its layers' diffIDs (bottom first) and where it came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ImageRecord {
    pub layers: Vec<Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Digest>,
}

/// One unpacked layer: the size of its tar.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LayerRecord {
    pub size: u64,
}

impl Index {
    /// Every reference that names `id`.
    pub(crate) fn refs_of(&self, id: &Digest) -> Vec<String> {
        self.references
            .iter()
            .filter(|(_, v)| *v == id)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Bytes of the layers of `rec`.
    pub(crate) fn size_of(&self, rec: &ImageRecord) -> u64 {
        rec.layers
            .iter()
            .filter_map(|d| self.layers.get(d))
            .map(|l| l.size)
            .sum()
    }

    /// Finds the image `name_or_id` names: a reference first (as docker does),
    /// then a full ID or a unique prefix of one.
    pub(crate) fn resolve(&self, name_or_id: &str) -> Result<(Digest, String)> {
        let unknown = || Error::UnknownImage {
            reference: name_or_id.to_string(),
        };
        if let Ok(r) = Reference::parse(name_or_id) {
            let key = r.to_string();
            if let Some(id) = self
                .references
                .get(&key)
                .filter(|id| self.images.contains_key(id))
            {
                return Ok((id.clone(), key));
            }
        }
        let hex = name_or_id.strip_prefix("sha256:").unwrap_or(name_or_id);
        if hex.len() >= 4 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut hits = self.images.keys().filter(|id| id.hex().starts_with(hex));
            if let (Some(id), None) = (hits.next(), hits.next()) {
                return Ok((id.clone(), id.to_string()));
            }
        }
        Err(unknown())
    }
}
