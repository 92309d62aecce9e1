//! `peapod`: run Kubernetes Pod manifests on one Linux host.
//!
//! A thin front: it parses the command line, calls the library crates and
//! formats what they return. No pod logic lives here.
#![forbid(unsafe_code)]

mod image;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Run Kubernetes Pod manifests on one Linux host, without a cluster.
#[derive(Debug, Parser)]
#[command(name = "peapod", version, about, propagate_version = true)]
struct Cli {
    /// Root of all state (pods, images, logs). Tests and side-by-side
    /// instances give each their own.
    #[arg(long, global = true, env = "PEAPOD_ROOT", value_name = "DIR")]
    root: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

/// The verbs; each lives in a module of its own.
#[derive(Debug, Subcommand)]
enum Command {
    // peapod:commands (each verb's variant goes here, one line each)
    /// Manage images: import, load, pull, ls, rm, inspect.
    #[command(subcommand)]
    Image(image::ImageCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = cli.root;
    let result: anyhow::Result<ExitCode> = match cli.command {
        // peapod:dispatch (each verb's arm goes here)
        Command::Image(cmd) => image::run(cmd, &peapod_runtime::Paths::from_root(root.as_deref())),
    };
    let _ = root;
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
