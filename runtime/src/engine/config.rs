//! What a caller asks of the engine: a sandbox's and a container's
//! configuration, shaped so that both a Pod manifest and the CRI's
//! `PodSandboxConfig` / `ContainerConfig` map onto them.
//!
//! Kubernetes types are reused where they say the same thing (the pod's
//! DNS config and security context, a container's resources and security
//! context), so the security computation of `security_context.rs` runs on
//! them unchanged. Inside the engine a sandbox becomes a [`Pod`] with no
//! containers and a container a [`Container`] with no volume mounts: the
//! code that makes pods makes them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use peapod_spec::{
    Container, ContainerPort, DNSPolicy, EnvVar, Pod, PodDNSConfig, PodSecurityContext, Protocol,
    ResourceRequirements, SecurityContext,
};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A sandbox to create: the pod's shared namespaces, cgroup, network and
/// files, with no container in it yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxConfig {
    /// The pod's name.
    pub name: String,
    /// Its namespace (`default` when empty).
    pub namespace: String,
    /// The caller's uid of the pod (kept, shown back; the engine's own
    /// resources are named by an id of their own, so two attempts of one
    /// pod never meet on the host).
    pub uid: String,
    /// The caller's attempt number: a pod's sandbox made again after the
    /// last one died is attempt 1, 2, ...
    pub attempt: u32,
    /// The UTS hostname (the pod's name when `None`).
    pub hostname: Option<String>,
    /// `resolv.conf`'s servers, searches and options; `None`: the host's.
    pub dns: Option<PodDNSConfig>,
    /// Host ports forwarded to the pod.
    pub port_mappings: Vec<PortMapping>,
    /// The cgroup the sandbox's own is made in, relative to the
    /// hierarchy's root (cgroupfs form, as `kubepods/burstable/pod<uid>`;
    /// it must exist). `None`: the root.
    pub cgroup_parent: Option<String>,
    /// The host's network namespace.
    pub host_network: bool,
    /// The host's PID namespace.
    pub host_pid: bool,
    /// The host's IPC namespace.
    pub host_ipc: bool,
    /// One PID namespace for every container (the pause is PID 1).
    pub share_pid: bool,
    /// The pod's security context (sysctls, user and group ids,
    /// seccomp, ...), as a Pod's `spec.securityContext`.
    pub security_context: Option<PodSecurityContext>,
    /// Labels, kept and shown back.
    pub labels: BTreeMap<String, String>,
    /// Annotations, kept and shown back.
    pub annotations: BTreeMap<String, String>,
    /// The folder of the containers' logs (the CRI's `log_directory`);
    /// `None`: peapod's own `<log>/<ns>_<name>_<id>`.
    pub log_directory: Option<PathBuf>,
}

/// A host port forwarded to a port of the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortMapping {
    /// `TCP` or `UDP` (`SCTP` is refused).
    pub protocol: Protocol,
    /// The port in the sandbox.
    pub container_port: u16,
    /// The port on the host.
    pub host_port: u16,
    /// The host address it listens on; `None`: every address.
    pub host_ip: Option<String>,
}

/// A container to create in a sandbox.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerConfig {
    /// Its name, unique in the sandbox per attempt.
    pub name: String,
    /// Its attempt: the caller's restart count.
    pub attempt: u32,
    /// The image, by reference or id (never pulled here: the caller pulls).
    pub image: String,
    /// ENTRYPOINT override; empty: the image's.
    pub command: Vec<String>,
    /// CMD override; empty: the image's.
    pub args: Vec<String>,
    /// Environment, literal (no `$(VAR)` expansion: the caller did it).
    pub env: Vec<(String, String)>,
    /// The working folder; `None`: the image's.
    pub working_dir: Option<String>,
    /// Host paths bound into the container.
    pub mounts: Vec<Mount>,
    /// Host devices given to the container.
    pub devices: Vec<Device>,
    /// Requests and limits, as a container's `resources`.
    pub resources: Option<ResourceRequirements>,
    /// The container's security context, as a container's
    /// `securityContext` (user, capabilities, seccomp, read-only root...).
    pub security_context: Option<SecurityContext>,
    /// Its log file, relative to the sandbox's log folder; `None`:
    /// `<name>/<attempt>.log`.
    pub log_path: Option<PathBuf>,
    /// Keep a stdin pipe open.
    pub stdin: bool,
    /// Give it a terminal.
    pub tty: bool,
    /// Its processes' OOM score adjustment (the kubelet's QoS score,
    /// -1000..=1000), never below the supervisor's own; `None`: inherited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i32>,
    /// Labels, kept and shown back.
    pub labels: BTreeMap<String, String>,
    /// Annotations, kept and shown back.
    pub annotations: BTreeMap<String, String>,
}

