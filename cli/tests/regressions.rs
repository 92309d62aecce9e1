//! Regression tests for bugs a reliability probe found, each named for its
//! bug. Root only; each test has its own `--root` and deletes its pods in a
//! drop guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{shared, start};

#[test]
fn sub_path_expr_with_a_variable_of_the_containers_env_had_no_value() {
    let Some((_g, root)) = start("sub_path_expr_env", "subpath-env", shared) else {
        return;
    };
    let pod = root.apply(
        "subenv",
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: subenv
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox:1.31.1
    command: ["sh", "-c", "echo here > /data/file; exec sleep 1000"]
    env:
    - name: POD
      valueFrom:
        fieldRef: {fieldPath: metadata.name}
    - name: SUB
      value: logs-$(POD)
    volumeMounts:
    - {name: shared, mountPath: /data, subPathExpr: $(SUB)}
    - {name: shared, mountPath: /all}
  volumes:
  - name: shared
    emptyDir: {}
"#,
    );
    // SUB is "logs-subenv": its own reference expanded first.
    // The container writes the file as it starts: wait for it (400 tries).
    let out = pod.sh(
        "c",
        "f=/all/logs-subenv/file; i=0; until [ -f \"$f\" ] || [ $i -ge 400 ]; do i=$((i+1)); sleep 0.05; done; cat \"$f\"",
    );
    assert_eq!(out, "here\n");
}

#[test]
fn an_error_named_its_container_twice() {
    let Some((_g, root)) = start("container_named_twice", "named-twice", shared) else {
        return;
    };
    // A subPath through a symlink that leaves the volume: the volumes
    // crate refuses it naming the container, the runtime named it again.
    let dir = root.path().join("host-dir");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink("/", dir.join("escape")).unwrap();
    let _pod = common::Pod {
        root: &root,
        name: "twice".to_owned(),
    };
    let stderr = root.apply_fails(
        "twice",
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata:
  name: twice
spec:
  containers:
  - name: c
    image: busybox:1.31.1
    command: ["sleep", "1000"]
    volumeMounts:
    - {{name: h, mountPath: /h, subPath: escape}}
  volumes:
  - name: h
    hostPath: {{path: {}}}
"#,
            dir.display()
        ),
    );
    assert_eq!(stderr.matches("container \"c\"").count(), 1, "{stderr}");
    assert!(stderr.contains("subPath \"escape\""), "{stderr}");
}

#[test]
fn after_a_kill_9_of_the_supervisor_describe_said_running_and_exec_refused() {
    let Some((_g, root)) = start("killed_supervisor_honest", "kill9-honest", shared) else {
        return;
    };
    let pod = root.apply(
        "orphan",
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: orphan
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: quiet
    image: busybox:1.31.1
    command: ["sleep", "1000"]
  - name: talker
    image: busybox:1.31.1
    command: ["sh", "-c", "i=0; while echo tick $i; do i=$((i+1)); echo $i > /tmp/count; sleep 0.02; done"]
"#,
    );
    let supervisor = pod.supervisor_pid();
    kill_9(supervisor);
    let v = pod.wait_for("the pod reads as Unknown", |v| {
        v["status"]["phase"] == "Unknown"
    });
    assert_eq!(v["status"]["reason"], "SupervisorLost", "{v:#}");
    // The quiet container ends unseen: its status says so, not `Running`.
    kill_9(pod.container_pid("quiet"));
    let v = pod.wait_for("the quiet container reads as ended", |v| {
        v["status"]["containerStatuses"][0]["state"]["terminated"]["reason"]
            == "ContainerStatusUnknown"
    });
    assert_eq!(
        v["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"],
        137
    );
    let described = root.ok(&["describe", "pod", "orphan"]);
    assert!(described.contains("ContainerStatusUnknown"), "{described}");
    let out = root.run(&["exec", "orphan", "-c", "quiet", "--", "true"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "container is not running (its process ended after the pod's supervisor was killed)"
        ),
        "{stderr}"
    );
}

#[test]
fn a_container_writing_to_stdout_died_of_sigpipe_after_a_kill_9_of_the_supervisor() {
    let Some((_g, root)) = start("killed_supervisor_sigpipe", "kill9-sigpipe", shared) else {
        return;
    };
    keeps_writing_after_a_kill_9(&root, "");
}

#[test]
fn a_tty_container_lost_its_terminal_after_a_kill_9_of_the_supervisor() {
    let Some((_g, root)) = start("killed_supervisor_tty", "kill9-tty", shared) else {
        return;
    };
    // Its output goes to a pty whose master the supervisor read: closed,
    // the container's writes fail (EIO) and its session is hung up.
    keeps_writing_after_a_kill_9(&root, "    tty: true\n");
}

/// A container writing to its stdout in a loop (with `extra` lines in its
/// spec) keeps running and writing after its supervisor is killed.
fn keeps_writing_after_a_kill_9(root: &common::Root, extra: &str) {
    let pod = root.apply(
        "talker",
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata:
  name: talker
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: talker
    image: busybox:1.31.1
    command: ["sh", "-c", "i=0; while echo tick $i; do i=$((i+1)); echo $i > /tmp/count; sleep 0.02; done"]
{extra}"#
        ),
    );
    let count = || -> u64 {
        let (code, out, err) =
            root.outcome(&["exec", "talker", "-c", "talker", "--", "cat", "/tmp/count"]);
        assert_eq!(code, 0, "{out}{err}");
        out.trim().parse().unwrap_or(0)
    };
    let pid = pod.container_pid("talker");
    kill_9(pod.supervisor_pid());
    pod.wait_for("the pod reads as Unknown", |v| {
        v["status"]["phase"] == "Unknown"
    });
    // The talker's writes after the kill found a reader: it goes on
    // counting (exec joins it by its own process record), no SIGPIPE.
    let after_kill = count();
    let mut now = after_kill;
    for _ in 0..400 {
        if now >= after_kill + 20 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        now = count();
    }
    assert!(now >= after_kill + 20, "the talker stopped at {now}");
    assert_eq!(pod.container_pid("talker"), pid);
    let v = pod.json();
    assert!(
        v["status"]["containerStatuses"][0]["state"]["running"].is_object(),
        "{v:#}"
    );
}

fn kill_9(pid: i32) {
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}

#[test]
fn apply_warns_of_a_field_peapod_does_not_enforce() {
    let Some((_g, root)) = start("apply_not_enforced", "apply-warns", shared) else {
        return;
    };
    let _pod = common::Pod {
        root: &root,
        name: "warned".to_owned(),
    };
    let file = root.path().join("warned.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: warned\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: c\n    image: busybox:1.31.1\n    command: [\"sleep\", \"1000\"]\n    resources:\n      limits:\n        hugepages-2Mi: 4Mi\n",
    )
    .unwrap();
    let out = root.run(&["apply", "-f", file.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "warning: {}:13:9: spec.containers[0].resources.limits.hugepages-2Mi: not enforced by peapod: accepted, but the pod runs as if it were not set\n",
            file.display()
        )
    );
}
