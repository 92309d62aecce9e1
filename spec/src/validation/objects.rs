//! ConfigMap and Secret documents: names, keys, base64 data.

use std::collections::BTreeSet;

use super::{Doc, Validator, names};
use crate::base64;
use crate::check::map_key_path;
use crate::config_data::{ConfigMap, Secret};
use crate::node::Node;

/// The most bytes the values of a ConfigMap or Secret may hold together:
/// the API server's `MaxSecretSize` (1 MiB), for both kinds.
const MAX_DATA_BYTES: usize = 1 << 20;

/// The length of base64 `text` once decoded (what the API server counts).
fn decoded_len(text: &str) -> usize {
    let padding = text.bytes().rev().take_while(|&b| b == b'=').count().min(2);
    (text.len() / 4 * 3).saturating_sub(padding)
}

impl<'m> Validator<'_, 'm> {
    /// Validates a ConfigMap document.
    pub fn config_map(
        &mut self,
        config_map: &'m ConfigMap,
        node: &Node,
        seen: &mut BTreeSet<(&'static str, &'m str)>,
    ) {
        let doc = Doc { node, prefix: "" };
        self.object_name(doc, "ConfigMap", config_map.metadata.name.as_deref(), seen);
        self.metadata(doc, &config_map.metadata, false);
        self.data_keys(doc, "data", config_map.data.keys());
        self.data_keys(doc, "binaryData", config_map.binary_data.keys());
        self.base64_values(doc, "binaryData", &config_map.binary_data);
        for key in config_map
            .binary_data
            .keys()
            .filter(|k| config_map.data.contains_key(*k))
        {
            let message = format!("key {key:?} is also in data");
            self.error(doc, map_key_path("binaryData", key), message);
        }
        let total = config_map.data.values().map(String::len).sum::<usize>()
            + config_map
                .binary_data
                .values()
                .map(|v| decoded_len(v))
                .sum::<usize>();
        self.data_size(doc, "data", total);
    }

    /// Validates a Secret document.
    pub fn secret(
        &mut self,
        secret: &'m Secret,
        node: &Node,
        seen: &mut BTreeSet<(&'static str, &'m str)>,
    ) {
        let doc = Doc { node, prefix: "" };
        self.object_name(doc, "Secret", secret.metadata.name.as_deref(), seen);
        self.metadata(doc, &secret.metadata, false);
        self.data_keys(doc, "data", secret.data.keys());
        self.data_keys(doc, "stringData", secret.string_data.keys());
        self.base64_values(doc, "data", &secret.data);
        // stringData is merged over data on write: a key in both counts once.
        let total = secret
            .data
            .iter()
            .filter(|(k, _)| !secret.string_data.contains_key(*k))
            .map(|(_, v)| decoded_len(v))
            .sum::<usize>()
            + secret.string_data.values().map(String::len).sum::<usize>();
        self.data_size(doc, "data", total);
    }

    /// The API server's cap on what a ConfigMap's or Secret's values hold.
    fn data_size(&mut self, doc: Doc<'_>, field: &str, total: usize) {
        if total > MAX_DATA_BYTES {
            let message = format!(
                "Too long: must have at most {MAX_DATA_BYTES} bytes (the values add up to {total})"
            );
            self.error(doc, field, message);
        }
    }

    fn object_name(
        &mut self,
        doc: Doc<'_>,
        kind: &'static str,
        name: Option<&'m str>,
        seen: &mut BTreeSet<(&'static str, &'m str)>,
    ) {
        if let Some(name) = name
            && !seen.insert((kind, name))
        {
            self.error(doc, "metadata.name", format!("duplicate {kind} {name:?}"));
        }
    }

    fn data_keys<'k>(&mut self, doc: Doc<'_>, field: &str, keys: impl Iterator<Item = &'k String>) {
        for key in keys {
            self.syntax(doc, map_key_path(field, key), key, names::config_key);
        }
    }

    fn base64_values(
        &mut self,
        doc: Doc<'_>,
        field: &str,
        data: &std::collections::BTreeMap<String, String>,
    ) {
        for (key, value) in data {
            if base64::decode(value).is_none() {
                self.error(
                    doc,
                    map_key_path(field, key),
                    "expected base64 (padded, standard alphabet); use stringData for text",
                );
            }
        }
    }
}
