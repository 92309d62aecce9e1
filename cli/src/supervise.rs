//! `peapod supervise ...` (hidden): the per-pod supervisor process that
//! `apply` starts. Not for people.

use std::path::PathBuf;
use std::process::ExitCode;

use peapod_runtime::{Paths, supervise};

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
    /// The pod's (or the workload's) state folder.
    pod_dir: PathBuf,
}

/// Runs the supervisor until the pod is gone.
pub fn run(args: SuperviseArgs) -> ExitCode {
    let (paths, dir) = args.into_parts();
    let code = supervise(&paths, &dir);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// `peapod keep ...` (hidden): a workload's keeper, `dir` its folder;
/// runs until the workload is deleted or, for a Job, has ended.
pub fn keep(args: SuperviseArgs) -> ExitCode {
    let (paths, dir) = args.into_parts();
    let code = peapod_runtime::workload::keep(&paths, &dir);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

impl SuperviseArgs {
    fn into_parts(self) -> (Paths, PathBuf) {
        let paths = Paths {
            run: self.run_root,
            lib: self.lib_root,
            log: self.log_root,
            etc: self.etc_root,
        };
        (paths, self.pod_dir)
    }
}
