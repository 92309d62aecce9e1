//! `peapod image …` end to end: the binary, its own `--root` per test.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../../image/tests/common/layout.rs"]
mod layout;
#[path = "../../image/tests/common/registry.rs"]
mod registry;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
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

/// A `docker save` archive in `dir` of `localhost/three:1`, the three
/// layers of [`layout::three_layers`] (a whiteout in the middle one).
fn three_layer_docker_archive(dir: &Path) -> std::path::PathBuf {
    let layout_dir = dir.join("save");
    fs::create_dir_all(&layout_dir).unwrap();
    layout::add_image(
        &layout_dir,
        "localhost/three:1",
        &layout::three_layers(busybox_rootfs()),
        "/bin/sh",
    );
    fs::remove_file(layout_dir.join("index.json")).unwrap();
    let archive = dir.join("save.tar");
    layout::tar_folder_to(&layout_dir, &archive);
    archive
}

#[test]
fn load_a_docker_save_archive() {
    if !require_root("load_a_docker_save_archive") {
        return;
    }
    let tmp = TempDir::new("cli-image-load");
    let archive = three_layer_docker_archive(tmp.path());
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

/// The `index.json` of the OCI archive at `path`.
fn archive_index(path: &Path) -> serde_json::Value {
    let mut archive = tar::Archive::new(fs::File::open(path).unwrap());
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        if entry.path().unwrap() == Path::new("index.json") {
            return serde_json::from_reader(entry).unwrap();
        }
    }
    panic!("no index.json in {}", path.display());
}

#[test]
fn load_names_an_oci_layout_by_its_ref_name_and_containerd_name() {
    if !require_root("load_names_an_oci_layout_by_its_ref_name_and_containerd_name") {
        return;
    }
    let tmp = TempDir::new("cli-image-load-names");
    let dir = tmp.path().join("layout");
    fs::create_dir_all(&dir).unwrap();
    // A short ref.name, as `skopeo copy ... oci:DIR:busybox` writes it.
    layout::add_image(
        &dir,
        "busybox",
        &[layout::tar_dir(busybox_rootfs())],
        "/bin/sh",
    );
    layout::add_image(
        &dir,
        "ignored",
        &[layout::tar_files(&[("x", b"x\n")])],
        "/x",
    );
    // containerd's annotation wins over ref.name.
    let index_path = dir.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&fs::read(&index_path).unwrap()).unwrap();
    index["manifests"][1]["annotations"]["io.containerd.image.name"] =
        "registry.example:5000/team/x:2".into();
    fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    fs::remove_file(dir.join("manifest.json")).unwrap();

    let root = tmp.path().join("root");
    let out = ok(&root, &["image", "load", "-i", dir.to_str().unwrap()]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "Loaded image: docker.io/library/busybox:latest",
            "Loaded image: registry.example:5000/team/x:2"
        ]
    );
    let ls = ok(&root, &["image", "ls"]);
    assert!(!ls.contains("<none>"), "{ls}");
    // `image: busybox` of a pod finds it.
    let inspect: serde_json::Value =
        serde_json::from_str(&ok(&root, &["image", "inspect", "busybox"])).unwrap();
    assert_eq!(inspect[0]["Config"]["config"]["Cmd"][0], "/bin/sh");
}

#[test]
fn tag_and_save_round_trip_through_load_with_the_name_and_whiteouts() {
    if !require_root("tag_and_save_round_trip_through_load_with_the_name_and_whiteouts") {
        return;
    }
    let tmp = TempDir::new("cli-image-save");
    let archive = three_layer_docker_archive(tmp.path());
    let first = tmp.path().join("first");
    ok(&first, &["image", "load", "-i", archive.to_str().unwrap()]);

    assert_eq!(
        ok(&first, &["image", "tag", "localhost/three:1", "mine:v1"]),
        ""
    );
    let ls = ok(&first, &["image", "ls"]);
    let id_of = |repo: &str| {
        ls.lines()
            .find(|l| l.starts_with(repo))
            .unwrap_or_else(|| panic!("{repo} in {ls}"))
            .split_whitespace()
            .nth(2)
            .unwrap()
            .to_owned()
    };
    assert_eq!(id_of("docker.io/library/mine "), id_of("localhost/three "));

    let saved = tmp.path().join("mine.tar");
    assert_eq!(
        ok(
            &first,
            &["image", "save", "mine:v1", "-o", saved.to_str().unwrap()]
        ),
        ""
    );
    let index = archive_index(&saved);
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "docker.io/library/mine:v1"
    );

    let second = tmp.path().join("second");
    let out = ok(&second, &["image", "load", "-i", saved.to_str().unwrap()]);
    assert_eq!(out.trim(), "Loaded image: docker.io/library/mine:v1");
    let inspect: serde_json::Value =
        serde_json::from_str(&ok(&second, &["image", "inspect", "mine:v1"])).unwrap();
    assert_eq!(inspect[0]["Config"]["config"]["Cmd"][0], "/bin/sh");
    let layers: Vec<std::path::PathBuf> = inspect[0]["LayerDirs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().into())
        .collect();
    assert_eq!(layers.len(), 3);
    // The files and the whiteout of the middle layer came back.
    assert_eq!(fs::read(layers[1].join("etc/motd")).unwrap(), b"hello\n");
    assert_eq!(fs::read(layers[2].join("hello")).unwrap(), b"world\n");
    let whiteout = fs::symlink_metadata(layers[1].join("etc/group")).unwrap();
    assert!(
        whiteout.file_type().is_char_device() && whiteout.rdev() == 0,
        "etc/group is overlayfs' whiteout again"
    );
    assert!(
        fs::read(layers[0].join("bin/busybox")).unwrap()
            == fs::read(busybox_rootfs().join("bin/busybox")).unwrap()
    );

    // A missing image is said as such.
    let missing = peapod(&second, &["image", "save", "nothere", "-o", "/tmp/x.tar"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains(r#"image "nothere" not found"#));
}
