//! The mounts of a container as plain data: built and validated in the
//! parent, applied in the child's new mount namespace before `pivot_root`.
//!
//! Paths inside the container (`target`, `path`) are absolute paths as the
//! container sees them (`/proc`, `/etc/hosts`); they are resolved below the
//! new root. Host paths (`source`, overlay dirs) are absolute host paths.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::user_namespace::IdMap;

/// The group of ptys (`tty`), as runc's default spec mounts devpts.
const TTY_GROUP: u32 = 5;

/// Flags of a mount that the container should not be able to lift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MountOptions {
    /// `MS_RDONLY`.
    pub readonly: bool,
    /// `MS_NOSUID`.
    pub nosuid: bool,
    /// `MS_NODEV`.
    pub nodev: bool,
    /// `MS_NOEXEC`.
    pub noexec: bool,
    /// With `readonly`, the mounts below the target read-only too
    /// (`mount_setattr` with `AT_RECURSIVE`; Kubernetes' `recursiveReadOnly`).
    pub recursive_readonly: bool,
}

impl MountOptions {
    /// `nosuid,nodev,noexec` — what `/proc`, `/sys`, `/dev/shm` get.
    pub const SECURE: Self = Self {
        readonly: false,
        nosuid: true,
        nodev: true,
        noexec: true,
        recursive_readonly: false,
    };

    /// The same options, read-only.
    #[must_use]
    pub fn read_only(mut self) -> Self {
        self.readonly = true;
        self
    }
}

/// Where the container's `/` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootFs {
    /// An overlay of image layers (`lower`, top layer first) with a
    /// writable `upper` and its `work` dir (same filesystem as `upper`).
    Overlay {
        /// Read-only layers, top first (overlayfs `lowerdir` order).
        lower: Vec<PathBuf>,
        /// Writable layer of this container.
        upper: PathBuf,
        /// overlayfs work dir, empty, beside `upper`.
        work: PathBuf,
    },
    /// A host folder bind-mounted as the root (rootfs directories, tests).
    Bind(PathBuf),
}

