//! The state store: one folder per pod under `<run>/pods/<ns>_<name>/`.
//!
//! - `pod.json`: the v1 Pod with its status, replaced by rename (never torn;
//!   no fsync: the state describes running processes, which a crash ends
//!   too); a write of the bytes this `PodDir` last wrote is skipped;
//! - `lock`: `flock`ed by whoever changes the pod (supervisor at start and
//!   stop, `delete` of a pod whose supervisor died);
//! - `supervisor.json`: the supervisor's pid and start time (to tell it
//!   alive from a recycled pid) and what `delete` needs to clean up after
//!   it without it: the pod's cgroups and log folder;
//! - `control.sock`: the supervisor's control socket (mode 0600);
//! - `supervisor.log`: the supervisor's own stderr.
//!
//! A DNS-1123 name holds no `_`, so `<ns>_<name>` is unambiguous and keeps
//! names unique per namespace.

use std::collections::{BTreeMap, HashMap};
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use peapod_spec::Pod;
use rustix::fs::FlockOperation;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::paths::Paths;

/// Start time of a process in clock ticks since boot, `None` when it is
/// gone or a zombie (the supervisor records its own with it).
pub use peapod_core::process_start_time;

/// Namespace and name of a pod.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PodKey {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

impl PodKey {
    /// A key.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    pub(crate) fn dir_name(&self) -> String {
        format!("{}_{}", self.namespace, self.name)
    }

    pub(crate) fn from_dir_name(s: &str) -> Option<Self> {
        let (ns, name) = s.split_once('_')?;
        Some(Self::new(ns, name))
    }
}

/// All pod folders.
#[derive(Debug, Clone)]
pub struct StateStore {
    pods: PathBuf,
}

impl StateStore {
    /// The store of these paths (`<run>/pods`).
    pub fn new(paths: &Paths) -> Self {
        Self {
            pods: paths.run.join("pods"),
        }
    }

    /// The folder of a pod (which may not exist).
    pub fn pod(&self, key: &PodKey) -> PodDir {
        PodDir::new(key.clone(), self.pods.join(key.dir_name()))
    }

    /// The folder of a pod that exists; [`Error::NotFound`] naming the pod
    /// when it does not (what every verb on an existing pod answers first).
    pub fn existing(&self, key: &PodKey) -> Result<PodDir> {
        let dir = self.pod(key);
        if dir.exists() {
            Ok(dir)
        } else {
            Err(Error::NotFound {
                name: key.name.clone(),
            })
        }
    }

    /// Creates the folder of a new pod; [`Error::AlreadyExists`] when one
    /// of that name is there (the `mkdir` is the atomic claim on the name).
    pub fn create(&self, key: &PodKey) -> Result<PodDir> {
        // Root's alone: 0700 folders, 0600 files (the state names pods,
        // their IPs and their config; `config.json` may hold Secrets).
        DirBuilder::new()
            .recursive(true)
            .mode(STATE_DIR_MODE)
            .create(&self.pods)
            .map_err(|e| Error::io(&self.pods, e))?;
        let dir = self.pod(key);
        match DirBuilder::new().mode(STATE_DIR_MODE).create(&dir.path) {
            Ok(()) => Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(Error::AlreadyExists {
                namespace: key.namespace.clone(),
                name: key.name.clone(),
            }),
            Err(e) => Err(Error::io(&dir.path, e)),
        }
    }

    /// Every pod folder, sorted by namespace and name.
    pub fn list(&self) -> Result<Vec<PodDir>> {
        let entries = match std::fs::read_dir(&self.pods) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&self.pods, e)),
        };
        let mut pods: Vec<PodDir> = entries
            .filter_map(std::result::Result::ok)
            .filter_map(|e| {
                let key = PodKey::from_dir_name(&e.file_name().to_string_lossy())?;
                Some(PodDir::new(key, e.path()))
            })
            .collect();
        pods.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(pods)
    }
}

/// What the supervisor records about itself for `get`, `exec` and
/// `delete`; the pod's cgroup and folders follow from its uid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SupervisorRecord {
    /// Its pid.
    pub pid: i32,
    /// Its start time (`/proc/<pid>/stat` field 22), so a recycled pid is
    /// never taken for it.
    pub start_time: u64,
    /// The running containers' processes, by container name (`exec`
    /// joins their namespaces).
    #[serde(default)]
    pub containers: BTreeMap<String, ProcessRecord>,
}

