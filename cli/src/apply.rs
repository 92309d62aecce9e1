//! `apply`, `create` and `replace` of the pods of manifests, as kubectl's:
//! `create` makes new pods only; `apply` makes the missing ones and
//! brings those that run to the manifest where a running pod may change
//! (`unchanged`, `configured`, or the API server's refusal); `replace`
//! does the same as an update, and with `--force` deletes and recreates.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use peapod_runtime::pod::launch::{Launcher, key_of};
use peapod_runtime::pod::pod_config::PodConfig;
use peapod_runtime::pod::pod_update::{self, Change};
use peapod_runtime::{Error, Paths, pod::inspect, pod::teardown};
use peapod_spec::Pod;

use crate::manifest::{Loaded, read_manifests};

/// The manifests to apply, and how.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// A manifest (YAML or JSON), a directory of them (`*.yaml`, `*.yml`,
    /// `*.json`, by name), or `-` for stdin; may repeat.
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// Read the directories of `-f` with their subdirectories.
    #[arg(short = 'R', long)]
    recursive: bool,
    /// Wait until every container runs (or fails to start); `--wait=false`
    /// returns as soon as the pod's supervisor is started.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    wait: bool,
    /// ConfigMaps and Secrets for the pods: those of every `*.yaml`,
    /// `*.yml` and `*.json` file of DIR, as if written in the manifest.
    #[arg(long, value_name = "DIR")]
    config_dir: Option<PathBuf>,
    /// `apply`: delete and recreate a pod whose change cannot be made
    /// while it runs; `replace`: delete and recreate every pod.
    #[arg(long)]
    force: bool,
    /// When to pull the pods' images, for every container instead of its
    /// `imagePullPolicy`: `always`, `missing` (only when not in the
    /// store) or `never` (a missing image fails with ErrImageNeverPull).
    #[arg(long, value_enum, value_name = "POLICY")]
    pull: Option<crate::pull_flag::Pull>,
    /// With `--force`: seconds between SIGTERM and SIGKILL for the
    /// deleted pods (their `terminationGracePeriodSeconds` by default).
    #[arg(long, value_name = "SECONDS")]
    grace_period: Option<u64>,
    /// `client` or `server`: say what would be done to each pod, and do
    /// nothing.
    #[arg(long, value_enum, value_name = "MODE", default_value = "none", num_args = 0..=1, default_missing_value = "client")]
    dry_run: crate::dry_run::DryRun,
}

/// Which verb runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Create or update.
    Apply,
    /// Create only.
    Create,
    /// Update (`--force`: delete and recreate).
    Replace,
}

/// Runs `apply`, `create` or `replace`: each pod in turn; a pod that fails
/// is said on stderr and the others go on (exit 1 at the end), as kubectl.
pub fn run(args: &ApplyArgs, verb: Verb, paths: &Paths) -> anyhow::Result<ExitCode> {
    if args.force && verb == Verb::Create {
        anyhow::bail!(
            "unknown flag: --force (create never replaces a pod; use \"peapod replace --force -f FILE\")"
        );
    }
    let loaded = read_manifests(&args.files, args.recursive, args.config_dir.as_deref())?;
    if args.dry_run != crate::dry_run::DryRun::None {
        return crate::dry_run::run(&loaded, verb, args.force, args.dry_run, paths);
    }
    let launcher = Launcher {
        exe: std::env::current_exe().context("finding the peapod binary")?,
        wait: args.wait,
    };
    let mut code = ExitCode::SUCCESS;
    for workload in &loaded.workloads {
        let config = PodConfig::for_pod(
            &workload.template_pod(),
            &loaded.config_maps,
            &loaded.secrets,
        )
        .with_pull(args.pull.map(crate::pull_flag::Pull::policy));
        let (kind, name) = (workload.workload_kind(), workload.name());
        match peapod_runtime::workload::apply(paths, &launcher.exe, workload.clone(), config) {
            Ok(applied) => writeln!(
                crate::stdout::stdout(),
                "{}/{name} {}",
                kind.resource(),
                applied.word()
            )?,
            Err(e) => {
                eprintln!("{}", crate::error_message::of_runtime(&e));
                code = ExitCode::FAILURE;
            }
        }
    }
    for (pod, file) in loaded.pods.iter().zip(&loaded.files) {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let one = One {
            args,
            verb,
            paths,
            launcher: &launcher,
            loaded: &loaded,
        };
        match one.apply(pod) {
            Ok(lines) => {
                let mut out = crate::stdout::stdout();
                for line in lines {
                    writeln!(out, "{line}")?;
                }
            }
            Err(e) => {
                eprintln!("{}", explain(&e, verb, &name, file));
                code = ExitCode::FAILURE;
            }
        }
    }
    Ok(code)
}

/// One pod of the manifests being applied.
struct One<'a> {
    args: &'a ApplyArgs,
    verb: Verb,
    paths: &'a Paths,
    launcher: &'a Launcher,
    loaded: &'a Loaded,
}

