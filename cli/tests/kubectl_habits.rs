//! The habits a kubectl user brings: output piped into `head`, `TYPE/NAME`
//! arguments, kubectl's messages. Each test is named for the bug it keeps
//! fixed. Root only; each test has its own `--root` and deletes its pods
//! in a drop guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Output, Stdio};

use common::{Pod, Root, shared, start};

/// `SIGPIPE` on Linux.
const SIGPIPE: i32 = 13;

/// A pod whose container prints 30000 lines (about 170 KiB, more than a
/// pipe holds), then marks it done and sleeps.
const PRINTER: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: printer
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox:1.31.1
    command: ["sh", "-c", "seq 1 30000; touch /tmp/done; exec sleep 1000"]
"#;

/// Applies [`PRINTER`] and waits until its container has printed it all.
fn printer(root: &Root) -> Pod<'_> {
    let pod = root.apply("printer", PRINTER);
    pod.sh(
        "c",
        "i=0; until [ -f /tmp/done ] || [ $i -ge 400 ]; do i=$((i+1)); sleep 0.05; done; [ -f /tmp/done ]",
    );
    pod
}

/// What `args` did with a stdout whose reader had already gone (a `head`
/// that read its lines and left).
fn with_closed_stdout(root: &Root, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    root.command(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

/// kubectl's end on a closed stdout: killed by `SIGPIPE`, nothing said.
fn assert_ended_quietly(args: &[&str], out: &Output) {
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "peapod {args:?} said something on stderr ({:?})",
        out.status
    );
    assert_eq!(
        out.status.signal(),
        Some(SIGPIPE),
        "peapod {args:?} should end of SIGPIPE as kubectl does: {:?}",
        out.status
    );
}

#[test]
fn a_closed_stdout_ended_verbs_with_broken_pipe_errors_or_an_abort() {
    let Some((_g, root)) = start("closed_stdout_quiet", "closed-stdout", shared) else {
        return;
    };
    let _pod = printer(&root);
    let verbs: &[&[&str]] = &[
        &["get", "po"],
        &["get", "po", "-A"],
        &["get", "po", "-o", "json"],
        &["get", "po", "-o", "yaml"],
        &["get", "po", "-o", "wide"],
        &["get", "po", "-o", "name"],
        &["get", "pod", "printer", "-o", "json"],
        &["describe", "pod", "printer"],
        &["describe", "pods"],
        &["logs", "printer"],
        &["logs", "printer", "--tail", "5"],
        &["logs", "-f", "printer"],
        &["image", "ls"],
        &["explain", "pod.spec.containers"],
    ];
    for args in verbs {
        assert_ended_quietly(args, &with_closed_stdout(&root, args));
    }
    // exec's output is the command's own: the command dies of SIGPIPE and
    // exec passes its code on (128 + 13), quietly.
    let args = ["exec", "printer", "--", "seq", "1", "100000"];
    let out = with_closed_stdout(&root, &args);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "exec: {out:?}");
    assert_eq!(out.status.code(), Some(128 + SIGPIPE), "exec: {out:?}");
}

#[test]
fn logs_piped_into_head_failed_with_broken_pipe() {
    let Some((_g, root)) = start("logs_into_head", "logs-head", shared) else {
        return;
    };
    let _pod = printer(&root);
    for args in [&["logs", "printer"][..], &["logs", "-f", "printer"]] {
        // `peapod logs printer | head -1`: head reads a line and leaves
        // while peapod still has most of the 170 KiB to write.
        let mut child = root
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert_eq!(first, "1\n");
        let out = child.wait_with_output().unwrap();
        assert_ended_quietly(args, &out);
    }
}
