//! `image save` read back by `image load`: an image's files, run defaults,
//! whiteouts and name survive the round trip.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "common/layout.rs"]
mod layout;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use peapod_image::Store;
use peapod_testkit::{TempDir, require_root};

/// A layer with `keep/a`, `gone` and `dir/old`, then one that whites out
/// `gone` and makes `dir` opaque with a new `dir/new`.
fn whiteout_layers() -> Vec<Vec<u8>> {
    vec![
        layout::tar_files(&[("keep/a", b"a\n"), ("gone", b"x\n"), ("dir/old", b"o\n")]),
        layout::tar_files(&[
            (".wh.gone", b""),
            ("dir/.wh..wh..opq", b""),
            ("dir/new", b"n\n"),
        ]),
    ]
}

#[test]
fn save_then_load_keeps_whiteouts_opaque_dirs_and_the_name() {
    // Whiteouts are 0:0 devices and trusted.* xattrs: root only.
    if !require_root("save_then_load_keeps_whiteouts_opaque_dirs_and_the_name") {
        return;
    }
    let tmp = TempDir::new("save-round-trip");
    let dir = tmp.path().join("layout");
    fs::create_dir_all(&dir).unwrap();
    layout::add_image(&dir, "localhost/wh:1", &whiteout_layers(), "/bin/true");
    fs::remove_file(dir.join("manifest.json")).unwrap();
    let first = Store::open(tmp.path().join("first")).unwrap();
    first.load(&dir).unwrap();

    let archive = tmp.path().join("wh.tar");
    first.save("localhost/wh:1", &archive).unwrap();
    let second = Store::open(tmp.path().join("second")).unwrap();
    assert_eq!(
        second.load(&archive).unwrap(),
        ["Loaded image: localhost/wh:1"]
    );
    let image = second.image("localhost/wh:1").unwrap();
    assert_eq!(
        image.config.cmd.as_deref(),
        Some(&["/bin/true".to_owned()][..])
    );
    // Topmost first.
    let (top, bottom) = (&image.lower_dirs[0], &image.lower_dirs[1]);
    assert_eq!(fs::read(bottom.join("keep/a")).unwrap(), b"a\n");
    assert_eq!(fs::read(bottom.join("dir/old")).unwrap(), b"o\n");
    assert_eq!(fs::read(top.join("dir/new")).unwrap(), b"n\n");
    let whiteout = fs::symlink_metadata(top.join("gone")).unwrap();
    assert!(whiteout.file_type().is_char_device() && whiteout.rdev() == 0);
    let mut opaque = [0u8; 4];
    let n = rustix::fs::getxattr(top.join("dir"), "trusted.overlay.opaque", &mut opaque).unwrap();
    assert_eq!(&opaque[..n], b"y");
    assert!(!top.join("dir/.wh..wh..opq").exists());

    // Saved by ID: no name inside, loaded unnamed.
    let by_id = tmp.path().join("by-id.tar");
    first.save(&image_id(&first), &by_id).unwrap();
    let third = Store::open(tmp.path().join("third")).unwrap();
    let lines = third.load(&by_id).unwrap();
    assert!(
        lines[0].starts_with("Loaded image ID: sha256:"),
        "{lines:?}"
    );
}

fn image_id(store: &Store) -> String {
    store.list().unwrap()[0].id.to_string()
}
