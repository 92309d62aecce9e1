//! Reading `-f FILE` (or `-f -` for stdin) into pods, through
//! `peapod-spec`'s parser, defaults and validation; with `--config-dir`,
//! the ConfigMaps and Secrets of a directory's files join the file's, as
//! if they were written in it.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use peapod_spec::{ConfigMap, Context, MAX_MANIFEST_BYTES, Pod, Secret, ValidationMode};

/// The pods of a manifest with the ConfigMaps and Secrets they may read.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The pods, in file order.
    pub pods: Vec<Pod>,
    /// The file's ConfigMaps, then the config directory's.
    pub config_maps: Vec<ConfigMap>,
    /// The file's Secrets, then the config directory's.
    pub secrets: Vec<Secret>,
}

/// The pods of a manifest file; its warnings are printed to stderr.
pub fn read_pods(file: &Path) -> anyhow::Result<Vec<Pod>> {
    Ok(read_manifest(file, None)?.pods)
}

/// The pods of `file` and the ConfigMaps and Secrets of it and of every
/// `*.yaml`, `*.yml` and `*.json` file of `config_dir`; errors name the
/// file, line and column.
pub fn read_manifest(file: &Path, config_dir: Option<&Path>) -> anyhow::Result<Loaded> {
    let mut extra = Loaded::default();
    if let Some(dir) = config_dir {
        for path in config_files(dir)? {
            let (source, name) = read_source(&path)?;
            let manifest = parse(&source, &name, Context::default())?;
            for pod in &manifest.pods {
                eprintln!(
                    "warning: {}: Pod {:?} ignored: --config-dir files give ConfigMaps and Secrets",
                    path.display(),
                    pod.metadata.name.as_deref().unwrap_or_default()
                );
            }
            extra.config_maps.extend(manifest.config_maps);
            extra.secrets.extend(manifest.secrets);
        }
    }
    let (source, name) = read_source(file)?;
    let context = Context {
        config_maps: &extra.config_maps,
        secrets: &extra.secrets,
    };
    let manifest = parse(&source, &name, context)?;
    if manifest.pods.is_empty() {
        bail!("{name}: no Pod in the file");
    }
    let mut config_maps = manifest.config_maps;
    config_maps.extend(extra.config_maps);
    let mut secrets = manifest.secrets;
    secrets.extend(extra.secrets);
    Ok(Loaded {
        pods: manifest.pods,
        config_maps,
        secrets,
    })
}

/// The text of a manifest (`-` is stdin) and the name messages give it.
/// At most [`MAX_MANIFEST_BYTES`] + 1 bytes are read, whatever the source
/// (`/dev/zero`, an endless pipe): a larger one fails naming the file and
/// the limit, having held no more than that in memory.
pub fn read_source(file: &Path) -> anyhow::Result<(String, String)> {
    let (name, reader): (String, Box<dyn Read>) = if file == Path::new("-") {
        ("<stdin>".to_owned(), Box::new(std::io::stdin().lock()))
    } else {
        let opened = File::open(file).with_context(|| format!("reading {}", file.display()))?;
        (file.display().to_string(), Box::new(opened))
    };
    // Reserved, not touched: only the pages read become resident, and the
    // buffer never doubles past the bound.
    let mut bytes = Vec::with_capacity(MAX_MANIFEST_BYTES + 1);
    reader
        .take(MAX_MANIFEST_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {name}"))?;
    if bytes.len() > MAX_MANIFEST_BYTES {
        bail!(
            "{name}: larger than {MAX_MANIFEST_BYTES} bytes ({} MiB), the most peapod reads of a manifest; split it",
            MAX_MANIFEST_BYTES >> 20
        );
    }
    let text = String::from_utf8(bytes).map_err(|err| {
        anyhow::anyhow!(
            "{name}: not UTF-8 text (invalid byte at offset {})",
            err.utf8_error().valid_up_to()
        )
    })?;
    Ok((text, name))
}

fn parse(source: &str, name: &str, context: Context<'_>) -> anyhow::Result<peapod_spec::Manifest> {
    let manifest = peapod_spec::parse_manifest_with(source, name, ValidationMode::Strict, context)
        .map_err(|diagnostics| anyhow::anyhow!("{diagnostics}"))?;
    for w in &manifest.warnings {
        eprintln!("warning: {w}");
    }
    Ok(manifest)
}

/// The manifest files of `dir`, sorted by name.
fn config_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading --config-dir {}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("reading --config-dir {}", dir.display()))?
            .path();
        let manifest = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
        if manifest && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
