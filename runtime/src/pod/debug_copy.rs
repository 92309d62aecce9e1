//! `debug POD --copy-to=NEW` and `debug node/NAME`: a new pod to debug
//! in, as kubectl makes one. A copy is the pod's spec under a new name
//! with the images `--set-image` names, a debug container added (or one
//! of its containers changed, `--container`) and the profile's changes
//! ([`crate::pod::debug_profile`]); with `--replace` the original is deleted
//! once the copy runs. A node pod (`node-debugger-<node>-<5 letters>`)
//! holds one container, `debugger`, with restart policy `Never`, and as
//! the profile says the host's PID, network and IPC namespaces and its
//! `/` at `/host`.

use std::collections::BTreeMap;

use peapod_spec::{Container, EnvVar, Pod, PullPolicy, RestartPolicy};

use crate::error::{Error, Result};
use crate::launch::Launcher;
use crate::paths::Paths;
use crate::pod::debug_profile::{Keep, Profile, Style};
use crate::pod_config::PodConfig;
use crate::state::{PodKey, StateStore};

/// The debug container of a new pod: its name, image, command and
/// terminal, as `debug`'s flags give them.
#[derive(Debug, Clone, Default)]
pub struct DebugContainer {
    /// `--container`: a new container's name, or an existing one's in a
    /// copy (changed, not added); `None`: `debugger-xxxxx` (`debugger`
    /// on a node).
    pub name: Option<String>,
    /// `--image`; `None` keeps a changed container's image.
    pub image: Option<String>,
    /// `--image-pull-policy`.
    pub image_pull_policy: Option<PullPolicy>,
    /// The words after `--`: its command, or its args with
    /// `--arguments-only`.
    pub command: Vec<String>,
    /// `--arguments-only`.
    pub arguments_only: bool,
    /// `--env`.
    pub env: Vec<EnvVar>,
    /// `-i`.
    pub stdin: bool,
    /// `-t`.
    pub tty: bool,
    /// `--custom`: a partial container spec laid over it, once the
    /// profile applied.
    pub custom: Option<serde_json::Value>,
}

/// What a copy changes of the pod.
#[derive(Debug, Clone, Default)]
pub struct CopyRequest {
    /// The copy's name.
    pub name: String,
    /// `--set-image`: container name (or `*`) to image.
    pub set_images: BTreeMap<String, String>,
    /// `--share-processes`, when given.
    pub share_processes: Option<bool>,
    /// `--profile`.
    pub profile: Profile,
    /// `--keep-*`.
    pub keep: Keep,
    /// The debug container (without `image`, name nor command, and with
    /// `set_images`: none, only the images change).
    pub container: DebugContainer,
}

/// A pod made to debug in, and the container to attach to (`None` when
/// a copy only changed images).
#[derive(Debug, Clone)]
pub struct DebugPod {
    /// The new pod.
    pub key: PodKey,
    /// Its debug container.
    pub container: Option<String>,
}

impl DebugContainer {
    /// Sets on `c` what was asked.
    fn set_on(&self, c: &mut Container) {
        if !self.command.is_empty() {
            if self.arguments_only {
                c.args.clone_from(&self.command);
            } else {
                c.command.clone_from(&self.command);
                c.args.clear();
            }
        }
        if !self.env.is_empty() {
            c.env.clone_from(&self.env);
        }
        if let Some(image) = &self.image {
            c.image.clone_from(image);
        }
        if self.image_pull_policy.is_some() {
            c.image_pull_policy = self.image_pull_policy;
        }
        c.stdin = Some(self.stdin);
        c.tty = Some(self.tty);
    }

    /// A new container named `name`.
    fn new_container(&self, name: &str) -> Container {
        let mut c = Container {
            name: name.to_owned(),
            termination_message_path: "/dev/termination-log".to_owned(),
            ..Container::default()
        };
        self.set_on(&mut c);
        c
    }
}

