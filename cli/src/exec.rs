//! `peapod exec [-i] [-t] POD [-c CONTAINER] -- COMMAND...`: run a command
//! in a running container; its exit code is ours.

use std::io::IsTerminal;
use std::process::ExitCode;

use peapod_runtime::exec::ExecRequest;
use peapod_runtime::state::PodKey;
use peapod_runtime::{Paths, exec};

/// Run a command in a container.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    # A shell in the pod's default container, on a terminal\n  peapod exec -it mypod -- sh\n\n  \
    # A command in container c, its output here\n  peapod exec mypod -c c -- ls /\n\n  \
    # Data piped in\n  echo hi | peapod exec -i mypod -- cat")]
pub struct ExecArgs {
    /// Pass stdin to the command.
    #[arg(short = 'i', long)]
    stdin: bool,
    /// A terminal for the command (with `-i`): a pty of the container,
    /// this terminal in raw mode while it runs, its size passed on.
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
    // kubectl's rules: a tty only with stdin (`-t` alone runs without
    // one, silently), and only when stdin is a terminal.
    let tty = args.tty && args.stdin && std::io::stdin().is_terminal();
    if args.tty && args.stdin && !tty {
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
