//! `debug`: an ephemeral container in a running pod, as `kubectl debug
//! POD --image=IMG [--target=CTR]` adds one. Its own root filesystem
//! (the image's layers under a fresh overlay in the pod's folder), its
//! own mount and cgroup namespaces, and the target container's PID
//! namespace and the pod's network, IPC, UTS (and user) namespaces,
//! joined by the target's pidfd (without a target, those of the pod's
//! first container and a PID namespace of its own). Like an `exec`, it
//! lives in the target's cgroup, so it ends with the pod. The profile
//! (`--profile`, [`crate::pod::debug_profile`]) sets its security
//! context.
//!
//! With `-i` it runs from the caller's process for as long as the caller
//! is attached ([`debug`]). Without, it is detached ([`start_detached`]):
//! a holder process of its own (the same binary as the hidden verb
//! [`HOLD_VERB`], in a session of its own) spawns it with its output into
//! its CRI log (`<log>/<pod>/<name>/0.log`, which `logs -c NAME` and
//! `attach -c NAME` read), tells the caller it runs, and records its end.
//!
//! Each one is recorded in the pod's state folder
//! (`ephemeral-<name>.json`: its spec and status, running then
//! terminated), so `get -o yaml` shows `spec.ephemeralContainers` and
//! `status.ephemeralContainerStatuses`, and `describe` its section, until
//! the pod is deleted. With `-t` its terminal is a pty of its own devpts
//! (`/dev/pts/0` inside, [`crate::terminal`]). A detached one with `stdin`
//! or `tty` (`debug -i --attach=false`) has its stdin pipe's write end or
//! its terminal's master held by its holder, named in `input.fd` of its
//! layers folder, for `attach -i` to take with `pidfd_getfd` as from a
//! supervisor.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio as ChildStdio};
use std::sync::{Mutex, PoisonError};

use peapod_core::{
    Cgroup, CgroupHierarchy, ContainerSpawn, ExitStatus, NamespacePlan, Namespaces, Process, Stdio,
    TerminationSignals,
};
use peapod_image::Store;
use peapod_spec::{Container, ContainerStateTerminated, ContainerStatus, EnvVar, Pod, PullPolicy};
use rustix::event::{PollFd, PollFlags, poll};
use rustix::pipe::{PipeFlags, pipe_with};
use rustix::process::{Pid, PidfdFlags};
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::cri_log::{self, LineSplitter, LogFile, Stream};
use crate::error::{Error, Result};
use crate::exec::dev_null;
use crate::images;
use crate::launch::{StartReport, report_start};
use crate::paths::Paths;
use crate::pod::debug_profile::{Profile, Style};
use crate::seccomp_profile::FilterCache;
use crate::security_context::PodSecurity;
use crate::state::{PodDir, PodKey, ProcessRecord, StateStore, write_atomic};
use crate::terminal;

/// The hidden verb of the `peapod` binary that holds a detached
/// ephemeral container: `peapod ephemeral --run-root R --lib-root L
/// --log-root G --etc-root E POD_DIR REQUEST_JSON`.
pub const HOLD_VERB: &str = "ephemeral";

/// The ephemeral container to add.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DebugRequest {
    /// Its name (`debugger-xxxxx` when the caller has none).
    pub name: String,
    /// Its image.
    pub image: String,
    /// `--image-pull-policy`.
    pub image_pull_policy: Option<PullPolicy>,
    /// The container whose PID namespace it joins (`--target`).
    pub target: Option<String>,
    /// Its command (the image's entrypoint and cmd when empty), or its
    /// args with `arguments_only`.
    pub command: Vec<String>,
    /// `--arguments-only`: `command` are the image entrypoint's args.
    pub arguments_only: bool,
    /// `--env`.
    pub env: Vec<EnvVar>,
    /// Pass the caller's stdin (`-i`).
    pub stdin: bool,
    /// A terminal (`-t`).
    pub tty: bool,
    /// `--profile`.
    pub profile: Profile,
    /// `--custom`: a partial container spec laid over it.
    pub custom: Option<serde_json::Value>,
}

