//! `debug`: an ephemeral container in a running pod, as `kubectl debug
//! POD -it --image=IMG --target=CTR` adds one. It runs from the caller's
//! process, as `exec` does, for as long as the caller is attached: its own
//! root filesystem (the image's layers under a fresh overlay in the pod's
//! folder), its own mount and cgroup namespaces, and the target
//! container's PID namespace and the pod's network, IPC and UTS
//! namespaces, joined by the target's pidfd (without a target, those of
//! the pod's first container and a PID namespace of its own). Like an
//! `exec`, it lives in the target's cgroup.
//!
//! Each one is recorded in the pod's state folder
//! (`ephemeral-<name>.json`: its spec and status, running then
//! terminated), so `get -o yaml` shows `spec.ephemeralContainers` and
//! `status.ephemeralContainerStatuses`, and `describe` its section, until
//! the pod is deleted. With `-t` its terminal is a pty of its own devpts
//! (`/dev/pts/0` inside, [`crate::terminal`]). Not yet: a detached
//! ephemeral container (without `-i`), `hostUsers: false` pods.

use std::os::fd::AsFd;

use peapod_core::{
    ContainerSpawn, MountPlan, NamespacePlan, Namespaces, RootFs, Stdio, TerminationSignals,
};
use peapod_image::Store;
use peapod_spec::{Container, ContainerStateTerminated, ContainerStatus, Pod};
use rustix::process::{Pid, PidfdFlags};
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::exec::dev_null;
use crate::images;
use crate::paths::Paths;
use crate::seccomp_profile::FilterCache;
use crate::security_context::PodSecurity;
use crate::state::{PodDir, PodKey, StateStore, write_atomic};
use crate::terminal;

/// The ephemeral container to add.
#[derive(Debug, Clone, Default)]
pub struct DebugRequest {
    /// Its name (`debugger-xxxxx` when the caller has none).
    pub name: String,
    /// Its image.
    pub image: String,
    /// The container whose PID namespace it joins (`--target`).
    pub target: Option<String>,
    /// Its command (the image's entrypoint and cmd when empty).
    pub command: Vec<String>,
    /// Pass the caller's stdin (`-i`).
    pub stdin: bool,
    /// A terminal (`-t`).
    pub tty: bool,
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
}

/// The file of ephemeral container `name` in the pod's state folder.
fn record_file(dir: &PodDir, name: &str) -> std::path::PathBuf {
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

/// Adds the ephemeral container `request` to pod `key` and relays the
/// caller's stdio to it until it ends; returns its exit code.
pub fn debug(paths: &Paths, key: &PodKey, request: &DebugRequest) -> Result<i32> {
    let dir = StateStore::new(paths).existing(key)?;
    let pod = dir.read_pod()?;
    let name = &request.name;
    let fail = |e: &dyn std::fmt::Display| Error::container(name, e);
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
    if pod.spec.host_users == Some(false) {
        return Err(fail(
            &"debug of a pod with hostUsers: false is not supported yet",
        ));
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
    let cgroup = crate::exec::process_cgroup(process.pid).map_err(|e| fail(&e))?;

    let container = Container {
        name: name.clone(),
        image: request.image.clone(),
        command: request.command.clone(),
        stdin: Some(request.stdin),
        tty: Some(request.tty),
        termination_message_path: "/dev/termination-log".to_owned(),
        ..Container::default()
    };
    let store = Store::open(paths.images()).map_err(|e| fail(&e))?;
    let image = images::resolve(&store, &container, None, &images::pull_options(paths))?;
    let security = PodSecurity::of(&pod)
        .map_err(|e| fail(&e))?
        .container(&container, &image.identity)?;
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let layers_dir = crate::container::layers_dir(&crate::teardown::lib_dir(paths, &uid), name);
    let layers = crate::container::fresh_layers(&layers_dir, &image.lower).map_err(|e| fail(&e))?;
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
    let root = RootFs::Overlay {
        lower: layers.lower.clone(),
        upper: layers.upper.clone(),
        work: layers.work.clone(),
    };
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
    let spawn = ContainerSpawn {
        process: spec,
        namespaces: NamespacePlan { create, join },
        join_from: Some(pidfd.as_fd()),
        mounts: Some(
            MountPlan::new(root, &layers.mountpoint).with_standard_mounts_for(
                None,
                peapod_volumes::SHM_SIZE,
                peapod_volumes::confinement(&container),
            ),
        ),
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
    let signals = if request.tty {
        TerminationSignals::block_with_window_changes()
    } else {
        TerminationSignals::block()
    }
    .map_err(|e| fail(&e))?;
    let started_at = Timestamp::now().rfc3339();
    let mut shown = EphemeralContainer {
        spec: container.clone(),
        target_container_name: request.target.clone(),
        status: ContainerStatus {
            name: name.clone(),
            state: crate::status::running(started_at.clone()),
            image: container.image.clone(),
            image_id: image.id.clone(),
            container_id: Some(format!("peapod://{uid}/{name}")),
            ..ContainerStatus::default()
        },
    };
    let (child, master) = if request.tty {
        let size = terminal::caller_window_size();
        let (child, master) =
            terminal::spawn_on_own_terminal(spawn, size).map_err(|e| Error::spawn(name, &e))?;
        (child, Some(master))
    } else {
        (spawn.spawn().map_err(|e| Error::spawn(name, &e))?, None)
    };
    record(&dir, &shown)?;
    let status = match master {
        Some(master) => terminal::relay(&master, request.stdin, &child, &signals),
        None => child.wait().map_err(|e| fail(&e)),
    };
    let code = status
        .as_ref()
        .map_or(137, peapod_core::ExitStatus::exit_code);
    shown.status.state = crate::status::terminated(ContainerStateTerminated {
        exit_code: code,
        reason: Some(if code == 0 { "Completed" } else { "Error" }.to_owned()),
        started_at: Some(started_at),
        finished_at: Some(Timestamp::now().rfc3339()),
        container_id: shown.status.container_id.clone(),
        ..ContainerStateTerminated::default()
    });
    // The pod may be gone meanwhile: nothing left to show it in.
    if dir.exists() {
        let _ = record(&dir, &shown);
    }
    Ok(status?.exit_code())
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
