//! `kind: List` (what `kubectl get pods -o yaml` prints): its `items` are
//! read as documents of their own, in order, keeping their positions.

use crate::diagnostics::Report;
use crate::node::{Node, Value};

/// `documents` with every `v1` `List` replaced by its items; a List whose
/// `items` is not a list of mappings is reported and dropped.
pub(crate) fn flatten(documents: Vec<Node>, report: &mut Report) -> Vec<Node> {
    let mut out = Vec::with_capacity(documents.len());
    for node in documents {
        if node.get_str("kind") != Some("List") {
            out.push(node);
            continue;
        }
        if let Some(entry) = node.get("apiVersion")
            && !matches!(&entry.value.value, Value::Str(v) if v == "v1")
        {
            report.error(entry.key_position, "apiVersion", "expected \"v1\"");
            continue;
        }
        let Value::Map(entries) = node.value else {
            continue;
        };
        if let Some(entry) = entries.into_iter().find(|e| e.key == "items") {
            match entry.value.value {
                Value::Seq(items) => out.extend(items),
                Value::Null => {}
                other => report.error(
                    entry.key_position,
                    "items",
                    format!("expected a list of objects, found {}", other.describe()),
                ),
            }
        }
    }
    out
}