/// One step of a [`MountPlan`], applied in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountStep {
    /// Bind-mount a host file or folder; the target is made (a file for a
    /// file source, a folder otherwise) when missing. `readonly` and the
    /// other options are applied by a remount, as bind mounts need.
    Bind {
        /// Host path.
        source: PathBuf,
        /// Path in the container.
        target: PathBuf,
        /// `MS_REC`: take the mounts below `source` along.
        recursive: bool,
        /// Flags applied by the remount.
        options: MountOptions,
    },
    /// Bind-mount a host device node (`/dev/null`, `/dev/fuse`, ...) onto a
    /// file made at `target`.
    Device {
        /// Host device node.
        source: PathBuf,
        /// Path in the container.
        target: PathBuf,
    },
    /// An overlay mount (volumes that need one; the root has [`RootFs`]).
    Overlay {
        /// Read-only layers, top first.
        lower: Vec<PathBuf>,
        /// Writable layer.
        upper: PathBuf,
        /// overlayfs work dir.
        work: PathBuf,
        /// Path in the container.
        target: PathBuf,
        /// Mount flags.
        options: MountOptions,
    },
    /// A tmpfs (`/dev`, `/dev/shm` without a pod-wide one, `emptyDir`
    /// with `medium: Memory`).
    Tmpfs {
        /// Path in the container.
        target: PathBuf,
        /// `size=` in bytes; `None` is the kernel's default (half of RAM).
        size_bytes: Option<u64>,
        /// `mode=` of the root folder (e.g. `0o755`); `None`: 1777.
        mode: Option<u32>,
        /// Mount flags.
        options: MountOptions,
    },
    /// `proc`, for the PID namespace the container is in.
    Proc {
        /// Path in the container, normally `/proc`.
        target: PathBuf,
    },
    /// `sysfs`, read-only unless `writable` (`privileged: true`).
    Sysfs {
        /// Path in the container, normally `/sys`.
        target: PathBuf,
        /// Leave it writable.
        writable: bool,
    },
    /// `devpts` with `newinstance,ptmxmode=0666,mode=0620,gid=GROUP`.
    Devpts {
        /// Path in the container, normally `/dev/pts`.
        target: PathBuf,
        /// The host id of its ptys' group: 5 (`tty`), or the host id of
        /// group 5 of the container's user namespace
        /// ([`MountPlan::in_user_namespace`]).
        group: u32,
    },
    /// `mqueue`, for the pod's IPC namespace.
    Mqueue {
        /// Path in the container, normally `/dev/mqueue`.
        target: PathBuf,
    },
    /// Make a folder (and its parents) when missing.
    Mkdir {
        /// Path in the container.
        path: PathBuf,
        /// Permission bits of the folder made.
        mode: u32,
    },
    /// Make an empty file (and its parents) when missing: a mount point for
    /// a later step that mounts on a file.
    File {
        /// Path in the container.
        path: PathBuf,
    },
    /// Make a symbolic link (`/dev/fd -> /proc/self/fd`); an existing path
    /// is left as it is.
    Symlink {
        /// Path of the link in the container.
        path: PathBuf,
        /// What the link points to, as written.
        points_to: PathBuf,
    },
    /// Hide a path: `/dev/null` over a file, an empty read-only tmpfs over
    /// a folder; a missing path is skipped (runc's `maskedPaths`).
    Mask {
        /// Path in the container.
        path: PathBuf,
    },
    /// Make a path read-only (bind onto itself, remount `ro`); a missing
    /// path is skipped (runc's `readonlyPaths`).
    ReadOnly {
        /// Path in the container.
        path: PathBuf,
    },
    /// The cgroup filesystem as runc mounts it for a container in its own
    /// cgroup namespace: on v1 a tmpfs with each hierarchy the container
    /// is placed in mounted fresh below it (rooted at the container's
    /// cgroup by the namespace), on v2 one `cgroup2` mount. Read-only unless `writable`
    /// (`privileged: true`). The host's layout is read when the plan is
    /// compiled.
    CgroupFs {
        /// Path in the container, normally `/sys/fs/cgroup`.
        target: PathBuf,
        /// Leave it writable.
        writable: bool,
    },
    /// Every device node of the host's `/dev` (but `pts`, `shm`,
    /// `mqueue`) bound at the same path below `target`: what a privileged
    /// container sees, as runc gives it. The host's nodes are listed when
    /// the plan is compiled.
    HostDevices {
        /// Path in the container, normally `/dev`.
        target: PathBuf,
    },
}

/// A path a [`MountPlan`] makes on its root filesystem itself, not on a
/// filesystem the plan mounted before it ([`MountPlan::root_mount_points`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootMountPoint {
    /// Path in the container (`/etc`, `/etc/hosts`, `/usr/logs`).
    pub path: PathBuf,
    /// A folder (else a file: the target of a file bind).
    pub is_dir: bool,
}

/// How much of the host a container's standard mounts let through
/// ([`MountPlan::with_standard_mounts_for`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Confinement {
    /// What runc gives a container: masked and read-only paths, `/sys` and
    /// the cgroup filesystem read-only, the default devices only.
    #[default]
    Default,
    /// `procMount: Unmasked`: as [`Confinement::Default`] without the
    /// masked and read-only paths.
    UnmaskedProc,
    /// `privileged: true`: no masked or read-only paths, `/sys` and the
    /// cgroup filesystem writable, the host's devices in `/dev`.
    Privileged,
}

/// How mount events propagate between the container and the host. The
/// first thing the child does is make every mount of its new namespace
/// `private` (or `slave`), so nothing it mounts is seen on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// `MS_REC | MS_PRIVATE` on `/`: no events either way (the default).
    #[default]
    Private,
    /// `MS_REC | MS_SLAVE` on `/`: host mounts appear, ours do not leak.
    Slave,
}

/// The mount setup of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountPlan {
    /// Where the root comes from.
    pub root: RootFs,
    /// A host folder the root is mounted on, inside the child's mount
    /// namespace only (e.g. the container's state dir `rootfs/`).
    pub root_mountpoint: PathBuf,
    /// Remount `/` read-only after the steps (`readOnlyRootFilesystem`).
    pub readonly_root: bool,
    /// Mount an overlay root `volatile`: overlayfs skips every sync of its
    /// upper layer, and so the one its unmount does when the container's
    /// mount namespace dies with its last process, which otherwise syncs
    /// the whole host filesystem the upper layer is on (each container's
    /// exit waits for it: tens of ms on a busy disk). For a writable layer
    /// that never outlives its container (made fresh for each start,
    /// removed after it): overlayfs refuses to mount an upper/work pair
    /// again once a volatile mount used it. A kernel without the option
    /// (before 5.10) gets the overlay without it.
    pub volatile_root: bool,
    /// Propagation set on `/` before anything is mounted.
    pub propagation: Propagation,
    /// The steps, in order, relative to the new root.
    pub steps: Vec<MountStep>,
}

