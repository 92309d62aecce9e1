//! The store as the runtime and the CLI use it: import, ensure with each
//! pull policy, ls, rm with garbage collection, concurrent writers, and the
//! layer metadata an overlay rootfs needs (root only where the kernel says).

#![allow(clippy::unwrap_used, clippy::many_single_char_names, missing_docs)]

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use peapod_image::{Error, ImageConfig, PullPolicy, Store};
use peapod_testkit::{TempDir, busybox_rootfs, require_root};

fn store(tmp: &TempDir) -> Store {
    Store::open(tmp.path().join("images")).unwrap()
}

fn busybox_config() -> ImageConfig {
    ImageConfig {
        cmd: Some(vec!["/bin/sh".to_string()]),
        env: Some(vec!["PATH=/usr/sbin:/usr/bin:/sbin:/bin".to_string()]),
        ..ImageConfig::default()
    }
}

fn count(dir: &Path) -> usize {
    fs::read_dir(dir).unwrap().count()
}

#[test]
fn imported_busybox_dir_is_one_lower_dir_with_its_config() {
    let tmp = TempDir::new("import-busybox");
    let s = store(&tmp);
    let image = s
        .import(busybox_rootfs(), "busybox:1.30.1", busybox_config())
        .unwrap();
    assert_eq!(image.reference, "docker.io/library/busybox:1.30.1");
    assert_eq!(image.lower_dirs.len(), 1);
    let bb = image.lower_dirs[0].join("bin/busybox");
    assert!(fs::metadata(&bb).unwrap().len() > 100_000);
    assert_eq!(
        fs::read_link(image.lower_dirs[0].join("bin/sh")).unwrap(),
        Path::new("/bin/busybox")
    );
    assert_eq!(
        fs::metadata(image.lower_dirs[0].join("tmp"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o1777
    );
    assert_eq!(image.config.cmd, Some(vec!["/bin/sh".to_string()]));
    let again = s
        .ensure("busybox:1.30.1", PullPolicy::IfNotPresent)
        .unwrap();
    assert_eq!(again, image);
    assert_eq!(
        s.ensure(&image.id.to_string(), PullPolicy::Never)
            .unwrap()
            .id,
        image.id
    );
    assert_eq!(
        s.ensure(&image.id.short()[..8], PullPolicy::Never)
            .unwrap()
            .id,
        image.id
    );
}

#[test]
fn same_tree_imported_twice_shares_its_layer() {
    let tmp = TempDir::new("import-twice");
    let s = store(&tmp);
    let a = s
        .import(busybox_rootfs(), "a", ImageConfig::default())
        .unwrap();
    let b = s
        .import(busybox_rootfs(), "b:2", ImageConfig::default())
        .unwrap();
    assert_eq!(a.lower_dirs, b.lower_dirs);
    assert_eq!(count(&s.dir().join("layers")), 1);
    // Same tree, same config: one image under two names.
    let refs: usize = s.list().unwrap().iter().map(|i| i.references.len()).sum();
    assert_eq!(refs, 2);
}

#[test]
fn never_policy_on_a_missing_image_says_it_as_kubelet_does() {
    let tmp = TempDir::new("never");
    let err = store(&tmp)
        .ensure("busybox:1.30.1", PullPolicy::Never)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Container image "busybox:1.30.1" is not present with pull policy of Never"#
    );
}

#[test]
fn kubernetes_default_policy_follows_the_tag() {
    assert_eq!(PullPolicy::default_for("busybox"), PullPolicy::Always);
    assert_eq!(
        PullPolicy::default_for("busybox:latest"),
        PullPolicy::Always
    );
    assert_eq!(
        PullPolicy::default_for("busybox:1.30.1"),
        PullPolicy::IfNotPresent
    );
}

#[test]
fn rm_untags_then_deletes_and_collects_layers() {
    let tmp = TempDir::new("rm");
    let s = store(&tmp);
    let a = s
        .import(busybox_rootfs(), "a", ImageConfig::default())
        .unwrap();
    s.import(busybox_rootfs(), "b", busybox_config()).unwrap();
    assert_eq!(
        s.remove("a").unwrap(),
        vec![
            "Untagged: docker.io/library/a:latest".to_string(),
            format!("Deleted: {}", a.id)
        ]
    );
    assert!(matches!(s.image("a"), Err(Error::UnknownImage { .. })));
    assert_eq!(count(&s.dir().join("layers")), 1, "b still uses the layer");
    s.remove("b").unwrap();
    assert_eq!(count(&s.dir().join("layers")), 0);
    assert_eq!(count(&s.dir().join("blobs/sha256")), 0);
    assert!(s.list().unwrap().is_empty());
    assert!(matches!(s.remove("b"), Err(Error::UnknownImage { .. })));
}

#[test]
fn concurrent_imports_into_one_store_all_land() {
    let tmp = TempDir::new("concurrent");
    let s = store(&tmp);
    std::thread::scope(|scope| {
        for i in 0..4 {
            let s = s.clone();
            scope.spawn(move || {
                s.import(busybox_rootfs(), &format!("c{i}"), ImageConfig::default())
                    .unwrap()
            });
        }
    });
    let refs: usize = s.list().unwrap().iter().map(|i| i.references.len()).sum();
    assert_eq!(refs, 4);
    assert_eq!(count(&s.dir().join("layers")), 1);
    assert_eq!(count(&s.dir().join("tmp")), 0);
}

#[test]
fn gzip_and_zstd_tars_import_to_the_same_layer() {
    let tmp = TempDir::new("compressed");
    let s = store(&tmp);
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(5);
    h.set_mode(0o755);
    h.set_cksum();
    b.append_data(&mut h, "bin/hello", &b"hello"[..]).unwrap();
    let plain = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &plain).unwrap();
    let gz = gz.finish().unwrap();
    let zst =
        ruzstd::encoding::compress_to_vec(&plain[..], ruzstd::encoding::CompressionLevel::Fastest);
    let mut ids = Vec::new();
    for (name, bytes) in [("p.tar", &plain), ("g.tar.gz", &gz), ("z.tar.zst", &zst)] {
        let f = tmp.path().join(name);
        fs::write(&f, bytes).unwrap();
        let image = s.import(&f, "x", ImageConfig::default()).unwrap();
        assert_eq!(
            fs::read(image.lower_dirs[0].join("bin/hello")).unwrap(),
            b"hello"
        );
        ids.push(image.lower_dirs[0].clone());
    }
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "one diffID for the three"
    );
}

