//! hostPath `type` semantics and subPath escapes, against real files,
//! sockets and device nodes, through the public API.

mod common;

use std::fs;
use std::os::unix::net::UnixListener;
use std::path::Path;

use common::{TeardownGuard, host_path, pod, pod_files, rootfs};
use peapod_core::MountStep;
use peapod_spec::HostPathType;
use peapod_testkit::TempDir;
use peapod_volumes::{PodVolumes, VolumeDirs};

fn prepare_one(t: &TempDir, path: &Path, kind: HostPathType) -> Result<PodVolumes, String> {
    let dirs = VolumeDirs::new(&t.path().join("lib"), "uid");
    let _guard = TeardownGuard(dirs.clone());
    PodVolumes::prepare(&pod(vec![host_path("data", path, kind)]), dirs).map_err(|e| e.to_string())
}

/// The first block device under /dev, if the host has one.
fn some_block_device() -> Option<std::path::PathBuf> {
    use std::os::unix::fs::FileTypeExt;
    fs::read_dir("/dev")
        .ok()?
        .filter_map(Result::ok)
        .find_map(|e| {
            let t = e.file_type().ok()?;
            t.is_block_device().then(|| e.path())
        })
}

#[test]
fn socket_type_accepts_a_listening_socket_and_refuses_a_file() {
    let t = TempDir::new("hp-sock");
    let sock = t.path().join("s.sock");
    let _listener = UnixListener::bind(&sock).expect("bind");
    prepare_one(&t, &sock, HostPathType::Socket).expect("socket");
    let file = t.path().join("f");
    fs::write(&file, "").expect("write");
    let err = prepare_one(&t, &file, HostPathType::Socket).expect_err("file");
    assert_eq!(
        err,
        format!("volume \"data\": hostPath {file:?} is not a socket, it is a file")
    );
}

#[test]
fn char_device_type_accepts_dev_null_and_file_type_refuses_it() {
    let t = TempDir::new("hp-chr");
    prepare_one(&t, Path::new("/dev/null"), HostPathType::CharDevice).expect("char");
    let err = prepare_one(&t, Path::new("/dev/null"), HostPathType::File).expect_err("not file");
    assert_eq!(
        err,
        "volume \"data\": hostPath \"/dev/null\" is not a file, it is a character device"
    );
}

#[test]
fn block_device_type_accepts_a_block_device() {
    let dev = some_block_device();
    if !peapod_testkit::require_host(
        "block_device_type_accepts_a_block_device",
        "a block device under /dev",
        dev.is_some(),
    ) {
        return;
    }
    let Some(dev) = dev else { return };
    let t = TempDir::new("hp-blk");
    prepare_one(&t, &dev, HostPathType::BlockDevice).expect("block");
    let err = prepare_one(&t, &dev, HostPathType::CharDevice).expect_err("not char");
    assert!(
        err.ends_with("is not a character device, it is a block device"),
        "{err}"
    );
}

#[test]
fn directory_or_create_and_file_or_create_make_what_is_missing() {
    let t = TempDir::new("hp-create");
    let d = t.path().join("made/deep");
    prepare_one(&t, &d, HostPathType::DirectoryOrCreate).expect("dir");
    assert!(d.is_dir());
    let f = t.path().join("made/file");
    prepare_one(&t, &f, HostPathType::FileOrCreate).expect("file");
    assert!(f.is_file());
    let err = prepare_one(&t, &t.path().join("nodir/file"), HostPathType::FileOrCreate)
        .expect_err("parent missing");
    assert!(err.contains("No such file or directory"), "{err}");
    let err = prepare_one(&t, &f, HostPathType::DirectoryOrCreate).expect_err("a file");
    assert!(err.ends_with("is not a directory, it is a file"), "{err}");
}

#[test]
fn directory_type_follows_a_symlink_to_a_directory() {
    let t = TempDir::new("hp-link");
    let real = t.path().join("real");
    fs::create_dir(&real).expect("mkdir");
    let link = t.path().join("link");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    prepare_one(&t, &link, HostPathType::Directory).expect("dir through link");
}

#[test]
fn sub_path_through_a_symlink_out_of_a_host_path_is_refused() {
    let t = TempDir::new("hp-escape");
    let vol = t.path().join("vol");
    fs::create_dir(&vol).expect("mkdir");
    std::os::unix::fs::symlink("/etc", vol.join("escape")).expect("symlink");
    std::os::unix::fs::symlink("../..", vol.join("up")).expect("symlink");
    let dirs = VolumeDirs::new(&t.path().join("lib"), "uid");
    let _guard = TeardownGuard(dirs.clone());
    let mut p = pod(vec![host_path("data", &vol, HostPathType::Directory)]);
    let vols = PodVolumes::prepare(&p, dirs).expect("prepare");
    for sub in ["escape", "escape/passwd", "up/etc"] {
        p.spec.containers[0].volume_mounts[0].sub_path = Some(sub.into());
        let err = vols
            .mount_plan(&p.spec.containers[0], &rootfs(), &pod_files())
            .expect_err("escape")
            .to_string();
        assert_eq!(
            err,
            format!(
                "container \"c\": volume \"data\": subPath {sub:?} escapes the volume through a symlink"
            )
        );
    }
    p.spec.containers[0].volume_mounts[0].sub_path = Some("inside".into());
    let plan = vols
        .mount_plan(&p.spec.containers[0], &rootfs(), &pod_files())
        .expect("inside");
    assert!(
        matches!(plan.steps.last(), Some(MountStep::Bind { source, .. })
        if *source == vol.canonicalize().expect("canon").join("inside"))
    );
}

#[test]
fn mount_tmpfs_in_the_callers_own_namespace_is_refused() {
    let t = TempDir::new("hp-ns");
    let dirs = VolumeDirs::new(&t.path().join("lib"), "uid");
    let _guard = TeardownGuard(dirs.clone());
    let vols = PodVolumes::prepare(&pod(vec![]), dirs.clone()).expect("prepare");
    let err = vols.mount_tmpfs().expect_err("not private").to_string();
    assert!(err.contains("mount namespace"), "{err}");
    assert!(common::mounts_below(t.path()).is_empty());
}
