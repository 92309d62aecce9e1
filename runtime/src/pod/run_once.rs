//! `peapod run`: one container in the foreground, as `crun run` or
//! `podman run` do, without a supervisor and without a pause.
//!
//! The calling process is the supervisor: it makes the container's cgroup,
//! a network namespace (wired as [`crate::network`] wires a pod's: `lo`
//! only, or a veth on the bridge), a fresh overlay layer, then spawns the
//! container creating its own mount, PID, IPC and UTS namespaces and
//! joining that network namespace, waits for it, and removes everything.
//! The command is PID 1 of its PID namespace; stdout and stderr are the
//! caller's, stdin is `/dev/null` (the caller's with `-i`); with `-t` a
//! pty of the host is its terminal, relayed to the caller's
//! ([`crate::terminal`]; the container's `/dev/pts` is its own, so
//! `tty` there names no file).
//!
//! State: the pod has a folder in the state store like any pod (so `get`
//! lists it and `delete` removes it, and the name is taken while it runs),
//! holding `pod.json`, `supervisor.json` (the caller's pid) and the
//! container's writable layer (`container/{upper,work,rootfs}`: on the run
//! root, a tmpfs on a real host, so removing it costs no disk I/O; the
//! pod files `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf` are
//! written into its upper layer rather than bind-mounted). With
//! [`RunOptions::remove`] the folder goes at exit; without, only
//! `pod.json` stays, with the pod `Succeeded` or `Failed` and the
//! container's `terminated` state, until `peapod delete`.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use peapod_core::{
    Cgroup, ContainerSpawn, ExitStatus, MountPlan, NamespacePlan, Namespaces, Process, RootFs,
    SeccompFilter, Stdio, TerminationSignals,
};
use peapod_image::Store;
use peapod_spec::{Container, ContainerPort, EnvVar, Pod, PodPhase, RestartPolicy};
use rustix::fs::{Mode, OFlags};
use tracing::debug_span;

use crate::clock::Timestamp;
use crate::container_process;
use crate::engine::{self, SandboxRemoval};
use crate::error::{Error, Result};
use crate::images::{self, ResolvedImage};
use crate::launch;
use crate::network::{self, Mode as NetworkMode};
use crate::paths::Paths;
use crate::pod_files;
use crate::seccomp_profile::FilterCache;
use crate::security_context::{PodSecurity, ProcessSecurity};
use crate::state::{PodDir, ProcessRecord, StateStore, SupervisorRecord};
use crate::status::{self, ExitKind};
use crate::terminal::{self, Pty};

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The image reference, as imported or pulled.
    pub image: String,
    /// Arguments replacing the image's CMD (its ENTRYPOINT stays), as
    /// `docker run IMAGE ARGS...`; empty: the image's CMD.
    pub args: Vec<String>,
    /// `NAME=value` pairs added to the image's environment.
    pub env: Vec<(String, String)>,
    /// Pod (and container) name; `run-` and 8 hex digits of the uid when
    /// `None`.
    pub name: Option<String>,
    /// `lo` only, or the bridge.
    pub network: NetworkMode,
    /// Remove the pod when the container exits (`--rm`).
    pub remove: bool,
    /// `--pull`: when to pull the image; `None`: never (the image is
    /// imported, loaded or pulled first).
    pub pull: Option<peapod_spec::PullPolicy>,
    /// `-p HOST:CONTAINER`: TCP host ports forwarded to the container
    /// (a `hostPort` of its `ports`).
    pub ports: Vec<(u16, u16)>,
    /// `-i`: the caller's stdin is the container's (else `/dev/null`).
    pub stdin: bool,
    /// `-t`: a pty is the container's terminal, relayed to the caller's
    /// (raw while it runs, its size passed on).
    pub tty: bool,
}

/// Runs one container to its end; returns its exit code (128 + signal
/// when killed). Nothing of it is left on the host on error, nor at exit
/// with [`RunOptions::remove`].
pub fn run(paths: &Paths, options: &RunOptions) -> Result<i32> {
    let signals = if options.tty {
        TerminationSignals::block_with_window_changes()
    } else {
        TerminationSignals::block()
    }
    .map_err(|e| Error::pod("run", e))?;
    let pod = launch::admit(pod(options))?;
    let key = launch::key_of(&pod)?;
    let container = pod.spec.containers.first().cloned().unwrap_or_default();
    let image = {
        let _s = debug_span!("image").entered();
        let store = Store::open(paths.images()).map_err(|e| Error::container(&key.name, e))?;
        let pull_options = images::pull_options(paths);
        images::resolve(&store, &container, options.pull, &pull_options)?
    };
    // The same computation as a pod's containers: the image's USER,
    // containerd's default capabilities.
    let security = PodSecurity::of(&pod)
        .map_err(|e| Error::container(&container.name, e))?
        .container(&container, &image.identity)?;
    // RuntimeDefault: `run` has no option for another profile.
    let seccomp = FilterCache::new(paths).filter(&container.name, &security)?;
    let dir = StateStore::new(paths).create(&key)?;
    let mut once = Once {
        dir,
        seccomp,
        uid: pod.metadata.uid.clone().unwrap_or_default(),
        cgroup: None,
        network: options.network,
    };
    let pty = if options.tty {
        Some(Pty::on_host()?)
    } else {
        None
    };
    let started = once.start(
        &pod,
        &container,
        &image,
        &security,
        options.stdin,
        pty.as_ref(),
    );
    let (process, mut pod) = match started {
        Ok(s) => s,
        Err(e) => {
            let _ = once.teardown();
            let _ = once.dir.remove();
            return Err(e);
        }
    };
    let waited = match pty {
        Some(pty) => terminal::relay(pty, options.stdin, &process, &signals),
        None => wait_passing_signals(&process, &signals),
    };
    let cleaned = once.teardown();
    let status = waited?;
    if options.remove {
        cleaned.and_then(|()| once.dir.remove())?;
    } else {
        cleaned?;
        record_end(&mut pod, &status);
        once.dir.write_pod(&pod)?;
    }
    Ok(status.exit_code())
}

