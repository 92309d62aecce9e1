//! Reading `-f FILE` (or `-f -` for stdin) into pods, through
//! `peapod-spec`'s parser, defaults and validation.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, bail};
use peapod_spec::{Pod, ValidationMode};

/// The pods of a manifest file; its warnings are printed to stderr.
pub fn read_pods(file: &Path) -> anyhow::Result<Vec<Pod>> {
    let (source, name) = if file == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the manifest from stdin")?;
        (s, "<stdin>".to_owned())
    } else {
        let s =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        (s, file.display().to_string())
    };
    let manifest = peapod_spec::parse_manifest(&source, &name, ValidationMode::Strict)
        .map_err(|diagnostics| anyhow::anyhow!("{diagnostics}"))?;
    for w in &manifest.warnings {
        eprintln!("warning: {w}");
    }
    if manifest.pods.is_empty() {
        bail!("{name}: no Pod in the file");
    }
    Ok(manifest.pods)
}
