//! The device cgroup of a container: which device nodes it may create
//! (`mknod`) and open. An ordinary container gets runc's default list; a
//! privileged one is left open, as runc and containerd leave it.
//!
//! v1 writes the `devices` controller's files: `devices.deny` with `a`
//! (nothing) first, then each rule to `devices.allow`. The kernel refuses
//! `a` on a cgroup with children, so this is for leaves (a container's
//! own cgroup). v2 has no files for this: `device_filter` attaches a BPF
//! program built from the same rules.

use std::path::PathBuf;

use super::write_file;
use crate::error::{Error, Result};

/// One rule of a device cgroup: a type, a major and minor (`None` is
/// `*`), and the access (`r`, `w`, `m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceRule {
    /// `c` (character), `b` (block).
    pub kind: char,
    /// Major number; `None` matches any.
    pub major: Option<u32>,
    /// Minor number; `None` matches any.
    pub minor: Option<u32>,
    /// Some of `rwm`.
    pub access: &'static str,
}

impl DeviceRule {
    const fn char_dev(major: u32, minor: u32) -> Self {
        Self {
            kind: 'c',
            major: Some(major),
            minor: Some(minor),
            access: "rwm",
        }
    }

    /// The rule as `devices.allow` takes it: `c 1:3 rwm`, `b *:* m`.
    pub fn line(&self) -> String {
        let num = |n: Option<u32>| n.map_or_else(|| "*".to_owned(), |n| n.to_string());
        format!(
            "{} {}:{} {}",
            self.kind,
            num(self.major),
            num(self.minor),
            self.access
        )
    }
}

/// What an ordinary container may use: runc's default `AllowedDevices`
/// (`libcontainer/specconv`) less `/dev/net/tun`, plus `/dev/fuse` as
/// containerd allows it. `mknod` of any node stays allowed (`m`), as runc
/// allows it: a node made is useless, as it cannot be opened.
pub const DEFAULT_ALLOWED_DEVICES: &[DeviceRule] = &[
    DeviceRule {
        kind: 'c',
        major: None,
        minor: None,
        access: "m",
    },
    DeviceRule {
        kind: 'b',
        major: None,
        minor: None,
        access: "m",
    },
    DeviceRule::char_dev(1, 3),    // null
    DeviceRule::char_dev(1, 5),    // zero
    DeviceRule::char_dev(1, 7),    // full
    DeviceRule::char_dev(1, 8),    // random
    DeviceRule::char_dev(1, 9),    // urandom
    DeviceRule::char_dev(5, 0),    // tty
    DeviceRule::char_dev(5, 1),    // console
    DeviceRule::char_dev(5, 2),    // ptmx
    DeviceRule::char_dev(10, 229), // fuse
    DeviceRule {
        kind: 'c',
        major: Some(136),
        minor: None,
        access: "rwm",
    }, // pts/*
];

/// v1: denies every device, then allows `rules`, in the hierarchy whose
/// folder has `devices.deny`. A host without the `devices` controller
/// mounted is an error naming the file: a container must not run with
/// every device open by accident.
pub(super) fn v1_restrict(dirs: &[PathBuf], rules: &[DeviceRule]) -> Result<()> {
    let dir = dirs
        .iter()
        .find(|d| d.join("devices.deny").exists())
        .ok_or_else(|| {
            Error::cgroup(
                dirs.first()
                    .map_or_else(|| PathBuf::from("devices.deny"), |d| d.join("devices.deny")),
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the devices controller is not mounted",
                ),
            )
        })?;
    write_file(dir, "devices.deny", "a")?;
    for rule in rules {
        write_file(dir, "devices.allow", &rule.line())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_print_as_the_kernel_reads_them() {
        let lines: Vec<String> = DEFAULT_ALLOWED_DEVICES
            .iter()
            .map(DeviceRule::line)
            .collect();
        assert_eq!(lines[0], "c *:* m");
        assert_eq!(lines[1], "b *:* m");
        assert!(lines.contains(&"c 1:3 rwm".to_owned()));
        assert!(lines.contains(&"c 136:* rwm".to_owned()));
        // The host's kernel log (c 1:11) and memory (c 1:1) stay out.
        assert!(
            !lines
                .iter()
                .any(|l| l.starts_with("c 1:11") || l.starts_with("c 1:1 "))
        );
    }

    #[test]
    fn v1_denies_all_before_allowing_the_list() {
        let tmp = peapod_testkit::TempDir::new("cg-devices");
        let dev = tmp.path().join("devices");
        std::fs::create_dir_all(&dev).expect("mkdir");
        std::fs::write(dev.join("devices.deny"), "").expect("seed");
        v1_restrict(
            &[tmp.path().join("memory"), dev.clone()],
            DEFAULT_ALLOWED_DEVICES,
        )
        .expect("restrict");
        // A regular file keeps only the last write: the last rule.
        assert_eq!(
            std::fs::read_to_string(dev.join("devices.deny")).expect("read"),
            "a"
        );
        assert_eq!(
            std::fs::read_to_string(dev.join("devices.allow")).expect("read"),
            "c 136:* rwm"
        );
    }

    #[test]
    fn v1_without_devices_controller_is_an_error() {
        let tmp = peapod_testkit::TempDir::new("cg-nodevices");
        let err = v1_restrict(&[tmp.path().to_path_buf()], DEFAULT_ALLOWED_DEVICES)
            .expect_err("refused")
            .to_string();
        assert!(err.contains("devices"), "{err}");
    }
}
