//! The container `logs` and `exec` use when none is named, as kubectl
//! picks it: the one the `kubectl.kubernetes.io/default-container`
//! annotation names, else the first, with kubectl's notice on stderr when
//! the first was picked out of several.

use std::io::Write;

use peapod_runtime::PodKey;
use peapod_runtime::{Paths, pod::inspect};
use peapod_spec::Pod;

/// The annotation naming a pod's default container (KEP 2227).
const ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

/// The container to use, `named` or the pod's default; kubectl's
/// `Defaulted container` notice goes to stderr when there was a choice.
pub fn container(paths: &Paths, key: &PodKey, named: Option<&str>) -> anyhow::Result<String> {
    if let Some(name) = named {
        return Ok(name.to_owned());
    }
    let pod = inspect::get(paths, key)?;
    let (name, notice) = default_of(&pod);
    if let Some(notice) = notice {
        let _ = writeln!(std::io::stderr(), "{notice}");
    }
    Ok(name)
}

/// The default container of `pod` and, when the first was picked out of
/// several, kubectl's notice saying so.
fn default_of(pod: &Pod) -> (String, Option<String>) {
    let containers = &pod.spec.containers;
    if let Some(name) = pod.metadata.annotations.get(ANNOTATION)
        && containers.iter().any(|c| &c.name == name)
    {
        return (name.clone(), None);
    }
    let first = containers
        .first()
        .map(|c| c.name.clone())
        .unwrap_or_default();
    if containers.len() < 2 {
        return (first, None);
    }
    let all: Vec<String> = containers
        .iter()
        .map(|c| c.name.clone())
        .chain(
            pod.spec
                .init_containers
                .iter()
                .map(|c| format!("{} (init)", c.name)),
        )
        .collect();
    let notice = format!("Defaulted container \"{first}\" out of: {}", all.join(", "));
    (first, Some(notice))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(annotation: Option<&str>, containers: &[&str], init: &[&str]) -> Pod {
        let list = |names: &[&str]| -> Vec<serde_json::Value> {
            names
                .iter()
                .map(|n| serde_json::json!({"name": n, "image": "busybox"}))
                .collect()
        };
        let annotations = annotation.map_or_else(
            || serde_json::json!({}),
            |a| serde_json::json!({ ANNOTATION: a }),
        );
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "annotations": annotations},
            "spec": {"containers": list(containers), "initContainers": list(init)},
        }))
        .expect("a pod")
    }

    #[test]
    fn the_first_of_several_is_defaulted_with_kubectls_notice() {
        assert_eq!(
            default_of(&pod(None, &["a", "b"], &["setup"])),
            (
                "a".to_owned(),
                Some("Defaulted container \"a\" out of: a, b, setup (init)".to_owned())
            )
        );
    }

    #[test]
    fn the_annotation_or_a_single_container_is_taken_silently() {
        assert_eq!(
            default_of(&pod(Some("b"), &["a", "b"], &[])),
            ("b".to_owned(), None)
        );
        assert_eq!(
            default_of(&pod(None, &["only"], &[])),
            ("only".to_owned(), None)
        );
        // An annotation naming no container of the pod is passed over.
        assert_eq!(
            default_of(&pod(Some("zz"), &["a", "b"], &[])).0,
            "a".to_owned()
        );
    }
}
