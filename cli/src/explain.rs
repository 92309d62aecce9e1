//! `peapod explain pod.spec.containers [--recursive]`: field
//! documentation, like `kubectl explain`, from peapod-spec's schema.

use std::io::Write;
use std::process::ExitCode;

/// Describe a resource or one of its fields.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// `pod`, `pod.spec`, `pods.spec.containers.ports`, `configmap`,
    /// `secret`.
    #[arg(value_name = "FIELD")]
    path: String,
    /// Every field below, as a tree of names and types.
    #[arg(long)]
    recursive: bool,
}

/// Prints the documentation of the field.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    // A resource peapod has not is kubectl's answer for a type the server
    // has not; a field it has not is the schema's `no such field`.
    let resource = args.path.split('.').next().unwrap_or_default();
    if peapod_spec::explain(resource).is_err() {
        anyhow::bail!("the server doesn't have a resource type \"{resource}\"");
    }
    let text = if args.recursive {
        peapod_spec::explain_recursive(&args.path)?
    } else {
        peapod_spec::explain(&args.path)?
    };
    write!(crate::stdout::stdout(), "{text}")?;
    Ok(ExitCode::SUCCESS)
}
