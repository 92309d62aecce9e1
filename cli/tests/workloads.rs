//! Workloads (issue 18 items 1 and 4): a Deployment kept at its replicas
//! when a pod is deleted or its supervisor killed, scaled by re-applying;
//! Jobs that complete and that fail past their backoff limit; a DaemonSet
//! as one pod; a StatefulSet's ordinal names; `delete -f` removing the
//! workload, its keeper and its pods. Root only; each test has its own
//! `--root` and deletes what it applied in a drop guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{Root, shared, start};
use serde_json::Value;

/// Deletes the workloads of a file when dropped.
struct Applied<'a> {
    root: &'a Root,
    file: PathBuf,
}

impl Drop for Applied<'_> {
    fn drop(&mut self) {
        let file = self.file.to_str().unwrap();
        let _ = self.root.run(&[
            "delete",
            "-f",
            file,
            "--grace-period",
            "0",
            "--ignore-not-found",
        ]);
    }
}

fn apply<'a>(root: &'a Root, name: &str, yaml: &str) -> (Applied<'a>, String) {
    let file = root.path().join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    let guard = Applied {
        root,
        file: file.clone(),
    };
    let out = root.ok(&["apply", "-f", file.to_str().unwrap()]);
    (guard, out)
}

/// The pods labelled `key=value`, as `get pods -o json` lists them.
fn pods(root: &Root, key: &str, value: &str) -> Vec<Value> {
    let list: Value = serde_json::from_str(&root.ok(&["get", "pods", "-o", "json"])).unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"]["labels"][key] == value)
        .cloned()
        .collect()
}