impl One<'_> {
    /// Applies `pod`; the lines to print.
    fn apply(&self, pod: &Pod) -> Result<Vec<String>, Error> {
        let pod = if self.verb == Verb::Create {
            pod.clone()
        } else {
            pod_update::with_last_applied(pod.clone())?
        };
        let key = key_of(&pod)?;
        if self.verb == Verb::Replace && self.args.force {
            return self.recreate(&pod, "replaced");
        }
        if self.verb == Verb::Replace {
            // kubectl's replace updates what exists and creates nothing.
            inspect::get(self.paths, &key)?;
        }
        let exists = match self.create(&pod) {
            Ok(()) => return Ok(vec![format!("pod/{} created", key.name)]),
            Err(e @ Error::AlreadyExists { .. }) => e,
            Err(e) => return Err(e),
        };
        if self.verb == Verb::Create {
            return Err(exists);
        }
        let live = inspect::get(self.paths, &key)?;
        let done = if self.verb == Verb::Replace {
            "replaced"
        } else {
            "configured"
        };
        match pod_update::compare(&live, &pod) {
            Ok(Change::Unchanged) if self.verb == Verb::Apply => {
                Ok(vec![format!("pod/{} unchanged", key.name)])
            }
            Ok(Change::Unchanged) => Ok(vec![format!("pod/{} {done}", key.name)]),
            Ok(Change::Configured(update)) => {
                pod_update::configure(self.paths, &key, update)?;
                Ok(vec![format!("pod/{} {done}", key.name)])
            }
            Err(Error::Invalid { .. }) if self.args.force => self.recreate(&pod, done),
            Err(e) => Err(e),
        }
    }

    /// Creates the pod with the ConfigMaps and Secrets it reads.
    fn create(&self, pod: &Pod) -> Result<(), Error> {
        let config = PodConfig::for_pod(pod, &self.loaded.config_maps, &self.loaded.secrets)
            .with_pull(self.args.pull.map(crate::pull_flag::Pull::policy));
        self.launcher
            .create_with(self.paths, pod.clone(), &config)?;
        Ok(())
    }

    /// Deletes the pod (if there) and creates it again: `pod "x" deleted`,
    /// `pod/x <done>`.
    fn recreate(&self, pod: &Pod, done: &str) -> Result<Vec<String>, Error> {
        let key = key_of(pod)?;
        let mut lines = Vec::new();
        match teardown::delete(self.paths, &key, self.args.grace_period) {
            Ok(()) => lines.push(format!("pod \"{}\" deleted", key.name)),
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        self.create(pod)?;
        lines.push(format!("pod/{} {done}", key.name));
        Ok(lines)
    }
}

/// The error line of a pod that failed, with what to do next.
fn explain(err: &Error, verb: Verb, name: &str, file: &str) -> String {
    let line = crate::error_message::of_runtime(err);
    let file = if file == "<stdin>" { "-" } else { file };
    match err {
        Error::AlreadyExists { .. } if verb == Verb::Create => format!(
            "{line}; use \"peapod apply -f {file}\" to update it, or \"peapod delete pod {name}\" first"
        ),
        Error::Invalid { .. } => format!(
            "{line}\nA running pod cannot take this change: delete and recreate it with \"peapod replace --force -f {file}\" (or \"peapod apply --force -f {file}\")"
        ),
        Error::Start(_)
        | Error::Container { .. }
        | Error::Exec { .. }
        | Error::Create { .. }
        | Error::Pod { .. }
        | Error::Supervisor { .. } => {
            let text = err.to_string();
            let next = if text.contains("ErrImagePull") || text.contains("ErrImageNeverPull") {
                "; put the image in the store with \"peapod image pull IMAGE\" or \"peapod image load -i ARCHIVE\", then apply again"
            } else {
                "; nothing of it is left: fix the manifest and apply again (\"peapod validate -f FILE\" checks it)"
            };
            format!("error: pod \"{name}\" did not start: {text}{next}")
        }
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_start_names_the_pod_and_the_next_step() {
        let pull = Error::Start(
            "container \"a\": ErrImagePull: Failed to pull image \"nosuch:9\": no such host".into(),
        );
        assert_eq!(
            explain(&pull, Verb::Apply, "web", "web.yaml"),
            "error: pod \"web\" did not start: container \"a\": ErrImagePull: Failed to pull image \"nosuch:9\": no such host; put the image in the store with \"peapod image pull IMAGE\" or \"peapod image load -i ARCHIVE\", then apply again"
        );
        let exec = Error::container("a", "exec \"nosuch\": executable file not found in $PATH");
        assert!(
            explain(&exec, Verb::Create, "web", "<stdin>").ends_with(
                "did not start: container \"a\": exec \"nosuch\": executable file not found in $PATH; nothing of it is left: fix the manifest and apply again (\"peapod validate -f FILE\" checks it)"
            )
        );
        let exists = Error::AlreadyExists {
            namespace: "default".into(),
            name: "web".into(),
        };
        assert_eq!(
            explain(&exists, Verb::Create, "web", "<stdin>"),
            "Error from server (AlreadyExists): pods \"web\" already exists; use \"peapod apply -f -\" to update it, or \"peapod delete pod web\" first"
        );
    }
}
