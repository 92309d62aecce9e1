//! The JSON documents of OCI images and their Docker schema-2 twins:
//! descriptors, manifests, indexes (manifest lists) and the image config.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};

/// OCI image index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker manifest list media type.
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker schema-2 manifest media type.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// A pointer to content: its media type, digest and size.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// What the content is.
    #[serde(default)]
    pub media_type: String,
    /// Its SHA-256.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// The platform, in an index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Annotations (`org.opencontainers.image.ref.name`...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// The platform of an index entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Platform {
    /// `amd64`, `arm64`...
    pub architecture: String,
    /// `linux`...
    pub os: String,
    /// `v8`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// An image manifest (OCI or Docker schema 2): a config and layers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// 2.
    pub schema_version: u32,
    /// The manifest's media type, when it says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The image config blob.
    pub config: Descriptor,
    /// The layer blobs, bottom first.
    pub layers: Vec<Descriptor>,
}

/// An image index (OCI) or manifest list (Docker).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// 2.
    pub schema_version: u32,
    /// The index's media type, when it says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The manifests it points to.
    pub manifests: Vec<Descriptor>,
}

/// A manifest or an index: what a registry or a layout may hand back.
#[derive(Debug, Clone)]
pub enum ManifestOrIndex {
    /// An image manifest.
    Manifest(Manifest),
    /// An index of manifests.
    Index(Index),
}

impl ManifestOrIndex {
    /// Parses `bytes`, telling the two apart by media type (from the
    /// document, else from `content_type`) or by shape.
    pub fn parse(bytes: &[u8], content_type: Option<&str>, document: &str) -> Result<Self> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Probe {
            media_type: Option<String>,
            manifests: Option<serde_json::Value>,
            schema_version: Option<u32>,
        }
        let json = |source| Error::Json {
            document: document.to_string(),
            source,
        };
        let probe: Probe = serde_json::from_slice(bytes).map_err(json)?;
        if probe.schema_version == Some(1) {
            return Err(Error::archive(
                document,
                "Docker schema-1 manifests are not supported",
            ));
        }
        let media = probe.media_type.as_deref().or(content_type).unwrap_or("");
        let is_index = media == OCI_INDEX || media == DOCKER_LIST || probe.manifests.is_some();
        if is_index {
            serde_json::from_slice(bytes).map(Self::Index).map_err(json)
        } else {
            serde_json::from_slice(bytes)
                .map(Self::Manifest)
                .map_err(json)
        }
    }
}

impl Index {
    /// The entry for linux/amd64 (any variant), the platform peapod runs.
    pub fn linux_amd64(&self) -> Option<&Descriptor> {
        self.manifests.iter().find(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| p.os == "linux" && p.architecture == "amd64")
        })
    }
}

/// The image config document: platform, run defaults and layer diffIDs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConfigFile {
    /// When it was made (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `amd64`...
    #[serde(default)]
    pub architecture: String,
    /// `linux`.
    #[serde(default)]
    pub os: String,
    /// Run defaults.
    #[serde(default)]
    pub config: ImageConfig,
    /// The layers' uncompressed digests, bottom first.
    pub rootfs: RootFs,
    /// The build history, kept as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<serde_json::Value>,
}

/// `rootfs` of the config: the diffIDs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RootFs {
    /// `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// SHA-256 of each layer's uncompressed tar, bottom first.
    pub diff_ids: Vec<Digest>,
}

/// How a container of the image runs unless the pod says otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageConfig {
    /// The user (`name`, `uid`, `uid:gid`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `NAME=value` pairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    /// The entrypoint (Kubernetes' `command` replaces it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// The default arguments (Kubernetes' `args` replaces them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// The working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Ports the image listens on (`80/tcp`), keys of an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    /// The signal that stops it (`SIGTERM` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

impl ConfigFile {
    /// Parses a config blob.
    pub fn parse(bytes: &[u8], document: &str) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|source| Error::Json {
            document: document.to_string(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reads_docker_pascal_case_fields() {
        let json = br#"{"architecture":"amd64","os":"linux",
          "config":{"Env":["PATH=/bin"],"Cmd":["sh"],"WorkingDir":"/w","User":"1000",
                    "ExposedPorts":{"80/tcp":{}},"StopSignal":"SIGQUIT","Entrypoint":null},
          "rootfs":{"type":"layers","diff_ids":[]}}"#;
        let c = ConfigFile::parse(json, "config").unwrap();
        assert_eq!(c.config.cmd.as_deref(), Some(&["sh".to_string()][..]));
        assert_eq!(c.config.working_dir.as_deref(), Some("/w"));
        assert_eq!(c.config.stop_signal.as_deref(), Some("SIGQUIT"));
        assert!(c.config.exposed_ports.unwrap().contains_key("80/tcp"));
    }

    #[test]
    fn index_is_told_from_manifest_and_picks_linux_amd64() {
        let d = format!("sha256:{}", "a".repeat(64));
        let e = format!("sha256:{}", "b".repeat(64));
        let json = format!(
            r#"{{"schemaVersion":2,"manifests":[
            {{"mediaType":"{OCI_MANIFEST}","digest":"{d}","size":1,"platform":{{"architecture":"arm64","os":"linux"}}}},
            {{"mediaType":"{OCI_MANIFEST}","digest":"{e}","size":1,"platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#
        );
        let ManifestOrIndex::Index(i) = ManifestOrIndex::parse(json.as_bytes(), None, "x").unwrap()
        else {
            panic!("not an index")
        };
        assert_eq!(i.linux_amd64().unwrap().digest.to_string(), e);
    }
}
