//! `peapod patch pod NAME -p PATCH [--type strategic|merge|json]`: kubectl's
//! three kinds of patch on a running pod's object, carried out in place
//! as far as a running pod may change ([`crate::pod_edit`]).
//!
//! - `merge`: RFC 7386 (objects merge, `null` removes, the rest replaces);
//! - `strategic` (the default): a merge in which the lists Kubernetes
//!   merges by key (containers by `name`, volume mounts by `mountPath`...)
//!   merge element by element, and `$patch: delete` removes an element;
//! - `json`: RFC 6902 operations (`add`, `remove`, `replace`, `move`,
//!   `copy`, `test`) at RFC 6901 pointers.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use peapod_runtime::Paths;
use serde_json::{Map, Value};

use crate::pod_edit::{self, Outcome};

/// The kind of patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PatchType {
    /// Kubernetes' strategic merge patch.
    Strategic,
    /// A JSON merge patch (RFC 7386).
    Merge,
    /// A JSON patch (RFC 6902): a list of operations.
    Json,
}

/// Change running pods with a patch.
#[derive(Debug, clap::Args)]
pub struct PatchArgs {
    /// `pod NAME` or `pod/NAME` (none with `-f`).
    #[arg(required_unless_present = "files", value_name = "TYPE[/NAME]")]
    targets: Vec<String>,
    #[command(flatten)]
    manifests: pod_edit::Manifests,
    /// The patch, as JSON or YAML.
    #[arg(
        short = 'p',
        long,
        value_name = "PATCH",
        required_unless_present = "patch_file"
    )]
    patch: Option<String>,
    /// A file holding the patch.
    #[arg(long, value_name = "FILE", conflicts_with = "patch")]
    patch_file: Option<PathBuf>,
    /// The kind of patch.
    #[arg(long = "type", value_enum, default_value = "strategic")]
    kind: PatchType,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    #[command(flatten)]
    dry_run: crate::dry_run::DryRunFlag,
}

/// Runs `patch`: `pod/NAME patched`, or `pod/NAME patched (no change)`.
///
/// # Errors
/// The patch is neither JSON nor YAML; a pod is missing; the patch does not apply or
/// makes a change a running pod cannot take.
pub fn run(args: &PatchArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let text = match (&args.patch, &args.patch_file) {
        (Some(p), _) => p.clone(),
        (None, Some(file)) => std::fs::read_to_string(file)
            .with_context(|| format!("the patch file {}", file.display()))?,
        (None, None) => bail!("a patch is required: -p PATCH or --patch-file FILE"),
    };
    let patch = parse(&text)?;
    if args.kind != PatchType::Json && !patch.is_object() {
        bail!(
            "unable to parse {text:?}: a merge patch is a map of fields (a JSON object, a YAML mapping)"
        );
    }
    let keys = pod_edit::keys(
        "patch",
        &args.targets,
        &args.namespace,
        &pod_edit::Selection::only(&args.manifests),
        paths,
    )?;
    pod_edit::edit_each(
        paths,
        keys,
        args.dry_run.mode,
        |key| format!("pod/{} as patched", key.name),
        |object| match args.kind {
            PatchType::Merge => {
                merge(object, &patch, None);
                Ok(())
            }
            PatchType::Strategic => {
                merge(object, &patch, Some(""));
                Ok(())
            }
            PatchType::Json => json_patch(object, &patch),
        },
        |outcome| match outcome {
            Outcome::Changed => Some("patched"),
            Outcome::Unchanged => Some("patched (no change)"),
        },
    )
}

/// The patch `text`: JSON, or YAML as kubectl also takes it (`-p
/// 'metadata: {labels: {a: b}}'`, a `--patch-file` in YAML).
fn parse(text: &str) -> anyhow::Result<Value> {
    serde_json::from_str(text).or_else(|json| {
        serde_saphyr::from_str(text).map_err(|yaml| {
            anyhow!("unable to parse {text:?}: neither JSON ({json}) nor YAML ({yaml})")
        })
    })
}