impl DebugRequest {
    /// The container it adds, the profile and the custom spec applied.
    ///
    /// # Errors
    /// A custom spec that may not be laid over it
    /// ([`crate::pod::debug_custom::apply`]).
    pub fn container(&self) -> Result<Container> {
        let (command, args) = if self.arguments_only {
            (Vec::new(), self.command.clone())
        } else {
            (self.command.clone(), Vec::new())
        };
        let mut container = Container {
            name: self.name.clone(),
            image: self.image.clone(),
            image_pull_policy: self.image_pull_policy,
            command,
            args,
            env: self.env.clone(),
            stdin: Some(self.stdin),
            tty: Some(self.tty),
            termination_message_path: "/dev/termination-log".to_owned(),
            ..Container::default()
        };
        self.profile
            .apply_to_container(&mut container, Style::Ephemeral);
        if let Some(custom) = &self.custom {
            crate::pod::debug_custom::apply(&mut container, custom)?;
        }
        Ok(container)
    }
}

/// An ephemeral container as the pod shows it: its spec (kubectl's
/// `EphemeralContainer`: a container with `targetContainerName`) and its
/// status.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EphemeralContainer {
    /// The container.
    pub spec: Container,
    /// `--target`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_container_name: Option<String>,
    /// Running, then terminated with its exit code.
    pub status: ContainerStatus,
    /// The process that waits for it: the holder of a detached one
    /// (which holds its input, if any), else the attached `debug`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) holder: Option<ProcessRecord>,
}

/// The file of ephemeral container `name` in the pod's state folder.
fn record_file(dir: &PodDir, name: &str) -> PathBuf {
    dir.path().join(format!("ephemeral-{name}.json"))
}

/// The ephemeral containers of pod `key`, oldest first.
pub fn list(paths: &Paths, key: &PodKey) -> Vec<EphemeralContainer> {
    let dir = StateStore::new(paths).pod(key);
    let mut found: Vec<EphemeralContainer> = std::fs::read_dir(dir.path())
        .into_iter()
        .flatten()
        .filter_map(std::result::Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("ephemeral-") && name.ends_with(".json")
        })
        .filter_map(|e| serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok())
        .map(settled)
        .collect();
    let started = |c: &EphemeralContainer| {
        let s = &c.status.state;
        s.running
            .as_ref()
            .and_then(|r| r.started_at.clone())
            .or_else(|| s.terminated.as_ref().and_then(|t| t.started_at.clone()))
            .unwrap_or_default()
    };
    found.sort_by(|a, b| {
        started(a)
            .cmp(&started(b))
            .then(a.spec.name.cmp(&b.spec.name))
    });
    found
}

/// Where an ephemeral container's stdio goes.
enum Output {
    /// The caller's (a terminal of its own with `tty`).
    Caller,
    /// Pipes whose read ends the holder pumps into its log.
    Log,
}

/// A started ephemeral container.
struct Running {
    dir: PodDir,
    /// The uid of the pod it runs in.
    pod_uid: Option<String>,
    shown: EphemeralContainer,
    started_at: String,
    child: Process,
    /// With `tty`: the master of its own terminal.
    master: Option<OwnedFd>,
    signals: Option<TerminationSignals>,
    /// With [`Output::Log`]: its stdout and stderr, and its log file.
    log: Option<(Vec<(OwnedFd, Stream)>, LogFile)>,
    /// With [`Output::Log`] and `stdin` or `tty`: the write end of its
    /// stdin, or its terminal's master, held for `attach -i` to take.
    _input: Option<OwnedFd>,
    /// Its own cgroup ([`own_cgroup`]): what its command left there is
    /// killed when it ends, and the cgroup removed.
    cgroup: Cgroup,
}

/// Adds the ephemeral container `request` to pod `key` and relays the
/// caller's stdio to it until it ends; returns its exit code.
pub fn debug(paths: &Paths, key: &PodKey, request: &DebugRequest) -> Result<i32> {
    let running = start(paths, key, request, &Output::Caller)?;
    let status = match (&running.master, &running.signals) {
        (Some(master), Some(signals)) => {
            terminal::relay(master, request.stdin, &running.child, signals)
        }
        _ => running
            .child
            .wait()
            .map_err(|e| Error::container(&request.name, e)),
    };
    running.finish(status)
}

