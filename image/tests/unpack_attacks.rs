//! Each attack on the layer unpacker, from a hand-made malicious tar: the
//! import fails (or stays inside the layer), nothing is written outside,
//! and no layer or temporary folder is left behind.

#![allow(clippy::unwrap_used, missing_docs)]

use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use peapod_image::{Error, ImageConfig, Limits, Store};
use peapod_testkit::TempDir;

/// A raw tar entry, names written byte for byte (the `tar` crate's own
/// setters refuse `..`, which is the point here).
fn raw(b: &mut tar::Builder<Vec<u8>>, path: &str, kind: tar::EntryType, link: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    {
        let gnu = h.as_gnu_mut().expect("gnu header");
        gnu.name[..path.len()].copy_from_slice(path.as_bytes());
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_entry_type(kind);
    h.set_mode(if kind == tar::EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_size(data.len() as u64);
    h.set_mtime(1_700_000_000);
    h.set_uid(0);
    h.set_gid(0);
    h.set_cksum();
    b.append(&h, data).expect("append raw entry");
}

fn tar_of(entries: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    entries(&mut b);
    b.into_inner().expect("finish tar")
}

struct Case {
    _tmp: TempDir,
    root: PathBuf,
    store: Store,
    outside: PathBuf,
}

impl Case {
    fn new(tag: &str) -> Self {
        let tmp = TempDir::new(tag);
        let root = tmp.path().to_path_buf();
        let outside = root.join("outside");
        fs::create_dir_all(&outside).unwrap();
        let store = Store::open(root.join("store")).unwrap();
        Self {
            _tmp: tmp,
            root,
            store,
            outside,
        }
    }

    fn import(&self, bytes: &[u8]) -> peapod_image::Result<peapod_image::Image> {
        let file = self.root.join("layer.tar");
        fs::write(&file, bytes).unwrap();
        self.store.import(&file, "evil:1", ImageConfig::default())
    }

    /// Nothing outside, no layer, no temporary folder.
    fn assert_nothing_left(&self) {
        assert_eq!(
            fs::read_dir(&self.outside).unwrap().count(),
            0,
            "written outside the layer"
        );
        for sub in ["layers", "tmp"] {
            let left: Vec<_> = fs::read_dir(self.store.dir().join(sub)).unwrap().collect();
            assert!(left.is_empty(), "{sub}/ not empty: {left:?}");
        }
    }
}

fn unsafe_entry(r: peapod_image::Result<peapod_image::Image>) -> String {
    match r {
        Err(e @ Error::UnsafeEntry { .. }) => e.to_string(),
        other => panic!("expected an unsafe-entry error, got {other:?}"),
    }
}

#[test]
fn dotdot_path_is_refused() {
    let c = Case::new("dotdot");
    let tar = tar_of(|b| raw(b, "../outside/pwned", tar::EntryType::Regular, "", b"x"));
    let msg = unsafe_entry(c.import(&tar));
    assert!(msg.contains("../outside/pwned"), "{msg}");
    c.assert_nothing_left();
}

#[test]
fn absolute_path_stays_inside_the_layer() {
    let c = Case::new("absolute");
    let target = format!("{}/abs", c.outside.display());
    let tar = tar_of(|b| raw(b, &target, tar::EntryType::Regular, "", b"x"));
    let image = c
        .import(&tar)
        .expect("an absolute path is rooted at the layer");
    assert_eq!(fs::read_dir(&c.outside).unwrap().count(), 0);
    let inside = image.lower_dirs[0].join(target.trim_start_matches('/'));
    assert_eq!(fs::read(inside).unwrap(), b"x");
}

#[test]
fn symlink_planted_then_followed_is_refused() {
    let c = Case::new("symlink-follow");
    let outside = c.outside.display().to_string();
    let tar = tar_of(|b| {
        raw(b, "escape", tar::EntryType::Symlink, &outside, b"");
        raw(b, "escape/pwned", tar::EntryType::Regular, "", b"x");
    });
    let msg = unsafe_entry(c.import(&tar));
    assert!(msg.contains("symlink"), "{msg}");
    c.assert_nothing_left();
}

#[test]
fn relative_symlink_up_then_followed_is_refused() {
    let c = Case::new("symlink-up");
    let tar = tar_of(|b| {
        raw(b, "a/", tar::EntryType::Directory, "", b"");
        raw(
            b,
            "a/up",
            tar::EntryType::Symlink,
            "../../../../../../../..",
            b"",
        );
        raw(b, "a/up/tmp/pwned", tar::EntryType::Regular, "", b"x");
    });
    unsafe_entry(c.import(&tar));
    c.assert_nothing_left();
}

#[test]
fn directory_replaced_by_symlink_then_written_through_is_refused() {
    let c = Case::new("dir-swap");
    let outside = c.outside.display().to_string();
    let tar = tar_of(|b| {
        raw(b, "d/", tar::EntryType::Directory, "", b"");
        raw(b, "d", tar::EntryType::Symlink, &outside, b"");
        raw(b, "d/pwned", tar::EntryType::Regular, "", b"x");
    });
    unsafe_entry(c.import(&tar));
    c.assert_nothing_left();
}

#[test]
fn parent_swapped_for_a_symlink_after_use_is_refused() {
    // `d` is the parent of the entry before the swap (the unpacker caches
    // it): the swap must not let `d/b` land in the old or the new target.
    let c = Case::new("cached-parent-swap");
    let outside = c.outside.display().to_string();
    let tar = tar_of(|b| {
        raw(b, "d/", tar::EntryType::Directory, "", b"");
        raw(b, "d/a", tar::EntryType::Regular, "", b"1");
        raw(b, "d", tar::EntryType::Symlink, &outside, b"");
        raw(b, "d/b", tar::EntryType::Regular, "", b"2");
    });
    unsafe_entry(c.import(&tar));
    c.assert_nothing_left();
}

#[test]
fn hard_link_to_outside_is_refused() {
    let c = Case::new("hardlink-out");
    fs::write(c.outside.join("secret"), b"s").unwrap();
    let tar = tar_of(|b| raw(b, "stolen", tar::EntryType::Link, "../outside/secret", b""));
    unsafe_entry(c.import(&tar));
    fs::remove_file(c.outside.join("secret")).unwrap();
    c.assert_nothing_left();
}

#[test]
fn hard_link_through_planted_symlink_is_refused() {
    let c = Case::new("hardlink-symlink");
    fs::write(c.outside.join("secret"), b"s").unwrap();
    let outside = c.outside.display().to_string();
    let tar = tar_of(|b| {
        raw(b, "door", tar::EntryType::Symlink, &outside, b"");
        raw(b, "stolen", tar::EntryType::Link, "door/secret", b"");
    });
    unsafe_entry(c.import(&tar));
    assert_eq!(fs::metadata(c.outside.join("secret")).unwrap().len(), 1);
    fs::remove_file(c.outside.join("secret")).unwrap();
    c.assert_nothing_left();
}

#[test]
fn absolute_hard_link_target_is_resolved_inside_the_layer() {
    let c = Case::new("hardlink-abs");
    let secret = c.outside.join("secret");
    fs::write(&secret, b"s").unwrap();
    let tar = tar_of(|b| {
        raw(
            b,
            "stolen",
            tar::EntryType::Link,
            &secret.display().to_string(),
            b"",
        );
    });
    // The target does not exist inside the layer: the link fails, the host
    // file is not linked.
    assert!(c.import(&tar).is_err());

    assert_eq!(fs::metadata(&secret).unwrap().nlink(), 1);
    fs::remove_file(&secret).unwrap();
    c.assert_nothing_left();
}

#[test]
fn tar_bomb_stops_at_the_size_budget() {
    let tmp = TempDir::new("bomb");
    let store = Store::open(tmp.path().join("store"))
        .unwrap()
        .with_limits(Limits {
            max_layer_bytes: 1 << 20,
        });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let tar = tar_of(|b| raw(b, "zeros", tar::EntryType::Regular, "", &vec![0u8; 8 << 20]));
    gz.write_all(&tar).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 64 << 10, "the bomb is small compressed");
    let file = tmp.path().join("bomb.tar.gz");
    fs::write(&file, bomb).unwrap();
    let err = store
        .import(&file, "bomb", ImageConfig::default())
        .unwrap_err();
    assert!(err.to_string().contains("budget"), "{err}");
    for sub in ["layers", "tmp"] {
        assert_eq!(
            fs::read_dir(store.dir().join(sub)).unwrap().count(),
            0,
            "{sub}/ not empty"
        );
    }
}

#[test]
fn truncated_entry_data_is_an_error() {
    let c = Case::new("truncated");
    let tar = tar_of(|b| raw(b, "big", tar::EntryType::Regular, "", &vec![7u8; 100_000]));
    let err = c.import(&tar[..50_000]).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    c.assert_nothing_left();
}

#[test]
fn archive_without_end_blocks_is_truncated() {
    let c = Case::new("no-end");
    let tar = tar_of(|b| {
        raw(b, "a", tar::EntryType::Regular, "", b"1");
        raw(b, "b", tar::EntryType::Regular, "", b"2");
    });
    // Cut right after the first entry (header + one data block).
    let err = c.import(&tar[..1024]).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    c.assert_nothing_left();
}

#[test]
fn truncated_gzip_is_an_error() {
    let c = Case::new("truncated-gz");
    let tar = tar_of(|b| raw(b, "f", tar::EntryType::Regular, "", &[1u8; 10_000]));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let gz = gz.finish().unwrap();
    assert!(c.import(&gz[..gz.len() - 10]).is_err());
    c.assert_nothing_left();
}

#[test]
fn whiteout_of_dotdot_is_refused() {
    let c = Case::new("whiteout-dotdot");
    let tar = tar_of(|b| raw(b, "a/.wh...", tar::EntryType::Regular, "", b""));
    unsafe_entry(c.import(&tar));
    c.assert_nothing_left();
}

#[test]
fn corrupt_header_is_an_error() {
    let c = Case::new("corrupt");
    let mut tar = tar_of(|b| raw(b, "f", tar::EntryType::Regular, "", b"x"));
    tar[10] ^= 0xff;
    assert!(matches!(c.import(&tar), Err(Error::BadLayer { .. })));
    c.assert_nothing_left();
}
