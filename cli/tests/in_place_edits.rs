//! kubectl's verbs that change a running pod without a manifest —
//! `label`, `annotate`, `patch` (strategic, merge, JSON), `set image`,
//! `edit` — carried out in place as `apply` carries a change out: labels
//! and annotations with no restart, a new image restarting that container,
//! anything else refused with the API server's words and the pod left as
//! it was. Also the lines of issue 16 that had no test of their own:
//! `apply` of annotations and `activeDeadlineSeconds`, the default
//! container's notice for `attach` and `cp`, `events`, `api-resources`.
//! Root only (but the last test); each test has its own `--root` and
//! deletes its pods in a drop guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{Pod, peapod, shared, start};

/// A pod `name` of two busybox containers `a` and `b` that sleep.
fn two_sleepers(name: &str, grace: u32) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: web}}
spec:
  terminationGracePeriodSeconds: {grace}
  containers:
  - {{name: a, image: busybox:1.30.1, command: ["sleep", "1000"]}}
  - {{name: b, image: busybox:1.30.1, command: ["sleep", "1000"]}}
"#
    )
}

fn ok_line(line: &str) -> (i32, String, String) {
    (0, format!("{line}\n"), String::new())
}

#[test]
fn label_and_annotate_change_a_running_pod_without_a_restart() {
    let Some((_g, root)) = start("label_annotate", "edit-label", shared) else {
        return;
    };
    let pod = root.apply("lab", &two_sleepers("lab", 0));
    let uid = pod.json()["metadata"]["uid"].clone();

    assert_eq!(
        root.outcome(&["label", "pod", "lab", "tier=web"]),
        ok_line("pod/lab labeled")
    );
    assert_eq!(
        root.outcome(&["label", "pod/lab", "tier=web"]),
        ok_line("pod/lab not labeled")
    );
    assert_eq!(
        root.outcome(&["label", "pod", "lab", "tier=db"]),
        (
            1,
            String::new(),
            "error: 'tier' already has a value (web), and --overwrite is false\n".to_owned()
        )
    );
    assert_eq!(
        root.outcome(&["label", "pod", "lab", "tier=db", "--overwrite"]),
        ok_line("pod/lab labeled")
    );
    // The selector of `get` sees the new label at once.
    assert_eq!(
        root.ok(&["get", "pods", "-l", "tier=db", "-o", "name"]),
        "pod/lab\n"
    );
    assert_eq!(
        root.outcome(&["label", "pod", "lab", "app-"]),
        ok_line("pod/lab labeled")
    );
    // A key a manifest could not hold is refused as in a manifest.
    let (code, out, err) = root.outcome(&["label", "pod", "lab", "bad key=x"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(err.contains("metadata.labels.bad key"), "{err}");

    assert_eq!(
        root.outcome(&["annotate", "pod", "lab", "note=hello world"]),
        ok_line("pod/lab annotated")
    );
    let (code, _, err) = root.outcome(&["annotate", "pod", "lab", "note=other"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: --overwrite is false but found the following declared annotation(s): 'note' already has a value (hello world)\n"
    );

    let v = pod.json();
    assert_eq!(v["metadata"]["labels"], serde_json::json!({"tier": "db"}));
    assert_eq!(v["metadata"]["annotations"]["note"], "hello world");
    assert_eq!(v["metadata"]["uid"], uid, "the same pod");
    for c in 0..2 {
        assert_eq!(v["status"]["containerStatuses"][c]["restartCount"], 0);
    }
    // --all and -l: the pods of the namespace, the selected ones.
    let other = root.apply("other", &two_sleepers("other", 0));
    assert_eq!(
        root.outcome(&["label", "pods", "--all", "seen=all"]),
        (
            0,
            "pod/lab labeled\npod/other labeled\n".to_owned(),
            String::new()
        )
    );
    assert_eq!(
        root.outcome(&["annotate", "pods", "-l", "tier=db", "only=lab"]),
        ok_line("pod/lab annotated")
    );
    assert_eq!(other.json()["metadata"]["labels"]["seen"], "all");
    assert!(other.json()["metadata"]["annotations"]["only"].is_null());
    // --dry-run says it and changes nothing.
    assert_eq!(
        root.outcome(&["label", "pod", "other", "dry=run", "--dry-run"]),
        ok_line("pod/other labeled (dry run)")
    );
    assert_eq!(
        root.outcome(&["annotate", "pod", "other", "dry=run", "--dry-run=server"]),
        ok_line("pod/other annotated (server dry run)")
    );
    assert!(other.json()["metadata"]["labels"]["dry"].is_null());
    assert!(other.json()["metadata"]["annotations"]["dry"].is_null());
    // -f: the pods of a manifest (the one `other` was applied from).
    let file = root.path().join("other.yaml");
    let file = file.to_str().unwrap();
    assert_eq!(
        root.outcome(&["label", "-f", file, "from=file"]),
        ok_line("pod/other labeled")
    );
    assert_eq!(
        root.outcome(&["annotate", "--filename", file, "from=file"]),
        ok_line("pod/other annotated")
    );
    assert_eq!(other.json()["metadata"]["labels"]["from"], "file");
    assert_eq!(other.json()["metadata"]["annotations"]["from"], "file");
    assert!(pod.json()["metadata"]["labels"]["from"].is_null());
    let (code, _, err) = root.outcome(&["label", "pod", "lab", "-f", file, "x=y"]);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "error: pods named or selected and -f at once: give the pods one way\n"
        )
    );
    let (code, _, err) = root.outcome(&["label", "pods", "x=y"]);
    assert_eq!(code, 1);
    assert!(err.contains("no name was specified"), "{err}");
    let (code, _, err) = root.outcome(&["label", "pod", "nosuch", "a=b"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("Error from server (NotFound): pods \"nosuch\" not found"),
        "{err}"
    );
}

#[test]
fn patch_and_set_image_restart_the_changed_container_and_refuse_other_fields() {
    let Some((_g, root)) = start("patch_set_image", "edit-patch", shared) else {
        return;
    };
    let pod = root.apply("pat", &two_sleepers("pat", 0));
    let uid = pod.json()["metadata"]["uid"].clone();

    // Strategic: the containers list merges by name; only b restarts.
    let image_b = r#"{"spec":{"containers":[{"name":"b","image":"busybox:1.31.1"}]}}"#;
    assert_eq!(
        root.outcome(&["patch", "pod", "pat", "-p", image_b]),
        ok_line("pod/pat patched")
    );
    let v = pod.wait_for("b restarted with its new image", |v| {
        let b = &v["status"]["containerStatuses"][1];
        b["restartCount"] == 1
            && b["image"] == "busybox:1.31.1"
            && b["state"]["running"].is_object()
    });
    assert_eq!(v["spec"]["containers"][0]["image"], "busybox:1.30.1");
    assert_eq!(v["status"]["containerStatuses"][0]["restartCount"], 0);
    assert_eq!(
        root.outcome(&["patch", "pod/pat", "-p", image_b]),
        ok_line("pod/pat patched (no change)")
    );

    // Merge and JSON patches of the metadata.
    assert_eq!(
        root.outcome(&[
            "patch",
            "pod",
            "pat",
            "--type=merge",
            "-p",
            r#"{"metadata":{"labels":{"app":null,"x":"1"}}}"#
        ]),
        ok_line("pod/pat patched")
    );
    assert_eq!(
        root.outcome(&[
            "patch",
            "pod",
            "pat",
            "--type",
            "json",
            "-p",
            r#"[{"op":"add","path":"/metadata/annotations/example.com~1by","value":"json"}]"#
        ]),
        ok_line("pod/pat patched")
    );
    // YAML as well as JSON, as kubectl takes either.
    assert_eq!(
        root.outcome(&["patch", "pod", "pat", "-p", "metadata:\n  labels: {y: two}"]),
        ok_line("pod/pat patched")
    );
    let v = pod.json();
    assert_eq!(
        v["metadata"]["labels"],
        serde_json::json!({"x": "1", "y": "two"})
    );
    assert_eq!(v["metadata"]["annotations"]["example.com/by"], "json");
    let (code, _, err) = root.outcome(&["patch", "pod", "pat", "-p", "{a: [}"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: unable to parse \"{a: [}\": neither JSON ("),
        "{err}"
    );
    let (code, _, err) = root.outcome(&["patch", "pod", "pat", "-p", "word"]);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "error: unable to parse \"word\": a merge patch is a map of fields (a JSON object, a YAML mapping)\n"
        )
    );

    // -f: the pod of its manifest.
    let file = root.path().join("pat.yaml");
    let file = file.to_str().unwrap();
    assert_eq!(
        root.outcome(&[
            "patch",
            "-f",
            file,
            "-p",
            "metadata: {annotations: {via: file}}"
        ]),
        ok_line("pod/pat patched")
    );
    assert_eq!(pod.json()["metadata"]["annotations"]["via"], "file");

    // --dry-run: said, refused as it would be, nothing changed.
    assert_eq!(
        root.outcome(&[
            "patch",
            "pod",
            "pat",
            "--dry-run",
            "-p",
            "metadata: {labels: {z: dry}}"
        ]),
        ok_line("pod/pat patched (dry run)")
    );
    let refused = root.outcome(&[
        "patch",
        "pod",
        "pat",
        "--dry-run=server",
        "-p",
        "spec: {restartPolicy: Never}",
    ]);
    assert_eq!((refused.0, refused.1.as_str()), (1, ""), "{}", refused.2);
    assert!(refused.2.contains("spec: Forbidden"), "{}", refused.2);
    assert_eq!(
        root.outcome(&["set", "image", "pod/pat", "a=busybox:1.31.1", "--dry-run"]),
        ok_line("pod/pat image updated (dry run)")
    );
    let v = pod.json();
    assert!(v["metadata"]["labels"]["z"].is_null());
    assert_eq!(v["spec"]["containers"][0]["image"], "busybox:1.30.1");

    // Any other field: the API server's words, a way out, nothing changed.
    let (code, out, err) = root.outcome(&[
        "patch",
        "pod",
        "pat",
        "-p",
        r#"{"spec":{"restartPolicy":"Never"}}"#,
    ]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.starts_with("The Pod \"pat\" is invalid: spec: Forbidden: pod updates may not change fields other than"),
        "{err}"
    );
    assert!(err.contains("changed: spec.restartPolicy"), "{err}");
    assert!(err.contains("peapod replace --force -f pat.yaml"), "{err}");
    assert_eq!(pod.json()["spec"]["restartPolicy"], "Always");

    // set image: a's turn, the pod named by its manifest.
    assert_eq!(
        root.outcome(&["set", "image", "-f", file, "a=busybox:1.31.1"]),
        ok_line("pod/pat image updated")
    );
    let v = pod.wait_for("a restarted with its new image", |v| {
        let a = &v["status"]["containerStatuses"][0];
        a["restartCount"] == 1
            && a["image"] == "busybox:1.31.1"
            && a["state"]["running"].is_object()
    });
    assert_eq!(v["metadata"]["uid"], uid, "the same pod");
    let (code, _, err) = root.outcome(&["set", "image", "pod/pat", "nosuch=busybox:1.31.1"]);
    assert_eq!(
        (code, err.as_str()),
        (1, "error: unable to find container named \"nosuch\"\n")
    );
}