/// Adds the ephemeral container `request` to pod `key`, detached: a
/// holder process (`exe` run as [`HOLD_VERB`]) starts it and keeps its
/// log; returns once it runs.
///
/// # Errors
/// Why it could not start, as the holder said it.
pub fn start_detached(
    paths: &Paths,
    key: &PodKey,
    request: &DebugRequest,
    exe: &Path,
) -> Result<()> {
    let dir = StateStore::new(paths).existing(key)?;
    let json = serde_json::to_string(request).map_err(|e| Error::json("debug request", e))?;
    let (report, report_end) = pipe_with(PipeFlags::CLOEXEC).map_err(|e| Error::sys("pipe", e))?;
    let mut holder = Command::new(exe)
        .arg(HOLD_VERB)
        .args(crate::launch::supervise_args(paths, dir.path()))
        .arg(json)
        .stdin(ChildStdio::null())
        .stdout(ChildStdio::from(report_end))
        .stderr(ChildStdio::null())
        .spawn()
        .map_err(|e| Error::io(exe, e))?;
    match crate::launch::read_report(report)? {
        Some(StartReport::Running) => Ok(()),
        Some(StartReport::Failed(message)) => {
            let _ = holder.wait();
            Err(Error::Start(message))
        }
        None => {
            let status = holder.wait().map_err(|e| Error::io(exe, e))?;
            Err(Error::container(
                &request.name,
                format!("its holder ended ({status}) before it started"),
            ))
        }
    }
}

/// The holder of a detached ephemeral container (the hidden verb
/// [`HOLD_VERB`]): in a session of its own, starts `request` (JSON) in
/// the pod of `pod_dir`, reports the start on stdout as a supervisor
/// does, writes its output into its log until it ends and records the
/// end. Returns the process's exit code.
pub fn hold(paths: &Paths, pod_dir: &Path, request: &str) -> i32 {
    let _ = rustix::process::setsid();
    let _ = std::env::set_current_dir("/");
    let started = serde_json::from_str::<DebugRequest>(request)
        .map_err(|e| Error::json("debug request", e))
        .and_then(|request| {
            let dir = PodDir::open(pod_dir)?;
            start(paths, dir.key(), &request, &Output::Log)
        });
    let mut running = match started {
        Ok(running) => running,
        Err(e) => {
            report_start(&StartReport::Failed(e.to_string()));
            return 1;
        }
    };
    report_start(&StartReport::Running);
    if let Some((streams, file)) = running.log.take() {
        pump(streams, file);
    }
    let name = running.shown.spec.name.clone();
    let status = running.child.wait().map_err(|e| Error::container(&name, e));
    i32::from(running.finish(status).is_err())
}

/// Writes what the container prints on each of `streams` (its stdout and
/// stderr pipes, or its terminal's master) into `file` as CRI records,
/// until each is closed.
fn pump(streams: Vec<(OwnedFd, Stream)>, file: LogFile) {
    let file = Mutex::new(file);
    std::thread::scope(|scope| {
        for (fd, stream) in streams {
            let file = &file;
            scope.spawn(move || {
                let mut splitter = LineSplitter::new(stream);
                let mut buf = vec![0u8; 16 * 1024];
                let write = |records: &[u8]| {
                    let _ = file
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .write(records);
                };
                loop {
                    match rustix::io::read(&fd, &mut buf) {
                        Ok(0) => break,
                        Ok(n) => write(&splitter.feed(Timestamp::now(), &buf[..n])),
                        Err(rustix::io::Errno::INTR) => {}
                        // A terminal's master may be non-blocking.
                        Err(rustix::io::Errno::AGAIN) => {
                            let mut ready = [PollFd::new(&fd, PollFlags::IN)];
                            let _ = poll(&mut ready, None);
                        }
                        // EOF of a pipe, EIO of a master whose terminal closed.
                        Err(_) => break,
                    }
                }
                write(&splitter.finish(Timestamp::now()));
            });
        }
    });
}