/// The key a strategic merge patch merges the list `field` by, as the
/// Pod's API declares it (`patchMergeKey`).
fn merge_key(field: &str) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims" => Some("name"),
        "readinessGates" => Some("conditionType"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "ports" => Some("containerPort"),
        "hostAliases" => Some("ip"),
        _ => None,
    }
}

/// Merges `patch` into `target`: RFC 7386 when `field` is `None`; a
/// strategic merge when it is `Some` (the name of the field `target` is,
/// which picks the lists merged by key).
fn merge(target: &mut Value, patch: &Value, field: Option<&str>) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if field.is_some() && key.starts_with('$') {
                    continue;
                }
                if value.is_null() {
                    target.remove(key);
                    continue;
                }
                let inner = field.map(|_| key.as_str());
                match target.get_mut(key) {
                    Some(slot)
                        if (slot.is_object() && value.is_object())
                            || (slot.is_array() && value.is_array()) =>
                    {
                        merge(slot, value, inner);
                    }
                    _ => {
                        let mut fresh = Value::Object(Map::new());
                        merge(&mut fresh, value, inner);
                        target.insert(key.clone(), fresh);
                    }
                }
            }
        }
        (target @ Value::Array(_), Value::Array(patch)) => match field.and_then(merge_key) {
            Some(key) => merge_list(target, patch, key),
            None => *target = Value::Array(patch.clone()),
        },
        (target, patch) => *target = strip_directives(patch.clone()),
    }
}

/// The strategic merge of a list merged by `key`: an element of the patch
/// with the key of one of the list's merges into it (`$patch: delete`
/// removes it); one with a new key is added at the end.
fn merge_list(target: &mut Value, patch: &[Value], key: &str) {
    let Value::Array(list) = target else {
        return;
    };
    for element in patch {
        let id = element.get(key);
        let at = id.and_then(|id| list.iter().position(|e| e.get(key) == Some(id)));
        let delete = element.get("$patch").and_then(Value::as_str) == Some("delete");
        match (at, delete) {
            (Some(i), true) => {
                list.remove(i);
            }
            (Some(i), false) => merge(&mut list[i], element, Some("")),
            (None, true) => {}
            (None, false) => list.push(strip_directives(element.clone())),
        }
    }
}

/// `value` without strategic merge directives (`$patch`, `$retainKeys`...).
fn strip_directives(mut value: Value) -> Value {
    if let Value::Object(map) = &mut value {
        map.retain(|k, _| !k.starts_with('$'));
    }
    value
}

/// Applies the RFC 6902 operations of `patch` to `target`, all or none.
fn json_patch(target: &mut Value, patch: &Value) -> anyhow::Result<()> {
    let ops = patch
        .as_array()
        .ok_or_else(|| anyhow!("a JSON patch is a list of operations"))?;
    let mut work = target.clone();
    for (i, op) in ops.iter().enumerate() {
        let field = |name: &str| {
            op.get(name)
                .ok_or_else(|| anyhow!("operation {i}: missing {name:?}"))
        };
        let path = field("path")?
            .as_str()
            .ok_or_else(|| anyhow!("operation {i}: \"path\" is not a string"))?;
        let kind = field("op")?.as_str().unwrap_or_default();
        match kind {
            "add" => add(&mut work, path, field("value")?.clone())?,
            "remove" => {
                remove(&mut work, path)?;
            }
            "replace" => {
                remove(&mut work, path)?;
                add(&mut work, path, field("value")?.clone())?;
            }
            "move" | "copy" => {
                let from = field("from")?
                    .as_str()
                    .ok_or_else(|| anyhow!("operation {i}: \"from\" is not a string"))?;
                let value = if kind == "move" {
                    remove(&mut work, from)?
                } else {
                    work.pointer(from)
                        .cloned()
                        .ok_or_else(|| anyhow!("operation {i}: no value at {from:?}"))?
                };
                add(&mut work, path, value)?;
            }
            "test" => {
                if work.pointer(path) != Some(field("value")?) {
                    bail!("testing value {path} failed");
                }
            }
            other => bail!("operation {i}: unknown op {other:?}"),
        }
    }
    *target = work;
    Ok(())
}