#[test]
fn edit_carries_out_what_the_editor_saved_and_keeps_a_refused_file() {
    let Some((_g, root)) = start("edit", "edit-editor", shared) else {
        return;
    };
    let pod = root.apply("ed", &two_sleepers("ed", 0));
    let edit = |editor: &str| {
        common::outcome(
            root.command(&["edit", "pod", "ed"])
                .env_remove("KUBE_EDITOR")
                .env("EDITOR", editor),
        )
    };
    assert_eq!(edit("true"), ok_line("Edit cancelled, no changes made."));
    assert_eq!(
        edit("sed -i -e 's/app: web/app: edited/'"),
        ok_line("pod/ed edited")
    );
    assert_eq!(pod.json()["metadata"]["labels"]["app"], "edited");

    let (code, out, err) = edit("sed -i -e 's/restartPolicy: Always/restartPolicy: Never/'");
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("spec: Forbidden"), "{err}");
    let kept = err
        .lines()
        .find_map(|l| l.strip_prefix("A copy of your changes has been stored to \""))
        .and_then(|l| l.strip_suffix('"'))
        .unwrap_or_else(|| panic!("where the file is kept: {err}"));
    let text = std::fs::read_to_string(kept).unwrap();
    std::fs::remove_file(kept).unwrap();
    assert!(text.contains("restartPolicy: Never"), "{text}");
    assert_eq!(pod.json()["spec"]["restartPolicy"], "Always");
}

