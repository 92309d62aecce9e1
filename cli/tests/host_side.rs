//! What a pod leaves readable on the host: state folders root's alone,
//! logs as a kubelet leaves them, and no Secret value anywhere but the
//! container's view and the 0600 `config.json`. Root only.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Root, shared, start};

/// The Secret's value: long and odd enough to appear nowhere by chance.
const SECRET: &str = "s3cr3t-Zq7vX-peapod-truth";

fn manifest(name: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox:1.31.1
    command: ["sh", "-c", "test -r /sec/token && test \"$TOKEN\" = \"$(cat /sec/token)\" && touch /ed/ok; echo started; exec sleep 1000"]
    securityContext:
      runAsUser: 65534
      runAsGroup: 65534
    env:
    - name: TOKEN
      valueFrom:
        secretKeyRef: {{name: creds, key: token}}
    volumeMounts:
    - {{name: sec, mountPath: /sec}}
    - {{name: ed, mountPath: /ed}}
  volumes:
  - name: sec
    secret: {{secretName: creds}}
  - name: ed
    emptyDir: {{}}
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
stringData:
  token: {SECRET}
"#
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// The only folder of `dir`.
fn only_child(dir: &Path) -> PathBuf {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries.into_iter().next().unwrap()
}

/// Every file below `dir`, recursively (symlinks not followed).
fn files_below(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            files_below(&entry.path(), out);
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
}

/// Waits until `path` exists (the container makes it as it starts).
fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + common::WAIT;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn apply_traced(root: &Root, name: &str) -> String {
    let file = root.path().join(format!("{name}.yaml"));
    std::fs::write(&file, manifest(name)).unwrap();
    let out = root
        .command(&["apply", "-f", file.to_str().unwrap()])
        .env("RUST_LOG", "peapod=trace")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "apply: {text}");
    text
}

#[test]
fn state_folders_are_root_only_and_logs_are_as_kubelet_leaves_them() {
    let Some((_g, root)) = start("host_side_modes", "host-modes", shared) else {
        return;
    };
    let _pod = common::Pod {
        root: &root,
        name: "modes".to_owned(),
    };
    apply_traced(&root, "modes");

    let state = root.path().join("run/pods/default_modes");
    assert_eq!(mode(&root.path().join("run/pods")), 0o700);
    assert_eq!(mode(&state), 0o700);
    for entry in std::fs::read_dir(&state).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }

    let lib = only_child(&root.path().join("lib/pods"));
    assert_eq!(mode(&lib), 0o700, "{}", lib.display());
    // The container, uid 65534, still reads its Secret and writes its
    // emptyDir below that folder: mounts never walk the host path.
    let ok = lib.join("volumes/emptyDir/ed/ok");
    wait_for_file(&ok);
    assert_eq!(std::fs::metadata(&ok).unwrap().uid(), 65534);
    assert_eq!(mode(&lib.join("volumes/emptyDir/ed")), 0o777);

    let pod_logs = only_child(&root.path().join("log"));
    assert_eq!(mode(&pod_logs), 0o755);
    assert_eq!(mode(&pod_logs.join("c")), 0o755);
    assert_eq!(mode(&pod_logs.join("c/0.log")), 0o640);
}

