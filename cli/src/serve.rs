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
    /// Static pods, as kubelet's --pod-manifest-path: the pods of every
    /// `*.yaml`, `*.yml` and `*.json` file of DIR are kept running, named
    /// `<name>-<hostname>`; a new file starts its pods, a changed one
    /// replaces them, a removed one deletes them. Pods whose file did not
    /// change are left running across a restart of `serve`.
    #[arg(long, value_name = "DIR")]
    manifests: Option<std::path::PathBuf>,
    /// Where the streaming server listens: the URLs that Exec, Attach and
    /// PortForward return (WebSocket, `v4`/`v5.channel.k8s.io`) point
    /// there. Default a free port of 127.0.0.1, as containerd's.
    #[arg(long, value_name = "IP:PORT", default_value_t = peapod_cri::DEFAULT_STREAMING_ADDR)]
    streaming_addr: std::net::SocketAddr,
}

/// Serves until SIGTERM or SIGINT; `listening on unix://…` on stdout once
/// clients can connect.
pub fn run(args: &ServeArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let endpoint = match &args.cri {
        Some(text) => Endpoint::parse(text)?,
        None => Endpoint::under_run(&paths.run),
    };
    if let Some(dir) = args.manifests.clone() {
        let exe = peapod_runtime::SealedExe::own_binary().context("finding the peapod binary")?;
        let static_paths = paths.clone();
        // The watch runs beside the CRI server; it ends with the process.
        std::thread::spawn(move || {
            if let Err(e) = peapod_runtime::workload::static_pods::keep(&static_paths, &exe, &dir) {
                eprintln!("peapod serve: --manifests {}: {e}", dir.display());
                std::process::exit(1);
            }
        });
    }
    let options = Options {
        endpoint,
        paths: paths.clone(),
        streaming_addr: args.streaming_addr,
    };
    peapod_cri::serve(&options, &mut std::io::stdout()).context("peapod serve")?;
    Ok(ExitCode::SUCCESS)
}
