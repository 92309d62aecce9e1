//! `apply` of a pod that already runs, as the API server takes an update:
//! only what Kubernetes lets a running pod change is changed in place
//! (labels, annotations, the images of containers and init containers,
//! `activeDeadlineSeconds` set or decreased); anything else is refused
//! with the API server's words. The pod's supervisor carries the change
//! out ([`configure`]); a changed image restarts that container, as
//! kubelet does when a container's definition changed.
//!
//! What was applied last is kept where kubectl keeps it, in the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use peapod_spec::{Container, Pod};
use serde::{Deserialize, Serialize};

use crate::control::{self, Request, Response};
use crate::error::{Error, Result};
use crate::launch::DEFAULT_NAMESPACE;
use crate::paths::Paths;
use crate::state::{Liveness, PodKey, StateStore};

/// kubectl's annotation holding the manifest as last applied (JSON).
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The fields a pod update may change, as the API server lists them.
const UPDATABLE: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,\
`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),\
`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// What an apply changes on a running pod: its labels and annotations as
/// they are to be, its deadline, and the new image of each container
/// whose image changed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodUpdate {
    /// All the labels, as applied.
    pub labels: BTreeMap<String, String>,
    /// All the annotations, as applied (with [`LAST_APPLIED`]).
    pub annotations: BTreeMap<String, String>,
    /// `spec.activeDeadlineSeconds`, as applied.
    pub active_deadline_seconds: Option<i64>,
    /// Container (or init container) name to its new image.
    pub images: BTreeMap<String, String>,
}

/// What an apply of a pod that exists comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Nothing differs: `pod/NAME unchanged`.
    Unchanged,
    /// Changes the pod may take while it runs: `pod/NAME configured`.
    Configured(PodUpdate),
}

/// `pod` with [`LAST_APPLIED`] set to it as JSON (without status, and
/// without an older [`LAST_APPLIED`]), as `kubectl apply` records it.
///
/// # Errors
/// The pod cannot be written as JSON.
pub fn with_last_applied(mut pod: Pod) -> Result<Pod> {
    pod.status = None;
    pod.metadata.annotations.remove(LAST_APPLIED);
    let json = serde_json::to_string(&pod).map_err(|e| Error::json(LAST_APPLIED, e))?;
    pod.metadata
        .annotations
        .insert(LAST_APPLIED.to_owned(), json);
    Ok(pod)
}

/// Compares the running pod `live` with `applied` (the manifest's pod,
/// through [`with_last_applied`]) as the API server validates an update.
///
/// # Errors
/// [`Error::Invalid`] with the API server's message when `applied`
/// changes a field a running pod cannot change.
pub fn compare(live: &Pod, applied: &Pod) -> Result<Change> {
    let name = live.metadata.name.clone().unwrap_or_default();
    let invalid = |message: String| Error::Invalid {
        kind: "Pod",
        name: name.clone(),
        message,
    };
    check_deadline(
        live.spec.active_deadline_seconds,
        applied.spec.active_deadline_seconds,
    )
    .map_err(invalid)?;
    // The spec as applied, but for what may change: it must be the live one.
    let mut munged = applied.spec.clone();
    munged.active_deadline_seconds = live.spec.active_deadline_seconds;
    keep_images(&mut munged.containers, &live.spec.containers);
    keep_images(&mut munged.init_containers, &live.spec.init_containers);
    if munged != live.spec {
        let changed = changed_paths(&live.spec, &munged, "spec");
        return Err(invalid(format!(
            "spec: Forbidden: pod updates may not change fields other than {UPDATABLE}\n  changed: {}",
            changed.join(", ")
        )));
    }
    let applied_namespace = applied
        .metadata
        .namespace
        .as_deref()
        .unwrap_or(DEFAULT_NAMESPACE);
    let live_namespace = live
        .metadata
        .namespace
        .as_deref()
        .unwrap_or(DEFAULT_NAMESPACE);
    if applied_namespace != live_namespace || applied.metadata.name != live.metadata.name {
        return Err(invalid(
            "metadata: Forbidden: the name and namespace of a pod cannot change".to_owned(),
        ));
    }
    let images: BTreeMap<String, String> = live
        .spec
        .init_containers
        .iter()
        .zip(&applied.spec.init_containers)
        .chain(live.spec.containers.iter().zip(&applied.spec.containers))
        .filter(|(old, new)| old.image != new.image)
        .map(|(_, new)| (new.name.clone(), new.image.clone()))
        .collect();
    let update = PodUpdate {
        labels: applied.metadata.labels.clone(),
        annotations: applied.metadata.annotations.clone(),
        active_deadline_seconds: applied.spec.active_deadline_seconds,
        images,
    };
    let unchanged = update.images.is_empty()
        && update.labels == live.metadata.labels
        && update.annotations == live.metadata.annotations
        && update.active_deadline_seconds == live.spec.active_deadline_seconds;
    Ok(if unchanged {
        Change::Unchanged
    } else {
        Change::Configured(update)
    })
}

