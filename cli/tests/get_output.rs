//! `get` as a kubectl user reads it: `-o jsonpath|custom-columns`,
//! `-l`/`--field-selector`, `--show-labels`, `--sort-by`, `get events`,
//! `get all`, and the lines of `-w`. Golden outputs where the output does
//! not depend on the clock. Root only; each test has its own `--root` and
//! deletes its pods in a drop guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use common::{Pod, Root, shared, start};

/// A sleeping pod with `labels` (YAML flow map); `grace`: its termination
/// grace period (its `sleep` ignores SIGTERM, so a delete takes it all).
fn sleeper(name: &str, labels: &str, grace: u32) -> String {
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {labels}
spec:
  terminationGracePeriodSeconds: {grace}
  containers:
  - name: c
    image: busybox:1.31.1
    command: ["sleep", "1000"]
"#
    )
}

/// Two running pods: `db` (app=db, order=2) and `web` (app=web,
/// tier=front, order=1).
fn two_pods(root: &Root) -> (Pod<'_>, Pod<'_>) {
    let db = root.apply("db", &sleeper("db", r#"{app: db, order: "2"}"#, 0));
    let web = root.apply(
        "web",
        &sleeper("web", r#"{app: web, tier: front, order: "1"}"#, 0),
    );
    (db, web)
}

#[test]
fn jsonpath_and_custom_columns_print_what_kubectl_prints() {
    let Some((_g, root)) = start("get_jsonpath", "get-jsonpath", shared) else {
        return;
    };
    let (_db, web) = two_pods(&root);
    let ip = web.json()["status"]["podIP"].as_str().unwrap().to_owned();
    assert!(!ip.is_empty());
    let golden: &[(&[&str], &str)] = &[
        (
            &["get", "pods", "-o", "jsonpath={.items[*].metadata.name}"],
            "db web",
        ),
        (&["get", "po", "web", "-o", "jsonpath={.status.podIP}"], &ip),
        (
            &[
                "get",
                "pods",
                "-o",
                r#"jsonpath={range .items[*]}{.metadata.name}{"\t"}{.status.phase}{"\n"}{end}"#,
            ],
            "db\tRunning\nweb\tRunning\n",
        ),
        (
            &[
                "get",
                "pods",
                "-o",
                r#"jsonpath={.items[?(@.metadata.name=="web")].metadata.labels.tier}"#,
            ],
            "front",
        ),
        (
            &[
                "get",
                "pods",
                "-o",
                "jsonpath={.items[-1:].spec.containers[0].name}",
            ],
            "c",
        ),
        (
            &[
                "get",
                "pods",
                "-o",
                "custom-columns=NAME:.metadata.name,APP:{.metadata.labels.app},NOPE:status.nope",
            ],
            "NAME   APP   NOPE\ndb     db    <none>\nweb    web   <none>\n",
        ),
        (
            &[
                "get",
                "pods",
                "--sort-by=.metadata.labels.order",
                "-o",
                "custom-columns=NAME:.metadata.name,ORDER:.metadata.labels.order",
            ],
            "NAME   ORDER\nweb    1\ndb     2\n",
        ),
    ];
    for (args, want) in golden {
        let (code, out, err) = root.outcome(args);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (0, *want, ""),
            "{args:?}"
        );
    }
    // The templates of files.
    let template = root.path().join("template.jsonpath");
    std::fs::write(&template, "{.metadata.labels.app}").unwrap();
    let columns = root.path().join("columns.txt");
    std::fs::write(
        &columns,
        "NAME   TIER\n.metadata.name   .metadata.labels.tier\n",
    )
    .unwrap();
    let jsonpath_file = format!("jsonpath-file={}", template.display());
    let columns_file = format!("custom-columns-file={}", columns.display());
    assert_eq!(root.ok(&["get", "po", "web", "-o", &jsonpath_file]), "web");
    assert_eq!(
        root.ok(&["get", "po", "-o", &columns_file]),
        "NAME   TIER\ndb     <none>\nweb    front\n"
    );
    // kubectl's errors for bad templates.
    let bad: &[(&[&str], &str)] = &[
        (
            &["get", "pods", "-o", "jsonpath={.items[0"],
            "error: error parsing jsonpath {.items[0, unclosed action\n",
        ),
        (
            &["get", "pods", "-o", "custom-columns=NAME"],
            "error: unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>\n",
        ),
        (
            &["get", "pods", "-o", "jsonpath={.items[5].metadata.name}"],
            "error: error executing jsonpath: Error executing template: array index out of bounds: index 5, length 2\n",
        ),
    ];
    for (args, want) in bad {
        let (code, out, err) = root.outcome(args);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (1, "", *want),
            "{args:?}"
        );
    }
}

#[test]
fn selectors_labels_and_kinds_pick_the_pods_kubectl_would() {
    let Some((_g, root)) = start("get_selectors", "get-selectors", shared) else {
        return;
    };
    let (_db, _web) = two_pods(&root);
    let names: &[(&[&str], &str)] = &[
        (&["-l", "app=web"], "pod/web\n"),
        (&["--selector", "app==db"], "pod/db\n"),
        (&["-l", "app!=web"], "pod/db\n"),
        (&["-l", "app in (web, db),tier"], "pod/web\n"),
        (&["-l", "app notin (web)"], "pod/db\n"),
        (&["-l", "!tier"], "pod/db\n"),
        (&["-l", "app"], "pod/db\npod/web\n"),
        (&["--field-selector", "metadata.name=db"], "pod/db\n"),
        (
            &[
                "--field-selector",
                "status.phase=Running,metadata.namespace=default",
            ],
            "pod/db\npod/web\n",
        ),
        (
            &["-l", "app=web", "--field-selector", "metadata.name!=web"],
            "",
        ),
    ];
    for (flags, want) in names {
        let mut args = vec!["get", "pods", "-o", "name"];
        args.extend(*flags);
        let (code, out, _) = root.outcome(&args);
        assert_eq!((code, out.as_str()), (0, *want), "{args:?}");
    }
    // Nothing selected: kubectl's note on stderr.
    let (code, out, err) =
        root.outcome(&["get", "pods", "--field-selector", "status.phase!=Running"]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, "", "No resources found in default namespace.\n")
    );
    // The API server's answers to bad selectors.
    let bad: &[(&[&str], &str)] = &[
        (
            &["-l", "app in web"],
            "Error from server (BadRequest): Unable to find \"/v1, Resource=pods\" that match label selector \"app in web\", field selector \"\": unable to parse requirement: found 'web', expected: '('\n",
        ),
        (
            &["--field-selector", "status.phas=Running"],
            "Error from server (BadRequest): Unable to find \"/v1, Resource=pods\" that match label selector \"\", field selector \"status.phas=Running\": field label not supported: status.phas\n",
        ),
    ];
    for (flags, want) in bad {
        let mut args = vec!["get", "pods"];
        args.extend(*flags);
        let (code, _, err) = root.outcome(&args);
        assert_eq!((code, err.as_str()), (1, *want), "{args:?}");
    }
    let (code, _, err) = root.outcome(&["get", "pod", "web", "-l", "app=web"]);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "error: name cannot be provided when a selector is specified\n"
        )
    );
    // --show-labels: the last column, sorted by key.
    let table = root.ok(&["get", "pods", "--show-labels"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].ends_with("   AGE   LABELS"), "{table}");
    assert!(
        lines[1].starts_with("db ") && lines[1].ends_with("   app=db,order=2"),
        "{table}"
    );
    assert!(
        lines[2].ends_with("   app=web,order=1,tier=front"),
        "{table}"
    );
    // get all: the pods.
    assert_eq!(root.ok(&["get", "all", "-o", "name"]), "pod/db\npod/web\n");
    // Several kinds in one table: names as kubectl writes them, KIND/NAME.
    for args in [&["get", "all"][..], &["get", "po,deploy"]] {
        let table = root.ok(args);
        let names: Vec<&str> = table
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().next().unwrap())
            .collect();
        assert_eq!(names, ["pod/db", "pod/web"], "{args:?}: {table}");
    }
    // -L: a column per label (empty where the pod has none), before
    // LABELS; --no-headers: the rows alone.
    let table = root.ok(&["get", "pods", "-L", "tier,app", "--no-headers"]);
    let rows = common::cells(&table);
    assert_eq!(rows.len(), 2, "{table}");
    assert_eq!((rows[0][0], rows[0].last()), ("db", Some(&"db")), "{table}");
    assert_eq!(rows[1][0], "web", "{table}");
    assert_eq!(rows[1][rows[1].len() - 2..], ["front", "web"], "{table}");
    let table = root.ok(&["get", "pods", "-L", "tier", "--show-labels"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header[header.len() - 3..],
        ["AGE", "TIER", "LABELS"],
        "{table}"
    );
    // describe -l: the matching pods only.
    let described = root.ok(&["describe", "pods", "-l", "tier=front"]);
    assert!(
        described.starts_with("Name:             web\n"),
        "{described}"
    );
    assert!(!described.contains("Name:             db\n"), "{described}");
    // Several kinds at once: each in turn; a kind peapod has not is the
    // error, before anything is printed.
    assert_eq!(
        root.ok(&["get", "po,deploy", "-o", "name"]),
        "pod/db\npod/web\n"
    );
    assert_eq!(
        root.outcome(&["get", "po,svc"]),
        (
            1,
            String::new(),
            "error: the server doesn't have a resource type \"svc\"\n".to_owned()
        )
    );
}

