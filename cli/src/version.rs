//! `peapod version [--client] [-o json|yaml]`: kubectl's shape
//! (`Client Version: v0.1.0`), with the runtime's version where kubectl
//! prints the server's: what `peapod serve` answers to the CRI's
//! `Version` and what `apply` starts as each pod's supervisor (one
//! binary, so the same version, said as `crictl version` says it).

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use serde_json::json;

/// Print the client and runtime versions.
#[derive(Debug, clap::Args)]
pub struct VersionArgs {
    /// Only the client's version.
    #[arg(long)]
    client: bool,
    /// `json` or `yaml`.
    #[arg(short = 'o', long = "output", value_name = "FORMAT")]
    output: Option<String>,
}

/// The version of this build, `v` first as kubectl's `gitVersion`.
fn git_version() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

/// The document of `-o json|yaml`, kubectl's keys for the client and
/// the CRI `VersionResponse`'s for the runtime.
fn document(client_only: bool) -> serde_json::Value {
    let mut parts = env!("CARGO_PKG_VERSION").split('.');
    let (major, minor) = (parts.next().unwrap_or("0"), parts.next().unwrap_or("0"));
    let mut doc = json!({
        "clientVersion": {
            "major": major,
            "minor": minor,
            "gitVersion": git_version(),
            "compiler": "rustc",
            "platform": format!("{}/{}", std::env::consts::OS, platform_arch()),
        }
    });
    if !client_only {
        doc["runtimeVersion"] = json!({
            "runtimeName": "peapod",
            "runtimeVersion": env!("CARGO_PKG_VERSION"),
            "runtimeApiVersion": "v1",
        });
    }
    doc
}

/// The architecture as Go (and so kubectl) names it.
fn platform_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// Runs `version`.
pub fn run(args: &VersionArgs) -> anyhow::Result<ExitCode> {
    let mut out = crate::stdout::stdout();
    match args.output.as_deref() {
        None => {
            writeln!(out, "Client Version: {}", git_version())?;
            if !args.client {
                writeln!(
                    out,
                    "Runtime Version: peapod {} (CRI runtime.v1)",
                    git_version()
                )?;
            }
        }
        Some("json") => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&document(args.client))?
        )?,
        Some("yaml") => write!(out, "{}", serde_saphyr::to_string(&document(args.client))?)?,
        Some(other) => bail!("--output must be 'yaml' or 'json', not {other:?}"),
    }
    Ok(ExitCode::SUCCESS)
}
