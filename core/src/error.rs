//! The one error type of `peapod-core`.

use std::io;
use std::path::PathBuf;

/// What went wrong, naming the object and the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A plan (mounts, namespaces, process) is not valid; nothing was run.
    #[error("invalid plan: {field}: {reason}")]
    InvalidPlan {
        /// The field at fault, e.g. `mounts[3].target`.
        field: String,
        /// Why it is refused.
        reason: String,
    },
    /// `clone3` itself failed in the parent.
    #[error("clone3: {source}")]
    Clone {
        /// The errno.
        #[source]
        source: io::Error,
    },
    /// A step of the child path between `clone3` and `execve` failed; the
    /// child reported it over the error pipe and is gone. Reads like runc:
    /// `exec "/usr/sbin/nginx": no such file or directory`.
    #[error("{}", child_message(step, path, cause))]
    Child {
        /// The step that failed (`exec`, `mount`, `pivot_root`, ...).
        step: &'static str,
        /// The path the step worked on (empty when none).
        path: String,
        /// The errno, in words (`no such file or directory`).
        cause: String,
        /// The raw errno.
        errno: i32,
    },
    /// A syscall the parent makes around a spawn (pipes, setns, pidfd).
    #[error("{what}: {source}")]
    Sys {
        /// The call and its object, e.g. `setns pid namespace of pause`.
        what: &'static str,
        /// The errno.
        #[source]
        source: io::Error,
    },
    /// A cgroup file or folder could not be read, written, made or removed.
    #[error("cgroup {path}: {source}")]
    Cgroup {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A seccomp profile could not be read, parsed, resolved or compiled;
    /// nothing ran with it.
    #[error("seccomp profile {profile}: {reason}")]
    Seccomp {
        /// `RuntimeDefault`, or the profile file's path.
        profile: String,
        /// Why, with the JSON field path where there is one.
        reason: String,
    },
    /// The event loop's backend failed.
    #[error("event loop ({backend}): {source}")]
    EventLoop {
        /// `io_uring` or `epoll`.
        backend: &'static str,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

impl Error {
    pub(crate) fn sys(what: &'static str, source: impl Into<io::Error>) -> Self {
        Self::Sys {
            what,
            source: source.into(),
        }
    }

    pub(crate) fn cgroup(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Cgroup {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidPlan {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// `step "path": cause`, or `step: cause` when the step had no path.
fn child_message(step: &str, path: &str, cause: &str) -> String {
    if path.is_empty() {
        format!("{step}: {cause}")
    } else {
        format!("{step} \"{path}\": {cause}")
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_error_without_path_has_no_empty_quotes() {
        let e = Error::Child {
            step: "setns",
            path: String::new(),
            cause: "invalid argument".into(),
            errno: libc::EINVAL,
        };
        assert_eq!(e.to_string(), "setns: invalid argument");
    }
}