/// `activeDeadlineSeconds` may be set, or lowered, never raised or unset
/// (the API server's checks and words).
fn check_deadline(live: Option<i64>, applied: Option<i64>) -> Result<(), String> {
    let field = "spec.activeDeadlineSeconds";
    match (live, applied) {
        (_, Some(new)) if new < 0 || new > i64::from(i32::MAX) => Err(format!(
            "{field}: Invalid value: {new}: must be between 0 and {}, inclusive",
            i32::MAX
        )),
        (Some(old), Some(new)) if new > old => Err(format!(
            "{field}: Invalid value: {new}: must be less than or equal to previous value"
        )),
        (Some(_), None) => Err(format!(
            "{field}: Invalid value: \"null\": must not update from a positive integer to nil value"
        )),
        _ => Ok(()),
    }
}

/// Gives each container of `applied` the image of the live container of
/// the same place and name (a renamed or added container stays different).
fn keep_images(applied: &mut [Container], live: &[Container]) {
    for (new, old) in applied.iter_mut().zip(live) {
        if new.name == old.name {
            new.image.clone_from(&old.image);
        }
    }
}

/// The field paths (`spec.containers[0].command`) where `old` and `new`
/// differ, through their JSON form.
fn changed_paths<T: Serialize>(old: &T, new: &T, root: &str) -> Vec<String> {
    let (Ok(old), Ok(new)) = (serde_json::to_value(old), serde_json::to_value(new)) else {
        return vec![root.to_owned()];
    };
    let mut out = Vec::new();
    diff_values(&old, &new, root, &mut out);
    out
}

fn diff_values(
    old: &serde_json::Value,
    new: &serde_json::Value,
    path: &str,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let (x, y) = (
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                );
                diff_values(x, y, &format!("{path}.{k}"), out);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                let mut p = path.to_owned();
                let _ = write!(p, "[{i}]");
                diff_values(x, y, &p, out);
            }
        }
        (a, b) if a != b => out.push(path.to_owned()),
        _ => {}
    }
}

/// How long the supervisor may take to resolve the new images and answer.
const CONFIGURE_TIMEOUT: Duration = Duration::from_secs(120);

