//! The ConfigMaps and Secrets a pod reads (documents of its manifest and of
//! `apply --config-dir`): handed from `apply` to the supervisor in
//! `config.json` (mode 0600) in the pod's state folder, which lives under
//! `/run` (tmpfs on a real host), then fed to the volumes and to the
//! containers' `env` (`configMapKeyRef`, `secretKeyRef`) and `envFrom`.
//! The downward API's env (`fieldRef`, `resourceFieldRef`) is resolved
//! here too, from the pod and its addresses. The same file carries the
//! `--pull` of `apply`, which overrides every container's
//! `imagePullPolicy` for that start.

use std::io::{self, Write};
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;

use peapod_spec::{ConfigMap, Container, EnvVar, Pod, PullPolicy, Secret};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::state::PodDir;

/// The file, in the pod's state folder.
const FILE: &str = "config.json";

/// The ConfigMaps and Secrets of a pod's namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodConfig {
    /// ConfigMaps.
    #[serde(default)]
    pub config_maps: Vec<ConfigMap>,
    /// Secrets.
    #[serde(default)]
    pub secrets: Vec<Secret>,
    /// `apply --pull`: the pull policy of every container of the pod,
    /// instead of its `imagePullPolicy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull: Option<PullPolicy>,
    /// What `fieldRef` and `resourceFieldRef` env values read, once the
    /// sandbox has its addresses.
    #[serde(skip)]
    pub fields: Option<PodFields>,
}

/// The pod and its addresses, for the downward API's env.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodFields {
    /// The pod (metadata, spec).
    pub pod: Pod,
    /// `status.podIPs`.
    pub pod_ips: Vec<IpAddr>,
    /// `status.hostIP`.
    pub host_ip: Option<IpAddr>,
}

impl PodFields {
    /// A `fieldRef` as kubelet's `podFieldSelectorRuntimeValue` gives it.
    fn value(&self, path: &str) -> std::result::Result<String, String> {
        let ips = |ips: &[IpAddr]| ips.iter().map(ToString::to_string).collect::<Vec<_>>();
        Ok(match path {
            "spec.nodeName" => self.pod.spec.node_name.clone().unwrap_or_else(|| {
                std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .map(|h| h.trim().to_owned())
                    .unwrap_or_default()
            }),
            "spec.serviceAccountName" => self.pod.service_account_name().to_owned(),
            "status.hostIP" => self.host_ip.map(|ip| ip.to_string()).unwrap_or_default(),
            "status.hostIPs" => ips(self.host_ip.as_slice()).join(","),
            "status.podIP" => ips(&self.pod_ips).into_iter().next().unwrap_or_default(),
            "status.podIPs" => ips(&self.pod_ips).join(","),
            _ => return peapod_volumes::metadata_field_value(&self.pod, path),
        })
    }
}

fn namespace_of(meta: &peapod_spec::ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("default")
}

impl PodConfig {
    /// Those of `config_maps` and `secrets` in `pod`'s namespace.
    pub fn for_pod(pod: &Pod, config_maps: &[ConfigMap], secrets: &[Secret]) -> Self {
        let ns = namespace_of(&pod.metadata);
        Self {
            config_maps: config_maps
                .iter()
                .filter(|c| namespace_of(&c.metadata) == ns)
                .cloned()
                .collect(),
            secrets: secrets
                .iter()
                .filter(|s| namespace_of(&s.metadata) == ns)
                .cloned()
                .collect(),
            pull: None,
            fields: None,
        }
    }

    /// This config, the pod's images pulled as `pull` says (`apply
    /// --pull`) rather than as each container's `imagePullPolicy` does.
    #[must_use]
    pub fn with_pull(self, pull: Option<PullPolicy>) -> Self {
        Self { pull, ..self }
    }

    /// This config, `fieldRef` env values reading `pod` and its addresses.
    pub(crate) fn with_fields(
        self,
        pod: &Pod,
        pod_ips: &[IpAddr],
        host_ip: Option<IpAddr>,
    ) -> Self {
        Self {
            fields: Some(PodFields {
                pod: pod.clone(),
                pod_ips: pod_ips.to_vec(),
                host_ip,
            }),
            ..self
        }
    }

