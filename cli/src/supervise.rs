//! `peapod supervise ...` (hidden): the per-pod supervisor process that
//! `apply` starts. Not for people.

use std::path::PathBuf;
use std::process::ExitCode;

use peapod_runtime::{Paths, supervisor};

/// Run a pod's supervisor (started by `apply`).
#[derive(Debug, clap::Args)]
pub struct SuperviseArgs {
    /// Root of running pods' state.
    #[arg(long, value_name = "DIR")]
    run_root: PathBuf,
    /// Root of images and volumes.
    #[arg(long, value_name = "DIR")]
    lib_root: PathBuf,
    /// Root of container logs.
    #[arg(long, value_name = "DIR")]
    log_root: PathBuf,
    /// Configuration folder (`registries.conf`).
    #[arg(long, value_name = "DIR")]
    etc_root: PathBuf,
    /// The pod's state folder.
    pod_dir: PathBuf,
}

/// Runs the supervisor until the pod is gone.
pub fn run(args: SuperviseArgs) -> ExitCode {
    let paths = Paths {
        run: args.run_root,
        lib: args.lib_root,
        log: args.log_root,
        etc: args.etc_root,
    };
    let code = supervisor::supervise(&paths, &args.pod_dir);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
