//! The mount plan of one container: plain `peapod_core::MountPlan` data,
//! built here from the pod's volumes and applied by core in the child.

use std::path::{Path, PathBuf};

use peapod_core::{Confinement, MountOptions, MountPlan, MountStep, RootFs};
use peapod_spec::{Container, MountPropagation, ProcMountType, RecursiveReadOnlyMode, VolumeMount};

use crate::error::{Error, Result};
use crate::pod_volumes::PodVolumes;
use crate::sub_path;
use crate::tmpfs::SHM_SIZE;

/// The layers of a container's root filesystem, from the image store and
/// the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootfsLayers {
    /// The image's unpacked layers, topmost first (overlayfs `lowerdir`
    /// order). A plain rootfs folder is a single layer.
    pub lower: Vec<PathBuf>,
    /// This container's writable layer.
    pub upper: PathBuf,
    /// overlayfs work dir, empty, on the same filesystem as `upper`.
    pub work: PathBuf,
    /// Host folder the overlay is mounted on (inside the child's mount
    /// namespace only).
    pub mountpoint: PathBuf,
}

/// The pod's own files bind-mounted into every container (rendered by
/// `peapod-netns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodFiles {
    /// Mounted at `/etc/hosts`.
    pub hosts: PathBuf,
    /// Mounted at `/etc/hostname`.
    pub hostname: PathBuf,
    /// Mounted at `/etc/resolv.conf`.
    pub resolv_conf: PathBuf,
}

/// How far `container`'s standard mounts confine it: `privileged: true`
/// lets the host's devices, a writable `/sys` and cgroup filesystem in
/// and masks nothing; `procMount: Unmasked` masks nothing; else runc's
/// defaults.
pub fn confinement(container: &Container) -> Confinement {
    let sc = container.security_context.as_ref();
    if sc.and_then(|sc| sc.privileged).unwrap_or(false) {
        Confinement::Privileged
    } else if sc.and_then(|sc| sc.proc_mount) == Some(ProcMountType::Unmasked) {
        Confinement::UnmaskedProc
    } else {
        Confinement::Default
    }
}

impl PodVolumes {
    /// The ordered mounts of `container`:
    ///
    /// 1. the overlay root (`readOnlyRootFilesystem` sets `readonly_root`);
    /// 2. core's standard mounts: `/proc`, `/dev` (tmpfs 755, host nodes,
    ///    fd symlinks, ptmx), `/dev/pts`, `/dev/shm` bound from the pod's
    ///    shared tmpfs, `/dev/mqueue`, `/sys` read-only, runc's masked and
    ///    read-only paths;
    /// 3. `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf` from
    ///    `pod_files`, each unless a volumeMount claims that path (as
    ///    kubelet and containerd skip them);
    /// 4. the volumeMounts in order: recursive binds of the volume's host
    ///    path (or its `subPath`, resolved without leaving the volume and
    ///    made when missing, pinned by descriptor once
    ///    [`mount_tmpfs`](Self::mount_tmpfs) ran), read-only when `readOnly` and always for
    ///    configMap, secret, downwardAPI and projected volumes.
    ///
    /// Needs no root: it only reads (and for `subPath`, makes folders in)
    /// the pod's volumes. The plan is validated by core before it is
    /// returned. A `subPathExpr` needs the container's environment: see
    /// [`mount_plan_with_env`](Self::mount_plan_with_env).
    pub fn mount_plan(
        &self,
        container: &Container,
        rootfs: &RootfsLayers,
        pod_files: &PodFiles,
    ) -> Result<MountPlan> {
        self.mount_plan_with_env(container, rootfs, pod_files, &[])
    }

    /// [`mount_plan`](Self::mount_plan), expanding `subPathExpr` with the
    /// container's resolved environment (`NAME=value`, from its `env` and
    /// `envFrom`, as kubelet uses; not the image's).
    pub fn mount_plan_with_env(
        &self,
        container: &Container,
        rootfs: &RootfsLayers,
        pod_files: &PodFiles,
        env: &[String],
    ) -> Result<MountPlan> {
        let _span =
            tracing::debug_span!("volumes.mount_plan", container = %container.name).entered();
        let root = RootFs::Overlay {
            lower: rootfs.lower.clone(),
            upper: rootfs.upper.clone(),
            work: rootfs.work.clone(),
        };
        let mut plan = MountPlan::new(root, &rootfs.mountpoint).with_standard_mounts_for(
            Some(&self.container_shm()),
            SHM_SIZE,
            confinement(container),
        );
        plan.readonly_root = container
            .security_context
            .as_ref()
            .and_then(|sc| sc.read_only_root_filesystem)
            .unwrap_or(false);
        for (target, source) in [
            ("/etc/hosts", &pod_files.hosts),
            ("/etc/hostname", &pod_files.hostname),
            ("/etc/resolv.conf", &pod_files.resolv_conf),
        ] {
            let claimed = container
                .volume_mounts
                .iter()
                .any(|m| Path::new(&m.mount_path) == Path::new(target));
            if !claimed {
                plan.steps.push(MountStep::Bind {
                    source: source.clone(),
                    target: target.into(),
                    recursive: false,
                    options: MountOptions::default(),
                });
            }
        }
        for (index, mount) in container.volume_mounts.iter().enumerate() {
            plan.steps
                .push(self.volume_step(&container.name, (index, mount), env)?);
        }
        plan.validate().map_err(|source| Error::Plan {
            container: container.name.clone(),
            source,
        })?;
        Ok(plan)
    }

