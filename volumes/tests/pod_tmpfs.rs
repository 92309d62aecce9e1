//! Pod-level tmpfs (memory emptyDir with sizeLimit, the pod's /dev/shm)
//! and teardown, as root, inside private mount namespaces the tests make:
//! each `*_in_namespace` test is `#[ignore]`d and run by its parent test in
//! a child `unshare -m --propagation private` process, so nothing it
//! mounts can reach the host, even if it fails.

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use common::{
    TeardownGuard, child_dir, empty_dir, host_path, in_private_mount_ns, memory_empty_dir,
    mounts_below, pod,
};
use peapod_spec::HostPathType;
use peapod_testkit::{TempDir, require_root};
use peapod_volumes::{Error, PodVolumes, VolumeDirs, VolumeInputs, teardown};

const UID: &str = "uid-tmpfs";

/// Writes `len` bytes of zeros; returns the error that stopped it, if any.
fn write_zeros(path: &Path, len: usize) -> Option<std::io::Error> {
    let mut f = fs::File::create(path).expect("create");
    let chunk = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        if let Err(e) = f.write_all(&chunk[..n]) {
            return Some(e);
        }
        left -= n;
    }
    f.sync_all().err()
}

/// The parent side of a namespace test: as root, a scratch folder with a
/// `host-data/keep` file (standing for a hostPath's contents), the child
/// test run in a private mount namespace, and no mount left on the host
/// afterwards; then `check`. Skips without root.
fn run_in_namespace(test: &str, child: &str, check: impl FnOnce(&VolumeDirs)) {
    if !require_root(test) {
        return;
    }
    let t = TempDir::new("tmpfs");
    let host = t.path().join("host-data");
    fs::create_dir(&host).expect("mkdir");
    fs::write(host.join("keep"), "precious").expect("write");
    let dirs = VolumeDirs::new(t.path(), UID);
    let _guard = TeardownGuard(dirs.clone());
    in_private_mount_ns(child, t.path());
    assert_eq!(
        mounts_below(t.path()),
        Vec::<String>::new(),
        "mount leaked to the host"
    );
    check(&dirs);
    assert_eq!(
        fs::read_to_string(host.join("keep")).expect("kept"),
        "precious"
    );
}

#[test]
fn memory_empty_dir_size_limit_gives_enospc() {
    run_in_namespace(
        "memory_empty_dir_size_limit_gives_enospc",
        "memory_empty_dir_size_limit_in_namespace",
        |dirs| {
            assert!(
                !dirs.pod_dir().exists(),
                "teardown in the child removed the folders"
            );
        },
    );
}

#[test]
#[ignore = "run by memory_empty_dir_size_limit_gives_enospc in a private mount namespace"]
fn memory_empty_dir_size_limit_in_namespace() {
    let Some(dir) = child_dir() else { return };
    let dirs = VolumeDirs::new(&dir, UID);
    let vols = PodVolumes::prepare(&pod(vec![memory_empty_dir("cache", "1Mi")]), dirs.clone())
        .expect("prepare");
    vols.mount_tmpfs().expect("mount");
    let mounted = mounts_below(dirs.pod_dir());
    assert_eq!(mounted.len(), 2, "shm and cache: {mounted:?}");
    let info = fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    let shm_line = info
        .lines()
        .find(|l| l.contains(&*dirs.shm_dir().to_string_lossy()))
        .expect("shm mounted");
    assert!(shm_line.contains("size=65536k"), "{shm_line}");
    assert!(shm_line.contains("nosuid,nodev,noexec"), "{shm_line}");

    let err = write_zeros(&dirs.empty_dir("cache").join("big"), 2 << 20).expect("must fail");
    assert_eq!(err.raw_os_error(), Some(28), "ENOSPC, got {err}");
    write_zeros(&dirs.shm_dir().join("small"), 1 << 20);

    vols.teardown().expect("teardown");
    assert_eq!(mounts_below(&dir), Vec::<String>::new());
    assert!(!dirs.pod_dir().exists());
}

