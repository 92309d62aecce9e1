//! `peapod delete pod NAME...` / `peapod delete -f FILE`: stop pods (grace
//! period, then SIGKILL) and remove everything of them.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use peapod_runtime::launch::key_of;
use peapod_runtime::state::PodKey;
use peapod_runtime::{Paths, teardown};

use crate::manifest::read_manifest;

/// Delete pods.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// `pod NAME...` (`pods`, `po`, any case) or `pod/NAME...`; nothing
    /// with `-f`.
    #[arg(value_name = "TYPE[/NAME]")]
    targets: Vec<String>,
    /// Delete the pods of this manifest.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    file: Option<PathBuf>,
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
}

/// Runs `delete`.
pub fn run(args: &DeleteArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    if let Some(kind) = crate::workloads::kind_of(&args.targets) {
        let (ns, grace) = (args.namespace.as_str(), args.grace_period);
        return crate::workloads::delete(
            kind,
            &args.targets,
            ns,
            grace,
            args.ignore_not_found,
            paths,
        );
    }
    let keys: Vec<PodKey> = if let Some(file) = &args.file {
        let loaded = read_manifest(file, None)?;
        for w in &loaded.workloads {
            let (kind, name) = (w.workload_kind(), w.name().to_owned());
            let targets = [kind.resource().to_owned(), name];
            let code = crate::workloads::delete(
                kind,
                &targets,
                w.namespace(),
                args.grace_period,
                args.ignore_not_found,
                paths,
            )?;
            if code != ExitCode::SUCCESS {
                return Ok(code);
            }
        }
        loaded.pods.iter().map(key_of).collect::<Result<_, _>>()?
    } else {
        if args.targets.is_empty() {
            bail!(
                "You must provide one or more resources by argument or filename: `delete pod NAME` or `delete -f FILE`."
            );
        }
        let names = crate::resource_args::pod_names("delete", &args.targets)?;
        if names.is_empty() {
            bail!("resource(s) were provided, but no name was specified");
        }
        names
            .iter()
            .map(|n| PodKey::new(&args.namespace, n))
            .collect()
    };
    // As kubectl: every pod is asked to stop at once (each waits out its
    // own grace period), and each is reported in the order named.
    std::thread::scope(|scope| {
        let stops: Vec<_> = keys
            .iter()
            .map(|key| scope.spawn(move || teardown::delete(paths, key, args.grace_period)))
            .collect();
        let mut code = ExitCode::SUCCESS;
        for (key, stop) in keys.iter().zip(stops) {
            let result = stop
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            match result {
                Ok(()) => writeln!(crate::stdout::stdout(), "pod \"{}\" deleted", key.name)?,
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
