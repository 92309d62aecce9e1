//! `peapod api-resources` and `peapod api-versions`: what kubectl asks an
//! API server for, answered with the kinds `peapod get` reads.

use std::io::Write;
use std::process::ExitCode;

/// List the resource types peapod reads.
#[derive(Debug, clap::Args)]
pub struct ApiResourcesArgs {
    /// `name`: the resource names alone (`deployments.apps`), as kubectl.
    #[arg(short = 'o', long = "output", value_name = "FORMAT")]
    output: Option<String>,
    /// No header line.
    #[arg(long)]
    no_headers: bool,
}

/// Name, short names, group/version, kind of each type `get` reads.
const RESOURCES: &[(&str, &str, &str, &str)] = &[
    ("events", "ev", "v1", "Event"),
    ("pods", "po", "v1", "Pod"),
    ("daemonsets", "ds", "apps/v1", "DaemonSet"),
    ("deployments", "deploy", "apps/v1", "Deployment"),
    ("replicasets", "rs", "apps/v1", "ReplicaSet"),
    ("statefulsets", "sts", "apps/v1", "StatefulSet"),
    ("jobs", "", "batch/v1", "Job"),
];

/// Runs `api-resources`: kubectl's columns, every type namespaced.
///
/// # Errors
/// An output format other than `name` or `wide`; stdout failed.
pub fn run(args: &ApiResourcesArgs) -> anyhow::Result<ExitCode> {
    let mut out = crate::stdout::stdout();
    match args.output.as_deref() {
        Some("name") => {
            for (name, _, version, _) in RESOURCES {
                match version.split_once('/') {
                    Some((group, _)) => writeln!(out, "{name}.{group}")?,
                    None => writeln!(out, "{name}")?,
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        None | Some("wide") => {}
        Some(other) => anyhow::bail!("--output {other:?} is not available: name or wide"),
    }
    let mut rows = Vec::new();
    if !args.no_headers {
        rows.push(
            ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
                .map(str::to_owned)
                .to_vec(),
        );
    }
    for (name, short, version, kind) in RESOURCES {
        rows.push(
            [*name, *short, *version, "true", *kind]
                .map(str::to_owned)
                .to_vec(),
        );
    }
    out.write_all(crate::tabwriter::table(&rows).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `api-versions`: the group/versions of [`RESOURCES`], sorted.
///
/// # Errors
/// stdout failed.
pub fn versions() -> anyhow::Result<ExitCode> {
    let mut versions: Vec<&str> = RESOURCES.iter().map(|r| r.2).collect();
    versions.sort_unstable();
    versions.dedup();
    let mut out = crate::stdout::stdout();
    for v in versions {
        writeln!(out, "{v}")?;
    }
    Ok(ExitCode::SUCCESS)
}