#[test]
fn teardown_after_a_crashed_supervisor_removes_folders_and_keeps_host_paths() {
    run_in_namespace(
        "teardown_after_a_crashed_supervisor_removes_folders_and_keeps_host_paths",
        "crashing_supervisor_in_namespace",
        |dirs| {
            // The supervisor died without teardown: its tmpfs died with it,
            // the disk emptyDir is left for `peapod delete`.
            assert!(dirs.empty_dir("disk").join("left").exists());
            teardown(dirs).expect("teardown");
            teardown(dirs).expect("teardown is idempotent");
            assert!(!dirs.pod_dir().exists());
        },
    );
}

#[test]
#[ignore = "run by teardown_after_a_crashed_supervisor_... in a private mount namespace"]
fn crashing_supervisor_in_namespace() {
    let Some(dir) = child_dir() else { return };
    let dirs = VolumeDirs::new(&dir, UID);
    let p = pod(vec![
        memory_empty_dir("mem", "4Mi"),
        empty_dir("disk"),
        host_path("host", &dir.join("host-data"), HostPathType::Directory),
    ]);
    let vols = PodVolumes::prepare(&p, dirs.clone()).expect("prepare");
    vols.mount_tmpfs().expect("mount");
    fs::write(dirs.empty_dir("mem").join("left"), "x").expect("write");
    fs::write(dirs.empty_dir("disk").join("left"), "x").expect("write");
    // No teardown: the process ends as a killed supervisor would.
}

#[test]
fn teardown_unmounts_a_bind_of_host_data_before_removing_anything() {
    run_in_namespace(
        "teardown_unmounts_a_bind_of_host_data_before_removing_anything",
        "bind_left_in_empty_dir_in_namespace",
        |_| {},
    );
}

#[test]
#[ignore = "run by teardown_unmounts_a_bind_of_host_data_... in a private mount namespace"]
fn bind_left_in_empty_dir_in_namespace() {
    let Some(dir) = child_dir() else { return };
    let dirs = VolumeDirs::new(&dir, UID);
    let vols = PodVolumes::prepare(&pod(vec![empty_dir("disk")]), dirs.clone()).expect("prepare");
    let inside = dirs.empty_dir("disk").join("bound");
    fs::create_dir(&inside).expect("mkdir");
    let status = Command::new("mount")
        .arg("--bind")
        .arg(dir.join("host-data"))
        .arg(&inside)
        .status()
        .expect("mount");
    assert!(status.success());
    assert!(inside.join("keep").exists());
    vols.teardown().expect("teardown");
    assert!(!dirs.pod_dir().exists());
}

#[test]
fn tmpfs_below_a_shared_mount_is_refused() {
    run_in_namespace(
        "tmpfs_below_a_shared_mount_is_refused",
        "shared_mount_in_namespace",
        |_| {},
    );
}

#[test]
#[ignore = "run by tmpfs_below_a_shared_mount_is_refused in a private mount namespace"]
fn shared_mount_in_namespace() {
    let Some(dir) = child_dir() else { return };
    let mount = |args: &[&str], path: &Path| {
        let ok = Command::new("mount")
            .args(args)
            .arg(path)
            .status()
            .expect("mount");
        assert!(ok.success(), "mount {args:?}");
    };
    mount(&["--bind", &dir.to_string_lossy()], &dir);
    mount(&["--make-shared"], &dir);
    let dirs = VolumeDirs::new(&dir, UID);
    let vols = PodVolumes::prepare(&pod(vec![]), dirs.clone()).expect("prepare");
    let err = vols.mount_tmpfs().expect_err("refused");
    assert!(matches!(err, Error::NotPrivate { .. }), "{err}");
    assert!(err.to_string().contains("shared propagation"), "{err}");
    assert_eq!(mounts_below(dirs.pod_dir()), Vec::<String>::new());
}

#[test]
fn secret_files_live_only_on_their_tmpfs() {
    run_in_namespace(
        "secret_files_live_only_on_their_tmpfs",
        "secret_on_tmpfs_in_namespace",
        |dirs| {
            // The supervisor is gone: on the host the folder was only ever a
            // mount point, and holds nothing.
            let dir = dirs.volume_dir("secret", "creds");
            assert!(dir.is_dir());
            assert_eq!(fs::read_dir(&dir).expect("ls").count(), 0, "secret on disk");
        },
    );
}

