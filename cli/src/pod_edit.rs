//! What `label`, `annotate`, `patch`, `set image` and `edit` share: a
//! change made to a running pod's object, checked as a manifest is
//! checked, then carried out in place as `apply` carries a change out
//! ([`pod_update`]): labels, annotations, images and
//! `activeDeadlineSeconds`; any other change is refused with the API
//! server's words, and the pod is left as it was.

use anyhow::{Context, anyhow, bail};
use peapod_runtime::pod::launch::key_of;
use peapod_runtime::pod::{inspect, pod_update};
use peapod_runtime::{Paths, PodKey};
use peapod_spec::{Context as ManifestContext, Pod, ValidationMode};
use serde_json::Value;

use crate::dry_run::DryRun;

/// What a change came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The pod took the change.
    Changed,
    /// The change left the pod as it was.
    Unchanged,
}

/// The pod `key` as it runs now (status and all).
///
/// # Errors
/// The pod does not exist (kubectl's NotFound).
pub fn live(paths: &Paths, key: &PodKey) -> anyhow::Result<Pod> {
    Ok(inspect::get(paths, key)?)
}

/// The pod's object as a manifest would hold it: its JSON without status.
///
/// # Errors
/// The pod cannot be written as JSON.
pub fn object(pod: &Pod) -> anyhow::Result<Value> {
    let mut value = serde_json::to_value(pod).context("the pod as JSON")?;
    if let Some(map) = value.as_object_mut() {
        map.remove("status");
    }
    Ok(value)
}

/// Changes pod `key` with `change` (made on its [`object`]), then carries
/// the result out ([`carry_out`]); with `--dry-run` checks it as that
/// would, refusing what it would refuse, and changes nothing.
///
/// # Errors
/// The pod does not exist; `change` failed; see [`carry_out`].
pub fn edit(
    paths: &Paths,
    key: &PodKey,
    what: &str,
    dry_run: DryRun,
    change: impl FnOnce(&mut Value) -> anyhow::Result<()>,
) -> anyhow::Result<Outcome> {
    let live = live(paths, key)?;
    let mut value = object(&live)?;
    change(&mut value)?;
    let text = serde_json::to_string_pretty(&value).context("the changed pod as JSON")?;
    let change = checked(key, &live, &text, what)?;
    settle(paths, key, change, dry_run == DryRun::None)
}

/// Reads `text` (YAML or JSON: the pod `live` as changed; `what` names it
/// in messages) with the checks of `apply` (an unknown field or an invalid
/// label is refused as in a manifest), but for the ConfigMaps and Secrets
/// it names, found when the pod was made; then hands what changed to the
/// pod's supervisor.
///
/// # Errors
/// The text is not one valid pod of the same name; the change is one a
/// running pod cannot take (the API server's `Invalid` message); the
/// supervisor refused it.
pub fn carry_out(
    paths: &Paths,
    key: &PodKey,
    live: &Pod,
    text: &str,
    what: &str,
) -> anyhow::Result<Outcome> {
    settle(paths, key, checked(key, live, text, what)?, true)
}

/// `change` handed to the pod's supervisor when `configure` (else only
/// said, for `--dry-run`).
fn settle(
    paths: &Paths,
    key: &PodKey,
    change: pod_update::Change,
    configure: bool,
) -> anyhow::Result<Outcome> {
    match change {
        pod_update::Change::Unchanged => Ok(Outcome::Unchanged),
        pod_update::Change::Configured(update) => {
            if configure {
                pod_update::configure(paths, key, update)?;
            }
            Ok(Outcome::Changed)
        }
    }
}

/// What [`carry_out`] would hand the supervisor for `text`, checked.
fn checked(key: &PodKey, live: &Pod, text: &str, what: &str) -> anyhow::Result<pod_update::Change> {
    let context = ManifestContext {
        references_checked: true,
        ..ManifestContext::default()
    };
    // The live pod's own warnings (an ignored field of its manifest) were
    // printed by its apply; a change adds none of them.
    let manifest = peapod_spec::parse_manifest_with(text, what, ValidationMode::Strict, context)
        .map_err(|diagnostics| anyhow!("{diagnostics}"))?;
    let [pod] = <[Pod; 1]>::try_from(manifest.pods)
        .map_err(|_| anyhow!("{what}: the change must leave one v1 Pod"))?;
    if pod.metadata.name.as_deref() != Some(key.name.as_str()) {
        bail!(
            "{what}: metadata.name: Forbidden: the name of a pod cannot change (\"{}\")",
            key.name
        );
    }
    Ok(pod_update::compare(live, &pod)?)
}

