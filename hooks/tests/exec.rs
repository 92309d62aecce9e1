//! The exec handler in a real busybox container (root): the command joins
//! the container's mount namespace and runs as its user, its output and
//! exit code come back, a timeout kills it on time, a missing command
//! fails, a chatty one never blocks.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::{Duration, Instant};

use peapod_core::{
    ContainerSpawn, Credentials, MountPlan, NamespacePlan, Namespaces, Process, ProcessSpec, RootFs,
};
use peapod_hooks::{Exec, ExecTarget, Handler, Outcome, Run, RunContext, Verdict};
use peapod_testkit::{TempDir, busybox_rootfs, require_root};

/// Kills and reaps the container when dropped, even when the test fails.
struct Container(Process);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn busybox(scratch: &TempDir, process: ProcessSpec) -> Container {
    let dir = scratch.path();
    for d in ["upper", "work", "rootfs"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let plan = MountPlan::new(
        RootFs::Overlay {
            lower: vec![busybox_rootfs().to_path_buf()],
            upper: dir.join("upper"),
            work: dir.join("work"),
        },
        dir.join("rootfs"),
    )
    .with_standard_mounts(None, 64 << 20);
    let mut spawn = ContainerSpawn::new(process);
    spawn.namespaces = NamespacePlan {
        create: Namespaces::MNT | Namespaces::PID,
        join: Namespaces::empty(),
    };
    spawn.mounts = Some(plan);
    Container(spawn.spawn().unwrap())
}

fn exec(container: &Container, spec: &ProcessSpec, argv: &[&str], timeout: Duration) -> Outcome {
    let ctx = RunContext {
        exec: Some(ExecTarget {
            pidfd: container.0.pidfd(),
            cgroup: None,
            process: spec,
        }),
        pod_ip: None,
        netns: None,
        timeout,
    };
    let handler = Handler::Exec(Exec {
        command: argv.iter().map(|s| (*s).to_owned()).collect(),
    });
    Run::start(&handler, &ctx).wait().unwrap()
}

/// The pids of this process's children, from every thread's list.
fn children() -> Vec<i32> {
    let mut pids: Vec<i32> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("children")).ok())
        .flat_map(|c| {
            c.split_whitespace()
                .map(|p| p.parse().unwrap())
                .collect::<Vec<i32>>()
        })
        .collect();
    pids.sort_unstable();
    pids
}

#[test]
fn exec_handler_runs_in_the_container_as_its_user() {
    if !require_root("exec_handler_runs_in_the_container_as_its_user") {
        return;
    }
    let scratch = TempDir::new("hooks-exec");
    let mut spec = ProcessSpec::new(["sh", "-c", "echo inside > /tmp/marker; exec sleep 60"]);
    spec.user = Credentials {
        uid: 1000,
        gid: 1000,
        groups: Vec::new(),
    };
    spec.env.push("GREETING=hello".into());
    let container = busybox(&scratch, spec.clone());
    // A bound for commands that end by themselves (a loaded machine only
    // makes them slower).
    let bound = Duration::from_secs(30);
    // The marker may take a moment to appear.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut o = exec(&container, &spec, &["cat", "/tmp/marker"], bound);
    while !o.passed() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        o = exec(&container, &spec, &["cat", "/tmp/marker"], bound);
    }
    assert_eq!(
        (o.verdict, o.message.as_str()),
        (Verdict::Success, "inside\n")
    );
    assert_eq!(o.exit_code, Some(0));

    let o = exec(
        &container,
        &spec,
        &["sh", "-c", "id -u; echo $GREETING; echo oops >&2; exit 3"],
        bound,
    );
    assert_eq!(o.verdict, Verdict::Failure, "{o:?}");
    assert_eq!(o.exit_code, Some(3));
    assert_eq!(o.message, "1000\nhello\noops\n");

    let timeout = Duration::from_millis(300);
    let t0 = Instant::now();
    let o = exec(&container, &spec, &["sleep", "10"], timeout);
    let took = t0.elapsed();
    assert_eq!(o.verdict, Verdict::TimedOut, "{o:?}");
    assert_eq!(o.message, "command \"sleep 10\" timed out");
    // `sleep 10` left alone ends at 10 s: under 5 s the timeout cut it,
    // with seconds of room for a loaded machine.
    assert!(took >= timeout && took < Duration::from_secs(5), "{took:?}");

    // The killed command is reaped: no zombie, only the container is left
    // (waited for: the reaping follows the kill).
    let deadline = Instant::now() + Duration::from_secs(60);
    while children() != vec![container.0.pid()] && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(children(), vec![container.0.pid()]);

    let o = exec(&container, &spec, &["no-such-command"], bound);
    assert_eq!(o.verdict, Verdict::Failure, "{o:?}");
    assert!(o.message.contains("no-such-command"), "{}", o.message);

    // 100 KB of output: kept to 10 KiB, the command never blocks on a full pipe.
    let o = exec(
        &container,
        &spec,
        &["sh", "-c", "yes | head -c 100000"],
        bound,
    );
    assert_eq!(o.verdict, Verdict::Success, "{o:?}");
    assert_eq!(o.message.len(), 10 * 1024);
}

#[test]
fn exec_without_a_container_fails_without_running_anything() {
    let ctx = RunContext {
        exec: None,
        pod_ip: None,
        netns: None,
        timeout: Duration::from_secs(1),
    };
    let handler = Handler::Exec(Exec {
        command: vec!["true".into()],
    });
    let o = Run::start(&handler, &ctx).wait().unwrap();
    assert_eq!(o.verdict, Verdict::Failure);
    assert!(o.message.contains("no container"), "{}", o.message);
}
