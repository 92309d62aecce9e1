//! `apply`: claim the pod's name in the state store, start its supervisor
//! as a process of its own and wait for its start report.
//!
//! The supervisor's stdout is the report pipe: it writes one JSON line,
//! [`StartReport`], once every container runs or at the first error (after
//! it removed everything it made). Its stderr goes to `supervisor.log` in
//! the pod's folder; nothing of it stays on the caller's terminal.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use peapod_core::SealedExe;
use peapod_spec::{ContainerStatus, Pod, PodPhase, PodStatus};
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::cri_log;
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::pod_config::PodConfig;
use crate::state::{PodDir, PodKey, StateStore};
use crate::status;

/// The hidden verb of the `peapod` binary that runs a supervisor.
pub const SUPERVISE_VERB: &str = "supervise";

/// What the supervisor tells the waiting `apply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StartReport {
    /// Every container runs (or, for init-only failures, the pod settled).
    Running,
    /// The pod could not start; nothing of it is left.
    Failed(String),
}

/// How to start a supervisor.
#[derive(Debug, Clone)]
pub struct Launcher {
    /// The `peapod` binary to run as `peapod supervise ...`.
    pub exe: PathBuf,
    /// Wait for the start report (`apply --wait=false` doesn't).
    pub wait: bool,
}

/// The namespace a pod without one lands in.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The key of a manifest's pod (namespace defaulted).
pub fn key_of(pod: &Pod) -> Result<PodKey> {
    let name = pod.metadata.name.clone().ok_or_else(|| Error::Pod {
        pod: String::new(),
        message: "metadata.name is required".into(),
    })?;
    let namespace = pod
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
    Ok(PodKey::new(namespace, name))
}

/// Fills what the API server would: namespace, uid, creation time, and a
/// `Pending` status with every container `ContainerCreating`.
///
/// # Errors
/// No name, or a namespace and name too long together for the pod's log
/// folder (see [`cri_log::room_for_namespace_and_name`]).
pub fn admit(mut pod: Pod) -> Result<Pod> {
    let key = key_of(&pod)?;
    let uid = new_uid();
    let room = cri_log::room_for_namespace_and_name(&uid);
    let length = key.namespace.len() + key.name.len();
    if length > room {
        return Err(Error::Pod {
            pod: key.name,
            message: format!(
                "namespace and name take {length} characters together; at most {room} fit \
                 in the log folder <namespace>_<name>_<uid> (a file name: 255 bytes, as on a kubelet)"
            ),
        });
    }
    pod.metadata.namespace = Some(key.namespace);
    pod.metadata.uid = Some(uid);
    pod.metadata.creation_timestamp = Some(Timestamp::now().rfc3339());
    let creating = |c: &peapod_spec::Container, reason: &str| ContainerStatus {
        name: c.name.clone(),
        state: status::waiting(reason, None),
        image: c.image.clone(),
        started: Some(false),
        ..ContainerStatus::default()
    };
    let init_reason = "PodInitializing";
    pod.status = Some(PodStatus {
        phase: Some(PodPhase::Pending),
        qos_class: Some(pod.spec.qos_class()),
        init_container_statuses: pod
            .spec
            .init_containers
            .iter()
            .map(|c| creating(c, init_reason))
            .collect(),
        container_statuses: pod
            .spec
            .containers
            .iter()
            .map(|c| {
                let reason = if pod.spec.init_containers.is_empty() {
                    "ContainerCreating"
                } else {
                    init_reason
                };
                creating(c, reason)
            })
            .collect(),
        ..PodStatus::default()
    });
    Ok(pod)
}

/// A random UUID from the kernel, as the API server gives every object.
pub(crate) fn new_uid() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/uuid").map_or_else(
        |_| format!("{:x}", Timestamp::now().unix_seconds()),
        |s| s.trim().to_owned(),
    )
}

impl Launcher {
    /// Creates the pod: state folder, supervisor, and (with `wait`) its
    /// start report. On failure nothing of the pod is left.
    pub fn create(&self, paths: &Paths, pod: Pod) -> Result<PodKey> {
        self.create_with(paths, pod, &PodConfig::default())
    }

    /// [`Launcher::create`], the pod reading the ConfigMaps and Secrets
    /// of `config`.
    pub fn create_with(&self, paths: &Paths, pod: Pod, config: &PodConfig) -> Result<PodKey> {
        let _span = tracing::debug_span!("apply", pod = pod.metadata.name.as_deref()).entered();
        let pod = admit(pod)?;
        self.create_admitted(paths, &pod, |dir| config.write(dir))
    }

