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
    command: ["sh", "-c", "while echo tick; do sleep 0.05; done"]
"#,
    );
    let supervisor = pod.supervisor_pid();
    let killed = std::process::Command::new("kill")
        .args(["-9", &supervisor.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // The talker writes into a pipe no one reads any more: its write
    // fails and it ends (a logger that outlives the supervisor is still to
    // come). Its status must say it ended, not `Running`.
    let v = pod.wait_for("the talker reads as ended", |v| {
        v["status"]["phase"] == "Unknown"
            && v["status"]["containerStatuses"][1]["state"]["terminated"]["reason"]
                == "ContainerStatusUnknown"
    });
    let quiet = &v["status"]["containerStatuses"][0];
    assert_eq!(quiet["name"], "quiet");
    assert!(quiet["state"]["running"].is_object(), "{v:#}");
    assert_eq!(
        v["status"]["containerStatuses"][1]["state"]["terminated"]["exitCode"],
        137
    );
    let described = root.ok(&["describe", "pod", "orphan"]);
    assert!(described.contains("ContainerStatusUnknown"), "{described}");
    // exec joins the live container by its own process record.
    assert_eq!(
        pod.exec("quiet", &["echo", "still here"]),
        (0, "still here\n".to_owned())
    );
    let out = root.run(&["exec", "orphan", "-c", "talker", "--", "true"]);
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
