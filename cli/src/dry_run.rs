//! `--dry-run=client|server` of `apply`, `create` and `replace`: what the
//! verb would do to each pod, said as kubectl says it (`pod/x created
//! (dry run)`), with the same refusals, and nothing changed on the host.

use std::io::Write as _;
use std::process::ExitCode;

use peapod_runtime::pod::launch::key_of;
use peapod_runtime::pod::pod_update::{self, Change};
use peapod_runtime::{Error, Paths, pod::inspect};
use peapod_spec::Pod;

use crate::apply::Verb;
use crate::manifest::Loaded;

/// kubectl's `--dry-run` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DryRun {
    /// Do it (the default).
    None,
    /// Say what would be done, checked as peapod checks it.
    Client,
    /// The same as `client` (peapod is its own server), said as
    /// `(server dry run)`.
    Server,
}

/// `--dry-run[=client|server]` of the verbs that change a running pod
/// (`label`, `annotate`, `patch`, `set image`).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct DryRunFlag {
    /// `client` or `server`: say what would change (`pod/x labeled (dry
    /// run)`), refuse what would be refused, and change nothing.
    #[arg(long = "dry-run", value_enum, value_name = "MODE", default_value = "none", num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    pub mode: DryRun,
}

impl DryRun {
    /// What kubectl adds to a verb's line: nothing, ` (dry run)` or
    /// ` (server dry run)`.
    pub fn tail(self) -> &'static str {
        match self {
            Self::None => "",
            Self::Client => " (dry run)",
            Self::Server => " (server dry run)",
        }
    }

    /// kubectl's words after what was done: `(dry run)` or `(server dry
    /// run)`.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Server => "(server dry run)",
            _ => "(dry run)",
        }
    }
}

/// What `verb` would do to `pod`: kubectl's word for it.
fn outcome(paths: &Paths, verb: Verb, force: bool, pod: &Pod) -> Result<&'static str, Error> {
    let applied = pod_update::with_last_applied(pod.clone())?;
    let key = key_of(&applied)?;
    let live = match inspect::get(paths, &key) {
        Ok(live) => live,
        Err(Error::NotFound { .. }) if verb != Verb::Replace => return Ok("created"),
        Err(e) => return Err(e),
    };
    if verb == Verb::Create {
        return Err(Error::AlreadyExists {
            namespace: key.namespace,
            name: key.name,
        });
    }
    let done = if verb == Verb::Replace {
        "replaced"
    } else {
        "configured"
    };
    if force {
        return Ok(done);
    }
    match pod_update::compare(&live, &applied)? {
        Change::Unchanged if verb == Verb::Apply => Ok("unchanged"),
        _ => Ok(done),
    }
}

/// Says what `verb` would do to each pod of `loaded`; a pod it would
/// refuse is said on stderr (exit 1), as without `--dry-run`.
///
/// # Errors
/// The manifests hold workloads (their dry run is not written yet);
/// stdout failed.
pub fn run(
    loaded: &Loaded,
    verb: Verb,
    force: bool,
    dry_run: DryRun,
    paths: &Paths,
) -> anyhow::Result<ExitCode> {
    if !loaded.workloads.is_empty() {
        anyhow::bail!(
            "--dry-run covers pods only: the manifests also hold workloads (Deployments, Jobs...)"
        );
    }
    let mut out = crate::stdout::stdout();
    let mut code = ExitCode::SUCCESS;
    for pod in &loaded.pods {
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        match outcome(paths, verb, force, pod) {
            Ok(word) => writeln!(out, "pod/{name} {word} {}", dry_run.suffix())?,
            Err(e) => {
                eprintln!("{}", crate::error_message::of_runtime(&e));
                code = ExitCode::FAILURE;
            }
        }
    }
    Ok(code)
}
