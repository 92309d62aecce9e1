//! `image save`: an image of the store as an OCI archive, a tar of an OCI
//! image layout that `image load`, `podman load` and `skopeo` read, named
//! in `index.json` (`org.opencontainers.image.ref.name` and containerd's
//! `io.containerd.image.name`, both the full reference).
//!
//! The store keeps layers unpacked, not their original tars: each layer is
//! written again as a canonical tar (entries in name order, overlayfs'
//! whiteouts back as `.wh.` entries), uncompressed. Its digest is then not
//! the pulled layer's, so the saved config carries the new diffIDs and the
//! image loaded back has a new ID, with the same files and run defaults.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use crate::digest::{Digest, HashingReader};
use crate::error::{Error, IoContext, Result};
use crate::import::{TreeKind, write_tree_tar};
use crate::oci::{self, Descriptor, Index, Manifest};
use crate::store::Store;

/// containerd's name annotation.
const CONTAINERD_NAME: &str = "io.containerd.image.name";
/// OCI's name annotation.
const OCI_REF_NAME: &str = "org.opencontainers.image.ref.name";
/// An OCI image config.
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// An uncompressed OCI layer.
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// One blob of the archive: in memory, or a layer tar in the store's `tmp/`.
enum Blob {
    Bytes(Vec<u8>),
    File(File),
}

impl Store {
    /// Writes the image `name_or_id` to `out` as an OCI archive (written
    /// beside it, then renamed over it). Named by the name it was asked
    /// by; an image asked for by ID is saved unnamed.
    pub fn save(&self, name_or_id: &str, out: &Path) -> Result<()> {
        let details = self.inspect(name_or_id)?;
        let name = crate::reference::Reference::parse(name_or_id)
            .ok()
            .map(|r| r.to_string())
            .filter(|n| details.repo_tags.contains(n));
        let scratch = self.temp_dir("save")?;
        let mut blobs: Vec<(Digest, Blob)> = Vec::new();
        let mut layers = Vec::new();
        let mut diff_ids = Vec::new();
        for (i, dir) in details.layer_dirs.iter().enumerate() {
            let path = scratch.path().join(format!("layer-{i}.tar"));
            let mut file = File::options()
                .create_new(true)
                .read(true)
                .write(true)
                .open(&path)
                .ctx("create", &path)?;
            write_tree_tar(dir, TreeKind::Layer, BufWriter::new(&mut file))
                .ctx("write a tar of", dir)?;
            file.seek(SeekFrom::Start(0)).ctx("seek", &path)?;
            let (digest, size) = HashingReader::new(&mut file, u64::MAX)
                .finish()
                .ctx("read", &path)?;
            file.seek(SeekFrom::Start(0)).ctx("seek", &path)?;
            layers.push(descriptor(OCI_LAYER, &digest, size));
            diff_ids.push(digest.clone());
            blobs.push((digest, Blob::File(file)));
        }
        let mut config = details.config;
        config.rootfs.diff_ids = diff_ids;
        let config_bytes = to_json(&config, "image config")?;
        let config_digest = Digest::of(&config_bytes);
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(oci::OCI_MANIFEST.to_string()),
            config: descriptor(OCI_CONFIG, &config_digest, len(&config_bytes)),
            layers,
        };
        let manifest_bytes = to_json(&manifest, "manifest")?;
        let mut entry = descriptor(
            oci::OCI_MANIFEST,
            &Digest::of(&manifest_bytes),
            len(&manifest_bytes),
        );
        if let Some(n) = name {
            entry
                .annotations
                .insert(OCI_REF_NAME.to_string(), n.clone());
            entry.annotations.insert(CONTAINERD_NAME.to_string(), n);
        }
        let index = Index {
            schema_version: 2,
            media_type: Some(oci::OCI_INDEX.to_string()),
            manifests: vec![entry.clone()],
        };
        blobs.push((config_digest, Blob::Bytes(config_bytes)));
        blobs.push((entry.digest, Blob::Bytes(manifest_bytes)));
        let partial = out.with_extension(format!("partial-{}", std::process::id()));
        let written = write_archive(&partial, &to_json(&index, "index.json")?, &mut blobs)
            .ctx("write", &partial)
            .and_then(|()| std::fs::rename(&partial, out).ctx("rename", out));
        if written.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        written
    }
}

fn descriptor(media_type: &str, digest: &Digest, size: u64) -> Descriptor {
    Descriptor {
        media_type: media_type.to_string(),
        digest: digest.clone(),
        size,
        platform: None,
        annotations: std::collections::BTreeMap::new(),
    }
}

fn len(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
}

fn to_json(value: &impl serde::Serialize, document: &str) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|source| Error::Json {
        document: document.to_string(),
        source,
    })
}

/// The layout's files as a tar at `path`.
fn write_archive(path: &Path, index: &[u8], blobs: &mut [(Digest, Blob)]) -> io::Result<()> {
    let file = File::create(path)?;
    let mut tar = tar::Builder::new(BufWriter::new(file));
    let add = |tar: &mut tar::Builder<_>, name: &str, size: u64, data: &mut dyn io::Read| {
        let mut h = tar::Header::new_gnu();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, name, data)
    };
    let layout = br#"{"imageLayoutVersion":"1.0.0"}"#;
    add(&mut tar, "oci-layout", len(layout), &mut &layout[..])?;
    add(&mut tar, "index.json", len(index), &mut &index[..])?;
    for (digest, blob) in blobs.iter_mut() {
        let name = format!("blobs/sha256/{}", digest.hex());
        match blob {
            Blob::Bytes(b) => add(&mut tar, &name, len(b), &mut &b[..])?,
            Blob::File(f) => {
                let size = f.metadata()?.len();
                add(&mut tar, &name, size, f)?;
            }
        }
    }
    let mut out = tar.into_inner()?;
    out.flush()?;
    out.into_inner()
        .map_err(io::IntoInnerError::into_error)?
        .sync_all()
}
