//! `peapod explain pod.spec.containers`: field documentation, like
//! `kubectl explain`, from peapod-spec's schema.

use std::io::Write;
use std::process::ExitCode;

/// Describe a resource or one of its fields.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// `pod`, `pod.spec`, `pod.spec.containers.ports`, `configmap`, `secret`.
    #[arg(value_name = "FIELD")]
    path: String,
}

/// Prints the documentation of the field.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    write!(
        crate::stdout::stdout(),
        "{}",
        peapod_spec::explain(&args.path)?
    )?;
    Ok(ExitCode::SUCCESS)
}
