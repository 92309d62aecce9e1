//! A container of a pod: image, command, environment, ports, resources,
//! mounts, hooks and probes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::handler::{Lifecycle, Probe};
use crate::quantity::Quantity;
use crate::security::SecurityContext;

/// One container (app, init, or sidecar).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// Unique name in the pod (DNS-1123 label).
    #[serde(default)]
    pub name: String,
    /// Image reference.
    #[serde(default)]
    pub image: String,
    /// When to pull the image; defaulted by Kubernetes' rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<PullPolicy>,
    /// Replaces the image's ENTRYPOINT (and drops its CMD).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Replaces the image's CMD.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Working directory; the image's when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Environment variables, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    /// Whole ConfigMaps or Secrets as environment, before `env`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFromSource>,
    /// Ports the container listens on; `hostPort` publishes one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    /// CPU and memory requests and limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Volumes mounted into the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    /// postStart and preStop hooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    /// Restart the container when it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    /// Mark the container ready when it passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    /// Hold the other probes until it passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Probe>,
    /// Users, capabilities, privileges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<SecurityContext>,
    /// Init containers only: `Always` makes a sidecar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<ContainerRestartPolicy>,
    /// Keep stdin open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin: Option<bool>,
    /// Close stdin after the first attach ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin_once: Option<bool>,
    /// Allocate a terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tty: Option<bool>,
    /// Where the container may write its termination message.
    #[serde(default = "termination_log", skip_serializing_if = "String::is_empty")]
    pub termination_message_path: String,
    /// Where the termination message comes from.
    #[serde(default)]
    pub termination_message_policy: TerminationMessagePolicy,
}

fn termination_log() -> String {
    "/dev/termination-log".to_owned()
}

impl Container {
    /// Whether this (init) container is a sidecar: `restartPolicy: Always`.
    pub fn is_sidecar(&self) -> bool {
        self.restart_policy == Some(ContainerRestartPolicy::Always)
    }

    /// The pull policy in effect: the one given, else Kubernetes' default
    /// for the image (see [`default_pull_policy`]).
    pub fn pull_policy(&self) -> PullPolicy {
        self.image_pull_policy
            .unwrap_or_else(|| default_pull_policy(&self.image))
    }

    /// The requests and limits, empty when none are given.
    pub fn resource_list(&self, which: ResourceKind) -> Option<&BTreeMap<String, Quantity>> {
        let resources = self.resources.as_ref()?;
        let list = match which {
            ResourceKind::Requests => &resources.requests,
            ResourceKind::Limits => &resources.limits,
        };
        (!list.is_empty()).then_some(list)
    }
}

/// Requests or limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// `resources.requests`.
    Requests,
    /// `resources.limits`.
    Limits,
}

/// Kubernetes' default pull policy for an image: `Always` when the tag is
/// `latest` or absent and there is no digest, else `IfNotPresent`.
pub fn default_pull_policy(image: &str) -> PullPolicy {
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    // The tag follows the last ':' after the last '/' (a registry port is
    // before a '/').
    let last_part = name.rsplit('/').next().unwrap_or(name);
    let tag = last_part.rsplit_once(':').map(|(_, tag)| tag);
    match (tag, digest) {
        (Some("latest"), _) | (None, None) => PullPolicy::Always,
        _ => PullPolicy::IfNotPresent,
    }
}

/// When the image is pulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PullPolicy {
    /// Every time the container starts.
    Always,
    /// Only when the image is not in the local store.
    IfNotPresent,
    /// Never; a missing image is an error.
    Never,
}

/// The restart policy of one init container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ContainerRestartPolicy {
    /// Makes the init container a sidecar.
    Always,
}

/// Where a container's termination message comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum TerminationMessagePolicy {
    /// The file at `terminationMessagePath`.
    #[default]
    File,
    /// That file, or the log's tail when it is empty and the container failed.
    FallbackToLogsOnError,
}

/// One environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    /// Variable name.
    #[serde(default)]
    pub name: String,
    /// Literal value; `$(VAR)` expands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Value taken from the pod, a resource, a ConfigMap or a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<EnvVarSource>,
}

/// Where an environment variable's value comes from (exactly one).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVarSource {
    /// A pod field (`metadata.name`, `status.podIP`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_ref: Option<ObjectFieldSelector>,
    /// A container's resource (`limits.cpu`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_field_ref: Option<ResourceFieldSelector>,
    /// A key of a ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeySelector>,
    /// A key of a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeySelector>,
}

