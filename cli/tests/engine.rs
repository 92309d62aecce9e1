//! The engine (`peapod_runtime::engine`) as a CRI runtime uses it: a
//! sandbox made by one process, its containers created, started, stopped
//! and removed by another, with no pod controller deciding anything.

mod common;

use common::Sandbox;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use peapod_runtime::Paths;
use peapod_runtime::engine::{
    ContainerConfig, ContainerState, ContainerStatus, Engine, ExecIo, Mount, Propagation,
    SandboxConfig, SandboxState,
};
use peapod_spec::{Quantity, ResourceRequirements};

/// The environment variable that gives the second process its root.
const ROOT_ENV: &str = "PEAPOD_ENGINE_TEST_ROOT";
/// ... and the sandbox it works on.
const SANDBOX_ENV: &str = "PEAPOD_ENGINE_TEST_SANDBOX";

fn engine(root: &Path) -> Engine {
    Engine::new(Paths::under(root), env!("CARGO_BIN_EXE_peapod"))
}

fn shell(name: &str, script: &str) -> ContainerConfig {
    ContainerConfig {
        name: name.into(),
        image: "busybox:1.31.1".into(),
        command: vec!["sh".into(), "-c".into(), script.into()],
        ..ContainerConfig::default()
    }
}

/// Waits until container `id` satisfies `check`; the status it did.
fn wait_for(
    engine: &Engine,
    id: &str,
    what: &str,
    check: impl Fn(&ContainerStatus) -> bool,
) -> ContainerStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = engine.container_status(id).expect("container status");
        if check(&status) {
            return status;
        }
        assert!(Instant::now() < deadline, "{what}: {status:#?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn namespace(pid: i32, ns: &str) -> PathBuf {
    std::fs::read_link(format!("/proc/{pid}/ns/{ns}")).expect("namespace link")
}

/// The memory limit of process `pid`'s cgroup, as the host sees it.
fn memory_limit(pid: i32) -> u64 {
    let line = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("cgroup");
    let v2 = line.lines().find_map(|l| l.strip_prefix("0::"));
    let file = match v2 {
        Some(rel) if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() => {
            format!("/sys/fs/cgroup{rel}/memory.max")
        }
        _ => {
            let rel = line
                .lines()
                .find_map(|l| l.split_once(":memory:").map(|(_, r)| r.to_owned()))
                .expect("a memory cgroup");
            format!("/sys/fs/cgroup/memory{rel}/memory.limit_in_bytes")
        }
    };
    std::fs::read_to_string(&file)
        .expect("limit")
        .trim()
        .parse()
        .expect("a number")
}

