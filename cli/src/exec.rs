//! `peapod exec [-i] [-t] POD [-c CONTAINER] -- COMMAND...`: run a command
//! in a running container; its exit code is ours.

use std::io::IsTerminal;
use std::process::ExitCode;

use peapod_runtime::PodKey;
use peapod_runtime::pod::exec::ExecRequest;
use peapod_runtime::{Paths, pod::exec};

/// Run a command in a container.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    # A shell in the pod's default container, on a terminal\n  peapod exec -it mypod -- sh\n\n  \
    # A command in container c, its output here\n  peapod exec mypod -c c -- ls /\n\n  \
    # Data piped in\n  echo hi | peapod exec -i mypod -- cat")]
pub struct ExecArgs {
    #[command(flatten)]
    target: StreamArgs,
    /// The command and its arguments (after `--`).
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// The container and the streams of `exec` and `attach`.
#[derive(Debug, clap::Args)]
pub struct StreamArgs {
    /// Pass stdin to the container.
    #[arg(short = 'i', long)]
    pub stdin: bool,
    /// A terminal (with `-i`): this one in raw mode meanwhile, its size
    /// passed on.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// The container; the pod's default one (its
    /// `kubectl.kubernetes.io/default-container` annotation, else its
    /// first) when not given.
    #[arg(short = 'c', long, value_name = "CONTAINER")]
    pub container: Option<String>,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    /// The pod: `NAME` or `pod/NAME`.
    #[arg(value_name = "POD")]
    pub pod: String,
}

impl StreamArgs {
    /// The pod's key and the container (the default one, with kubectl's
    /// notice, when none is named).
    pub fn resolve(&self, paths: &Paths) -> anyhow::Result<(PodKey, String)> {
        let name = crate::workloads::pod_name(paths, &self.namespace, &self.pod)?;
        let key = PodKey::new(&self.namespace, name);
        let container =
            crate::default_container::container(paths, &key, self.container.as_deref())?;
        Ok((key, container))
    }
}

/// Runs `exec`.
pub fn run(args: &ExecArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    // kubectl's rules: a tty only with stdin (`-t` alone runs without
    // one, silently), and only when stdin is a terminal.
    let t = &args.target;
    let tty = t.tty && t.stdin && std::io::stdin().is_terminal();
    if t.tty && t.stdin && !tty {
        eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
    }
    let (key, container) = t.resolve(paths)?;
    let request = ExecRequest {
        container: Some(container),
        argv: args.command.clone(),
        stdin: t.stdin,
        tty,
    };
    let code = exec::exec(paths, &key, &request)?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(255)))
}
