//! Validation of the typed documents, as the API server does it: names,
//! uniqueness, references between fields and to ConfigMaps and Secrets,
//! ranges. Runs after the schema check, so it only looks at meaning;
//! positions come from the document's tree by field path.

mod container;
pub(crate) mod names;
mod objects;
mod references;
mod security;
mod sysctls;
mod volume;
mod workload;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::IpAddr;

use crate::diagnostics::Report;
use crate::manifest::{Context, Manifest};
use crate::node::Node;
use crate::pod::{DNSPolicy, ObjectMeta, Pod, PodSpec};

/// The most bytes an object's annotations may hold, keys and values
/// together: the API server's `TotalAnnotationSizeLimitB` (256 KiB).
const MAX_ANNOTATION_BYTES: usize = 256 << 10;

/// Validates the documents of one file.
pub(crate) struct Validator<'r, 'm> {
    report: &'r mut Report,
    /// ConfigMap name → its keys (file and context).
    config_maps: HashMap<&'m str, BTreeSet<&'m str>>,
    /// Secret name → its keys (file and context).
    secrets: HashMap<&'m str, BTreeSet<&'m str>>,
    /// [`Context::references_checked`]: references are not looked up.
    references_checked: bool,
    /// Pods seen, by namespace and name.
    pods_seen: BTreeSet<(&'m str, &'m str)>,
    /// Workloads seen, by kind, namespace and name.
    workloads_seen: BTreeSet<(crate::workload::WorkloadKind, &'m str, &'m str)>,
}

/// Where findings of one document point.
#[derive(Clone, Copy)]
pub(crate) struct Doc<'n> {
    node: &'n Node,
    /// What field paths are below in the document read (`spec.template.`
    /// for a workload's pod template, whose node `node` is).
    prefix: &'n str,
}

impl<'r, 'm> Validator<'r, 'm> {
    pub fn new(report: &'r mut Report, manifest: &'m Manifest, context: Context<'m>) -> Self {
        let mut config_maps: HashMap<&str, BTreeSet<&str>> = HashMap::new();
        for config_map in manifest.config_maps.iter().chain(context.config_maps) {
            let keys = config_map
                .data
                .keys()
                .chain(config_map.binary_data.keys())
                .map(String::as_str);
            let name = config_map.metadata.name.as_deref().unwrap_or_default();
            config_maps.entry(name).or_default().extend(keys);
        }
        let mut secrets: HashMap<&str, BTreeSet<&str>> = HashMap::new();
        for secret in manifest.secrets.iter().chain(context.secrets) {
            let keys = secret
                .data
                .keys()
                .chain(secret.string_data.keys())
                .map(String::as_str);
            let name = secret.metadata.name.as_deref().unwrap_or_default();
            secrets.entry(name).or_default().extend(keys);
        }
        Self {
            report,
            config_maps,
            secrets,
            references_checked: context.references_checked,
            pods_seen: BTreeSet::new(),
            workloads_seen: BTreeSet::new(),
        }
    }

    /// Reports an error at the field `path` of the document.
    /// `path` is any text (often `format_args!`): it is only written out
    /// when there is an error.
    fn error(&mut self, doc: Doc<'_>, path: impl fmt::Display, message: impl Into<String>) {
        let path = path.to_string();
        let at = doc.node.locate(&path);
        self.report
            .error(at, &format!("{}{path}", doc.prefix), message);
    }

    /// Reports that the field `path` is read but not enforced by peapod.
    fn not_enforced(&mut self, doc: Doc<'_>, path: impl fmt::Display) {
        self.warn(doc, path, crate::schema::Support::not_enforced_message(""));
    }

    /// Reports a warning at the field `path` of the document.
    fn warn(&mut self, doc: Doc<'_>, path: impl fmt::Display, message: impl Into<String>) {
        let path = path.to_string();
        let at = doc.node.locate(&path);
        self.report
            .warn(at, &format!("{}{path}", doc.prefix), message);
    }

    /// Reports an error when `check` finds `value` does not fit its syntax.
    fn syntax(
        &mut self,
        doc: Doc<'_>,
        path: impl fmt::Display,
        value: &str,
        check: fn(&str) -> Result<(), &'static str>,
    ) {
        if let Err(expected) = check(value) {
            self.error(
                doc,
                path,
                format!("invalid value {value:?}: expected {expected}"),
            );
        }
    }

    /// Validates one pod, read from `node`.
    pub fn pod(&mut self, pod: &'m Pod, node: &Node) {
        let doc = Doc { node, prefix: "" };
        self.metadata(doc, &pod.metadata, true);
        if let Some(name) = &pod.metadata.name {
            let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
            if !self.pods_seen.insert((namespace, name.as_str())) {
                self.error(
                    doc,
                    "metadata.name",
                    format!("duplicate pod {name:?} in namespace {namespace:?}"),
                );
            }
        }
        self.pod_spec(doc, &pod.spec);
        self.fqdn_hostname(doc, pod);
    }

