//! A removed pod's folders on disk (its `<lib>/pods/<uid>` tree, its log
//! folder) moved aside by one rename each into `<lib>/trash/`, and removed
//! from there later: the supervisor holds its [`Trash`] until it has
//! answered `delete`, so removing a pod's tree from the host's disk (one
//! unlink per file and folder, each a journal transaction on ext4: several
//! milliseconds each on a busy disk) is not on the user's path, as kubelet
//! removes an orphaned pod's folders in its housekeeping.
//!
//! A [`Trash`] removes what it holds when dropped, and with it what a
//! killed process left in `<lib>/trash/`; one made by [`Trash::at_once`]
//! moves nothing: folders are removed when put.

use std::path::{Path, PathBuf};
use std::time::Duration;

use peapod_core::CgroupHierarchy;

use crate::error::{Error, Result};

/// Where a removed pod's folders go.
#[derive(Debug)]
pub(crate) struct Trash {
    /// `<lib>/trash`, or `None`: folders are removed at once.
    dir: Option<PathBuf>,
    /// What was moved into it.
    held: Vec<PathBuf>,
}

impl Trash {
    /// Folders put here are removed at once.
    pub(crate) fn at_once() -> Self {
        Self {
            dir: None,
            held: Vec::new(),
        }
    }

    /// Folders put here move to `<lib>/trash/` and are removed when the
    /// trash is dropped.
    pub(crate) fn deferred(lib: &Path) -> Self {
        Self {
            dir: Some(lib.join("trash")),
            held: Vec::new(),
        }
    }

    /// Whether folders put here are removed later (when it is dropped).
    pub(crate) fn defers(&self) -> bool {
        self.dir.is_some()
    }

    /// Takes `folder` off its path: renamed into the trash (as its name
    /// and its rank in this trash: `<uid>-0`, `<ns>_<name>_<uid>-1`), or
    /// removed at once where it cannot be (another filesystem). A missing
    /// folder is fine.
    pub(crate) fn put(&mut self, folder: &Path) -> Result<()> {
        if let (Some(dir), Some(name)) = (&self.dir, folder.file_name()) {
            let mut name = name.to_os_string();
            name.push(format!("-{}", self.held.len()));
            let aside = dir.join(name);
            let mut moved = std::fs::rename(folder, &aside);
            if moved.is_err() && !dir.exists() {
                // The first removal on this host: the trash folder itself.
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                moved = std::fs::rename(folder, &aside);
            }
            match moved {
                Ok(()) => {
                    self.held.push(aside);
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(_) => {} // another filesystem: removed now
            }
        }
        remove_tree(folder)
    }
}

impl Drop for Trash {
    fn drop(&mut self) {
        for folder in self.held.drain(..) {
            let _ = remove_tree(&folder);
        }
        // What a killed supervisor left (one racing us removes it too:
        // errors are its or ours to ignore): a pod's folder, and the
        // cgroup of its uid if it is still there (empty: a busy one stays).
        if let Some(dir) = &self.dir
            && let Ok(entries) = std::fs::read_dir(dir)
        {
            let mut hierarchy = None;
            for entry in entries.flatten() {
                if let Some(uid) = pod_uid_of(&entry.file_name().to_string_lossy())
                    && let Ok(h) = hierarchy.get_or_insert_with(CgroupHierarchy::detect)
                {
                    let _ = h
                        .open(crate::teardown::cgroup_name(uid))
                        .remove(Duration::ZERO);
                }
                let _ = remove_tree(&entry.path());
            }
        }
    }
}

/// The pod uid a trash entry's name carries: `<uid>-<rank>` (its
/// `<lib>/pods/<uid>` folder); `None` for its log folder
/// (`<ns>_<name>_<uid>-<rank>`, the same pod) and anything else.
fn pod_uid_of(entry: &str) -> Option<&str> {
    let (uid, rank) = entry.rsplit_once('-')?;
    let uuid = uid.len() == 36
        && uid.chars().enumerate().all(|(i, c)| {
            matches!(i, 8 | 13 | 18 | 23) == (c == '-') && (c == '-' || c.is_ascii_hexdigit())
        });
    (uuid && !rank.is_empty() && rank.chars().all(|c| c.is_ascii_digit())).then_some(uid)
}

/// Removes a folder and what it holds; gone already is fine.
pub(crate) fn remove_tree(path: &Path) -> Result<()> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_testkit::TempDir;

    fn tree(at: &Path) -> PathBuf {
        std::fs::create_dir_all(at.join("a/b")).expect("test io");
        std::fs::write(at.join("a/b/f"), "x").expect("test io");
        at.to_path_buf()
    }

    #[test]
    fn deferred_trash_takes_folders_away_at_once_and_removes_them_when_dropped() {
        let t = TempDir::new("trash");
        let lib = t.path().join("lib");
        let pod = tree(&lib.join("pods/uid-1"));
        let log = tree(&t.path().join("log/ns_name_uid-1"));
        let mut trash = Trash::deferred(&lib);
        trash.put(&pod).expect("test io");
        trash.put(&log).expect("test io");
        trash.put(&lib.join("pods/never-made")).expect("test io");
        assert!(!pod.exists() && !log.exists());
        let mut aside: Vec<_> = std::fs::read_dir(lib.join("trash"))
            .expect("test io")
            .map(|e| {
                e.expect("test io")
                    .file_name()
                    .into_string()
                    .expect("test io")
            })
            .collect();
        aside.sort();
        assert_eq!(aside, ["ns_name_uid-1-1", "uid-1-0"]);
        // Left by a killed supervisor: removed with ours.
        tree(&lib.join("trash/uid-0-0"));
        drop(trash);
        assert_eq!(
            std::fs::read_dir(lib.join("trash"))
                .expect("test io")
                .count(),
            0
        );
    }

    #[test]
    fn a_trash_entry_names_its_pods_uid() {
        let uid = "0b5e2f3c-1d2e-4f50-8a9b-0c1d2e3f4a5b";
        assert_eq!(pod_uid_of(&format!("{uid}-0")), Some(uid));
        assert_eq!(pod_uid_of(&format!("default_web_{uid}-1")), None);
        assert_eq!(pod_uid_of("0123-left-by-a-killed-supervisor-0"), None);
        assert_eq!(pod_uid_of(&format!("{uid}-x")), None);
    }

    #[test]
    fn trash_at_once_removes_when_put() {
        let t = TempDir::new("trash-now");
        let pod = tree(&t.path().join("lib/pods/uid-1"));
        let mut trash = Trash::at_once();
        trash.put(&pod).expect("test io");
        assert!(!pod.exists());
        assert!(!t.path().join("lib/trash").exists());
    }
}
