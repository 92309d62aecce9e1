//! The verbs and flags of kubectl added last: `version`, `delete
//! --all`, `-l`, `--now`, `--wait=false`, and `port-forward` ending with
//! its pod (`completion` is `completion.rs`'s). Root only but for
//! `version`; each root test has its own `--root` and deletes its pods
//! in a drop guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{Root, peapod, shared, start};

#[test]
fn version_was_only_a_flag() {
    let v = env!("CARGO_PKG_VERSION");
    assert_eq!(
        peapod(&["version"]),
        (
            0,
            format!("Client Version: v{v}\nRuntime Version: peapod v{v} (CRI runtime.v1)\n"),
            String::new()
        )
    );
    assert_eq!(
        peapod(&["version", "--client"]).1,
        format!("Client Version: v{v}\n")
    );
    let (code, json, _) = peapod(&["version", "-o", "json"]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["clientVersion"]["gitVersion"], format!("v{v}"));
    assert_eq!(doc["clientVersion"]["platform"], "linux/amd64");
    assert_eq!(doc["runtimeVersion"]["runtimeName"], "peapod");
    assert_eq!(doc["runtimeVersion"]["runtimeApiVersion"], "v1");
    let (code, yaml, _) = peapod(&["version", "--client", "-o", "yaml"]);
    assert_eq!(code, 0);
    assert!(
        yaml.starts_with("clientVersion:\n") && !yaml.contains("runtimeVersion"),
        "{yaml}"
    );
    assert_eq!(
        peapod(&["version", "-o", "wide"]),
        (
            1,
            String::new(),
            "error: --output must be 'yaml' or 'json', not \"wide\"\n".to_owned()
        )
    );
}

/// A pod of namespace `ns` labelled `app: APP` whose container, told to
/// stop, waits for the file `shared/go` before it exits (and marks
/// `shared/NAME.up` once its trap is set).
fn held(name: &str, ns: &str, app: &str, shared: &std::path::Path) -> String {
    let script = format!(
        "trap 'until [ -f /s/go ]; do sleep 0.05; done; exit 0' TERM; touch /s/{name}.up; sleep 1000 & wait"
    );
    let metadata = format!("  namespace: {ns}\n  labels: {{app: {app}}}\n");
    common::pod_with_shared(name, &metadata, 3600, &script, shared)
}

/// Every pod of the root deleted at once (grace 0) when dropped.
struct AllPods<'a>(&'a Root);

impl Drop for AllPods<'_> {
    fn drop(&mut self) {
        let _ = self
            .0
            .run(&["delete", "pods", "--all", "-A", "--grace-period", "0"]);
    }
}

/// Applies the pods and waits until each one's trap is set.
fn apply_held(root: &Root, dir: &std::path::Path, pods: &[(&str, &str, &str)]) {
    for (name, ns, app) in pods {
        let file = root.path().join(format!("{name}.yaml"));
        std::fs::write(&file, held(name, ns, app, dir)).unwrap();
        root.ok(&["apply", "-f", file.to_str().unwrap()]);
    }
    for (name, ns, _) in pods {
        let out = root.ok(&[
            "exec", "-n", ns, name, "--", "sh", "-c",
            &format!("i=0; until [ -f /s/{name}.up ] || [ $i -ge 400 ]; do i=$((i+1)); sleep 0.05; done; [ -f /s/{name}.up ] && echo up"),
        ]);
        assert_eq!(out, "up\n", "{name}");
    }
}

/// The pods `get -A` lists, as `NAMESPACE/NAME`.
fn listed(root: &Root) -> Vec<String> {
    root.ok(&[
        "get",
        "pods",
        "-A",
        "-o",
        "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{\"\\n\"}{end}",
    ])
    .lines()
    .map(str::to_owned)
    .collect()
}