    /// The bind of one volumeMount.
    fn volume_step(
        &self,
        container: &str,
        (index, mount): (usize, &VolumeMount),
        env: &[String],
    ) -> Result<MountStep> {
        let refuse = |problem: &str| Error::VolumeMount {
            container: container.to_owned(),
            volume: mount.name.clone(),
            problem: problem.to_owned(),
        };
        let volume = self
            .volume(&mount.name)
            .ok_or_else(|| Error::UnknownVolume {
                container: container.to_owned(),
                volume: mount.name.clone(),
            })?;
        match mount.mount_propagation {
            None | Some(MountPropagation::None) => {}
            Some(other) => {
                return Err(refuse(&format!(
                    "mountPropagation {other:?} is not supported yet"
                )));
            }
        }
        let sub_path_error = |sub: &str, r: sub_path::Refused| Error::SubPath {
            container: container.to_owned(),
            volume: mount.name.clone(),
            sub_path: sub.to_owned(),
            problem: r.0,
        };
        let sub = match (&mount.sub_path, &mount.sub_path_expr) {
            (Some(s), _) if !s.is_empty() => Some(s.clone()),
            (_, Some(expr)) if !expr.is_empty() => {
                Some(sub_path::expand(expr, env).map_err(|r| sub_path_error(expr, r))?)
            }
            _ => None,
        };
        let source = match sub {
            None => volume.path.clone(),
            Some(sub) => {
                let resolved =
                    sub_path::resolve(&volume.path, &sub).map_err(|r| sub_path_error(&sub, r))?;
                if self.in_private_namespace() {
                    let pin = self.dirs().sub_path_pin(&mount.name, container, index);
                    sub_path::pin(&resolved, &pin).map_err(|source| Error::PinSubPath {
                        container: container.to_owned(),
                        volume: mount.name.clone(),
                        path: pin.clone(),
                        source,
                    })?;
                    pin
                } else {
                    resolved.path
                }
            }
        };
        Ok(MountStep::Bind {
            source,
            target: PathBuf::from(&mount.mount_path),
            recursive: true,
            options: MountOptions {
                readonly: mount.read_only.unwrap_or(false) || volume.always_read_only,
                // Validation allows it only with readOnly. IfPossible is
                // Enabled here: every kernel peapod runs on (5.12+) can.
                recursive_readonly: mount
                    .recursive_read_only
                    .is_some_and(|r| r != RecursiveReadOnlyMode::Disabled),
                ..MountOptions::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dirs::VolumeDirs;
    use peapod_spec::{
        EmptyDirVolumeSource, HostPathType, HostPathVolumeSource, Pod, Volume, VolumeSource,
    };
    use peapod_testkit::TempDir;

    fn rootfs() -> RootfsLayers {
        RootfsLayers {
            lower: vec![
                "/var/lib/peapod/images/layers/b".into(),
                "/var/lib/peapod/images/layers/a".into(),
            ],
            upper: "/run/peapod/pods/myapp/myapp1/upper".into(),
            work: "/run/peapod/pods/myapp/myapp1/work".into(),
            mountpoint: "/run/peapod/pods/myapp/myapp1/rootfs".into(),
        }
    }

    fn pod_files() -> PodFiles {
        PodFiles {
            hosts: "/run/peapod/pods/myapp/hosts".into(),
            hostname: "/run/peapod/pods/myapp/hostname".into(),
            resolv_conf: "/run/peapod/pods/myapp/resolv.conf".into(),
        }
    }

    fn mount(name: &str, path: &str) -> VolumeMount {
        VolumeMount {
            name: name.into(),
            mount_path: path.into(),
            ..VolumeMount::default()
        }
    }

    fn container(name: &str, mounts: Vec<VolumeMount>) -> Container {
        Container {
            name: name.into(),
            image: "busybox:1.30.1".into(),
            command: vec!["sleep".into(), "1000".into()],
            volume_mounts: mounts,
            ..Container::default()
        }
    }

    /// Seed 000's `myapp` (two busybox containers sharing the PID
    /// namespace) with an emptyDir `shared` mounted in both.
    fn seed_000(volumes: Vec<Volume>) -> Pod {
        let mut pod = Pod::default();
        pod.metadata.name = Some("myapp".into());
        pod.spec.share_process_namespace = Some(true);
        pod.spec.volumes = volumes;
        pod.spec.containers = vec![
            container("myapp1", vec![mount("shared", "/data")]),
            container("myapp2", vec![mount("shared", "/data")]),
        ];
        pod
    }

    fn empty_dir(name: &str) -> Volume {
        Volume {
            name: name.into(),
            source: VolumeSource::EmptyDir(EmptyDirVolumeSource::default()),
        }
    }

    fn bind(
        source: impl Into<PathBuf>,
        target: &str,
        recursive: bool,
        readonly: bool,
    ) -> MountStep {
        MountStep::Bind {
            source: source.into(),
            target: target.into(),
            recursive,
            options: MountOptions {
                readonly,
                ..MountOptions::default()
            },
        }
    }

    /// The plan of the pod's `index`th container, volumes prepared below `t`.
    fn plan_of(t: &TempDir, pod: &Pod, index: usize) -> Result<MountPlan> {
        let vols = PodVolumes::prepare(pod, VolumeDirs::new(t.path(), "u")).expect("prepare");
        vols.mount_plan(&pod.spec.containers[index], &rootfs(), &pod_files())
    }

    /// The steps before the volumes: core's standard mounts then the
    /// three pod files.
    fn expected_prefix(vols: &PodVolumes) -> MountPlan {
        let f = pod_files();
        let r = rootfs();
        MountPlan::new(
            RootFs::Overlay {
                lower: r.lower,
                upper: r.upper,
                work: r.work,
            },
            r.mountpoint,
        )
        .with_standard_mounts(Some(&vols.shm_dir()), 64 << 20)
        .step(bind(f.hosts, "/etc/hosts", false, false))
        .step(bind(f.hostname, "/etc/hostname", false, false))
        .step(bind(f.resolv_conf, "/etc/resolv.conf", false, false))
    }

    #[test]
    fn privileged_and_unmasked_containers_get_their_confinement() {
        use peapod_spec::{ProcMountType, SecurityContext};
        let t = TempDir::new("plan-confinement");
        let mut pod = seed_000(vec![empty_dir("shared")]);
        pod.spec.containers[0].security_context = Some(SecurityContext {
            privileged: Some(true),
            ..SecurityContext::default()
        });
        pod.spec.containers[1].security_context = Some(SecurityContext {
            proc_mount: Some(ProcMountType::Unmasked),
            ..SecurityContext::default()
        });
        let pod_dir = t.path().join("pods/u");
        let lines = |i| -> Vec<String> {
            let plan = plan_of(&t, &pod, i).expect("plan");
            plan.steps.iter().map(|s| describe(s, &pod_dir)).collect()
        };
        let privileged = lines(0);
        assert!(
            privileged.contains(&"sysfs /sys".to_owned()),
            "{privileged:?}"
        );
        assert!(privileged.contains(&"cgroupfs /sys/fs/cgroup".to_owned()));
        assert!(privileged.iter().any(|l| l.starts_with("HostDevices")));
        assert!(
            !privileged
                .iter()
                .any(|l| l.starts_with("mask ") || l.starts_with("ro "))
        );
        let unmasked = lines(1);
        assert!(
            unmasked.contains(&"sysfs /sys ro".to_owned()),
            "{unmasked:?}"
        );
        assert!(
            !unmasked
                .iter()
                .any(|l| l.starts_with("mask ") || l.starts_with("ro "))
        );
    }

    #[test]
    fn seed_000_pod_with_an_empty_dir_gets_the_exact_plan() {
        let t = TempDir::new("plan-seed");
        let pod = seed_000(vec![empty_dir("shared")]);
        let vols =
            PodVolumes::prepare(&pod, VolumeDirs::new(t.path(), "uid-000")).expect("prepare");
        for c in &pod.spec.containers {
            let plan = vols.mount_plan(c, &rootfs(), &pod_files()).expect("plan");
            let want = expected_prefix(&vols).step(bind(
                t.path().join("pods/uid-000/volumes/emptyDir/shared"),
                "/data",
                true,
                false,
            ));
            assert_eq!(plan, want, "container {}", c.name);
        }
    }

    /// One line per step: what is mounted where, with the flags that matter.
    fn describe(step: &MountStep, pod_dir: &Path) -> String {
        let short = |p: &Path| {
            p.strip_prefix(pod_dir).map_or_else(
                |_| p.display().to_string(),
                |r| format!("<pod>/{}", r.display()),
            )
        };
        let ro = |o: &MountOptions| if o.readonly { " ro" } else { "" };
        match step {
            MountStep::Bind {
                source,
                target,
                recursive,
                options,
            } => format!(
                "{} {} -> {}{}",
                if *recursive { "rbind" } else { "bind" },
                short(source),
                target.display(),
                ro(options)
            ),
            MountStep::Device { source, target } => {
                format!("dev {} -> {}", source.display(), target.display())
            }
            MountStep::Tmpfs {
                target,
                mode,
                size_bytes,
                ..
            } => format!(
                "tmpfs {} mode={:o} size={}",
                target.display(),
                mode.unwrap_or(0o1777),
                size_bytes.unwrap_or(0)
            ),
            MountStep::Proc { target } => format!("proc {}", target.display()),
            MountStep::Sysfs { target, writable } => {
                format!(
                    "sysfs {}{}",
                    target.display(),
                    if *writable { "" } else { " ro" }
                )
            }
            MountStep::CgroupFs { target, writable } => {
                format!(
                    "cgroupfs {}{}",
                    target.display(),
                    if *writable { "" } else { " ro" }
                )
            }
            MountStep::Devpts { target, .. } => format!("devpts {}", target.display()),
            MountStep::Mqueue { target } => format!("mqueue {}", target.display()),
            MountStep::Symlink { path, points_to } => {
                format!("symlink {} -> {}", path.display(), points_to.display())
            }
            MountStep::Mask { path } => format!("mask {}", path.display()),
            MountStep::ReadOnly { path } => format!("ro {}", path.display()),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn seed_000_plan_reads_as_the_container_sees_it() {
        let t = TempDir::new("plan-read");
        let pod = seed_000(vec![empty_dir("shared")]);
        let plan = plan_of(&t, &pod, 0).expect("plan");
        let pod_dir = t.path().join("pods/u");
        let lines: Vec<String> = plan.steps.iter().map(|s| describe(s, &pod_dir)).collect();
        let want = [
            "proc /proc",
            "tmpfs /dev mode=755 size=65536",
            "dev /dev/null -> /dev/null",
            "dev /dev/zero -> /dev/zero",
            "dev /dev/full -> /dev/full",
            "dev /dev/random -> /dev/random",
            "dev /dev/urandom -> /dev/urandom",
            "dev /dev/tty -> /dev/tty",
            "symlink /dev/fd -> /proc/self/fd",
            "symlink /dev/stdin -> /proc/self/fd/0",
            "symlink /dev/stdout -> /proc/self/fd/1",
            "symlink /dev/stderr -> /proc/self/fd/2",
            "symlink /dev/core -> /proc/kcore",
            "symlink /dev/ptmx -> pts/ptmx",
            "devpts /dev/pts",
            "bind <pod>/shm -> /dev/shm",
            "mqueue /dev/mqueue",
            "sysfs /sys ro",
            "cgroupfs /sys/fs/cgroup ro",
            "mask /proc/acpi",
            "mask /proc/asound",
            "mask /proc/kcore",
            "mask /proc/keys",
            "mask /proc/latency_stats",
            "mask /proc/timer_list",
            "mask /proc/timer_stats",
            "mask /proc/sched_debug",
            "mask /proc/scsi",
            "mask /sys/firmware",
            "mask /sys/devices/virtual/powercap",
            "ro /proc/bus",
            "ro /proc/fs",
            "ro /proc/irq",
            "ro /proc/sys",
            "ro /proc/sysrq-trigger",
            "bind /run/peapod/pods/myapp/hosts -> /etc/hosts",
            "bind /run/peapod/pods/myapp/hostname -> /etc/hostname",
            "bind /run/peapod/pods/myapp/resolv.conf -> /etc/resolv.conf",
            "rbind <pod>/volumes/emptyDir/shared -> /data",
        ];
        assert_eq!(lines, want);
        assert_eq!(
            plan.root,
            RootFs::Overlay {
                lower: rootfs().lower,
                upper: rootfs().upper,
                work: rootfs().work
            }
        );
        assert_eq!(plan.root_mountpoint, rootfs().mountpoint);
        assert!(!plan.readonly_root);
    }

    #[test]
    fn read_only_volume_mount_is_a_read_only_bind() {
        let t = TempDir::new("plan-ro");
        let mut pod = seed_000(vec![empty_dir("shared")]);
        pod.spec.containers[1].volume_mounts[0].read_only = Some(true);
        let plan = plan_of(&t, &pod, 1).expect("plan");
        assert_eq!(
            plan.steps.last(),
            Some(&bind(
                t.path().join("pods/u/volumes/emptyDir/shared"),
                "/data",
                true,
                true
            ))
        );
    }

    #[test]
    fn sub_path_binds_the_folder_inside_the_volume_and_makes_it() {
        let t = TempDir::new("plan-sub");
        let mut pod = seed_000(vec![empty_dir("shared")]);
        pod.spec.containers[0].volume_mounts[0].sub_path = Some("logs/myapp1".into());
        let plan = plan_of(&t, &pod, 0).expect("plan");
        let want = t
            .path()
            .canonicalize()
            .expect("canon")
            .join("pods/u/volumes/emptyDir/shared/logs/myapp1");
        assert_eq!(plan.steps.last(), Some(&bind(&want, "/data", true, false)));
        assert!(want.is_dir());
    }

    #[test]
    fn sub_path_escaping_the_volume_names_container_volume_and_sub_path() {
        let t = TempDir::new("plan-esc");
        let mut pod = seed_000(vec![empty_dir("shared")]);
        pod.spec.containers[0].volume_mounts[0].sub_path = Some("../../..".into());
        let err = plan_of(&t, &pod, 0).expect_err("refused").to_string();
        assert_eq!(
            err,
            "container \"myapp1\": volume \"shared\": subPath \"../../..\" must not contain '..'"
        );
    }

    #[test]
    fn sub_path_expr_expands_the_container_environment() {
        let t = TempDir::new("plan-expr");
        let mut pod = seed_000(vec![empty_dir("shared")]);
        pod.spec.containers[0].volume_mounts[0].sub_path_expr = Some("$(POD_NAME)/log".into());
        let vols = PodVolumes::prepare(&pod, VolumeDirs::new(t.path(), "u")).expect("prepare");
        let c = &pod.spec.containers[0];
        let env = ["POD_NAME=myapp".to_owned()];
        let plan = vols
            .mount_plan_with_env(c, &rootfs(), &pod_files(), &env)
            .expect("plan");
        let want = t.path().canonicalize().expect("canon");
        let want = want.join("pods/u/volumes/emptyDir/shared/myapp/log");
        assert_eq!(plan.steps.last(), Some(&bind(&want, "/data", true, false)));
        let err = vols
            .mount_plan(c, &rootfs(), &pod_files())
            .expect_err("no env")
            .to_string();
        assert_eq!(
            err,
            "container \"myapp1\": volume \"shared\": subPath \"$(POD_NAME)/log\" has no value for POD_NAME"
        );
    }

    #[test]
    fn volume_mount_on_etc_hosts_replaces_the_pod_hosts_file() {
        let t = TempDir::new("plan-hosts");
        let host = t.path().join("myhosts");
        std::fs::write(&host, "").expect("write");
        let mut pod = seed_000(vec![Volume {
            name: "h".into(),
            source: VolumeSource::HostPath(HostPathVolumeSource {
                path: host.to_string_lossy().into_owned(),
                type_: Some(HostPathType::File),
            }),
        }]);
        pod.spec.containers[0].volume_mounts = vec![mount("h", "/etc/hosts")];
        let plan = plan_of(&t, &pod, 0).expect("plan");
        let hosts: Vec<_> = plan
            .steps
            .iter()
            .filter(|s| matches!(s, MountStep::Bind { target, .. } if target == Path::new("/etc/hosts")))
            .collect();
        assert_eq!(hosts, vec![&bind(&host, "/etc/hosts", true, false)]);
    }

    #[test]
    fn mount_of_an_undeclared_volume_is_refused() {
        let t = TempDir::new("plan-unknown");
        let pod = seed_000(vec![]);
        let err = plan_of(&t, &pod, 0).expect_err("refused").to_string();
        assert_eq!(
            err,
            "container \"myapp1\": volumeMount \"shared\": the pod has no volume of that name"
        );
    }

    #[test]
    fn read_only_root_filesystem_sets_readonly_root() {
        let t = TempDir::new("plan-rofs");
        let mut pod = seed_000(vec![empty_dir("shared")]);
        pod.spec.containers[0].security_context = Some(peapod_spec::SecurityContext {
            read_only_root_filesystem: Some(true),
            ..Default::default()
        });
        let plan = plan_of(&t, &pod, 0).expect("plan");
        assert!(plan.readonly_root);
    }
}
