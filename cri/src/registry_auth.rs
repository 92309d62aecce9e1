//! The `AuthConfig` of a `PullImage` request, handed to the image store.
//!
//! The store reads credentials from an auth file (`auths` as in
//! `~/.docker/config.json`), so the request's are written to one of its
//! own: mode 0600 in a 0700 folder under `<run>` (a tmpfs on a real host,
//! so the password stays off disk), removed when the pull is over.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use tonic::Status;

use crate::api::AuthConfig;

/// Numbers the auth files of one process.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// An auth file that lives as long as one pull.
#[derive(Debug)]
pub(crate) struct AuthFile {
    path: PathBuf,
}

impl AuthFile {
    /// Writes the credentials of `auth` for `registry` under `dir`, or
    /// `None` when the request carries none. A token-only `AuthConfig`
    /// (identity or registry token) is refused: the store speaks only
    /// user and password to registries.
    pub(crate) fn write(
        dir: &Path,
        registry: &str,
        auth: Option<&AuthConfig>,
    ) -> Result<Option<Self>, Status> {
        let Some(auth) = auth else {
            return Ok(None);
        };
        let entry = if !auth.username.is_empty() || !auth.password.is_empty() {
            serde_json::json!({ "username": auth.username, "password": auth.password })
        } else if !auth.auth.is_empty() {
            serde_json::json!({ "auth": auth.auth })
        } else if !auth.identity_token.is_empty() || !auth.registry_token.is_empty() {
            return Err(Status::unimplemented(
                "PullImage: peapod authenticates to registries with a username and password \
                 (or `auth`) only; identity and registry tokens are not supported",
            ));
        } else {
            return Ok(None);
        };
        let document = serde_json::json!({ "auths": { registry: entry } });
        let internal = |e: std::io::Error| Status::internal(format!("auth file: {e}"));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(internal)?;
        let path = dir.join(format!(
            "auth-{}-{}.json",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let file = Self { path };
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file.path)
            .map_err(internal)?;
        out.write_all(document.to_string().as_bytes())
            .map_err(internal)?;
        Ok(Some(file))
    }

    /// The file, for `PullOptions::auth_file`.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for AuthFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