#[test]
fn apply_configures_annotations_and_a_lowered_active_deadline_in_place() {
    let Some((_g, root)) = start("apply_deadline", "edit-deadline", shared) else {
        return;
    };
    let yaml = |annotation: &str, deadline: u32| {
        two_sleepers("dl", 0).replace(
            "spec:\n",
            &format!(
                "  annotations: {{note: {annotation}}}\nspec:\n  activeDeadlineSeconds: {deadline}\n"
            ),
        )
    };
    let pod = root.apply("dl", &yaml("one", 3000));
    let file = root.path().join("dl.yaml");
    let path = file.to_str().unwrap();

    std::fs::write(&file, yaml("two", 3000)).unwrap();
    assert_eq!(
        root.outcome(&["apply", "-f", path]),
        ok_line("pod/dl configured")
    );
    assert_eq!(pod.json()["metadata"]["annotations"]["note"], "two");

    // Lowered to 1 s: the pod is failed with DeadlineExceeded, as kubelet.
    std::fs::write(&file, yaml("two", 1)).unwrap();
    assert_eq!(
        root.outcome(&["apply", "-f", path]),
        ok_line("pod/dl configured")
    );
    let v = pod.wait_for("the pod failed of its deadline", |v| {
        v["status"]["phase"] == "Failed"
    });
    assert_eq!(v["status"]["reason"], "DeadlineExceeded", "{v:#}");
    assert_eq!(v["spec"]["activeDeadlineSeconds"], 1);

    // Raised: refused with the API server's words.
    std::fs::write(&file, yaml("two", 5000)).unwrap();
    let (code, _, err) = root.outcome(&["apply", "-f", path]);
    assert_eq!(code, 1);
    assert!(
        err.contains("spec.activeDeadlineSeconds: Invalid value: 5000: must be less than or equal to previous value"),
        "{err}"
    );
}

