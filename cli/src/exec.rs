//! `peapod exec [-i] [-t] POD [-c CONTAINER] -- COMMAND...`: run a command
//! in a running container; its exit code is ours.

use std::io::IsTerminal;
use std::process::ExitCode;

use peapod_runtime::exec::ExecRequest;
use peapod_runtime::state::PodKey;
use peapod_runtime::{Paths, exec};

/// Run a command in a container.
#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// Pass stdin to the command.
    #[arg(short = 'i', long)]
    stdin: bool,
    /// Give the command this terminal as its controlling tty.
    #[arg(short = 't', long)]
    tty: bool,
    /// The container; the pod's default one (its
    /// `kubectl.kubernetes.io/default-container` annotation, else its
    /// first) when not given.
    #[arg(short = 'c', long, value_name = "CONTAINER")]
    container: Option<String>,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    /// The pod: `NAME` or `pod/NAME`.
    #[arg(value_name = "POD")]
    pod: String,
    /// The command and its arguments (after `--`).
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// Runs `exec`.
pub fn run(args: &ExecArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let tty = args.tty && std::io::stdin().is_terminal();
    if args.tty && !tty {
        eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
    }
    let key = PodKey::new(&args.namespace, crate::resource_args::pod_name(&args.pod)?);
    let container = crate::default_container::container(paths, &key, args.container.as_deref())?;
    let request = ExecRequest {
        container: Some(container),
        argv: args.command.clone(),
        stdin: args.stdin,
        tty,
    };
    let code = exec::exec(paths, &key, &request)?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(255)))
}