#[test]
fn directory_import_keeps_owners_modes_links_devices_and_xattrs() {
    if !require_root("directory_import_keeps_owners_modes_links_devices_and_xattrs") {
        return;
    }
    let tmp = TempDir::new("import-meta");
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("d")).unwrap();
    fs::write(src.join("d/suid"), b"x").unwrap();
    std::os::unix::fs::chown(src.join("d/suid"), Some(1234), Some(5678)).unwrap();
    fs::set_permissions(src.join("d/suid"), fs::Permissions::from_mode(0o4755)).unwrap();
    fs::hard_link(src.join("d/suid"), src.join("hard")).unwrap();
    std::os::unix::fs::symlink("../nowhere", src.join("d/link")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        src.join("null"),
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::from_raw_mode(0o666),
        rustix::fs::makedev(1, 3),
    )
    .unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        src.join("fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    rustix::fs::setxattr(
        src.join("d/suid"),
        "user.peapod",
        b"v",
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    let s = store(&tmp);
    let layer = s
        .import(&src, "meta", ImageConfig::default())
        .unwrap()
        .lower_dirs[0]
        .clone();
    let suid = fs::metadata(layer.join("d/suid")).unwrap();
    assert_eq!(
        (suid.uid(), suid.gid(), suid.mode() & 0o7777),
        (1234, 5678, 0o4755)
    );
    assert_eq!(fs::metadata(layer.join("hard")).unwrap().ino(), suid.ino());
    assert_eq!(
        fs::read_link(layer.join("d/link")).unwrap(),
        Path::new("../nowhere")
    );
    let null = fs::symlink_metadata(layer.join("null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), rustix::fs::makedev(1, 3));
    assert!(
        fs::symlink_metadata(layer.join("fifo"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
    let mut v = [0u8; 8];
    let n = rustix::fs::getxattr(layer.join("d/suid"), "user.peapod", &mut v[..]).unwrap();
    assert_eq!(&v[..n], b"v");
}

#[test]
fn whiteouts_become_overlay_whiteouts() {
    if !require_root("whiteouts_become_overlay_whiteouts") {
        return;
    }
    let tmp = TempDir::new("whiteouts");
    let s = store(&tmp);
    let mut b = tar::Builder::new(Vec::new());
    for (path, kind) in [
        ("etc/", tar::EntryType::Directory),
        ("etc/.wh.passwd", tar::EntryType::Regular),
        ("opaque/", tar::EntryType::Directory),
        ("opaque/.wh..wh..opq", tar::EntryType::Regular),
        ("opaque/kept", tar::EntryType::Regular),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(0);
        h.set_mode(0o755);
        h.set_cksum();
        b.append_data(&mut h, path, std::io::empty()).unwrap();
    }
    let f = tmp.path().join("wh.tar");
    fs::write(&f, b.into_inner().unwrap()).unwrap();
    let layer = s
        .import(&f, "wh", ImageConfig::default())
        .unwrap()
        .lower_dirs[0]
        .clone();
    let wh = fs::symlink_metadata(layer.join("etc/passwd")).unwrap();
    assert!(wh.file_type().is_char_device());
    assert_eq!(wh.rdev(), 0);
    assert!(!layer.join("etc/.wh.passwd").exists());
    let mut v = [0u8; 4];
    let n =
        rustix::fs::getxattr(layer.join("opaque"), "trusted.overlay.opaque", &mut v[..]).unwrap();
    assert_eq!(&v[..n], b"y");
    assert!(layer.join("opaque/kept").exists());
    assert!(!layer.join("opaque/.wh..wh..opq").exists());
}

/// Unmounts its mount point on drop, even when the test fails.
struct Mounted(std::path::PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn disk_full_during_unpack_is_an_error_and_the_store_stays_intact() {
    if !require_root("disk_full_during_unpack_is_an_error_and_the_store_stays_intact") {
        return;
    }
    let tmp = TempDir::new("disk-full");
    let dir = tmp.path().join("images");
    fs::create_dir_all(&dir).unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "peapod-test-full"])
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let _mounted = Mounted(dir.clone());
    let s = Store::open(&dir).unwrap();
    let small = tmp.path().join("small");
    fs::create_dir_all(small.join("etc")).unwrap();
    fs::write(small.join("etc/hostname"), b"small\n").unwrap();
    s.import(&small, "small", ImageConfig::default()).unwrap();
    let index = fs::read(dir.join("index.json")).unwrap();

    let err = s
        .import(busybox_rootfs(), "busybox", ImageConfig::default())
        .unwrap_err();
    assert!(err.to_string().contains("No space left"), "{err}");
    assert_eq!(
        fs::read(dir.join("index.json")).unwrap(),
        index,
        "index untouched"
    );
    assert_eq!(count(&dir.join("tmp")), 0, "no partial layer left");
    assert_eq!(count(&dir.join("layers")), 1);
    assert!(s.ensure("small", PullPolicy::Never).is_ok());
}
