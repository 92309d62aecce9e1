//! Volume and its sources.

use super::Kind::{Any, Bool, Enum, Int32, Int64, List, Object, Quantity, String};
use super::Support::Unsupported;
use super::container::{OBJECT_FIELD_SELECTOR, RESOURCE_FIELD_SELECTOR};
use super::{TypeDef, opt, req, with};

const UNSUPPORTED: &str =
    "A cluster storage volume; not supported on a single host (use hostPath or emptyDir).";

/// `Volume`.
pub(crate) static VOLUME: TypeDef = TypeDef {
    name: "Volume",
    doc: "Volume represents a named volume in a pod that may be accessed by any container in the pod. Exactly one source: emptyDir, hostPath, configMap, secret, downwardAPI or projected.",
    fields: &[
        req(
            "name",
            String,
            "Name of the volume, unique in the pod; a DNS-1123 label.",
        ),
        opt(
            "emptyDir",
            Object(&EMPTY_DIR),
            "A temporary directory that shares a pod's lifetime.",
        ),
        opt(
            "hostPath",
            Object(&HOST_PATH),
            "A file or directory of the host, exposed to the pod.",
        ),
        opt(
            "configMap",
            Object(&CONFIG_MAP_VOLUME),
            "The keys of a ConfigMap as files.",
        ),
        opt(
            "secret",
            Object(&SECRET_VOLUME),
            "The keys of a Secret as files.",
        ),
        opt(
            "downwardAPI",
            Object(&DOWNWARD_API_VOLUME),
            "Pod fields and container resources as files.",
        ),
        opt(
            "projected",
            Object(&PROJECTED_VOLUME),
            "Items of several sources in one directory.",
        ),
        with("persistentVolumeClaim", Any, Unsupported, UNSUPPORTED),
        with("nfs", Any, Unsupported, UNSUPPORTED),
        with("csi", Any, Unsupported, UNSUPPORTED),
        with("ephemeral", Any, Unsupported, UNSUPPORTED),
        with(
            "image",
            Any,
            Unsupported,
            "Image volumes; not supported yet.",
        ),
        with("iscsi", Any, Unsupported, UNSUPPORTED),
        with("rbd", Any, Unsupported, UNSUPPORTED),
        with("cephfs", Any, Unsupported, UNSUPPORTED),
        with(
            "gitRepo",
            Any,
            Unsupported,
            "Deprecated by Kubernetes; clone in an init container instead.",
        ),
    ],
};

/// `EmptyDirVolumeSource`.
pub(crate) static EMPTY_DIR: TypeDef = TypeDef {
    name: "EmptyDirVolumeSource",
    doc: "Represents an empty directory for a pod.",
    fields: &[
        opt(
            "medium",
            Enum(&["", "Memory"]),
            "What type of storage medium should back this directory: \"\" (disk, default) or Memory (tmpfs).",
        ),
        opt(
            "sizeLimit",
            Quantity,
            "Total amount of local storage required for this volume. On disk, peapod measures the folder every 10 s as kubelet's eviction manager does and evicts the pod past it (phase Failed, reason Evicted); for Memory, the tmpfs size (writes past it fail).",
        ),
    ],
};

/// `HostPathVolumeSource`.
pub(crate) static HOST_PATH: TypeDef = TypeDef {
    name: "HostPathVolumeSource",
    doc: "Represents a host path mapped into a pod.",
    fields: &[
        req(
            "path",
            String,
            "Path of the directory on the host; a symlink is followed to its real path.",
        ),
        opt(
            "type",
            Enum(&[
                "",
                "DirectoryOrCreate",
                "Directory",
                "FileOrCreate",
                "File",
                "Socket",
                "CharDevice",
                "BlockDevice",
            ]),
            "Type for HostPath volume: \"\" (no check, default), DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice.",
        ),
    ],
};

/// `KeyToPath`.
pub(crate) static KEY_TO_PATH: TypeDef = TypeDef {
    name: "KeyToPath",
    doc: "Maps a string key to a path within a volume.",
    fields: &[
        req("key", String, "The key to project."),
        req(
            "path",
            String,
            "The relative path of the file to map the key to; no '..', not absolute.",
        ),
        opt(
            "mode",
            Int32,
            "Mode bits used to set permissions on this file: 0000 to 0777.",
        ),
    ],
};

/// `ConfigMapVolumeSource`.
pub(crate) static CONFIG_MAP_VOLUME: TypeDef = TypeDef {
    name: "ConfigMapVolumeSource",
    doc: "Adapts a ConfigMap into a volume.",
    fields: &[
        req(
            "name",
            String,
            "Name of the ConfigMap, in this file or supplied at run time.",
        ),
        opt(
            "items",
            List(&Object(&KEY_TO_PATH)),
            "Keys to project and their paths; every key when empty.",
        ),
        opt(
            "defaultMode",
            Int32,
            "Mode bits of the files: 0000 to 0777. Default 0644.",
        ),
        opt(
            "optional",
            Bool,
            "Specify whether the ConfigMap or its keys must be defined.",
        ),
    ],
};

