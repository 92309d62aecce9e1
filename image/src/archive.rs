//! `image load`: the images of an OCI image layout (a folder or a tar of
//! one) or of a `docker save` archive, several images per archive included.
//!
//! A tar archive is not extracted: one pass lists where each member's bytes
//! sit in the file, then members are read in place. A compressed archive is
//! decompressed once into the store's `tmp/` first.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::compression;
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::oci::{Descriptor, ManifestOrIndex};
use crate::reference::Reference;
use crate::store::{Provenance, Store, TempDir};

/// Annotation containerd writes with the full image name.
const CONTAINERD_NAME: &str = "io.containerd.image.name";
/// OCI's name annotation (a full name, or only a tag).
const OCI_REF_NAME: &str = "org.opencontainers.image.ref.name";

impl Store {
    /// Loads every image of `input` (OCI layout folder or tar, or `docker
    /// save` tar, optionally gzip/zstd-compressed). Returns one line per
    /// image: `Loaded image: NAME` or `Loaded image ID: sha256:…`.
    pub fn load(&self, input: &Path) -> Result<Vec<String>> {
        let src = Source::new(input, self)?;
        if src.exists("manifest.json") {
            self.load_docker(&src)
        } else if src.exists("index.json") {
            self.load_oci(&src)
        } else {
            Err(Error::archive(
                input.display(),
                "neither a docker save archive (manifest.json) nor an OCI layout (index.json)",
            ))
        }
    }

    fn load_docker(&self, src: &Source) -> Result<Vec<String>> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Entry {
            config: String,
            #[serde(default)]
            repo_tags: Option<Vec<String>>,
            layers: Vec<String>,
        }
        let entries: Vec<Entry> = src.json("manifest.json")?;
        let mut out = Vec::new();
        for e in entries {
            let config = src.read(&e.config)?;
            let refs = e
                .repo_tags
                .unwrap_or_default()
                .iter()
                .map(|t| Reference::parse(t))
                .collect::<Result<Vec<_>>>()?;
            let layers = e.layers;
            let id = self.add_image(
                &config,
                &mut |i, diff_id| {
                    let name = layers.get(i).ok_or_else(|| {
                        Error::archive(src.shown(), "fewer layers than the config's diff_ids")
                    })?;
                    self.stage_layer(
                        src.open(name)?,
                        Some(diff_id),
                        &format!("{}:{name}", src.shown()),
                    )
                },
                &refs,
                &Provenance::default(),
            )?;
            out.extend(loaded(&refs, &id));
        }
        Ok(out)
    }

    fn load_oci(&self, src: &Source) -> Result<Vec<String>> {
        let index: crate::oci::Index = src.json("index.json")?;
        let mut out = Vec::new();
        for desc in &index.manifests {
            let refs: Vec<Reference> = name_of(desc, &src.shown()).into_iter().collect();
            let (manifest_digest, manifest_bytes, manifest) = resolve_manifest(src, desc)?;
            let config = src.blob(&manifest.config.digest)?;
            Digest::of(&config).verify(&manifest.config.digest, "image config")?;
            let layers = manifest.layers;
            let id = self.add_image(
                &config,
                &mut |i, diff_id| {
                    let d = layers.get(i).ok_or_else(|| {
                        Error::archive(src.shown(), "fewer layers than the config's diff_ids")
                    })?;
                    let name = blob_path(&d.digest);
                    self.stage_layer(
                        src.open(&name)?,
                        Some(diff_id),
                        &format!("{}:{name}", src.shown()),
                    )
                },
                &refs,
                &Provenance {
                    manifest: Some((manifest_digest, manifest_bytes)),
                },
            )?;
            out.extend(loaded(&refs, &id));
        }
        Ok(out)
    }
}

/// The name an index entry gives its image, as podman reads it:
/// containerd's `io.containerd.image.name`, else OCI's `ref.name`, a short
/// one normalised as any reference is (`busybox` is
/// `docker.io/library/busybox:latest`). A name that is no reference leaves
/// the image unnamed, with a warning.
fn name_of(desc: &Descriptor, archive: &str) -> Option<Reference> {
    let name = desc
        .annotations
        .get(CONTAINERD_NAME)
        .or_else(|| desc.annotations.get(OCI_REF_NAME))?;
    Reference::parse(name)
        .map_err(|e| tracing::warn!("{archive}: image {} left unnamed: {e}", desc.digest))
        .ok()
}

fn loaded(refs: &[Reference], id: &Digest) -> Vec<String> {
    if refs.is_empty() {
        vec![format!("Loaded image ID: {id}")]
    } else {
        refs.iter().map(|r| format!("Loaded image: {r}")).collect()
    }
}