impl MountPlan {
    /// A plan with a root and no steps.
    pub fn new(root: RootFs, root_mountpoint: impl Into<PathBuf>) -> Self {
        Self {
            root,
            root_mountpoint: root_mountpoint.into(),
            readonly_root: false,
            volatile_root: false,
            propagation: Propagation::Private,
            steps: Vec::new(),
        }
    }

    /// The plan of a container whose process runs in a user namespace
    /// mapped by `map` (its mounts are made from the host's): its ptys'
    /// group is the namespace's group 5 (`tty`), as a devpts mounted
    /// inside the namespace would have it, so the process sees
    /// `/dev/pts/N` in group `tty` and its terminal can be given to it.
    pub fn in_user_namespace(&mut self, map: IdMap) {
        for step in &mut self.steps {
            if let MountStep::Devpts { group, .. } = step
                && let Some(host) = map.host_id(TTY_GROUP)
            {
                *group = host;
            }
        }
    }

    /// Appends a step.
    #[must_use]
    pub fn step(mut self, step: MountStep) -> Self {
        self.steps.push(step);
        self
    }

    /// The standard steps every container gets, as runc's default spec:
    /// `/proc`, `/dev` (tmpfs with null, zero, full, random, urandom, tty
    /// bound from the host, the fd symlinks, ptmx), `/dev/pts`,
    /// `/dev/shm` (a tmpfs of `shm_size` bytes, or a pod-wide host folder
    /// to bind when `pod_shm` is given), `/dev/mqueue`, `/sys` read-only,
    /// the cgroup filesystem read-only, and the masked and read-only paths
    /// ([`Confinement::Default`]).
    #[must_use]
    pub fn with_standard_mounts(self, pod_shm: Option<&Path>, shm_size: u64) -> Self {
        self.with_standard_mounts_for(pod_shm, shm_size, Confinement::Default)
    }

    /// [`MountPlan::with_standard_mounts`] for a container confined as
    /// `confinement` says.
    #[must_use]
    pub fn with_standard_mounts_for(
        mut self,
        pod_shm: Option<&Path>,
        shm_size: u64,
        confinement: Confinement,
    ) -> Self {
        let privileged = confinement == Confinement::Privileged;
        let dev = MountOptions {
            nosuid: true,
            noexec: true,
            ..MountOptions::default()
        };
        self.steps.push(MountStep::Proc {
            target: "/proc".into(),
        });
        self.steps.push(MountStep::Tmpfs {
            target: "/dev".into(),
            size_bytes: Some(65536),
            mode: Some(0o755),
            options: dev,
        });
        for node in ["null", "zero", "full", "random", "urandom", "tty"] {
            self.steps.push(MountStep::Device {
                source: Path::new("/dev").join(node),
                target: Path::new("/dev").join(node),
            });
        }
        if privileged {
            self.steps.push(MountStep::HostDevices {
                target: "/dev".into(),
            });
        }
        for (link, to) in [
            ("/dev/fd", "/proc/self/fd"),
            ("/dev/stdin", "/proc/self/fd/0"),
            ("/dev/stdout", "/proc/self/fd/1"),
            ("/dev/stderr", "/proc/self/fd/2"),
            ("/dev/core", "/proc/kcore"),
            ("/dev/ptmx", "pts/ptmx"),
        ] {
            self.steps.push(MountStep::Symlink {
                path: link.into(),
                points_to: to.into(),
            });
        }
        self.steps.push(MountStep::Devpts {
            target: "/dev/pts".into(),
            group: TTY_GROUP,
        });
        self.steps.push(match pod_shm {
            Some(host) => MountStep::Bind {
                source: host.to_path_buf(),
                target: "/dev/shm".into(),
                recursive: false,
                options: MountOptions::SECURE,
            },
            None => MountStep::Tmpfs {
                target: "/dev/shm".into(),
                size_bytes: Some(shm_size),
                mode: Some(0o1777),
                options: MountOptions::SECURE,
            },
        });
        self.steps.push(MountStep::Mqueue {
            target: "/dev/mqueue".into(),
        });
        self.steps.push(MountStep::Sysfs {
            target: "/sys".into(),
            writable: privileged,
        });
        self.steps.push(MountStep::CgroupFs {
            target: "/sys/fs/cgroup".into(),
            writable: privileged,
        });
        if confinement == Confinement::Default {
            for path in MASKED_PATHS {
                self.steps.push(MountStep::Mask { path: path.into() });
            }
            for path in READONLY_PATHS {
                self.steps.push(MountStep::ReadOnly { path: path.into() });
            }
        }
        self
    }