/// `SecretVolumeSource`.
pub(crate) static SECRET_VOLUME: TypeDef = TypeDef {
    name: "SecretVolumeSource",
    doc: "Adapts a Secret into a volume.",
    fields: &[
        req(
            "secretName",
            String,
            "Name of the Secret, in this file or supplied at run time.",
        ),
        opt(
            "items",
            List(&Object(&KEY_TO_PATH)),
            "Keys to project and their paths; every key when empty.",
        ),
        opt(
            "defaultMode",
            Int32,
            "Mode bits of the files: 0000 to 0777. Default 0644.",
        ),
        opt(
            "optional",
            Bool,
            "Specify whether the Secret or its keys must be defined.",
        ),
    ],
};

/// `DownwardAPIVolumeSource`.
pub(crate) static DOWNWARD_API_VOLUME: TypeDef = TypeDef {
    name: "DownwardAPIVolumeSource",
    doc: "Represents a volume containing downward API info.",
    fields: &[
        opt(
            "items",
            List(&Object(&DOWNWARD_API_FILE)),
            "The files of the volume.",
        ),
        opt(
            "defaultMode",
            Int32,
            "Mode bits of the files: 0000 to 0777. Default 0644.",
        ),
    ],
};

/// `DownwardAPIVolumeFile`.
pub(crate) static DOWNWARD_API_FILE: TypeDef = TypeDef {
    name: "DownwardAPIVolumeFile",
    doc: "Represents information to create the file containing the pod field.",
    fields: &[
        req(
            "path",
            String,
            "Relative path of the file to be created; no '..'.",
        ),
        opt(
            "fieldRef",
            Object(&OBJECT_FIELD_SELECTOR),
            "A field of the pod: metadata.name, metadata.namespace, metadata.uid, metadata.labels, metadata.annotations.",
        ),
        opt(
            "resourceFieldRef",
            Object(&RESOURCE_FIELD_SELECTOR),
            "A resource of a container: limits.cpu, requests.memory, ...",
        ),
        opt("mode", Int32, "Mode bits of this file: 0000 to 0777."),
    ],
};

/// `ProjectedVolumeSource`.
pub(crate) static PROJECTED_VOLUME: TypeDef = TypeDef {
    name: "ProjectedVolumeSource",
    doc: "Represents a projected volume source.",
    fields: &[
        opt(
            "sources",
            List(&Object(&VOLUME_PROJECTION)),
            "List of volume projections.",
        ),
        opt(
            "defaultMode",
            Int32,
            "Mode bits of the files: 0000 to 0777. Default 0644.",
        ),
    ],
};

/// `VolumeProjection`.
pub(crate) static VOLUME_PROJECTION: TypeDef = TypeDef {
    name: "VolumeProjection",
    doc: "Projection that may be projected along with other supported volume types: exactly one field.",
    fields: &[
        opt(
            "configMap",
            Object(&CONFIG_MAP_PROJECTION),
            "ConfigMap keys to project.",
        ),
        opt(
            "secret",
            Object(&SECRET_PROJECTION),
            "Secret keys to project.",
        ),
        opt(
            "downwardAPI",
            Object(&DOWNWARD_API_PROJECTION),
            "Downward API files to project.",
        ),
        opt(
            "serviceAccountToken",
            Object(&SERVICE_ACCOUNT_TOKEN_PROJECTION),
            "A service account token. No API server issues one on a single host: peapod writes a placeholder token file, with a warning, so pods dumped from a cluster (kube-api-access-* volumes) run.",
        ),
        with(
            "clusterTrustBundle",
            Any,
            Unsupported,
            "Cluster trust bundles; no API server on a single host.",
        ),
    ],
};

/// `ConfigMapProjection`.
pub(crate) static CONFIG_MAP_PROJECTION: TypeDef = TypeDef {
    name: "ConfigMapProjection",
    doc: "Adapts a ConfigMap into a projected volume.",
    fields: &[
        req("name", String, "Name of the ConfigMap."),
        opt(
            "items",
            List(&Object(&KEY_TO_PATH)),
            "Keys to project; every key when empty.",
        ),
        opt(
            "optional",
            Bool,
            "Specify whether the ConfigMap or its keys must be defined.",
        ),
    ],
};

/// `SecretProjection`.
pub(crate) static SECRET_PROJECTION: TypeDef = TypeDef {
    name: "SecretProjection",
    doc: "Adapts a Secret into a projected volume.",
    fields: &[
        req("name", String, "Name of the Secret."),
        opt(
            "items",
            List(&Object(&KEY_TO_PATH)),
            "Keys to project; every key when empty.",
        ),
        opt(
            "optional",
            Bool,
            "Specify whether the Secret or its keys must be defined.",
        ),
    ],
};

/// `DownwardAPIProjection`.
pub(crate) static DOWNWARD_API_PROJECTION: TypeDef = TypeDef {
    name: "DownwardAPIProjection",
    doc: "Represents downward API info for projecting into a projected volume.",
    fields: &[opt(
        "items",
        List(&Object(&DOWNWARD_API_FILE)),
        "The files.",
    )],
};

/// `ServiceAccountTokenProjection`.
pub(crate) static SERVICE_ACCOUNT_TOKEN_PROJECTION: TypeDef = TypeDef {
    name: "ServiceAccountTokenProjection",
    doc: "A projected service account token. peapod has no API server to issue one: the file holds a placeholder.",
    fields: &[
        req(
            "path",
            String,
            "Path of the token file, relative to the mount point.",
        ),
        opt(
            "audience",
            String,
            "Intended audience of the token; kept, the placeholder has none.",
        ),
        opt(
            "expirationSeconds",
            Int64,
            "Requested validity of the token; kept, the placeholder never expires.",
        ),
    ],
};