fn names(pods: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = pods
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

fn phase(pod: &Value) -> &str {
    pod["status"]["phase"].as_str().unwrap_or_default()
}

/// Waits until the pods labelled `key=value` satisfy `check`; returns them.
fn wait_pods(
    root: &Root,
    (key, value): (&str, &str),
    what: &str,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + common::WAIT;
    loop {
        let found = pods(root, key, value);
        if check(&found) {
            return found;
        }
        assert!(Instant::now() < deadline, "{what}: {:?}", names(&found));
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn running(n: usize) -> impl Fn(&[Value]) -> bool {
    move |pods| pods.len() == n && pods.iter().all(|p| phase(p) == "Running")
}

/// Waits until `get <resource> -o json` satisfies `check`; returns it.
fn wait_object(root: &Root, resource: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + common::WAIT;
    loop {
        let v: Value = serde_json::from_str(&root.ok(&["get", resource, "-o", "json"])).unwrap();
        if check(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: {v:#}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn deployment(replicas: u32) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{ name: web }}
spec:
  replicas: {replicas}
  selector: {{ matchLabels: {{ app: web }} }}
  template:
    metadata: {{ labels: {{ app: web }} }}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
        - name: app
          image: busybox:1.31.1
          command: ["sleep", "1000"]
"#
    )
}

fn keepers(root: &Root) -> usize {
    let marker = root.path().to_str().unwrap().to_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.unwrap().path().join("cmdline")).ok())
        .filter(|cmd| {
            let text = String::from_utf8_lossy(cmd);
            text.contains("\0keep\0") && text.contains(&marker)
        })
        .count()
}

#[test]
fn a_deployment_of_3_is_kept_at_3_and_scaled_to_5_by_reapplying() {
    let Some((_lock, root)) = start(
        "a_deployment_of_3_is_kept_at_3_and_scaled_to_5_by_reapplying",
        "deploy",
        shared,
    ) else {
        return;
    };
    let (guard, out) = apply(&root, "web", &deployment(3));
    assert_eq!(out, "deployment.apps/web created\n");
    let first = wait_pods(&root, ("app", "web"), "3 pods running", running(3));
    for pod in &first {
        let name = pod["metadata"]["name"].as_str().unwrap();
        let hash = pod["metadata"]["labels"]["pod-template-hash"]
            .as_str()
            .unwrap();
        let suffix = name.strip_prefix(&format!("web-{hash}-")).unwrap();
        assert_eq!(suffix.len(), 5, "{name}");
        let owner = &pod["metadata"]["ownerReferences"][0];
        assert_eq!(owner["kind"], "ReplicaSet");
        assert_eq!(owner["name"], format!("web-{hash}"));
        assert_eq!(owner["controller"], true);
    }
    // One deleted: a new one takes its place.
    let victim = names(&first)[0].clone();
    root.ok(&["delete", "pod", &victim, "--grace-period", "0"]);
    let after = wait_pods(&root, ("app", "web"), "back at 3", |pods| {
        running(3)(pods) && !names(pods).contains(&victim)
    });
    // One whose supervisor dies (the pod reads Unknown): replaced too.
    let lost = names(&after)[0].clone();
    let record = std::fs::read_to_string(
        root.path()
            .join(format!("run/pods/default_{lost}/supervisor.json")),
    )
    .unwrap();
    let pid: Value = serde_json::from_str(&record).unwrap();
    let pid = i32::try_from(pid["pid"].as_i64().unwrap()).unwrap();
    assert!(
        std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    wait_pods(&root, ("app", "web"), "the lost pod replaced", |pods| {
        running(3)(pods) && !names(pods).contains(&lost)
    });
    // Re-applied with 5: scaled, the 3 kept.
    let file = guard.file.to_str().unwrap().to_owned();
    std::fs::write(&guard.file, deployment(5)).unwrap();
    assert_eq!(
        root.ok(&["apply", "-f", &file]),
        "deployment.apps/web configured\n"
    );
    wait_pods(&root, ("app", "web"), "scaled to 5", running(5));
    assert_eq!(
        root.ok(&["apply", "-f", &file]),
        "deployment.apps/web unchanged\n"
    );
    let table = root.ok(&["get", "deployments"]);
    let mut lines = table.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    );
    let row: Vec<_> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(row[..4], ["web", "5/5", "5", "5"], "{table}");
    // delete -f: the workload, its keeper and its pods.
    assert_eq!(keepers(&root), 1);
    assert_eq!(
        root.ok(&["delete", "-f", &file, "--grace-period", "0"]),
        "deployment.apps \"web\" deleted\n"
    );
    assert_eq!(pods(&root, "app", "web"), Vec::<Value>::new());
    assert_eq!(keepers(&root), 0);
    assert!(root.run(&["get", "deployment", "web"]).status.code() == Some(1));
    assert_eq!(root.pod_leftovers(), Vec::<PathBuf>::new());
}

/// Job `name` whose pods run `command` with the host folder `shared` at
/// `/shared`.
fn job(name: &str, spec: &str, command: &str, shared: &std::path::Path) -> String {
    let shared = shared.display();
    format!(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {{ name: {name} }}
spec:
{spec}
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: work
          image: busybox:1.31.1
          command: ["sh", "-c", "{command}"]
          volumeMounts: [{{ name: shared, mountPath: /shared }}]
      volumes:
        - name: shared
          hostPath: {{ path: {shared}, type: DirectoryOrCreate }}
"#
    )
}

#[test]
fn a_job_of_3_completions_2_at_a_time_completes() {
    let Some((_lock, root)) = start(
        "a_job_of_3_completions_2_at_a_time_completes",
        "job-complete",
        shared,
    ) else {
        return;
    };
    // Each pod writes when it starts and ends into a host folder.
    let shared = root.path().join("shared");
    let (_guard, out) = apply(
        &root,
        "count",
        &job(
            "count",
            "  completions: 3\n  parallelism: 2",
            "echo start >> /shared/log; sleep 1; echo end >> /shared/log; echo done",
            &shared,
        ),
    );
    assert_eq!(out, "job.batch/count created\n");
    let v = wait_object(&root, "job/count", "the job completes", |v| {
        v["status"]["conditions"][0]["type"] == "Complete"
    });
    assert_eq!(v["status"]["succeeded"], 3);
    assert_eq!(v["status"]["failed"], 0);
    let done = pods(&root, "job-name", "count");
    assert_eq!(done.len(), 3, "{:?}", names(&done));
    for pod in &done {
        assert_eq!(phase(pod), "Succeeded");
        assert_eq!(
            pod["metadata"]["labels"]["batch.kubernetes.io/job-name"],
            "count"
        );
        assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "Job");
        let name = pod["metadata"]["name"].as_str().unwrap();
        assert_eq!(root.ok(&["logs", name]), "done\n");
    }
    // Two ran at once, never three.
    let log = std::fs::read_to_string(shared.join("log")).unwrap();
    let mut at_once = 0;
    let mut most = 0;
    for line in log.lines() {
        at_once += if line == "start" { 1 } else { -1 };
        most = most.max(at_once);
    }
    assert_eq!(most, 2, "{log}");
    let table = root.ok(&["get", "jobs"]);
    let row: Vec<_> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row[..3], ["count", "Complete", "3/3"], "{table}");
}

#[test]
fn a_job_with_backoff_limit_2_fails_after_3_tries() {
    let Some((_lock, root)) = start(
        "a_job_with_backoff_limit_2_fails_after_3_tries",
        "job-fail",
        shared,
    ) else {
        return;
    };
    let shared = root.path().join("shared");
    let (_guard, _) = apply(
        &root,
        "fail",
        &job("fail", "  backoffLimit: 2", "exit 3", &shared),
    );
    let v = wait_object(&root, "job/fail", "the job fails", |v| {
        v["status"]["conditions"][0]["type"] == "Failed"
    });
    assert_eq!(
        v["status"]["conditions"][0]["reason"],
        "BackoffLimitExceeded"
    );
    assert_eq!(v["status"]["failed"], 3);
    let tries = pods(&root, "job-name", "fail");
    assert_eq!(tries.len(), 3, "{:?}", names(&tries));
    assert!(tries.iter().all(|p| phase(p) == "Failed"));
    // The ended Job makes no more pods: its keeper ends.
    let deadline = Instant::now() + common::WAIT;
    while keepers(&root) != 0 {
        assert!(Instant::now() < deadline, "the job's keeper is still there");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(pods(&root, "job-name", "fail").len(), 3);
}

#[test]
fn a_daemonset_is_one_pod_on_this_host() {
    let Some((_lock, root)) = start("a_daemonset_is_one_pod_on_this_host", "ds", shared) else {
        return;
    };
    let (_guard, out) = apply(
        &root,
        "agent",
        r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent }
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec:
      terminationGracePeriodSeconds: 0
      containers:
        - name: agent
          image: busybox:1.31.1
          command: ["sleep", "1000"]
"#,
    );
    assert_eq!(out, "daemonset.apps/agent created\n");
    let found = wait_pods(&root, ("app", "agent"), "one agent", running(1));
    let name = found[0]["metadata"]["name"].as_str().unwrap();
    assert_eq!(name.strip_prefix("agent-").unwrap().len(), 5, "{name}");
    assert_eq!(
        found[0]["metadata"]["ownerReferences"][0]["kind"],
        "DaemonSet"
    );
    assert!(
        found[0]["metadata"]["labels"]["controller-revision-hash"]
            .as_str()
            .unwrap()
            .starts_with("agent-")
    );
    let table = root.ok(&["get", "daemonsets"]);
    let row: Vec<_> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row[..4], ["agent", "1", "1", "1"], "{table}");
}

