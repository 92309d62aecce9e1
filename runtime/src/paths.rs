//! Where peapod keeps its state on the host.

use std::path::{Path, PathBuf};

/// The three roots of peapod's state, as DESIGN.md lays them out.
///
/// By default they are the system folders; `--root DIR` (or `PEAPOD_ROOT`)
/// moves all three below `DIR` so tests and several instances can run side
/// by side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Running pods: one folder per pod (tmpfs on a real host: gone at
    /// reboot, as the pods are). `/run/peapod` by default.
    pub run: PathBuf,
    /// Images and emptyDir data. `/var/lib/peapod` by default.
    pub lib: PathBuf,
    /// Container logs in CRI format. `/var/log/pods` by default.
    pub log: PathBuf,
}

impl Paths {
    /// The system layout: `/run/peapod`, `/var/lib/peapod`, `/var/log/pods`.
    pub fn system() -> Self {
        Self {
            run: PathBuf::from("/run/peapod"),
            lib: PathBuf::from("/var/lib/peapod"),
            log: PathBuf::from("/var/log/pods"),
        }
    }

    /// Everything below `root`: `root/run`, `root/lib`, `root/log`.
    pub fn under(root: &Path) -> Self {
        Self {
            run: root.join("run"),
            lib: root.join("lib"),
            log: root.join("log"),
        }
    }

    /// [`Paths::under`] the given root, or [`Paths::system`] without one.
    pub fn from_root(root: Option<&Path>) -> Self {
        root.map_or_else(Self::system, Self::under)
    }

    /// The image store: `<lib>/images`.
    pub fn images(&self) -> PathBuf {
        self.lib.join("images")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_moves_every_folder_below_it() {
        let p = Paths::from_root(Some(Path::new("/tmp/x")));
        assert_eq!(p.run, Path::new("/tmp/x/run"));
        assert_eq!(p.images(), Path::new("/tmp/x/lib/images"));
        assert_eq!(p.log, Path::new("/tmp/x/log"));
    }

    #[test]
    fn no_root_gives_the_system_layout() {
        let p = Paths::from_root(None);
        assert_eq!(p.images(), Path::new("/var/lib/peapod/images"));
        assert_eq!(p.log, Path::new("/var/log/pods"));
    }
}