#[test]
#[ignore = "run by secret_files_live_only_on_their_tmpfs in a private mount namespace"]
fn secret_on_tmpfs_in_namespace() {
    use peapod_spec::{Secret, SecretVolumeSource, Volume, VolumeSource};
    use std::os::unix::fs::PermissionsExt;
    let Some(dir) = child_dir() else { return };
    let dirs = VolumeDirs::new(&dir, UID);
    let mut secret = Secret::default();
    secret.metadata.name = Some("db".into());
    secret
        .string_data
        .insert("password".into(), "hunter2".into());
    let secrets = [secret];
    let mut p = pod(vec![Volume {
        name: "creds".into(),
        source: VolumeSource::Secret(SecretVolumeSource {
            secret_name: "db".into(),
            default_mode: Some(0o400),
            ..SecretVolumeSource::default()
        }),
    }]);
    p.spec.security_context = Some(peapod_spec::PodSecurityContext {
        fs_group: Some(1234),
        ..peapod_spec::PodSecurityContext::default()
    });
    let inputs = VolumeInputs {
        secrets: &secrets,
        ..VolumeInputs::default()
    };
    let vols = PodVolumes::prepare_with(&p, dirs.clone(), &inputs).expect("prepare");
    vols.mount_tmpfs().expect("mount");
    let vol = dirs.volume_dir("secret", "creds");
    assert!(
        mounts_below(&vol).len() == 1,
        "a tmpfs on the secret folder"
    );
    let file = vol.join("password");
    assert_eq!(fs::read_to_string(&file).expect("read"), "hunter2");
    let meta = fs::metadata(&file).expect("stat");
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o440,
        "defaultMode 0400 + fsGroup read"
    );
    assert_eq!(std::os::unix::fs::MetadataExt::gid(&meta), 1234, "fsGroup");
    // No teardown: the namespace ends with this process.
}

#[test]
fn sub_path_is_pinned_so_a_later_symlink_swap_cannot_redirect_it() {
    run_in_namespace(
        "sub_path_is_pinned_so_a_later_symlink_swap_cannot_redirect_it",
        "sub_path_pin_in_namespace",
        |dirs| assert!(!dirs.pod_dir().exists()),
    );
}

#[test]
#[ignore = "run by sub_path_is_pinned_so_a_later_symlink_swap_... in a private mount namespace"]
fn sub_path_pin_in_namespace() {
    use peapod_core::MountStep;
    let Some(dir) = child_dir() else { return };
    let dirs = VolumeDirs::new(&dir, UID);
    let mut p = pod(vec![empty_dir("shared")]);
    p.spec.containers[0].volume_mounts[0].sub_path = Some("sub".into());
    let vols = PodVolumes::prepare(&p, dirs.clone()).expect("prepare");
    vols.mount_tmpfs().expect("mount");
    let shared = dirs.empty_dir("shared");
    fs::create_dir(shared.join("sub")).expect("mkdir");
    fs::write(shared.join("sub/inside"), "ok").expect("write");

    let c = &p.spec.containers[0];
    let plan = vols
        .mount_plan(c, &common::rootfs(), &common::pod_files())
        .expect("plan");
    let pin = dirs.sub_path_pin("shared", "c", 0);
    assert!(matches!(plan.steps.last(), Some(MountStep::Bind { source, .. }) if *source == pin));
    assert_eq!(mounts_below(&pin).len(), 1, "pinned by a bind mount");

    // A container swaps the subPath for a symlink out of the volume.
    fs::rename(shared.join("sub"), shared.join("sub-old")).expect("rename");
    std::os::unix::fs::symlink("/etc", shared.join("sub")).expect("symlink");
    assert_eq!(
        fs::read_to_string(pin.join("inside")).expect("pinned"),
        "ok"
    );
    assert!(!pin.join("passwd").exists());
    // The next start of the container resolves again, and refuses.
    let err = vols
        .mount_plan(c, &common::rootfs(), &common::pod_files())
        .expect_err("escape")
        .to_string();
    assert!(
        err.ends_with("escapes the volume through a symlink"),
        "{err}"
    );

    vols.teardown().expect("teardown");
    assert_eq!(mounts_below(&dir), Vec::<String>::new());
}
