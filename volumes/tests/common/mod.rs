//! Pods and namespaces for the integration tests of peapod-volumes.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use peapod_spec::{
    Container, EmptyDirVolumeSource, HostPathType, HostPathVolumeSource, Pod, Quantity,
    StorageMedium, Volume, VolumeMount, VolumeSource,
};
use peapod_volumes::{PodFiles, RootfsLayers, VolumeDirs};

/// A one-container pod `p` with these volumes, each mounted at `/v/<name>`.
pub fn pod(volumes: Vec<Volume>) -> Pod {
    let mut pod = Pod::default();
    pod.metadata.name = Some("p".into());
    pod.spec.containers = vec![Container {
        name: "c".into(),
        image: "busybox".into(),
        volume_mounts: volumes
            .iter()
            .map(|v| VolumeMount {
                name: v.name.clone(),
                mount_path: format!("/v/{}", v.name),
                ..VolumeMount::default()
            })
            .collect(),
        ..Container::default()
    }];
    pod.spec.volumes = volumes;
    pod
}

pub fn host_path(name: &str, path: &Path, kind: HostPathType) -> Volume {
    Volume {
        name: name.into(),
        source: VolumeSource::HostPath(HostPathVolumeSource {
            path: path.to_string_lossy().into_owned(),
            type_: Some(kind),
        }),
    }
}

pub fn empty_dir(name: &str) -> Volume {
    Volume {
        name: name.into(),
        source: VolumeSource::EmptyDir(EmptyDirVolumeSource::default()),
    }
}

pub fn memory_empty_dir(name: &str, size_limit: &str) -> Volume {
    Volume {
        name: name.into(),
        source: VolumeSource::EmptyDir(EmptyDirVolumeSource {
            medium: Some(StorageMedium::Memory),
            size_limit: Some(Quantity::parse(size_limit).expect("quantity")),
        }),
    }
}

pub fn rootfs() -> RootfsLayers {
    RootfsLayers {
        lower: vec!["/l".into()],
        upper: "/u".into(),
        work: "/w".into(),
        mountpoint: "/r".into(),
    }
}

pub fn pod_files() -> PodFiles {
    PodFiles {
        hosts: "/h/hosts".into(),
        hostname: "/h/hostname".into(),
        resolv_conf: "/h/resolv.conf".into(),
    }
}

/// Removes the pod's volumes when the test ends, failed or not.
pub struct TeardownGuard(pub VolumeDirs);

impl Drop for TeardownGuard {
    fn drop(&mut self) {
        let _ = peapod_volumes::teardown(&self.0);
    }
}

/// Mount points of this process's namespace at or below `dir`.
pub fn mounts_below(dir: &Path) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .expect("mountinfo")
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_owned))
        .filter(|m| Path::new(m).starts_with(dir))
        .collect()
}

/// Runs the `#[ignore]`d test `name` of this test binary in a new mount
/// namespace with private propagation (`unshare -m`), with `PEAPOD_TEST_DIR`
/// set to `dir`, and checks that it ran and passed. Its mounts die with it.
pub fn in_private_mount_ns(name: &str, dir: &Path) {
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--"])
        .arg(exe)
        .args([
            "--ignored",
            "--exact",
            name,
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PEAPOD_TEST_DIR", dir)
        .output()
        .expect("run unshare");
    eprintln!(
        "--- {name} in a private mount namespace ---\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{name} failed: {:?}", out.status);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "{name} did not run"
    );
}

/// `PEAPOD_TEST_DIR` in a child made by [`in_private_mount_ns`], or `None`
/// when the ignored test was run by hand.
pub fn child_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("PEAPOD_TEST_DIR").map(Into::into)
}
