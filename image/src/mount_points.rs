//! An image's mount-point layer: the folders and empty files its
//! containers mount on (`/etc/hosts`, a volume's `/usr/logs`) that the
//! image lacks, made once per image and set of paths, to sit on top of the
//! image's layers in every such container's overlay.
//!
//! Without it each container's child makes them through the overlay, and
//! overlayfs copies each one up into the container's upper layer (the
//! parents too: `/etc` for `/etc/hosts`), several inode creations on the
//! host's disk per container, and as many removals at delete, for paths a
//! mount hides anyway.
//!
//! ```text
//! <dir>/mountpoints/<image>-<paths>/   one layer: <image> the first 16 hex
//!                                      digits of the image ID, <paths> of
//!                                      the SHA-256 of the paths asked for
//! ```
//!
//! A layer is made in `tmp/` and renamed into place complete; two
//! processes making the same one at once both succeed (the second rename
//! fails, its copy is dropped). Layers are never changed once in place;
//! [`Store::collect_garbage`] removes those of images no longer stored.
//!
//! What it holds is what the child would have made, as the overlay would
//! have shown it: a missing path is made with the child's modes (0755
//! folders, 0644 files, under the same umask, owned by the same root); a
//! folder of the image on the way (`/etc`) gets the mode, owner and times
//! of the image's, as overlayfs copies them up; a path whose parent in the
//! image is not a folder (a symlink, a file) is left out, so the child
//! resolves it in the container's root as it always did.

use std::fs::{self, Metadata};
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use crate::digest::Digest;
use crate::error::{IoContext, Result};
use crate::store::Store;

/// The folder of mount-point layers in a store.
pub(crate) const MOUNT_POINTS_DIR: &str = "mountpoints";

/// The characters of the image ID in a layer's name (what
/// [`Store::collect_garbage`] matches).
pub(crate) const IMAGE_PREFIX_LEN: usize = 16;

impl Store {
    /// The mount-point layer of image `image` (its ID; `lower` its layers,
    /// topmost first) holding the folders `dirs` and the files `files`
    /// (container paths, parents before children) the image lacks; `None`
    /// when it lacks none of them. Made on first use, found by one `stat`
    /// after.
    ///
    /// # Errors
    /// `image` is not an image ID, or the layer could not be read or made.
    pub fn mount_point_layer(
        &self,
        image: &str,
        lower: &[PathBuf],
        dirs: &[&Path],
        files: &[&Path],
    ) -> Result<Option<PathBuf>> {
        let id = Digest::parse(image)?;
        let mut key = Vec::new();
        for (kind, paths) in [("d", dirs), ("f", files)] {
            for p in paths {
                key.extend_from_slice(kind.as_bytes());
                key.extend_from_slice(p.as_os_str().as_encoded_bytes());
                key.push(0);
            }
        }
        let name = format!(
            "{}-{}",
            &id.hex()[..IMAGE_PREFIX_LEN],
            &Digest::of(&key).hex()[..IMAGE_PREFIX_LEN]
        );
        let target = self.dir().join(MOUNT_POINTS_DIR).join(&name);
        match fs::symlink_metadata(&target) {
            Ok(m) if m.is_dir() => return Ok(Some(target)),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).ctx("stat", &target),
        }
        let tmp = self.temp_dir("mountpoints")?;
        let mut made = Made::default();
        for (paths, is_dir) in [(dirs, true), (files, false)] {
            for p in paths {
                make_point(lower, tmp.path(), p, is_dir, &mut made)?;
            }
        }
        if made.count == 0 {
            return Ok(None);
        }
        // Last, once nothing more is made in them.
        for (at, like) in made.image_dirs.iter().rev() {
            set_times(at, like)?;
        }
        let parent = self.dir().join(MOUNT_POINTS_DIR);
        fs::create_dir_all(&parent).ctx("create", &parent)?;
        match fs::rename(tmp.path(), &target) {
            Ok(()) => {
                tmp.keep();
                Ok(Some(target))
            }
            // Made meanwhile by another process: that one is as good.
            Err(_) if target.is_dir() => Ok(Some(target)),
            Err(e) => Err(e).ctx("rename", &target),
        }
    }
}

/// What a path is in the image, as its overlay of `lower` shows it.
enum Found {
    Missing,
    /// A folder: the metadata of its topmost layer's (what the overlay shows).
    Dir(Metadata),
    /// A file, symlink, device...
    Other,
}

/// What [`make_point`] made in a layer.
#[derive(Default)]
struct Made {
    /// Entries made.
    count: usize,
    /// The image's folders copied, with the metadata they copy.
    image_dirs: Vec<(PathBuf, Metadata)>,
}