    /// Every folder and file the child makes on the root filesystem itself
    /// when it applies this plan (a missing mount point and its missing
    /// parents), in the order it makes them, each once; paths below a
    /// target the plan mounted earlier (`/dev/pts` on the `/dev` tmpfs)
    /// are not listed. On an overlay root each of these is a copy-up into
    /// the container's upper layer unless a lower layer holds it already:
    /// a layer holding them (an image's mount-point layer) spares every
    /// container of the image those inodes.
    ///
    /// # Errors
    /// The plan does not validate.
    pub fn root_mount_points(&self) -> Result<Vec<RootMountPoint>> {
        Ok(crate::mount_setup::MountSetup::compile(self)?.root_mount_points())
    }

    /// Checks the plan: container paths absolute and without `..`, host
    /// paths absolute, overlays with at least one lower layer. Errors name
    /// the step by index (`mounts[3].target`).
    pub fn validate(&self) -> Result<()> {
        host_path(|| "root_mountpoint".to_owned(), &self.root_mountpoint)?;
        match &self.root {
            RootFs::Overlay { lower, upper, work } => {
                overlay_dirs(&|| "root".to_owned(), lower, upper, work)?;
            }
            RootFs::Bind(source) => host_path(|| "root".to_owned(), source)?,
        }
        for (i, step) in self.steps.iter().enumerate() {
            // The field's name is only formatted for an error: a plan has
            // dozens of steps and is checked at each container start.
            let at = |field: &'static str| move || format!("mounts[{i}].{field}");
            match step {
                MountStep::Bind { source, target, .. } | MountStep::Device { source, target } => {
                    host_path(at("source"), source)?;
                    container_path(at("target"), target)?;
                }
                MountStep::Overlay {
                    lower,
                    upper,
                    work,
                    target,
                    ..
                } => {
                    overlay_dirs(&|| format!("mounts[{i}]"), lower, upper, work)?;
                    container_path(at("target"), target)?;
                }
                MountStep::Tmpfs { target, mode, .. } => {
                    container_path(at("target"), target)?;
                    if mode.is_some_and(|m| m > 0o7777) {
                        return Err(Error::invalid(at("mode")(), "not a permission mode"));
                    }
                }
                MountStep::Proc { target }
                | MountStep::Sysfs { target, .. }
                | MountStep::Devpts { target, .. }
                | MountStep::Mqueue { target }
                | MountStep::CgroupFs { target, .. }
                | MountStep::HostDevices { target } => container_path(at("target"), target)?,
                MountStep::Mkdir { path, .. }
                | MountStep::File { path }
                | MountStep::Symlink { path, .. }
                | MountStep::Mask { path }
                | MountStep::ReadOnly { path } => container_path(at("path"), path)?,
            }
        }
        Ok(())
    }
}

