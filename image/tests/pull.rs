//! Pulls from a real registry (Debian's docker-registry on 127.0.0.1),
//! images pushed into it by skopeo from layouts built here. No mocked HTTP.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "common/layout.rs"]
mod layout;
#[path = "common/registry.rs"]
mod registry;

use std::fs;
use std::os::unix::fs::FileTypeExt;

use peapod_image::{Error, Progress, PullOptions, PullPolicy, Reference, Store};
use peapod_testkit::{TempDir, busybox_rootfs, require_root};
use registry::{Login, Registry};

fn insecure() -> PullOptions {
    PullOptions {
        insecure: true,
        ..PullOptions::default()
    }
}

#[test]
fn three_layer_image_pulls_then_its_layers_are_reused() {
    // The middle layer holds a whiteout: a 0:0 device, root only.
    if !require_root("three_layer_image_pulls_then_its_layers_are_reused") {
        return;
    }
    let tmp = TempDir::new("pull-three");
    let layout_dir = tmp.path().join("layout");
    fs::create_dir_all(&layout_dir).unwrap();
    layout::add_image(
        &layout_dir,
        "three:1",
        &layout::three_layers(busybox_rootfs()),
        "/bin/sh",
    );
    let reg = Registry::start(None);
    reg.push(&layout_dir, "three:1", "test/three:1", None);

    let store = Store::open(tmp.path().join("images")).unwrap();
    let name = format!("{}/test/three:1", reg.host());
    let mut events = Vec::new();
    let image = store
        .pull(&Reference::parse(&name).unwrap(), &insecure(), &mut |p| {
            events.push(p);
        })
        .unwrap();
    assert_eq!(image.reference, name);
    assert_eq!(image.lower_dirs.len(), 3);
    assert_eq!(
        fs::read(image.lower_dirs[0].join("hello")).unwrap(),
        b"world\n"
    );
    assert!(
        fs::symlink_metadata(image.lower_dirs[1].join("etc/group"))
            .unwrap()
            .file_type()
            .is_char_device()
    );
    assert!(image.lower_dirs[2].join("bin/busybox").is_file());
    assert_eq!(
        image.config.cmd.as_deref(),
        Some(&["/bin/sh".to_string()][..])
    );
    let done = events
        .iter()
        .filter(|e| matches!(e, Progress::LayerDone { .. }))
        .count();
    assert_eq!(done, 3);

    // Again, by digest: every layer is already there, nothing is downloaded.
    let digest = store.inspect(&name).unwrap().manifest_digest.unwrap();
    let by_digest = format!("{}/test/three@{digest}", reg.host());
    let mut events = Vec::new();
    let again = store
        .pull(
            &Reference::parse(&by_digest).unwrap(),
            &insecure(),
            &mut |p| events.push(p),
        )
        .unwrap();
    assert_eq!(again.id, image.id);
    assert!(
        events.iter().all(|e| !matches!(e, Progress::Layer { .. })),
        "{events:?}"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Progress::LayerExists { .. }))
            .count(),
        3
    );
    assert_eq!(fs::read_dir(store.dir().join("tmp")).unwrap().count(), 0);
}

#[test]
fn index_resolves_to_linux_amd64() {
    let tmp = TempDir::new("pull-index");
    let layout_dir = tmp.path().join("layout");
    fs::create_dir_all(&layout_dir).unwrap();
    let layers = [layout::tar_files(&[("bin/tool", b"amd64\n")])];
    layout::add_multi_platform_image(&layout_dir, "multi:1", &layers, "/bin/tool", "/arm");
    let reg = Registry::start(None);
    reg.push(&layout_dir, "multi:1", "test/multi:1", None);
    let store = Store::open(tmp.path().join("images")).unwrap();
    let name = format!("{}/test/multi:1", reg.host());
    let image = store
        .ensure_with(&name, PullPolicy::IfNotPresent, &insecure())
        .unwrap();
    assert_eq!(
        image.config.cmd.as_deref(),
        Some(&["/bin/tool".to_string()][..])
    );
    assert_eq!(
        fs::read(image.lower_dirs[0].join("bin/tool")).unwrap(),
        b"amd64\n"
    );
}

#[test]
fn unknown_tag_shows_the_registry_error_code() {
    let reg = Registry::start(None);
    let tmp = TempDir::new("pull-unknown");
    let store = Store::open(tmp.path().join("images")).unwrap();
    let r = Reference::parse(&format!("{}/test/nothing:1", reg.host())).unwrap();
    let err = store.pull(&r, &insecure(), &mut |_| {}).unwrap_err();
    match &err {
        Error::Registry { code, .. } => assert!(
            code == "MANIFEST_UNKNOWN" || code == "NAME_UNKNOWN",
            "{err}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn basic_auth_comes_from_the_auth_file() {
    let login = Login {
        user: "peapod",
        password: "s3cret",
    };
    let tmp = TempDir::new("pull-auth");
    let layout_dir = tmp.path().join("layout");
    fs::create_dir_all(&layout_dir).unwrap();
    layout::add_image(
        &layout_dir,
        "private:1",
        &[layout::tar_files(&[("secret", b"42\n")])],
        "/x",
    );
    let reg = Registry::start(Some(&login));
    reg.push(&layout_dir, "private:1", "test/private:1", Some(&login));
    let store = Store::open(tmp.path().join("images")).unwrap();
    let r = Reference::parse(&format!("{}/test/private:1", reg.host())).unwrap();

    let denied = store.pull(&r, &insecure(), &mut |_| {}).unwrap_err();
    assert!(
        matches!(denied, Error::Registry { ref code, .. } if code == "UNAUTHORIZED"),
        "{denied}"
    );

    let options = PullOptions {
        insecure: true,
        auth_file: Some(reg.auth_file(&login)),
        ..PullOptions::default()
    };
    let image = store.pull(&r, &options, &mut |_| {}).unwrap();
    assert_eq!(
        fs::read(image.lower_dirs[0].join("secret")).unwrap(),
        b"42\n"
    );
}
