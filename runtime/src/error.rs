//! The one error type of the runtime.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong running a pod.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A pod of that name already exists in that namespace.
    #[error("pods \"{name}\" already exists")]
    AlreadyExists {
        /// Namespace.
        namespace: String,
        /// Pod name.
        name: String,
    },
    /// No pod of that name.
    #[error("pods \"{name}\" not found")]
    NotFound {
        /// Pod name.
        name: String,
    },
    /// An update the API server would refuse: `The Pod "web" is invalid:
    /// spec: Forbidden: ...`.
    #[error("The {kind} \"{name}\" is invalid: {message}")]
    Invalid {
        /// The object's kind (`Pod`).
        kind: &'static str,
        /// Its name.
        name: String,
        /// The field path and why.
        message: String,
    },
    /// No container of that name in the pod.
    #[error("container {container} is not valid for pod {pod}")]
    NoSuchContainer {
        /// Pod name.
        pod: String,
        /// Container name.
        container: String,
    },
    /// A file of the state store or of the host.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A system call with no file to name.
    #[error("{op}: {source}")]
    Sys {
        /// What was attempted.
        op: &'static str,
        /// The cause.
        source: io::Error,
    },
    /// A JSON document of the state store or the control socket.
    #[error("{what}: {source}")]
    Json {
        /// Which document.
        what: String,
        /// The cause.
        source: serde_json::Error,
    },
    /// A container could not start (image, command, mounts...): the message
    /// `apply` prints, e.g. `container "web": exec "/usr/sbin/nginx": no
    /// such file or directory`.
    #[error("container \"{container}\": {message}")]
    Container {
        /// Container name.
        container: String,
        /// What went wrong.
        message: String,
    },
    /// A container kubelet would not create, with kubelet's waiting
    /// reason (`CreateContainerConfigError`: `runAsNonRoot` refused it;
    /// `CreateContainerError`: its image user is not in `/etc/passwd`).
    /// The supervisor shows it as the container's waiting state and tries
    /// again with the back-off, as kubelet does.
    #[error("container \"{container}\": {reason}: {message}")]
    Create {
        /// Container name.
        container: String,
        /// kubelet's waiting reason.
        reason: &'static str,
        /// kubelet's message.
        message: String,
    },
    /// A container's command could not be executed: `execve` failed, with
    /// `not_found` for a missing file (else not executable, or refused).
    /// Reads as [`Error::Container`]; `peapod run` exits 127 or 126 on it,
    /// as podman and docker do.
    #[error("container \"{container}\": {message}")]
    Exec {
        /// Container name.
        container: String,
        /// What went wrong (`exec "nosuch": executable file not found in $PATH`).
        message: String,
        /// The command was not found (ENOENT, ENOTDIR).
        not_found: bool,
    },
    /// The pod as a whole could not start (pause, cgroup, network...).
    #[error("pod {pod}: {message}")]
    Pod {
        /// Pod name.
        pod: String,
        /// What went wrong.
        message: String,
    },
    /// A setting of the environment is not understood (e.g. `PEAPOD_NETWORK`).
    #[error("{0}")]
    Config(String),
    /// The pod did not start; the supervisor's message, which names the
    /// container and the cause. Nothing of the pod is left.
    #[error("{0}")]
    Start(String),
    /// A sandbox's supervisor refused an engine request; its message.
    #[error("{0}")]
    Engine(String),
    /// The supervisor died or answered nonsense.
    #[error("supervisor of pod {pod}: {message}")]
    Supervisor {
        /// Pod name.
        pod: String,
        /// What went wrong.
        message: String,
    },
}

/// `Result` with the runtime's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Io`] on `path`.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// An [`Error::Sys`].
    pub fn sys(op: &'static str, source: impl Into<io::Error>) -> Self {
        Self::Sys {
            op,
            source: source.into(),
        }
    }

    /// An [`Error::Json`] about `what`.
    pub fn json(what: impl Into<String>, source: serde_json::Error) -> Self {
        Self::Json {
            what: what.into(),
            source,
        }
    }

    /// An [`Error::Container`].
    pub fn container(container: impl Into<String>, message: impl std::fmt::Display) -> Self {
        let container = container.into();
        let message = message.to_string();
        // A cause that names the container already (a volumes error, a
        // container error passed up) is not prefixed twice.
        let message = match message.strip_prefix(&format!("container \"{container}\": ")) {
            Some(rest) => rest.to_owned(),
            None => message,
        };
        Self::Container { container, message }
    }

    /// A failed spawn of `container`: [`Error::Exec`] when `execve` failed,
    /// else [`Error::Container`].
    pub fn spawn(container: impl Into<String>, error: &peapod_core::Error) -> Self {
        match error {
            peapod_core::Error::Child {
                step: "exec",
                errno,
                ..
            } => Self::Exec {
                container: container.into(),
                message: error.to_string(),
                not_found: [rustix::io::Errno::NOENT, rustix::io::Errno::NOTDIR]
                    .contains(&rustix::io::Errno::from_raw_os_error(*errno)),
            },
            other => Self::container(container, other),
        }
    }

    /// An [`Error::Pod`].
    pub fn pod(pod: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Self::Pod {
            pod: pod.into(),
            message: message.to_string(),
        }
    }
}