/// Makes `path` (and its parents) in `layer` as the child would have made
/// it over `lower`: nothing when the image has it, or when a parent of it
/// in the image is not a folder.
fn make_point(
    lower: &[PathBuf],
    layer: &Path,
    path: &Path,
    is_dir: bool,
    made: &mut Made,
) -> Result<()> {
    // Each folder on the way: `Some` the image's (copied), `None` new.
    let mut way: Vec<(PathBuf, Option<Metadata>)> = Vec::new();
    let mut rel = PathBuf::new();
    let mut missing = false;
    let parts: Vec<_> = path
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect();
    for (i, part) in parts.iter().enumerate() {
        rel.push(part);
        if !missing {
            match lookup(lower, &rel).ctx("read the image's layers at", &rel)? {
                Found::Missing => missing = true,
                Found::Dir(m) if i + 1 < parts.len() => {
                    way.push((rel.clone(), Some(m)));
                    continue;
                }
                // The image has it, or the child resolves a symlink or
                // meets a file on the way: nothing to make.
                Found::Dir(_) | Found::Other => return Ok(()),
            }
        }
        way.push((rel.clone(), None));
    }
    let n = way.len();
    for (i, (rel, image_dir)) in way.into_iter().enumerate() {
        let at = layer.join(&rel);
        if fs::symlink_metadata(&at).is_ok() {
            continue; // made for an earlier path
        }
        match image_dir {
            Some(m) => {
                copy_dir(&at, &m)?;
                made.image_dirs.push((at, m));
            }
            None if i + 1 == n && !is_dir => {
                fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o644)
                    .open(&at)
                    .ctx("create", &at)?;
            }
            None => fs::DirBuilder::new()
                .mode(0o755)
                .create(&at)
                .ctx("create", &at)?,
        }
        made.count += 1;
    }
    Ok(())
}

/// A folder of the image on a mount point's way, as overlayfs copies it
/// up: its mode and owner ([`set_times`] copies its times once nothing is
/// made in it any more).
fn copy_dir(at: &Path, like: &Metadata) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::DirBuilder::new()
        .mode(0o700)
        .create(at)
        .ctx("create", at)?;
    std::os::unix::fs::lchown(at, Some(like.uid()), Some(like.gid())).ctx("chown", at)?;
    fs::set_permissions(at, fs::Permissions::from_mode(like.mode() & 0o7777)).ctx("chmod", at)
}

