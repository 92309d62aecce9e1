//! The shape of every document peapod reads: for each type its fields,
//! their kinds, whether peapod uses them, and their documentation.
//!
//! One table serves two masters: validation walks a document against it
//! (unknown fields, wrong kinds, unsupported values, each with its
//! position), and `peapod explain` prints it. It is kept next to the serde
//! types; a test checks that every field here reads into them.

mod container;
mod pod;
mod volume;
mod workload;

pub(crate) use pod::{CONFIG_MAP, POD, SECRET};
pub(crate) use workload::{DAEMON_SET, DEPLOYMENT, JOB, REPLICA_SET, STATEFUL_SET};

/// What a field holds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// Text.
    String,
    /// A 32-bit integer.
    Int32,
    /// A 64-bit integer.
    Int64,
    /// `true` or `false`.
    Bool,
    /// A resource quantity (`500m`, `128Mi`).
    Quantity,
    /// A port number or name.
    IntOrString,
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
    /// An object of the given type.
    Object(&'static TypeDef),
    /// A list of the given kind.
    List(&'static Kind),
    /// `map[string]string` (labels, annotations, ConfigMap data).
    StringMap,
    /// Resource name to quantity (requests, limits).
    QuantityMap,
    /// Not looked at (cluster-only structures peapod ignores).
    Any,
}

impl Kind {
    /// The type as `kubectl explain` writes it: `string`, `[]Container`.
    pub fn type_name(&self) -> String {
        match self {
            Kind::String | Kind::Enum(_) => "string".to_owned(),
            Kind::Int32 | Kind::Int64 => "integer".to_owned(),
            Kind::Bool => "boolean".to_owned(),
            Kind::Quantity => "Quantity".to_owned(),
            Kind::IntOrString => "IntOrString".to_owned(),
            Kind::Object(def) => def.name.to_owned(),
            Kind::List(item) => format!("[]{}", item.type_name()),
            Kind::StringMap => "map[string]string".to_owned(),
            Kind::QuantityMap => "map[string]Quantity".to_owned(),
            Kind::Any => "Object".to_owned(),
        }
    }

    /// The type the kind refers to, through lists.
    pub fn object(&self) -> Option<&'static TypeDef> {
        match self {
            Kind::Object(def) => Some(def),
            Kind::List(item) => item.object(),
            _ => None,
        }
    }
}

/// Whether and how peapod uses a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Support {
    /// Used.
    Supported,
    /// Meaningful only in a cluster: accepted, ignored, warned about.
    ClusterOnly,
    /// Written by the system: accepted in input, ignored, warned about.
    OutputOnly,
    /// A Kubernetes field peapod cannot honour on one host: an error.
    Unsupported,
    /// Read and kept, but peapod does not make it so: accepted with a
    /// warning naming the field, unless it holds `honoured`, the one value
    /// peapod's behaviour matches (`""`: none). README's "Fields peapod
    /// does not enforce" lists these.
    NotEnforced {
        /// The value written out (`false`, `Default`) that needs no warning.
        honoured: &'static str,
    },
}

impl Support {
    /// The warning for a field that is not enforced.
    pub fn not_enforced_message(honoured: &str) -> String {
        let message = "not enforced by peapod: accepted, but the pod runs as if it were not set";
        if honoured.is_empty() {
            message.to_owned()
        } else {
            format!("{message} (only {honoured} is honoured)")
        }
    }
}

/// One field of a type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    /// Its name on the wire (camelCase).
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// Whether it must be given.
    pub required: bool,
    /// Whether peapod uses it.
    pub support: Support,
    /// What it means, for `explain`.
    pub doc: &'static str,
}

/// A type: its name, documentation and fields.
#[derive(Debug)]
pub(crate) struct TypeDef {
    /// Kubernetes' name for it (`Container`).
    pub name: &'static str,
    /// What it is.
    pub doc: &'static str,
    /// Its fields, in Kubernetes' order.
    pub fields: &'static [Field],
}

impl TypeDef {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The fields of which exactly one must be given, and what they are
    /// called in messages (`volume source`).
    pub fn one_of(&self) -> Option<(&'static [&'static str], &'static str)> {
        let group: (&'static [&'static str], &'static str) = match self.name {
            "Volume" => (
                &[
                    "emptyDir",
                    "hostPath",
                    "configMap",
                    "secret",
                    "downwardAPI",
                    "projected",
                ],
                "volume source",
            ),
            "LifecycleHandler" => (&["exec", "httpGet", "tcpSocket", "sleep"], "handler"),
            "Probe" => (&["exec", "httpGet", "tcpSocket", "grpc"], "handler"),
            "EnvVarSource" => (
                &[
                    "fieldRef",
                    "resourceFieldRef",
                    "configMapKeyRef",
                    "secretKeyRef",
                ],
                "source",
            ),
            "EnvFromSource" => (&["configMapRef", "secretRef"], "source"),
            "VolumeProjection" => (
                &["configMap", "secret", "downwardAPI", "serviceAccountToken"],
                "projection",
            ),
            _ => return None,
        };
        Some(group)
    }
}