    /// Creates the admitted `pod`, `write` adding its files to the state
    /// folder before the supervisor starts (the engine's `sandbox.json`).
    pub(crate) fn create_admitted(
        &self,
        paths: &Paths,
        pod: &Pod,
        write: impl FnOnce(&PodDir) -> Result<()>,
    ) -> Result<PodKey> {
        let key = key_of(pod)?;
        let dir = StateStore::new(paths).create(&key)?;
        let started = dir
            .write_pod(pod)
            .and_then(|()| write(&dir))
            .and_then(|()| self.spawn_supervisor(paths, &dir));
        let report = match started {
            Ok(report) => report,
            Err(e) => {
                let _ = dir.remove();
                return Err(e);
            }
        };
        let Some(report) = report else {
            return Ok(key);
        };
        match report {
            Ok(StartReport::Running) => Ok(key),
            Ok(StartReport::Failed(message)) => {
                // The supervisor cleaned up before it reported; make sure.
                let _ = crate::teardown::clean_after_dead(paths, &dir);
                Err(Error::Start(message))
            }
            Err(e) => {
                let _ = crate::teardown::clean_after_dead(paths, &dir);
                Err(e)
            }
        }
    }

    /// Starts `peapod supervise` on `dir`; with `wait`, returns its report.
    fn spawn_supervisor(&self, paths: &Paths, dir: &PodDir) -> Result<Option<Result<StartReport>>> {
        let (read_end, write_end) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
            .map_err(|e| Error::sys("pipe", e))?;
        let log = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(crate::state::STATE_FILE_MODE)
            .open(dir.supervisor_log())
            .map_err(|e| Error::io(dir.supervisor_log(), e))?;
        // Our own description of the log: it reads what the supervisor
        // wrote even once the pod's folder (and the file's name) is gone.
        let log_reader =
            File::open(dir.supervisor_log()).map_err(|e| Error::io(dir.supervisor_log(), e))?;
        let spawned = tracing::debug_span!("spawn_supervisor").entered();
        let sealed = sealed_exe(&self.exe).map_err(|e| Error::Supervisor {
            pod: dir.key().name.clone(),
            message: format!("{}: {e}", self.exe.display()),
        })?;
        let mut child = Command::new(
            sealed
                .as_ref()
                .map_or_else(|| self.exe.clone(), SealedExe::exec_path),
        )
        .arg0(&self.exe)
        .arg(SUPERVISE_VERB)
        .args(supervise_args(paths, dir.path()))
        .stdin(Stdio::null())
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(|e| Error::io(&self.exe, e))?;
        drop(spawned);
        if !self.wait {
            return Ok(None);
        }
        let report = {
            let _span = tracing::debug_span!("wait_start_report").entered();
            read_report(read_end)
        };
        // The supervisor runs on; only reap it when it already ended.
        let _ = child.try_wait();
        let report = match report {
            Ok(Some(report)) => Ok(report),
            Ok(None) => Err(Error::Supervisor {
                pod: dir.key().name.clone(),
                message: exited_before_reporting(child.wait().ok(), &log_reader),
            }),
            Err(e) => {
                let _ = child.wait();
                Err(e)
            }
        };
        Ok(Some(report))
    }
}

/// `exe` opened through a private read-only mount ([`SealedExe`]), so
/// that no container can write the host's binary through the
/// `/proc/<pid>/exe` of a process the supervisor makes (CVE-2019-5736);
/// `None` for a script (a test's stand-in supervisor), which its
/// interpreter could not open by a close-on-exec fd and which makes no
/// container.
fn sealed_exe(exe: &Path) -> peapod_core::Result<Option<SealedExe>> {
    let mut magic = [0u8; 2];
    let script = File::open(exe)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == b"#!");
    if script {
        return Ok(None);
    }
    SealedExe::open(exe).map(Some)
}

/// The arguments after the verb: where state lives, and the pod folder.
pub fn supervise_args(paths: &Paths, pod_dir: &Path) -> Vec<PathBuf> {
    vec![
        "--run-root".into(),
        paths.run.clone(),
        "--lib-root".into(),
        paths.lib.clone(),
        "--log-root".into(),
        paths.log.clone(),
        "--etc-root".into(),
        paths.etc.clone(),
        pod_dir.to_path_buf(),
    ]
}

/// The supervisor's start report; `None` when it closed the pipe without one.
pub(crate) fn read_report(pipe: OwnedFd) -> Result<Option<StartReport>> {
    let mut line = String::new();
    let n = BufReader::new(File::from(pipe))
        .read_line(&mut line)
        .map_err(|e| Error::sys("read start report", e))?;
    if n == 0 {
        return Ok(None);
    }
    serde_json::from_str(&line)
        .map(Some)
        .map_err(|e| Error::json("start report", e))
}