/// Carries `change` out on each pod of `keys` in turn ([`edit`], `what`
/// naming the change for pod `key`), going on past a refused pod as
/// kubectl does: prints `pod/NAME <said>` for each outcome `said` words
/// (none: nothing to print), and reports a refusal ([`report`]), which
/// makes the exit code a failure.
///
/// # Errors
/// Standard output cannot be written.
pub fn edit_each(
    paths: &Paths,
    keys: Vec<PodKey>,
    dry_run: DryRun,
    what: impl Fn(&PodKey) -> String,
    change: impl Fn(&mut Value) -> anyhow::Result<()>,
    said: impl Fn(Outcome) -> Option<&'static str>,
) -> anyhow::Result<std::process::ExitCode> {
    use std::io::Write as _;
    let mut out = crate::stdout::stdout();
    let mut code = std::process::ExitCode::SUCCESS;
    for key in keys {
        match edit(paths, &key, &what(&key), dry_run, &change) {
            Ok(outcome) => {
                if let Some(done) = said(outcome) {
                    writeln!(out, "pod/{} {done}{}", key.name, dry_run.tail())?;
                }
            }
            Err(err) => {
                report(&err, &key.name);
                code = std::process::ExitCode::FAILURE;
            }
        }
    }
    Ok(code)
}

/// Prints `err` of a change to pod `name` as kubectl prints it (the API
/// server's `Invalid` as it is), with the way to make a change a running
/// pod cannot take.
pub fn report(err: &anyhow::Error, name: &str) {
    eprintln!("{}", crate::error_message::of(err));
    let invalid = err.chain().any(|e| {
        matches!(
            e.downcast_ref(),
            Some(peapod_runtime::Error::Invalid { .. })
        )
    });
    if invalid {
        eprintln!(
            "A running pod cannot take this change: write it out with \"peapod get pod {name} -o yaml > {name}.yaml\", change the file, and recreate the pod with \"peapod replace --force -f {name}.yaml\""
        );
    }
}

/// `--all`, `-l` and `-f`: the pods a verb changes when none is named.
#[derive(Debug, Clone, clap::Args)]
pub struct Selection {
    /// Every pod of the namespace.
    #[arg(long, conflicts_with = "selector")]
    all: bool,
    /// The pods of the namespace whose labels match (`a=b`, `a!=b`,
    /// `a in (x,y)`, ...).
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    selector: Option<String>,
    #[command(flatten)]
    manifests: Manifests,
}

/// `-f` and `-R`: the pods of manifests.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Manifests {
    /// The pods of these manifests (a directory's files, `-` for stdin;
    /// may repeat), read as `apply -f` reads them.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    files: Vec<std::path::PathBuf>,
    /// Read the directories of `-f` with their subdirectories.
    #[arg(short = 'R', long, requires = "files")]
    recursive: bool,
}

impl Selection {
    /// No selection: the pods must be named (`edit`), or given by `-f`
    /// (`patch`).
    pub fn only(manifests: &Manifests) -> Self {
        Self {
            all: false,
            selector: None,
            manifests: manifests.clone(),
        }
    }
}

/// The pods of `targets` (`TYPE NAME...` or `TYPE/NAME...`) in
/// `namespace`, or with `--all`/`-l` those `selection` keeps there, or
/// with `-f` those of the manifests (in their own namespaces).
///
/// # Errors
/// A type peapod has not; names and a selection at once; neither.
pub fn keys(
    verb: &str,
    targets: &[String],
    namespace: &str,
    selection: &Selection,
    paths: &Paths,
) -> anyhow::Result<Vec<PodKey>> {
    let selecting = selection.all || selection.selector.is_some();
    let Manifests { files, recursive } = &selection.manifests;
    if !files.is_empty() {
        if selecting || !targets.is_empty() {
            bail!("pods named or selected and -f at once: give the pods one way");
        }
        let loaded = crate::manifest::read_manifests(files, *recursive, None)?;
        if let Some(w) = loaded.workloads.first() {
            bail!(
                "{verb} -f: {}/{} is not a pod; only pods take it",
                w.workload_kind().resource(),
                w.name()
            );
        }
        return Ok(loaded.pods.iter().map(key_of).collect::<Result<_, _>>()?);
    }
    let names = crate::resource_args::pod_names(verb, targets)?;
    if !names.is_empty() {
        if selecting {
            bail!("name cannot be provided when a selector or --all is specified");
        }
        return Ok(names
            .into_iter()
            .map(|n| PodKey::new(namespace, n))
            .collect());
    }
    if !selecting {
        bail!(
            "resource(s) were provided, but no name was specified; name the pods, or select them with --all or -l"
        );
    }
    let (labels, _) = crate::get::selectors(selection.selector.as_deref(), None, &[], "pods")?;
    let (pods, _) = crate::get::Query::by_labels(namespace, labels).pods(paths)?;
    Ok(pods
        .iter()
        .map(|p| PodKey::new(namespace, p.metadata.name.as_deref().unwrap_or_default()))
        .collect())
}