/// The parent of the RFC 6901 pointer `path` and its last token (with
/// `~1` and `~0` read back).
fn split_pointer(path: &str) -> anyhow::Result<(&str, String)> {
    let (parent, last) = path
        .rsplit_once('/')
        .ok_or_else(|| anyhow!("{path:?} is not a JSON pointer"))?;
    Ok((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn add(target: &mut Value, path: &str, value: Value) -> anyhow::Result<()> {
    let (parent, last) = split_pointer(path)?;
    match target.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(last, value);
        }
        Some(Value::Array(list)) => {
            let at = if last == "-" {
                list.len()
            } else {
                last.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= list.len())
                    .ok_or_else(|| anyhow!("add operation does not apply: {path:?}"))?
            };
            list.insert(at, value);
        }
        _ => bail!("add operation does not apply: doc is missing path: {path:?}"),
    }
    Ok(())
}

fn remove(target: &mut Value, path: &str) -> anyhow::Result<Value> {
    let (parent, last) = split_pointer(path)?;
    let missing = || anyhow!("remove operation does not apply: doc is missing path: {path:?}");
    match target.pointer_mut(parent) {
        Some(Value::Object(map)) => map.remove(&last).ok_or_else(missing),
        Some(Value::Array(list)) => match last.parse::<usize>() {
            Ok(i) if i < list.len() => Ok(list.remove(i)),
            _ => Err(missing()),
        },
        _ => Err(missing()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "metadata": {"name": "web", "labels": {"app": "web", "tier": "db"}},
            "spec": {"containers": [
                {"name": "a", "image": "busybox:1.30.1", "env": [{"name": "X", "value": "1"}]},
                {"name": "b", "image": "busybox:1.30.1"}
            ]}
        })
    }

    #[test]
    fn a_merge_patch_merges_objects_removes_nulls_and_replaces_lists() {
        let mut v = pod();
        merge(
            &mut v,
            &json!({"metadata": {"labels": {"tier": null, "new": "x"}},
                    "spec": {"containers": [{"name": "a", "image": "busybox:1.31.1"}]}}),
            None,
        );
        assert_eq!(v["metadata"]["labels"], json!({"app": "web", "new": "x"}));
        assert_eq!(
            v["spec"]["containers"],
            json!([{"name": "a", "image": "busybox:1.31.1"}])
        );
    }

    #[test]
    fn a_strategic_patch_merges_containers_by_name() {
        let mut v = pod();
        merge(
            &mut v,
            &json!({"spec": {"containers": [
                {"name": "b", "image": "busybox:1.31.1"},
                {"name": "a", "env": [{"name": "Y", "value": "2"}]}
            ]}}),
            Some(""),
        );
        assert_eq!(v["spec"]["containers"][0]["image"], "busybox:1.30.1");
        assert_eq!(v["spec"]["containers"][1]["image"], "busybox:1.31.1");
        assert_eq!(
            v["spec"]["containers"][0]["env"],
            json!([{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}])
        );
        merge(
            &mut v,
            &json!({"spec": {"containers": [{"name": "b", "$patch": "delete"}]}}),
            Some(""),
        );
        assert_eq!(v["spec"]["containers"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn a_json_patch_applies_all_its_operations_or_none() {
        let mut v = pod();
        json_patch(
            &mut v,
            &json!([
                {"op": "replace", "path": "/spec/containers/0/image", "value": "busybox:1.31.1"},
                {"op": "add", "path": "/metadata/labels/example.com~1role", "value": "x"},
                {"op": "remove", "path": "/metadata/labels/tier"},
                {"op": "test", "path": "/metadata/labels/app", "value": "web"}
            ]),
        )
        .expect("applied");
        assert_eq!(v["spec"]["containers"][0]["image"], "busybox:1.31.1");
        assert_eq!(
            v["metadata"]["labels"],
            json!({"app": "web", "example.com/role": "x"})
        );
        let before = v.clone();
        let err = json_patch(
            &mut v,
            &json!([
                {"op": "add", "path": "/metadata/labels/z", "value": "1"},
                {"op": "remove", "path": "/metadata/nosuch"}
            ]),
        )
        .expect_err("the second fails");
        assert!(err.to_string().contains("/metadata/nosuch"), "{err}");
        assert_eq!(v, before, "nothing of a failed patch is applied");
    }
}
