//! The `--cri` address: `unix:///path/to.sock` (a bare absolute path is
//! taken as well, as kubelet's `--container-runtime-endpoint` does).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where the CRI socket is bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    path: PathBuf,
}

impl Endpoint {
    /// The socket kubelet and crictl look for by default on a peapod host.
    pub const DEFAULT: &'static str = "unix:///run/peapod/peapod.sock";

    /// Parses `unix:///abs/path` or `/abs/path`.
    pub fn parse(text: &str) -> Result<Self> {
        let err = |reason| Error::Endpoint {
            endpoint: text.to_string(),
            reason,
        };
        let path = match text.split_once("://") {
            Some(("unix", rest)) => rest,
            Some(_) => return Err(err("only unix:// sockets are served")),
            None => text,
        };
        if !path.starts_with('/') {
            return Err(err("the socket path must be absolute"));
        }
        Ok(Self {
            path: PathBuf::from(path),
        })
    }

    /// The socket for a `--root` of tests and side-by-side instances:
    /// `<run>/peapod.sock` (`<root>/run/peapod.sock`).
    pub fn under_run(run: &Path) -> Self {
        Self {
            path: run.join("peapod.sock"),
        }
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unix://{}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_urls_and_bare_paths_name_a_socket() {
        assert_eq!(
            Endpoint::parse("unix:///run/peapod/peapod.sock")
                .map(|e| e.path().to_path_buf())
                .ok(),
            Some(PathBuf::from("/run/peapod/peapod.sock"))
        );
        assert_eq!(
            Endpoint::parse("/tmp/x.sock").map(|e| e.to_string()).ok(),
            Some("unix:///tmp/x.sock".to_string())
        );
    }

    #[test]
    fn tcp_and_relative_paths_are_refused() {
        for bad in ["tcp://127.0.0.1:1234", "unix://rel.sock", "rel.sock"] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }
}
