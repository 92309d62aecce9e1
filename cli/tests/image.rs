//! `peapod image …` end to end: the binary, its own `--root` per test.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../../image/tests/common/layout.rs"]
mod layout;
#[path = "../../image/tests/common/registry.rs"]
mod registry;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use peapod_testkit::{TempDir, busybox_rootfs, require_root};

fn peapod(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_peapod"))
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap()
}

fn ok(root: &Path, args: &[&str]) -> String {
    let out = peapod(root, args);
    assert!(
        out.status.success(),
        "peapod {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn import_ls_inspect_rm_of_the_busybox_rootfs() {
    let tmp = TempDir::new("cli-image-import");
    let root = tmp.path();
    let rootfs = busybox_rootfs().to_str().unwrap();
    let id = ok(
        root,
        &[
            "image",
            "import",
            "-c",
            r#"CMD ["/bin/sh"]"#,
            "-c",
            "ENV A=b",
            rootfs,
            "busybox:1.30.1",
        ],
    );
    assert!(id.trim().starts_with("sha256:"), "{id}");
    assert!(
        root.join("lib/images/index.json").is_file(),
        "the store is below --root"
    );

    let ls = ok(root, &["image", "ls"]);
    let line = ls
        .lines()
        .find(|l| l.contains("docker.io/library/busybox"))
        .unwrap_or_else(|| panic!("{ls}"));
    assert!(
        line.contains("1.30.1") && line.contains(&id.trim()[7..19]),
        "{ls}"
    );
    assert!(ls.starts_with("REPOSITORY"), "{ls}");

    let inspect: serde_json::Value =
        serde_json::from_str(&ok(root, &["image", "inspect", "busybox:1.30.1"])).unwrap();
    assert_eq!(inspect[0]["Id"], id.trim());
    assert_eq!(inspect[0]["Config"]["config"]["Cmd"][0], "/bin/sh");
    assert_eq!(inspect[0]["Config"]["config"]["Env"][0], "A=b");
    assert_eq!(
        inspect[0]["RepoTags"][0],
        "docker.io/library/busybox:1.30.1"
    );

    let rm = ok(root, &["image", "rm", "busybox:1.30.1"]);
    assert!(
        rm.contains("Untagged: docker.io/library/busybox:1.30.1") && rm.contains("Deleted:"),
        "{rm}"
    );
    assert_eq!(ok(root, &["image", "ls", "-q"]), "");
    let again = peapod(root, &["image", "rm", "busybox:1.30.1"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains(r#"image "busybox:1.30.1" not found"#));
}

#[test]
fn load_a_docker_save_archive() {
    if !require_root("load_a_docker_save_archive") {
        return;
    }
    let tmp = TempDir::new("cli-image-load");
    let dir = tmp.path().join("save");
    fs::create_dir_all(&dir).unwrap();
    layout::add_image(
        &dir,
        "localhost/three:1",
        &layout::three_layers(busybox_rootfs()),
        "/bin/sh",
    );
    fs::remove_file(dir.join("index.json")).unwrap();
    let archive = tmp.path().join("save.tar");
    layout::tar_folder_to(&dir, &archive);
    let root = tmp.path().join("root");
    let out = ok(&root, &["image", "load", "-i", archive.to_str().unwrap()]);
    assert_eq!(out.trim(), "Loaded image: localhost/three:1");
    let inspect: serde_json::Value =
        serde_json::from_str(&ok(&root, &["image", "inspect", "localhost/three:1"])).unwrap();
    assert_eq!(inspect[0]["LayerDirs"].as_array().unwrap().len(), 3);
}

#[test]
fn import_of_a_missing_rootfs_names_it() {
    let tmp = TempDir::new("cli-image-missing");
    let out = peapod(tmp.path(), &["image", "import", "/nonexistent-rootfs", "x"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent-rootfs"), "{err}");
}

#[test]
fn pull_a_three_layer_image_from_the_local_registry() {
    if !require_root("pull_a_three_layer_image_from_the_local_registry") {
        return;
    }
    let tmp = TempDir::new("cli-image-pull");
    let dir = tmp.path().join("layout");
    fs::create_dir_all(&dir).unwrap();
    layout::add_image(
        &dir,
        "three:1",
        &layout::three_layers(busybox_rootfs()),
        "/bin/sh",
    );
    let reg = registry::Registry::start(None);
    reg.push(&dir, "three:1", "test/three:1", None);
    let root = tmp.path().join("root");
    let name = format!("{}/test/three:1", reg.host());
    let out = peapod(&root, &["image", "pull", "--insecure", &name]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let progress = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        progress.matches(": done").count(),
        3,
        "plain lines when not a tty: {progress}"
    );
    let id = String::from_utf8(out.stdout).unwrap();
    let ls = ok(&root, &["image", "ls", "--no-trunc"]);
    assert!(
        ls.contains(id.trim()) && ls.contains(&format!("{}/test/three", reg.host())),
        "{ls}"
    );
    let inspect: serde_json::Value =
        serde_json::from_str(&ok(&root, &["image", "inspect", &name])).unwrap();
    assert_eq!(inspect[0]["LayerDirs"].as_array().unwrap().len(), 3);

    let missing = peapod(
        &root,
        &[
            "image",
            "pull",
            "--insecure",
            &format!("{}/test/none:1", reg.host()),
        ],
    );
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("MANIFEST_UNKNOWN"));
}
