//! Pods from a cluster run here (issue 18 item 2): a `kubectl get pod -o
//! yaml` dump applies as it is, its service account volume gets
//! placeholder files, and pod-level `spec.resources` bound the pod's
//! cgroup. Root only; each test has its own `--root` and deletes its pods
//! in a drop guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{cgroups_of, shared, start};

const DUMP: &str = include_str!("fixtures/cluster-dump-pod.yaml");
const DUMP_NAME: &str = "dump-web-7c5ddbdf54-x2x7q";
const SERVICE_ACCOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

#[test]
fn a_kubectl_get_pod_dump_applies_and_runs() {
    let Some((_lock, root)) = start("a_kubectl_get_pod_dump_applies_and_runs", "dump", shared)
    else {
        return;
    };
    let pod = root.apply(DUMP_NAME, DUMP);
    let v = pod.wait_for("the dumped pod runs", |v| {
        v["status"]["phase"] == "Running"
            && v["status"]["containerStatuses"][0]["state"]["running"].is_object()
    });
    // The cluster's uid and ownerReferences are not kept: peapod gives its own.
    assert_ne!(v["metadata"]["uid"], "5d1c4a8e-6f2b-4f43-8c0e-7f5a9d3e2b11");
    assert!(v["metadata"]["ownerReferences"].is_null(), "{v:#}");
    let token = pod.sh("web", &format!("cat {SERVICE_ACCOUNT}/token"));
    assert_eq!(token, peapod_spec::SERVICE_ACCOUNT_TOKEN_PLACEHOLDER);
    assert_eq!(
        pod.sh("web", &format!("cat {SERVICE_ACCOUNT}/namespace")),
        "default"
    );
    let ca = pod.sh("web", &format!("cat {SERVICE_ACCOUNT}/ca.crt"));
    assert!(ca.contains("no cluster certificate authority"), "{ca}");
    // Written by the supervisor a moment after the container printed it.
    let deadline = std::time::Instant::now() + common::WAIT;
    loop {
        let logs = root.ok(&["logs", DUMP_NAME]);
        if !logs.is_empty() {
            assert_eq!(logs, "sa=default ns=default\n");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no log");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn service_account_name_reads_default_when_the_manifest_leaves_it_out() {
    let Some((_lock, root)) = start(
        "service_account_name_reads_default_when_the_manifest_leaves_it_out",
        "sa-default",
        shared,
    ) else {
        return;
    };
    let without: String = DUMP
        .lines()
        .filter(|l| {
            !matches!(
                l.trim(),
                "serviceAccount: default" | "serviceAccountName: default"
            )
        })
        .flat_map(|l| [l, "\n"])
        .collect();
    let pod = root.apply(DUMP_NAME, &without);
    pod.wait_for("running", |v| v["status"]["phase"] == "Running");
    let env = pod.sh("web", "echo $SA");
    assert_eq!(env, "default\n");
}

#[test]
fn pod_level_resources_limit_the_pod_cgroup() {
    let Some((_lock, root)) = start(
        "pod_level_resources_limit_the_pod_cgroup",
        "pod-resources",
        shared,
    ) else {
        return;
    };
    let pod = root.apply(
        "bounded",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: bounded }
spec:
  resources:
    limits: { cpu: 500m, memory: 48Mi }
  restartPolicy: Never
  containers:
    - name: hog
      image: busybox:1.31.1
      command: ["sh", "-c", "sleep 1000"]
"#,
    );
    let v = pod.wait_for("running", |v| v["status"]["phase"] == "Running");
    let uid = v["metadata"]["uid"].as_str().unwrap();
    let cgroups = cgroups_of(uid);
    let read = |file: &str| {
        cgroups
            .iter()
            .map(|cg| cg.join(file))
            .find(|f| f.exists())
            .map(|f| std::fs::read_to_string(f).unwrap().trim().to_owned())
    };
    let memory = read("memory.max").or_else(|| read("memory.limit_in_bytes"));
    assert_eq!(memory.as_deref(), Some("50331648"), "{cgroups:?}");
    let cpu = read("cpu.max")
        .or_else(|| Some(format!("{} 100000", read("cpu.cfs_quota_us")?)))
        .unwrap();
    assert_eq!(cpu, "50000 100000");
    // The container has no limit of its own: the pod's bounds it.
    let (code, _) = pod.exec(
        "hog",
        &["sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1"],
    );
    assert_eq!(code, 137, "64 MiB in a 48 MiB pod is OOM-killed");
}
