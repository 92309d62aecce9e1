//! A pod's supervisor as a host process: how `ps` names it (and the
//! other processes peapod runs from its sealed binary), that it ends once
//! `delete` answered and its trash is emptied, and that `delete` after a
//! `kill -9` of it finds the pod's cgroup wherever it was placed.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use peapod_runtime::Paths;
use peapod_runtime::engine::{ContainerConfig, ContainerState, Engine, SandboxConfig};

/// `/proc/PID/comm`: the name `ps` and `top` show.
fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap()
        .trim_end()
        .to_owned()
}

#[test]
fn a_supervisor_and_an_exec_are_named_peapod_not_by_the_fd_they_were_execd_from() {
    let Some((_guard, root)) = common::start("supervisor_named", "sup-named", common::shared)
    else {
        return;
    };
    let pod = root.apply("named", &common::sleeper_pod("named"));
    // Exec'd through /proc/self/fd/N, the kernel named it N.
    assert_eq!(comm(pod.supervisor_pid()), "peapod");

    // `exec` re-executes itself through the sealed binary before it
    // clones the command: once the command runs, the CLI has its name.
    let mut exec = root
        .command(&["exec", "named", "--", "sleep", "1000"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let cli = i32::try_from(exec.id()).unwrap();
    let deadline = Instant::now() + common::WAIT;
    while common::children_of(cli).is_empty() {
        assert!(
            exec.try_wait().unwrap().is_none(),
            "exec ended before its command ran"
        );
        assert!(Instant::now() < deadline, "exec's command never ran");
        std::thread::sleep(Duration::from_millis(10));
    }
    let name = comm(cli);
    let _ = exec.kill();
    let _ = exec.wait();
    assert_eq!(name, "peapod");
}

#[test]
fn a_supervisor_ends_once_delete_answered_with_its_trash_emptied() {
    let Some((_guard, root)) = common::start("supervisor_ends", "sup-ends", common::shared) else {
        return;
    };
    let pod = root.apply("ends", &common::sleeper_pod("ends"));
    let supervisor = pod.supervisor_pid();
    root.ok(&["delete", "pod", "ends", "--grace-period", "0"]);
    // Its exit is what the pidfd tells (reaping it is its parent's, the
    // host's init: some reap orphans only every few seconds).
    assert!(
        common::ends(supervisor),
        "the supervisor did not end after delete"
    );
    let trash: Vec<PathBuf> = std::fs::read_dir(root.path().join("lib/trash"))
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(trash, Vec::<PathBuf>::new(), "left in the trash");
    assert_eq!(root.pod_leftovers(), Vec::<PathBuf>::new());
}

#[test]
fn delete_after_kill_9_of_the_supervisor_finds_the_pods_cgroup_below_its_cgroup_parent() {
    let Some((_guard, root)) = common::start("killed_parent", "sup-killed-parent", common::shared)
    else {
        return;
    };
    let name = format!("peapod-killed-parent-{}", std::process::id());
    let parent = common::ParentCgroup::new(&name);
    let engine = Engine::new(Paths::under(root.path()), env!("CARGO_BIN_EXE_peapod"));
    let config = SandboxConfig {
        name: "kparent".into(),
        cgroup_parent: Some(format!("/{name}")),
        ..SandboxConfig::default()
    };
    let id = engine.create_sandbox(&config).unwrap();
    let _sandbox = common::Sandbox {
        engine: engine.clone(),
        id: id.clone(),
    };
    let container = ContainerConfig {
        name: "sleeper".into(),
        image: "busybox:1.31.1".into(),
        command: vec!["sleep".into(), "1000".into()],
        ..ContainerConfig::default()
    };
    let c = engine.create_container(&id, &container).unwrap();
    engine.start_container(&c).unwrap();
    let status = engine.container_status(&c).unwrap();
    assert_eq!(status.state, ContainerState::Running);
    let pid = status.pid;
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(cgroup.contains(&format!("/{name}/peapod-")), "{cgroup}");

    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.path().join(format!("run/pods/{id}/supervisor.json")))
            .unwrap(),
    )
    .unwrap();
    let supervisor = i32::try_from(record["pid"].as_i64().unwrap()).unwrap();
    let killed = Command::new("kill")
        .args(["-9", &supervisor.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(common::ends(supervisor), "the supervisor survived kill -9");

    // The CLI's delete, as a user types it: the sandbox is pod `kparent`.
    root.ok(&["delete", "pod", "kparent", "--grace-period", "0"]);
    assert!(ends_or_gone(pid), "the container outlived delete");
    assert_eq!(
        parent.children(),
        Vec::<PathBuf>::new(),
        "left below the parent"
    );
    assert_eq!(root.pod_leftovers(), Vec::<PathBuf>::new());
}

/// [`common::ends`] for a process that may be gone already (its pid then is
/// not opened: it may be another's by now).
fn ends_or_gone(pid: i32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists() || common::ends(pid)
}

/// A container may be named `pause` (any DNS-1123 label): its cgroup is
/// not the pause's, so its end (whose leftovers are killed by its
/// cgroup) does not kill the pod's pause.
#[test]
fn a_container_named_pause_ending_leaves_the_pods_pause_running() {
    let Some((_guard, root)) = common::start("named_pause", "sup-named-pause", common::shared)
    else {
        return;
    };
    let yaml = common::sleeper_pod("npause").replace(
        "  containers:\n",
        "  containers:\n  - name: pause\n    image: busybox:1.31.1\n    command: [\"true\"]\n",
    );
    let pod = root.apply("npause", &yaml);
    let pause_pid = || {
        common::children_of(pod.supervisor_pid())
            .into_iter()
            .find(|p| comm(*p) == "pause")
            .expect("the supervisor's pause")
    };
    let pause = common::pidfd(pause_pid());
    pod.wait_for("container pause ended", |v| {
        v["status"]["containerStatuses"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["name"] == "pause" && s["lastState"]["terminated"]["exitCode"] == 0)
    });
    assert!(
        !common::ended(&pause, Duration::ZERO),
        "the pod's pause ended with the container named pause"
    );
}