#[test]
fn no_secret_value_reaches_a_log_an_event_state_or_the_cli() {
    let Some((_g, root)) = start("host_side_secrets", "host-secrets", shared) else {
        return;
    };
    let pod = common::Pod {
        root: &root,
        name: "secrets".to_owned(),
    };
    let mut cli = apply_traced(&root, "secrets");
    let lib = only_child(&root.path().join("lib/pods"));
    wait_for_file(&lib.join("volumes/emptyDir/ed/ok"));
    let (code, seen) = pod.exec("c", &["cat", "/sec/token"]);
    assert_eq!((code, seen.as_str()), (0, SECRET), "the container's view");
    // Its `started` (echoed after the file) in its log, for `logs` below.
    let deadline = Instant::now() + common::WAIT;
    while !root.ok(&["logs", "secrets"]).contains("started") {
        assert!(Instant::now() < deadline, "no started in the log");
        std::thread::sleep(Duration::from_millis(20));
    }
    for args in [
        &["get", "pod", "secrets", "-o", "yaml"][..],
        &["get", "pod", "secrets", "-o", "json"],
        &["describe", "pod", "secrets"],
        &["logs", "secrets"],
    ] {
        let out = root
            .command(args)
            .env("RUST_LOG", "peapod=trace")
            .output()
            .unwrap();
        cli.push_str(&String::from_utf8_lossy(&out.stdout));
        cli.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    assert!(cli.contains("started"), "the log was read: {cli}");

    let encoded = "czNjcjN0LVpxN3ZYLXBlYXBvZC10cnV0aA";
    assert!(!cli.contains(SECRET) && !cli.contains(encoded), "{cli}");
    let mut files = Vec::new();
    for dir in ["run", "lib/pods", "log"] {
        files_below(&root.path().join(dir), &mut files);
    }
    assert!(files.iter().any(|f| f.ends_with("supervisor.log")));
    assert!(files.iter().any(|f| f.ends_with("events.jsonl")));
    let config = root.path().join("run/pods/default_secrets/config.json");
    for file in &files {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        let holds = text.contains(SECRET) || text.contains(encoded);
        if *file == config {
            assert!(holds, "config.json carries the Secret to the supervisor");
            assert_eq!(mode(file), 0o600);
        } else {
            assert!(!holds, "{} holds the Secret's value", file.display());
        }
    }
}

/// The client half of the peer-check test, run as another uid by it: sends
/// a ping to `PEAPOD_TEST_CONTROL_SOCKET` and prints the answer line.
#[test]
#[ignore = "helper run by the_supervisor_refuses_a_control_client_of_another_uid"]
fn control_client_helper() {
    use std::io::{BufRead, BufReader, Write};
    let path = std::env::var("PEAPOD_TEST_CONTROL_SOCKET").unwrap();
    let mut stream = std::os::unix::net::UnixStream::connect(path).unwrap();
    // The supervisor may answer and hang up before it reads this.
    let _ = stream.write_all(b"\"ping\"\n");
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line).unwrap();
    println!("answer: {}", line.trim_end());
}

#[test]
fn the_supervisor_refuses_a_control_client_of_another_uid() {
    use std::os::unix::process::CommandExt;
    let Some((_g, root)) = start("control_peer_check", "host-peer", shared) else {
        return;
    };
    let _pod = root.apply(
        "peer",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: peer\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: c\n    image: busybox:1.31.1\n    command: [\"sleep\", \"1000\"]\n",
    );
    let state = root.path().join("run/pods/default_peer");
    let socket = state.join("control.sock");
    // Loosen the modes on purpose: only the peer check is left standing.
    for (path, mode) in [
        (root.path().to_path_buf(), 0o755),
        (root.path().join("run"), 0o755),
        (root.path().join("run/pods"), 0o755),
        (state.clone(), 0o755),
        (socket.clone(), 0o666),
    ] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let ask = |uid: Option<u32>| {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "--exact",
                "control_client_helper",
                "--include-ignored",
                "--nocapture",
            ])
            .env("PEAPOD_TEST_CONTROL_SOCKET", &socket);
        if let Some(uid) = uid {
            // std drops the supplementary groups when root sets a uid.
            command.uid(uid).gid(uid);
        }
        let out = command.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        stdout
            .lines()
            .find_map(|l| l.strip_prefix("answer: "))
            .unwrap_or_else(|| {
                panic!(
                    "no answer: {stdout}{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })
            .to_owned()
    };
    let refused = ask(Some(65534));
    assert!(
        refused.starts_with(r#"{"error":"control socket: refused uid 65534 (pid "#)
            && refused.ends_with(r#"): only root and uid 0 may control this pod"}"#),
        "{refused}"
    );
    assert_eq!(ask(None), r#""ok""#);
}