/// A process, identified so that a recycled pid is never taken for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProcessRecord {
    /// Its pid (in the host's PID namespace).
    pub pid: i32,
    /// Its start time in clock ticks since boot.
    pub start_time: u64,
}

impl ProcessRecord {
    /// The record of a live process, `None` if it is gone.
    pub fn of(pid: i32) -> Option<Self> {
        process_start_time(pid).map(|start_time| Self { pid, start_time })
    }

    /// Whether the process still runs (same pid, same start time).
    pub fn is_alive(&self) -> bool {
        process_start_time(self.pid) == Some(self.start_time)
    }
}

/// Whether a pod's supervisor is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Running.
    Alive,
    /// Recorded but gone (killed, crashed).
    Dead,
    /// Not recorded yet: the pod is being created.
    Starting,
}

/// The folder of one pod.
#[derive(Debug, Clone)]
pub struct PodDir {
    key: PodKey,
    path: PathBuf,
    /// What this handle (and its clones) last wrote to each state file:
    /// the supervisor publishes `pod.json` after every event, mostly
    /// unchanged, and an unchanged file is not written again.
    written: Arc<Mutex<HashMap<&'static str, Vec<u8>>>>,
}

impl PodDir {
    fn new(key: PodKey, path: PathBuf) -> Self {
        Self {
            key,
            path,
            written: Arc::default(),
        }
    }

