//! `peapod validate -f FILE...`: read manifests as `apply` would, report
//! every error with its file, line, column and field path, run nothing.

use std::path::PathBuf;
use std::process::ExitCode;

use peapod_spec::{Pod, ValidationMode};

/// Check manifests without running them.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Manifest files (YAML or JSON, `---`-separated documents); `-` reads stdin.
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true, num_args = 1..)]
    files: Vec<PathBuf>,

    /// Unknown fields: strict (errors), warn (warnings) or ignore.
    #[arg(long = "validate", value_name = "MODE", default_value = "strict")]
    mode: ValidationMode,
}

/// Validates each file: `FILE: pod "NAME": OK` per pod on stdout, every
/// error (and warning) on stderr, a failing exit status on any error.
pub fn run(args: &Args) -> ExitCode {
    let mut failed = false;
    for file in &args.files {
        let (source, name) = match crate::manifest::read_source(file) {
            Ok(read) => read,
            Err(err) => {
                failed = true;
                eprintln!("{err:#}");
                continue;
            }
        };
        match peapod_spec::parse_manifest(&source, &name, args.mode) {
            Ok(manifest) => {
                for warning in &manifest.warnings {
                    eprintln!("warning: {warning}");
                }
                for pod in &manifest.pods {
                    println!("{name}: pod {:?}: OK", pod_name(pod));
                }
                if manifest.pods.is_empty() {
                    println!(
                        "{name}: no pods ({} ConfigMaps, {} Secrets): OK",
                        manifest.config_maps.len(),
                        manifest.secrets.len()
                    );
                }
            }
            Err(diagnostics) => {
                failed = true;
                for warning in &diagnostics.warnings {
                    eprintln!("warning: {warning}");
                }
                for error in &diagnostics.errors {
                    eprintln!("{error}");
                }
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn pod_name(pod: &Pod) -> String {
    match (&pod.metadata.name, &pod.metadata.generate_name) {
        (Some(name), _) => name.clone(),
        (None, Some(prefix)) => format!("{prefix}*"),
        (None, None) => String::new(),
    }
}
