//! Checks a document's tree against the schema: unknown fields (with a
//! did-you-mean), cluster-only and output-only fields (warnings),
//! unsupported fields, missing required fields, and the kind of every
//! value.
//!
//! What it rejects it also prunes from the tree (and nulls, which mean
//! "not set"), so that the typed model can still be read and validated:
//! one wrong value does not hide the other errors of the file.

use std::fmt;

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
    pub fn check_object(
        &mut self,
        node: &mut Node,
        def: &'static TypeDef,
        path: &FieldPath<'_>,
    ) -> bool {
        let position = node.position;
        let entries = match &mut node.value {
            Value::Map(entries) => entries,
            other => {
                let message = mismatch("a mapping", other);
                self.report.error(position, &path.to_string(), message);
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
            let field_path = FieldPath::Field(path, name).to_string();
            self.report.error(at, &field_path, "required value");
        }
        complete
    }

    /// Checks one field; `false` drops it from the tree.
    fn check_entry(
        &mut self,
        entry: &mut Entry,
        def: &'static TypeDef,
        path: &FieldPath<'_>,
    ) -> bool {
        if entry.value.value == Value::Null {
            return false;
        }
        let field_path = FieldPath::Field(path, &entry.key);
        let Some(field) = def.field(&entry.key) else {
            self.unknown(entry, def, &field_path.to_string());
            return false;
        };
        match field.support {
            Support::Supported => self.check_value(&mut entry.value, field.kind, &field_path),
            Support::ClusterOnly => {
                self.report.warn(
                    entry.key_position,
                    &field_path.to_string(),
                    "ignored on a single host",
                );
                self.check_value(&mut entry.value, field.kind, &field_path)
            }
            Support::OutputOnly => {
                self.report.warn(
                    entry.key_position,
                    &field_path.to_string(),
                    "output only; ignored",
                );
                !matches!(field.kind, Kind::Any)
            }
            Support::NotEnforced { honoured } => {
                if !holds(&entry.value.value, honoured) {
                    self.report.warn(
                        entry.key_position,
                        &field_path.to_string(),
                        Support::not_enforced_message(honoured),
                    );
                }
                self.check_value(&mut entry.value, field.kind, &field_path)
            }
            Support::Unsupported => {
                let message = format!("not supported by peapod: {}", field.doc);
                self.report
                    .error(entry.key_position, &field_path.to_string(), message);
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
        path: &FieldPath<'_>,
        explained: bool,
    ) -> bool {
        let Some((group, what)) = def.one_of() else {
            return true;
        };
        let mut given = entries.iter().filter(|e| group.contains(&e.key.as_str()));
        match (given.next(), given.next()) {
            (None, _) => {
                if !explained {
                    let list = group.join(", ");
                    self.report.error(
                        position,
                        &path.to_string(),
                        format!("must specify one {what}: {list}"),
                    );
                }
                def.name != "Volume"
            }
            (Some(first), Some(second)) => {
                let message = format!(
                    "may not specify more than one {what}: {:?} is already given",
                    first.key
                );
                let second_path = FieldPath::Field(path, &second.key).to_string();
                self.report
                    .error(second.key_position, &second_path, message);
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
    fn check_value(&mut self, node: &mut Node, kind: Kind, path: &FieldPath<'_>) -> bool {
        let at = node.position;
        match (kind, &mut node.value) {
            (_, Value::Null) => false,
            (Kind::Any, _) | (Kind::Bool, Value::Bool(_)) => true,
            (Kind::Object(def), _) => self.check_object(node, def, path),
            (Kind::List(item), Value::Seq(items)) => {
                let mut index = 0;
                items.retain_mut(|child| {
                    let keep = self.check_value(child, *item, &FieldPath::Item(path, index));
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
                    let entry_path = FieldPath::MapKey(path, &entry.key);
                    self.check_value(&mut entry.value, value_kind, &entry_path)
                });
                true
            }
            (_, value) => {
                let Some(problem) = leaf_problem(kind, value) else {
                    return true;
                };
                self.report.error(at, &path.to_string(), problem);
                false
            }
        }
    }
}

/// What is wrong with a scalar (or a value where a scalar or a collection
/// of `kind` was due), `None` when it is right.
fn leaf_problem(kind: Kind, value: &Value) -> Option<String> {
    let expected = match (kind, value) {
        (Kind::List(_), _) => "a list",
        (Kind::StringMap | Kind::QuantityMap, _) => "a mapping",
        (Kind::Bool, _) => "true or false",
        (Kind::String, Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Bool(_)) => {
            return Some(format!(
                "expected a string, found {}; quote it",
                value.describe()
            ));
        }
        (Kind::Int32 | Kind::Int64 | Kind::IntOrString, _) => return integer_problem(kind, value),
        (Kind::Quantity, _) => return quantity_problem(value),
        (Kind::Enum(allowed), Value::Str(s)) => return enum_problem(allowed, s),
        (Kind::String, Value::Str(_)) | (Kind::Any | Kind::Object(_), _) => {
            return None;
        }
        (Kind::String | Kind::Enum(_), _) => "a string",
    };
    Some(mismatch(expected, value))
}

fn integer_problem(kind: Kind, value: &Value) -> Option<String> {
    let int32 = matches!(kind, Kind::Int32 | Kind::IntOrString);
    match value {
        Value::Int(i) if int32 && i32::try_from(*i).is_err() => {
            Some(format!("{i} is out of range for a 32-bit integer"))
        }
        Value::Int(_) => None,
        Value::UInt(u) => Some(format!("{u} is out of range for an integer")),
        Value::Str(_) if matches!(kind, Kind::IntOrString) => None,
        other if matches!(kind, Kind::IntOrString) => {
            Some(mismatch("an integer or a string", other))
        }
        other => Some(mismatch("an integer", other)),
    }
}

fn enum_problem(allowed: &[&str], s: &str) -> Option<String> {
    if allowed.contains(&s) {
        return None;
    }
    let hint = did_you_mean(s, allowed.iter().copied());
    let list = allowed
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(format!(
        "unsupported value {s:?}: expected one of {list}{hint}"
    ))
}

fn quantity_problem(value: &Value) -> Option<String> {
    let owned;
    let text = match value {
        Value::Str(text) => text.as_str(),
        Value::Int(i) => {
            owned = i.to_string();
            &owned
        }
        Value::UInt(u) => {
            owned = u.to_string();
            &owned
        }
        Value::Float(f) => {
            owned = f.to_string();
            &owned
        }
        other => return Some(mismatch("a quantity (500m, 128Mi)", other)),
    };
    Quantity::parse(text).err().map(|err| err.to_string())
}

/// The message for a value of the wrong kind.
fn mismatch(expected: &str, found: &Value) -> String {
    format!("expected {expected}, found {}", found.describe())
}

/// Where a value is in the document: `spec.containers[0].name`, built as
/// text only when a finding names it.
#[derive(Clone, Copy)]
pub(crate) enum FieldPath<'a> {
    /// The document itself.
    Root,
    /// A field of an object.
    Field(&'a FieldPath<'a>, &'a str),
    /// An item of a list.
    Item(&'a FieldPath<'a>, usize),
    /// A key of a string or quantity map (labels, limits).
    MapKey(&'a FieldPath<'a>, &'a str),
}

impl fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FieldPath::Root => Ok(()),
            FieldPath::Field(FieldPath::Root, key) => f.write_str(key),
            FieldPath::Field(parent, key) => write!(f, "{parent}.{key}"),
            FieldPath::Item(parent, index) => write!(f, "{parent}[{index}]"),
            FieldPath::MapKey(parent, key) if key.contains(['.', '/', '[', ']']) => {
                write!(f, "{parent}['{key}']")
            }
            FieldPath::MapKey(parent, key) => FieldPath::Field(parent, key).fmt(f),
        }
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

/// Whether a scalar `value` is written as `text` (`false`, `Default`).
fn holds(value: &Value, text: &str) -> bool {
    match value {
        Value::Bool(b) => !text.is_empty() && b.to_string() == text,
        Value::Str(s) => !text.is_empty() && s == text,
        _ => false,
    }
}
