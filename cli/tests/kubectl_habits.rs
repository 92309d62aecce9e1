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
        &["get", "po", "-o", "jsonpath={.items[*].metadata.name}"],
        &["get", "po", "-o", "custom-columns=NAME:.metadata.name"],
        &["get", "po", "--show-labels", "-l", "!nolabel"],
        &["get", "po", "-w"],
        &["get", "events"],
        &["events"],
        &["api-resources"],
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

/// Two containers that say who they are in their log and in `$WHO`;
/// `annotation`: the default-container annotation's value.
fn two_containers(name: &str, annotation: Option<&str>) -> String {
    let annotations = annotation.map_or_else(String::new, |a| {
        format!("  annotations:\n    kubectl.kubernetes.io/default-container: {a}\n")
    });
    let container = |c: &str| {
        format!(
            "  - name: {c}\n    image: busybox:1.31.1\n    env: [{{name: WHO, value: {c}}}]\n    command: [\"sh\", \"-c\", \"echo from-{c}; exec sleep 1000\"]\n"
        )
    };
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n{annotations}spec:\n  terminationGracePeriodSeconds: 0\n  containers:\n{}{}",
        container("a"),
        container("b")
    )
}

/// `logs args` once the container has written `want`.
fn logs_once_written(root: &Root, args: &[&str], want: &str) -> (i32, String, String) {
    for _ in 0..200 {
        let got = root.outcome(args);
        if got.1 == want || got.0 != 0 {
            return got;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    root.outcome(args)
}

#[test]
fn type_slash_name_was_read_as_a_pod_name() {
    let Some((_g, root)) = start("type_slash_name", "type-name", shared) else {
        return;
    };
    let two = root.apply("two", &two_containers("two", None));
    let ann = root.apply("ann", &two_containers("ann", Some("b")));
    for (args, want) in [
        (&["get", "pod/two", "-o", "name"][..], "pod/two\n"),
        (
            &["get", "po/two", "Pods/ann", "-o", "name"],
            "pod/two\npod/ann\n",
        ),
        (&["get", "PO", "two", "-o", "name"], "pod/two\n"),
    ] {
        assert_eq!(
            root.outcome(args),
            (0, want.to_owned(), String::new()),
            "{args:?}"
        );
    }
    let (code, out, _) = root.outcome(&["describe", "pod/two"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("Name:             two\n"), "{out}");
    // No container named, several in the pod: the first, with kubectl's
    // notice on stderr; the annotation's choice is taken silently.
    let notice = "Defaulted container \"a\" out of: a, b\n";
    assert_eq!(
        logs_once_written(&root, &["logs", "pod/two"], "from-a\n"),
        (0, "from-a\n".to_owned(), notice.to_owned())
    );
    assert_eq!(
        logs_once_written(&root, &["logs", "po/ann"], "from-b\n"),
        (0, "from-b\n".to_owned(), String::new())
    );
    let who = ["--", "sh", "-c", "echo $WHO"];
    assert_eq!(
        root.outcome(&[&["exec", "pod/two"][..], &who].concat()),
        (0, "a\n".to_owned(), notice.to_owned())
    );
    assert_eq!(
        root.outcome(&[&["exec", "ann"][..], &who].concat()),
        (0, "b\n".to_owned(), String::new())
    );
    // A type peapod has not: kubectl's error, from every verb.
    let wrong = "error: the server doesn't have a resource type \"svc\"\n";
    for args in [
        &["get", "svc/two"][..],
        &["describe", "svc/two"],
        &["logs", "svc/two"],
        &["exec", "svc/two", "--", "true"],
        &["delete", "svc/two"],
    ] {
        assert_eq!(
            root.outcome(args),
            (1, String::new(), wrong.to_owned()),
            "{args:?}"
        );
    }
    assert_eq!(
        root.outcome(&["delete", "po/two", "pod/ann"]),
        (
            0,
            "pod \"two\" deleted\npod \"ann\" deleted\n".to_owned(),
            String::new()
        )
    );
    assert_eq!(
        root.pod_leftovers(),
        Vec::<std::path::PathBuf>::new(),
        "delete po/NAME left things behind"
    );
    drop((two, ann));
}

#[test]
fn get_all_namespaces_said_default_namespace_and_errors_had_two_prefixes() {
    let Some((_g, root)) = start("kubectl_messages", "kubectl-messages", shared) else {
        return;
    };
    let empty = |msg: &str| (0, String::new(), msg.to_owned());
    assert_eq!(
        root.outcome(&["get", "po", "-A"]),
        empty("No resources found\n")
    );
    assert_eq!(
        root.outcome(&["get", "po"]),
        empty("No resources found in default namespace.\n")
    );
    assert_eq!(
        root.outcome(&["get", "po", "-n", "kube-system", "-o", "wide"]),
        empty("No resources found in kube-system namespace.\n")
    );
    // A missing pod: the API server's NotFound, the same from every verb.
    let not_found = "Error from server (NotFound): pods \"nosuch\" not found; \"peapod get pods -A\" lists the pods\n";
    for args in [
        &["get", "po", "nosuch"][..],
        &["get", "pod/nosuch", "-o", "json"],
        &["describe", "pod", "nosuch"],
        &["logs", "nosuch"],
        &["logs", "nosuch", "-c", "c"],
        &["exec", "nosuch", "--", "true"],
        &["exec", "nosuch", "-c", "c", "--", "true"],
        &["delete", "pod", "nosuch"],
    ] {
        assert_eq!(
            root.outcome(args),
            (1, String::new(), not_found.to_owned()),
            "{args:?}"
        );
    }
    // The pods found are printed, the missing one said after them.
    let _pod = root.apply("here", &two_containers("here", None));
    assert_eq!(
        root.outcome(&["get", "po", "here", "nosuch", "-o", "name"]),
        (1, "pod/here\n".to_owned(), not_found.to_owned())
    );
    let (code, out, err) = root.outcome(&["describe", "pod", "here", "nosuch"]);
    assert_eq!((code, err.as_str()), (1, not_found), "{out}");
    assert!(out.starts_with("Name:             here\n"), "{out}");
    // A client's error: `error: `, as kubectl, and the printer checked
    // before the pods are looked for.
    for args in [
        &["get", "po", "-o", "foo"][..],
        &["get", "po", "nosuch", "-o", "foo"],
    ] {
        let (code, _, err) = root.outcome(args);
        assert_eq!(code, 1);
        assert!(err.starts_with("error: unable to match a printer"), "{err}");
    }
}

/// A pod whose container, told to stop, marks `shared/NAME` and waits
/// for the marks of both `pa` and `pb` before it exits and marks
/// `shared/NAME.done`: it ends by itself only if both were told at once.
fn waits_for_its_sibling(name: &str, shared: &std::path::Path) -> String {
    let script = format!(
        "trap 'touch /s/{name}; until [ -f /s/pa ] && [ -f /s/pb ]; do sleep 0.05; done; touch /s/{name}.done; exit 0' TERM; touch /s/{name}.up; sleep 1000 & wait"
    );
    common::pod_with_shared(name, "", 30, &script, shared)
}

#[test]
fn delete_of_two_pods_stopped_them_one_after_the_other() {
    let Some((_g, root)) = start("delete_in_parallel", "delete-parallel", shared) else {
        return;
    };
    let dir = root.shared_dir();
    let pa = root.apply("pa", &waits_for_its_sibling("pa", &dir));
    let pb = root.apply("pb", &waits_for_its_sibling("pb", &dir));
    // Both traps set before the stop.
    for name in ["pa", "pb"] {
        pa.sh("c", &format!("i=0; until [ -f /s/{name}.up ] || [ $i -ge 400 ]; do i=$((i+1)); sleep 0.05; done; [ -f /s/{name}.up ]"));
    }
    // One after the other, pa would wait for pb's mark until its grace
    // period ended in SIGKILL, and never mark itself done.
    assert_eq!(
        root.outcome(&["delete", "pod", "pa", "pb"]),
        (
            0,
            "pod \"pa\" deleted\npod \"pb\" deleted\n".to_owned(),
            String::new()
        )
    );
    for done in ["pa.done", "pb.done"] {
        assert!(
            dir.join(done).exists(),
            "{done}: a pod was not told to stop while the other was"
        );
    }
    drop((pa, pb));
}

/// A pod forwarding `host_port` of the host to port 80.
fn with_host_port(name: &str, host_port: u16) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: c\n    image: busybox:1.31.1\n    command: [\"sleep\", \"1000\"]\n    ports:\n    - {{containerPort: 80, hostPort: {host_port}}}\n"
    )
}

#[test]
fn host_port_conflict_named_pods_by_uid() {
    let Some((_g, root)) = start("host_port_conflict_names", "port-names", shared) else {
        return;
    };
    let port = std::net::TcpListener::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let holder = root.apply("holder", &with_host_port("holder", port));
    let _asker = Pod {
        root: &root,
        name: "asker".to_owned(),
    };
    let err = root.apply_fails("asker", &with_host_port("asker", port));
    assert!(
        err.contains(&format!(
            "hostPort 0.0.0.0:{port}/TCP of pod default/asker is already taken by pod default/holder"
        )),
        "{err}"
    );
    let uid = holder.json()["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!err.contains(&uid), "{err}");
    drop(holder);
}

#[test]
fn logs_follow_of_a_restarting_container_never_returned() {
    let Some((_g, root)) = start("logs_follow_ends", "logs-follow-ends", shared) else {
        return;
    };
    let dir = root.shared_dir();
    // Its run ends when the test says; restartPolicy Always starts it again.
    let pod = root.apply(
        "again",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: again\nspec:\n  restartPolicy: Always\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: c\n    image: busybox:1.31.1\n    command: [\"sh\", \"-c\", \"echo start; until [ -f /s/go ]; do sleep 0.05; done; echo end\"]\n    volumeMounts:\n    - {{name: s, mountPath: /s}}\n  volumes:\n  - name: s\n    hostPath: {{path: {}, type: Directory}}\n",
            dir.display()
        ),
    );
    let mut follow = root
        .command(&["logs", "-f", "again"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(follow.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "start\n");
    std::fs::write(dir.join("go"), "").unwrap();
    // The stream ends with the run: the rest of it, then end of file.
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, "end\n");
    let out = follow.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    drop(pod);
}

#[test]
fn workload_errors_lacked_the_next_step_and_get_deployments_a_named_a_namespace() {
    let Some((_g, root)) = start("workload_messages", "workload-messages", shared) else {
        return;
    };
    assert_eq!(
        root.outcome(&["get", "deployments", "-A"]),
        (0, String::new(), "No resources found\n".to_owned())
    );
    assert_eq!(
        root.outcome(&["get", "deployments"]),
        (
            0,
            String::new(),
            "No resources found in default namespace.\n".to_owned()
        )
    );
    for args in [
        &["get", "deployment", "nosuch"][..],
        &["delete", "deployment", "nosuch"],
    ] {
        assert_eq!(
            root.outcome(args),
            (
                1,
                String::new(),
                "Error from server (NotFound): deployment.apps \"nosuch\" not found; \"peapod get deployments -A\" lists the deployments\n".to_owned()
            ),
            "{args:?}"
        );
    }
    let (code, _, err) = root.outcome(&["get", "job", "nosuch"]);
    assert_eq!(code, 1);
    assert!(
        err.ends_with("; \"peapod get jobs -A\" lists the jobs\n"),
        "{err}"
    );
}

#[test]
fn image_import_of_a_missing_path_said_the_cause_twice() {
    let Some((_g, root)) = start("import_missing", "import-missing", shared) else {
        return;
    };
    let missing = root.path().join("nosuch");
    let (code, out, err) = root.outcome(&["image", "import", missing.to_str().unwrap(), "x:1"]);
    assert_eq!((code, out.as_str()), (1, ""));
    let cause = "No such file or directory (os error 2)";
    assert_eq!(err.matches(cause).count(), 1, "{err}");
    assert!(err.contains(missing.to_str().unwrap()), "{err}");
}

#[test]
fn port_forward_did_not_end_when_its_pod_was_deleted() {
    let Some((_g, root)) = start("port_forward_gone", "port-forward-gone", shared) else {
        return;
    };
    let pod = root.apply(
        "fwdgone",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: fwdgone\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: c\n    image: busybox:1.31.1\n    command: [\"sleep\", \"1000\"]\n",
    );
    let mut forward = root
        .command(&["port-forward", "fwdgone", ":8080"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(forward.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.starts_with("Forwarding from 127.0.0.1:"), "{line}");
    root.ok(&["delete", "pod", "fwdgone"]);
    // kubectl's stream breaks with the pod: an error, exit 1.
    let out = forward.wait_with_output().unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned()
        ),
        (Some(1), "error: lost connection to pod\n".to_owned())
    );
    drop(pod);
}