/// The pod a `run` stands for: one container named as the pod,
/// `restartPolicy: Never`, the image never pulled (run imports first, or
/// pulls with `--pull`), its `-p` ports as `hostPort`s. `run -d` makes it
/// a supervised pod.
pub fn pod(options: &RunOptions) -> Pod {
    let mut pod = Pod::default();
    let name = options.name.clone().unwrap_or_else(|| {
        let uid = std::fs::read_to_string("/proc/sys/kernel/random/uuid").unwrap_or_default();
        format!("run-{}", uid.get(..8).unwrap_or("0"))
    });
    pod.metadata.name = Some(name.clone());
    pod.spec.restart_policy = RestartPolicy::Never;
    pod.spec.containers.push(Container {
        name,
        image: options.image.clone(),
        args: options.args.iter().map(|a| escape(a)).collect(),
        env: options
            .env
            .iter()
            .map(|(name, value)| EnvVar {
                name: name.clone(),
                value: Some(escape(value)),
                ..EnvVar::default()
            })
            .collect(),
        image_pull_policy: Some(peapod_spec::PullPolicy::Never),
        ports: options
            .ports
            .iter()
            .map(|&(host, container)| ContainerPort {
                container_port: i32::from(container),
                host_port: Some(i32::from(host)),
                ..ContainerPort::default()
            })
            .collect(),
        ..Container::default()
    });
    pod
}

/// `s` with every `$` doubled, so Kubernetes' `$(VAR)` expansion gives
/// it back as written: `run` takes its arguments as a shell gave them.
fn escape(s: &str) -> String {
    s.replace('$', "$$")
}

/// What a run made, for its teardown.
struct Once {
    dir: PodDir,
    seccomp: Option<Arc<SeccompFilter>>,
    uid: String,
    cgroup: Option<Cgroup>,
    network: NetworkMode,
}

