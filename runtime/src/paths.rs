//! Where peapod keeps its state on the host.

use std::path::{Path, PathBuf};

/// The three roots of peapod's state, as DESIGN.md lays them out, and
/// its configuration folder.
///
/// By default they are the system folders; `--root DIR` (or `PEAPOD_ROOT`)
/// moves all four below `DIR` so tests and several instances can run side
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
    /// Configuration (`registries.conf`). `/etc/peapod` by default.
    pub etc: PathBuf,
}

impl Paths {
    /// The system layout: `/run/peapod`, `/var/lib/peapod`, `/var/log/pods`.
    pub fn system() -> Self {
        Self {
            run: PathBuf::from("/run/peapod"),
            lib: PathBuf::from("/var/lib/peapod"),
            log: PathBuf::from("/var/log/pods"),
            etc: PathBuf::from("/etc/peapod"),
        }
    }

    /// Everything below `root`: `root/run`, `root/lib`, `root/log`,
    /// `root/etc`.
    pub fn under(root: &Path) -> Self {
        Self {
            run: root.join("run"),
            lib: root.join("lib"),
            log: root.join("log"),
            etc: root.join("etc"),
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

    /// Where registries, mirrors and insecure registries are configured
    /// (containers-registries.conf(5) v2): `<etc>/registries.conf`.
    pub fn registries_conf(&self) -> PathBuf {
        self.etc.join("registries.conf")
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
        assert_eq!(p.registries_conf(), Path::new("/tmp/x/etc/registries.conf"));
    }

    #[test]
    fn no_root_gives_the_system_layout() {
        let p = Paths::from_root(None);
        assert_eq!(p.images(), Path::new("/var/lib/peapod/images"));
        assert_eq!(p.log, Path::new("/var/log/pods"));
        assert_eq!(
            p.registries_conf(),
            Path::new("/etc/peapod/registries.conf")
        );
    }
}
