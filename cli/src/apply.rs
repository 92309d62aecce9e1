//! `peapod apply -f FILE` / `peapod create -f FILE`: run the file's pods.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use peapod_runtime::Paths;
use peapod_runtime::launch::Launcher;
use peapod_runtime::pod_config::PodConfig;

use crate::manifest::read_manifest;

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
    /// ConfigMaps and Secrets for the pods: those of every `*.yaml`,
    /// `*.yml` and `*.json` file of DIR, as if written in the manifest.
    #[arg(long, value_name = "DIR")]
    config_dir: Option<PathBuf>,
    /// When to pull the pods' images, for every container instead of its
    /// `imagePullPolicy`: `always`, `missing` (only when not in the
    /// store) or `never` (a missing image fails with ErrImageNeverPull).
    #[arg(long, value_enum, value_name = "POLICY")]
    pull: Option<crate::pull_flag::Pull>,
}

/// Runs `apply`.
pub fn run(args: &ApplyArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let loaded = read_manifest(&args.file, args.config_dir.as_deref())?;
    let launcher = Launcher {
        exe: std::env::current_exe().context("finding the peapod binary")?,
        wait: args.wait,
    };
    for pod in loaded.pods {
        let config = PodConfig::for_pod(&pod, &loaded.config_maps, &loaded.secrets)
            .with_pull(args.pull.map(crate::pull_flag::Pull::policy));
        let key = launcher.create_with(paths, pod, &config)?;
        println!("pod/{} created", key.name);
    }
    Ok(ExitCode::SUCCESS)
}
