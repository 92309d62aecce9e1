//! Pod-level tmpfs mounts: the pod's `/dev/shm` and `emptyDir` volumes
//! with `medium: Memory`.
//!
//! They are mounted by the pod's supervisor, directly with rustix's safe
//! `mount`, on folders below the pod folder. The supervisor lives in its
//! own mount namespace with private propagation, so these mounts are seen
//! by the containers it clones (each copies its namespace) and vanish with
//! the supervisor: a crashed pod never leaves a tmpfs on the host. Before
//! mounting, [`TmpfsMount::mount`] checks exactly that and refuses
//! otherwise.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use rustix::mount::{MountFlags, mount};

use crate::error::{Error, Result};
use crate::mountinfo;

/// Size of the pod's `/dev/shm`: 64 MiB, docker's default.
pub const SHM_SIZE: u64 = 64 * 1024 * 1024;

/// One tmpfs the supervisor mounts for the whole pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmpfsMount {
    /// The volume it backs (`shm` for the pod's /dev/shm).
    pub volume: String,
    /// Mount point on the host, below the pod folder.
    pub target: PathBuf,
    /// `size=` in bytes; `None` leaves the kernel default (half of RAM).
    pub size: Option<u64>,
    /// Mode of the tmpfs root.
    pub mode: u32,
    /// `noexec` as well as `nosuid,nodev` (set for /dev/shm, as docker does).
    pub noexec: bool,
}

impl TmpfsMount {
    /// The pod's `/dev/shm`: `mode=1777,size=64Mi`, nosuid,nodev,noexec.
    pub(crate) fn shm(target: PathBuf) -> Self {
        Self {
            volume: "shm".to_owned(),
            target,
            size: Some(SHM_SIZE),
            mode: 0o1777,
            noexec: true,
        }
    }

    /// An `emptyDir` with `medium: Memory`: mode 0777 like kubelet's
    /// emptyDir folders, sized by `sizeLimit`.
    pub(crate) fn memory_empty_dir(volume: &str, target: PathBuf, size: Option<u64>) -> Self {
        Self {
            volume: volume.to_owned(),
            target,
            size,
            mode: 0o777,
            noexec: false,
        }
    }

    /// A secret or projected volume: files only the pod may read, never on
    /// disk. Mode 0755 like kubelet's, no size limit (the files are small).
    pub(crate) fn secret(volume: &str, target: PathBuf) -> Self {
        Self {
            volume: volume.to_owned(),
            target,
            size: None,
            mode: 0o755,
            noexec: false,
        }
    }

    /// The flags of the mount.
    pub fn flags(&self) -> MountFlags {
        let base = MountFlags::NOSUID | MountFlags::NODEV;
        if self.noexec {
            base | MountFlags::NOEXEC
        } else {
            base
        }
    }

    /// The tmpfs options: `mode=1777,size=67108864`.
    pub fn data(&self) -> String {
        match self.size {
            Some(size) => format!("mode={:o},size={size}", self.mode),
            None => format!("mode={:o}", self.mode),
        }
    }

    /// Mounts the tmpfs, after checking that this process is not in the
    /// host's mount namespace and that the mount holding the target does
    /// not propagate (`shared:`), so nothing can reach the host.
    pub fn mount(&self) -> Result<()> {
        let _span = tracing::debug_span!("tmpfs", volume = %self.volume).entered();
        ensure_private(&self.volume, &self.target)?;
        let mount_err = |source: std::io::Error| Error::Mount {
            volume: self.volume.clone(),
            path: self.target.clone(),
            source,
        };
        let data = CString::new(self.data()).map_err(|e| mount_err(e.into()))?;
        mount(
            "tmpfs",
            &self.target,
            "tmpfs",
            self.flags(),
            data.as_c_str(),
        )
        .map_err(|e| mount_err(e.into()))
    }
}

/// Refuses a pod-level mount in the host's namespace or below a shared mount.
fn ensure_private(volume: &str, target: &Path) -> Result<()> {
    let not_private = |reason: String| Error::NotPrivate {
        volume: volume.to_owned(),
        path: target.to_owned(),
        reason,
    };
    let ns_inode = |p: &str| std::fs::metadata(p).map(|m| std::os::unix::fs::MetadataExt::ino(&m));
    let own = ns_inode("/proc/self/ns/mnt")
        .map_err(|e| not_private(format!("cannot read /proc/self/ns/mnt: {e}")))?;
    // PID 1's namespace is the host's; the parent's is where this process
    // came from (the CLI, or init once orphaned). Either may be unreadable
    // (a protected PID 1): then the propagation check below still applies.
    let parent = format!("/proc/{}/ns/mnt", std::os::unix::process::parent_id());
    for (path, reason) in [
        (
            "/proc/1/ns/mnt",
            "this process is in the host's mount namespace",
        ),
        (
            parent.as_str(),
            "this process shares its parent's mount namespace (unshare it first)",
        ),
    ] {
        if ns_inode(path).is_ok_and(|ino| ino == own) {
            return Err(not_private(reason.to_owned()));
        }
    }
    let mounts = mountinfo::read().map_err(|e| not_private(format!("read mountinfo: {e}")))?;
    let real = target
        .canonicalize()
        .map_err(|e| not_private(format!("resolve the mount point: {e}")))?;
    match mountinfo::holding(&mounts, &real) {
        Some(m) if m.shared => Err(not_private(format!(
            "the mount \"{}\" holding it has shared propagation",
            m.mount_point.display()
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shm_is_64_mib_sticky_and_noexec() {
        let m = TmpfsMount::shm(PathBuf::from("/p/shm"));
        assert_eq!(m.data(), "mode=1777,size=67108864");
        assert!(
            m.flags()
                .contains(MountFlags::NOEXEC | MountFlags::NOSUID | MountFlags::NODEV)
        );
    }

    #[test]
    fn memory_empty_dir_without_size_limit_has_no_size_option() {
        let m = TmpfsMount::memory_empty_dir("cache", PathBuf::from("/p/c"), None);
        assert_eq!(m.data(), "mode=777");
        assert!(!m.flags().contains(MountFlags::NOEXEC));
    }
}