#[test]
fn attach_and_cp_name_the_container_they_default_to() {
    let Some((_g, root)) = start("default_notice", "edit-notice", shared) else {
        return;
    };
    // a ticks until the test's `go`: it runs until cp and attach reached
    // it, however slow the machine, then ends.
    let dir = root.shared_dir();
    let yaml = format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: two}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 0
  containers:
  - {{name: a, image: busybox:1.30.1, command: ["sh", "-c", "echo a > /tmp/who; until [ -f /s/go ]; do echo tick; sleep 0.05; done"], volumeMounts: [{{name: s, mountPath: /s}}]}}
  - {{name: b, image: busybox:1.30.1, command: ["sleep", "1000"]}}
  volumes: [{{name: s, hostPath: {{path: {}, type: Directory}}}}]
"#,
        dir.display()
    );
    let pod = root.apply("two", &yaml);
    pod.sh("a", "until [ -s /tmp/who ]; do sleep 0.05; done");
    let notice = "Defaulted container \"a\" out of: a, b\n";
    let copy = root.path().join("who");
    let from = "two:/tmp/who";
    // (busybox tar's own line may follow, as GNU tar's does with kubectl.)
    let (code, _, err) = root.outcome(&["cp", from, copy.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.starts_with(notice), "{err}");
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), "a\n");
    // attach follows a until it ends.
    let mut attach = root
        .command(&["attach", "pod/two"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(attach.stdout.take().unwrap());
    let mut tick = String::new();
    stdout.read_line(&mut tick).unwrap();
    assert_eq!(tick, "tick\n");
    std::fs::write(dir.join("go"), "").unwrap();
    std::io::Read::read_to_end(&mut stdout, &mut Vec::new()).unwrap();
    let out = attach.wait_with_output().unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(0), notice)
    );
    drop(pod);
}

