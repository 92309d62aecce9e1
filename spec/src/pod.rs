//! The `Pod` document: metadata and the pod-level spec.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::container::Container;
use crate::security::PodSecurityContext;
use crate::status::PodStatus;
use crate::volume::Volume;

/// A Kubernetes `v1/Pod`: the unit peapod runs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pod {
    /// Always `v1`.
    #[serde(default = "api_version_v1")]
    pub api_version: String,
    /// Always `Pod`.
    #[serde(default = "kind_pod")]
    pub kind: String,
    /// Name, namespace, labels, annotations.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// What to run.
    #[serde(default)]
    pub spec: PodSpec,
    /// What is running: output only, ignored in manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PodStatus>,
}

pub(crate) fn api_version_v1() -> String {
    "v1".to_owned()
}

fn kind_pod() -> String {
    "Pod".to_owned()
}

impl Pod {
    /// The pod's service account: `spec.serviceAccountName`, else
    /// `default`, as the API server's admission sets it.
    pub fn service_account_name(&self) -> &str {
        self.spec
            .service_account_name
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or("default")
    }

    /// The pod's hostname as kubelet makes it: `spec.hostname`, else the
    /// name, cut to 63 bytes, without a trailing `-` or `.`.
    pub fn hostname(&self) -> String {
        let name = self
            .spec
            .hostname
            .as_deref()
            .or(self.metadata.name.as_deref())
            .unwrap_or_default();
        let mut end = name.len().min(63);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name[..end].trim_end_matches(['-', '.']).to_owned()
    }

    /// With `setHostnameAsFQDN` and a `subdomain`, the FQDN kubelet makes
    /// the pod's hostname: `<hostname>.<subdomain>.<namespace>.svc.<cluster
    /// domain>` (validation refuses one over 64 characters); `None`
    /// otherwise.
    pub fn hostname_fqdn(&self) -> Option<String> {
        if self.spec.set_hostname_as_fqdn != Some(true) {
            return None;
        }
        let subdomain = self.spec.subdomain.as_deref().filter(|s| !s.is_empty())?;
        let namespace = self.metadata.namespace.as_deref().unwrap_or("default");
        Some(format!(
            "{}.{subdomain}.{namespace}.svc.{}",
            self.hostname(),
            crate::CLUSTER_DOMAIN
        ))
    }
}

/// Metadata every object carries.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// The object's name (DNS-1123 subdomain); required unless `generateName` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Prefix of a generated name, used when `name` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_name: Option<String>,
    /// The namespace; `default` when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Unique id, set by peapod when the pod is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Identifying key/value pairs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Non-identifying key/value pairs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// When the object was created (RFC 3339), output only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    /// The workload that made this pod, set by its keeper (ignored in
    /// manifests).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owner_references: Vec<OwnerReference>,
}

/// The object that owns another (a workload owning its pods).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    /// The owner's API version (`apps/v1`).
    pub api_version: String,
    /// The owner's kind (`ReplicaSet`).
    pub kind: String,
    /// The owner's name.
    pub name: String,
    /// The owner's uid.
    pub uid: String,
    /// Whether the owner is the managing controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
    /// Whether the owner waits for this object's deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_owner_deletion: Option<bool>,
}

/// The pod's restart policy, for all its containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum RestartPolicy {
    /// Restart every container that exits (the default).
    #[default]
    Always,
    /// Restart containers that exit non-zero.
    OnFailure,
    /// Never restart.
    Never,
}

/// How the pod's `/etc/resolv.conf` is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum DNSPolicy {
    /// Cluster DNS first; with none configured, the host's (`Default`).
    #[default]
    ClusterFirst,
    /// `ClusterFirst`, for pods on the host network.
    ClusterFirstWithHostNet,
    /// The host's resolv.conf.
    Default,
    /// Only what `dnsConfig` says.
    None,
}

/// The pod-level specification.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    /// The app containers, started in order after the init containers.
    #[serde(default)]
    pub containers: Vec<Container>,
    /// Containers run to completion one by one before the app containers;
    /// those with `restartPolicy: Always` are sidecars.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<Container>,
    /// The pod's volumes, mounted by name into containers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    /// Restart policy of the pod's containers.
    #[serde(default)]
    pub restart_policy: RestartPolicy,
    /// Seconds between SIGTERM and SIGKILL on delete (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_grace_period_seconds: Option<i64>,
    /// Seconds the pod may run before it is failed with `DeadlineExceeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<i64>,
    /// Use the host's network namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_network: Option<bool>,
    /// Use the host's PID namespace.
    #[serde(default, rename = "hostPID", skip_serializing_if = "Option::is_none")]
    pub host_pid: Option<bool>,
    /// Use the host's IPC namespace.
    #[serde(default, rename = "hostIPC", skip_serializing_if = "Option::is_none")]
    pub host_ipc: Option<bool>,
    /// One PID namespace for all containers of the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_process_namespace: Option<bool>,
    /// The pod's hostname; the pod name when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Makes the FQDN `<hostname>.<subdomain>.<namespace>.svc.<domain>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdomain: Option<String>,
    /// Extra `/etc/hosts` entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_aliases: Vec<HostAlias>,
    /// How `/etc/resolv.conf` is made.
    #[serde(default)]
    pub dns_policy: DNSPolicy,
    /// Nameservers, searches and options merged into resolv.conf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_config: Option<PodDNSConfig>,
    /// Security settings for all containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<PodSecurityContext>,
    /// `false` runs the pod in a new user namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_users: Option<bool>,
    /// The OS the pod needs (`linux`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<PodOS>,
    /// Set the hostname to the pod's FQDN.
    #[serde(
        default,
        rename = "setHostnameAsFQDN",
        skip_serializing_if = "Option::is_none"
    )]
    pub set_hostname_as_fqdn: Option<bool>,
    /// Cluster-only: accepted, ignored on a single host; readable through the downward API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// Cluster-only: accepted, ignored on a single host; readable through the downward API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Pod-level cpu and memory: limits of the pod's cgroup, which all its
    /// containers share (Kubernetes' `PodLevelResources`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<crate::container::ResourceRequirements>,
}

/// An extra `/etc/hosts` line.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostAlias {
    /// The address.
    #[serde(default)]
    pub ip: String,
    /// The names for it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
}

/// DNS settings merged into the pod's resolv.conf.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodDNSConfig {
    /// Nameserver addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<String>,
    /// Search domains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub searches: Vec<String>,
    /// Resolver options (`ndots:2`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<PodDNSConfigOption>,
}

/// One resolver option.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodDNSConfigOption {
    /// Option name (`ndots`).
    #[serde(default)]
    pub name: String,
    /// Option value (`2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// The operating system a pod needs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodOS {
    /// `linux` (peapod runs nothing else).
    #[serde(default)]
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_is_the_pod_name_cut_to_63_bytes() {
        let mut pod = Pod::default();
        pod.metadata.name = Some("a".repeat(70));
        assert_eq!(pod.hostname().len(), 63);
        pod.spec.hostname = Some("web".into());
        assert_eq!(pod.hostname(), "web");
    }

    #[test]
    fn hostname_fqdn_needs_set_hostname_as_fqdn_and_a_subdomain() {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web".into());
        pod.spec.subdomain = Some("sub".into());
        assert_eq!(pod.hostname_fqdn(), None);
        pod.spec.set_hostname_as_fqdn = Some(true);
        assert_eq!(
            pod.hostname_fqdn().as_deref(),
            Some("web.sub.default.svc.cluster.local")
        );
        pod.spec.subdomain = Some(String::new());
        assert_eq!(pod.hostname_fqdn(), None);
    }
}
