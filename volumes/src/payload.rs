//! The files of configMap, secret, downwardAPI and projected volumes:
//! which relative path gets which bytes and mode, as kubelet computes them
//! (`pkg/volume/configmap`, `secret`, `downwardapi`, `projected`).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use peapod_spec::{ConfigMap, KeyToPath, Pod, Secret, VolumeSource};

use crate::downward_api;

/// Mode of a projected file when neither `defaultMode` nor `mode` is set.
pub(crate) const DEFAULT_MODE: u32 = 0o644;

/// One file of a volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileData {
    pub data: Vec<u8>,
    pub mode: u32,
}

/// Relative path → file; the whole content of a volume.
pub(crate) type Payload = BTreeMap<PathBuf, FileData>;

/// Why a payload cannot be built; the caller adds the volume name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid(pub String);

/// What the configMap, secret and downwardAPI volumes of a pod read
/// besides the pod: `Default` is no objects and the host's own capacity.
#[derive(Debug, Clone, Copy, Default)]
pub struct VolumeInputs<'a> {
    /// The ConfigMaps pods may read (documents of the same file or of a
    /// `--config-dir`), looked up by name in the pod's namespace.
    pub config_maps: &'a [ConfigMap],
    /// The Secrets pods may read, likewise.
    pub secrets: &'a [Secret],
    /// What unset resource limits resolve to in downwardAPI files;
    /// `None` reads the host (CPUs, `MemTotal`) when a file needs it.
    pub node: Option<NodeAllocatable>,
}

/// The node's allocatable resources, for downwardAPI limits that a
/// container leaves unset (kubelet resolves those to the node's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeAllocatable {
    /// CPU in millicores.
    pub cpu_millis: i128,
    /// Memory in bytes.
    pub memory_bytes: i128,
}

impl NodeAllocatable {
    /// This host: the CPUs this process may use and `MemTotal`.
    pub fn host() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let memory_kib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i128>().ok())
            })
            .unwrap_or(0);
        Self {
            cpu_millis: i128::try_from(cpus).unwrap_or(1) * 1000,
            memory_bytes: memory_kib * 1024,
        }
    }
}

/// Which object kind a key source is, for messages.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    ConfigMap,
    Secret,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::ConfigMap => "configMap",
            Self::Secret => "secret",
        }
    }
}

impl VolumeInputs<'_> {
    /// The entries of the named ConfigMap or Secret in `namespace`
    /// (objects without a namespace match any), or `None` when absent.
    pub(crate) fn entries(
        &self,
        kind: Kind,
        name: &str,
        namespace: &str,
    ) -> Result<Option<BTreeMap<String, Vec<u8>>>, Invalid> {
        let matches = |meta: &peapod_spec::ObjectMeta| {
            meta.name.as_deref() == Some(name)
                && meta.namespace.as_deref().is_none_or(|ns| ns == namespace)
        };
        let entries = match kind {
            Kind::ConfigMap => self
                .config_maps
                .iter()
                .find(|c| matches(&c.metadata))
                .map(ConfigMap::entries),
            Kind::Secret => self
                .secrets
                .iter()
                .find(|s| matches(&s.metadata))
                .map(Secret::entries),
        };
        match entries {
            None => Ok(None),
            Some(Some(e)) => Ok(Some(e)),
            Some(None) => Err(Invalid(format!(
                "{} {name:?} holds data that is not base64",
                kind.name()
            ))),
        }
    }
}

/// A file mode from the manifest (`defaultMode`, `items[].mode`): 0–0777.
pub(crate) fn mode(value: Option<i32>, default: u32) -> Result<u32, Invalid> {
    match value {
        None => Ok(default),
        Some(m) => u32::try_from(m)
            .ok()
            .filter(|m| *m <= 0o777)
            .ok_or_else(|| Invalid(format!("mode {m:#o} is not between 0 and 0777"))),
    }
}

