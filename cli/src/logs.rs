//! `peapod logs POD [-c CONTAINER] [-f] [-p] [--tail N]`: a container's output.

use std::process::ExitCode;

use peapod_runtime::logs::LogsRequest;
use peapod_runtime::state::PodKey;
use peapod_runtime::{Paths, logs};

/// Print a container's logs.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// The pod: `NAME` or `pod/NAME`.
    #[arg(value_name = "POD")]
    pod: String,
    /// The container; the pod's default one (its
    /// `kubectl.kubernetes.io/default-container` annotation, else its
    /// first) when not given.
    #[arg(short = 'c', long, value_name = "CONTAINER")]
    container: Option<String>,
    /// Keep printing while the container runs.
    #[arg(short = 'f', long)]
    follow: bool,
    /// The previous run's log.
    #[arg(short = 'p', long)]
    previous: bool,
    /// Only the last lines (-1: all, as kubectl).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    tail: i64,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
}

/// Runs `logs`.
pub fn run(args: &LogsArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let key = PodKey::new(&args.namespace, crate::resource_args::pod_name(&args.pod)?);
    let container = crate::default_container::container(paths, &key, args.container.as_deref())?;
    let request = LogsRequest {
        container: Some(container),
        follow: args.follow,
        previous: args.previous,
        tail: usize::try_from(args.tail).ok(),
    };
    logs::logs(paths, &key, &request, &mut crate::stdout::stdout())?;
    Ok(ExitCode::SUCCESS)
}
