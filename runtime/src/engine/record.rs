//! What the engine keeps on disk about a sandbox it made, in the pod's
//! state folder: `sandbox.json` (its configuration, its state, its
//! containers with theirs). The engine writes it when it creates the
//! sandbox; from then on the sandbox's supervisor does, after every change;
//! any process reads it. Its presence is what tells a supervisor that the
//! pod controller stays off for this pod.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::config::{ContainerConfig, SandboxConfig};
use crate::error::Result;
use crate::state::PodDir;

/// The file, in the pod's state folder.
pub(crate) const FILE: &str = "sandbox.json";

/// A sandbox's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SandboxState {
    /// Its namespaces and network are there; containers can run.
    #[default]
    Ready,
    /// Stopped (or its supervisor is gone): nothing runs in it.
    NotReady,
}

/// A container's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ContainerState {
    /// Set up, held before its `execve`.
    #[default]
    Created,
    /// Its process runs.
    Running,
    /// Its process ended.
    Exited,
    /// Its sandbox's supervisor is gone: nobody watches it.
    Unknown,
}

/// What the engine knows of one sandbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxStatus {
    /// Its id ([`crate::engine::Engine`]'s handle on it).
    pub id: String,
    /// What it was created with.
    pub config: SandboxConfig,
    /// Its state.
    pub state: SandboxState,
    /// When it was created, in nanoseconds since the epoch.
    pub created_at: i64,
    /// Its addresses (empty on a loopback-only network).
    pub ips: Vec<IpAddr>,
    /// Its containers, by id, removed ones left out.
    pub containers: BTreeMap<String, ContainerStatus>,
}

/// What the engine knows of one container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    /// Its id: `<sandbox id>.<name>.<attempt>`.
    pub id: String,
    /// Its sandbox's id.
    pub sandbox_id: String,
    /// Its name.
    pub name: String,
    /// Its attempt.
    pub attempt: u32,
    /// Its state.
    pub state: ContainerState,
    /// The image as asked for.
    pub image: String,
    /// The image's id (`sha256:...`).
    pub image_id: String,
    /// The process's pid on the host while it runs (0 otherwise).
    pub pid: i32,
    /// When it was created, started and finished, in nanoseconds since
    /// the epoch (0: not yet).
    pub created_at: i64,
    /// See `created_at`.
    pub started_at: i64,
    /// See `created_at`.
    pub finished_at: i64,
    /// Its exit code (128 + n for signal n), once exited.
    pub exit_code: i32,
    /// `OOMKilled`, `Error` or `Completed` once exited.
    pub reason: String,
    /// Why it is in this state, when there is something to say.
    pub message: String,
    /// Its log file.
    pub log_path: PathBuf,
    /// Labels, as created.
    pub labels: BTreeMap<String, String>,
    /// Annotations, as created.
    pub annotations: BTreeMap<String, String>,
    /// Its mounts, as created.
    pub mounts: Vec<super::config::Mount>,
}

impl ContainerStatus {
    /// A container just created from `config` in sandbox `sandbox_id`.
    pub(crate) fn created(
        sandbox_id: &str,
        config: &ContainerConfig,
        image_id: String,
        log_path: PathBuf,
    ) -> Self {
        Self {
            id: format!("{sandbox_id}.{}", config.local_id()),
            sandbox_id: sandbox_id.to_owned(),
            name: config.name.clone(),
            attempt: config.attempt,
            state: ContainerState::Created,
            image: config.image.clone(),
            image_id,
            created_at: now_nanos(),
            log_path,
            labels: config.labels.clone(),
            annotations: config.annotations.clone(),
            mounts: config.mounts.clone(),
            ..Self::default()
        }
    }
}

/// Nanoseconds since the epoch, now.
pub(crate) fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Reads the sandbox record of `dir`; `None` when the pod is not the
/// engine's (an `apply`'s pod).
pub(crate) fn read(dir: &PodDir) -> Result<Option<SandboxStatus>> {
    dir.read_state(FILE)
}

/// Writes the sandbox record of `dir` (atomically; unchanged: skipped).
pub(crate) fn write(dir: &PodDir, status: &SandboxStatus) -> Result<()> {
    dir.write_state(FILE, status)
}