/// A relative path inside the volume, as kubelet's `validatePath`: not
/// absolute, no `..` component, not starting with `..` (kubelet's own
/// `..data` entries), not empty.
pub(crate) fn rel_path(path: &str) -> Result<PathBuf, Invalid> {
    let p = Path::new(path);
    let bad = |why: &str| Invalid(format!("path {path:?} {why}"));
    if path.is_empty() {
        return Err(bad("is empty"));
    }
    if p.is_absolute() {
        return Err(bad("must be relative"));
    }
    if p.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(bad("must not contain '..'"));
    }
    if path.starts_with("..") {
        return Err(bad("must not start with '..'"));
    }
    Ok(p.to_path_buf())
}

/// Keys of a named ConfigMap or Secret that a volume projects.
struct KeySource<'s> {
    kind: Kind,
    name: &'s str,
    items: &'s [KeyToPath],
    optional: bool,
}

impl<'s> KeySource<'s> {
    fn new(kind: Kind, name: &'s str, items: &'s [KeyToPath], optional: Option<bool>) -> Self {
        Self {
            kind,
            name,
            items,
            optional: optional.unwrap_or(false),
        }
    }

    /// Looks the object up in `inputs` and adds its keys to `payload`
    /// with the volume's `defaultMode`.
    fn add(
        &self,
        payload: &mut Payload,
        inputs: &VolumeInputs,
        namespace: &str,
        default_mode: Option<i32>,
    ) -> Result<(), Invalid> {
        add_keys(
            payload,
            inputs.entries(self.kind, self.name, namespace)?,
            (self.kind, self.name),
            self.items,
            self.optional,
            mode(default_mode, DEFAULT_MODE)?,
        )
    }
}

/// Adds the keys of a ConfigMap or Secret to `payload`: all keys as file
/// names, or only `items`. A missing object or key is an error unless
/// `optional`, where it adds nothing.
pub(crate) fn add_keys(
    payload: &mut Payload,
    entries: Option<BTreeMap<String, Vec<u8>>>,
    what: (Kind, &str),
    items: &[KeyToPath],
    optional: bool,
    default_mode: u32,
) -> Result<(), Invalid> {
    let (kind, name) = what;
    let Some(entries) = entries else {
        return if optional {
            Ok(())
        } else {
            Err(Invalid(format!("{} {name:?} not found", kind.name())))
        };
    };
    if items.is_empty() {
        for (key, data) in entries {
            let path = rel_path(&key)?;
            payload.insert(
                path,
                FileData {
                    data,
                    mode: default_mode,
                },
            );
        }
        return Ok(());
    }
    for item in items {
        let Some(data) = entries.get(&item.key) else {
            if optional {
                continue;
            }
            return Err(Invalid(format!(
                "{} {name:?} has no key {:?}",
                kind.name(),
                item.key
            )));
        };
        insert(payload, &item.path, data.clone(), item.mode, default_mode)?;
    }
    Ok(())
}

/// Adds one file at the manifest's `path` with its `mode`, or the default.
pub(crate) fn insert(
    payload: &mut Payload,
    path: &str,
    data: Vec<u8>,
    item_mode: Option<i32>,
    default_mode: u32,
) -> Result<(), Invalid> {
    let mode = mode(item_mode, default_mode)?;
    payload.insert(rel_path(path)?, FileData { data, mode });
    Ok(())
}

