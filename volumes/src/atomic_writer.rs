//! Writing the files of configMap, secret, downwardAPI and projected
//! volumes so a reader never sees half of an update, as kubelet's
//! `AtomicWriter` (`pkg/volume/util/atomic_writer.go`) does:
//!
//! ```text
//! <dir>/..2026_11_24_16_03_00.123456789/   the files, in a fresh folder
//! <dir>/..data -> ..2026_11_24_16_03_00.123456789   swapped by rename
//! <dir>/<key>  -> ..data/<key>               one link per top-level name
//! ```
//!
//! A new version is written beside the old one, `..data` is replaced by a
//! `rename` of a fresh symlink (atomic), then links the new version no
//! longer has and the old folder are removed.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt, symlink};
use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::payload::Payload;

/// The symlink to the current version.
const DATA: &str = "..data";
/// The symlink made before it is renamed over [`DATA`].
const DATA_TMP: &str = "..data_tmp";

/// Writes `payload` into `dir` (which must exist), replacing what an
/// earlier call wrote there.
pub(crate) fn write(dir: &Path, payload: &Payload) -> io::Result<()> {
    let old = fs::read_link(dir.join(DATA)).ok();
    let version = version_name();
    let version_dir = dir.join(&version);
    DirBuilder::new().mode(0o755).create(&version_dir)?;
    fs::set_permissions(&version_dir, Permissions::from_mode(0o755))?;
    for (rel, file) in payload {
        let path = version_dir.join(rel);
        if let Some(parent) = path.parent() {
            DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(parent)?;
        }
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(file.mode)
            .open(&path)?;
        f.write_all(&file.data)?;
        f.set_permissions(Permissions::from_mode(file.mode))?;
    }
    let tmp = dir.join(DATA_TMP);
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    symlink(&version, &tmp)?;
    fs::rename(&tmp, dir.join(DATA))?;

    let wanted = top_level_names(payload);
    for name in &wanted {
        let link = dir.join(name);
        if fs::symlink_metadata(&link).is_err() {
            symlink(Path::new(DATA).join(name), &link)?;
        }
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let is_ours = !name.as_encoded_bytes().starts_with(b"..");
        if is_ours && !wanted.contains(&name) && entry.file_type()?.is_symlink() {
            fs::remove_file(entry.path())?;
        }
    }
    if let Some(old) = old.filter(|o| *o != Path::new(&version)) {
        // Only ever a `..<version>` name we made, inside `dir`.
        if old.components().count() == 1 && old.as_os_str().as_encoded_bytes().starts_with(b"..") {
            fs::remove_dir_all(dir.join(old))?;
        }
    }
    Ok(())
}

/// `..<seconds>.<nanoseconds>.<pid>`: unique in the folder.
fn version_name() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "..{}.{:09}.{}",
        now.as_secs(),
        now.subsec_nanos(),
        std::process::id()
    )
}

/// The first component of every payload path: what gets a link in `dir`.
fn top_level_names(payload: &Payload) -> BTreeSet<OsString> {
    payload
        .keys()
        .filter_map(|p: &PathBuf| match p.components().next() {
            Some(Component::Normal(n)) => Some(n.to_owned()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::FileData;
    use peapod_testkit::TempDir;

    fn payload(files: &[(&str, &str, u32)]) -> Payload {
        files
            .iter()
            .map(|(p, d, m)| {
                (
                    PathBuf::from(p),
                    FileData {
                        data: d.as_bytes().to_vec(),
                        mode: *m,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn files_are_reached_through_the_data_link_with_their_modes() {
        let t = TempDir::new("aw");
        write(
            t.path(),
            &payload(&[("a", "A", 0o600), ("sub/b", "B", 0o644)]),
        )
        .expect("write");
        assert_eq!(fs::read_to_string(t.path().join("a")).expect("a"), "A");
        assert_eq!(fs::read_to_string(t.path().join("sub/b")).expect("b"), "B");
        assert_eq!(
            fs::read_link(t.path().join("a")).expect("link"),
            Path::new("..data/a")
        );
        let mode = fs::metadata(t.path().join("a"))
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn an_update_swaps_the_version_and_drops_stale_names() {
        let t = TempDir::new("aw-update");
        write(
            t.path(),
            &payload(&[("a", "1", 0o644), ("gone", "x", 0o644)]),
        )
        .expect("write");
        let first = fs::read_link(t.path().join(DATA)).expect("data");
        write(t.path(), &payload(&[("a", "2", 0o644)])).expect("update");
        assert_eq!(fs::read_to_string(t.path().join("a")).expect("a"), "2");
        assert!(fs::symlink_metadata(t.path().join("gone")).is_err());
        assert!(!t.path().join(first).exists(), "old version removed");
        let names: Vec<_> = fs::read_dir(t.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 3, "..data, one version, a: {names:?}");
    }
}
