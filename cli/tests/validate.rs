//! `peapod validate` and `peapod explain` end to end, on the seed
//! manifests of `spec/tests/fixtures/seeds`.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn peapod(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_peapod"))
        .args(args)
        .current_dir(seeds_dir())
        .output()
        .unwrap()
}

fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/tests/fixtures/seeds")
}

fn seed_files(broken: bool) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(seeds_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".broken.yaml") == broken)
        .collect();
    files.sort();
    files
}

/// A folder of its own holding `pod.yaml` with `yaml`: (folder, file).
fn temp_manifest(tag: &str, yaml: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("peapod-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("pod.yaml");
    std::fs::write(&file, yaml).unwrap();
    (dir, file)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn validate_prints_ok_for_every_good_seed_pod() {
    let files = seed_files(false);
    let mut args = vec!["validate"];
    for file in &files {
        args.extend(["-f", file]);
    }
    let out = peapod(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), files.len(), "{stdout}");
    assert!(
        stdout.contains("002-2-javaweb-2.yaml: pod \"javaweb-2\": OK\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("003-1-kubia-zxzij.yaml: pod \"kubia-zxzij\": OK\n"),
        "{stdout}"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "warning: 003-1-kubia-zxzij.yaml:28:3: spec.nodeName: ignored on a single host"
        ),
        "{stderr}"
    );
}

#[test]
fn validate_reports_the_broken_seed_and_fails() {
    let out = peapod(&["validate", "-f", "002-2-javaweb-2.broken.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "002-2-javaweb-2.broken.yaml:9:6: bad indentation: \"name\" is indented more than \"image\" above it (column 6 against 5); keys of one mapping start in the same column\n\
         002-2-javaweb-2.broken.yaml:14:3: spec.contaners: unknown field; did you mean \"containers\"?\n"
    );
}

#[test]
fn validate_checks_every_file_even_after_a_failure() {
    let out = peapod(&[
        "validate",
        "-f",
        "002-1-two-containers.broken.yaml",
        "-f",
        "000-1-myapp.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "000-1-myapp.yaml: pod \"myapp\": OK\n");
}

#[test]
fn validate_warn_mode_accepts_unknown_fields() {
    let (dir, file) = temp_manifest(
        "validate",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: nginx\n    comand: [sleep]\n",
    );
    let file = file.to_str().unwrap();
    let strict = peapod(&["validate", "-f", file]);
    assert_eq!(strict.status.code(), Some(1));
    let warn = peapod(&["validate", "--validate=warn", "-f", file]);
    assert!(warn.status.success());
    assert!(
        text(&warn.stderr).contains("warning: "),
        "{}",
        text(&warn.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn explain_prints_container_fields() {
    let out = peapod(&["explain", "pod.spec.containers"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("KIND:       Pod\n"), "{stdout}");
    assert!(
        stdout.contains("FIELD: containers <[]Container> -required-"),
        "{stdout}"
    );
    assert!(stdout.contains("  imagePullPolicy\t<string>\n"), "{stdout}");
}

#[test]
fn explain_unknown_field_fails_with_a_suggestion() {
    let out = peapod(&["explain", "pod.spec.contaners"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("did you mean \"containers\"?"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn validate_warns_of_a_field_peapod_does_not_enforce_and_explain_says_so() {
    let (dir, file) = temp_manifest(
        "unenforced",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: nginx\n    securityContext:\n      readOnlyRootFilesystem: true\n    resources:\n      limits:\n        hugepages-2Mi: 4Mi\n",
    );
    let name = file.to_str().unwrap();
    let out = peapod(&["validate", "-f", name]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A hugepages limit is read and not enforced; readOnlyRootFilesystem is.
    assert_eq!(
        text(&out.stderr),
        format!(
            "warning: {name}:13:9: spec.containers[0].resources.limits.hugepages-2Mi: not enforced by peapod: accepted, but the pod runs as if it were not set\n"
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let explained = text(&peapod(&["explain", "pod.spec.hostUsers"]).stdout);
    let explained = explained.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        explained.contains("a user namespace of its own") && !explained.contains("not enforced"),
        "{explained}"
    );
    let read_only = text(
        &peapod(&[
            "explain",
            "pod.spec.containers.securityContext.readOnlyRootFilesystem",
        ])
        .stdout,
    );
    assert!(!read_only.contains("not enforced"), "{read_only}");
}
