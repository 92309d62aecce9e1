//! `peapod run`: one container in the foreground, as `crun run` or
//! `podman run` do: the engine's sandbox-less mode
//! ([`crate::engine::Standalone`]: no pause, no supervisor) driven by the
//! calling process.
//!
//! This is the run's policy: the pod it stands for (one container named
//! as the pod, `restartPolicy: Never`), its image, security and seccomp
//! computed as a pod's container's, its stdio (the caller's stdout and
//! stderr, `/dev/null` as stdin or the caller's with `-i`; with `-t` a
//! pty of the container's own devpts, `/dev/pts/0` inside, relayed to
//! the caller's terminal, [`crate::terminal`]), the
//! signals passed on, and the pod's status.
//!
//! State: the pod has a folder in the state store like any pod (so `get`
//! lists it and `delete` removes it, and the name is taken while it runs),
//! holding `pod.json`, `supervisor.json` (the caller's pid) and the
//! container's writable layer (`container/{upper,work,rootfs}`: on the run
//! root, a tmpfs on a real host, so removing it costs no disk I/O). With
//! [`RunOptions::remove`] the folder goes at exit; without, only
//! `pod.json` stays, with the pod `Succeeded` or `Failed` and the
//! container's `terminated` state, until `peapod delete`.

use peapod_core::{ExitStatus, Process, Stdio, TerminationSignals};
use peapod_image::Store;
use peapod_spec::{Container, ContainerPort, EnvVar, Pod, PodPhase, RestartPolicy};
use tracing::debug_span;

use crate::clock::Timestamp;
use crate::engine::{Standalone, StandaloneSpec, null_stdin};
use crate::error::{Error, Result};
use crate::images;
use crate::launch;
use crate::network::Mode as NetworkMode;
use crate::paths::Paths;
use crate::seccomp_profile::FilterCache;
use crate::security_context::PodSecurity;
use crate::state::{PodDir, ProcessRecord, StateStore, SupervisorRecord};
use crate::status::{self, ExitKind};
use crate::terminal;

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
    /// `--port`: a port the container exposes, its `containerPort` with
    /// no host port (unless `-p` gives it one).
    pub port: Option<u16>,
    /// `-l`/`--labels`: the pod's labels.
    pub labels: std::collections::BTreeMap<String, String>,
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
    let stdio = if options.stdin || options.tty {
        Ok(Stdio::default())
    } else {
        null_stdin()
    };
    let created = stdio.and_then(|stdio| {
        write_supervisor(&dir)?;
        Standalone::create(StandaloneSpec {
            pod: &pod,
            container: &container,
            image: &image,
            security: &security,
            seccomp,
            network: options.network,
            stdio,
            tty: options.tty,
            window_size: terminal::caller_window_size().filter(|_| options.tty),
            layer_dir: dir.path().join("container"),
        })
    });
    let mut standalone = match created {
        Ok(c) => c,
        Err(e) => {
            let _ = dir.remove();
            return Err(e);
        }
    };
    let started_at = Timestamp::now().rfc3339();
    let started = standalone
        .start()
        .and_then(|process| Ok((process, record_start(&dir, &pod, &standalone, &started_at)?)));
    let (process, mut pod) = match started {
        Ok(s) => s,
        Err(e) => {
            let _ = standalone.remove();
            let _ = dir.remove();
            return Err(e);
        }
    };
    let waited = match standalone.terminal.take() {
        Some(master) => terminal::relay(&master, options.stdin, &process, &signals),
        None => wait_passing_signals(&process, &signals),
    };
    let cleaned = standalone.remove();
    let status = waited?;
    if options.remove {
        cleaned.and_then(|()| dir.remove())?;
    } else {
        cleaned?;
        record_end(&mut pod, &status);
        dir.write_pod(&pod)?;
    }
    Ok(status.exit_code())
}

/// The pod a `run` stands for: one container named as the pod,
/// `restartPolicy: Never`, the image never pulled (run imports first, or
/// pulls with `--pull`), its `--port` and `-p` ports as `containerPort`s
/// (with their `hostPort`), its `--labels`. `run -d` makes it
/// a supervised pod.
pub fn pod(options: &RunOptions) -> Pod {
    let mut pod = Pod {
        api_version: "v1".to_owned(),
        kind: "Pod".to_owned(),
        ..Pod::default()
    };
    let name = options.name.clone().unwrap_or_else(|| {
        let uid = std::fs::read_to_string("/proc/sys/kernel/random/uuid").unwrap_or_default();
        format!("run-{}", uid.get(..8).unwrap_or("0"))
    });
    pod.metadata.name = Some(name.clone());
    pod.metadata.labels.clone_from(&options.labels);
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
        ports: (options.port.iter())
            .filter(|&&p| options.ports.iter().all(|&(_, c)| c != p))
            .map(|&p| (None, p))
            .chain(options.ports.iter().map(|&(h, c)| (Some(h), c)))
            .map(|(host, container)| ContainerPort {
                container_port: i32::from(container),
                host_port: host.map(i32::from),
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

/// `supervisor.json` naming the caller: the pod's process while it runs.
fn write_supervisor(dir: &PodDir) -> Result<()> {
    let record = ProcessRecord::of(std::process::id().cast_signed());
    dir.write_supervisor(&SupervisorRecord {
        pid: record.map_or(0, |r| r.pid),
        start_time: record.map_or(0, |r| r.start_time),
        containers: std::collections::BTreeMap::new(),
    })
}

/// The pod `Running` in `pod.json`, with its addresses and start time;
/// returns the pod as written.
fn record_start(dir: &PodDir, pod: &Pod, standalone: &Standalone, started_at: &str) -> Result<Pod> {
    let mut pod = pod.clone();
    if let Some(st) = pod.status.as_mut() {
        st.phase = Some(PodPhase::Running);
        st.pod_ips = (standalone.ips.iter())
            .map(|ip| peapod_spec::PodIP { ip: ip.to_string() })
            .collect();
        st.pod_ip = st.pod_ips.first().map(|ip| ip.ip.clone());
        st.start_time = Some(started_at.to_owned());
        for c in &mut st.container_statuses {
            c.state = status::running(started_at.to_owned());
            c.started = Some(true);
            // No readiness probe: ready once running, as kubelet says.
            c.ready = true;
        }
    }
    dir.write_pod(&pod)?;
    Ok(pod)
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