/// Follows an index entry down to the linux/amd64 image manifest.
fn resolve_manifest(
    src: &Source,
    desc: &Descriptor,
) -> Result<(Digest, Vec<u8>, crate::oci::Manifest)> {
    let mut desc = desc.clone();
    for _ in 0..4 {
        let bytes = src.blob(&desc.digest)?;
        Digest::of(&bytes).verify(&desc.digest, "manifest")?;
        match ManifestOrIndex::parse(&bytes, Some(&desc.media_type), &blob_path(&desc.digest))? {
            ManifestOrIndex::Manifest(m) => return Ok((desc.digest, bytes, m)),
            ManifestOrIndex::Index(i) => {
                desc = i
                    .linux_amd64()
                    .or_else(|| (i.manifests.len() == 1).then(|| &i.manifests[0]))
                    .ok_or_else(|| {
                        Error::archive(src.shown(), "no linux/amd64 image in the index")
                    })?
                    .clone();
            }
        }
    }
    Err(Error::archive(src.shown(), "indexes nested too deep"))
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

/// Where the members of an archive are: a folder, or a tar read in place.
enum Source {
    Dir(PathBuf),
    Tar {
        shown: String,
        file: PathBuf,
        members: HashMap<String, Member>,
        /// The decompressed copy, removed when loading is done.
        _scratch: Option<TempDir>,
    },
}

enum Member {
    Data { offset: u64, size: u64 },
    Link(String),
}

impl Source {
    fn new(input: &Path, store: &Store) -> Result<Self> {
        let meta = std::fs::metadata(input).ctx("read", input)?;
        if meta.is_dir() {
            return Ok(Self::Dir(input.to_path_buf()));
        }
        let shown = input.display().to_string();
        let mut file = File::open(input).ctx("open", input)?;
        let mut magic = [0u8; 4];
        let n = file.read(&mut magic).ctx("read", input)?;
        let compressed =
            magic[..n].starts_with(&[0x1f, 0x8b]) || magic[..n] == [0x28, 0xb5, 0x2f, 0xfd];
        let (path, scratch) = if compressed {
            let scratch = store.temp_dir("archive")?;
            let plain = scratch.path().join("archive.tar");
            let mut decoded =
                compression::decoder(BufReader::new(File::open(input).ctx("open", input)?))
                    .ctx("decompress", input)?;
            let mut out = File::create(&plain).ctx("create", &plain)?;
            io::copy(&mut decoded, &mut out).ctx("decompress", input)?;
            (plain, Some(scratch))
        } else {
            (input.to_path_buf(), None)
        };
        let members = index_tar(&path).map_err(|e| Error::archive(&shown, e.to_string()))?;
        Ok(Self::Tar {
            shown,
            file: path,
            members,
            _scratch: scratch,
        })
    }

    fn shown(&self) -> String {
        match self {
            Self::Dir(p) => p.display().to_string(),
            Self::Tar { shown, .. } => shown.clone(),
        }
    }

    fn exists(&self, name: &str) -> bool {
        match self {
            Self::Dir(p) => p.join(name).is_file(),
            Self::Tar { members, .. } => members.contains_key(name),
        }
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>> {
        let missing = || Error::archive(self.shown(), format!("no member {name:?}"));
        match self {
            Self::Dir(p) => {
                let clean = crate::beneath::clean_path(name.as_bytes()).ok_or_else(missing)?;
                let path = p.join(String::from_utf8_lossy(&clean).as_ref());
                let f = File::open(&path).ctx("open", &path)?;
                Ok(Box::new(BufReader::with_capacity(256 * 1024, f)))
            }
            Self::Tar { file, members, .. } => {
                let mut key = normalise(name);
                for _ in 0..8 {
                    match members.get(&key).ok_or_else(missing)? {
                        Member::Link(target) => key = target.clone(),
                        Member::Data { offset, size } => {
                            let mut f = File::open(file).ctx("open", file)?;
                            f.seek(SeekFrom::Start(*offset)).ctx("seek", file)?;
                            return Ok(Box::new(BufReader::with_capacity(
                                256 * 1024,
                                f.take(*size),
                            )));
                        }
                    }
                }
                Err(missing())
            }
        }
    }

    fn read(&self, name: &str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.open(name)?
            .take(64 << 20)
            .read_to_end(&mut out)
            .ctx("read", format!("{}:{name}", self.shown()))?;
        Ok(out)
    }

    fn blob(&self, d: &Digest) -> Result<Vec<u8>> {
        self.read(&blob_path(d))
    }

    fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T> {
        serde_json::from_slice(&self.read(name)?).map_err(|source| Error::Json {
            document: format!("{}:{name}", self.shown()),
            source,
        })
    }
}

/// `./a/../b` and `a//b` name the same member as `b`.
fn normalise(name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in name.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

/// Member name → where its bytes are (or what it links to).
fn index_tar(path: &Path) -> io::Result<HashMap<String, Member>> {
    let mut archive = tar::Archive::new(File::open(path)?);
    let mut members = HashMap::new();
    for entry in archive.entries()? {
        let entry = entry?;
        let name = normalise(&String::from_utf8_lossy(&entry.path_bytes()));
        let member = match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => Member::Data {
                offset: entry.raw_file_position(),
                size: entry.size(),
            },
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                let base = if entry.header().entry_type() == tar::EntryType::Symlink {
                    name.rsplit_once('/').map_or("", |(d, _)| d).to_string()
                } else {
                    String::new()
                };
                Member::Link(normalise(&format!("{base}/{target}")))
            }
            _ => continue,
        };
        members.insert(name, member);
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_are_normalised() {
        assert_eq!(normalise("./abc/../def//layer.tar"), "def/layer.tar");
        assert_eq!(normalise("/manifest.json"), "manifest.json");
    }
}