    fn metadata(&mut self, doc: Doc<'_>, meta: &ObjectMeta, generate_name_allowed: bool) {
        match (&meta.name, &meta.generate_name) {
            (Some(name), _) => self.syntax(doc, "metadata.name", name, names::dns1123_subdomain),
            (None, Some(_)) if generate_name_allowed => {}
            (None, _) => {
                let hint = if generate_name_allowed {
                    " (or generateName)"
                } else {
                    ""
                };
                self.error(doc, "metadata.name", format!("required value{hint}"));
            }
        }
        if let Some(prefix) = &meta.generate_name {
            // The generated suffix is alphanumeric: the prefix may end in '-'.
            let trimmed = prefix.trim_end_matches('-');
            if !trimmed.is_empty() {
                self.syntax(
                    doc,
                    "metadata.generateName",
                    trimmed,
                    names::dns1123_subdomain,
                );
            }
        }
        if let Some(namespace) = &meta.namespace {
            self.syntax(doc, "metadata.namespace", namespace, names::dns1123_label);
        }
        for (key, value) in &meta.labels {
            let path = crate::check::map_key_path("metadata.labels", key);
            self.syntax(doc, &path, key, names::qualified_name);
            self.syntax(doc, &path, value, names::label_value);
        }
        for key in meta.annotations.keys() {
            let path = crate::check::map_key_path("metadata.annotations", key);
            self.syntax(doc, &path, key, names::qualified_name);
        }
        let annotation_bytes: usize = meta
            .annotations
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum();
        if annotation_bytes > MAX_ANNOTATION_BYTES {
            // The API server's wording, with the size found.
            let message = format!(
                "Too long: must have at most {MAX_ANNOTATION_BYTES} bytes (keys and values add up to {annotation_bytes})"
            );
            self.error(doc, "metadata.annotations", message);
        }
    }

    fn pod_spec(&mut self, doc: Doc<'_>, spec: &PodSpec) {
        self.volumes(doc, spec);
        self.containers(doc, spec);
        self.pod_resources(doc, spec);
        self.security(doc, spec);
        if let Some(seconds) = spec.termination_grace_period_seconds.filter(|s| *s < 0) {
            self.error(
                doc,
                "spec.terminationGracePeriodSeconds",
                format!("{seconds}: must be 0 or more"),
            );
        }
        if let Some(seconds) = spec.active_deadline_seconds.filter(|s| *s <= 0) {
            self.error(
                doc,
                "spec.activeDeadlineSeconds",
                format!("{seconds}: must be more than 0"),
            );
        }
        if let Some(hostname) = &spec.hostname {
            self.syntax(doc, "spec.hostname", hostname, names::dns1123_label);
        }
        if let Some(subdomain) = &spec.subdomain {
            self.syntax(doc, "spec.subdomain", subdomain, names::dns1123_label);
        }
        if spec.share_process_namespace == Some(true) && spec.host_pid == Some(true) {
            self.error(
                doc,
                "spec.shareProcessNamespace",
                "may not be true together with hostPID",
            );
        }
        if spec.host_users == Some(false) {
            // The API server's rule: a pod's own user namespace does not
            // go with the host's namespaces.
            for (field, on) in [
                ("spec.hostNetwork", spec.host_network),
                ("spec.hostPID", spec.host_pid),
                ("spec.hostIPC", spec.host_ipc),
            ] {
                if on == Some(true) {
                    self.error(doc, field, "Forbidden: when `hostUsers` is false");
                }
            }
        }
        self.host_aliases(doc, spec);
        self.dns(doc, spec);
        self.sysctls(doc, spec);
    }

    /// kubelet's check of `setHostnameAsFQDN`: the FQDN it would set as
    /// the hostname fits in 64 characters.
    fn fqdn_hostname(&mut self, doc: Doc<'_>, pod: &Pod) {
        let Some(fqdn) = pod.hostname_fqdn() else {
            return;
        };
        if fqdn.len() > 64 {
            let message = format!(
                "Failed to construct FQDN from pod hostname and cluster domain, FQDN {fqdn} is too long (64 characters is the max, {} characters requested)",
                fqdn.len()
            );
            self.error(doc, "spec.setHostnameAsFQDN", message);
        }
    }

    fn host_aliases(&mut self, doc: Doc<'_>, spec: &PodSpec) {
        for (i, alias) in spec.host_aliases.iter().enumerate() {
            if alias.ip.parse::<IpAddr>().is_err() {
                let message = format!("invalid value {:?}: expected an IP address", alias.ip);
                self.error(doc, format_args!("spec.hostAliases[{i}].ip"), message);
            }
            for (j, hostname) in alias.hostnames.iter().enumerate() {
                let path = format!("spec.hostAliases[{i}].hostnames[{j}]");
                self.syntax(doc, &path, hostname, names::dns1123_subdomain);
            }
        }
    }

    fn dns(&mut self, doc: Doc<'_>, spec: &PodSpec) {
        let config = spec.dns_config.as_ref();
        let nameservers = config.map_or(0, |c| c.nameservers.len());
        if spec.dns_policy == DNSPolicy::None && nameservers == 0 {
            let message = "None needs at least one nameserver in dnsConfig.nameservers";
            self.error(doc, "spec.dnsPolicy", message);
        }
        let Some(config) = config else { return };
        if nameservers > 3 {
            self.error(
                doc,
                "spec.dnsConfig.nameservers",
                format!("{nameservers} nameservers: at most 3"),
            );
        }
        for (i, server) in config.nameservers.iter().enumerate() {
            if server.parse::<IpAddr>().is_err() {
                let message = format!("invalid value {server:?}: expected an IP address");
                self.error(
                    doc,
                    format_args!("spec.dnsConfig.nameservers[{i}]"),
                    message,
                );
            }
        }
        if config.searches.len() > 32 {
            self.error(doc, "spec.dnsConfig.searches", "at most 32 search domains");
        }
        for (i, search) in config.searches.iter().enumerate() {
            let path = format!("spec.dnsConfig.searches[{i}]");
            self.syntax(
                doc,
                &path,
                search.trim_end_matches('.'),
                names::dns1123_subdomain,
            );
        }
    }
}
