//! The one error type of the crate: every variant names the volume (or
//! container) and the host path it was about.

use std::io;
use std::path::PathBuf;

/// Result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong preparing, planning or removing a pod's volumes.
///
/// Messages read like kubelet's: `volume "data": hostPath "/x" is not a
/// directory, it is a file`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A hostPath is missing or of the wrong type for its `type`.
    #[error("volume {volume:?}: hostPath {path:?} {problem}")]
    HostPathType {
        /// The volume's name.
        volume: String,
        /// The host path.
        path: PathBuf,
        /// What is wrong: `does not exist`, `is not a directory, it is a file`.
        problem: String,
    },
    /// A hostPath could not be examined or created.
    #[error("volume {volume:?}: hostPath {path:?}: {source}")]
    HostPathIo {
        /// The volume's name.
        volume: String,
        /// The host path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A folder peapod makes for a volume (emptyDir, the pod's /dev/shm)
    /// could not be made.
    #[error("volume {volume:?}: create {path:?}: {source}")]
    CreateDir {
        /// The volume's name (`shm` for the pod's /dev/shm).
        volume: String,
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// An emptyDir `sizeLimit` that is no byte count.
    #[error("volume {volume:?}: emptyDir sizeLimit {size_limit:?} is not a size in bytes")]
    SizeLimit {
        /// The volume's name.
        volume: String,
        /// The quantity as written.
        size_limit: String,
    },
    /// The files of a configMap, secret, downwardAPI or projected volume
    /// cannot be made (a missing object or key, a bad path or mode).
    #[error("volume {volume:?}: {problem}")]
    Payload {
        /// The volume's name.
        volume: String,
        /// What is wrong: `configMap "app" not found`.
        problem: String,
    },
    /// The files of a volume could not be written.
    #[error("volume {volume:?}: write files in {path:?}: {source}")]
    Write {
        /// The volume's name.
        volume: String,
        /// The volume's folder.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A volume could not be given to the pod's `fsGroup`.
    #[error("volume {volume:?}: give {path:?} to fsGroup: {source}")]
    Ownership {
        /// The volume's name.
        volume: String,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A pod-level tmpfs would be mounted where it could reach the host.
    #[error(
        "volume {volume:?}: refusing to mount on {path:?}: {reason}; \
         pod-level mounts belong in the supervisor's private mount namespace"
    )]
    NotPrivate {
        /// The volume's name (`shm` for the pod's /dev/shm).
        volume: String,
        /// The mount point.
        path: PathBuf,
        /// Why the namespace is not private.
        reason: String,
    },
    /// A pod-level mount failed.
    #[error("volume {volume:?}: mount tmpfs on {path:?}: {source}")]
    Mount {
        /// The volume's name (`shm` for the pod's /dev/shm).
        volume: String,
        /// The mount point.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A container mounts a volume the pod does not declare.
    #[error("container {container:?}: volumeMount {volume:?}: the pod has no volume of that name")]
    UnknownVolume {
        /// The container's name.
        container: String,
        /// The volume name the mount asked for.
        volume: String,
    },
    /// A `subPath` is malformed or leads out of its volume.
    #[error("container {container:?}: volume {volume:?}: subPath {sub_path:?} {problem}")]
    SubPath {
        /// The container's name.
        container: String,
        /// The volume's name.
        volume: String,
        /// The subPath as written.
        sub_path: String,
        /// What is wrong: `must be relative`, `escapes the volume`, ...
        problem: String,
    },
    /// A subPath could not be pinned (bind-mounted by descriptor).
    #[error("container {container:?}: volume {volume:?}: pin subPath on {path:?}: {source}")]
    PinSubPath {
        /// The container's name.
        container: String,
        /// The volume's name.
        volume: String,
        /// The pin's mount point.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A volumeMount asks for something the plan cannot give.
    #[error("container {container:?}: volumeMount {volume:?}: {problem}")]
    VolumeMount {
        /// The container's name.
        container: String,
        /// The volume's name.
        volume: String,
        /// What is wrong.
        problem: String,
    },
    /// The mount plan built for a container is invalid (a bad
    /// `mountPath`, an overlay layer path core cannot pass on).
    #[error("container {container:?}: mount plan: {source}")]
    Plan {
        /// The container's name.
        container: String,
        /// core's validation error, naming the step.
        source: peapod_core::Error,
    },
    /// Something of the pod's volumes could not be removed.
    #[error("teardown: {path:?}: {source}")]
    Teardown {
        /// The folder or mount point.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}
