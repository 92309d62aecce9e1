//! The store on disk, and the calls the runtime and the CLI make on it.
//!
//! ```text
//! <dir>/lock                 flock: writers exclusive
//! <dir>/index.json           references → image IDs, image and layer records
//! <dir>/blobs/sha256/<hex>   image configs and manifests, by digest
//! <dir>/layers/<hex>/        each layer unpacked once, named by its diffID
//! <dir>/mountpoints/<a>-<b>/ an image's mount-point layer (`mount_points.rs`)
//! <dir>/tmp/<pid>-<n>-<what> work in progress (removed when its pid is gone)
//! ```
//!
//! Layers are unpacked into `tmp/` and renamed into `layers/` only when
//! complete, under the lock, in the same step that writes the index (by
//! write-then-rename): a crash leaves at worst an unreferenced complete
//! layer or a stale temporary directory, never a reference to half a layer.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::index::{ImageRecord, Index, LayerRecord};
use crate::oci::{ConfigFile, ImageConfig};
use crate::reference::Reference;
use crate::unpack::{self, Limits};

/// When to pull, as Kubernetes' `imagePullPolicy` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    /// Pull every time; fail if the pull fails.
    Always,
    /// Pull only if the store has no image of that name.
    IfNotPresent,
    /// Never pull; fail if the store has no image of that name.
    Never,
}

impl PullPolicy {
    /// Kubernetes' default for a reference: `Always` for `:latest` or no
    /// tag (and no digest), `IfNotPresent` otherwise.
    pub fn default_for(reference: &str) -> Self {
        match Reference::parse(reference) {
            Ok(r) if r.digest().is_none() && r.tag() == Some("latest") => Self::Always,
            Ok(_) => Self::IfNotPresent,
            Err(_) => Self::Always,
        }
    }
}

/// What [`Store::ensure_reporting`] did to have an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ensured {
    /// The image.
    pub image: Image,
    /// The pull it took; `None` when the image was already in the store.
    pub pulled: Option<Pulled>,
}

/// A pull that happened, for kubelet's `Pulled` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pulled {
    /// How long the pull took (from the first request to the commit).
    pub took: Duration,
    /// Bytes of the image's layers, uncompressed (as `image ls` shows).
    pub size: u64,
}

/// An image ready to run: what the runtime needs to build a rootfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The image ID: the digest of its config.
    pub id: Digest,
    /// The normalised reference it was found by (or its ID).
    pub reference: String,
    /// Run defaults: entrypoint, cmd, env, user, working dir, ports.
    pub config: ImageConfig,
    /// The layers for overlayfs' `lowerdir=`, topmost first.
    pub lower_dirs: Vec<PathBuf>,
}

/// One line of `image ls`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSummary {
    /// The image ID.
    pub id: Digest,
    /// Every reference that names it (none for an untagged image).
    pub references: Vec<String>,
    /// When it was made, as the config says.
    pub created: Option<String>,
    /// Bytes of its layers, uncompressed.
    pub size: u64,
}

/// All the store knows of one image (`image inspect`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageDetails {
    /// The image ID.
    pub id: Digest,
    /// References that name it.
    pub repo_tags: Vec<String>,
    /// The manifest digest it was pulled or loaded by, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<Digest>,
    /// Bytes of its layers, uncompressed.
    pub size: u64,
    /// The layers' directories, bottom first.
    pub layer_dirs: Vec<PathBuf>,
    /// The config document.
    pub config: ConfigFile,
}

/// A layer unpacked into a temporary directory, waiting for its image to be
/// committed.
pub(crate) struct StagedLayer {
    pub diff_id: Digest,
    pub size: u64,
    pub dir: TempDir,
}

/// What an image brings besides its config and layers.
#[derive(Debug, Default)]
pub(crate) struct Provenance {
    /// The manifest it came from: digest and bytes, kept as a blob.
    pub manifest: Option<(Digest, Vec<u8>)>,
}

/// The local image store. Cheap to open; every call takes the lock it needs,
/// so several processes may use one store at once.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    limits: Limits,
}

