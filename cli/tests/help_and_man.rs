//! `--help` of each verb ends with kubectl-like examples, and `peapod man
//! DIR` writes a man page per visible verb from the same definition.

#![allow(clippy::unwrap_used, missing_docs)]

use std::process::Command;

fn peapod(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_peapod"))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "peapod {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_had_no_examples_and_there_were_no_man_pages() {
    let help = peapod(&["apply", "--help"]);
    assert!(
        help.contains("Examples:\n  # Create the pods of a manifest, or bring running ones to it\n  peapod apply -f examples/myapp.yaml\n"),
        "{help}"
    );
    let image_ls = peapod(&["image", "ls", "--help"]);
    assert!(image_ls.contains("Examples:\n  # "), "{image_ls}");

    let dir = std::env::temp_dir().join(format!("peapod-man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let listed = peapod(&["man", dir.to_str().unwrap()]);
    let page = |name: &str| std::fs::read_to_string(dir.join(name));
    let apply = page("peapod-apply.1").unwrap();
    let top = page("peapod.1").unwrap();
    let hidden = page("peapod-supervise.1").is_err() && page("peapod-man.1").is_err();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        listed.lines().any(|l| l.ends_with("/peapod-image-ls.1")),
        "{listed}"
    );
    assert!(apply.contains(".TH peapod-apply 1"), "{apply}");
    assert!(apply.contains("recursive"), "{apply}");
    assert!(
        apply.contains("peapod apply \\-R \\-f manifests/"),
        "{apply}"
    );
    assert!(top.contains("peapod\\-apply(1)"), "{top}");
    assert!(hidden, "no page for the hidden verbs");
}

#[test]
fn create_help_listed_force() {
    let create = peapod(&["create", "--help"]);
    assert!(
        !create.contains("--force") && !create.contains("--grace-period"),
        "{create}"
    );
    let apply = peapod(&["apply", "--help"]);
    assert!(apply.contains("--force"), "{apply}");
    let out = Command::new(env!("CARGO_BIN_EXE_peapod"))
        .args(["create", "--force", "-f", "x.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("use \"peapod replace --force -f FILE\""),
        "{out:?}"
    );
}

#[test]
fn install_wrote_no_completion_scripts() {
    let prefix = std::env::temp_dir().join(format!("peapod-install-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&prefix);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/install.sh");
    let out = Command::new("bash")
        .arg(script)
        .env("PREFIX", &prefix)
        .env("BIN", env!("CARGO_BIN_EXE_peapod"))
        .output()
        .unwrap();
    let read = |rel: &str| std::fs::read_to_string(prefix.join(rel)).unwrap_or_default();
    let (bash, zsh, fish, man) = (
        read("share/bash-completion/completions/peapod"),
        read("share/zsh/site-functions/_peapod"),
        read("share/fish/vendor_completions.d/peapod.fish"),
        read("share/man/man1/peapod-debug.1"),
    );
    let _ = std::fs::remove_dir_all(&prefix);
    assert!(out.status.success(), "{out:?}");
    assert!(bash.contains("complete -F _peapod"), "{bash}");
    assert!(zsh.starts_with("#compdef peapod"), "{zsh}");
    assert!(fish.contains("complete -c peapod"), "{fish}");
    assert!(man.contains(".TH peapod-debug 1"), "{man}");
}
