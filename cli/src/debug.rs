//! `peapod debug POD -it --image=IMG [--target=CTR] [--container=NAME]
//! [-- COMMAND...]`: an ephemeral container in a running pod, as kubectl
//! adds one ([`peapod_runtime::pod::ephemeral`]): the target's PID namespace
//! and the pod's network, IPC and UTS, its own root filesystem; shown
//! under `ephemeralContainers` by `get -o yaml` and `describe`.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::bail;
use peapod_runtime::Paths;
use peapod_runtime::PodKey;
use peapod_runtime::pod::ephemeral::{self, DebugRequest};

/// Add an ephemeral container to a pod.
#[derive(Debug, clap::Args)]
pub struct DebugArgs {
    /// The pod: `NAME` or `pod/NAME`.
    #[arg(value_name = "POD")]
    pod: String,
    /// The image of the ephemeral container.
    #[arg(long, value_name = "IMAGE")]
    image: String,
    /// The container whose processes it sees (its PID namespace).
    #[arg(long, value_name = "CONTAINER")]
    target: Option<String>,
    /// Its name; `debugger-` and five letters when not given.
    #[arg(short = 'c', long, value_name = "NAME")]
    container: Option<String>,
    /// Pass stdin to it (required: it runs while this command is
    /// attached).
    #[arg(short = 'i', long)]
    stdin: bool,
    /// A terminal (with `-i`).
    #[arg(short = 't', long)]
    tty: bool,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    /// The command and its arguments (after `--`); the image's by default.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// Runs `debug`.
pub fn run(args: &DebugArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    if !args.stdin {
        bail!(
            "peapod debug runs the ephemeral container while it is attached: add -i (and -t for a shell), as in \"peapod debug {} -it --image={}\"",
            args.pod,
            args.image
        );
    }
    let tty = args.tty && std::io::stdin().is_terminal();
    if args.tty && !tty {
        eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
    }
    let key = PodKey::new(&args.namespace, crate::resource_args::pod_name(&args.pod)?);
    let name = args
        .container
        .clone()
        .unwrap_or_else(|| format!("debugger-{}", suffix()));
    if tty {
        eprintln!("Defaulting debug container name to {name}.");
        eprintln!("If you don't see a command prompt, try pressing enter.");
    }
    let request = DebugRequest {
        name,
        image: args.image.clone(),
        target: args.target.clone(),
        command: args.command.clone(),
        stdin: args.stdin,
        tty,
    };
    let code = ephemeral::debug(paths, &key, &request)?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(255)))
}

/// Five letters of kubectl's generated-name alphabet, from the clock and
/// the process id (a name, not a secret).
fn suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut n = nanos ^ u128::from(std::process::id()) << 64;
    (0..5)
        .map(|_| {
            let base = ALPHABET.len() as u128;
            let c = ALPHABET[usize::try_from(n % base).unwrap_or(0)];
            n /= base;
            char::from(c)
        })
        .collect()
}
