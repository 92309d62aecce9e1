//! `debug --profile`: what each of kubectl's debugging profiles changes in
//! the debug container and in the pod it runs in, for each way of
//! debugging (an ephemeral container, a copy of the pod, a pod on the
//! node). Plain data in, plain data out: no I/O.
//!
//! As kubectl (1.31 and later) has them:
//! - `legacy` (deprecated): nothing for an ephemeral container; a copy
//!   loses its labels; a node pod gets the host's namespaces and `/`
//!   at `/host`.
//! - `general` (the default): `SYS_PTRACE` for the debug container (not
//!   on the node); a copy shares its process namespace; a node pod as
//!   legacy's, its container's security context cleared.
//! - `baseline`: the debug container's security context cleared; the
//!   host's namespaces and root are not given to a node pod.
//! - `restricted`: baseline's, plus `runAsNonRoot`, every capability
//!   dropped, no privilege escalation, the `RuntimeDefault` seccomp
//!   profile.
//! - `netadmin`: `NET_ADMIN` and `NET_RAW`; a node pod gets the host's
//!   namespaces (not its root).
//! - `sysadmin`: a privileged container; a node pod gets the host's
//!   namespaces and root.
//!
//! Every profile but `legacy` takes the labels, annotations, probes and
//! (with `--keep-init-containers=false`) the init containers off a copy
//! unless `--keep-*` says otherwise.

use std::fmt;
use std::str::FromStr;

use peapod_spec::{
    Capabilities, Container, HostPathVolumeSource, Pod, SeccompProfile, SeccompProfileType,
    SecurityContext, Volume, VolumeMount, VolumeSource,
};
use serde::{Deserialize, Serialize};

/// One of kubectl's debugging profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// kubectl 1.23's behaviour (deprecated).
    Legacy,
    /// Reasonable defaults for each way of debugging.
    #[default]
    General,
    /// What the baseline Pod Security Standard allows.
    Baseline,
    /// What the restricted Pod Security Standard allows.
    Restricted,
    /// Network debugging: `NET_ADMIN`, `NET_RAW`.
    Netadmin,
    /// A privileged container.
    Sysadmin,
}

impl FromStr for Profile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "legacy" => Self::Legacy,
            "general" => Self::General,
            "baseline" => Self::Baseline,
            "restricted" => Self::Restricted,
            "netadmin" => Self::Netadmin,
            "sysadmin" => Self::Sysadmin,
            _ => return Err(format!("unknown profile: {s}")),
        })
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Legacy => "legacy",
            Self::General => "general",
            Self::Baseline => "baseline",
            Self::Restricted => "restricted",
            Self::Netadmin => "netadmin",
            Self::Sysadmin => "sysadmin",
        })
    }
}

/// How the debug container runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// An ephemeral container in the running pod.
    Ephemeral,
    /// A container of a copy of the pod (`--copy-to`).
    Copy,
    /// The container of a new pod on the node (`debug node/NAME`).
    Node,
}

/// What a copy keeps of the pod (`--keep-labels`, ...); kubectl keeps
/// the init containers only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)]
pub struct Keep {
    /// `--keep-labels`.
    pub labels: bool,
    /// `--keep-annotations`.
    pub annotations: bool,
    /// `--keep-liveness`.
    pub liveness: bool,
    /// `--keep-readiness`.
    pub readiness: bool,
    /// `--keep-startup`.
    pub startup: bool,
    /// `--keep-init-containers` (true unless said otherwise).
    pub init_containers: bool,
}

impl Default for Keep {
    fn default() -> Self {
        Self {
            labels: false,
            annotations: false,
            liveness: false,
            readiness: false,
            startup: false,
            init_containers: true,
        }
    }
}

/// The name of the volume that holds the host's root in a node pod.
const HOST_ROOT_VOLUME: &str = "host-root";

impl Profile {
    /// Changes the debug container `container` as the profile says for
    /// `style`.
    pub fn apply_to_container(self, container: &mut Container, style: Style) {
        match (self, style) {
            (Self::General, Style::Node) | (Self::Baseline, _) => {
                container.security_context = None;
            }
            (Self::General, _) => add_capability(container, "SYS_PTRACE"),
            (Self::Restricted, _) => {
                let sc = container
                    .security_context
                    .insert(SecurityContext::default());
                sc.run_as_non_root = Some(true);
                sc.capabilities = Some(Capabilities {
                    add: Vec::new(),
                    drop: vec!["ALL".to_owned()],
                });
                sc.allow_privilege_escalation = Some(false);
                sc.seccomp_profile = Some(SeccompProfile {
                    type_: SeccompProfileType::RuntimeDefault,
                    localhost_profile: None,
                });
            }
            (Self::Netadmin, _) => {
                add_capability(container, "NET_ADMIN");
                add_capability(container, "NET_RAW");
            }
            (Self::Sysadmin, _) => {
                container
                    .security_context
                    .get_or_insert_with(SecurityContext::default)
                    .privileged = Some(true);
            }
            (Self::Legacy, _) => {}
        }
    }

