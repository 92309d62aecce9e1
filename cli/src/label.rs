//! `peapod label` and `peapod annotate`: kubectl's way of changing a
//! running pod's labels or annotations, `KEY=VALUE` to set (an existing
//! key only with `--overwrite`), `KEY-` to remove; the pod takes it in
//! place ([`crate::pod_edit`]).

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::bail;
use peapod_runtime::Paths;
use serde_json::Value;

use crate::pod_edit::{self, Outcome};

/// Which map of the pod's metadata the verb changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// `metadata.labels` (`peapod label`).
    Labels,
    /// `metadata.annotations` (`peapod annotate`).
    Annotations,
}

impl Which {
    fn field(self) -> &'static str {
        match self {
            Self::Labels => "labels",
            Self::Annotations => "annotations",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Self::Labels => "label",
            Self::Annotations => "annotate",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Labels => "label",
            Self::Annotations => "annotation",
        }
    }

    fn done(self) -> &'static str {
        match self {
            Self::Labels => "labeled",
            Self::Annotations => "annotated",
        }
    }
}

/// Set or remove labels (annotations) of running pods.
#[derive(Debug, clap::Args)]
pub struct MetadataArgs {
    /// `pod NAME...` or `pod/NAME...`, then `KEY=VALUE` to set and `KEY-`
    /// to remove.
    #[arg(required = true, value_name = "TYPE[/NAME] KEY=VALUE|KEY-")]
    args: Vec<String>,
    /// Replace the value of a key the pod has already.
    #[arg(long)]
    overwrite: bool,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    #[command(flatten)]
    selection: pod_edit::Selection,
    #[command(flatten)]
    dry_run: crate::dry_run::DryRunFlag,
}

/// What the command line asks of each pod's map.
#[derive(Debug, PartialEq, Eq)]
struct Changes {
    set: BTreeMap<String, String>,
    remove: Vec<String>,
}

/// Splits kubectl's arguments: the pods first, then `KEY=VALUE` and `KEY-`
/// (a pod's name never holds `=` nor ends with `-`).
fn split(args: &[String]) -> anyhow::Result<(Vec<String>, Changes)> {
    let at = args
        .iter()
        .position(|a| a.contains('=') || a.ends_with('-'))
        .unwrap_or(args.len());
    let (targets, rest) = args.split_at(at);
    let mut changes = Changes {
        set: BTreeMap::new(),
        remove: Vec::new(),
    };
    for arg in rest {
        if let Some((key, value)) = arg.split_once('=') {
            if changes
                .set
                .insert(key.to_owned(), value.to_owned())
                .is_some()
            {
                bail!("can not both modify and remove the same key {key:?}, or give it twice");
            }
        } else if let Some(key) = arg.strip_suffix('-') {
            changes.remove.push(key.to_owned());
        } else {
            bail!("all resources must be specified before the changes: {arg}");
        }
    }
    if changes.set.is_empty() && changes.remove.is_empty() {
        bail!("at least one change is required: KEY=VALUE or KEY-");
    }
    if let Some(both) = changes.remove.iter().find(|k| changes.set.contains_key(*k)) {
        bail!("can not both modify and remove the same key {both:?}");
    }
    Ok((targets.to_vec(), changes))
}

/// Applies `changes` to the map `field` of the pod's object; refuses to
/// replace a value without `overwrite`, as kubectl does.
fn change_map(
    object: &mut Value,
    which: Which,
    changes: &Changes,
    overwrite: bool,
) -> anyhow::Result<()> {
    let map = object["metadata"]
        .as_object_mut()
        .ok_or_else(|| anyhow::anyhow!("the pod has no metadata"))?
        .entry(which.field())
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    let Value::Object(map) = map else {
        bail!("metadata.{} is not a map", which.field());
    };
    for (key, value) in &changes.set {
        if let Some(Value::String(old)) = map.get(key)
            && old != value
            && !overwrite
        {
            match which {
                Which::Labels => {
                    bail!("'{key}' already has a value ({old}), and --overwrite is false")
                }
                Which::Annotations => bail!(
                    "--overwrite is false but found the following declared annotation(s): '{key}' already has a value ({old})"
                ),
            }
        }
        map.insert(key.clone(), Value::String(value.clone()));
    }
    for key in &changes.remove {
        if map.remove(key).is_none() {
            eprintln!("{} \"{key}\" not found.", which.noun());
        }
    }
    Ok(())
}

/// Runs `label` or `annotate`: `pod/NAME labeled` (`not labeled` when
/// nothing changed), `pod/NAME annotated`.
///
/// # Errors
/// The arguments are not kubectl's; a pod is missing or refused the
/// change (after the pods before it took theirs, as kubectl goes on).
pub fn run(args: &MetadataArgs, which: Which, paths: &Paths) -> anyhow::Result<ExitCode> {
    let (targets, changes) = split(&args.args)?;
    let keys = pod_edit::keys(
        which.verb(),
        &targets,
        &args.namespace,
        &args.selection,
        paths,
    )?;
    pod_edit::edit_each(
        paths,
        keys,
        args.dry_run.mode,
        |key| format!("pod/{} as {}", key.name, which.done()),
        |object| change_map(object, which, &changes, args.overwrite),
        |outcome| match (which, outcome) {
            (Which::Labels, Outcome::Unchanged) => Some("not labeled"),
            _ => Some(which.done()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource_args::strings;

    #[test]
    fn pods_come_first_then_sets_and_removals() {
        let (targets, changes) =
            split(&strings(&["pod", "a", "b", "tier=web", "example.com/x-"])).expect("split");
        assert_eq!(targets, ["pod", "a", "b"]);
        assert_eq!(
            changes,
            Changes {
                set: BTreeMap::from([("tier".to_owned(), "web".to_owned())]),
                remove: vec!["example.com/x".to_owned()],
            }
        );
    }

    #[test]
    fn a_change_alone_or_the_same_key_twice_is_refused() {
        assert!(split(&strings(&["pod/a"])).is_err());
        assert!(split(&strings(&["pod/a", "x=1", "x-"])).is_err());
        assert!(split(&strings(&["pod/a", "x=1", "pod/b"])).is_err());
    }

    #[test]
    fn an_existing_value_needs_overwrite() {
        let mut object = serde_json::json!({"metadata": {"labels": {"tier": "db"}}});
        let changes = Changes {
            set: BTreeMap::from([("tier".to_owned(), "web".to_owned())]),
            remove: Vec::new(),
        };
        let err = change_map(&mut object, Which::Labels, &changes, false).expect_err("refused");
        assert_eq!(
            err.to_string(),
            "'tier' already has a value (db), and --overwrite is false"
        );
        change_map(&mut object, Which::Labels, &changes, true).expect("overwritten");
        assert_eq!(object["metadata"]["labels"]["tier"], "web");
    }
}