#[test]
fn a_statefulset_names_its_pods_by_ordinal_and_makes_a_deleted_one_again() {
    let Some((_lock, root)) = start(
        "a_statefulset_names_its_pods_by_ordinal_and_makes_a_deleted_one_again",
        "sts",
        shared,
    ) else {
        return;
    };
    let (_guard, _) = apply(
        &root,
        "db",
        r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  replicas: 2
  serviceName: db
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      terminationGracePeriodSeconds: 0
      containers:
        - name: db
          image: busybox:1.31.1
          command: ["sh", "-c", "hostname; exec sleep 1000"]
"#,
    );
    let found = wait_pods(&root, ("app", "db"), "db-0 and db-1", running(2));
    assert_eq!(names(&found), ["db-0", "db-1"]);
    // Running once its process runs: its line reaches the log after.
    let deadline = Instant::now() + common::WAIT;
    while root.ok(&["logs", "db-1"]) != "db-1\n" {
        assert!(Instant::now() < deadline, "{}", root.ok(&["logs", "db-1"]));
        std::thread::sleep(Duration::from_millis(50));
    }
    let uid = |pods: &[Value]| pods[0]["metadata"]["uid"].clone();
    let before = uid(&found);
    root.ok(&["delete", "pod", "db-0", "--grace-period", "0"]);
    wait_pods(&root, ("app", "db"), "db-0 made again", |pods| {
        running(2)(pods) && names(pods) == ["db-0", "db-1"] && uid(pods) != before
    });
}