/// How much of its log a supervisor that died before reporting leaves in
/// the error: its last lines, from at most the last 4 KiB.
const LAST_WORDS_BYTES: u64 = 4096;
/// At most this many of those lines.
const LAST_WORDS_LINES: usize = 10;

/// Why a supervisor ended before it reported, with the end of its log
/// (read through `log`, which stays readable after the pod's folder is
/// removed): `apply` removes the folder then, so pointing at the file
/// would point at nothing.
fn exited_before_reporting(status: Option<std::process::ExitStatus>, log: &File) -> String {
    use std::os::unix::fs::FileExt as _;
    let how = status.map_or_else(|| "ended".to_owned(), |s| format!("ended ({s})"));
    let len = log.metadata().map_or(0, |m| m.len());
    let start = len.saturating_sub(LAST_WORDS_BYTES);
    let mut tail = vec![0; usize::try_from(len - start).unwrap_or(0)];
    let read = log.read_at(&mut tail, start).unwrap_or(0);
    let text = String::from_utf8_lossy(&tail[..read]);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return format!("{how} before reporting, with nothing in its log");
    }
    let last = &lines[lines.len().saturating_sub(LAST_WORDS_LINES)..];
    format!(
        "{how} before reporting; the end of its log:\n  {}",
        last.join("\n  ")
    )
}

/// Writes the start report on the supervisor's side (its stdout), then
/// points stdout at `/dev/null` so nothing later reaches a closed pipe.
pub fn report_start(report: &StartReport) {
    let mut line = serde_json::to_vec(report).unwrap_or_default();
    line.push(b'\n');
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&line);
    let _ = out.flush();
    drop(out);
    if let Ok(null) = File::options().write(true).open("/dev/null") {
        let _ = rustix::stdio::dup2_stdout(&null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admit_fills_namespace_uid_time_and_pending_status() {
        let mut pod = Pod::default();
        pod.metadata.name = Some("myapp".into());
        pod.spec.containers.push(peapod_spec::Container {
            name: "c".into(),
            image: "busybox".into(),
            ..peapod_spec::Container::default()
        });
        let pod = admit(pod).expect("admitted");
        assert_eq!(pod.metadata.namespace.as_deref(), Some("default"));
        assert_eq!(pod.metadata.uid.as_ref().map(String::len), Some(36));
        let st = pod.status.expect("status");
        assert_eq!(st.phase, Some(PodPhase::Pending));
        let waiting = st.container_statuses[0]
            .state
            .waiting
            .as_ref()
            .expect("waiting");
        assert_eq!(waiting.reason.as_deref(), Some("ContainerCreating"));
    }

    #[test]
    fn admit_takes_namespace_and_name_up_to_217_characters_together() {
        let pod = |namespace: &str, name: String| {
            let mut pod = Pod::default();
            pod.metadata.namespace = Some(namespace.into());
            pod.metadata.name = Some(name);
            pod
        };
        let ns = "n".repeat(63);
        let longest = ["a".repeat(63), "b".repeat(63), "c".repeat(26)].join(".");
        assert!(admit(pod(&ns, longest.clone())).is_ok());
        let err = admit(pod(&ns, format!("{longest}c")))
            .expect_err("218 characters")
            .to_string();
        assert!(
            err.contains("namespace and name take 218 characters together; at most 217 fit"),
            "{err}"
        );
    }

    #[test]
    fn a_failed_apply_said_see_supervisor_log_after_that_file_was_removed() {
        let scratch =
            std::env::temp_dir().join(format!("peapod-last-words-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch).expect("scratch");
        // A supervisor that dies before it reports, as one that cannot
        // read its pod would.
        let exe = scratch.join("supervisor.sh");
        std::fs::write(
            &exe,
            "#!/bin/sh\necho 'starting' >&2\necho 'peapod supervise: pod.json: boom' >&2\nexit 3\n",
        )
        .expect("script");
        std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let paths = Paths::under(&scratch);
        let mut pod = Pod::default();
        pod.metadata.name = Some("lastwords".into());
        let launcher = Launcher { exe, wait: true };
        let err = launcher.create(&paths, pod).expect_err("no report");
        let left = paths.run.join("pods/default_lastwords").exists();
        let _ = std::fs::remove_dir_all(&scratch);
        assert_eq!(
            err.to_string(),
            "supervisor of pod lastwords: ended (exit status: 3) before reporting; the end of its log:\n  starting\n  peapod supervise: pod.json: boom"
        );
        assert!(!left, "the pod's folder was removed");
    }

    #[test]
    fn report_round_trips_as_one_json_line() {
        let r = StartReport::Failed("container \"web\": exec \"/x\": no such file".into());
        let line = serde_json::to_string(&r).expect("json");
        assert!(!line.contains('\n'));
        assert_eq!(serde_json::from_str::<StartReport>(&line).expect("back"), r);
    }
}