impl Once {
    /// Everything up to the running container; `pod.json` then says
    /// `Running`.
    fn start(
        &mut self,
        pod: &Pod,
        container: &Container,
        image: &ResolvedImage,
        security: &ProcessSecurity,
        stdin: bool,
        pty: Option<&Pty>,
    ) -> Result<(Process, Pod)> {
        let name = &container.name;
        let fail = |e: &dyn std::fmt::Display| Error::container(name, e);
        let record = ProcessRecord::of(std::process::id().cast_signed());
        self.dir.write_supervisor(&SupervisorRecord {
            pid: record.map_or(0, |r| r.pid),
            start_time: record.map_or(0, |r| r.start_time),
            containers: std::collections::BTreeMap::new(),
        })?;
        let cgroup = engine::sandbox_cgroup(name, &self.uid, None)?;
        let cgroup = &*self.cgroup.insert(cgroup);
        engine::limit_container(cgroup, container).map_err(|e| fail(&e))?;
        let netns = new_netns().map_err(|e| fail(&e))?;
        let pod_ips = {
            let _s = debug_span!("network").entered();
            network::attach_netns(pod, &self.uid, netns.as_fd(), self.network)?
        };
        let layers =
            crate::container::fresh_layers(&self.dir.path().join("container"), &image.lower)
                .map_err(|e| fail(&e))?;
        pod_files::write(pod, &pod_ips, &layers.upper.join("etc"))?;
        let hostname = pod.hostname();
        let mut process = container_process::process_spec(container, &image.defaults, &hostname);
        security.apply(&mut process);
        process.hostname = Some(hostname);
        process.seccomp.clone_from(&self.seccomp);
        let root = RootFs::Overlay {
            lower: layers.lower,
            upper: layers.upper,
            work: layers.work,
        };
        let stdio = match pty {
            Some(pty) => {
                process.tty = true;
                pty.slave_stdio()?
            }
            None if stdin => Stdio::default(),
            None => Stdio {
                stdin: Some(
                    rustix::fs::open("/dev/null", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
                        .map_err(|e| Error::sys("open /dev/null", e))?,
                ),
                ..Stdio::default()
            },
        };
        let spawn = ContainerSpawn {
            process,
            namespaces: NamespacePlan {
                create: Namespaces::MNT
                    | Namespaces::PID
                    | Namespaces::IPC
                    | Namespaces::UTS
                    | Namespaces::CGROUP,
                join: Namespaces::NET,
            },
            join_from: Some(netns.as_fd()),
            mounts: Some(
                MountPlan::new(root, &layers.mountpoint).with_standard_mounts_for(
                    None,
                    peapod_volumes::SHM_SIZE,
                    peapod_volumes::confinement(container),
                ),
            ),
            cgroup: Some(cgroup),
            stdio,
        };
        let started_at = Timestamp::now().rfc3339();
        let process = spawn.spawn().map_err(|e| Error::spawn(name, &e))?;
        let mut pod = pod.clone();
        if let Some(st) = pod.status.as_mut() {
            st.phase = Some(PodPhase::Running);
            st.pod_ips = pod_ips
                .iter()
                .map(|ip| peapod_spec::PodIP { ip: ip.to_string() })
                .collect();
            st.pod_ip = st.pod_ips.first().map(|ip| ip.ip.clone());
            st.start_time = Some(started_at.clone());
            for c in &mut st.container_statuses {
                c.state = status::running(started_at.clone());
                c.started = Some(true);
                // No readiness probe: ready once running, as kubelet says.
                c.ready = true;
            }
        }
        self.dir.write_pod(&pod)?;
        Ok((process, pod))
    }

    /// Kills what is left in the cgroup, removes the network, the
    /// container's layer and the cgroup ([`SandboxRemoval`]). Every step
    /// runs; the first error is returned.
    fn teardown(&mut self) -> Result<()> {
        let name = self.dir.key().name.clone();
        let cgroup = self.cgroup.take();
        SandboxRemoval {
            name: &name,
            uid: &self.uid,
            cgroup: cgroup.as_ref(),
            network: self.network == NetworkMode::Bridge,
            volumes: None,
            folders: vec![self.dir.path().join("container")],
        }
        .remove()
    }
}

/// Waits for the container; the first `SIGINT`, `SIGTERM`, `SIGHUP` or
/// `SIGQUIT` the caller gets is passed on to it (a PID 1 without a handler
/// ignores it, as under `docker run`), the next one SIGKILLs it.
fn wait_passing_signals(process: &Process, signals: &TerminationSignals) -> Result<ExitStatus> {
    use rustix::event::{PollFd, PollFlags, poll};
    let fail = |e: peapod_core::Error| Error::pod("run", e);
    let mut passed = false;
    loop {
        if let Some(status) = process.try_wait().map_err(fail)? {
            return Ok(status);
        }
        let pidfd = process.pidfd();
        let sigfd = signals.fd();
        let mut fds = [
            PollFd::new(&pidfd, PollFlags::IN),
            PollFd::new(&sigfd, PollFlags::IN),
        ];
        match poll(&mut fds, None) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(Error::sys("poll", e)),
        }
        while let Some(signal) = signals.read() {
            if passed {
                process.kill().map_err(fail)?;
            } else {
                let _ = process.signal(signal);
                passed = true;
            }
        }
    }
}

/// The pod's final status: its container `terminated`, the pod
/// `Succeeded` or `Failed`.
fn record_end(pod: &mut Pod, exit: &ExitStatus) {
    let kind = match (exit.code, exit.signal) {
        (Some(code), _) => ExitKind::Code(code),
        (None, signal) => ExitKind::Signal(signal.unwrap_or(0)),
    };
    let finished = Timestamp::now().rfc3339();
    let Some(st) = pod.status.as_mut() else {
        return;
    };
    st.phase = Some(if kind.exit_code() == 0 {
        PodPhase::Succeeded
    } else {
        PodPhase::Failed
    });
    for c in &mut st.container_statuses {
        let started = c.state.running.as_ref().and_then(|r| r.started_at.clone());
        c.state = status::terminated(kind.terminated(false, started, finished.clone(), None));
        c.started = Some(false);
        c.ready = false;
    }
}

/// A new network namespace, held by the returned fd only: the calling
/// thread unshares one and goes back to its own.
fn new_netns() -> std::io::Result<OwnedFd> {
    use rustix::thread::{LinkNameSpaceType, UnshareFlags};
    let open = || {
        rustix::fs::open(
            "/proc/thread-self/ns/net",
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
    };
    let own = open()?;
    // `unshare(CLONE_NEWNET)` alone is sound: rustix deprecated the safe
    // wrapper because of `CLONE_FILES`, which is not used here. Only the
    // calling thread moves, and it moves back below.
    #[allow(deprecated)]
    rustix::thread::unshare(UnshareFlags::NEWNET)?;
    let new = open();
    rustix::thread::move_into_link_name_space(own.as_fd(), Some(LinkNameSpaceType::Network))?;
    Ok(new?)
}
