//! Reading a manifest file: documents, kinds, schema check, typed model,
//! defaults and validation, with every finding collected.

use std::collections::BTreeSet;

use crate::check::{Checker, FieldPath};
use crate::config_data::{ConfigMap, Secret};
use crate::defaults::apply_defaults;
use crate::diagnostics::{Diagnostic, Diagnostics, Report};
use crate::node::{Node, Position, Value};
use crate::node_de::from_node;
use crate::pod::Pod;
use crate::schema::{self, TypeDef};
use crate::syntax::syntax_error;
use crate::validation::Validator;
use crate::workload::{Workload, WorkloadKind};

/// How unknown fields are treated, like `kubectl --validate=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ValidationMode {
    /// Unknown fields are errors (the default).
    #[default]
    Strict,
    /// Unknown fields are warnings.
    Warn,
    /// Unknown fields are dropped silently.
    Ignore,
}

impl std::str::FromStr for ValidationMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "strict" | "true" => Ok(Self::Strict),
            "warn" => Ok(Self::Warn),
            "ignore" | "false" => Ok(Self::Ignore),
            other => Err(format!(
                "unsupported validation mode {other:?}: expected strict, warn or ignore"
            )),
        }
    }
}

/// What a file holds once read, defaulted and validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    /// The pods, in file order, with Kubernetes' defaults applied.
    pub pods: Vec<Pod>,
    /// The ConfigMaps, in file order.
    pub config_maps: Vec<ConfigMap>,
    /// The Secrets, in file order.
    pub secrets: Vec<Secret>,
    /// The Deployments, ReplicaSets, StatefulSets, DaemonSets and Jobs,
    /// in file order, their templates defaulted as pods.
    pub workloads: Vec<Workload>,
    /// Ignored fields and other findings that do not stop the pods.
    pub warnings: Vec<Diagnostic>,
}

/// ConfigMaps and Secrets from elsewhere (other files of a directory) that
/// the pods of a file may refer to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// Extra ConfigMaps.
    pub config_maps: &'a [ConfigMap],
    /// Extra Secrets.
    pub secrets: &'a [Secret],
    /// The ConfigMaps and Secrets the pods name were found when the pods
    /// were made (a running pod's object changed by `label`, `patch`,
    /// `edit`): names and keys are not looked up again.
    pub references_checked: bool,
}

/// Reads a manifest file (YAML or JSON, `---`-separated documents of kind
/// Pod, ConfigMap and Secret). `file` names the file in messages.
///
/// On failure, every error found (and the warnings) is returned, each with
/// `file:line:column: field.path: message`.
pub fn parse_manifest(
    source: &str,
    file: &str,
    mode: ValidationMode,
) -> Result<Manifest, Diagnostics> {
    parse_manifest_with(source, file, mode, Context::default())
}

/// [`parse_manifest`], with ConfigMaps and Secrets from elsewhere that
/// references may also name.
pub fn parse_manifest_with(
    source: &str,
    file: &str,
    mode: ValidationMode,
    context: Context<'_>,
) -> Result<Manifest, Diagnostics> {
    let mut report = Report::new(file);
    if source.len() > MAX_MANIFEST_BYTES {
        report.error(
            FILE_START,
            "",
            format!("the file is larger than {MAX_MANIFEST_BYTES} bytes; split it"),
        );
        return Err(report.finish());
    }
    // The block-style reader first, then granit-parser's events, then
    // serde-saphyr: each later one reads more and more slowly.
    let fast = crate::block_yaml::parse_documents(source);
    let documents = match fast.or_else(|| crate::events::parse_documents(source)) {
        Some(documents) => {
            debug_assert_eq!(
                Some(&documents),
                parse_with_serde(source).ok().as_ref(),
                "the fast paths and the serde path read the text differently"
            );
            documents
        }
        None => match parse_with_serde(source) {
            Ok(documents) => documents,
            Err(err) => {
                syntax_error(source, &err, mode, &mut report);
                return Err(report.finish());
            }
        },
    };
    let mut documents = crate::list::flatten(documents, &mut report);
    let mut manifest = Manifest::default();
    let (mut pod_nodes, mut config_map_nodes, mut secret_nodes) =
        (Vec::new(), Vec::new(), Vec::new());
    let mut workload_nodes = Vec::new();
    for node in &mut documents {
        match read_document(node, mode, &mut report) {
            Some(Document::Pod(pod)) => {
                manifest.pods.push(*pod);
                pod_nodes.push(&*node);
            }
            Some(Document::ConfigMap(config_map)) => {
                manifest.config_maps.push(config_map);
                config_map_nodes.push(&*node);
            }
            Some(Document::Secret(secret)) => {
                manifest.secrets.push(secret);
                secret_nodes.push(&*node);
            }
            Some(Document::Workload(workload)) => {
                manifest.workloads.push(*workload);
                workload_nodes.push(&*node);
            }
            None => {}
        }
    }
    for pod in &mut manifest.pods {
        apply_defaults(pod);
    }
    for workload in &mut manifest.workloads {
        crate::defaults::apply_workload_defaults(workload);
    }
    crate::service_account::add_placeholders(&mut manifest, &pod_nodes, context, &mut report);
    let mut validator = Validator::new(&mut report, &manifest, context);
    for (pod, node) in manifest.pods.iter().zip(pod_nodes) {
        validator.pod(pod, node);
    }
    for (workload, node) in manifest.workloads.iter().zip(workload_nodes) {
        validator.workload(workload, node);
    }
    let mut objects_seen = BTreeSet::new();
    for (config_map, node) in manifest.config_maps.iter().zip(config_map_nodes) {
        validator.config_map(config_map, node, &mut objects_seen);
    }
    for (secret, node) in manifest.secrets.iter().zip(secret_nodes) {
        validator.secret(secret, node, &mut objects_seen);
    }
    if report.has_errors() {
        return Err(report.finish());
    }
    manifest.warnings = report.finish().warnings;
    Ok(manifest)
}