/// Starts the ephemeral container `request` in pod `key`, its stdio as
/// `output` says, and records it running.
#[allow(clippy::too_many_lines)]
fn start(paths: &Paths, key: &PodKey, request: &DebugRequest, output: &Output) -> Result<Running> {
    let dir = StateStore::new(paths).existing(key)?;
    let pod = dir.read_pod()?;
    let name = &request.name;
    let fail = |e: &dyn std::fmt::Display| Error::container(name, e);
    // It names its cgroup and folders, as a container's name does.
    if let Err(expected) = peapod_spec::dns1123_label(name) {
        return Err(fail(&format!("invalid name: expected {expected}")));
    }
    if pod
        .spec
        .containers
        .iter()
        .chain(&pod.spec.init_containers)
        .any(|c| &c.name == name)
        || record_file(&dir, name).exists()
    {
        return Err(fail(&"the pod has one of that name already"));
    }
    // Whose namespaces: the target's (its PID namespace too), else the
    // first app container's (the pod's network, IPC and UTS).
    let joined = crate::exec::named_or_first(&pod, request.target.as_ref());
    if !pod.spec.containers.iter().any(|c| c.name == joined) {
        return Err(Error::NoSuchContainer {
            pod: key.name.clone(),
            container: joined,
        });
    }
    let not_running = || Error::container(&joined, "container is not running");
    let supervisor = dir.read_supervisor()?.unwrap_or_default();
    let process = *supervisor.containers.get(&joined).ok_or_else(not_running)?;
    let pid = Pid::from_raw(process.pid).ok_or_else(not_running)?;
    let pidfd = rustix::process::pidfd_open(pid, PidfdFlags::empty()).map_err(|_| not_running())?;
    if !process.is_alive() {
        return Err(not_running());
    }

    let container = request.container()?;
    let store = Store::open(paths.images()).map_err(|e| fail(&e))?;
    let image = images::resolve(&store, &container, None, &images::pull_options(paths))?;
    let security = PodSecurity::of(&pod)
        .map_err(|e| fail(&e))?
        .container(&container, &image.identity)?;
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let cgroup = own_cgroup(&dir, &uid, &container).map_err(|e| fail(&e))?;
    let log = match output {
        Output::Log => {
            let log_dir = cri_log::pod_log_dir(&paths.log, &key.namespace, &key.name, &uid);
            Some(crate::container::run_log(&log_dir, name, 0)?)
        }
        Output::Caller => None,
    };
    let layers_dir = crate::container::layers_dir(&crate::teardown::lib_dir(paths, &uid), name);
    let mount_dir = crate::container::layers_dir(&crate::teardown::run_dir(paths, &uid), name);
    let layers = crate::container::fresh_layers(&layers_dir, &mount_dir, &image.lower)
        .map_err(|e| fail(&e))?;
    let pod_ips: Vec<std::net::IpAddr> = pod
        .status
        .iter()
        .flat_map(|s| &s.pod_ips)
        .filter_map(|ip| ip.ip.parse().ok())
        .collect();
    crate::pod_files::write(&pod, &pod_ips, &layers.upper.join("etc"))?;
    let hostname = pod.hostname();
    let mut spec = crate::container_process::process_spec(&container, &image.defaults, &hostname);
    security.apply(&mut spec);
    spec.seccomp = FilterCache::new(paths).filter(name, &security)?;
    let mut join = Namespaces::NET | Namespaces::IPC | Namespaces::UTS | Namespaces::USER;
    let mut create = Namespaces::MNT | Namespaces::CGROUP;
    if request.target.is_some() || pod.spec.share_process_namespace == Some(true) {
        join |= Namespaces::PID;
    } else {
        create |= Namespaces::PID;
    }
    if pod.spec.host_network == Some(true) {
        join.remove(Namespaces::NET);
    }
    let mut plan = crate::container::fresh_root_plan(&layers, &container);
    // In a `hostUsers: false` pod, its ptys' group is the pod's `tty`.
    if let Some(map) = peapod_core::IdMap::of_process(process.pid) {
        plan.in_user_namespace(map);
    }
    let mut spawn = ContainerSpawn {
        process: spec,
        namespaces: NamespacePlan { create, join },
        join_from: Some(pidfd.as_fd()),
        mounts: Some(plan),
        cgroup: Some(&cgroup),
        stdio: Stdio {
            stdin: if request.stdin {
                None
            } else {
                Some(dev_null()?)
            },
            ..Stdio::default()
        },
    };
    let pipe = || pipe_with(PipeFlags::CLOEXEC).map_err(|e| Error::sys("pipe", e));
    let mut input = None;
    let (signals, log) = if let (Output::Log, Some(file)) = (output, log) {
        if request.tty {
            (None, Some((Vec::new(), file)))
        } else {
            let ((stdout, out_end), (stderr, err_end)) = (pipe()?, pipe()?);
            spawn.stdio.stdout = Some(out_end);
            spawn.stdio.stderr = Some(err_end);
            if request.stdin {
                let (read_end, write_end) = pipe()?;
                spawn.stdio.stdin = Some(read_end);
                input = Some(write_end);
            }
            let streams = vec![(stdout, Stream::Stdout), (stderr, Stream::Stderr)];
            (None, Some((streams, file)))
        }
    } else {
        let signals = if request.tty {
            TerminationSignals::block_with_window_changes()
        } else {
            TerminationSignals::block()
        }
        .map_err(|e| fail(&e))?;
        (Some(signals), None)
    };
    let started_at = Timestamp::now().rfc3339();
    let mut shown = EphemeralContainer {
        spec: container.clone(),
        target_container_name: request.target.clone(),
        holder: None,
        status: ContainerStatus {
            name: name.clone(),
            state: crate::status::running(started_at.clone()),
            image: container.image.clone(),
            image_id: image.id.clone(),
            container_id: Some(format!("peapod://{uid}/{name}")),
            ..ContainerStatus::default()
        },
    };
    // Recorded before it runs: attached (`debug -i`), what it prints
    // reaches the caller at once, and an `attach` or `get` made on seeing
    // it must find it. A start that fails takes the record (and its
    // cgroup) back.
    shown.holder = ProcessRecord::of(rustix::process::getpid().as_raw_nonzero().get());
    record(&dir, &shown)?;
    let unrecord = |e: Error| {
        let _ = std::fs::remove_file(record_file(&dir, name));
        let _ = (cgroup.kill_all(crate::teardown::CGROUP_TIMEOUT))
            .and_then(|()| cgroup.remove(crate::teardown::CGROUP_TIMEOUT));
        e
    };
    let (child, mut master) = if request.tty {
        let size = terminal::caller_window_size();
        let (child, master) = terminal::spawn_on_own_terminal(spawn, size)
            .map_err(|e| unrecord(Error::spawn(name, &e)))?;
        (child, Some(master))
    } else {
        let child = spawn
            .spawn()
            .map_err(|e| unrecord(Error::spawn(name, &e)))?;
        (child, None)
    };
    let mut log = log;
    if let Some((streams, _)) = &mut log {
        // Detached: its terminal's output is its log, its master its
        // input; `attach -i` takes the input from this process.
        if let Some(master) = master.take() {
            let output = master.try_clone().map_err(|e| unrecord(fail(&e)))?;
            streams.push((output, Stream::Stdout));
            input = Some(master);
        }
        if let Some(fd) = &input {
            let number = std::os::fd::AsRawFd::as_raw_fd(fd).to_string();
            write_atomic(
                &layers_dir.join(crate::engine::INPUT_FD_FILE),
                number.as_bytes(),
            )
            .map_err(unrecord)?;
        }
    }
    Ok(Running {
        dir,
        pod_uid: pod.metadata.uid.clone(),
        shown,
        started_at,
        child,
        master,
        signals,
        log,
        _input: input,
        cgroup,
    })
}

