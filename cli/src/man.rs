//! `peapod man DIR` (hidden): writes the man pages, `peapod.1` and one
//! `peapod-VERB.1` per visible verb (`peapod-image-ls.1` ...), from the
//! same clap definition `--help` prints, examples included.
//!
//! A verb of the binary rather than a build script: the definition lives
//! in the binary's modules, which need the library crates; a build script
//! would have to compile them all a second time. `scripts/install.sh` runs
//! it after installing the binary.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

/// Where to write the pages.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The folder (made if missing), e.g. `/usr/local/share/man/man1`.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

/// Writes the pages and lists them on stdout.
pub fn run(args: &ManArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let command = crate::command();
    clap_mangen::generate_to(command, &args.dir)
        .with_context(|| format!("writing the man pages to {}", args.dir.display()))?;
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&args.dir)
        .with_context(|| format!("reading {}", args.dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("peapod") && n.ends_with(".1"))
        })
        .collect();
    pages.sort();
    let mut out = crate::stdout::stdout();
    for page in pages {
        std::io::Write::write_all(&mut out, format!("{}\n", page.display()).as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}
