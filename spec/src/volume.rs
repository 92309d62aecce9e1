//! Pod volumes and their sources.

use serde::{Deserialize, Serialize};

use crate::container::{ObjectFieldSelector, ResourceFieldSelector};
use crate::quantity::Quantity;

/// A named volume of the pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    /// Unique name in the pod (DNS-1123 label), used by `volumeMounts`.
    #[serde(default)]
    pub name: String,
    /// Where the volume's content comes from.
    #[serde(flatten)]
    pub source: VolumeSource,
}

/// Where a volume's content comes from: the types a single host supports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum VolumeSource {
    /// A fresh directory (or tmpfs) that lives as long as the pod.
    EmptyDir(EmptyDirVolumeSource),
    /// A path of the host.
    HostPath(HostPathVolumeSource),
    /// The keys of a ConfigMap as files.
    ConfigMap(ConfigMapVolumeSource),
    /// The keys of a Secret as files.
    Secret(SecretVolumeSource),
    /// Pod fields and resources as files.
    #[serde(rename = "downwardAPI")]
    DownwardAPI(DownwardAPIVolumeSource),
    /// Several of the above in one directory.
    Projected(ProjectedVolumeSource),
}

/// `emptyDir`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmptyDirVolumeSource {
    /// `""` (disk) or `Memory` (tmpfs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<StorageMedium>,
    /// The most it may hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_limit: Option<Quantity>,
}

/// Backing of an emptyDir.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum StorageMedium {
    /// The disk under peapod's state directory.
    #[default]
    #[serde(rename = "")]
    Default,
    /// tmpfs, counted against the pod's memory.
    Memory,
}

/// `hostPath`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostPathVolumeSource {
    /// The host path.
    #[serde(default)]
    pub path: String,
    /// What must be (or be made) there.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<HostPathType>,
}

/// What a hostPath must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum HostPathType {
    /// No check.
    #[default]
    #[serde(rename = "")]
    Unset,
    /// A directory, made (0755) when missing.
    DirectoryOrCreate,
    /// An existing directory.
    Directory,
    /// A file, made empty (0644) when missing.
    FileOrCreate,
    /// An existing file.
    File,
    /// An existing UNIX socket.
    Socket,
    /// An existing character device.
    CharDevice,
    /// An existing block device.
    BlockDevice,
}

/// A key of a ConfigMap or Secret projected to a file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyToPath {
    /// The key.
    #[serde(default)]
    pub key: String,
    /// Relative file path in the volume.
    #[serde(default)]
    pub path: String,
    /// File mode (0-0777); `defaultMode` when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<i32>,
}

/// `configMap`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapVolumeSource {
    /// The ConfigMap.
    #[serde(default)]
    pub name: String,
    /// Keys to project; all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<KeyToPath>,
    /// Mode of the files (default 0644).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_mode: Option<i32>,
    /// A missing ConfigMap is no error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// `secret`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretVolumeSource {
    /// The Secret.
    #[serde(default)]
    pub secret_name: String,
    /// Keys to project; all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<KeyToPath>,
    /// Mode of the files (default 0644).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_mode: Option<i32>,
    /// A missing Secret is no error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// `downwardAPI`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DownwardAPIVolumeSource {
    /// The files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<DownwardAPIVolumeFile>,
    /// Mode of the files (default 0644).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_mode: Option<i32>,
}

/// One downward API file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DownwardAPIVolumeFile {
    /// Relative file path.
    #[serde(default)]
    pub path: String,
    /// A pod field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_ref: Option<ObjectFieldSelector>,
    /// A container resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_field_ref: Option<ResourceFieldSelector>,
    /// File mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<i32>,
}

/// `projected`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectedVolumeSource {
    /// The sources, merged in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<VolumeProjection>,
    /// Mode of the files (default 0644).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_mode: Option<i32>,
}

/// One source of a projected volume (exactly one field set).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeProjection {
    /// Keys of a ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMapProjection>,
    /// Keys of a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretProjection>,
    /// Pod fields and resources.
    #[serde(
        default,
        rename = "downwardAPI",
        skip_serializing_if = "Option::is_none"
    )]
    pub downward_api: Option<DownwardAPIProjection>,
    /// A service account token: a placeholder file on a single host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_token: Option<ServiceAccountTokenProjection>,
}

/// A service account token in a projected volume. No API server issues
/// one here: the file holds [`SERVICE_ACCOUNT_TOKEN_PLACEHOLDER`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountTokenProjection {
    /// The token file, relative to the mount point.
    #[serde(default)]
    pub path: String,
    /// The audience asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The validity asked for, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_seconds: Option<i64>,
}

/// What a service account token file holds on a single host: no API
/// server signs one, and a client that sends it is told so by whatever it
/// reaches.
pub const SERVICE_ACCOUNT_TOKEN_PLACEHOLDER: &str =
    "peapod-placeholder-token.no-api-server-on-this-host";

/// A ConfigMap in a projected volume.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapProjection {
    /// The ConfigMap.
    #[serde(default)]
    pub name: String,
    /// Keys to project; all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<KeyToPath>,
    /// A missing ConfigMap is no error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// A Secret in a projected volume.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretProjection {
    /// The Secret.
    #[serde(default)]
    pub name: String,
    /// Keys to project; all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<KeyToPath>,
    /// A missing Secret is no error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// Downward API files in a projected volume.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DownwardAPIProjection {
    /// The files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<DownwardAPIVolumeFile>,
}