/// A host path bound into a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mount {
    /// The path on the host.
    pub host_path: PathBuf,
    /// The path in the container.
    pub container_path: PathBuf,
    /// Read-only.
    pub readonly: bool,
    /// Mount propagation; only [`Propagation::Private`] is supported yet,
    /// the others are refused.
    pub propagation: Propagation,
}

/// How mounts propagate between the host and a container's bind mount.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Propagation {
    /// None either way (the default).
    #[default]
    Private,
    /// Host to container.
    HostToContainer,
    /// Both ways.
    Bidirectional,
}

/// A host device given to a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// The device node on the host.
    pub host_path: PathBuf,
    /// Where it appears in the container.
    pub container_path: PathBuf,
    /// `r`, `w`, `m`, as the CRI's permissions.
    pub permissions: String,
}

impl SandboxConfig {
    /// The namespace, `default` when empty.
    pub fn namespace(&self) -> &str {
        if self.namespace.is_empty() {
            crate::launch::DEFAULT_NAMESPACE
        } else {
            &self.namespace
        }
    }

    /// The pod this sandbox is, with no container: what `pod.json` holds
    /// and `get` shows. Its `metadata.uid` is left for [`crate::launch`]
    /// to fill with the engine's own id.
    pub(crate) fn pod(&self) -> Result<Pod> {
        if self.name.is_empty() {
            return Err(Error::Config("sandbox: name is required".into()));
        }
        if let Some(parent) = &self.cgroup_parent {
            cgroup_parent(parent)?;
        }
        let mut pod = Pod {
            api_version: "v1".into(),
            kind: "Pod".into(),
            ..Pod::default()
        };
        pod.metadata.name = Some(self.name.clone());
        pod.metadata.namespace = Some(self.namespace().to_owned());
        pod.metadata.labels.clone_from(&self.labels);
        pod.metadata.annotations.clone_from(&self.annotations);
        let spec = &mut pod.spec;
        spec.hostname.clone_from(&self.hostname);
        spec.host_network = Some(self.host_network);
        spec.host_pid = Some(self.host_pid);
        spec.host_ipc = Some(self.host_ipc);
        spec.share_process_namespace = Some(self.share_pid);
        spec.security_context.clone_from(&self.security_context);
        if let Some(dns) = &self.dns {
            spec.dns_policy = DNSPolicy::None;
            spec.dns_config = Some(dns.clone());
        }
        Ok(pod)
    }

    /// The pod the sandbox is built from: [`SandboxConfig::pod`] with its
    /// port mappings on one container that is never run (the network code
    /// forwards the host ports a pod's containers declare).
    pub(crate) fn pod_with_ports(&self, pod: &Pod) -> Pod {
        let mut pod = pod.clone();
        if !self.port_mappings.is_empty() {
            pod.spec.containers.push(Container {
                name: "sandbox-ports".into(),
                ports: self
                    .port_mappings
                    .iter()
                    .map(|m| ContainerPort {
                        name: None,
                        container_port: i32::from(m.container_port),
                        host_port: Some(i32::from(m.host_port)),
                        host_ip: m.host_ip.clone(),
                        protocol: m.protocol,
                    })
                    .collect(),
                ..Container::default()
            });
        }
        pod
    }
}

/// Checks a cgroup parent: a relative cgroupfs path (a systemd slice name
/// is refused: peapod drives cgroupfs).
pub(crate) fn cgroup_parent(parent: &str) -> Result<PathBuf> {
    let path = PathBuf::from(parent.trim_start_matches('/'));
    let refuse = |why: &str| {
        Err(Error::Config(format!(
            "sandbox: cgroup parent {parent:?}: {why}"
        )))
    };
    if std::path::Path::new(parent)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("slice"))
    {
        return refuse(
            "a systemd slice; peapod uses the cgroupfs driver (a path as kubepods/pod<uid>)",
        );
    }
    if path
        .components()
        .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return refuse("not a plain relative path");
    }
    Ok(path)
}

impl ContainerConfig {
    /// The container's id in its sandbox: `<name>.<attempt>` (a container
    /// name holds no dot), also its cgroup's and its layers' folder name.
    pub fn local_id(&self) -> String {
        format!("{}.{}", self.name, self.attempt)
    }

