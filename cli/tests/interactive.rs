//! Terminals and data in and out of a pod: `exec -it` on a real pty,
//! `exec -i` with piped stdin, `top`. Root only; each test has its own
//! `--root` and deletes its pods in a drop guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{shared, start};

/// A pod with a container spinning on a CPU and one holding 20 MiB (a
/// tmpfs file is memory charged to its writer, never inactive cache).
const USAGE: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: usage
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: burn
    image: busybox:1.31.1
    command: ["sh", "-c", "while :; do :; done"]
  - name: mem
    image: busybox:1.31.1
    command: ["sh", "-c", "dd if=/dev/zero of=/dev/shm/fill bs=1M count=20 2>/dev/null && touch /tmp/ready; exec sleep 1000"]
"#;

/// `top`'s table: rows of cells, the header first.
fn cells(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// `123m` → 123, `20Mi` → 20.
fn number(cell: &str, unit: &str) -> u64 {
    cell.strip_suffix(unit)
        .unwrap_or_else(|| panic!("{cell:?} lacks {unit}"))
        .parse()
        .unwrap()
}

#[test]
fn top_was_an_unrecognized_subcommand() {
    let Some((_g, root)) = start("top_pod", "top", shared) else {
        return;
    };
    let pod = root.apply("usage", USAGE);
    pod.sh(
        "mem",
        "i=0; until [ -f /tmp/ready ] || [ $i -ge 400 ]; do i=$((i+1)); sleep 0.05; done; [ -f /tmp/ready ]",
    );
    let rows = cells(&root.ok(&["top", "pod", "usage", "--containers"]));
    assert_eq!(rows[0], ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]);
    let row = |name: &str| {
        rows.iter()
            .find(|r| r.get(1).map(String::as_str) == Some(name))
            .unwrap_or_else(|| panic!("no {name} in {rows:?}"))
            .clone()
    };
    let (burn, mem) = (row("burn"), row("mem"));
    assert_eq!(burn[0], "usage");
    assert!(number(&burn[2], "m") > 0, "a spinning container: {rows:?}");
    assert!(number(&mem[3], "Mi") >= 20, "20 MiB held: {rows:?}");
    // Per pod: the containers summed.
    let rows = cells(&root.ok(&["top", "pods"]));
    assert_eq!(rows[0], ["NAME", "CPU(cores)", "MEMORY(bytes)"]);
    assert_eq!(rows[1][0], "usage", "{rows:?}");
    assert!(number(&rows[1][1], "m") > 0, "{rows:?}");
    assert!(number(&rows[1][2], "Mi") >= 20, "{rows:?}");
    drop(pod);
}

#[test]
fn top_of_a_missing_pod_or_another_kind_is_an_error() {
    let Some((_g, root)) = start("top_errors", "top-errors", shared) else {
        return;
    };
    let out = root.run(&["top", "pod", "nosuch"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("\"nosuch\" not found"),
        "{out:?}"
    );
    let out = root.run(&["top", "node"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let out = root.run(&["top", "pod"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "No resources found in default namespace.\n"
    );
}