#[test]
fn get_events_lists_the_kubelets_events_with_kubectls_columns() {
    let Some((_g, root)) = start("get_events", "get-events", shared) else {
        return;
    };
    let (_db, _web) = two_pods(&root);
    let table = root.ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=web",
    ]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("LAST SEEN   TYPE     REASON    OBJECT    MESSAGE"),
        "{table}"
    );
    assert!(
        lines[1..].iter().all(|l| l.contains("   pod/web   ")),
        "{table}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("   Normal   Started   pod/web   Started container c")),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&root.ok(&["get", "ev", "-A", "-o", "json"])).unwrap();
    let items = json["items"].as_array().unwrap();
    for name in ["db", "web"] {
        assert!(
            items.iter().any(|e| e["involvedObject"]["name"] == name
                && e["reason"] == "Started"
                && e["involvedObject"]["kind"] == "Pod"),
            "{json:#}"
        );
    }
}

/// The lines a `peapod` child prints, read on a thread.
fn lines_of(child: &mut Child) -> Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    rx
}

/// The next line, failing the test on a hang (the guard against a
/// watch that never prints, not a measure of speed).
fn next_line(rx: &Receiver<String>, what: &str) -> String {
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(line) => line,
        Err(RecvTimeoutError::Timeout) => panic!("no line for {what}"),
        Err(RecvTimeoutError::Disconnected) => panic!("the watch ended before {what}"),
    }
}

