//! Reading `-f FILE` (or `-f -` for stdin, or `-f DIR`, `-R` for its
//! subdirectories; `-f` may repeat) into pods, through
//! `peapod-spec`'s parser, defaults and validation; with `--config-dir`,
//! the ConfigMaps and Secrets of a directory's files join the file's, as
//! if they were written in it.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use peapod_spec::{ConfigMap, Context, MAX_MANIFEST_BYTES, Pod, Secret, ValidationMode, Workload};

/// The pods of a manifest with the ConfigMaps and Secrets they may read.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The pods, in file order.
    pub pods: Vec<Pod>,
    /// The file's ConfigMaps, then the config directory's.
    pub config_maps: Vec<ConfigMap>,
    /// The file's Secrets, then the config directory's.
    pub secrets: Vec<Secret>,
    /// The file each pod was read from, as messages name it (`<stdin>`).
    pub files: Vec<String>,
    /// The Deployments, ReplicaSets, StatefulSets, DaemonSets and Jobs.
    pub workloads: Vec<Workload>,
}

/// The pods of a manifest file; its warnings are printed to stderr.
pub fn read_pods(file: &Path) -> anyhow::Result<Vec<Pod>> {
    Ok(read_manifest(file, None)?.pods)
}

/// The pods of `file` and the ConfigMaps and Secrets of it and of every
/// `*.yaml`, `*.yml` and `*.json` file of `config_dir`; errors name the
/// file, line and column.
pub fn read_manifest(file: &Path, config_dir: Option<&Path>) -> anyhow::Result<Loaded> {
    read_manifests(&[file.to_path_buf()], false, config_dir)
}

/// The pods of every file of `inputs` (a file, `-` for stdin, or a
/// directory: its `*.yaml`, `*.yml` and `*.json` files by name, and with
/// `recursive` those of its subdirectories), with the ConfigMaps and
/// Secrets of all of them and of `config_dir`: a pod may refer to one
/// defined in another file. Errors name the file, line and column.
pub fn read_manifests(
    inputs: &[PathBuf],
    recursive: bool,
    config_dir: Option<&Path>,
) -> anyhow::Result<Loaded> {
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
    let mut sources = Vec::new();
    for input in inputs {
        for file in manifest_files(input, recursive)? {
            sources.push(read_source(&file)?);
        }
    }
    if sources.is_empty() {
        let named: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        // kubectl's words, whichever verb reads them.
        bail!(
            "error reading [{}]: recognized file extensions are [.json .yaml .yml]{}",
            named.join(", "),
            if recursive {
                ""
            } else {
                " (-R reads subdirectories)"
            }
        );
    }
    // Each file on its own first; one that refers to a ConfigMap or
    // Secret of another file is read again knowing all of them.
    let alone = Context {
        config_maps: &extra.config_maps,
        secrets: &extra.secrets,
        ..Context::default()
    };
    let first: Vec<_> = sources
        .iter()
        .map(|(source, name)| {
            peapod_spec::parse_manifest_with(source, name, ValidationMode::Strict, alone)
        })
        .collect();
    let mut config_maps = extra.config_maps.clone();
    let mut secrets = extra.secrets.clone();
    for manifest in first.iter().flatten() {
        config_maps.extend(manifest.config_maps.iter().cloned());
        secrets.extend(manifest.secrets.iter().cloned());
    }
    let mut loaded = Loaded::default();
    for ((source, name), parsed) in sources.iter().zip(first) {
        let manifest = match parsed {
            Ok(manifest) => {
                warn(&manifest);
                manifest
            }
            Err(_) => parse(
                source,
                name,
                Context {
                    config_maps: &config_maps,
                    secrets: &secrets,
                    ..Context::default()
                },
            )?,
        };
        loaded
            .files
            .extend(std::iter::repeat_n(name.clone(), manifest.pods.len()));
        loaded.pods.extend(manifest.pods);
        loaded.workloads.extend(manifest.workloads);
        loaded.config_maps.extend(manifest.config_maps);
        loaded.secrets.extend(manifest.secrets);
    }
    if loaded.pods.is_empty() && loaded.workloads.is_empty() {
        let names: Vec<&str> = sources.iter().map(|(_, name)| name.as_str()).collect();
        bail!("{}: no Pod or workload in the file", names.join(", "));
    }
    loaded.config_maps.extend(extra.config_maps);
    loaded.secrets.extend(extra.secrets);
    Ok(loaded)
}

/// The files `input` stands for: itself (or stdin), or a directory's
/// manifest files, sorted by path, those of subdirectories with `recursive`.
fn manifest_files(input: &Path, recursive: bool) -> anyhow::Result<Vec<PathBuf>> {
    if input == Path::new("-") || !input.is_dir() {
        return Ok(vec![input.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut dirs = vec![input.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("reading {}", dir.display()))?
                .path();
            if path.is_dir() {
                if recursive {
                    dirs.push(path);
                }
            } else if is_manifest(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// A `*.yaml`, `*.yml` or `*.json` file.
fn is_manifest(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
}

/// The text of a manifest (`-` is stdin) and the name messages give it.
/// At most [`MAX_MANIFEST_BYTES`] + 1 bytes are read, whatever the source
/// (`/dev/zero`, an endless pipe): a larger one fails naming the file and
/// the limit, having held no more than that in memory.
pub fn read_source(file: &Path) -> anyhow::Result<(String, String)> {
    let (name, reader): (String, Box<dyn Read>) = if file == Path::new("-") {
        ("<stdin>".to_owned(), Box::new(std::io::stdin().lock()))
    } else {
        let opened = match File::open(file) {
            Ok(opened) => opened,
            // kubectl's words for a missing file.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!("the path \"{}\" does not exist", file.display())
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
        };
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
    warn(&manifest);
    Ok(manifest)
}

/// Prints the manifest's warnings to stderr.
fn warn(manifest: &peapod_spec::Manifest) {
    for w in &manifest.warnings {
        eprintln!("warning: {w}");
    }
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
        if is_manifest(&path) && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