/// The ephemeral container's own cgroup, a child of the pod's (found as
/// `delete` finds it: [`crate::engine::recorded_cgroup`]) named for it as
/// a container's is, with a container's limits and device rules. Not the
/// cgroup of the container it joins: the supervisor kills what is left in
/// that one when it exits, so a restart of it would end the ephemeral
/// container too, which kubelet keeps running. The pod's stop still ends
/// it (its removal kills what is left in the pod's cgroup).
fn own_cgroup(dir: &PodDir, uid: &str, container: &Container) -> Result<Cgroup> {
    let fail = |e: peapod_core::Error| Error::container(&container.name, e);
    let pod = crate::engine::recorded_cgroup(dir, uid)?;
    let cgroup = CgroupHierarchy::detect()
        .and_then(|h| h.open(pod).child(&container.name))
        .map_err(fail)?;
    if let Err(e) = crate::engine::limit_container(&cgroup, container) {
        let _ = cgroup.remove(crate::teardown::CGROUP_TIMEOUT);
        return Err(fail(e));
    }
    Ok(cgroup)
}

impl Running {
    /// Records the container's end (`status`, 137 when it could not be
    /// had); returns its exit code.
    fn finish(mut self, status: Result<ExitStatus>) -> Result<i32> {
        let code = status.as_ref().map_or(137, ExitStatus::exit_code);
        self.shown.status.state = crate::status::terminated(ContainerStateTerminated {
            exit_code: code,
            reason: Some(if code == 0 { "Completed" } else { "Error" }.to_owned()),
            started_at: Some(self.started_at),
            finished_at: Some(Timestamp::now().rfc3339()),
            container_id: self.shown.status.container_id.clone(),
            ..ContainerStateTerminated::default()
        });
        // The pod may be gone meanwhile (nothing left to show it in), or
        // even made again under its name (not the pod it ran in).
        let same_pod = self.dir.read_pod().ok().and_then(|p| p.metadata.uid);
        if same_pod.is_some() && same_pod == self.pod_uid {
            let _ = record(&self.dir, &self.shown);
        }
        // What its command left goes with it (gone already with the pod).
        let _ = (self.cgroup.kill_all(crate::teardown::CGROUP_TIMEOUT))
            .and_then(|()| self.cgroup.remove(crate::teardown::CGROUP_TIMEOUT));
        Ok(status?.exit_code())
    }
}

