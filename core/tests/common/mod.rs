//! Helpers of the root tests: the pause (the embedded pause program, as
//! peapod runs it), busybox containers on an overlay of the fixture, cleanup guards, and the
//! host leak check.
#![allow(dead_code, reason = "each test binary uses a part")]

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use peapod_core::{
    Cgroup, ContainerSpawn, MountPlan, NamespacePlan, PauseSpec, Process, ProcessSpec, RootFs,
    Stdio, spawn_pause,
};
use peapod_testkit::{HostSnapshot, busybox_rootfs};

/// Root tests run one at a time: each compares the host before and after.
pub static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Kills every process and removes every cgroup it holds when dropped,
/// even when the test panics.
#[derive(Default)]
pub struct Cleanup {
    pub processes: Vec<Process>,
    pub cgroups: Vec<Cgroup>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.processes {
            let _ = p.kill();
        }
        // Containers before the pause: a PID 1 that exits waits until every
        // process of its namespace is reaped, and we are their parent.
        for p in self.processes.iter().rev() {
            let _ = p.wait();
        }
        for cg in self.cgroups.iter().rev() {
            let _ = cg.kill_all(Duration::from_secs(2));
            let _ = cg.remove(Duration::from_secs(2));
        }
    }
}

/// What this test process left on the host: the snapshot's entries that
/// carry our pid (our cgroup names and scratch dirs do). Other suites may
/// run beside these tests on the same host, and their leftovers are theirs.
pub fn ours() -> Vec<String> {
    let pid = std::process::id().to_string();
    let snap = HostSnapshot::take();
    snap.mounts
        .into_iter()
        .chain(snap.links)
        .chain(snap.cgroups)
        .filter(|e| e.contains(&pid))
        .collect()
}

pub fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).expect("pipe")
}

/// The mount plan of a busybox container: overlay of the fixture with
/// upper/work in `scratch`, the standard mounts.
pub fn busybox_plan(scratch: &Path, name: &str) -> MountPlan {
    let dir = scratch.join(name);
    for d in ["upper", "work", "rootfs"] {
        std::fs::create_dir_all(dir.join(d)).expect("mkdir");
    }
    MountPlan::new(
        RootFs::Overlay {
            lower: vec![busybox_rootfs().to_path_buf()],
            upper: dir.join("upper"),
            work: dir.join("work"),
        },
        dir.join("rootfs"),
    )
    .with_standard_mounts(None, 64 << 20)
}

/// Runs `sh -c script` as a container of the pod whose pause is `pause`,
/// and returns (exit code, stdout).
pub fn run_in_pod(
    pause: &Process,
    scratch: &Path,
    name: &str,
    share_pid: bool,
    cgroup: Option<&Cgroup>,
    script: &str,
) -> (i32, String) {
    let mut spawn = container(pause, scratch, name, share_pid, &["sh", "-c", script]);
    spawn.cgroup = cgroup;
    output(spawn)
}

/// Runs `spawn` with its stdout on a pipe: (exit code, stdout).
pub fn output(mut spawn: ContainerSpawn<'_>) -> (i32, String) {
    let (r, w) = pipe();
    spawn.stdio.stdout = Some(w);
    let child = spawn.spawn().expect("spawn container");
    let mut out = String::new();
    std::fs::File::from(r)
        .read_to_string(&mut out)
        .expect("read");
    let status = child.wait().expect("wait");
    (status.exit_code(), out)
}

/// A pause: the embedded pause program, as peapod runs it.
pub fn pause_with(spec: &PauseSpec<'_>) -> Process {
    spawn_pause(spec).expect("spawn pause")
}

/// A busybox container of the pod whose pause is `pause`.
pub fn container<'a>(
    pause: &'a Process,
    scratch: &Path,
    name: &str,
    share_pid: bool,
    argv: &[&str],
) -> ContainerSpawn<'a> {
    ContainerSpawn {
        process: ProcessSpec::new(argv.iter().copied()),
        namespaces: NamespacePlan::container(false, share_pid),
        join_from: Some(pause.pidfd()),
        mounts: Some(busybox_plan(scratch, name)),
        cgroup: None,
        stdio: Stdio::default(),
    }
}

pub fn host_ns(kind: &str) -> PathBuf {
    std::fs::read_link(format!("/proc/self/ns/{kind}")).expect("readlink")
}