#[test]
fn a_sandbox_made_by_one_process_runs_containers_that_another_drives() {
    let Some((_guard, root)) =
        common::start("engine_sandbox_two_processes", "engine-two", common::shared)
    else {
        return;
    };
    let first = engine(root.path());
    let logs = root.path().join("kubelet-logs/esb");
    let config = SandboxConfig {
        name: "esb".into(),
        namespace: "default".into(),
        uid: "kubelet-uid-1".into(),
        hostname: Some("esb-host".into()),
        labels: [("app".to_owned(), "engine".to_owned())].into(),
        log_directory: Some(logs.clone()),
        ..SandboxConfig::default()
    };
    let id = first.create_sandbox(&config).expect("sandbox");
    let sandbox = Sandbox {
        engine: first.clone(),
        id: id.clone(),
    };
    let again = first
        .create_sandbox(&config)
        .expect_err("same name and attempt");
    assert!(again.to_string().contains("already exists"), "{again}");
    let status = first.sandbox_status(&id).expect("status");
    assert_eq!(status.state, SandboxState::Ready);
    // `get` sees it, running, with its address.
    let listed = root.ok(&["get", "pods", "-o", "wide"]);
    let ip = status.ips.first().expect("an address").to_string();
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("esb ") && l.contains("Running") && l.contains(&ip)),
        "{listed}"
    );
    assert_eq!(status.config.labels["app"], "engine");
    let uid = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(root.path().join(format!("run/pods/{id}/pod.json")))
            .expect("pod.json"),
    )
    .expect("json")["metadata"]["uid"]
        .as_str()
        .expect("uid")
        .to_owned();
    assert!(!common::cgroups_of(&uid).is_empty(), "the sandbox's cgroup");
    let veth = Path::new("/sys/class/net").join(peapod_runtime::network::host_link(&uid));
    assert!(veth.exists(), "its veth on the bridge");

    // Everything about containers, from a process of its own.
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "engine_second_process",
            "--ignored",
            "--nocapture",
        ])
        .env(ROOT_ENV, root.path())
        .env(SANDBOX_ENV, &id)
        .output()
        .expect("second process");
    assert!(
        out.status.success(),
        "the second process failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // Its containers are removed; the sandbox stops, twice, and stays.
    assert_eq!(first.list_containers(Some(&id)).expect("list"), []);
    first.stop_sandbox(&id).expect("stop");
    first.stop_sandbox(&id).expect("stopped already");
    assert_eq!(
        first.sandbox_status(&id).expect("status").state,
        SandboxState::NotReady
    );
    assert!(
        first
            .list_sandboxes()
            .expect("list")
            .iter()
            .any(|s| s.id == id)
    );
    first.remove_sandbox(&id).expect("remove");
    first.remove_sandbox(&id).expect("removed already");
    drop(sandbox);
    assert!(first.sandbox_status(&id).is_err(), "gone");
    assert_eq!(root.pod_leftovers(), Vec::<PathBuf>::new());
    assert_eq!(common::cgroups_of(&uid), Vec::<PathBuf>::new());
    // The kernel takes the veth away with the network namespace.
    let deadline = Instant::now() + Duration::from_secs(30);
    while veth.exists() {
        assert!(
            Instant::now() < deadline,
            "{} is still there",
            veth.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The kubelet's log files are its own: they stay.
    assert!(logs.join("trap/0.log").exists());
}

/// The second process of the test above (run by it, with its root and
/// sandbox in the environment).
#[test]
#[ignore = "run by a_sandbox_made_by_one_process_runs_containers_that_another_drives"]
fn engine_second_process() {
    let root = PathBuf::from(std::env::var_os(ROOT_ENV).expect("run by the engine test"));
    let id = std::env::var(SANDBOX_ENV).expect("run by the engine test");
    let engine = engine(&root);
    let shared = root.join("shared");
    std::fs::create_dir_all(&shared).expect("shared folder");
    std::fs::write(shared.join("note"), "from the host\n").expect("note");

    // One ignores SIGTERM, one exits 3 on it; the first sees a host folder.
    let mut stubborn = shell(
        "stubborn",
        "trap '' TERM; cat /host/note; hostname; while :; do sleep 1; done",
    );
    stubborn.mounts.push(Mount {
        host_path: shared.clone(),
        container_path: "/host".into(),
        readonly: true,
        propagation: Propagation::Private,
    });
    let trap = shell(
        "trap",
        "trap 'exit 3' TERM; while :; do echo tick; sleep 0.1; done",
    );
    let a = engine.create_container(&id, &stubborn).expect("create a");
    let b = engine.create_container(&id, &trap).expect("create b");
    assert_eq!(
        engine.container_status(&a).expect("status").state,
        ContainerState::Created
    );
    engine.start_container(&a).expect("start a");
    engine.start_container(&b).expect("start b");
    let a_run = wait_for(&engine, &a, "a runs", |s| {
        s.state == ContainerState::Running
    });
    let b_run = wait_for(&engine, &b, "b runs", |s| {
        s.state == ContainerState::Running
    });
    assert!(a_run.started_at >= a_run.created_at && a_run.started_at > 0);
    for ns in ["net", "ipc", "uts"] {
        assert_eq!(
            namespace(a_run.pid, ns),
            namespace(b_run.pid, ns),
            "{ns} shared"
        );
    }
    assert_ne!(namespace(a_run.pid, "mnt"), namespace(b_run.pid, "mnt"));

    // Its output is in the CRI log file the caller named.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = std::fs::read_to_string(&a_run.log_path).unwrap_or_default();
        if log.contains("stdout F from the host") && log.contains("stdout F esb-host") {
            break;
        }
        assert!(Instant::now() < deadline, "log of a: {log:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Commands run in a container from this process: output, exit code,
    // the read-only host folder, a timeout, a terminal.
    let argv = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let got = engine
        .exec_sync(
            &a,
            &argv(&[
                "sh",
                "-c",
                "cat /host/note; echo err >&2; touch /host/x || exit 7",
            ]),
            Duration::from_secs(30),
        )
        .expect("exec");
    assert_eq!(
        (got.stdout.as_slice(), got.exit_code),
        (&b"from the host\n"[..], 7)
    );
    let stderr = String::from_utf8_lossy(&got.stderr);
    assert!(
        stderr.starts_with("err\n") && stderr.contains("Read-only"),
        "{stderr}"
    );
    let slow = engine.exec_sync(&a, &argv(&["sleep", "30"]), Duration::from_millis(300));
    assert!(
        slow.as_ref()
            .is_err_and(|e| e.to_string().contains("timed out")),
        "{slow:?}"
    );
    let tty = engine
        .exec(&a, &argv(&["tty"]), ExecIo::default(), true)
        .expect("exec on a terminal");
    let master = tty
        .terminal()
        .expect("a terminal")
        .try_clone_to_owned()
        .expect("dup");
    assert_eq!(tty.wait().expect("wait"), 0);
    let mut seen = String::new();
    let _ = std::io::Read::read_to_string(&mut std::fs::File::from(master), &mut seen);
    assert!(seen.starts_with("/dev/pts/"), "{seen:?}");

    // Its counters, and its limits changed in place.
    let stats = engine.stats(&a).expect("stats");
    assert!(
        stats.cpu_usage_ns > 0 && stats.memory_working_set_bytes > 0,
        "{stats:?}"
    );
    engine
        .update_resources(
            &a,
            &ResourceRequirements {
                limits: [(
                    "memory".to_owned(),
                    Quantity::parse("48Mi").expect("quantity"),
                )]
                .into(),
                ..ResourceRequirements::default()
            },
        )
        .expect("update");
    assert_eq!(memory_limit(a_run.pid), 48 * 1024 * 1024);

    // Attached, a container created with stdin reads what is written.
    let mut echo = shell("echo", "while read line; do echo \"got $line\"; done");
    echo.stdin = true;
    let e = engine.create_container(&id, &echo).expect("create echo");
    engine.start_container(&e).expect("start echo");
    let attached = engine.attach(&e).expect("attach");
    let mut input = std::fs::File::from(attached.input.expect("its stdin"));
    std::io::Write::write_all(&mut input, b"hello\n").expect("write");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&attached.log_path)
        .unwrap_or_default()
        .contains("stdout F got hello")
    {
        assert!(Instant::now() < deadline, "no echo");
        std::thread::sleep(Duration::from_millis(20));
    }
    engine.remove_container(&e).expect("remove echo");

    // Renamed away (as kubelet rotates), the log is opened again.
    let wait_tick = |path: &Path| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !std::fs::read_to_string(path)
            .unwrap_or_default()
            .contains("stdout F tick")
        {
            assert!(Instant::now() < deadline, "no tick in {}", path.display());
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_tick(&b_run.log_path);
    let rotated = b_run.log_path.with_extension("log.1");
    std::fs::rename(&b_run.log_path, &rotated).expect("rename");
    engine.reopen_log(&b).expect("reopen");
    wait_tick(&b_run.log_path);

    // SIGTERM ends b within its timeout; a is killed once its timeout is
    // over.
    engine
        .stop_container(&b, Duration::from_secs(30))
        .expect("stop b");
    let b_end = engine.container_status(&b).expect("status");
    assert_eq!(
        (b_end.state, b_end.exit_code, b_end.reason.as_str()),
        (ContainerState::Exited, 3, "Error")
    );
    let asked = Instant::now();
    engine
        .stop_container(&a, Duration::from_millis(500))
        .expect("stop a");
    assert!(
        asked.elapsed() >= Duration::from_millis(500),
        "not before its timeout"
    );
    let a_end = engine.container_status(&a).expect("status");
    assert_eq!(
        (a_end.state, a_end.exit_code, a_end.reason.as_str()),
        (ContainerState::Exited, 137, "Error")
    );
    assert!(a_end.finished_at >= a_end.started_at);
    engine
        .stop_container(&a, Duration::from_secs(1))
        .expect("stopped already");

    // The memory limit is the container's: over it, OOMKilled.
    let mut hog = shell("hog", "x=aaaaaaaa; while :; do x=$x$x; done");
    hog.resources = Some(ResourceRequirements {
        limits: [(
            "memory".to_owned(),
            Quantity::parse("16Mi").expect("quantity"),
        )]
        .into(),
        ..ResourceRequirements::default()
    });
    let c = engine.create_container(&id, &hog).expect("create hog");
    engine.start_container(&c).expect("start hog");
    let c_end = wait_for(&engine, &c, "hog ends", |s| {
        s.state == ContainerState::Exited
    });
    assert_eq!((c_end.exit_code, c_end.reason.as_str()), (137, "OOMKilled"));

    // A completed one.
    let done = engine
        .create_container(&id, &shell("done", "exit 0"))
        .expect("create done");
    engine.start_container(&done).expect("start done");
    let d_end = wait_for(&engine, &done, "done ends", |s| {
        s.state == ContainerState::Exited
    });
    assert_eq!((d_end.exit_code, d_end.reason.as_str()), (0, "Completed"));

    assert_eq!(engine.list_containers(Some(&id)).expect("list").len(), 4);
    for c in [&a, &b, &c, &done] {
        engine.remove_container(c).expect("remove");
        engine.remove_container(c).expect("removed already");
    }
    assert!(engine.container_status(&a).is_err());
}

#[test]
fn a_sandbox_lives_in_its_cgroup_parent_and_goes_with_it_when_its_supervisor_was_killed() {
    let Some((_guard, root)) =
        common::start("engine_cgroup_parent", "engine-parent", common::shared)
    else {
        return;
    };
    let name = format!("peapod-engine-parent-{}", std::process::id());
    let parent = common::ParentCgroup::new(&name);
    let engine = engine(root.path());
    let config = SandboxConfig {
        name: "eparent".into(),
        cgroup_parent: Some(format!("/{name}")),
        ..SandboxConfig::default()
    };
    let id = engine.create_sandbox(&config).expect("sandbox");
    let _sandbox = Sandbox {
        engine: engine.clone(),
        id: id.clone(),
    };
    let c = engine
        .create_container(&id, &shell("sleeper", "sleep 1000"))
        .expect("create");
    engine.start_container(&c).expect("start");
    let pid = wait_for(&engine, &c, "runs", |s| s.state == ContainerState::Running).pid;
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("cgroup");
    assert!(cgroup.contains(&format!("/{name}/peapod-")), "{cgroup}");

    // Its supervisor killed, the container runs on, unwatched.
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.path().join(format!("run/pods/{id}/supervisor.json")))
            .expect("supervisor.json"),
    )
    .expect("json");
    let supervisor = i32::try_from(record["pid"].as_i64().expect("pid")).expect("pid");
    Command::new("kill")
        .args(["-9", &supervisor.to_string()])
        .status()
        .expect("kill");
    let status = loop {
        let s = engine.sandbox_status(&id).expect("status");
        if s.state == SandboxState::NotReady {
            break s;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.containers[&c].state, ContainerState::Unknown);
    assert!(Path::new(&format!("/proc/{pid}")).exists(), "still running");

    engine.remove_sandbox(&id).expect("remove");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(Instant::now() < deadline, "the container was not killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(parent.children(), Vec::<PathBuf>::new());
    assert_eq!(root.pod_leftovers(), Vec::<PathBuf>::new());
}