impl Store {
    /// Opens (creating if needed) the store at `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        for sub in ["blobs/sha256", "layers", "tmp"] {
            let p = dir.join(sub);
            fs::create_dir_all(&p).ctx("create", &p)?;
        }
        Ok(Self {
            dir,
            limits: Limits::default(),
        })
    }

    /// Sets what one layer may take at most (uncompressed bytes).
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The store's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The image `reference` names, pulled or not as `policy` says — the one
    /// call the runtime makes before it starts a container.
    pub fn ensure(&self, reference: &str, policy: PullPolicy) -> Result<Image> {
        self.ensure_with(reference, policy, &crate::registry::PullOptions::default())
    }

    /// [`Store::ensure`] with registry options (plain HTTP, auth file...).
    pub fn ensure_with(
        &self,
        reference: &str,
        policy: PullPolicy,
        options: &crate::registry::PullOptions,
    ) -> Result<Image> {
        self.ensure_reporting(reference, policy, options)
            .map(|e| e.image)
    }

    /// [`Store::ensure_with`], saying whether it pulled and how long that
    /// took: what kubelet's `Pulling`/`Pulled` events tell.
    pub fn ensure_reporting(
        &self,
        reference: &str,
        policy: PullPolicy,
        options: &crate::registry::PullOptions,
    ) -> Result<Ensured> {
        let parsed = Reference::parse(reference)?;
        let present = |image| Ensured {
            image,
            pulled: None,
        };
        let pull = || {
            let start = Instant::now();
            let image = self.pull(&parsed, options, &mut |_| {})?;
            let took = start.elapsed();
            let size = self.size_of(&image.id)?;
            Ok(Ensured {
                image,
                pulled: Some(Pulled { took, size }),
            })
        };
        match policy {
            PullPolicy::Never => self.image(reference).map(present).map_err(|e| match e {
                Error::UnknownImage { .. } => Error::NotPresentNever {
                    reference: reference.to_string(),
                },
                other => other,
            }),
            PullPolicy::IfNotPresent => match self.image(reference) {
                Err(Error::UnknownImage { .. }) => pull(),
                other => other.map(present),
            },
            PullPolicy::Always => pull(),
        }
    }

    /// Bytes of the layers of the image `id`.
    fn size_of(&self, id: &Digest) -> Result<u64> {
        let index = self.read_index()?;
        Ok(index.images.get(id).map_or(0, |rec| index.size_of(rec)))
    }

    /// The local image named `name_or_id`: a reference (normalised), a full
    /// image ID or a unique ID prefix of at least 4 hex digits.
    pub fn image(&self, name_or_id: &str) -> Result<Image> {
        let index = self.read_index()?;
        let (id, reference) = index.resolve(name_or_id)?;
        let record = &index.images[&id];
        let config = self.config_of(&id)?;
        Ok(Image {
            reference,
            config: config.config,
            lower_dirs: record
                .layers
                .iter()
                .rev()
                .map(|d| self.layer_dir(d))
                .collect(),
            id,
        })
    }

    /// Every image, with its references, newest reference first by name.
    pub fn list(&self) -> Result<Vec<ImageSummary>> {
        let index = self.read_index()?;
        Ok(index
            .images
            .iter()
            .map(|(id, rec)| ImageSummary {
                id: id.clone(),
                references: index.refs_of(id),
                created: rec.created.clone(),
                size: index.size_of(rec),
            })
            .collect())
    }

    /// Everything about one image.
    pub fn inspect(&self, name_or_id: &str) -> Result<ImageDetails> {
        let index = self.read_index()?;
        let (id, _) = index.resolve(name_or_id)?;
        let rec = &index.images[&id];
        Ok(ImageDetails {
            repo_tags: index.refs_of(&id),
            manifest_digest: rec.manifest.clone(),
            size: index.size_of(rec),
            layer_dirs: rec.layers.iter().map(|d| self.layer_dir(d)).collect(),
            config: self.config_of(&id)?,
            id,
        })
    }

    /// Removes a reference, or an image by ID with all its references; an
    /// image left with no reference is deleted with the layers no other
    /// image uses. Returns `Untagged: …` / `Deleted: …` lines.
    pub fn remove(&self, name_or_id: &str) -> Result<Vec<String>> {
        self.remove_unless_used(name_or_id, &|_| None, false)
    }

    /// [`Store::remove`], but an image that `user_of` says is used (it
    /// names the user: `pod default/web`) and would be deleted is refused
    /// with [`Error::InUse`]; with `force` its names go and the image
    /// stays, unnamed, until nothing uses it (then [`Store::prune`]
    /// removes it): a running container's layers never vanish under it.
    pub fn remove_unless_used(
        &self,
        name_or_id: &str,
        user_of: &dyn Fn(&Digest) -> Option<String>,
        force: bool,
    ) -> Result<Vec<String>> {
        let mut out = Vec::new();
        self.update(|index| {
            let (id, reference) = index.resolve(name_or_id)?;
            let by_name = index.references.contains_key(&reference);
            let names: Vec<String> = if by_name {
                vec![reference]
            } else {
                index.refs_of(&id)
            };
            let deletes = index.refs_of(&id).len() == names.len();
            let user = if deletes { user_of(&id) } else { None };
            if let (Some(user), false) = (&user, force) {
                return Err(Error::InUse {
                    image: name_or_id.to_string(),
                    user: user.clone(),
                });
            }
            for n in names {
                index.references.remove(&n);
                out.push(format!("Untagged: {n}"));
            }
            if deletes && user.is_none() {
                index.images.remove(&id);
                out.push(format!("Deleted: {id}"));
            }
            Ok(())
        })?;
        self.collect_garbage()?;
        Ok(out)
    }

    /// Names the image `source` (a name or ID) also `target`, as `podman
    /// tag` does; `target` moves off any image it named before.
    pub fn tag(&self, source: &str, target: &str) -> Result<()> {
        let target = Reference::parse(target)?;
        self.update(|index| {
            let (id, _) = index.resolve(source)?;
            index.references.insert(target.to_string(), id);
            Ok(())
        })
    }

    /// Removes the images no one uses (`user_of` gives `None`): those
    /// without a name, or with `all` every one, as `podman image prune
    /// [-a]`. Returns the IDs removed.
    pub fn prune(
        &self,
        all: bool,
        user_of: &dyn Fn(&Digest) -> Option<String>,
    ) -> Result<Vec<Digest>> {
        let removed = self.update(|index| {
            let doomed: Vec<Digest> = index
                .images
                .keys()
                .filter(|id| all || index.refs_of(id).is_empty())
                .filter(|id| user_of(id).is_none())
                .cloned()
                .collect();
            index.references.retain(|_, id| !doomed.contains(id));
            for id in &doomed {
                index.images.remove(id);
            }
            Ok(doomed)
        })?;
        self.collect_garbage()?;
        Ok(removed)
    }

    /// Removes what no image uses: layers, blobs, and temporary folders of
    /// processes that are gone.
    pub fn collect_garbage(&self) -> Result<()> {
        let _lock = self.lock()?;
        let index = self.read_index()?;
        let layers_dir = self.dir.join("layers");
        let used_layers: std::collections::BTreeSet<&str> = index
            .images
            .values()
            .flat_map(|r| r.layers.iter().map(Digest::hex))
            .collect();
        for name in dir_names(&layers_dir)? {
            if !used_layers.contains(name.as_str()) {
                self.remove_folder(&layers_dir, &name)?;
            }
        }
        let points_dir = self.dir.join(crate::mount_points::MOUNT_POINTS_DIR);
        if points_dir.is_dir() {
            for name in dir_names(&points_dir)? {
                let image = name.split('-').next().unwrap_or_default();
                if !index.images.keys().any(|id| id.hex().starts_with(image)) {
                    self.remove_folder(&points_dir, &name)?;
                }
            }
        }
        let blobs_dir = self.dir.join("blobs/sha256");
        let used_blobs: std::collections::BTreeSet<&str> = index
            .images
            .iter()
            .flat_map(|(id, r)| {
                std::iter::once(id.hex()).chain(r.manifest.as_ref().map(Digest::hex))
            })
            .collect();
        for name in dir_names(&blobs_dir)? {
            if !used_blobs.contains(name.as_str()) {
                let p = blobs_dir.join(&name);
                fs::remove_file(&p).ctx("remove", &p)?;
            }
        }
        let tmp = self.dir.join("tmp");
        for name in dir_names(&tmp)? {
            let pid = name.split('-').next().unwrap_or_default();
            if !Path::new("/proc").join(pid).exists() {
                let p = tmp.join(&name);
                let _ = fs::remove_dir_all(&p).or_else(|_| fs::remove_file(&p));
            }
        }
        let mut index = index;
        let used: std::collections::BTreeSet<Digest> = index
            .images
            .values()
            .flat_map(|r| r.layers.iter().cloned())
            .collect();
        index.layers.retain(|d, _| used.contains(d));
        self.write_index(&index)
    }

    /// Removes `parent/name`, out of `parent` first (one rename), so a
    /// crash midway never leaves a half-removed layer under a valid name.
    fn remove_folder(&self, parent: &Path, name: &str) -> Result<()> {
        let doomed = self.temp_path(&format!("gc-{name}"));
        fs::rename(parent.join(name), &doomed).ctx("rename", &doomed)?;
        fs::remove_dir_all(&doomed).ctx("remove", &doomed)
    }

    /// Unpacks one layer into a temporary folder; checks its diffID when
    /// one is expected.
    pub(crate) fn stage_layer(
        &self,
        reader: impl Read,
        expected: Option<&Digest>,
        what: &str,
    ) -> Result<StagedLayer> {
        let dir = self.temp_dir("layer")?;
        let up = unpack::unpack(reader, dir.path(), self.limits, what)?;
        if let Some(want) = expected {
            up.diff_id.verify(want, format!("{what} (diffID)"))?;
        }
        Ok(StagedLayer {
            diff_id: up.diff_id,
            size: up.size,
            dir,
        })
    }

    /// Whether the layer of this diffID is unpacked in the store.
    pub(crate) fn has_layer(&self, diff_id: &Digest) -> bool {
        self.layer_dir(diff_id).is_dir()
    }

    /// Adds an image whose config is `config_bytes`: each layer missing
    /// from the store is staged by `stage(i, diff_id)` (layer `i` of the
    /// config, bottom first), and `references` are pointed at it.
    pub(crate) fn add_image(
        &self,
        config_bytes: &[u8],
        stage: &mut dyn FnMut(usize, &Digest) -> Result<StagedLayer>,
        references: &[Reference],
        provenance: &Provenance,
    ) -> Result<Digest> {
        let config = ConfigFile::parse(config_bytes, "image config")?;
        // A concurrent `rm` may remove a shared layer between our check and
        // our commit: then stage it too and try again.
        for _ in 0..3 {
            let mut staged: Vec<StagedLayer> = Vec::new();
            for (i, diff_id) in config.rootfs.diff_ids.iter().enumerate() {
                if self.has_layer(diff_id) || staged.iter().any(|s| &s.diff_id == diff_id) {
                    continue;
                }
                staged.push(stage(i, diff_id)?);
            }
            if let Some(id) = self.commit(config_bytes, &config, staged, references, provenance)? {
                return Ok(id);
            }
        }
        Err(Error::archive(
            self.dir.display(),
            "layers keep disappearing while the image is added (concurrent removal)",
        ))
    }

    /// Under the lock: moves staged layers into place, writes the config
    /// (and manifest) blob and the index. `None` if a layer it counted on
    /// has gone meanwhile.
    pub(crate) fn commit(
        &self,
        config_bytes: &[u8],
        config: &ConfigFile,
        staged: Vec<StagedLayer>,
        references: &[Reference],
        provenance: &Provenance,
    ) -> Result<Option<Digest>> {
        let id = Digest::of(config_bytes);
        let _lock = self.lock()?;
        let mut index = self.read_index()?;
        let missing = config
            .rootfs
            .diff_ids
            .iter()
            .any(|d| !self.has_layer(d) && !staged.iter().any(|s| &s.diff_id == d));
        if missing {
            return Ok(None);
        }
        for layer in staged {
            let target = self.layer_dir(&layer.diff_id);
            if !target.exists() {
                let from = layer.dir.keep();
                fs::rename(&from, &target).ctx("rename", &target)?;
            }
            index
                .layers
                .insert(layer.diff_id.clone(), LayerRecord { size: layer.size });
        }
        self.write_blob(&id, config_bytes)?;
        if let Some((digest, bytes)) = &provenance.manifest {
            self.write_blob(digest, bytes)?;
        }
        index.images.insert(
            id.clone(),
            ImageRecord {
                layers: config.rootfs.diff_ids.clone(),
                created: config.created.clone(),
                manifest: provenance.manifest.as_ref().map(|(d, _)| d.clone()),
            },
        );
        for r in references {
            index.references.insert(r.to_string(), id.clone());
        }
        self.write_index(&index)?;
        Ok(Some(id))
    }

    /// A new temporary folder in the store (same file system as `layers/`,
    /// so a rename moves it into place), removed on drop unless kept.
    pub(crate) fn temp_dir(&self, what: &str) -> Result<TempDir> {
        let path = self.temp_path(what);
        fs::create_dir(&path).ctx("create", &path)?;
        Ok(TempDir { path: Some(path) })
    }

    fn temp_path(&self, what: &str) -> PathBuf {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        self.dir
            .join("tmp")
            .join(format!("{}-{n}-{what}", std::process::id()))
    }

    fn layer_dir(&self, diff_id: &Digest) -> PathBuf {
        self.dir.join("layers").join(diff_id.hex())
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir.join("blobs/sha256").join(digest.hex())
    }

    fn write_blob(&self, digest: &Digest, bytes: &[u8]) -> Result<()> {
        let path = self.blob_path(digest);
        if !path.exists() {
            write_atomically(&path, bytes)?;
        }
        Ok(())
    }

    fn config_of(&self, id: &Digest) -> Result<ConfigFile> {
        let path = self.blob_path(id);
        let bytes = fs::read(&path).ctx("read", &path)?;
        ConfigFile::parse(&bytes, &path.display().to_string())
    }

    fn read_index(&self) -> Result<Index> {
        let path = self.dir.join("index.json");
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| Error::Json {
                document: path.display().to_string(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Index::default()),
            Err(e) => Err(Error::io("read", path, e)),
        }
    }

    fn write_index(&self, index: &Index) -> Result<()> {
        let path = self.dir.join("index.json");
        let bytes = serde_json::to_vec_pretty(index).map_err(|source| Error::Json {
            document: path.display().to_string(),
            source,
        })?;
        write_atomically(&path, &bytes)
    }

    /// Runs `f` on the index under the exclusive lock and writes it back.
    fn update<T>(&self, f: impl FnOnce(&mut Index) -> Result<T>) -> Result<T> {
        let _lock = self.lock()?;
        let mut index = self.read_index()?;
        let out = f(&mut index)?;
        self.write_index(&index)?;
        Ok(out)
    }

    /// The exclusive lock of the store, released when the file is dropped.
    fn lock(&self) -> Result<File> {
        let path = self.dir.join("lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .ctx("open", &path)?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
            .map_err(std::io::Error::from)
            .ctx("lock", &path)?;
        Ok(file)
    }
}

/// A temporary folder of the store, removed on drop unless [`TempDir::keep`]
/// took it.
#[derive(Debug)]
pub(crate) struct TempDir {
    path: Option<PathBuf>,
}

impl TempDir {
    pub(crate) fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }

    /// Takes the folder out of the guard: it is no longer removed on drop.
    pub(crate) fn keep(mut self) -> PathBuf {
        self.path.take().unwrap_or_default()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = fs::remove_dir_all(&p).or_else(|_| fs::remove_file(&p));
        }
    }
}

/// Writes `bytes` to a temporary sibling, syncs it, renames it over `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut f = File::create(&tmp).ctx("create", &tmp)?;
    f.write_all(bytes).ctx("write", &tmp)?;
    f.sync_all().ctx("sync", &tmp)?;
    drop(f);
    fs::rename(&tmp, path).ctx("rename", path)
}

fn dir_names(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).ctx("read", dir)? {
        let e = e.ctx("read", dir)?;
        out.push(e.file_name().to_string_lossy().into_owned());
    }
    Ok(out)
}
