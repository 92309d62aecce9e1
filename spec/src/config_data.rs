//! The `ConfigMap` and `Secret` documents that pods in the same file (or
//! directory) read through env, envFrom and volumes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::pod::ObjectMeta;

/// A `v1/ConfigMap`: named text (and binary) data.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMap {
    /// Always `v1`.
    #[serde(default = "crate::pod::api_version_v1")]
    pub api_version: String,
    /// Always `ConfigMap`.
    #[serde(default)]
    pub kind: String,
    /// Name and labels.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Key to text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
    /// Key to base64 of bytes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub binary_data: BTreeMap<String, String>,
    /// Cannot change once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
}

/// A `v1/Secret`: named data, base64 in `data`, text in `stringData`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    /// Always `v1`.
    #[serde(default = "crate::pod::api_version_v1")]
    pub api_version: String,
    /// Always `Secret`.
    #[serde(default)]
    pub kind: String,
    /// Name and labels.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Key to base64 of bytes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
    /// Key to text; wins over `data` for the same key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub string_data: BTreeMap<String, String>,
    /// `Opaque` (default), `kubernetes.io/tls`, ...
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Cannot change once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
}

impl ConfigMap {
    /// Every key with its bytes: `data` as UTF-8, `binaryData` decoded.
    /// `None` for a `binaryData` value that is not base64 (validation
    /// reports it).
    pub fn entries(&self) -> Option<BTreeMap<String, Vec<u8>>> {
        let mut out: BTreeMap<String, Vec<u8>> = self
            .data
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
            .collect();
        for (key, value) in &self.binary_data {
            out.insert(key.clone(), crate::base64::decode(value)?);
        }
        Some(out)
    }
}

impl Secret {
    /// Every key with its bytes: `data` decoded, then `stringData` over it.
    /// `None` for a `data` value that is not base64 (validation reports it).
    pub fn entries(&self) -> Option<BTreeMap<String, Vec<u8>>> {
        let mut out = BTreeMap::new();
        for (key, value) in &self.data {
            out.insert(key.clone(), crate::base64::decode(value)?);
        }
        for (key, value) in &self.string_data {
            out.insert(key.clone(), value.clone().into_bytes());
        }
        Some(out)
    }
}
