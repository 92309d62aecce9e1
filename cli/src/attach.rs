//! `peapod attach POD [-c CONTAINER] [-i] [-t]`: a running container's
//! own output, and with `-i` its stdin (a container with `stdin: true`
//! or `tty: true`), as kubectl attaches; Ctrl-P Ctrl-Q detaches from a
//! terminal ([`peapod_runtime::pod::pod_attach`]).

use std::process::ExitCode;

use peapod_runtime::Paths;
use peapod_runtime::pod::pod_attach::{self, AttachEnd, AttachRequest};

/// Attach to a running container.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    # The output of the pod's default container, as it comes\n  peapod attach mypod\n\n  \
    # Its shell on this terminal (a container with stdin: true and tty: true);\n  \
    # Ctrl-P Ctrl-Q detaches and leaves it running\n  peapod attach mypod -c shell -it")]
pub struct AttachArgs {
    #[command(flatten)]
    target: crate::exec::StreamArgs,
}

/// Runs `attach`.
pub fn run(args: &AttachArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let (key, container) = args.target.resolve(paths)?;
    let request = AttachRequest {
        container,
        stdin: args.target.stdin,
        tty: args.target.tty,
        from_start: false,
    };
    if pod_attach::attach(paths, &key, &request)? == AttachEnd::Detached {
        eprintln!("read escape sequence");
    }
    Ok(ExitCode::SUCCESS)
}