    /// Changes the pod of a copy or of a node pod (whose debug container,
    /// already in it, is named `container`) as the profile says.
    pub fn apply_to_pod(self, pod: &mut Pod, container: &str, style: Style, keep: Keep) {
        match style {
            Style::Ephemeral => {}
            Style::Copy => {
                let keep = if self == Self::Legacy {
                    Keep {
                        labels: false,
                        annotations: true,
                        liveness: true,
                        readiness: true,
                        startup: true,
                        init_containers: true,
                    }
                } else {
                    keep
                };
                strip(pod, keep);
                if self != Self::Legacy {
                    pod.spec.share_process_namespace.get_or_insert(true);
                }
            }
            Style::Node => {
                if matches!(self, Self::Baseline | Self::Restricted) {
                    return;
                }
                pod.spec.host_network = Some(true);
                pod.spec.host_pid = Some(true);
                pod.spec.host_ipc = Some(true);
                if self != Self::Netadmin {
                    mount_host_root(pod, container);
                }
            }
        }
    }
}

/// kubectl's warning when the pod runs as a non-root user (its
/// `runAsUser`) and the profile gave the debug container `container`
/// capabilities or privilege that such a user does not get; `None` when
/// it has nothing to say.
pub fn non_root_warning(pod: &Pod, container: &Container) -> Option<&'static str> {
    let pod_user = pod.spec.security_context.as_ref()?.run_as_user?;
    let sc = container.security_context.as_ref()?;
    let granted =
        sc.privileged == Some(true) || sc.capabilities.as_ref().is_some_and(|c| !c.add.is_empty());
    (pod_user != 0 && sc.run_as_user != Some(0) && granted).then_some(
        "Warning: Non-root user is configured for the entire target Pod, and some capabilities granted by debug profile may not work. Please consider using \"--custom\" with a custom profile that specifies \"securityContext.runAsUser: 0\".",
    )
}

/// Adds `capability` to the container's added ones.
fn add_capability(container: &mut Container, capability: &str) {
    container
        .security_context
        .get_or_insert_with(SecurityContext::default)
        .capabilities
        .get_or_insert_with(Capabilities::default)
        .add
        .push(capability.to_owned());
}

/// Takes off a copy what `keep` does not keep.
fn strip(pod: &mut Pod, keep: Keep) {
    if !keep.labels {
        pod.metadata.labels.clear();
    }
    if !keep.annotations {
        pod.metadata.annotations.clear();
    }
    if !keep.init_containers {
        pod.spec.init_containers.clear();
    }
    for c in &mut pod.spec.containers {
        if !keep.liveness {
            c.liveness_probe = None;
        }
        if !keep.readiness {
            c.readiness_probe = None;
        }
        if !keep.startup {
            c.startup_probe = None;
        }
    }
}