/// The status of ephemeral container `name` of the pod in `dir`, if it
/// has one of that name.
pub(crate) fn status_in(dir: &PodDir, name: &str) -> Option<ContainerStatus> {
    read_record(dir, name).map(|e| e.status)
}

/// The record of ephemeral container `name` of the pod in `dir`.
pub(crate) fn read_record(dir: &PodDir, name: &str) -> Option<EphemeralContainer> {
    serde_json::from_slice(&std::fs::read(record_file(dir, name)).ok()?)
        .ok()
        .map(settled)
}

/// `container` as it is: shown running while the process that waits for
/// it (its holder, or the attached `debug`) is gone, it ended unseen, and
/// reads as kubelet shows a container it cannot find (terminated,
/// `ContainerStatusUnknown`, exit code 137).
fn settled(mut container: EphemeralContainer) -> EphemeralContainer {
    let (Some(running), Some(holder)) = (&container.status.state.running, container.holder) else {
        return container;
    };
    if holder.is_alive() {
        return container;
    }
    container.status.state = crate::status::terminated(ContainerStateTerminated {
        exit_code: 137,
        reason: Some("ContainerStatusUnknown".into()),
        message: Some(
            "the process that waited for it (debug, or its holder) was killed: its exit status is unknown"
                .into(),
        ),
        started_at: running.started_at.clone(),
        container_id: container.status.container_id.clone(),
        ..ContainerStateTerminated::default()
    });
    container
}

/// Writes `container`'s record (by rename: a reader never sees half).
fn record(dir: &PodDir, container: &EphemeralContainer) -> Result<()> {
    let bytes = serde_json::to_vec(container).map_err(|e| Error::json("ephemeral container", e))?;
    write_atomic(&record_file(dir, &container.spec.name), &bytes)
}

/// The pod with its ephemeral containers, as JSON (`spec.ephemeralContainers`
/// and `status.ephemeralContainerStatuses`, which the Pod model has not).
pub fn with_ephemeral(pod: &Pod, ephemeral: &[EphemeralContainer]) -> serde_json::Value {
    let mut doc = serde_json::to_value(pod).unwrap_or_default();
    if ephemeral.is_empty() {
        return doc;
    }
    let specs: Vec<serde_json::Value> = ephemeral
        .iter()
        .map(|e| {
            let mut spec = serde_json::to_value(&e.spec).unwrap_or_default();
            if let Some(t) = &e.target_container_name {
                spec["targetContainerName"] = t.clone().into();
            }
            spec
        })
        .collect();
    let statuses: Vec<serde_json::Value> = ephemeral
        .iter()
        .map(|e| serde_json::to_value(&e.status).unwrap_or_default())
        .collect();
    doc["spec"]["ephemeralContainers"] = specs.into();
    if doc["status"].is_object() {
        doc["status"]["ephemeralContainerStatuses"] = statuses.into();
    }
    doc
}