/// Paths hidden from containers: runc's default `maskedPaths`, the list
/// the kubelet sends (`DefaultProcMountType`).
pub const MASKED_PATHS: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// `/proc` entries made read-only in containers (runc's `readonlyPaths`,
/// as the kubelet sends them).
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The checks of an overlay's layers; `field` names the overlay in an
/// error (`root`, `mounts[3]`), and is only called for one.
fn overlay_dirs(
    field: &dyn Fn() -> String,
    lower: &[PathBuf],
    upper: &Path,
    work: &Path,
) -> Result<()> {
    if lower.is_empty() {
        return Err(Error::invalid(
            format!("{}.lower", field()),
            "an overlay needs at least one lower layer",
        ));
    }
    for (j, l) in lower.iter().enumerate() {
        let at = || format!("{}.lower[{j}]", field());
        host_path(at, l)?;
        // overlayfs splits lowerdir on ':' and options on ','.
        if l.to_string_lossy().contains([':', ',']) {
            return Err(Error::invalid(
                at(),
                "overlay layer paths may not hold ':' or ','",
            ));
        }
    }
    host_path(|| format!("{}.upper", field()), upper)?;
    host_path(|| format!("{}.work", field()), work)
}

/// A host path: absolute. `field` names it in the error.
fn host_path(field: impl FnOnce() -> String, path: &Path) -> Result<()> {
    if path.is_absolute() {
        Ok(())
    } else {
        Err(Error::invalid(
            field(),
            format!("host path {} is not absolute", path.display()),
        ))
    }
}

