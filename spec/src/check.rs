//! Checks a document's tree against the schema: unknown fields (with a
//! did-you-mean), cluster-only and output-only fields (warnings),
//! unsupported fields, missing required fields, and the kind of every
//! value.
//!
//! What it rejects it also prunes from the tree (and nulls, which mean
//! "not set"), so that the typed model can still be read and validated:
//! one wrong value does not hide the other errors of the file.

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
    /// Checks `node`, found at `path`, against the type `def`; `false` when
    /// the node cannot be read as one and must be dropped.
    pub fn check_object(&mut self, node: &mut Node, def: &'static TypeDef, path: &str) -> bool {
        let position = node.position;
        let entries = match &mut node.value {
            Value::Map(entries) => entries,
            other => {
                self.mismatch(position, path, "a mapping", other);
                return false;
            }
        };
        // Required fields are looked for before pruning: a value pruned for
        // being wrong was reported as wrong, not as missing.
        let missing: Vec<(&'static str, Position)> = def
            .fields
            .iter()
            .filter(|f| f.required)
            .filter_map(|field| {
                let entry = entries.iter().find(|e| e.key == field.name);
                let empty = entry.is_none_or(|e| match &e.value.value {
                    Value::Null => true,
                    Value::Str(s) => s.is_empty(),
                    Value::Seq(items) => items.is_empty(),
                    _ => false,
                });
                empty.then(|| (field.name, entry.map_or(position, |e| e.key_position)))
            })
            .collect();
        let errors_before = self.report.findings.errors.len();
        entries.retain_mut(|entry| self.check_entry(entry, def, path));
        let explained = self.report.findings.errors.len() > errors_before;
        let complete = self.check_one_of(position, entries, def, path, explained);
        for (name, at) in missing {
            self.report.error(at, &join(path, name), "required value");
        }
        complete
    }

    /// Checks one field; `false` drops it from the tree.
    fn check_entry(&mut self, entry: &mut Entry, def: &'static TypeDef, path: &str) -> bool {
        if entry.value.value == Value::Null {
            return false;
        }
        let field_path = join(path, &entry.key);
        let Some(field) = def.field(&entry.key) else {
            self.unknown(entry, def, &field_path);
            return false;
        };
        match field.support {
            Support::Supported => self.check_value(&mut entry.value, field.kind, &field_path),
            Support::ClusterOnly => {
                self.report
                    .warn(entry.key_position, &field_path, "ignored on a single host");
                self.check_value(&mut entry.value, field.kind, &field_path)
            }
            Support::OutputOnly => {
                self.report
                    .warn(entry.key_position, &field_path, "output only; ignored");
                !matches!(field.kind, Kind::Any)
            }
            Support::Unsupported => {
                let message = format!("not supported by peapod: {}", field.doc);
                self.report.error(entry.key_position, &field_path, message);
                false
            }
        }
    }

    /// Exactly one of a group (volume sources, handlers): none is an error
    /// at the object, a second one an error at its key. An unsupported or
    /// unknown field in the object already explains a missing one. `false`
    /// when a volume has no source (it cannot be read).
    fn check_one_of(
        &mut self,
        position: Position,
        entries: &[Entry],
        def: &'static TypeDef,
        path: &str,
        explained: bool,
    ) -> bool {
        let Some((group, what)) = def.one_of() else {
            return true;
        };
        let mut given = entries.iter().filter(|e| group.contains(&e.key.as_str()));
        let list = group.join(", ");
        match (given.next(), given.next()) {
            (None, _) => {
                if !explained {
                    self.report
                        .error(position, path, format!("must specify one {what}: {list}"));
                }
                def.name != "Volume"
            }
            (Some(first), Some(second)) => {
                let message = format!(
                    "may not specify more than one {what}: {:?} is already given",
                    first.key
                );
                self.report
                    .error(second.key_position, &join(path, &second.key), message);
                true
            }
            (Some(_), None) => true,
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

    /// Checks a value of `kind`; `false` when it must be dropped.
    fn check_value(&mut self, node: &mut Node, kind: Kind, path: &str) -> bool {
        let at = node.position;
        match (kind, &mut node.value) {
            (_, Value::Null) => false,
            (Kind::Any, _) | (Kind::Bool, Value::Bool(_)) => true,
            (Kind::Object(def), _) => self.check_object(node, def, path),
            (Kind::List(item), Value::Seq(items)) => {
                let mut index = 0;
                items.retain_mut(|child| {
                    let keep = self.check_value(child, *item, &format!("{path}[{index}]"));
                    index += 1;
                    keep
                });
                true
            }
            (Kind::StringMap | Kind::QuantityMap, Value::Map(entries)) => {
                let value_kind = if matches!(kind, Kind::StringMap) {
                    Kind::String
                } else {
                    Kind::Quantity
                };
                entries.retain_mut(|entry| {
                    let entry_path = map_key_path(path, &entry.key);
                    self.check_value(&mut entry.value, value_kind, &entry_path)
                });
                true
            }
            (Kind::List(_), other) => self.mismatch(at, path, "a list", other),
            (Kind::StringMap | Kind::QuantityMap, other) => {
                self.mismatch(at, path, "a mapping", other)
            }
            (Kind::Bool, other) => self.mismatch(at, path, "true or false", other),
            (Kind::String, value) => self.string(at, path, value),
            (Kind::Int32 | Kind::Int64 | Kind::IntOrString, value) => {
                self.integer(at, path, kind, value)
            }
            (Kind::Quantity, value) => self.quantity(at, path, value),
            (Kind::Enum(allowed), value) => self.enumeration(at, path, allowed, value),
        }
    }

    fn string(&mut self, at: Position, path: &str, value: &Value) -> bool {
        match value {
            Value::Str(_) => true,
            Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Bool(_) => {
                let message = format!("expected a string, found {}; quote it", value.describe());
                self.report.error(at, path, message);
                false
            }
            other => self.mismatch(at, path, "a string", other),
        }
    }

    fn integer(&mut self, at: Position, path: &str, kind: Kind, value: &Value) -> bool {
        let int32 = matches!(kind, Kind::Int32 | Kind::IntOrString);
        match value {
            Value::Int(i) if int32 && i32::try_from(*i).is_err() => {
                self.report.error(
                    at,
                    path,
                    format!("{i} is out of range for a 32-bit integer"),
                );
                false
            }
            Value::Int(_) => true,
            Value::UInt(u) => {
                self.report
                    .error(at, path, format!("{u} is out of range for an integer"));
                false
            }
            Value::Str(_) if matches!(kind, Kind::IntOrString) => true,
            other if matches!(kind, Kind::IntOrString) => {
                self.mismatch(at, path, "an integer or a string", other)
            }
            other => self.mismatch(at, path, "an integer", other),
        }
    }

    fn enumeration(&mut self, at: Position, path: &str, allowed: &[&str], value: &Value) -> bool {
        let Value::Str(s) = value else {
            return self.mismatch(at, path, "a string", value);
        };
        if allowed.contains(&s.as_str()) {
            return true;
        }
        let hint = did_you_mean(s, allowed.iter().copied());
        let list = allowed
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let message = format!("unsupported value {s:?}: expected one of {list}{hint}");
        self.report.error(at, path, message);
        false
    }

    fn quantity(&mut self, at: Position, path: &str, value: &Value) -> bool {
        let text = match value {
            Value::Str(text) => text.clone(),
            Value::Int(i) => i.to_string(),
            Value::UInt(u) => u.to_string(),
            Value::Float(f) => f.to_string(),
            other => return self.mismatch(at, path, "a quantity (500m, 128Mi)", other),
        };
        match Quantity::parse(&text) {
            Ok(_) => true,
            Err(err) => {
                self.report.error(at, path, err.to_string());
                false
            }
        }
    }

    /// Reports a value of the wrong kind; always `false` (drop it).
    fn mismatch(&mut self, at: Position, path: &str, expected: &str, found: &Value) -> bool {
        self.report.error(
            at,
            path,
            format!("expected {expected}, found {}", found.describe()),
        );
        false
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