/// The copy of `pod` that `request` asks for; `name_suffix` gives the
/// five letters of a generated container name. Pure: nothing is made.
///
/// # Errors
/// A new container without an image, named by kubectl's message.
pub fn copy_of(
    pod: &Pod,
    request: &CopyRequest,
    name_suffix: &mut dyn FnMut() -> String,
) -> Result<(Pod, Option<String>)> {
    let mut copy = Pod::default();
    copy.api_version.clone_from(&pod.api_version);
    copy.kind.clone_from(&pod.kind);
    copy.metadata.name = Some(request.name.clone());
    copy.metadata.namespace.clone_from(&pod.metadata.namespace);
    copy.metadata.labels.clone_from(&pod.metadata.labels);
    copy.metadata
        .annotations
        .clone_from(&pod.metadata.annotations);
    copy.spec = pod.spec.clone();
    copy.spec.node_name = None;
    if let Some(share) = request.share_processes {
        copy.spec.share_process_namespace = Some(share);
    }
    for c in &mut copy.spec.containers {
        if let Some(image) = request
            .set_images
            .get(&c.name)
            .or_else(|| request.set_images.get("*"))
        {
            c.image.clone_from(image);
        }
    }
    let wanted = &request.container;
    let existing = wanted
        .name
        .as_ref()
        .and_then(|n| copy.spec.containers.iter().position(|c| &c.name == n));
    let index = if let Some(i) = existing {
        wanted.set_on(&mut copy.spec.containers[i]);
        i
    } else {
        if wanted.image.is_none() {
            if !request.set_images.is_empty() {
                return Ok((copy, None));
            }
            return Err(Error::Config(
                "you must specify image when creating new container".to_owned(),
            ));
        }
        let name = wanted
            .name
            .clone()
            .unwrap_or_else(|| unused_name(&copy, name_suffix));
        copy.spec.containers.push(wanted.new_container(&name));
        copy.spec.containers.len() - 1
    };
    let name = copy.spec.containers[index].name.clone();
    request
        .profile
        .apply_to_container(&mut copy.spec.containers[index], Style::Copy);
    request
        .profile
        .apply_to_pod(&mut copy, &name, Style::Copy, request.keep);
    if let Some(custom) = &wanted.custom {
        crate::pod::debug_custom::apply(&mut copy.spec.containers[index], custom)?;
    }
    Ok((copy, Some(name)))
}

/// `debugger-` and five letters, a name no container of `pod` has.
pub fn unused_name(pod: &Pod, name_suffix: &mut dyn FnMut() -> String) -> String {
    loop {
        let name = format!("debugger-{}", name_suffix());
        let taken = pod
            .spec
            .containers
            .iter()
            .chain(&pod.spec.init_containers)
            .any(|c| c.name == name);
        if !taken {
            return name;
        }
    }
}

/// The pod `debug node/NODE` makes in `namespace`, named with
/// `name_suffix`'s five letters. Pure: nothing is made.
///
/// # Errors
/// A custom spec that may not be laid over the container.
pub fn node_pod(
    node: &str,
    namespace: &str,
    container: &DebugContainer,
    profile: Profile,
    name_suffix: &mut dyn FnMut() -> String,
) -> Result<Pod> {
    let name = container.name.as_deref().unwrap_or("debugger");
    let mut pod = Pod::default();
    "v1".clone_into(&mut pod.api_version);
    "Pod".clone_into(&mut pod.kind);
    pod.metadata.name = Some(format!("node-debugger-{node}-{}", name_suffix()));
    pod.metadata.namespace = Some(namespace.to_owned());
    pod.metadata.labels.insert(
        "app.kubernetes.io/managed-by".to_owned(),
        "kubectl-debug".to_owned(),
    );
    pod.spec.restart_policy = RestartPolicy::Never;
    let mut c = container.new_container(name);
    profile.apply_to_container(&mut c, Style::Node);
    if let Some(custom) = &container.custom {
        crate::pod::debug_custom::apply(&mut c, custom)?;
    }
    pod.spec.containers.push(c);
    profile.apply_to_pod(&mut pod, name, Style::Node, Keep::default());
    Ok(pod)
}

