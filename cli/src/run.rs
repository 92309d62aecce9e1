//! `peapod run [--rm] [--name N] [--network none|bridge] [-e K=V] IMAGE
//! [-- ARGS...]`: one container in the foreground, its exit code ours.

use std::process::ExitCode;

use anyhow::bail;
use peapod_runtime::Paths;
use peapod_runtime::network::Mode;
use peapod_runtime::run_once::{self, RunOptions};

/// Run one container in the foreground; exit with its exit code (125 when
/// peapod fails, 126 when the command cannot be executed, 127 when it does
/// not exist).
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
    /// When to pull the image: `always`, `missing` (only when not in the
    /// store) or `never`, the default (import, load or pull it first).
    #[arg(long, value_enum, value_name = "POLICY")]
    pull: Option<crate::pull_flag::Pull>,
    /// The image, as imported, loaded or pulled (see `--pull`).
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
pub fn run(args: &RunArgs, paths: &Paths) -> ExitCode {
    let options = match options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(125);
        }
    };
    match run_once::run(paths, &options) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(255)),
        Err(e) => {
            eprintln!("{}", crate::error_message::of_runtime(&e));
            ExitCode::from(own_error_code(&e))
        }
    }
}

/// The run's options from the command line.
fn options(args: &RunArgs) -> anyhow::Result<RunOptions> {
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
    Ok(RunOptions {
        image: args.image.clone(),
        args: args.args.clone(),
        env,
        name: args.name.clone(),
        network,
        remove: args.rm,
        pull: args.pull.map(crate::pull_flag::Pull::policy),
    })
}

/// podman's and docker's codes for `run`'s own failures: 127 when the
/// command does not exist, 126 when it cannot be executed, 125 for
/// anything else (image, cgroup, network, ...). A command that ran exits
/// with its own code (128 + signal when killed) instead.
fn own_error_code(e: &peapod_runtime::Error) -> u8 {
    match e {
        peapod_runtime::Error::Exec {
            not_found: true, ..
        } => 127,
        peapod_runtime::Error::Exec { .. } => 126,
        _ => 125,
    }
}
