//! `peapod diff -f FILE`: what `apply -f FILE` would change, as kubectl
//! shows it: each pod's live object and the object it would become are
//! written to two folders (`LIVE-*`, `MERGED-*`, one file a pod named
//! `v1.Pod.NAMESPACE.NAME`) and compared by `diff -u -N` (or
//! `KUBECTL_EXTERNAL_DIFF`). Exit 0: no difference; 1: differences; 2:
//! an error (a change a running pod cannot take, with the API server's
//! words), as kubectl's exit codes are.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use peapod_runtime::pod::{inspect, pod_update};
use peapod_runtime::{Error, Paths, PodKey};
use peapod_spec::Pod;
use serde_json::Value;

/// Show what `apply -f` would change.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// A manifest, a directory of them, or `-` for stdin; may repeat.
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// Read the directories of `-f` with their subdirectories.
    #[arg(short = 'R', long)]
    recursive: bool,
}

/// A folder of the temporary directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(prefix: &str) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
        std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }

    fn write(&self, key: &PodKey, object: Option<&Value>) -> anyhow::Result<()> {
        let Some(object) = object else {
            return Ok(());
        };
        let file = self
            .0
            .join(format!("v1.Pod.{}.{}", key.namespace, key.name));
        std::fs::write(&file, peapod_spec::to_yaml(object)?)
            .with_context(|| format!("writing {}", file.display()))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The live object with what `update` changes: labels, annotations, the
/// deadline, the images.
fn merged(live: &Value, update: &pod_update::PodUpdate) -> anyhow::Result<Value> {
    let mut merged = live.clone();
    merged["metadata"]["labels"] = serde_json::to_value(&update.labels)?;
    merged["metadata"]["annotations"] = serde_json::to_value(&update.annotations)?;
    if let Some(seconds) = update.active_deadline_seconds {
        merged["spec"]["activeDeadlineSeconds"] = Value::from(seconds);
    }
    for list in ["initContainers", "containers"] {
        if let Some(Value::Array(containers)) = merged["spec"].get_mut(list) {
            for c in containers {
                let name = c["name"].as_str().unwrap_or_default().to_owned();
                if let Some(image) = update.images.get(&name) {
                    c["image"] = Value::String(image.clone());
                }
            }
        }
    }
    Ok(merged)
}

/// The live object of `pod` (`None`: not created yet) and the one `apply`
/// would make of it.
fn pair(paths: &Paths, pod: &Pod) -> anyhow::Result<(PodKey, Option<Value>, Value)> {
    let applied = pod_update::with_last_applied(pod.clone())?;
    let key = PodKey::new(
        applied.metadata.namespace.as_deref().unwrap_or("default"),
        applied.metadata.name.as_deref().unwrap_or_default(),
    );
    let live = match inspect::get(paths, &key) {
        Ok(live) => live,
        Err(Error::NotFound { .. }) => {
            return Ok((key, None, crate::pod_edit::object(&applied)?));
        }
        Err(e) => return Err(e.into()),
    };
    let object = crate::pod_edit::object(&live)?;
    let after = match pod_update::compare(&live, &applied)? {
        pod_update::Change::Unchanged => object.clone(),
        pod_update::Change::Configured(update) => merged(&object, &update)?,
    };
    Ok((key, Some(object), after))
}

/// Runs `diff`: 0, 1, or 2 with the error printed.
pub fn run(args: &DiffArgs, paths: &Paths) -> ExitCode {
    run_diff(args, paths).unwrap_or_else(|err| {
        eprintln!("{}", crate::error_message::of(&err));
        ExitCode::from(2)
    })
}

fn run_diff(args: &DiffArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let loaded = crate::manifest::read_manifests(&args.files, args.recursive, None)?;
    let live_dir = Scratch::new("LIVE")?;
    let merged_dir = Scratch::new("MERGED")?;
    for pod in &loaded.pods {
        let (key, live, after) = pair(paths, pod)?;
        live_dir.write(&key, live.as_ref())?;
        merged_dir.write(&key, Some(&after))?;
    }
    compare(&live_dir.0, &merged_dir.0)
}

/// Runs the diff program on the two folders: its exit code, as kubectl
/// passes it on (0 or 1; another is an error).
fn compare(live: &Path, merged: &Path) -> anyhow::Result<ExitCode> {
    let program = std::env::var("KUBECTL_EXTERNAL_DIFF")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "diff -u -N".to_owned());
    let mut words = program.split_whitespace();
    let name = words.next().unwrap_or("diff");
    let status = Command::new(name)
        .args(words)
        .arg(live)
        .arg(merged)
        .status()
        .with_context(|| format!("running {program:?}"))?;
    match status.code() {
        Some(0) => Ok(ExitCode::SUCCESS),
        Some(1) => Ok(ExitCode::from(1)),
        _ => bail!("{program} ended with {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn the_merged_object_takes_the_updates_fields_only() {
        let live = serde_json::json!({
            "metadata": {"name": "web", "labels": {"a": "1"}, "uid": "u"},
            "spec": {"containers": [{"name": "c", "image": "old", "command": ["sleep"]}]}
        });
        let update = pod_update::PodUpdate {
            labels: BTreeMap::from([("a".to_owned(), "2".to_owned())]),
            annotations: BTreeMap::new(),
            active_deadline_seconds: Some(5),
            images: BTreeMap::from([("c".to_owned(), "new".to_owned())]),
        };
        let after = merged(&live, &update).expect("merged");
        assert_eq!(after["metadata"]["labels"]["a"], "2");
        assert_eq!(after["metadata"]["uid"], "u");
        assert_eq!(after["spec"]["activeDeadlineSeconds"], 5);
        assert_eq!(after["spec"]["containers"][0]["image"], "new");
        assert_eq!(after["spec"]["containers"][0]["command"][0], "sleep");
    }
}