/// The host's `/` at `/host` in container `name`.
fn mount_host_root(pod: &mut Pod, name: &str) {
    pod.spec.volumes.push(Volume {
        name: HOST_ROOT_VOLUME.to_owned(),
        source: VolumeSource::HostPath(HostPathVolumeSource {
            path: "/".to_owned(),
            type_: None,
        }),
    });
    if let Some(c) = pod.spec.containers.iter_mut().find(|c| c.name == name) {
        c.volume_mounts.push(VolumeMount {
            name: HOST_ROOT_VOLUME.to_owned(),
            mount_path: "/host".to_owned(),
            ..VolumeMount::default()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(c: &Container) -> (Vec<String>, Vec<String>) {
        let caps = c
            .security_context
            .as_ref()
            .and_then(|s| s.capabilities.clone())
            .unwrap_or_default();
        (caps.add, caps.drop)
    }

    #[test]
    fn every_profile_name_reads_back_and_others_are_refused_with_kubectl_words() {
        for name in [
            "legacy",
            "general",
            "baseline",
            "restricted",
            "netadmin",
            "sysadmin",
        ] {
            assert_eq!(name.parse::<Profile>().expect("set").to_string(), name);
        }
        assert_eq!(
            "admin".parse::<Profile>(),
            Err("unknown profile: admin".to_owned())
        );
        assert_eq!(Profile::default(), Profile::General);
    }

    #[test]
    fn general_lets_an_ephemeral_container_trace_and_a_node_one_keep_its_defaults() {
        let mut c = Container::default();
        Profile::General.apply_to_container(&mut c, Style::Ephemeral);
        assert_eq!(caps(&c), (vec!["SYS_PTRACE".to_owned()], vec![]));
        Profile::General.apply_to_container(&mut c, Style::Node);
        assert_eq!(c.security_context, None);
        Profile::Legacy.apply_to_container(&mut c, Style::Ephemeral);
        assert_eq!(c.security_context, None);
    }

    #[test]
    fn restricted_drops_all_and_runs_as_non_root_netadmin_and_sysadmin_add() {
        let mut c = Container::default();
        Profile::Sysadmin.apply_to_container(&mut c, Style::Copy);
        Profile::Restricted.apply_to_container(&mut c, Style::Copy);
        let sc = c.security_context.clone().expect("set");
        assert_eq!(sc.privileged, None);
        assert_eq!(sc.run_as_non_root, Some(true));
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(caps(&c), (vec![], vec!["ALL".to_owned()]));
        assert_eq!(
            sc.seccomp_profile.map(|p| p.type_),
            Some(SeccompProfileType::RuntimeDefault)
        );
        let mut c = Container::default();
        Profile::Netadmin.apply_to_container(&mut c, Style::Ephemeral);
        assert_eq!(
            caps(&c).0,
            ["NET_ADMIN".to_owned(), "NET_RAW".to_owned()].to_vec()
        );
        Profile::Sysadmin.apply_to_container(&mut c, Style::Ephemeral);
        assert_eq!(c.security_context.expect("set").privileged, Some(true));
    }

    #[test]
    fn a_pod_of_a_non_root_user_is_warned_of_capabilities_it_will_not_get() {
        let mut p = pod();
        let mut c = Container::default();
        Profile::General.apply_to_container(&mut c, Style::Ephemeral);
        assert_eq!(non_root_warning(&p, &c), None, "no runAsUser");
        p.spec.security_context = Some(peapod_spec::PodSecurityContext {
            run_as_user: Some(1000),
            ..peapod_spec::PodSecurityContext::default()
        });
        assert!(non_root_warning(&p, &c).is_some_and(|w| w.starts_with("Warning: Non-root user")));
        Profile::Baseline.apply_to_container(&mut c, Style::Ephemeral);
        assert_eq!(non_root_warning(&p, &c), None, "nothing granted");
    }

    fn pod() -> Pod {
        let mut pod = Pod::default();
        pod.metadata.labels.insert("app".into(), "web".into());
        pod.metadata.annotations.insert("note".into(), "x".into());
        pod.spec.init_containers.push(Container {
            name: "init".into(),
            ..Container::default()
        });
        pod.spec.containers.push(Container {
            name: "debugger".into(),
            liveness_probe: Some(peapod_spec::Probe::default()),
            ..Container::default()
        });
        pod
    }

    #[test]
    fn a_copy_loses_labels_annotations_and_probes_unless_kept_and_shares_processes() {
        let mut copy = pod();
        Profile::General.apply_to_pod(&mut copy, "debugger", Style::Copy, Keep::default());
        assert!(copy.metadata.labels.is_empty() && copy.metadata.annotations.is_empty());
        assert_eq!(copy.spec.containers[0].liveness_probe, None);
        assert_eq!(copy.spec.init_containers.len(), 1);
        assert_eq!(copy.spec.share_process_namespace, Some(true));
        let mut kept = pod();
        kept.spec.share_process_namespace = Some(false);
        let keep = Keep {
            labels: true,
            liveness: true,
            init_containers: false,
            ..Keep::default()
        };
        Profile::Baseline.apply_to_pod(&mut kept, "debugger", Style::Copy, keep);
        assert_eq!(kept.metadata.labels.len(), 1);
        assert!(kept.spec.containers[0].liveness_probe.is_some());
        assert!(kept.spec.init_containers.is_empty());
        assert_eq!(kept.spec.share_process_namespace, Some(false));
        let mut legacy = pod();
        Profile::Legacy.apply_to_pod(&mut legacy, "debugger", Style::Copy, Keep::default());
        assert!(legacy.metadata.labels.is_empty());
        assert_eq!(legacy.metadata.annotations.len(), 1);
        assert_eq!(legacy.spec.share_process_namespace, None);
    }

    #[test]
    fn a_node_pod_gets_the_host_namespaces_and_root_as_the_profile_allows() {
        let host = |p: &Pod| {
            (
                p.spec.host_pid,
                p.spec.host_network,
                p.spec.host_ipc,
                p.spec.containers[0]
                    .volume_mounts
                    .iter()
                    .any(|m| m.mount_path == "/host"),
            )
        };
        let t = Some(true);
        for (profile, want) in [
            (Profile::General, (t, t, t, true)),
            (Profile::Sysadmin, (t, t, t, true)),
            (Profile::Netadmin, (t, t, t, false)),
            (Profile::Baseline, (None, None, None, false)),
            (Profile::Restricted, (None, None, None, false)),
        ] {
            let mut p = pod();
            profile.apply_to_pod(&mut p, "debugger", Style::Node, Keep::default());
            assert_eq!(host(&p), want, "{profile}");
        }
    }
}