/// Starts `pod` (a copy of the pod `from`, reading its ConfigMaps and
/// Secrets, or a node pod when `from` is `None`) with `launcher`; with
/// `replace`, deletes `from` once the copy runs.
///
/// # Errors
/// The start's, or a pod of that name exists already
/// (`AlreadyExists`).
pub fn start(
    paths: &Paths,
    launcher: &Launcher,
    pod: Pod,
    from: Option<&PodKey>,
    replace: bool,
) -> Result<PodKey> {
    let config = match from {
        Some(key) => {
            let dir = StateStore::new(paths).pod(key);
            PodConfig::read(&dir)?
        }
        None => PodConfig::default(),
    };
    let key = launcher.create_with(paths, pod, &config)?;
    if let (true, Some(from)) = (replace, from) {
        crate::teardown::delete(paths, from, Some(0))?;
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running() -> Pod {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web".into());
        pod.metadata.namespace = Some("ns".into());
        pod.metadata.uid = Some("u-1".into());
        pod.metadata.labels.insert("app".into(), "web".into());
        pod.spec.node_name = Some("n1".into());
        for (name, image) in [("app", "app:1"), ("sidecar", "side:1")] {
            pod.spec.containers.push(Container {
                name: name.into(),
                image: image.into(),
                command: vec!["serve".into()],
                args: vec!["--port=80".into()],
                ..Container::default()
            });
        }
        pod.status = Some(peapod_spec::PodStatus::default());
        pod
    }

    fn letters() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("x{n:04}")
        }
    }

    #[test]
    fn a_copy_gets_a_debug_container_the_set_images_and_nothing_of_the_running_pod() {
        let request = CopyRequest {
            name: "web-debug".into(),
            set_images: BTreeMap::from([
                ("*".into(), "all:2".into()),
                ("app".into(), "app:2".into()),
            ]),
            container: DebugContainer {
                image: Some("busybox".into()),
                command: vec!["sh".into()],
                stdin: true,
                ..DebugContainer::default()
            },
            ..CopyRequest::default()
        };
        let (copy, name) = copy_of(&running(), &request, &mut letters()).expect("a copy");
        assert_eq!(name.as_deref(), Some("debugger-x0001"));
        assert_eq!(copy.metadata.name.as_deref(), Some("web-debug"));
        assert_eq!(copy.metadata.namespace.as_deref(), Some("ns"));
        assert_eq!(copy.metadata.uid, None);
        assert!(copy.status.is_none() && copy.spec.node_name.is_none());
        assert!(copy.metadata.labels.is_empty(), "general takes them off");
        let images: Vec<&str> = copy
            .spec
            .containers
            .iter()
            .map(|c| c.image.as_str())
            .collect();
        assert_eq!(images, ["app:2", "all:2", "busybox"]);
        let debugger = &copy.spec.containers[2];
        assert_eq!(debugger.command, ["sh"]);
        assert_eq!((debugger.stdin, debugger.tty), (Some(true), Some(false)));
        assert_eq!(copy.spec.share_process_namespace, Some(true));
    }

    #[test]
    fn a_copy_changes_a_named_container_in_place_or_only_images() {
        let mut request = CopyRequest {
            name: "c".into(),
            share_processes: Some(false),
            container: DebugContainer {
                name: Some("app".into()),
                command: vec!["sh".into()],
                ..DebugContainer::default()
            },
            ..CopyRequest::default()
        };
        let (copy, name) = copy_of(&running(), &request, &mut letters()).expect("a copy");
        assert_eq!(name.as_deref(), Some("app"));
        assert_eq!(copy.spec.containers.len(), 2);
        let app = &copy.spec.containers[0];
        assert_eq!(
            (app.image.as_str(), app.command.clone()),
            ("app:1", vec!["sh".to_owned()])
        );
        assert!(app.args.is_empty(), "a new command drops the args");
        assert_eq!(copy.spec.share_process_namespace, Some(false));
        request.container = DebugContainer::default();
        request.set_images = BTreeMap::from([("sidecar".into(), "side:2".into())]);
        let (copy, name) = copy_of(&running(), &request, &mut letters()).expect("a copy");
        assert_eq!((name, copy.spec.containers.len()), (None, 2));
        request.set_images.clear();
        let err = copy_of(&running(), &request, &mut letters()).expect_err("refused");
        assert!(
            err.to_string()
                .contains("you must specify image when creating new container")
        );
    }

    #[test]
    fn a_node_pod_runs_never_restarted_in_the_host_namespaces_with_its_root_at_host() {
        let container = DebugContainer {
            image: Some("busybox".into()),
            stdin: true,
            tty: true,
            ..DebugContainer::default()
        };
        let pod = node_pod(
            "h1",
            "default",
            &container,
            Profile::General,
            &mut letters(),
        )
        .expect("a node pod");
        assert_eq!(pod.metadata.name.as_deref(), Some("node-debugger-h1-x0001"));
        assert_eq!(
            pod.metadata
                .labels
                .get("app.kubernetes.io/managed-by")
                .map(String::as_str),
            Some("kubectl-debug")
        );
        assert_eq!(pod.spec.restart_policy, RestartPolicy::Never);
        assert_eq!(pod.spec.containers[0].name, "debugger");
        assert_eq!(pod.spec.host_pid, Some(true));
        assert_eq!(pod.spec.containers[0].volume_mounts[0].mount_path, "/host");
    }
}