    /// The container as the runtime makes it: no volume mounts, no probes,
    /// no hooks, literal command, args and environment (every `$` escaped,
    /// so nothing is expanded again). Refuses what is not supported yet.
    pub(crate) fn container(&self) -> Result<Container> {
        let refuse = |why: String| {
            Err(Error::container(
                &self.name,
                format!("CreateContainerError: {why}"),
            ))
        };
        if self.name.is_empty() || self.name.contains(['.', '/']) {
            return refuse(format!("name {:?}: a DNS label is required", self.name));
        }
        if let Some(d) = self.devices.first() {
            return refuse(format!(
                "device {}: host devices are not supported yet",
                d.host_path.display()
            ));
        }
        for m in &self.mounts {
            if m.propagation != Propagation::Private {
                return refuse(format!(
                    "mount {}: propagation {:?} is not supported yet (private only)",
                    m.container_path.display(),
                    m.propagation
                ));
            }
            if !m.container_path.is_absolute() {
                return refuse(format!(
                    "mount {}: the container path must be absolute",
                    m.container_path.display()
                ));
            }
        }
        let literal = |s: &String| s.replace('$', "$$");
        Ok(Container {
            name: self.local_id(),
            image: self.image.clone(),
            image_pull_policy: Some(peapod_spec::PullPolicy::Never),
            command: self.command.iter().map(literal).collect(),
            args: self.args.iter().map(literal).collect(),
            working_dir: self.working_dir.clone(),
            env: self
                .env
                .iter()
                .map(|(name, value)| EnvVar {
                    name: name.clone(),
                    value: Some(literal(value)),
                    value_from: None,
                })
                .collect(),
            resources: self.resources.clone(),
            security_context: self.security_context.clone(),
            stdin: Some(self.stdin),
            tty: Some(self.tty),
            termination_message_path: String::new(),
            ..Container::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sandbox_becomes_a_pod_with_its_namespaces_dns_and_labels() {
        let config = SandboxConfig {
            name: "web".into(),
            hostname: Some("h".into()),
            dns: Some(PodDNSConfig {
                nameservers: vec!["10.0.0.10".into()],
                ..PodDNSConfig::default()
            }),
            host_ipc: true,
            share_pid: true,
            labels: [("a".to_owned(), "b".to_owned())].into(),
            port_mappings: vec![PortMapping {
                protocol: Protocol::Udp,
                container_port: 53,
                host_port: 5353,
                host_ip: None,
            }],
            ..SandboxConfig::default()
        };
        let pod = config.pod().expect("pod");
        assert_eq!(pod.metadata.namespace.as_deref(), Some("default"));
        assert_eq!(pod.metadata.labels["a"], "b");
        assert_eq!(pod.spec.dns_policy, DNSPolicy::None);
        assert_eq!(
            (
                pod.spec.host_ipc,
                pod.spec.share_process_namespace,
                pod.spec.host_network
            ),
            (Some(true), Some(true), Some(false))
        );
        assert!(pod.spec.containers.is_empty(), "no container in pod.json");
        let built = config.pod_with_ports(&pod);
        let port = &built.spec.containers[0].ports[0];
        assert_eq!(
            (port.container_port, port.host_port, port.protocol),
            (53, Some(5353), Protocol::Udp)
        );
    }

    #[test]
    fn a_cgroup_parent_is_a_plain_relative_cgroupfs_path() {
        assert_eq!(
            cgroup_parent("/kubepods/burstable/pod1").expect("path"),
            PathBuf::from("kubepods/burstable/pod1")
        );
        for bad in ["kubepods-burstable.slice", "a/../b", "./a"] {
            assert!(cgroup_parent(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_container_is_literal_and_refuses_what_is_not_supported() {
        let config = ContainerConfig {
            name: "app".into(),
            attempt: 2,
            image: "busybox".into(),
            args: vec!["echo $(HOME) $x".into()],
            env: vec![("V".into(), "$(OTHER)".into())],
            ..ContainerConfig::default()
        };
        let c = config.container().expect("container");
        assert_eq!(c.name, "app.2");
        assert_eq!(c.args, ["echo $$(HOME) $$x"]);
        assert_eq!(c.env[0].value.as_deref(), Some("$$(OTHER)"));
        assert!(c.termination_message_path.is_empty());
        let mut device = config.clone();
        device.devices.push(Device {
            host_path: "/dev/fuse".into(),
            container_path: "/dev/fuse".into(),
            permissions: "rwm".into(),
        });
        assert!(device.container().is_err());
        let mut shared = config.clone();
        shared.mounts.push(Mount {
            host_path: "/tmp".into(),
            container_path: "/tmp".into(),
            readonly: false,
            propagation: Propagation::Bidirectional,
        });
        let err = shared.container().expect_err("refused").to_string();
        assert!(err.contains("propagation"), "{err}");
    }
}
