//! Where a workload lives on the host: `<run>/workloads/<ns>_<kind>_<name>/`
//! with `workload.json` (what was applied, its uid, the ConfigMaps and
//! Secrets its pods read), `status.json` (a Job's progress and end, by the
//! keeper), `keeper.json` (the keeper's pid) and `keeper.log`. Files are
//! replaced by rename; the folder and files are root's only (0700/0600).

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use peapod_spec::{Workload, WorkloadKind};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::pod_config::PodConfig;
use crate::state::{ProcessRecord, write_atomic};

const RECORD: &str = "workload.json";
const STATUS: &str = "status.json";
const KEEPER: &str = "keeper.json";
/// The keeper's stderr.
pub(crate) const KEEPER_LOG: &str = "keeper.log";

/// What `apply` wrote: the workload and what its pods read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadRecord {
    /// The workload, defaulted.
    pub workload: Workload,
    /// Its uid (the pods' owner reference).
    pub uid: String,
    /// When it was first applied (RFC 3339).
    pub creation_timestamp: String,
    /// The ConfigMaps and Secrets of its namespace, for its pods.
    #[serde(default)]
    pub config: PodConfig,
}

/// A Job's progress, as its keeper last wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    /// When the keeper started it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// When it completed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<String>,
    /// Pods running.
    #[serde(default)]
    pub active: u32,
    /// Pods succeeded.
    #[serde(default)]
    pub succeeded: u32,
    /// Pods failed.
    #[serde(default)]
    pub failed: u32,
    /// `Complete` or `Failed` once it ended.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<JobCondition>,
}

/// A Job's end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobCondition {
    /// `Complete` or `Failed`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`.
    pub status: String,
    /// `BackoffLimitExceeded`, `DeadlineExceeded`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// What happened.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// When (RFC 3339).
    pub last_transition_time: String,
}

/// One workload's folder.
#[derive(Debug, Clone)]
pub(crate) struct WorkloadDir {
    path: PathBuf,
}

/// The folder of every workload.
pub(crate) fn root(paths: &Paths) -> PathBuf {
    paths.run.join("workloads")
}

impl WorkloadDir {
    /// The folder of `kind` `name` in `namespace` (it may not exist).
    pub fn of(paths: &Paths, kind: WorkloadKind, namespace: &str, name: &str) -> Self {
        let folder = format!("{namespace}_{}_{name}", kind.name().to_ascii_lowercase());
        Self {
            path: root(paths).join(folder),
        }
    }

    /// The folder at `path`.
    pub fn at(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the folder (and the root), 0700.
    pub fn create(&self) -> Result<()> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.path)
            .map_err(|e| Error::io(&self.path, e))
    }

    pub fn read_record(&self) -> Result<WorkloadRecord> {
        read(&self.path.join(RECORD))
    }

    pub fn write_record(&self, record: &WorkloadRecord) -> Result<()> {
        write(&self.path.join(RECORD), record)
    }

    pub fn read_status(&self) -> Option<JobStatus> {
        read(&self.path.join(STATUS)).ok()
    }

    pub fn write_status(&self, status: &JobStatus) -> Result<()> {
        write(&self.path.join(STATUS), status)
    }

    pub fn read_keeper(&self) -> Option<ProcessRecord> {
        read(&self.path.join(KEEPER)).ok()
    }

    pub fn write_keeper(&self, record: &ProcessRecord) -> Result<()> {
        write(&self.path.join(KEEPER), record)
    }

    /// Removes the folder and everything in it.
    pub fn remove(&self) -> Result<()> {
        match std::fs::remove_dir_all(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(&self.path, e)),
            _ => Ok(()),
        }
    }
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::json(path.display().to_string(), e))
}

fn write<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes =
        serde_json::to_vec(value).map_err(|e| Error::json(path.display().to_string(), e))?;
    write_atomic(path, &bytes)
}
