//! `peapod serve`: the Kubernetes CRI endpoint a kubelet (or `crictl`)
//! drives peapod through, on a unix socket, until SIGTERM or SIGINT.

use std::process::ExitCode;

use anyhow::Context as _;
use peapod_cri::{Endpoint, Options};
use peapod_runtime::Paths;

/// Serve the Kubernetes CRI (RuntimeService, ImageService) on a unix socket.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The CRI socket: `unix:///PATH` (mode 0660). Default
    /// `unix:///run/peapod/peapod.sock`; with `--root DIR`,
    /// `DIR/run/peapod.sock`. A stale socket file is replaced.
    #[arg(long = "cri", value_name = "ENDPOINT")]
    cri: Option<String>,
}

/// Serves until SIGTERM or SIGINT; `listening on unix://…` on stdout once
/// clients can connect.
pub fn run(args: &ServeArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let endpoint = match &args.cri {
        Some(text) => Endpoint::parse(text)?,
        None => Endpoint::under_run(&paths.run),
    };
    let options = Options {
        endpoint,
        paths: paths.clone(),
    };
    peapod_cri::serve(&options, &mut std::io::stdout()).context("peapod serve")?;
    Ok(ExitCode::SUCCESS)
}