    /// Writes `config.json` (0600) into `dir`; nothing when empty.
    pub(crate) fn write(&self, dir: &PodDir) -> Result<()> {
        if self.config_maps.is_empty() && self.secrets.is_empty() && self.pull.is_none() {
            return Ok(());
        }
        let path = dir.path().join(FILE);
        let bytes = serde_json::to_vec(self).map_err(|e| Error::json(FILE, e))?;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut f| f.write_all(&bytes))
            .map_err(|e| Error::io(&path, e))
    }

    /// Reads `config.json` of `dir`; empty when there is none.
    pub(crate) fn read(dir: &PodDir) -> Result<Self> {
        let path = dir.path().join(FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::json(FILE, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    fn config_map(&self, name: &str) -> Option<&ConfigMap> {
        self.config_maps
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(name))
    }

    fn secret(&self, name: &str) -> Option<&Secret> {
        self.secrets
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(name))
    }

    /// The keys of ConfigMap or Secret `name`, `None` when it is missing
    /// (or its data does not decode).
    fn entries(&self, secret: bool, name: &str) -> Option<Vec<(String, Vec<u8>)>> {
        let map = if secret {
            self.secret(name)?.entries()?
        } else {
            self.config_map(name)?.entries()?
        };
        Some(map.into_iter().collect())
    }

    /// `container` with its `envFrom` turned into plain `env` entries
    /// (before its own, as kubelet orders them) and its `configMapKeyRef`
    /// / `secretKeyRef` (and downward API) values filled in, so the environment is built as
    /// for literal values. A resolved value's `$` is escaped as `$$`: the
    /// kubelet expands `$(VAR)` in literal values only. `Err` carries
    /// kubelet's `CreateContainerConfigError` message.
    pub fn resolve_env(&self, container: &Container) -> std::result::Result<Container, String> {
        let literal = |name: &str, bytes: &[u8]| EnvVar {
            name: name.to_owned(),
            value: Some(String::from_utf8_lossy(bytes).replace('$', "$$")),
            value_from: None,
        };
        let mut env = Vec::new();
        for from in &container.env_from {
            let (secret, r) = match (&from.config_map_ref, &from.secret_ref) {
                (Some(r), _) => (false, r),
                (None, Some(r)) => (true, r),
                (None, None) => continue,
            };
            match self.entries(secret, &r.name) {
                Some(entries) => {
                    let prefix = from.prefix.as_deref().unwrap_or_default();
                    for (key, value) in entries {
                        env.push(literal(&format!("{prefix}{key}"), &value));
                    }
                }
                None if r.optional == Some(true) => {}
                None => return Err(missing(secret, &r.name)),
            }
        }
        for var in &container.env {
            if let Some(value) = self.downward(container, var)? {
                env.push(literal(&var.name, value.as_bytes()));
                continue;
            }
            let from = var.value_from.as_ref();
            let selector = from.and_then(|f| {
                f.config_map_key_ref
                    .as_ref()
                    .map(|k| (false, k))
                    .or_else(|| f.secret_key_ref.as_ref().map(|k| (true, k)))
            });
            let Some((secret, k)) = selector else {
                env.push(var.clone());
                continue;
            };
            let value = self
                .entries(secret, &k.name)
                .ok_or_else(|| missing(secret, &k.name))
                .and_then(|entries| {
                    entries
                        .into_iter()
                        .find(|(key, _)| *key == k.key)
                        .map(|(_, v)| v)
                        .ok_or_else(|| {
                            let kind = if secret { "secret" } else { "configmap" };
                            format!("couldn't find key {} in {kind} {}", k.key, k.name)
                        })
                });
            match value {
                Ok(v) => env.push(literal(&var.name, &v)),
                Err(_) if k.optional == Some(true) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Container {
            env,
            env_from: Vec::new(),
            ..container.clone()
        })
    }
}

impl PodConfig {
    /// The value of a `fieldRef` or `resourceFieldRef` env entry (its
    /// `containerName` defaults to `container`), `None` for other entries.
    fn downward(
        &self,
        container: &Container,
        var: &EnvVar,
    ) -> std::result::Result<Option<String>, String> {
        let Some(from) = &var.value_from else {
            return Ok(None);
        };
        let fields = || {
            self.fields
                .as_ref()
                .ok_or_else(|| format!("{}: the pod's fields are not known yet", var.name))
        };
        if let Some(f) = &from.field_ref {
            return fields()?.value(&f.field_path).map(Some);
        }
        if let Some(r) = &from.resource_field_ref {
            let mut r = r.clone();
            r.container_name
                .get_or_insert_with(|| container.name.clone());
            return peapod_volumes::resource_field_value(&fields()?.pod, &r, None).map(Some);
        }
        Ok(None)
    }
}

fn missing(secret: bool, name: &str) -> String {
    let kind = if secret { "secret" } else { "configmap" };
    format!("{kind} \"{name}\" not found")
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_spec::{EnvFromSource, EnvVarSource, KeySelector, ObjectRef};
    use std::collections::BTreeMap;

    fn config() -> PodConfig {
        let mut cm = ConfigMap::default();
        cm.metadata.name = Some("app".into());
        cm.data = BTreeMap::from([
            ("color".into(), "blue".into()),
            ("price".into(), "$(NOT)".into()),
        ]);
        let mut s = Secret::default();
        s.metadata.name = Some("creds".into());
        s.string_data = BTreeMap::from([("password".into(), "hunter2".into())]);
        PodConfig {
            config_maps: vec![cm],
            secrets: vec![s],
            pull: None,
            fields: None,
        }
    }

    fn key_ref(name: &str, key: &str, optional: Option<bool>) -> KeySelector {
        KeySelector {
            name: name.into(),
            key: key.into(),
            optional,
        }
    }

    #[test]
    fn env_from_comes_first_and_key_refs_are_filled_in() {
        let c = Container {
            name: "c".into(),
            env_from: vec![EnvFromSource {
                prefix: Some("CFG_".into()),
                config_map_ref: Some(ObjectRef {
                    name: "app".into(),
                    optional: None,
                }),
                secret_ref: None,
            }],
            env: vec![
                EnvVar {
                    name: "PASSWORD".into(),
                    value: None,
                    value_from: Some(EnvVarSource {
                        secret_key_ref: Some(key_ref("creds", "password", None)),
                        ..EnvVarSource::default()
                    }),
                },
                EnvVar {
                    name: "GONE".into(),
                    value: None,
                    value_from: Some(EnvVarSource {
                        config_map_key_ref: Some(key_ref("nope", "k", Some(true))),
                        ..EnvVarSource::default()
                    }),
                },
            ],
            ..Container::default()
        };
        let resolved = config().resolve_env(&c).expect("resolved");
        let pairs: Vec<_> = resolved
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_deref().unwrap_or_default()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("CFG_color", "blue"),
                ("CFG_price", "$$(NOT)"),
                ("PASSWORD", "hunter2")
            ]
        );
        let mut c = c;
        c.env[1].value_from = Some(EnvVarSource {
            config_map_key_ref: Some(key_ref("nope", "k", None)),
            ..EnvVarSource::default()
        });
        assert_eq!(
            config().resolve_env(&c).expect_err("missing"),
            "configmap \"nope\" not found"
        );
    }

    #[test]
    fn downward_env_reads_the_pod_its_addresses_and_its_limits() {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web".into());
        pod.metadata.labels = BTreeMap::from([("app".into(), "shop".into())]);
        let mut c = Container {
            name: "c".into(),
            resources: Some(peapod_spec::ResourceRequirements {
                limits: BTreeMap::from([(
                    "memory".into(),
                    peapod_spec::Quantity::parse("64Mi").expect("quantity"),
                )]),
                ..Default::default()
            }),
            ..Container::default()
        };
        pod.spec.containers.push(c.clone());
        let field = |name: &str, path: &str| EnvVar {
            name: name.into(),
            value: None,
            value_from: Some(EnvVarSource {
                field_ref: Some(peapod_spec::ObjectFieldSelector {
                    api_version: None,
                    field_path: path.into(),
                }),
                ..EnvVarSource::default()
            }),
        };
        c.env = vec![
            field("NAME", "metadata.name"),
            field("APP", "metadata.labels['app']"),
            field("IP", "status.podIP"),
            EnvVar {
                name: "MEM".into(),
                value: None,
                value_from: Some(EnvVarSource {
                    resource_field_ref: Some(peapod_spec::ResourceFieldSelector {
                        container_name: None,
                        resource: "limits.memory".into(),
                        divisor: Some(peapod_spec::Quantity::parse("1Mi").expect("quantity")),
                    }),
                    ..EnvVarSource::default()
                }),
            },
        ];
        let ip: IpAddr = "10.77.0.9".parse().expect("ip");
        let config = PodConfig::default().with_fields(&pod, &[ip], None);
        let resolved = config.resolve_env(&c).expect("resolved");
        let values: Vec<_> = resolved
            .env
            .iter()
            .map(|e| e.value.as_deref().unwrap_or_default())
            .collect();
        assert_eq!(values, ["web", "shop", "10.77.0.9", "64"]);
    }

    #[test]
    fn service_account_name_reads_default_when_unset_as_the_api_server_sets_it() {
        let mut pod = Pod::default();
        let fields = |pod: &Pod| PodFields {
            pod: pod.clone(),
            ..PodFields::default()
        };
        assert_eq!(
            fields(&pod).value("spec.serviceAccountName").as_deref(),
            Ok("default")
        );
        pod.spec.service_account_name = Some("builder".into());
        assert_eq!(
            fields(&pod).value("spec.serviceAccountName").as_deref(),
            Ok("builder")
        );
    }
}
