//! Median wall time of core's spawns, as root: `cargo run --release -p
//! peapod-core --example spawn_timing [N]`. The criterion bench
//! `benches/benches/container_spawn.rs` measures the same; this runs
//! without the rest of the workspace.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::{Duration, Instant};

use peapod_core::{
    ContainerSpawn, MountPlan, NamespacePlan, Namespaces, PauseSpec, Process, ProcessSpec, RootFs,
    spawn_pause,
};
use peapod_testkit::{TempDir, busybox_rootfs, require_root};

fn median(mut f: impl FnMut() -> Duration, n: usize) -> Duration {
    let mut times: Vec<_> = (0..n).map(|_| f()).collect();
    times.sort();
    times[n / 2]
}

fn timed(f: impl FnOnce() -> Process) -> (Duration, Process) {
    let t = Instant::now();
    let p = f();
    (t.elapsed(), p)
}

fn main() {
    if !require_root("spawn_timing") {
        return;
    }
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let pause_exe = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("peapod-pause");
    let host = median(
        || {
            let (t, p) = timed(|| {
                ContainerSpawn::new(ProcessSpec::new(["/bin/true"]))
                    .spawn()
                    .unwrap()
            });
            p.wait().unwrap();
            t
        },
        n,
    );
    println!("spawn to exec, /bin/true on the host:           {host:?}");
    let ns = median(
        || {
            let (t, p) = timed(|| {
                let mut s = ContainerSpawn::new(ProcessSpec::new(["/bin/true"]));
                s.namespaces.create = Namespaces::MNT
                    | Namespaces::PID
                    | Namespaces::NET
                    | Namespaces::IPC
                    | Namespaces::UTS;
                s.spawn().unwrap()
            });
            p.wait().unwrap();
            t
        },
        n,
    );
    println!("spawn to exec, /bin/true in 5 new namespaces:   {ns:?}");
    let spec = PauseSpec {
        share_process_namespace: true,
        exe: Some(pause_exe),
        ..PauseSpec::default()
    };
    let pause_t = median(
        || {
            let (t, p) = timed(|| spawn_pause(&spec).unwrap());
            p.kill().unwrap();
            p.wait().unwrap();
            t
        },
        n,
    );
    println!("spawn to exec, pause (new net/ipc/uts/pid):     {pause_t:?}");
    let pause = spawn_pause(&spec).unwrap();
    let scratch = TempDir::new("spawn-timing");
    for d in ["upper", "work", "rootfs"] {
        std::fs::create_dir_all(scratch.path().join(d)).unwrap();
    }
    let run = |standard: bool| {
        median(
            || {
                let mut plan = MountPlan::new(
                    RootFs::Overlay {
                        lower: vec![busybox_rootfs().to_path_buf()],
                        upper: scratch.path().join("upper"),
                        work: scratch.path().join("work"),
                    },
                    scratch.path().join("rootfs"),
                );
                if standard {
                    plan = plan.with_standard_mounts(None, 64 << 20);
                }
                let (t, p) = timed(|| {
                    ContainerSpawn {
                        process: ProcessSpec::new(["true"]),
                        namespaces: NamespacePlan::container(false, true),
                        join_from: Some(pause.pidfd()),
                        mounts: Some(plan),
                        cgroup: None,
                        stdio: peapod_core::Stdio::default(),
                    }
                    .spawn()
                    .unwrap()
                });
                p.wait().unwrap();
                t
            },
            n,
        )
    };
    println!(
        "spawn to exec, busybox container joining the pause, overlay root only:      {:?}",
        run(false)
    );
    println!(
        "spawn to exec, busybox container joining the pause, + 34 standard mounts:   {:?}",
        run(true)
    );
    pause.kill().unwrap();
    pause.wait().unwrap();
}