/// Waits until process `pid` sleeps in `poll(2)` (`ppoll` or `poll` in
/// `/proc/PID/syscall`): a watch that listed the pods and now waits for
/// their next change.
fn waits_in_poll(pid: u32) {
    let deadline = std::time::Instant::now() + common::WAIT;
    loop {
        let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
        if matches!(syscall.split_whitespace().next(), Some("7" | "271")) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{pid} never waits: {syscall}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Kills a watch child when the test ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn watch_prints_a_row_per_change_and_the_rows_of_a_deleted_pod() {
    let Some((_g, root)) = start("get_watch", "get-watch", shared) else {
        return;
    };
    let _w1 = root.apply("w1", &sleeper("w1", "{app: w}", 2));
    let mut watch = Killed(
        root.command(&["get", "pods", "-w"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let rx = lines_of(&mut watch.0);
    let header = next_line(&rx, "the header");
    assert!(
        header.starts_with("NAME   READY   STATUS    RESTARTS   AGE"),
        "{header}"
    );
    let first = next_line(&rx, "the list");
    assert!(first.starts_with("w1     1/1     Running   0 "), "{first}");
    // Only a watch with `--watch-only -o name`: no list, a name per change.
    let mut names = Killed(
        root.command(&["get", "pods", "--watch-only", "-o", "name"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let names_rx = lines_of(&mut names.0);
    // It lists the pods it then only watches: w2 must come after that
    // list, or it is one of them (and, running by then, never printed).
    waits_in_poll(names.0.id());
    // A new pod: rows as it starts, the last one Running.
    let _w2 = root.apply("w2", &sleeper("w2", "{app: w}", 0));
    loop {
        let line = next_line(&rx, "w2's rows");
        assert!(line.starts_with("w2 "), "only w2 changed: {line}");
        if line.contains(" Running ") {
            break;
        }
    }
    assert_eq!(next_line(&names_rx, "w2's name"), "pod/w2");
    // A deletion: Terminating through the grace period, then its last
    // row once more when it is gone.
    let mut delete = root
        .command(&["delete", "pod", "w1"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    loop {
        let line = next_line(&rx, "w1 terminating");
        assert!(line.starts_with("w1 "), "only w1 changed: {line}");
        if line.contains(" Terminating ") {
            break;
        }
    }
    assert!(delete.wait().unwrap().success());
    let last = next_line(&rx, "w1's last row");
    assert!(last.starts_with("w1 "), "{last}");
    // Nothing after the list but the changes: the watch-only printed no
    // row for w1 before its deletion.
    loop {
        let name = next_line(&names_rx, "w1's deletion");
        if name == "pod/w1" {
            break;
        }
        assert_eq!(name, "pod/w2", "only changes are printed");
    }
}

#[test]
fn yaml_is_kubectls_document_with_its_keys_sorted() {
    let Some((_g, root)) = start("get_yaml_golden", "get-yaml", shared) else {
        return;
    };
    let pod = root.apply("golden", &sleeper("golden", "{app: golden}", 0));
    pod.wait_for("running", |v| v["status"]["phase"] == "Running");
    let yaml = root.ok(&["get", "pod", "golden", "-o", "yaml"]);
    let uid = pod.json()["metadata"]["uid"].as_str().unwrap().to_owned();
    // What depends on the clock and the uid, masked; the rest as written.
    let masked: String = yaml
        .lines()
        .map(|l| match l.split_once(": ") {
            Some((k, _)) if k.ends_with("creationTimestamp") || k.ends_with("Time") => {
                format!("{k}: T\n")
            }
            Some((k, _)) if k.trim_end().ends_with("startedAt") => format!("{k}: T\n"),
            Some((k, _)) if k.ends_with("imageID") => format!("{k}: X\n"),
            Some((k, v))
                if k.ends_with("podIP") || k.ends_with("- ip") || k.ends_with("hostIP") =>
            {
                assert!(!v.is_empty());
                format!("{k}: IP\n")
            }
            _ => format!("{}\n", l.replace(&uid, "UID")),
        })
        .collect();
    let (head, rest) = masked.split_once("  creationTimestamp: T\n").unwrap();
    assert!(
        head.starts_with("apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: "),
        "{yaml}"
    );
    assert_eq!(
        rest,
        r#"  labels:
    app: golden
  name: golden
  namespace: default
  uid: UID
spec:
  containers:
  - command:
    - sleep
    - "1000"
    image: busybox:1.31.1
    imagePullPolicy: IfNotPresent
    name: c
    terminationMessagePath: /dev/termination-log
    terminationMessagePolicy: File
  dnsPolicy: ClusterFirst
  restartPolicy: Always
  terminationGracePeriodSeconds: 0
status:
  conditions:
  - lastTransitionTime: T
    status: "True"
    type: PodReadyToStartContainers
  - lastTransitionTime: T
    status: "True"
    type: Initialized
  - lastTransitionTime: T
    status: "True"
    type: Ready
  - lastTransitionTime: T
    status: "True"
    type: ContainersReady
  - lastTransitionTime: T
    status: "True"
    type: PodScheduled
  containerStatuses:
  - containerID: peapod://UID/c
    image: busybox:1.31.1
    imageID: X
    name: c
    ready: true
    restartCount: 0
    started: true
    state:
      running:
        startedAt: T
  hostIP: IP
  phase: Running
  podIP: IP
  podIPs:
  - ip: IP
  qosClass: BestEffort
  startTime: T
"#,
        "{yaml}"
    );
}