/// The access and modification times of `like` on `at`.
fn set_times(at: &Path, like: &Metadata) -> Result<()> {
    let time = |s: i64, ns: i64| rustix::fs::Timespec {
        tv_sec: s,
        tv_nsec: ns,
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        at,
        &rustix::fs::Timestamps {
            last_access: time(like.atime(), like.atime_nsec()),
            last_modification: time(like.mtime(), like.mtime_nsec()),
        },
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(io::Error::from)
    .ctx("set the times of", at)
}

/// Looks `rel` up in the overlay of `lower` (topmost first) as overlayfs
/// does: the first layer holding a name decides (a 0:0 character device is
/// a whiteout: missing); a folder merges the folders of the same path
/// below it, down to an opaque one (`trusted.overlay.opaque=y`) or a
/// layer where it is not a folder.
fn lookup(lower: &[PathBuf], rel: &Path) -> io::Result<Found> {
    let mut live: Vec<&Path> = lower.iter().map(PathBuf::as_path).collect();
    let mut found = Found::Other;
    let mut at = PathBuf::new();
    for part in rel.components() {
        at.push(part);
        let mut top = None;
        let mut merged = Vec::new();
        for layer in &live {
            let path = layer.join(&at);
            let m = match fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let whiteout = m.file_type().is_char_device() && m.rdev() == 0;
            if whiteout || !m.is_dir() {
                if top.is_none() {
                    return Ok(if whiteout {
                        Found::Missing
                    } else {
                        Found::Other
                    });
                }
                break;
            }
            let opaque = rustix::fs::lgetxattr(&path, "trusted.overlay.opaque", &mut [0u8; 1])
                .is_ok_and(|n| n == 1);
            top.get_or_insert(m);
            merged.push(*layer);
            if opaque {
                break;
            }
        }
        let Some(m) = top else {
            return Ok(Found::Missing);
        };
        found = Found::Dir(m);
        live = merged;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_testkit::TempDir;
    use std::os::unix::fs::PermissionsExt;

    const IMAGE: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// A store with a two-layer image: the base has `/etc` (0750, mtime
    /// 1000), `/usr/share` and `/opt/old`; the top has `/bin/sh` and hides
    /// `/opt` with a whiteout.
    fn fixture(t: &TempDir) -> (Store, Vec<PathBuf>) {
        let store = Store::open(t.path().join("store")).expect("store");
        let base = t.path().join("base");
        let top = t.path().join("top");
        for d in ["etc", "usr/share", "opt/old"] {
            fs::create_dir_all(base.join(d)).expect("mkdir");
        }
        fs::set_permissions(base.join("etc"), fs::Permissions::from_mode(0o750)).expect("chmod");
        let epoch_1000 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1000);
        fs::File::open(base.join("etc"))
            .and_then(|f| f.set_times(fs::FileTimes::new().set_modified(epoch_1000)))
            .expect("utimes");
        fs::create_dir_all(top.join("bin")).expect("mkdir");
        fs::write(top.join("bin/sh"), "").expect("write");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            top.join("opt"),
            rustix::fs::FileType::CharacterDevice,
            rustix::fs::Mode::from_raw_mode(0),
            0,
        )
        .expect("whiteout (needs root)");
        (store, vec![top, base])
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(d) = pending.pop() {
            for e in fs::read_dir(&d).expect("read") {
                let p = e.expect("entry").path();
                let m = fs::symlink_metadata(&p).expect("stat");
                let rel = p.strip_prefix(dir).expect("below").display().to_string();
                out.push(format!(
                    "{rel} {}{:o}",
                    if m.is_dir() { "d" } else { "f" },
                    m.mode() & 0o7777
                ));
                if m.is_dir() {
                    pending.push(p);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn layer_holds_what_the_image_lacks_with_the_image_folders_attributes() {
        // Whiteouts and chown need root.
        if !peapod_testkit::require_root("mount_point_layer") {
            return;
        }
        let t = TempDir::new("mount-points");
        let (store, lower) = fixture(&t);
        let p = Path::new;
        let dirs = [
            p("/proc"),
            p("/etc"),
            p("/usr"),
            p("/usr/logs"),
            p("/opt"),
            p("/opt/old"),
        ];
        let files = [p("/etc/hosts"), p("/bin/sh"), p("/bin/sh/x")];
        let layer = store
            .mount_point_layer(IMAGE, &lower, &dirs, &files)
            .expect("made")
            .expect("something lacked");
        let old = rustix::process::umask(rustix::fs::Mode::empty());
        rustix::process::umask(old);
        let dir = 0o755 & !old.bits();
        let file = 0o644 & !old.bits();
        assert_eq!(
            listing(&layer),
            [
                "etc d750".to_owned(),
                format!("etc/hosts f{file:o}"),
                // Hidden by the top layer's whiteout: made new, empty.
                format!("opt d{dir:o}"),
                format!("opt/old d{dir:o}"),
                format!("proc d{dir:o}"),
                "usr d755".to_owned(),
                format!("usr/logs d{dir:o}"),
            ]
        );
        let etc = fs::metadata(layer.join("etc")).expect("stat");
        assert_eq!(
            etc.mtime(),
            1000,
            "the image's folder's times, as a copy-up"
        );
        // Found again, not made again.
        let again = store
            .mount_point_layer(IMAGE, &lower, &dirs, &files)
            .expect("found");
        assert_eq!(again.as_deref(), Some(layer.as_path()));
        assert_eq!(
            fs::read_dir(t.path().join("store/tmp"))
                .expect("tmp")
                .count(),
            0
        );
    }

    #[test]
    fn nothing_lacking_makes_no_layer() {
        if !peapod_testkit::require_root("mount_point_layer_none") {
            return;
        }
        let t = TempDir::new("mount-points-none");
        let (store, lower) = fixture(&t);
        let got = store
            .mount_point_layer(IMAGE, &lower, &[Path::new("/etc")], &[Path::new("/bin/sh")])
            .expect("looked");
        assert_eq!(got, None);
        assert!(!t.path().join("store/mountpoints").exists());
    }

    #[test]
    fn garbage_collection_removes_the_layers_of_images_gone() {
        if !peapod_testkit::require_root("mount_point_layer_gc") {
            return;
        }
        let t = TempDir::new("mount-points-gc");
        let (store, lower) = fixture(&t);
        let rootfs = t.path().join("rootfs");
        fs::create_dir_all(rootfs.join("etc")).expect("mkdir");
        let kept = store
            .import(&rootfs, "kept:1", crate::ImageConfig::default())
            .expect("import");
        let hosts = [Path::new("/etc/hosts")];
        let of_kept = store
            .mount_point_layer(&kept.id.to_string(), &kept.lower_dirs, &[], &hosts)
            .expect("made")
            .expect("lacked");
        let of_gone = store
            .mount_point_layer(IMAGE, &lower, &[], &hosts)
            .expect("made")
            .expect("lacked");
        assert_ne!(of_kept, of_gone);
        store.collect_garbage().expect("gc");
        assert!(
            of_kept.is_dir(),
            "an image's layer stays while it is stored"
        );
        assert!(!of_gone.exists(), "no image of that ID: removed");
        store.remove("kept:1").expect("rm");
        assert!(!of_kept.exists(), "removed with its image");
    }
}
