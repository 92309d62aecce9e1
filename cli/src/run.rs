//! `peapod run [--rm] [--name N] [--network none|bridge] [-e K=V] IMAGE
//! [-- ARGS...]`: one container in the foreground, its exit code ours.

use std::process::ExitCode;

use anyhow::bail;
use peapod_runtime::Paths;
use peapod_runtime::network::Mode;
use peapod_runtime::run_once::{self, RunOptions};

/// Run one container in the foreground; exit with its exit code.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Remove the pod when the container exits (else it stays, Succeeded
    /// or Failed, in `get pods` until `delete`).
    #[arg(long)]
    rm: bool,
    /// The pod's and container's name (and hostname); `run-XXXXXXXX`
    /// when not given.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// `bridge` (a veth on peapod0, the default) or `none` (loopback only);
    /// `PEAPOD_NETWORK` when not given, as for `apply`.
    #[arg(
        long,
        value_name = "MODE",
        default_value = "bridge",
        env = "PEAPOD_NETWORK"
    )]
    network: String,
    /// An environment variable, `NAME=value` (repeatable).
    #[arg(short = 'e', long = "env", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// The image, as imported or pulled (never pulled by `run`).
    image: String,
    /// Arguments replacing the image's CMD (its ENTRYPOINT stays).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<String>,
}

/// Runs `run`.
pub fn run(args: &RunArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let network = match args.network.as_str() {
        "bridge" => Mode::Bridge,
        "none" => Mode::None,
        other => bail!("--network {other:?}: expected \"bridge\" or \"none\""),
    };
    let env = args
        .env
        .iter()
        .map(|e| match e.split_once('=') {
            Some((n, v)) => Ok((n.to_owned(), v.to_owned())),
            None => bail!("-e {e:?}: expected NAME=VALUE"),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let options = RunOptions {
        image: args.image.clone(),
        args: args.args.clone(),
        env,
        name: args.name.clone(),
        network,
        remove: args.rm,
    };
    let code = run_once::run(paths, &options)?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(255)))
}