/// A path in the container: absolute, and no `..` that could climb out of
/// the new root. `field` names it in the error.
fn container_path(field: impl FnOnce() -> String, path: &Path) -> Result<()> {
    if !path.is_absolute() {
        return Err(Error::invalid(
            field(),
            format!("{} is not absolute", path.display()),
        ));
    }
    if path.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(Error::invalid(
            field(),
            format!("{} climbs with '..'", path.display()),
        ));
    }
    if path == Path::new("/") {
        return Err(Error::invalid(field(), "the root is mounted by `root`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> MountPlan {
        MountPlan::new(
            RootFs::Overlay {
                lower: vec!["/var/lib/peapod/layers/a".into()],
                upper: "/run/peapod/c/upper".into(),
                work: "/run/peapod/c/work".into(),
            },
            "/run/peapod/c/rootfs",
        )
    }

    #[test]
    fn standard_mounts_validate_and_start_with_proc() {
        let p = plan().with_standard_mounts(None, 64 << 20);
        p.validate().expect("valid");
        assert_eq!(
            p.steps[0],
            MountStep::Proc {
                target: "/proc".into()
            }
        );
        assert!(p.steps.iter().any(|s| matches!(s,
            MountStep::Tmpfs { target, size_bytes: Some(n), .. } if target == Path::new("/dev/shm") && *n == 64 << 20)));
        assert!(p.steps.iter().any(|s| matches!(s, MountStep::Sysfs { .. })));
    }

    fn masks(p: &MountPlan) -> usize {
        p.steps
            .iter()
            .filter(|s| matches!(s, MountStep::Mask { .. } | MountStep::ReadOnly { .. }))
            .count()
    }

    #[test]
    fn default_confinement_masks_and_mounts_sys_and_cgroups_read_only() {
        let p = plan().with_standard_mounts(None, 0);
        assert_eq!(masks(&p), MASKED_PATHS.len() + READONLY_PATHS.len());
        assert!(p.steps.contains(&MountStep::Sysfs {
            target: "/sys".into(),
            writable: false
        }));
        assert!(p.steps.contains(&MountStep::CgroupFs {
            target: "/sys/fs/cgroup".into(),
            writable: false
        }));
        assert!(
            !p.steps
                .iter()
                .any(|s| matches!(s, MountStep::HostDevices { .. }))
        );
        assert!(MASKED_PATHS.contains(&"/proc/keys") && MASKED_PATHS.contains(&"/sys/firmware"));
        assert!(READONLY_PATHS.contains(&"/proc/sysrq-trigger"));
    }

    #[test]
    fn unmasked_proc_drops_both_lists_only() {
        let p = plan().with_standard_mounts_for(None, 0, Confinement::UnmaskedProc);
        assert_eq!(masks(&p), 0);
        assert!(p.steps.contains(&MountStep::Sysfs {
            target: "/sys".into(),
            writable: false
        }));
    }

    #[test]
    fn privileged_gets_writable_sys_and_cgroups_and_host_devices() {
        let p = plan().with_standard_mounts_for(None, 0, Confinement::Privileged);
        p.validate().expect("valid");
        assert_eq!(masks(&p), 0);
        assert!(p.steps.contains(&MountStep::Sysfs {
            target: "/sys".into(),
            writable: true
        }));
        assert!(p.steps.contains(&MountStep::CgroupFs {
            target: "/sys/fs/cgroup".into(),
            writable: true
        }));
        assert!(p.steps.contains(&MountStep::HostDevices {
            target: "/dev".into()
        }));
    }

    #[test]
    fn pod_shm_is_bound_instead_of_a_tmpfs() {
        let p = plan().with_standard_mounts(Some(Path::new("/run/peapod/pod/shm")), 0);
        assert!(p.steps.iter().any(|s| matches!(s,
            MountStep::Bind { source, target, .. }
                if source == Path::new("/run/peapod/pod/shm") && target == Path::new("/dev/shm"))));
    }

    #[test]
    fn target_climbing_out_of_root_is_refused() {
        let p = plan().step(MountStep::Bind {
            source: "/etc/hosts".into(),
            target: "/etc/../../hosts".into(),
            recursive: false,
            options: MountOptions::default(),
        });
        let err = p.validate().expect_err("refused").to_string();
        assert!(err.contains("mounts[0].target"), "{err}");
        assert!(err.contains(".."), "{err}");
    }

    #[test]
    fn relative_paths_are_refused() {
        let p = plan().step(MountStep::Mkdir {
            path: "data".into(),
            mode: 0o755,
        });
        assert!(p.validate().is_err());
        let p = plan().step(MountStep::Device {
            source: "dev/null".into(),
            target: "/dev/null".into(),
        });
        let err = p.validate().expect_err("refused").to_string();
        assert!(err.contains("mounts[0].source"), "{err}");
    }

    #[test]
    fn overlay_without_lower_layer_is_refused() {
        let mut p = plan();
        p.root = RootFs::Overlay {
            lower: vec![],
            upper: "/u".into(),
            work: "/w".into(),
        };
        let err = p.validate().expect_err("refused").to_string();
        assert!(err.contains("root.lower"), "{err}");
    }

    #[test]
    fn overlay_layer_with_colon_is_refused() {
        let p = plan().step(MountStep::Overlay {
            lower: vec!["/a:b".into()],
            upper: "/u".into(),
            work: "/w".into(),
            target: "/data".into(),
            options: MountOptions::default(),
        });
        let err = p.validate().expect_err("refused").to_string();
        assert!(err.contains("mounts[0].lower[0]"), "{err}");
    }

    #[test]
    fn tmpfs_mode_must_be_permission_bits() {
        let p = plan().step(MountStep::Tmpfs {
            target: "/tmp".into(),
            size_bytes: None,
            mode: Some(0o100_000),
            options: MountOptions::default(),
        });
        assert!(p.validate().is_err());
    }

    #[test]
    fn root_mount_points_are_the_paths_made_on_the_root_itself() {
        let bind = |source: &str, target: &str| MountStep::Bind {
            source: source.into(),
            target: target.into(),
            recursive: false,
            options: MountOptions::default(),
        };
        let p = plan()
            .with_standard_mounts(Some(Path::new("/run/peapod/pod/shm")), 0)
            .step(bind("/run/peapod/no-such/hosts", "/etc/hosts"))
            .step(bind("/run/peapod/no-such/hostname", "/etc/hostname"))
            // A folder source: a folder mount point, its parent made first.
            .step(bind("/", "/usr/logs"))
            // On the /dev tmpfs, and below the bind above: not on the root.
            .step(bind("/run/peapod/no-such/log", "/dev/termination-log"))
            .step(bind("/", "/usr/logs/deeper"));
        let points: Vec<(String, bool)> = p
            .root_mount_points()
            .expect("valid")
            .into_iter()
            .map(|m| (m.path.display().to_string(), m.is_dir))
            .collect();
        let want = [
            ("/proc", true),
            ("/dev", true),
            ("/sys", true),
            ("/etc", true),
            ("/etc/hosts", false),
            ("/etc/hostname", false),
            ("/usr", true),
            ("/usr/logs", true),
        ];
        assert_eq!(
            points,
            want.map(|(p, d)| (p.to_owned(), d)),
            "each once, in order"
        );
    }

    #[test]
    fn secure_options_read_only() {
        let o = MountOptions::SECURE.read_only();
        assert!(o.readonly && o.nosuid && o.nodev && o.noexec);
    }
}
