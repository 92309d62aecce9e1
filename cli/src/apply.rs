//! `peapod apply -f FILE` / `peapod create -f FILE`: run the file's pods.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use peapod_runtime::Paths;
use peapod_runtime::launch::Launcher;

use crate::manifest::read_pods;

/// Run the pods of a manifest: returns once every container runs.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// The manifest (YAML or JSON; `-` for stdin).
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    file: PathBuf,
    /// Wait until every container runs (or fails to start); `--wait=false`
    /// returns as soon as the pod's supervisor is started.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    wait: bool,
}

/// Runs `apply`.
pub fn run(args: &ApplyArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let pods = read_pods(&args.file)?;
    let launcher = Launcher {
        exe: std::env::current_exe().context("finding the peapod binary")?,
        wait: args.wait,
    };
    for pod in pods {
        let key = launcher.create(paths, pod)?;
        println!("pod/{} created", key.name);
    }
    Ok(ExitCode::SUCCESS)
}
