//! Checks a document's tree against the schema: unknown fields (with a
//! did-you-mean), cluster-only and output-only fields (warnings),
//! unsupported fields, missing required fields, and the kind of every
//! value. Read-only: serde ignores the fields reported here.

use crate::diagnostics::{Report, did_you_mean};
use crate::manifest::ValidationMode;
use crate::node::{Entry, Node, Position, Value};
use crate::quantity::Quantity;
use crate::schema::{Kind, Support, TypeDef};

/// Walks one document.
pub(crate) struct Checker<'r> {
    pub report: &'r mut Report,
    pub mode: ValidationMode,
}

impl Checker<'_> {
    /// Checks `node`, found at `path`, against the type `def`.
    pub fn check_object(&mut self, node: &Node, def: &'static TypeDef, path: &str) {
        let entries = match &node.value {
            Value::Map(entries) => entries,
            Value::Null => return,
            other => {
                self.mismatch(node.position, path, "a mapping", other);
                return;
            }
        };
        for entry in entries {
            let field_path = join(path, &entry.key);
            match def.field(&entry.key) {
                Some(field) => match field.support {
                    Support::Supported => self.check_value(&entry.value, field.kind, &field_path),
                    Support::ClusterOnly => {
                        self.check_value(&entry.value, field.kind, &field_path);
                        self.report.warn(
                            entry.key_position,
                            &field_path,
                            "ignored on a single host",
                        );
                    }
                    Support::OutputOnly => {
                        self.report
                            .warn(entry.key_position, &field_path, "output only; ignored");
                    }
                    Support::Unsupported => self.report.error(
                        entry.key_position,
                        &field_path,
                        format!("not supported by peapod: {}", field.doc),
                    ),
                },
                None => self.unknown(entry, def, &field_path),
            }
        }
        self.check_one_of(node, entries, def, path);
        for field in def.fields.iter().filter(|f| f.required) {
            let present = entries
                .iter()
                .any(|e| e.key == field.name && e.value.value != Value::Null);
            if !present {
                self.report
                    .error(node.position, &join(path, field.name), "required value");
            }
        }
    }

    /// Exactly one of a group (volume sources, handlers): none is an error
    /// at the object, a second one an error at its key. An unsupported or
    /// unknown field in the object already explains a missing one.
    fn check_one_of(&mut self, node: &Node, entries: &[Entry], def: &'static TypeDef, path: &str) {
        let Some((group, what)) = def.one_of() else {
            return;
        };
        let mut given = entries
            .iter()
            .filter(|e| group.contains(&e.key.as_str()) && e.value.value != Value::Null);
        let list = group.join(", ");
        match (given.next(), given.next()) {
            (None, _) => {
                let explained = entries.iter().any(|e| {
                    def.field(&e.key)
                        .is_none_or(|f| f.support == Support::Unsupported)
                });
                if !explained {
                    self.report.error(
                        node.position,
                        path,
                        format!("must specify one {what}: {list}"),
                    );
                }
            }
            (Some(first), Some(second)) => self.report.error(
                second.key_position,
                &join(path, &second.key),
                format!(
                    "may not specify more than one {what}: {:?} is already given",
                    first.key
                ),
            ),
            (Some(_), None) => {}
        }
    }

    fn unknown(&mut self, entry: &Entry, def: &'static TypeDef, path: &str) {
        let hint = did_you_mean(&entry.key, def.fields.iter().map(|f| f.name));
        let message = format!("unknown field{hint}");
        match self.mode {
            ValidationMode::Strict => self.report.error(entry.key_position, path, message),
            ValidationMode::Warn => self.report.warn(entry.key_position, path, message),
            ValidationMode::Ignore => {}
        }
    }

    fn check_value(&mut self, node: &Node, kind: Kind, path: &str) {
        let at = node.position;
        let value = &node.value;
        match (kind, value) {
            (_, Value::Null) | (Kind::Any, _) | (Kind::Bool, Value::Bool(_)) => {}
            (Kind::Object(def), _) => self.check_object(node, def, path),
            (Kind::List(item), Value::Seq(items)) => {
                for (i, child) in items.iter().enumerate() {
                    self.check_value(child, *item, &format!("{path}[{i}]"));
                }
            }
            (Kind::List(_), other) => self.mismatch(at, path, "a list", other),
            (Kind::StringMap | Kind::QuantityMap, Value::Map(entries)) => {
                let value_kind = if matches!(kind, Kind::StringMap) {
                    Kind::String
                } else {
                    Kind::Quantity
                };
                for entry in entries {
                    self.check_value(&entry.value, value_kind, &map_key_path(path, &entry.key));
                }
            }
            (Kind::StringMap | Kind::QuantityMap, other) => {
                self.mismatch(at, path, "a mapping", other);
            }
            (Kind::String, _) => self.string(at, path, value),
            (Kind::Bool, other) => self.mismatch(at, path, "true or false", other),
            (Kind::Int32 | Kind::Int64 | Kind::IntOrString, _) => {
                self.integer(at, path, kind, value);
            }
            (Kind::Quantity, _) => self.quantity(at, path, value),
            (Kind::Enum(allowed), _) => self.enumeration(at, path, allowed, value),
        }
    }

    fn string(&mut self, at: Position, path: &str, value: &Value) {
        match value {
            Value::Str(_) => {}
            Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Bool(_) => {
                let message = format!("expected a string, found {}; quote it", value.describe());
                self.report.error(at, path, message);
            }
            other => self.mismatch(at, path, "a string", other),
        }
    }

    fn integer(&mut self, at: Position, path: &str, kind: Kind, value: &Value) {
        match value {
            Value::Int(i)
                if matches!(kind, Kind::Int32 | Kind::IntOrString)
                    && i32::try_from(*i).is_err() =>
            {
                self.report.error(
                    at,
                    path,
                    format!("{i} is out of range for a 32-bit integer"),
                );
            }
            Value::Int(_) => {}
            Value::UInt(u) => {
                self.report
                    .error(at, path, format!("{u} is out of range for an integer"));
            }
            Value::Str(_) if matches!(kind, Kind::IntOrString) => {}
            other if matches!(kind, Kind::IntOrString) => {
                self.mismatch(at, path, "an integer or a string", other);
            }
            other => self.mismatch(at, path, "an integer", other),
        }
    }

    fn enumeration(&mut self, at: Position, path: &str, allowed: &[&str], value: &Value) {
        let Value::Str(s) = value else {
            self.mismatch(at, path, "a string", value);
            return;
        };
        if !allowed.contains(&s.as_str()) {
            let hint = did_you_mean(s, allowed.iter().copied());
            let list = allowed
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            let message = format!("unsupported value {s:?}: expected one of {list}{hint}");
            self.report.error(at, path, message);
        }
    }

    fn quantity(&mut self, at: Position, path: &str, value: &Value) {
        let text = match value {
            Value::Str(text) => text.clone(),
            Value::Int(i) => i.to_string(),
            Value::UInt(u) => u.to_string(),
            Value::Float(f) => f.to_string(),
            other => return self.mismatch(at, path, "a quantity (500m, 128Mi)", other),
        };
        if let Err(err) = Quantity::parse(&text) {
            self.report.error(at, path, err.to_string());
        }
    }

    fn mismatch(&mut self, at: Position, path: &str, expected: &str, found: &Value) {
        self.report.error(
            at,
            path,
            format!("expected {expected}, found {}", found.describe()),
        );
    }
}

/// `a.b` from `a` and `b`; `b` alone from an empty parent.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// The path of a map key: `metadata.labels.app`, or
/// `metadata.labels['app.kubernetes.io/name']` when the key has dots or slashes.
pub(crate) fn map_key_path(parent: &str, key: &str) -> String {
    if key.contains(['.', '/', '[', ']']) {
        format!("{parent}['{key}']")
    } else {
        join(parent, key)
    }
}