#[test]
fn events_and_api_resources_answer_as_kubectl() {
    let (code, out, _) = peapod(&["api-resources"]);
    assert_eq!(code, 0);
    let rows = common::cells(&out);
    assert_eq!(
        rows[0],
        ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    );
    assert!(
        rows.contains(&vec!["pods", "po", "v1", "true", "Pod"]),
        "{out}"
    );
    assert!(
        rows.contains(&vec![
            "deployments",
            "deploy",
            "apps/v1",
            "true",
            "Deployment"
        ]),
        "{out}"
    );
    assert_eq!(
        peapod(&["api-versions"]),
        (0, "apps/v1\nbatch/v1\nv1\n".to_owned(), String::new())
    );

    let Some((_g, root)) = start("events_verb", "edit-events", shared) else {
        return;
    };
    let _pod: Pod<'_> = root.apply("ev", &two_sleepers("ev", 0));
    let table = root.ok(&["events", "--for", "pod/ev"]);
    let rows = common::cells(&table);
    assert_eq!(
        rows[0],
        ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    );
    assert!(
        rows.iter()
            .any(|r| r[1..4] == ["Normal", "Started", "pod/ev"]),
        "{table}"
    );
    let (code, out, err) = root.outcome(&["events", "--for", "pod/ev", "--types=Warning"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
}

#[test]
fn diff_shows_what_apply_would_change_with_kubectls_exit_codes() {
    let Some((_g, root)) = start("diff", "edit-diff", shared) else {
        return;
    };
    let file = root.path().join("df.yaml");
    let path = file.to_str().unwrap();
    std::fs::write(&file, two_sleepers("df", 0)).unwrap();
    // Not created yet: the whole pod is new.
    let (code, out, err) = root.outcome(&["diff", "-f", path]);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("\n+kind: Pod\n"), "{out}");
    let pod = root.apply("df", &two_sleepers("df", 0));
    assert_eq!(
        root.outcome(&["diff", "-f", path]),
        (0, String::new(), String::new())
    );

    std::fs::write(
        &file,
        two_sleepers("df", 0)
            .replace("{app: web}", "{app: web2}")
            .replace(
                "{name: b, image: busybox:1.30.1",
                "{name: b, image: busybox:1.31.1",
            ),
    )
    .unwrap();
    let (code, out, err) = root.outcome(&["diff", "-f", path]);
    assert_eq!(code, 1, "{err}");
    assert!(out.starts_with("diff -u -N "), "{out}");
    for line in [
        "\n-    app: web\n",
        "\n+    app: web2\n",
        "\n-    image: busybox:1.30.1\n",
        "\n+    image: busybox:1.31.1\n",
    ] {
        assert!(out.contains(line), "{line:?}: {out}");
    }
    // diff changed nothing.
    let v = pod.json();
    assert_eq!(v["metadata"]["labels"]["app"], "web");

    std::fs::write(&file, two_sleepers("df", 0).replace("\"1000\"", "\"999\"")).unwrap();
    let (code, out, err) = root.outcome(&["diff", "-f", path]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.starts_with("The Pod \"df\" is invalid: spec: Forbidden"),
        "{err}"
    );
}

#[test]
fn get_yaml_piped_into_apply_keeps_the_pod() {
    let Some((_g, root)) = start("yaml_round_trip", "edit-round", shared) else {
        return;
    };
    let pod = root.apply("rt", &two_sleepers("rt", 0));
    let uid = pod.json()["metadata"]["uid"].clone();
    // The first round records the defaulted manifest as last applied
    // (configured, as kubectl's); the next finds nothing to change.
    for want in ["pod/rt configured\n", "pod/rt unchanged\n"] {
        let yaml = root.ok(&["get", "pod", "rt", "-o", "yaml"]);
        let out = root.feed(&["apply", "-f", "-"], yaml.as_bytes());
        assert_eq!(
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).as_ref()
            ),
            (Some(0), want),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v = pod.json();
    assert_eq!(v["metadata"]["uid"], uid);
    assert_eq!(v["status"]["containerStatuses"][0]["restartCount"], 0);
}

#[test]
fn dry_run_says_what_apply_create_and_replace_would_do_and_does_nothing() {
    let Some((_g, root)) = start("dry_run", "edit-dry", shared) else {
        return;
    };
    let file = root.path().join("dr.yaml");
    let path = file.to_str().unwrap();
    std::fs::write(&file, two_sleepers("dr", 0)).unwrap();
    assert_eq!(
        root.outcome(&["apply", "--dry-run=client", "-f", path]),
        ok_line("pod/dr created (dry run)")
    );
    assert_eq!(
        root.outcome(&["create", "--dry-run=server", "-f", path]),
        ok_line("pod/dr created (server dry run)")
    );
    let (code, _, err) = root.outcome(&["get", "pod", "dr"]);
    assert_eq!(code, 1, "nothing was created: {err}");
    assert!(
        root.pod_leftovers().is_empty(),
        "{:?}",
        root.pod_leftovers()
    );

    let pod = root.apply("dr", &two_sleepers("dr", 0));
    assert_eq!(
        root.outcome(&["apply", "--dry-run=client", "-f", path]),
        ok_line("pod/dr unchanged (dry run)")
    );
    std::fs::write(
        &file,
        two_sleepers("dr", 0).replace("{app: web}", "{app: dry}"),
    )
    .unwrap();
    assert_eq!(
        root.outcome(&["apply", "--dry-run=client", "-f", path]),
        ok_line("pod/dr configured (dry run)")
    );
    assert_eq!(pod.json()["metadata"]["labels"]["app"], "web");
    let (code, _, err) = root.outcome(&["create", "--dry-run=client", "-f", path]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("Error from server (AlreadyExists)"),
        "{err}"
    );
    std::fs::write(&file, two_sleepers("dr", 0).replace("\"1000\"", "\"999\"")).unwrap();
    let (code, out, err) = root.outcome(&["apply", "--dry-run=client", "-f", path]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.starts_with("The Pod \"dr\" is invalid"), "{err}");
    assert_eq!(
        root.outcome(&["replace", "--force", "--dry-run=client", "-f", path]),
        ok_line("pod/dr replaced (dry run)")
    );
    assert_eq!(pod.json()["spec"]["containers"][1]["command"][1], "1000");
}

#[test]
fn a_pod_reading_a_config_map_takes_a_label_and_a_patch_with_an_unknown_field_is_refused() {
    let Some((_g, root)) = start("edit_config_map", "edit-cm", shared) else {
        return;
    };
    // The ConfigMap is in the manifest only: the change is checked
    // without it (it was found when the pod was made).
    let yaml = r#"apiVersion: v1
kind: ConfigMap
metadata: {name: greet}
data: {word: hello}
---
apiVersion: v1
kind: Pod
metadata: {name: cm}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: c, image: "busybox:1.31.1", command: [sleep, "1000"],
     env: [{name: W, valueFrom: {configMapKeyRef: {name: greet, key: word}}}]}
"#;
    let pod = root.apply("cm", yaml);
    assert_eq!(
        root.outcome(&["label", "pod", "cm", "a=b"]),
        ok_line("pod/cm labeled")
    );
    let typo = r#"{"spec":{"containers":[{"name":"c","imagee":"busybox:1.30.1"}]}}"#;
    let (code, out, err) = root.outcome(&["patch", "pod", "cm", "-p", typo]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("imagee"), "{err}");
    let v = pod.json();
    assert_eq!(v["metadata"]["labels"]["a"], "b");
    assert_eq!(pod.sh("c", "echo $W"), "hello\n");
}
