//! `image load` of OCI layouts (folder, tar) and `docker save` archives,
//! several images per archive, built by hand in `common/layout.rs`.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "common/layout.rs"]
mod layout;

use std::fs;

use peapod_image::{Error, PullPolicy, Store};
use peapod_testkit::{TempDir, busybox_rootfs, require_root};

fn two_image_archive(dir: &std::path::Path) {
    let layers = layout::three_layers(busybox_rootfs());
    layout::add_image(dir, "localhost/three:1", &layers, "/bin/sh");
    layout::add_image(dir, "docker.io/library/one:2", &layers[..1], "/bin/true");
}

#[test]
fn oci_layout_folder_loads_every_image_sharing_layers() {
    // The middle layer holds a whiteout: a 0:0 device, root only.
    if !require_root("oci_layout_folder_loads_every_image_sharing_layers") {
        return;
    }
    let tmp = TempDir::new("load-oci-dir");
    let dir = tmp.path().join("layout");
    fs::create_dir_all(&dir).unwrap();
    two_image_archive(&dir);
    fs::remove_file(dir.join("manifest.json")).unwrap();
    let store = Store::open(tmp.path().join("images")).unwrap();
    let lines = store.load(&dir).unwrap();
    assert_eq!(
        lines,
        [
            "Loaded image: localhost/three:1",
            "Loaded image: docker.io/library/one:2"
        ]
    );
    let three = store
        .ensure("localhost/three:1", PullPolicy::Never)
        .unwrap();
    assert_eq!(three.lower_dirs.len(), 3);
    assert_eq!(
        three.config.cmd.as_deref(),
        Some(&["/bin/sh".to_string()][..])
    );
    assert_eq!(
        fs::read(three.lower_dirs[0].join("hello")).unwrap(),
        b"world\n"
    );
    assert!(three.lower_dirs[2].join("bin/busybox").is_file());
    let one = store.ensure("one:2", PullPolicy::Never).unwrap();
    assert_eq!(
        one.lower_dirs,
        three.lower_dirs[2..],
        "the busybox layer is shared"
    );
    assert_eq!(fs::read_dir(store.dir().join("layers")).unwrap().count(), 3);
    assert!(
        store
            .inspect("localhost/three:1")
            .unwrap()
            .manifest_digest
            .is_some()
    );
}

#[test]
fn docker_save_tar_with_two_images_loads_both() {
    // The middle layer holds a whiteout: a 0:0 device, root only.
    if !require_root("docker_save_tar_with_two_images_loads_both") {
        return;
    }
    let tmp = TempDir::new("load-docker");
    let dir = tmp.path().join("save");
    fs::create_dir_all(&dir).unwrap();
    two_image_archive(&dir);
    fs::remove_file(dir.join("index.json")).unwrap();
    let archive = tmp.path().join("save.tar");
    layout::tar_folder_to(&dir, &archive);
    let store = Store::open(tmp.path().join("images")).unwrap();
    let lines = store.load(&archive).unwrap();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(store.list().unwrap().len(), 2);
    assert_eq!(fs::read_dir(store.dir().join("tmp")).unwrap().count(), 0);
}

#[test]
fn gzipped_oci_tar_loads() {
    // The middle layer holds a whiteout: a 0:0 device, root only.
    if !require_root("gzipped_oci_tar_loads") {
        return;
    }
    let tmp = TempDir::new("load-oci-gz");
    let dir = tmp.path().join("layout");
    fs::create_dir_all(&dir).unwrap();
    two_image_archive(&dir);
    fs::remove_file(dir.join("manifest.json")).unwrap();
    let archive = tmp.path().join("layout.tar.gz");
    fs::write(&archive, layout::gzip(&layout::tar_dir(&dir))).unwrap();
    let store = Store::open(tmp.path().join("images")).unwrap();
    assert_eq!(store.load(&archive).unwrap().len(), 2);
    assert_eq!(fs::read_dir(store.dir().join("tmp")).unwrap().count(), 0);
}

#[test]
fn layer_not_matching_its_diff_id_is_refused() {
    let tmp = TempDir::new("load-bad-diffid");
    let dir = tmp.path().join("layout");
    fs::create_dir_all(&dir).unwrap();
    layout::add_image(
        &dir,
        "localhost/bad:1",
        &[layout::tar_files(&[("a", b"1")])],
        "/x",
    );
    // Swap the layer's bytes for another tar behind the same file name.
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let layer = manifest[0]["Layers"][0].as_str().unwrap();
    fs::write(
        dir.join(layer),
        layout::gzip(&layout::tar_files(&[("a", b"2")])),
    )
    .unwrap();
    fs::remove_file(dir.join("index.json")).unwrap();
    let store = Store::open(tmp.path().join("images")).unwrap();
    let err = store.load(&dir).unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    assert_eq!(fs::read_dir(store.dir().join("layers")).unwrap().count(), 0);
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn folder_that_is_no_archive_says_so() {
    let tmp = TempDir::new("load-nothing");
    let store = Store::open(tmp.path().join("images")).unwrap();
    let err = store.load(tmp.path()).unwrap_err();
    assert!(err.to_string().contains("neither"), "{err}");
}
