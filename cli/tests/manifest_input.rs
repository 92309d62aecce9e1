//! Manifests are read with a bound: an endless file or stream fails
//! naming the source and the limit, after reading at most the limit.

#![allow(clippy::unwrap_used, missing_docs)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use peapod_testkit::TempDir;

/// The limit as the message prints it.
const LIMIT: &str = "larger than 8388608 bytes (8 MiB), the most peapod reads of a manifest";

fn peapod(root: &TempDir, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_peapod"));
    command.arg("--root").arg(root.path()).args(args);
    command
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `args` with an endless YAML stream on stdin; returns once peapod
/// exited (the writer stops when peapod closes the pipe).
fn with_endless_stdin(root: &TempDir, args: &[&str]) -> Output {
    let mut child = peapod(root, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let line = b"# yes yes yes yes yes yes yes yes yes yes yes yes yes yes\n".repeat(1024);
        let mut written = 0_usize;
        // Stops at EPIPE: peapod read its bound and closed stdin by exiting.
        // Every byte written counts, those of a last partial write too
        // (counting whole chunks only fell short of the bound now and then).
        while let Ok(n) = stdin.write(&line) {
            written += n;
        }
        written
    });
    let out = child.wait_with_output().unwrap();
    let written = writer.join().unwrap();
    assert!(written > 8 << 20, "only {written} bytes were written");
    out
}

#[test]
fn apply_of_dev_zero_fails_naming_the_file_and_the_limit() {
    let root = TempDir::new("bounded-zero");
    let out = peapod(&root, &["apply", "-f", "/dev/zero"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        format!("error: /dev/zero: {LIMIT}; split it\n")
    );
}

#[test]
fn validate_of_dev_zero_fails_and_goes_on_with_the_next_file() {
    let root = TempDir::new("bounded-validate");
    let good = root.path().join("good.yaml");
    std::fs::write(
        &good,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: busybox\n",
    )
    .unwrap();
    let out = peapod(
        &root,
        &["validate", "-f", "/dev/zero", "-f", good.to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), format!("/dev/zero: {LIMIT}; split it\n"));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}: pod \"p\": OK\n", good.display())
    );
}

#[test]
fn apply_of_an_endless_stdin_fails_naming_stdin_and_the_limit() {
    let root = TempDir::new("bounded-stdin");
    let out = with_endless_stdin(&root, &["apply", "-f", "-"]);
    assert!(!out.status.success());
    assert_eq!(stderr(&out), format!("error: <stdin>: {LIMIT}; split it\n"));
}

#[test]
fn delete_and_describe_of_an_endless_stdin_fail_the_same_way() {
    let root = TempDir::new("bounded-verbs");
    for verb in ["delete", "describe"] {
        let out = with_endless_stdin(&root, &[verb, "-f", "-"]);
        assert!(!out.status.success(), "{verb}");
        assert_eq!(
            stderr(&out),
            format!("error: <stdin>: {LIMIT}; split it\n"),
            "{verb}"
        );
    }
}

#[test]
fn a_manifest_of_exactly_the_limit_is_read() {
    let root = TempDir::new("bounded-exact");
    let file = root.path().join("exact.yaml");
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: busybox\n";
    let mut text = pod.to_owned();
    text.push_str(&"#".repeat((8 << 20) - pod.len() - 1));
    text.push('\n');
    assert_eq!(text.len(), 8 << 20);
    std::fs::write(&file, &text).unwrap();
    let out = peapod(&root, &["validate", "-f", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}
