//! What an API server gives every pod of a cluster and a single host
//! cannot: a service account's token Secret (`default-token-*`) and the
//! cluster's CA bundle (the `kube-root-ca.crt` ConfigMap of every
//! namespace). A pod dumped from a cluster (`kubectl get pod -o yaml`)
//! names them; when the file (or `--config-dir`) does not hold them,
//! placeholders stand in, each with a warning, so the pod runs.

use std::collections::BTreeMap;

use crate::config_data::{ConfigMap, Secret};
use crate::diagnostics::Report;
use crate::manifest::{Context, Manifest};
use crate::node::Node;
use crate::pod::{ObjectMeta, Pod};
use crate::volume::{SERVICE_ACCOUNT_TOKEN_PLACEHOLDER, VolumeSource};

/// The ConfigMap every namespace of a cluster holds (its key `ca.crt`).
pub(crate) const ROOT_CA_CONFIG_MAP: &str = "kube-root-ca.crt";

/// What the placeholder `ca.crt` holds: no cluster, no CA.
const CA_PLACEHOLDER: &str = "# peapod: no cluster certificate authority on this host\n";

/// The type of a service account's token Secret.
const TOKEN_SECRET_TYPE: &str = "kubernetes.io/service-account-token";

/// Adds the placeholders `manifest.pods` (read from `nodes`) need and
/// neither the file nor `context` holds, warning where each is named.
pub(crate) fn add_placeholders(
    manifest: &mut Manifest,
    nodes: &[&Node],
    context: Context<'_>,
    report: &mut Report,
) {
    let mut config_maps = Vec::new();
    let mut secrets = Vec::new();
    for (pod, node) in manifest.pods.iter().zip(nodes) {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        for (path, name) in root_ca_references(pod) {
            let known = manifest.config_maps.iter().chain(context.config_maps);
            if known
                .chain(&config_maps)
                .any(|c| is(&c.metadata, namespace, name))
            {
                continue;
            }
            report.warn(
                node.locate(&path),
                &path,
                format!(
                    "ConfigMap {ROOT_CA_CONFIG_MAP:?} is the cluster's CA bundle, which only an API server publishes: peapod gives a placeholder ca.crt"
                ),
            );
            config_maps.push(root_ca_placeholder(namespace));
        }
        for (path, name) in token_secret_references(pod) {
            let known = manifest.secrets.iter().chain(context.secrets);
            if known
                .chain(&secrets)
                .any(|s| is(&s.metadata, namespace, name))
            {
                continue;
            }
            report.warn(
                node.locate(&path),
                &path,
                format!(
                    "Secret {name:?} is service account {:?}'s token, which only an API server issues: peapod gives placeholder files (token, ca.crt, namespace)",
                    pod.service_account_name()
                ),
            );
            secrets.push(token_placeholder(namespace, name));
        }
    }
    manifest.config_maps.extend(config_maps);
    manifest.secrets.extend(secrets);
}

fn is(meta: &ObjectMeta, namespace: &str, name: &str) -> bool {
    meta.name.as_deref() == Some(name)
        && meta.namespace.as_deref().unwrap_or("default") == namespace
}

/// Where `pod` names [`ROOT_CA_CONFIG_MAP`] in a volume, with the name.
fn root_ca_references(pod: &Pod) -> Vec<(String, &str)> {
    let mut found = Vec::new();
    for (i, volume) in pod.spec.volumes.iter().enumerate() {
        match &volume.source {
            VolumeSource::ConfigMap(c) if c.name == ROOT_CA_CONFIG_MAP => {
                found.push((format!("spec.volumes[{i}].configMap.name"), c.name.as_str()));
            }
            VolumeSource::Projected(p) => {
                for (j, source) in p.sources.iter().enumerate() {
                    if let Some(c) = source
                        .config_map
                        .as_ref()
                        .filter(|c| c.name == ROOT_CA_CONFIG_MAP)
                    {
                        let path =
                            format!("spec.volumes[{i}].projected.sources[{j}].configMap.name");
                        found.push((path, c.name.as_str()));
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// Where `pod` names its service account's token Secret
/// (`<account>-token-<suffix>`, as the token controller named them before
/// Kubernetes 1.24) in a secret volume, with the name.
fn token_secret_references(pod: &Pod) -> Vec<(String, &str)> {
    let prefix = format!("{}-token-", pod.service_account_name());
    pod.spec
        .volumes
        .iter()
        .enumerate()
        .filter_map(|(i, volume)| match &volume.source {
            VolumeSource::Secret(s)
                if s.secret_name.strip_prefix(&prefix).is_some_and(|rest| {
                    !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric())
                }) =>
            {
                Some((
                    format!("spec.volumes[{i}].secret.secretName"),
                    s.secret_name.as_str(),
                ))
            }
            _ => None,
        })
        .collect()
}

fn meta(namespace: &str, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(namespace.to_owned()),
        ..ObjectMeta::default()
    }
}

fn root_ca_placeholder(namespace: &str) -> ConfigMap {
    ConfigMap {
        api_version: "v1".to_owned(),
        kind: "ConfigMap".to_owned(),
        metadata: meta(namespace, ROOT_CA_CONFIG_MAP),
        data: BTreeMap::from([("ca.crt".to_owned(), CA_PLACEHOLDER.to_owned())]),
        ..ConfigMap::default()
    }
}

fn token_placeholder(namespace: &str, name: &str) -> Secret {
    Secret {
        api_version: "v1".to_owned(),
        kind: "Secret".to_owned(),
        metadata: meta(namespace, name),
        string_data: BTreeMap::from([
            ("ca.crt".to_owned(), CA_PLACEHOLDER.to_owned()),
            ("namespace".to_owned(), namespace.to_owned()),
            (
                "token".to_owned(),
                SERVICE_ACCOUNT_TOKEN_PLACEHOLDER.to_owned(),
            ),
        ]),
        type_: Some(TOKEN_SECRET_TYPE.to_owned()),
        ..Secret::default()
    }
}