    /// Namespace and name.
    pub fn key(&self) -> &PodKey {
        &self.key
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the folder at `path` (as the supervisor gets it on its
    /// command line).
    pub fn open(path: &Path) -> Result<Self> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let key = PodKey::from_dir_name(&name).ok_or_else(|| {
            Error::io(
                path,
                io::Error::new(io::ErrorKind::InvalidInput, "not a pod folder"),
            )
        })?;
        Ok(Self::new(key, path.to_path_buf()))
    }

    /// Whether the folder exists.
    pub fn exists(&self) -> bool {
        self.path.is_dir()
    }

    /// `pod.json`.
    pub fn pod_file(&self) -> PathBuf {
        self.path.join("pod.json")
    }

    /// `control.sock`.
    pub fn control_socket(&self) -> PathBuf {
        self.path.join("control.sock")
    }

    /// `supervisor.log`.
    pub fn supervisor_log(&self) -> PathBuf {
        self.path.join("supervisor.log")
    }

    /// Reads `pod.json`.
    pub fn read_pod(&self) -> Result<Pod> {
        read_json(&self.pod_file())
    }

    /// Replaces `pod.json` (write to a temporary file, then rename),
    /// unless it holds what this handle wrote last.
    pub fn write_pod(&self, pod: &Pod) -> Result<()> {
        self.write_state("pod.json", pod)
    }

    /// Reads `supervisor.json`, `None` before the supervisor wrote it.
    pub fn read_supervisor(&self) -> Result<Option<SupervisorRecord>> {
        self.read_state("supervisor.json")
    }

    /// Replaces `supervisor.json`, unless it holds what this handle wrote
    /// last.
    pub fn write_supervisor(&self, record: &SupervisorRecord) -> Result<()> {
        self.write_state("supervisor.json", record)
    }

    /// Replaces the state file `file` of the folder with `value` as JSON,
    /// unless it holds what this handle wrote last.
    pub(crate) fn write_state<T: Serialize>(&self, file: &'static str, value: &T) -> Result<()> {
        let path = self.path.join(file);
        let mut bytes = serde_json::to_vec_pretty(value)
            .map_err(|e| Error::json(path.display().to_string(), e))?;
        bytes.push(b'\n');
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        if written.get(file) == Some(&bytes) {
            return Ok(());
        }
        write_atomic(&path, &bytes)?;
        written.insert(file, bytes);
        Ok(())
    }

    /// Reads the state file `file` of the folder; `None` when there is none.
    pub(crate) fn read_state<T: DeserializeOwned>(&self, file: &str) -> Result<Option<T>> {
        match read_json(&self.path.join(file)) {
            Ok(r) => Ok(Some(r)),
            Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether the recorded supervisor still runs (same pid, same start
    /// time).
    pub fn liveness(&self) -> Result<Liveness> {
        Ok(match self.read_supervisor()? {
            None => Liveness::Starting,
            Some(r)
                if (ProcessRecord {
                    pid: r.pid,
                    start_time: r.start_time,
                })
                .is_alive() =>
            {
                Liveness::Alive
            }
            Some(_) => Liveness::Dead,
        })
    }

    /// Takes the pod's lock, waiting for it.
    pub fn lock(&self) -> Result<PodLock> {
        let path = self.path.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(STATE_FILE_MODE)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        rustix::fs::flock(&file, FlockOperation::LockExclusive)
            .map_err(|e| Error::io(&path, e.into()))?;
        Ok(PodLock { _file: file })
    }

    /// Removes the folder and all it holds.
    pub fn remove(&self) -> Result<()> {
        match std::fs::remove_dir_all(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(&self.path, e)),
        }
    }
}

/// The pod's lock, held until dropped.
#[derive(Debug)]
pub struct PodLock {
    _file: File,
}

/// The mode of a pod's state folder (and of `<run>/pods` when peapod makes it).
pub(crate) const STATE_DIR_MODE: u32 = 0o700;

/// The mode of every file of a pod's state folder.
pub(crate) const STATE_FILE_MODE: u32 = 0o600;

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::json(path.display().to_string(), e))
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over
/// `path`: readers see the old or the new file, never a torn one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let _span = tracing::debug_span!("write_state", file = ?path.file_name()).entered();
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let write = || -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(STATE_FILE_MODE)
            .open(&tmp)?;
        f.write_all(bytes)?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(tag: &str) -> (PathBuf, StateStore) {
        let root = std::env::temp_dir().join(format!("peapod-state-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        (root.clone(), StateStore::new(&Paths::under(&root)))
    }

    #[test]
    fn pod_file_round_trips_and_leaves_no_temporary() {
        let (root, store) = store("roundtrip");
        let dir = store
            .create(&PodKey::new("default", "myapp"))
            .expect("created");
        let mut pod = Pod::default();
        pod.metadata.name = Some("myapp".into());
        pod.status = Some(peapod_spec::PodStatus {
            phase: Some(peapod_spec::PodPhase::Running),
            ..peapod_spec::PodStatus::default()
        });
        dir.write_pod(&pod).expect("written");
        assert_eq!(dir.read_pod().expect("read"), pod);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["pod.json"]);
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn an_unchanged_pod_file_is_not_written_again() {
        let (root, store) = store("unchanged");
        let dir = store.create(&PodKey::new("default", "p")).expect("created");
        let mut pod = Pod::default();
        pod.metadata.name = Some("p".into());
        dir.write_pod(&pod).expect("written");
        // Someone else's file in its place stays: the same pod is not
        // written again by this handle or its clones.
        std::fs::write(dir.pod_file(), "other").expect("replaced");
        dir.clone().write_pod(&pod).expect("skipped");
        assert_eq!(
            std::fs::read_to_string(dir.pod_file()).expect("read"),
            "other"
        );
        // A changed pod is.
        pod.metadata.namespace = Some("default".into());
        dir.write_pod(&pod).expect("written");
        assert_eq!(dir.read_pod().expect("read"), pod);
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn names_are_unique_per_namespace() {
        let (root, store) = store("unique");
        store.create(&PodKey::new("default", "a")).expect("first");
        let err = store
            .create(&PodKey::new("default", "a"))
            .expect_err("taken");
        assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
        store
            .create(&PodKey::new("other", "a"))
            .expect("other namespace");
        let keys: Vec<_> = store
            .list()
            .expect("list")
            .iter()
            .map(|d| d.key().clone())
            .collect();
        assert_eq!(
            keys,
            [PodKey::new("default", "a"), PodKey::new("other", "a")]
        );
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn liveness_tells_a_live_supervisor_from_a_recycled_pid() {
        let (root, store) = store("liveness");
        let dir = store.create(&PodKey::new("default", "p")).expect("created");
        assert_eq!(dir.liveness().expect("read"), Liveness::Starting);
        let pid = i32::try_from(std::process::id()).expect("pid fits");
        let start_time = process_start_time(pid).expect("own stat");
        let mut rec = SupervisorRecord {
            pid,
            start_time,
            ..SupervisorRecord::default()
        };
        dir.write_supervisor(&rec).expect("written");
        assert_eq!(dir.liveness().expect("read"), Liveness::Alive);
        rec.start_time += 1;
        dir.write_supervisor(&rec).expect("written");
        assert_eq!(dir.liveness().expect("read"), Liveness::Dead);
        let _ = std::fs::remove_dir_all(root);
    }
}