#[test]
fn delete_had_no_all_selector_nor_wait_false() {
    let Some((_g, root)) = start("delete_selectors", "delete-sel", shared) else {
        return;
    };
    let _all = AllPods(&root);
    let dir = root.shared_dir();
    apply_held(
        &root,
        &dir,
        &[
            ("a", "default", "x"),
            ("b", "default", "x"),
            ("c", "default", "other"),
            ("d", "other", "x"),
        ],
    );
    // Each pod stops only once the test says go: `--wait=false` returns
    // while they still stop, both at once, showing Terminating.
    assert_eq!(
        root.outcome(&["delete", "pods", "-l", "app=x", "--wait=false"]),
        (
            0,
            "pod \"a\" deleted\npod \"b\" deleted\n".to_owned(),
            String::new()
        )
    );
    let table = root.ok(&["get", "pods"]);
    for name in ["a", "b"] {
        assert!(
            table
                .lines()
                .any(|l| l.starts_with(&format!("{name} ")) && l.contains("Terminating")),
            "{table}"
        );
    }
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("c ") && l.contains("Running")),
        "{table}"
    );
    std::fs::write(dir.join("go"), "").unwrap();
    root.ok(&["wait", "--for=delete", "pod/a", "pod/b", "--timeout=5m"]);
    assert_eq!(listed(&root), ["default/c", "other/d"]);
    // `--all`: the namespace's pods, waiting until they are gone.
    assert_eq!(
        root.outcome(&["delete", "pods", "--all"]),
        (0, "pod \"c\" deleted\n".to_owned(), String::new())
    );
    assert_eq!(listed(&root), ["other/d"]);
    assert_eq!(
        root.outcome(&["delete", "pods", "--all"]),
        (0, "No resources found\n".to_owned(), String::new())
    );
    assert_eq!(
        root.outcome(&["delete", "pod", "d", "--all"]),
        (
            1,
            String::new(),
            "error: name cannot be provided when a selector is specified\n".to_owned()
        )
    );
    assert_eq!(
        root.outcome(&["delete", "pods", "-l", "app=x", "-A"]),
        (0, "pod \"d\" deleted\n".to_owned(), String::new())
    );
    assert_eq!(listed(&root), Vec::<String>::new());
}

#[test]
fn delete_now_is_a_grace_period_of_one_second_and_force_of_none() {
    let Some((_g, root)) = start("delete_now", "delete-now", shared) else {
        return;
    };
    let _all = AllPods(&root);
    let dir = root.shared_dir();
    // Its trap never lets it go and its grace period is an hour: only a
    // short grace period (SIGKILL 2 s after SIGTERM at the least) ends it.
    apply_held(&root, &dir, &[("quick", "default", "x")]);
    let mut delete = root
        .command(&["delete", "pod", "quick", "--now"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(delete.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "pod \"quick\" deleted\n");
    assert!(delete.wait().unwrap().success());
    assert_eq!(listed(&root), Vec::<String>::new());
    assert!(!dir.join("go").exists());
    assert_eq!(
        root.outcome(&["delete", "pod", "quick", "--now", "--grace-period=5"])
            .0,
        2,
        "--now and --grace-period together are refused"
    );
    // --force: SIGKILL at once, whatever the trap and the hour of grace.
    apply_held(&root, &dir, &[("forced", "default", "x")]);
    assert_eq!(
        root.outcome(&["delete", "pod", "forced", "--force", "--grace-period=3"]),
        (
            1,
            String::new(),
            "error: --force and --grace-period greater than 0 cannot be specified together\n"
                .to_owned()
        )
    );
    assert_eq!(
        root.outcome(&["delete", "pod", "forced", "--force"]),
        (
            0,
            "pod \"forced\" force deleted\n".to_owned(),
            "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n".to_owned()
        )
    );
    assert_eq!(listed(&root), Vec::<String>::new());
}

#[test]
fn top_node_measures_this_host_as_kubectl_shows_a_node() {
    let (code, out, err) = peapod(&["top", "node"]);
    assert_eq!(code, 0, "{err}");
    let rows = common::cells(&out);
    assert_eq!(
        rows[0],
        ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    );
    assert_eq!(rows.len(), 2, "{out}");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(rows[1][0], host.trim());
    let number = |cell: &str, unit: &str| -> u64 {
        cell.strip_suffix(unit)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{cell:?} in {unit}: {out}"))
    };
    let cpus = u64::try_from(std::thread::available_parallelism().unwrap().get()).unwrap();
    assert!(number(rows[1][1], "m") <= cpus * 1000, "{out}");
    assert!(number(rows[1][2], "%") <= 100, "{out}");
    // This process's own memory is in use on the host.
    assert!(number(rows[1][3], "Mi") > 0, "{out}");
    assert!(number(rows[1][4], "%") <= 100, "{out}");

    let (code, _, err) = peapod(&["top", "node", "not-this-host"]);
    assert_eq!(code, 1);
    assert!(err.contains("nodes \"not-this-host\" not found"), "{err}");
}
