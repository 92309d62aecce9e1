//! `peapod delete pod NAME...` / `peapod delete -f FILE|DIR|- [-R]` / `peapod delete
//! pods --all|-l SELECTOR`: stop pods (grace period, then SIGKILL) and
//! remove everything of them; `--wait=false` returns once each pod was
//! asked to stop, as kubectl returns once the API server took the delete.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use peapod_runtime::PodKey;
use peapod_runtime::pod::launch::key_of;
use peapod_runtime::{Paths, pod::inspect, pod::teardown};

use crate::manifest::read_manifests;

/// Delete pods.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// `pod NAME...` (`pods`, `po`, any case) or `pod/NAME...`; nothing
    /// with `-f`.
    #[arg(value_name = "TYPE[/NAME]")]
    targets: Vec<String>,
    /// Delete the pods (and workloads) of this manifest, of a directory's
    /// (`*.yaml`, `*.yml`, `*.json`), or of stdin (`-`); may repeat, as
    /// `apply -f`.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Read the directories of `-f` with their subdirectories.
    #[arg(short = 'R', long, requires = "files")]
    recursive: bool,
    /// Seconds between SIGTERM and SIGKILL; the pod's
    /// `terminationGracePeriodSeconds` by default.
    #[arg(long, value_name = "SECONDS")]
    grace_period: Option<u64>,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    /// A missing pod is not an error.
    #[arg(long)]
    ignore_not_found: bool,
    /// Every pod of the namespace (of every namespace with `-A`).
    #[arg(long, conflicts_with = "selector")]
    all: bool,
    /// The pods whose labels match (`a=b`, `a!=b`, `a in (x,y)`, ...).
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    selector: Option<String>,
    /// With `--all` or `-l`: the pods of every namespace.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// A grace period of 1 second (kubectl's "now").
    #[arg(long, conflicts_with = "grace_period")]
    now: bool,
    /// SIGKILL at once (a grace period of 0), with kubectl's warning and
    /// its `force deleted`.
    #[arg(long, conflicts_with = "now")]
    force: bool,
    /// `false`: return once each pod was asked to stop (it shows
    /// `Terminating` and removes itself), not once it is gone.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    wait: bool,
}

/// Runs `delete`.
pub fn run(args: &DeleteArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let grace = match (args.force, args.now, args.grace_period) {
        (true, _, Some(g)) if g > 0 => {
            bail!("--force and --grace-period greater than 0 cannot be specified together")
        }
        (true, _, _) => Some(0),
        (false, true, _) => Some(1),
        (false, false, g) => g,
    };
    if args.force {
        eprintln!(
            "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely."
        );
    }
    let deleted = if args.force {
        "force deleted"
    } else {
        "deleted"
    };
    if let Some(kind) = crate::workloads::kind_of(&args.targets) {
        let ns = args.namespace.as_str();
        return crate::workloads::delete(
            kind,
            &args.targets,
            ns,
            grace,
            args.ignore_not_found,
            paths,
        );
    }
    let keys: Vec<PodKey> = if args.files.is_empty() {
        if args.targets.is_empty() {
            bail!(
                "You must provide one or more resources by argument or filename: `delete pod NAME` or `delete -f FILE`."
            );
        }
        let names = crate::resource_args::pod_names("delete", &args.targets)?;
        if args.all || args.selector.is_some() {
            if !names.is_empty() {
                bail!("name cannot be provided when a selector is specified");
            }
            let keys = selected(args, paths)?;
            if keys.is_empty() {
                writeln!(crate::stdout::stdout(), "No resources found")?;
            }
            keys
        } else {
            if names.is_empty() {
                bail!(
                    "resource(s) were provided, but no name was specified; \"peapod delete pods --all\" deletes every pod of the namespace"
                );
            }
            names
                .iter()
                .map(|n| PodKey::new(&args.namespace, n))
                .collect()
        }
    } else {
        if args.all || args.selector.is_some() {
            bail!("cannot delete by file and by --all or -l at once");
        }
        let loaded = read_manifests(&args.files, args.recursive, None)?;
        for w in &loaded.workloads {
            let (kind, name) = (w.workload_kind(), w.name().to_owned());
            let targets = [kind.resource().to_owned(), name];
            let code = crate::workloads::delete(
                kind,
                &targets,
                w.namespace(),
                grace,
                args.ignore_not_found,
                paths,
            )?;
            if code != ExitCode::SUCCESS {
                return Ok(code);
            }
        }
        loaded.pods.iter().map(key_of).collect::<Result<_, _>>()?
    };
    let stop = |key: &PodKey| {
        if args.wait {
            teardown::delete(paths, key, grace)
        } else {
            teardown::request_delete(paths, key, grace)
        }
    };
    // As kubectl: every pod is asked to stop at once (each waits out its
    // own grace period), and each is reported in the order named.
    std::thread::scope(|scope| {
        let stops: Vec<_> = keys
            .iter()
            .map(|key| scope.spawn(move || stop(key)))
            .collect();
        let mut code = ExitCode::SUCCESS;
        for (key, stop) in keys.iter().zip(stops) {
            let result = stop
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            match result {
                Ok(()) => writeln!(crate::stdout::stdout(), "pod \"{}\" {deleted}", key.name)?,
                Err(peapod_runtime::Error::NotFound { .. }) if args.ignore_not_found => {}
                Err(e) => {
                    eprintln!("{}", crate::error_message::of_runtime(&e));
                    code = ExitCode::FAILURE;
                }
            }
        }
        Ok(code)
    })
}

/// The pods `--all` or `-l` name, in the namespace (or every one with
/// `-A`), by namespace and name.
fn selected(args: &DeleteArgs, paths: &Paths) -> anyhow::Result<Vec<PodKey>> {
    let (labels, _) = crate::get::selectors(args.selector.as_deref(), None, &[], "pods")?;
    let ns = (!args.all_namespaces).then_some(args.namespace.as_str());
    let mut keys: Vec<PodKey> = inspect::list(paths, ns)?
        .into_iter()
        .filter(|p| labels.matches(&p.metadata.labels))
        .filter_map(|p| {
            let name = p.metadata.name?;
            let namespace = p.metadata.namespace.unwrap_or_else(|| "default".to_owned());
            Some(PodKey::new(namespace, name))
        })
        .collect();
    keys.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Ok(keys)
}