/// An optional supported field.
pub(crate) const fn opt(name: &'static str, kind: Kind, doc: &'static str) -> Field {
    Field {
        name,
        kind,
        required: false,
        support: Support::Supported,
        doc,
    }
}

/// A required supported field.
pub(crate) const fn req(name: &'static str, kind: Kind, doc: &'static str) -> Field {
    Field {
        name,
        kind,
        required: true,
        support: Support::Supported,
        doc,
    }
}

/// A field with a given support level.
pub(crate) const fn with(
    name: &'static str,
    kind: Kind,
    support: Support,
    doc: &'static str,
) -> Field {
    Field {
        name,
        kind,
        required: false,
        support,
        doc,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::{Kind, POD, Support, TypeDef};
    use crate::node::{Node, Value};
    use crate::{ValidationMode, parse_manifest, to_yaml};

    const FULL_POD: &str = include_str!("../tests/fixtures/full-pod.yaml");

    /// Every supported (type, field) reachable from `def`.
    fn schema_fields(def: &'static TypeDef, out: &mut BTreeSet<(&'static str, &'static str)>) {
        for field in def
            .fields
            .iter()
            .filter(|f| f.support == Support::Supported)
        {
            if out.insert((def.name, field.name))
                && let Some(child) = field.kind.object()
            {
                schema_fields(child, out);
            }
        }
    }

    /// Every (type, field) a document uses, walking it with the schema.
    fn used_fields(node: &Node, kind: Kind, out: &mut BTreeSet<(&'static str, &'static str)>) {
        match (kind, &node.value) {
            (Kind::Object(def), Value::Map(entries)) => {
                for entry in entries {
                    if let Some(field) = def.field(&entry.key) {
                        out.insert((def.name, field.name));
                        used_fields(&entry.value, field.kind, out);
                    }
                }
            }
            (Kind::List(item), Value::Seq(items)) => {
                for child in items {
                    used_fields(child, *item, out);
                }
            }
            _ => {}
        }
    }

    fn pod_node(source: &str) -> Node {
        let documents: Vec<Node> = serde_saphyr::from_multiple(source).unwrap();
        documents.into_iter().next().unwrap()
    }

    #[test]
    fn full_pod_fixture_uses_every_supported_field() {
        let mut expected = BTreeSet::new();
        schema_fields(&POD, &mut expected);
        let mut used = BTreeSet::new();
        used_fields(&pod_node(FULL_POD), Kind::Object(&POD), &mut used);
        let missing: Vec<_> = expected.difference(&used).collect();
        assert!(missing.is_empty(), "full-pod.yaml lacks {missing:?}");
    }

    #[test]
    fn every_schema_field_reaches_the_model_and_back() {
        let manifest = parse_manifest(FULL_POD, "full-pod.yaml", ValidationMode::Strict).unwrap();
        let written = to_yaml(&manifest.pods[0]).unwrap();
        let mut before = BTreeSet::new();
        used_fields(&pod_node(FULL_POD), Kind::Object(&POD), &mut before);
        let mut after = BTreeSet::new();
        used_fields(&pod_node(&written), Kind::Object(&POD), &mut after);
        before.remove(&("ObjectMeta", "creationTimestamp"));
        let lost: Vec<_> = before.difference(&after).collect();
        assert!(lost.is_empty(), "the model dropped {lost:?}:\n{written}");
    }

    /// Every field marked [`Support::NotEnforced`] reachable from `def`.
    fn not_enforced(
        def: &'static TypeDef,
        seen: &mut BTreeSet<&'static str>,
        out: &mut BTreeSet<&'static str>,
    ) {
        if !seen.insert(def.name) {
            return;
        }
        for field in def.fields {
            if matches!(field.support, Support::NotEnforced { .. }) {
                out.insert(field.name);
            }
            if let Some(child) = field.kind.object() {
                not_enforced(child, seen, out);
            }
        }
    }

    #[test]
    fn readme_lists_every_field_peapod_does_not_enforce() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("fields peapod does not enforce\n")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("README has the section");
        let mut fields = BTreeSet::new();
        not_enforced(&POD, &mut BTreeSet::new(), &mut fields);
        let missing: Vec<_> = fields
            .iter()
            .filter(|f| {
                !section.contains(&format!("`{f}`")) && !section.contains(&format!(".{f}`"))
            })
            .collect();
        assert!(missing.is_empty(), "README's list lacks {missing:?}");
    }
}
