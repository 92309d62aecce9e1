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

pub(crate) use pod::{CONFIG_MAP, POD, SECRET};

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
}

/// One field of a type.
#[derive(Debug)]
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
            "VolumeProjection" => (&["configMap", "secret", "downwardAPI"], "projection"),
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