/// The files of a configMap, secret, downwardAPI or projected volume;
/// `None` for sources without files (emptyDir, hostPath).
pub(crate) fn build(
    source: &VolumeSource,
    pod: &Pod,
    inputs: &VolumeInputs,
) -> Result<Option<Payload>, Invalid> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let mut payload = Payload::new();
    match source {
        VolumeSource::EmptyDir(_) | VolumeSource::HostPath(_) => return Ok(None),
        VolumeSource::ConfigMap(s) => {
            let keys = KeySource::new(Kind::ConfigMap, &s.name, &s.items, s.optional);
            keys.add(&mut payload, inputs, namespace, s.default_mode)?;
        }
        VolumeSource::Secret(s) => {
            let keys = KeySource::new(Kind::Secret, &s.secret_name, &s.items, s.optional);
            keys.add(&mut payload, inputs, namespace, s.default_mode)?;
        }
        VolumeSource::DownwardAPI(s) => downward_api::add_items(
            &mut payload,
            pod,
            &s.items,
            mode(s.default_mode, DEFAULT_MODE)?,
            inputs.node,
        )?,
        VolumeSource::Projected(s) => {
            let default_mode = mode(s.default_mode, DEFAULT_MODE)?;
            for projection in &s.sources {
                let config_map = projection
                    .config_map
                    .as_ref()
                    .map(|c| KeySource::new(Kind::ConfigMap, &c.name, &c.items, c.optional));
                let secret = projection
                    .secret
                    .as_ref()
                    .map(|c| KeySource::new(Kind::Secret, &c.name, &c.items, c.optional));
                for keys in config_map.into_iter().chain(secret) {
                    keys.add(&mut payload, inputs, namespace, s.default_mode)?;
                }
                if let Some(token) = &projection.service_account_token {
                    let placeholder = peapod_spec::SERVICE_ACCOUNT_TOKEN_PLACEHOLDER;
                    let data = placeholder.as_bytes().to_vec();
                    insert(&mut payload, &token.path, data, None, default_mode)?;
                }
                if let Some(d) = &projection.downward_api {
                    downward_api::add_items(
                        &mut payload,
                        pod,
                        &d.items,
                        default_mode,
                        inputs.node,
                    )?;
                }
            }
        }
    }
    Ok(Some(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> BTreeMap<String, Vec<u8>> {
        BTreeMap::from([
            ("a.conf".to_owned(), b"A".to_vec()),
            ("b".to_owned(), b"B".to_vec()),
        ])
    }

    #[test]
    fn all_keys_become_files_with_the_default_mode() {
        let mut p = Payload::new();
        add_keys(
            &mut p,
            Some(entries()),
            (Kind::ConfigMap, "cm"),
            &[],
            false,
            0o600,
        )
        .expect("keys");
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[Path::new("a.conf")],
            FileData {
                data: b"A".to_vec(),
                mode: 0o600
            }
        );
    }

    #[test]
    fn items_pick_keys_to_paths_with_their_own_mode() {
        let items = [KeyToPath {
            key: "b".into(),
            path: "sub/b.txt".into(),
            mode: Some(0o400),
        }];
        let mut p = Payload::new();
        add_keys(
            &mut p,
            Some(entries()),
            (Kind::Secret, "s"),
            &items,
            false,
            0o644,
        )
        .expect("keys");
        assert_eq!(
            p.into_iter().collect::<Vec<_>>(),
            vec![(
                PathBuf::from("sub/b.txt"),
                FileData {
                    data: b"B".to_vec(),
                    mode: 0o400
                }
            )]
        );
    }

    #[test]
    fn missing_key_fails_unless_optional() {
        let items = [KeyToPath {
            key: "zz".into(),
            path: "zz".into(),
            mode: None,
        }];
        let mut p = Payload::new();
        let err = add_keys(
            &mut p,
            Some(entries()),
            (Kind::ConfigMap, "cm"),
            &items,
            false,
            0o644,
        )
        .expect_err("missing");
        assert_eq!(err.0, "configMap \"cm\" has no key \"zz\"");
        add_keys(
            &mut p,
            Some(entries()),
            (Kind::ConfigMap, "cm"),
            &items,
            true,
            0o644,
        )
        .expect("optional");
        assert!(p.is_empty());
    }

    #[test]
    fn missing_object_fails_unless_optional() {
        let mut p = Payload::new();
        let err =
            add_keys(&mut p, None, (Kind::Secret, "s"), &[], false, 0o644).expect_err("missing");
        assert_eq!(err.0, "secret \"s\" not found");
        add_keys(&mut p, None, (Kind::Secret, "s"), &[], true, 0o644).expect("optional");
    }

    #[test]
    fn item_paths_cannot_escape_or_shadow_the_data_link() {
        for bad in ["/etc/x", "../x", "a/../../x", "..data", ""] {
            assert!(rel_path(bad).is_err(), "{bad}");
        }
        assert_eq!(rel_path("a/b").expect("ok"), PathBuf::from("a/b"));
    }

    #[test]
    fn modes_above_0777_are_refused() {
        assert_eq!(mode(None, 0o644), Ok(0o644));
        assert_eq!(mode(Some(0o400), 0o644), Ok(0o400));
        assert!(mode(Some(0o1777), 0o644).is_err());
        assert!(mode(Some(-1), 0o644).is_err());
    }
}