/// Reads the documents through serde-saphyr: what the event path leaves
/// to it (tags, anchors, floats, errors...).
pub(crate) fn parse_with_serde(source: &str) -> Result<Vec<Node>, serde_saphyr::Error> {
    serde_saphyr::from_multiple_with_options(source, serde_options())
}

/// How peapod reads YAML with serde-saphyr.
pub(crate) fn serde_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    // Kubernetes reads YAML 1.1: `defaultMode: 0644` is octal.
    options.legacy_octal_numbers = true;
    // The budget's pre-pass parses the text twice; the size cap above, the
    // nesting cap of the tree and these alias limits guard instead.
    options.budget = None;
    options.alias_limits.max_total_replayed_events = MAX_ALIAS_EVENTS;
    options.alias_limits.max_replay_stack_depth = 16;
    options
}

enum Document {
    Pod(Box<Pod>),
    ConfigMap(ConfigMap),
    Secret(Secret),
    Workload(Box<Workload>),
}

/// Checks one document against the schema of its kind and reads it.
fn read_document(node: &mut Node, mode: ValidationMode, report: &mut Report) -> Option<Document> {
    if !matches!(node.value, Value::Map(_)) {
        report.error(
            node.position,
            "",
            format!(
                "expected a Pod, ConfigMap, Secret or workload document, found {}",
                node.value.describe()
            ),
        );
        return None;
    }
    let def = document_type(node, report)?;
    let errors_before = report.findings.errors.len();
    Checker { report, mode }.check_object(node, def, &FieldPath::Root);
    let node = &*node;
    let clean = report.findings.errors.len() == errors_before;
    let document = match def.name {
        "Pod" => from_node(node).map(|pod| Document::Pod(Box::new(pod))),
        "ConfigMap" => from_node(node).map(Document::ConfigMap),
        "Secret" => from_node(node).map(Document::Secret),
        _ => from_node(node).map(|workload| Document::Workload(Box::new(workload))),
    };
    match document {
        Ok(document) => Some(document),
        Err(err) => {
            // The schema check explains what serde tripped on; its own
            // message is only needed when the check found nothing.
            if clean {
                report.error(node.position, "", err.to_string());
            }
            None
        }
    }
}

/// The schema of the document's `kind`, after checking `apiVersion`.
fn document_type(node: &Node, report: &mut Report) -> Option<&'static TypeDef> {
    let kind_position = node.get("kind").map_or(node.position, |e| e.key_position);
    let kind = node.get_str("kind");
    let def = match kind {
        Some("Pod") => &schema::POD,
        Some("ConfigMap") => &schema::CONFIG_MAP,
        Some("Secret") => &schema::SECRET,
        Some("Deployment") => &schema::DEPLOYMENT,
        Some("ReplicaSet") => &schema::REPLICA_SET,
        Some("StatefulSet") => &schema::STATEFUL_SET,
        Some("DaemonSet") => &schema::DAEMON_SET,
        Some("Job") => &schema::JOB,
        Some("Service") => {
            report.warn(
                kind_position,
                "kind",
                "Service skipped: peapod has no Services on a single host (pods reach each other by their IP on the bridge; a hostPort publishes a port)",
            );
            return None;
        }
        Some("CronJob") => {
            report.error(
                kind_position,
                "kind",
                "unsupported kind \"CronJob\": peapod has no scheduler; run the jobTemplate as a Job from a systemd timer or cron",
            );
            return None;
        }
        Some(other) => {
            report.error(
                kind_position,
                "kind",
                format!(
                    "unsupported kind {other:?}: peapod reads Pod, ConfigMap, Secret, Deployment, ReplicaSet, StatefulSet, DaemonSet and Job documents"
                ),
            );
            return None;
        }
        None => {
            report.error(
                kind_position,
                "kind",
                "required value: expected Pod, ConfigMap, Secret, Deployment, ReplicaSet, StatefulSet, DaemonSet or Job",
            );
            return None;
        }
    };
    let api_version = kind
        .and_then(WorkloadKind::from_name)
        .map_or("v1", WorkloadKind::api_version);
    match node.get("apiVersion") {
        Some(entry) if matches!(&entry.value.value, Value::Str(v) if v == api_version) => {}
        Some(entry) => report.error(
            entry.key_position,
            "apiVersion",
            format!("expected {api_version:?}"),
        ),
        // Missing: the schema check reports it.
        None => {}
    }
    Some(def)
}

/// The largest manifest read: far above any pod, far below trouble.
pub const MAX_MANIFEST_BYTES: usize = 8 << 20;

/// The most YAML events aliases may replay (against alias bombs).
const MAX_ALIAS_EVENTS: usize = 100_000;

/// The position of the start of a file, for findings about the whole file.
pub(crate) const FILE_START: Position = Position { line: 1, column: 1 };