/// A field of the pod, for the downward API.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectFieldSelector {
    /// Schema version of `fieldPath` (`v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// The field (`metadata.labels['app']`).
    #[serde(default)]
    pub field_path: String,
}

/// A container resource, for the downward API.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceFieldSelector {
    /// The container; this one when not given (required in volumes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// `limits.cpu`, `requests.memory`, ...
    #[serde(default)]
    pub resource: String,
    /// Unit the value is divided by (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub divisor: Option<Quantity>,
}

/// A key of a ConfigMap or Secret (`configMapKeyRef`, `secretKeyRef`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeySelector {
    /// The ConfigMap or Secret.
    #[serde(default)]
    pub name: String,
    /// The key in it.
    #[serde(default)]
    pub key: String,
    /// A missing object or key is no error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// A whole ConfigMap or Secret as environment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvFromSource {
    /// Prepended to every key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<ObjectRef>,
    /// The Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<ObjectRef>,
}

/// A ConfigMap or Secret by name (`configMapRef`, `secretRef`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// A missing object is no error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// A port the container listens on.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    /// Unique name in the pod (IANA service name), optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The port in the pod (1-65535).
    #[serde(default)]
    pub container_port: i32,
    /// The port on the host that forwards to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_port: Option<i32>,
    /// The host address to bind; all when not given.
    #[serde(default, rename = "hostIP", skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    /// TCP (default), UDP or SCTP.
    #[serde(default)]
    pub protocol: Protocol,
}

/// A port's protocol.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub enum Protocol {
    /// TCP (the default).
    #[default]
    #[serde(rename = "TCP")]
    Tcp,
    /// UDP.
    #[serde(rename = "UDP")]
    Udp,
    /// SCTP.
    #[serde(rename = "SCTP")]
    Sctp,
}

/// Requests and limits, resource name (`cpu`, `memory`,
/// `ephemeral-storage`, `hugepages-2Mi`) to quantity.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRequirements {
    /// The most the container may use.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, Quantity>,
    /// What the container is guaranteed; defaults to `limits`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, Quantity>,
}

/// A volume mounted into a container.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    /// The pod volume.
    #[serde(default)]
    pub name: String,
    /// Where in the container.
    #[serde(default)]
    pub mount_path: String,
    /// A path inside the volume to mount instead of its root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
    /// Like `subPath`, with `$(VAR)` expanded from the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_path_expr: Option<String>,
    /// Mount read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// How mounts propagate between host and container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_propagation: Option<MountPropagation>,
    /// Whether a read-only mount is read-only all the way down (the
    /// mounts below it too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recursive_read_only: Option<RecursiveReadOnlyMode>,
}

/// `recursiveReadOnly` of a volume mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RecursiveReadOnlyMode {
    /// Only the mount itself is read-only (the default).
    Disabled,
    /// Recursively read-only where the kernel can (it can on 5.12+).
    IfPossible,
    /// Recursively read-only, or the container does not start.
    Enabled,
}

/// Mount propagation of a volume mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MountPropagation {
    /// Private (the default).
    None,
    /// rslave: host mounts appear in the container.
    HostToContainer,
    /// rshared: both ways (privileged containers only).
    Bidirectional,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_defaults_to_always_for_latest_or_untagged() {
        assert_eq!(default_pull_policy("busybox"), PullPolicy::Always);
        assert_eq!(default_pull_policy("nginx:latest"), PullPolicy::Always);
        assert_eq!(
            default_pull_policy("localhost:5000/app"),
            PullPolicy::Always
        );
    }

    #[test]
    fn pull_policy_defaults_to_if_not_present_for_tag_or_digest() {
        assert_eq!(
            default_pull_policy("busybox:1.30.1"),
            PullPolicy::IfNotPresent
        );
        assert_eq!(
            default_pull_policy("localhost:5000/app:v2"),
            PullPolicy::IfNotPresent
        );
        assert_eq!(
            default_pull_policy("busybox@sha256:abcd"),
            PullPolicy::IfNotPresent
        );
        // Kubernetes looks at the tag first: `latest` wins over a digest.
        assert_eq!(
            default_pull_policy("busybox:latest@sha256:abcd"),
            PullPolicy::Always
        );
    }
}
