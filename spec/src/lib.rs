//! The Kubernetes core/v1 `Pod` model as peapod runs it on one host.
//!
//! Owns: the Pod types (a v1 subset, plus the `ConfigMap` and `Secret`
//! documents that pods in the same file use), YAML and JSON parsing of
//! multi-document files, Kubernetes' defaults, validation whose errors name
//! the file, line, column and field path, resource quantities, and the
//! field documentation behind `peapod explain`.
//!
//! Does not own: anything that touches the host. No syscalls, no I/O beyond
//! the bytes handed in.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod base64;
mod block_yaml;
mod check;
mod config_data;
mod container;
pub mod defaults;
mod diagnostics;
mod duration;
mod error;
mod events;
mod expansion;
mod explain;
mod handler;
mod list;
mod manifest;
mod node;
mod node_de;
mod output;
mod pod;
mod qos;
mod quantity;
mod schema;
mod security;
mod service_account;
mod signal;
mod status;
mod syntax;
mod validation;
mod volume;
mod workload;

pub use config_data::{ConfigMap, Secret};
pub use container::{
    Container, ContainerPort, ContainerRestartPolicy, EnvFromSource, EnvVar, EnvVarSource,
    KeySelector, MountPropagation, ObjectFieldSelector, ObjectRef, Protocol, PullPolicy,
    RecursiveReadOnlyMode, ResourceFieldSelector, ResourceKind, ResourceRequirements,
    TerminationMessagePolicy, VolumeMount, default_pull_policy,
};
pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use duration::parse_duration;
pub use error::Error;
pub use expansion::{Expansion, expand_references};
pub use explain::{explain, explain_recursive};
pub use handler::{
    ExecAction, GRPCAction, HTTPGetAction, HTTPHeader, IntOrString, Lifecycle, LifecycleHandler,
    Probe, SleepAction, TCPSocketAction, URIScheme,
};
/// The cluster domain pods' names are under (`<svc>.<ns>.svc.cluster.local`),
/// as a kubelet's default `--cluster-domain`.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

pub use manifest::{
    Context, MAX_MANIFEST_BYTES, Manifest, ValidationMode, parse_manifest, parse_manifest_with,
};
pub use node::Position;
pub use output::to_yaml;
pub use pod::{
    DNSPolicy, HostAlias, ObjectMeta, OwnerReference, Pod, PodDNSConfig, PodDNSConfigOption, PodOS,
    PodSpec, RestartPolicy,
};
pub use qos::QOSClass;
pub use quantity::Quantity;
pub use security::{
    Capabilities, PodSecurityContext, ProcMountType, SeccompProfile, SeccompProfileType,
    SecurityContext, SupplementalGroupsPolicy, Sysctl,
};
pub use signal::signal_number;
pub use status::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, PodCondition, PodIP, PodPhase, PodStatus,
};
pub use volume::{
    ConfigMapProjection, ConfigMapVolumeSource, DownwardAPIProjection, DownwardAPIVolumeFile,
    DownwardAPIVolumeSource, EmptyDirVolumeSource, HostPathType, HostPathVolumeSource, KeyToPath,
    ProjectedVolumeSource, SERVICE_ACCOUNT_TOKEN_PLACEHOLDER, SecretProjection, SecretVolumeSource,
    ServiceAccountTokenProjection, StorageMedium, Volume, VolumeProjection, VolumeSource,
};

pub use validation::names::dns1123_label;
pub use workload::{
    LabelSelector, LabelSelectorRequirement, PodTemplateSpec, Workload, WorkloadKind, WorkloadSpec,
};

/// For the `manifest_fast_path` fuzz target, not an API: whether the fast
/// block-style YAML reader, when it reads `source`, reads the very tree
/// (values and positions) the full parser reads; `None` when it leaves
/// `source` to the full parser.
#[doc(hidden)]
#[must_use]
pub fn fast_path_agrees(source: &str) -> Option<bool> {
    block_yaml::agrees_with_full_parser(source)
}