#[test]
fn scale_changes_the_replicas_a_deployment_keeps() {
    let Some((_g, root)) = start("scale", "wl-scale", shared) else {
        return;
    };
    let (_guard, out) = apply(&root, "web", &deployment(1));
    assert_eq!(out, "deployment.apps/web created\n");
    wait_pods(&root, ("app", "web"), "1 pod running", running(1));
    assert_eq!(
        root.ok(&["scale", "deployment/web", "--replicas=3"]),
        "deployment.apps/web scaled\n"
    );
    wait_pods(&root, ("app", "web"), "scaled to 3", running(3));
    // kubectl's precondition, then the short name and TYPE NAME form.
    assert_eq!(
        root.outcome(&[
            "scale",
            "deploy",
            "web",
            "--current-replicas=2",
            "--replicas=1"
        ]),
        (
            1,
            String::new(),
            "error: Expected replicas to be 2, was 3\n".to_owned()
        )
    );
    assert_eq!(
        root.ok(&[
            "scale",
            "deploy",
            "web",
            "--current-replicas=3",
            "--replicas=2"
        ]),
        "deployment.apps/web scaled\n"
    );
    wait_pods(&root, ("app", "web"), "scaled to 2", running(2));
    let (code, _, err) = root.outcome(&["scale", "deployment/nosuch", "--replicas=2"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("Error from server (NotFound): deployment.apps \"nosuch\" not found"),
        "{err}"
    );
}

#[test]
fn rollout_restart_replaces_every_pod_and_status_waits_for_the_new_ones() {
    let Some((_g, root)) = start("rollout", "wl-rollout", shared) else {
        return;
    };
    let (_guard, _) = apply(&root, "web", &deployment(2));
    let before = names(&wait_pods(&root, ("app", "web"), "2 running", running(2)));
    assert_eq!(
        root.ok(&["rollout", "restart", "deployment/web"]),
        "deployment.apps/web restarted\n"
    );
    let out = root.ok(&["rollout", "status", "deploy/web", "--timeout=60s"]);
    assert!(
        out.ends_with("deployment \"web\" successfully rolled out\n"),
        "{out}"
    );
    // What status saw: two new pods, ready, none of the old left.
    let after = pods(&root, "app", "web");
    assert!(running(2)(&after), "{:?}", names(&after));
    assert!(
        names(&after).iter().all(|n| !before.contains(n)),
        "{before:?} {:?}",
        names(&after)
    );
    let template: Value =
        serde_json::from_str(&root.ok(&["get", "deployment", "web", "-o", "json"])).unwrap();
    assert!(
        template["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_string(),
        "{template:#}"
    );
    let (code, _, err) = root.outcome(&["rollout", "restart", "job/x"]);
    assert_eq!(code, 1);
    assert!(err.contains("no rollout for"), "{err}");
}

#[test]
fn logs_and_exec_of_a_deployment_pick_one_of_its_pods_as_kubectl() {
    let Some((_g, root)) = start("workload_pod", "wl-pick", shared) else {
        return;
    };
    let (_guard, _) = apply(&root, "web", &deployment(2));
    let pods = names(&wait_pods(&root, ("app", "web"), "2 running", running(2)));
    let (code, out, err) = root.outcome(&["exec", "deploy/web", "--", "hostname"]);
    assert_eq!(code, 0, "{err}");
    let picked = out.trim();
    assert!(pods.iter().any(|p| p == picked), "{picked} of {pods:?}");
    assert_eq!(err, format!("Found 2 pods, using pod/{picked}\n"));
    let (code, _, err) = root.outcome(&["logs", "deployment/web"]);
    assert_eq!(
        (code, err.as_str()),
        (0, format!("Found 2 pods, using pod/{picked}\n").as_str())
    );
    let (code, _, err) = root.outcome(&["logs", "deployment/nosuch"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("deployment.apps \"nosuch\" not found"),
        "{err}"
    );
}