/// Hands `update` to the supervisor of pod `key`, which applies it (and
/// restarts the containers whose image changed) and records it.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Supervisor`] when no supervisor runs the
/// pod or it refused the update (an image it cannot find: nothing of the
/// update is applied then).
pub fn configure(paths: &Paths, key: &PodKey, update: PodUpdate) -> Result<()> {
    let dir = StateStore::new(paths).existing(key)?;
    let gone = |message: &str| Error::Supervisor {
        pod: key.name.clone(),
        message: message.to_owned(),
    };
    if dir.liveness()? != Liveness::Alive {
        return Err(gone(
            "not running: the pod cannot be changed in place; \"peapod delete pod\" it and apply again",
        ));
    }
    let request = Request::Configure(Box::new(update));
    match control::call(&dir.control_socket(), &request, CONFIGURE_TIMEOUT)? {
        Response::Ok => Ok(()),
        Response::Error(message) => Err(gone(&message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(image: &str) -> Pod {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web".into());
        pod.spec.containers.push(Container {
            name: "app".into(),
            image: image.into(),
            ..Container::default()
        });
        pod
    }

    fn live(pod: &Pod) -> Pod {
        let mut live = with_last_applied(pod.clone()).expect("json");
        live.metadata.namespace = Some("default".into());
        live.metadata.uid = Some("u".into());
        live
    }

    #[test]
    fn the_same_manifest_again_is_unchanged() {
        let first = pod("busybox:1.30.1");
        let again = with_last_applied(first.clone()).expect("json");
        assert_eq!(
            compare(&live(&first), &again).expect("ok"),
            Change::Unchanged
        );
    }

    #[test]
    fn a_new_image_and_label_configure_the_pod() {
        let first = pod("busybox:1.30.1");
        let mut next = pod("busybox:1.31.1");
        next.metadata.labels.insert("tier".into(), "web".into());
        let next = with_last_applied(next).expect("json");
        let Change::Configured(update) = compare(&live(&first), &next).expect("ok") else {
            panic!("configured");
        };
        assert_eq!(
            update.images,
            BTreeMap::from([("app".to_owned(), "busybox:1.31.1".to_owned())])
        );
        assert_eq!(update.labels.get("tier").map(String::as_str), Some("web"));
        assert!(
            update.annotations[LAST_APPLIED].contains("busybox:1.31.1"),
            "the annotation records the new manifest"
        );
    }

    #[test]
    fn another_field_is_forbidden_with_the_api_servers_words() {
        let first = pod("busybox:1.30.1");
        let mut next = pod("busybox:1.30.1");
        next.spec.containers[0].command = vec!["sleep".into()];
        let err = compare(&live(&first), &with_last_applied(next).expect("json"))
            .expect_err("forbidden")
            .to_string();
        assert!(
            err.starts_with(
                "The Pod \"web\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
            ),
            "{err}"
        );
        assert!(
            err.ends_with("changed: spec.containers[0].command"),
            "{err}"
        );
    }

    #[test]
    fn the_deadline_may_be_set_or_lowered_only() {
        let mut first = pod("busybox:1.30.1");
        let mut next = first.clone();
        next.spec.active_deadline_seconds = Some(60);
        assert!(matches!(
            compare(
                &live(&first),
                &with_last_applied(next.clone()).expect("json")
            ),
            Ok(Change::Configured(PodUpdate {
                active_deadline_seconds: Some(60),
                ..
            }))
        ));
        first.spec.active_deadline_seconds = Some(60);
        next.spec.active_deadline_seconds = Some(90);
        let raised = compare(
            &live(&first),
            &with_last_applied(next.clone()).expect("json"),
        )
        .expect_err("raised")
        .to_string();
        assert_eq!(
            raised,
            "The Pod \"web\" is invalid: spec.activeDeadlineSeconds: Invalid value: 90: must be less than or equal to previous value"
        );
        next.spec.active_deadline_seconds = None;
        let unset = compare(&live(&first), &with_last_applied(next).expect("json"))
            .expect_err("unset")
            .to_string();
        assert!(unset.contains("must not update from a positive integer to nil value"));
    }

    #[test]
    fn a_renamed_container_is_forbidden_even_with_a_new_image() {
        let first = pod("busybox:1.30.1");
        let mut next = pod("busybox:1.31.1");
        next.spec.containers[0].name = "other".into();
        let err = compare(&live(&first), &with_last_applied(next).expect("json"))
            .expect_err("forbidden")
            .to_string();
        assert!(err.contains("spec.containers[0].image"), "{err}");
        assert!(err.contains("spec.containers[0].name"), "{err}");
    }
}
