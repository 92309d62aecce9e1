//! A [`MountPlan`] turned into syscall-ready steps in the parent
//! ([`MountSetup::compile`]: every path a `CString`), and applied in the
//! child ([`MountSetup::apply`]: raw syscalls only, no allocation), ending
//! with `pivot_root`.
//!
//! Paths in the container are resolved **inside the new root** at apply
//! time, with `openat2(root, path, O_PATH, RESOLVE_IN_ROOT)`: a symlink of
//! the image (`/etc -> /host/etc`, `/dev -> /`) can never send a `mkdir`
//! or a mount outside the root. Mounts then target the resolved fd through
//! `/proc/self/fd/N`, as runc does; folders and files are made with
//! `mkdirat`/`openat` relative to their resolved parent.

mod apply;

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::io::Errno;
use rustix::mount::{MountFlags, MountPropagationFlags};

use crate::child_error::Step;
use crate::error::{Error, Result};
use crate::mount_plan::{MountOptions, MountPlan, MountStep, Propagation, RootFs, RootMountPoint};

/// A path in the container, split for `*at` calls under the root.
#[derive(Debug)]
struct InRoot {
    /// The whole path (`/dev/pts`), also what errors show.
    path: CString,
    /// Its parent (`/dev`, or `/`).
    parent: CString,
    /// Its last component (`pts`).
    name: CString,
}

impl InRoot {
    fn as_path(&self) -> &Path {
        Path::new(std::ffi::OsStr::from_bytes(self.path.as_bytes()))
    }
}

/// One syscall-level operation on paths in the container.
#[derive(Debug)]
enum Op {
    /// `mkdir` each path in turn, `EEXIST` ignored (parents first).
    MakeDirs(Vec<InRoot>),
    /// Parents as `MakeDirs`, then the file with `O_CREAT`.
    MakeFile { parents: Vec<InRoot>, file: InRoot },
    /// `mount(source, target, fstype, flags, data)`.
    Mount {
        source: CString,
        target: InRoot,
        fstype: CString,
        flags: MountFlags,
        data: Option<CString>,
    },
    /// A bind mount of a host path (`recursive`: `MS_REC`); `idmap`: made
    /// through the id mapping of the pod's user namespace, if it has one.
    Bind {
        source: CString,
        target: InRoot,
        recursive: bool,
        idmap: bool,
    },
    /// With a pod user namespace: each host folder (an overlay's layers)
    /// gets its id mapping stacked over itself in the container's mount
    /// namespace, before the overlay is made from them.
    IdmapInPlace(Vec<CString>),
    /// `MS_REMOUNT | MS_BIND | flags`.
    Remount { target: InRoot, flags: MountFlags },
    /// The mount at the target and every mount below it read-only
    /// (`mount_setattr`, `AT_RECURSIVE`).
    ReadOnlyRecursively { target: InRoot },
    /// `symlink(points_to, link)`, `EEXIST` ignored.
    Symlink { points_to: CString, link: InRoot },
    /// `/dev/null` over a file or a read-only tmpfs over a folder.
    Mask { path: InRoot },
    /// Bind onto itself, remount read-only; skipped when missing.
    ReadOnly { path: InRoot },
}

/// How the root itself is mounted (on a host path the runtime chose).
#[derive(Debug)]
enum RootMount {
    /// `layers`: the host folders idmapped in place first, with a pod
    /// user namespace ([`idmapped_layers`]). `durable`: the options
    /// without `volatile`, for a kernel that does not know it (`None`:
    /// `data` has no `volatile`).
    Overlay {
        data: CString,
        durable: Option<CString>,
        layers: Vec<CString>,
    },
    Bind {
        source: CString,
    },
}

/// The compiled mount setup of one container.
#[derive(Debug)]
pub(crate) struct MountSetup {
    propagation: MountPropagationFlags,
    root: CString,
    root_mount: RootMount,
    readonly_root: bool,
    ops: Vec<Op>,
}

type Failure<'a> = (Step, Errno, &'a CStr);
impl MountSetup {
    /// Validates `plan` and prepares every path and option string.
    pub(crate) fn compile(plan: &MountPlan) -> Result<Self> {
        plan.validate()?;
        let root_mount = match &plan.root {
            RootFs::Overlay { lower, upper, work } => RootMount::Overlay {
                data: overlay_data(lower, upper, work, plan.volatile_root)?,
                durable: plan
                    .volatile_root
                    .then(|| overlay_data(lower, upper, work, false))
                    .transpose()?,
                layers: idmapped_layers(lower)?,
            },
            RootFs::Bind(source) => RootMount::Bind {
                source: cstr(source)?,
            },
        };
        let mut ops = Vec::with_capacity(plan.steps.len() * 2);
        for step in &plan.steps {
            compile_step(step, &mut ops)?;
        }
        Ok(Self {
            propagation: match plan.propagation {
                Propagation::Private => MountPropagationFlags::PRIVATE,
                Propagation::Slave => MountPropagationFlags::DOWNSTREAM,
            } | MountPropagationFlags::REC,
            root: cstr(&plan.root_mountpoint)?,
            root_mount,
            readonly_root: plan.readonly_root,
            ops,
        })
    }
}

impl MountSetup {
    /// What [`MountPlan::root_mount_points`] says, read from the ops the
    /// child runs: the folders and files made before anything is mounted
    /// on them or above them.
    pub(crate) fn root_mount_points(&self) -> Vec<RootMountPoint> {
        let mut mounted: Vec<&Path> = Vec::new();
        let mut points: Vec<RootMountPoint> = Vec::new();
        let mut add = |p: &InRoot, is_dir: bool, mounted: &[&Path]| {
            let path = p.as_path();
            let on_root = !mounted.iter().any(|m| path.starts_with(m));
            if on_root && !points.iter().any(|q| q.path == path) {
                points.push(RootMountPoint {
                    path: path.to_path_buf(),
                    is_dir,
                });
            }
        };
        for op in &self.ops {
            match op {
                Op::MakeDirs(dirs) => {
                    for d in dirs {
                        add(d, true, &mounted);
                    }
                }
                Op::MakeFile { parents, file } => {
                    for d in parents {
                        add(d, true, &mounted);
                    }
                    add(file, false, &mounted);
                }
                Op::Mount { target, .. }
                | Op::Bind { target, .. }
                | Op::Mask { path: target }
                | Op::ReadOnly { path: target } => mounted.push(target.as_path()),
                Op::IdmapInPlace(_)
                | Op::Remount { .. }
                | Op::ReadOnlyRecursively { .. }
                | Op::Symlink { .. } => {}
            }
        }
        points
    }
}

fn secure_flags() -> MountFlags {
    MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC
}

fn flags_of(o: MountOptions) -> MountFlags {
    let mut f = MountFlags::empty();
    for (on, flag) in [
        (o.readonly, MountFlags::RDONLY),
        (o.nosuid, MountFlags::NOSUID),
        (o.nodev, MountFlags::NODEV),
        (o.noexec, MountFlags::NOEXEC),
    ] {
        if on {
            f |= flag;
        }
    }
    f
}

fn compile_step(step: &MountStep, ops: &mut Vec<Op>) -> Result<()> {
    match step {
        MountStep::Bind {
            source,
            target,
            recursive,
            options,
        } => {
            ops.push(mountpoint_for(target, source.is_dir())?);
            ops.push(Op::Bind {
                source: cstr(source)?,
                target: in_root(target)?,
                recursive: *recursive,
                idmap: true,
            });
            let flags = flags_of(*options);
            if !flags.is_empty() {
                ops.push(Op::Remount {
                    target: in_root(target)?,
                    flags,
                });
            }
            if options.readonly && options.recursive_readonly && *recursive {
                ops.push(Op::ReadOnlyRecursively {
                    target: in_root(target)?,
                });
            }
        }
        MountStep::Device { source, target } => {
            ops.push(mountpoint_for(target, false)?);
            ops.push(Op::Bind {
                source: cstr(source)?,
                target: in_root(target)?,
                recursive: false,
                idmap: false,
            });
        }
        MountStep::Overlay {
            lower,
            upper,
            work,
            target,
            options,
        } => {
            ops.push(mountpoint_for(target, true)?);
            ops.push(Op::IdmapInPlace(idmapped_layers(lower)?));
            ops.push(Op::Mount {
                source: c"overlay".to_owned(),
                target: in_root(target)?,
                fstype: c"overlay".to_owned(),
                flags: flags_of(*options),
                data: Some(overlay_data(lower, upper, work, false)?),
            });
        }
        MountStep::Tmpfs {
            target,
            size_bytes,
            mode,
            options,
        } => {
            let mut data = format!("mode={:o}", mode.unwrap_or(0o1777));
            if let Some(size) = size_bytes {
                data = format!("{data},size={size}");
            }
            special(target, "tmpfs", flags_of(*options), Some(&data), ops)?;
        }
        MountStep::Proc { target } => special(target, "proc", secure_flags(), None, ops)?,
        MountStep::Sysfs { target, writable } => {
            special(target, "sysfs", ro_unless(*writable), None, ops)?;
        }
        MountStep::CgroupFs { target, writable } => {
            cgroup_fs(
                target,
                *writable,
                crate::cgroup::host_container_mounts(),
                ops,
            )?;
        }
        MountStep::HostDevices { target } => {
            for node in host_device_nodes(Path::new("/dev"))? {
                let rel = node.strip_prefix("/dev").unwrap_or(&node);
                let at = target.join(rel);
                ops.push(mountpoint_for(&at, false)?);
                ops.push(Op::Bind {
                    source: cstr(&node)?,
                    target: in_root(&at)?,
                    recursive: false,
                    idmap: false,
                });
            }
        }
        MountStep::Devpts { target, group } => special(
            target,
            "devpts",
            MountFlags::NOSUID | MountFlags::NOEXEC,
            Some(&format!("newinstance,ptmxmode=0666,mode=0620,gid={group}")),
            ops,
        )?,
        MountStep::Mqueue { target } => special(target, "mqueue", secure_flags(), None, ops)?,
        MountStep::Mkdir { path, .. } => ops.push(mountpoint_for(path, true)?),
        MountStep::File { path } => ops.push(mountpoint_for(path, false)?),
        MountStep::Symlink { path, points_to } => {
            if let Op::MakeFile { parents, .. } = mountpoint_for(path, false)?
                && !parents.is_empty()
            {
                ops.push(Op::MakeDirs(parents));
            }
            ops.push(Op::Symlink {
                points_to: cstr(points_to)?,
                link: in_root(path)?,
            });
        }
        MountStep::Mask { path } => ops.push(Op::Mask {
            path: in_root(path)?,
        }),
        MountStep::ReadOnly { path } => ops.push(Op::ReadOnly {
            path: in_root(path)?,
        }),
    }
    Ok(())
}

/// `nosuid,nodev,noexec`, and read-only unless `writable`.
fn ro_unless(writable: bool) -> MountFlags {
    if writable {
        secure_flags()
    } else {
        secure_flags() | MountFlags::RDONLY
    }
}

/// The cgroup filesystem of a container ([`MountStep::CgroupFs`]): one
/// `cgroup2` on a v2 host; else a tmpfs holding each hierarchy, a symlink
/// per controller of a joint one (`cpu -> cpu,cpuacct`), the tmpfs made
/// read-only last. The hierarchies are mounted anew, so in the child's
/// cgroup namespace each is rooted at the container's own cgroup.
fn cgroup_fs(
    target: &Path,
    writable: bool,
    mounts: &[crate::cgroup::CgroupMount],
    ops: &mut Vec<Op>,
) -> Result<()> {
    let flags = ro_unless(writable);
    if let [only] = mounts
        && only.name.is_empty()
    {
        return special(target, only.fstype, flags, None, ops);
    }
    special(target, "tmpfs", secure_flags(), Some("mode=755"), ops)?;
    for m in mounts {
        let data = (!m.data.is_empty()).then_some(m.data.as_str());
        special(&target.join(&m.name), m.fstype, flags, data, ops)?;
    }
    for m in mounts.iter().filter(|m| m.name.contains(',')) {
        for part in m.name.split(',') {
            if !mounts.iter().any(|o| o.name == part) {
                ops.push(Op::Symlink {
                    points_to: cstr(Path::new(&m.name))?,
                    link: in_root(&target.join(part))?,
                });
            }
        }
    }
    if !writable {
        ops.push(Op::Remount {
            target: in_root(target)?,
            flags: secure_flags() | MountFlags::RDONLY,
        });
    }
    Ok(())
}

/// The device nodes of the host's `dir` and its folders (but `pts`,
/// `shm`, `mqueue`), except the ones every container gets already.
fn host_device_nodes(dir: &Path) -> Result<Vec<PathBuf>> {
    use std::os::unix::fs::FileTypeExt;
    const SKIP: [&str; 10] = [
        "pts", "shm", "mqueue", "null", "zero", "full", "random", "urandom", "tty", "ptmx",
    ];
    let mut out = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), 0)];
    while let Some((dir, depth)) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::sys("read the host's /dev", e))?;
        for entry in entries.filter_map(std::result::Result::ok) {
            let name = entry.file_name();
            if depth == 0 && SKIP.iter().any(|s| name == *s) {
                continue;
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_char_device() || kind.is_block_device() {
                out.push(entry.path());
            } else if kind.is_dir() && depth < 3 {
                pending.push((entry.path(), depth + 1));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A filesystem without a source (`proc`, `tmpfs`, ...) on a folder made
/// when missing.
fn special(
    target: &Path,
    fstype: &str,
    flags: MountFlags,
    data: Option<&str>,
    ops: &mut Vec<Op>,
) -> Result<()> {
    ops.push(mountpoint_for(target, true)?);
    ops.push(Op::Mount {
        source: cstr(Path::new(fstype))?,
        target: in_root(target)?,
        fstype: cstr(Path::new(fstype))?,
        flags,
        data: data.map(|d| cstr(Path::new(d))).transpose()?,
    });
    Ok(())
}

/// overlayfs' options for these layers (`volatile`: see
/// [`MountPlan::volatile_root`]).
fn overlay_data(lower: &[PathBuf], upper: &Path, work: &Path, volatile: bool) -> Result<CString> {
    let lowerdir = lower
        .iter()
        .map(|l| l.to_string_lossy())
        .collect::<Vec<_>>()
        .join(":");
    cstr(Path::new(&format!(
        "lowerdir={lowerdir},upperdir={},workdir={}{}",
        upper.display(),
        work.display(),
        if volatile { ",volatile" } else { "" }
    )))
}

/// The host folders of an overlay idmapped for a pod user namespace: its
/// lower layers. Not the upper one: overlayfs makes its work folder and
/// copies up as the mounter, host root, which has no id in the pod's
/// mapping (an idmapped upper turns the overlay read-only). The upper
/// layer keeps the host ids the container writes with (its own root
/// folder is owned by the pod's host uid 0, set by the runtime), and a
/// copied-up file gets the owner the idmapped lower layer shows.
fn idmapped_layers(lower: &[PathBuf]) -> Result<Vec<CString>> {
    lower.iter().map(|l| cstr(l)).collect()
}

/// The ops that make `path` (a folder with its parents, or a file in its
/// made parents).
fn mountpoint_for(path: &Path, dir: bool) -> Result<Op> {
    let mut chain = Vec::new();
    let mut cur = PathBuf::from("/");
    let parts: Vec<_> = path.components().skip(1).collect();
    for (i, part) in parts.iter().enumerate() {
        cur.push(part);
        if i + 1 < parts.len() || dir {
            chain.push(in_root(&cur)?);
        }
    }
    Ok(if dir {
        Op::MakeDirs(chain)
    } else {
        Op::MakeFile {
            parents: chain,
            file: in_root(path)?,
        }
    })
}

/// Splits an absolute container path for `*at` calls.
fn in_root(path: &Path) -> Result<InRoot> {
    let parent = path.parent().unwrap_or(Path::new("/"));
    let name = path.file_name().map_or(Path::new("."), Path::new);
    Ok(InRoot {
        path: cstr(path)?,
        parent: cstr(parent)?,
        name: cstr(name)?,
    })
}

fn cstr(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::invalid(p.display().to_string(), "path holds a NUL byte"))
}
#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> MountPlan {
        MountPlan::new(RootFs::Bind("/img".into()), "/run/c/rootfs")
    }

    #[test]
    fn targets_stay_container_paths_resolved_in_root_later() {
        let setup = MountSetup::compile(&plan().step(MountStep::Proc {
            target: "/proc".into(),
        }))
        .expect("compiles");
        assert_eq!(setup.root.as_c_str(), c"/run/c/rootfs");
        let Op::Mount { target, fstype, .. } = &setup.ops[1] else {
            panic!("{:?}", setup.ops)
        };
        assert_eq!(target.path.as_c_str(), c"/proc");
        assert_eq!(target.parent.as_c_str(), c"/");
        assert_eq!(target.name.as_c_str(), c"proc");
        assert_eq!(fstype.as_c_str(), c"proc");
    }

    #[test]
    fn file_bind_makes_parents_then_the_file() {
        let op = mountpoint_for(Path::new("/etc/ssl/hosts"), false).expect("ok");
        let Op::MakeFile { parents, file } = op else {
            panic!("{op:?}")
        };
        let paths: Vec<_> = parents.iter().map(|p| p.path.as_c_str()).collect();
        assert_eq!(paths, [c"/etc", c"/etc/ssl"]);
        assert_eq!(parents[1].parent.as_c_str(), c"/etc");
        assert_eq!(parents[1].name.as_c_str(), c"ssl");
        assert_eq!(file.path.as_c_str(), c"/etc/ssl/hosts");
    }

    #[test]
    fn volatile_root_overlay_keeps_a_durable_fallback() {
        let mut p = plan();
        p.root = RootFs::Overlay {
            lower: vec!["/l/base".into()],
            upper: "/c/upper".into(),
            work: "/c/work".into(),
        };
        let options = |p: &MountPlan| match MountSetup::compile(p).expect("compiles").root_mount {
            RootMount::Overlay { data, durable, .. } => (data, durable),
            RootMount::Bind { .. } => panic!("overlay root"),
        };
        let plain = c"lowerdir=/l/base,upperdir=/c/upper,workdir=/c/work";
        assert_eq!(options(&p), (plain.to_owned(), None));
        p.volatile_root = true;
        let (data, durable) = options(&p);
        assert_eq!(
            data.as_c_str(),
            c"lowerdir=/l/base,upperdir=/c/upper,workdir=/c/work,volatile"
        );
        assert_eq!(durable.as_deref(), Some(plain));
    }

    #[test]
    fn overlay_options_list_layers_top_first() {
        let data = overlay_data(
            &["/l/top".into(), "/l/base".into()],
            Path::new("/c/upper"),
            Path::new("/c/work"),
            false,
        )
        .expect("ok");
        assert_eq!(
            data.as_c_str(),
            c"lowerdir=/l/top:/l/base,upperdir=/c/upper,workdir=/c/work"
        );
    }

    #[test]
    fn tmpfs_gets_mode_and_size() {
        let setup = MountSetup::compile(&plan().step(MountStep::Tmpfs {
            target: "/dev/shm".into(),
            size_bytes: Some(1024),
            mode: Some(0o1777),
            options: MountOptions::SECURE,
        }))
        .expect("compiles");
        let Op::Mount { data, flags, .. } = &setup.ops[1] else {
            panic!("{:?}", setup.ops)
        };
        assert_eq!(data.as_deref(), Some(c"mode=1777,size=1024"));
        assert!(flags.contains(MountFlags::NOEXEC));
    }

    #[test]
    fn readonly_bind_is_followed_by_a_remount() {
        let setup = MountSetup::compile(&plan().step(MountStep::Bind {
            source: "/etc/hosts".into(),
            target: "/etc/hosts".into(),
            recursive: false,
            options: MountOptions::default().read_only(),
        }))
        .expect("compiles");
        assert!(
            matches!(&setup.ops[2], Op::Remount { flags, .. } if flags.contains(MountFlags::RDONLY))
        );
    }

    #[test]
    fn recursive_readonly_bind_ends_with_mount_setattr_on_the_tree() {
        let step = |recursive_readonly| MountStep::Bind {
            source: "/srv".into(),
            target: "/data".into(),
            recursive: true,
            options: MountOptions {
                recursive_readonly,
                ..MountOptions::default().read_only()
            },
        };
        let setup = MountSetup::compile(&plan().step(step(true))).expect("compiles");
        assert!(matches!(
            setup.ops.last(),
            Some(Op::ReadOnlyRecursively { .. })
        ));
        let setup = MountSetup::compile(&plan().step(step(false))).expect("compiles");
        assert!(
            !setup
                .ops
                .iter()
                .any(|op| matches!(op, Op::ReadOnlyRecursively { .. }))
        );
    }

    fn mounted(ops: &[Op]) -> Vec<(String, String, Option<String>, bool)> {
        ops.iter()
            .filter_map(|op| match op {
                Op::Mount {
                    target,
                    fstype,
                    flags,
                    data,
                    ..
                } => Some((
                    target.path.to_string_lossy().into_owned(),
                    fstype.to_string_lossy().into_owned(),
                    data.as_ref().map(|d| d.to_string_lossy().into_owned()),
                    flags.contains(MountFlags::RDONLY),
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn cgroup_fs_on_v1_mounts_each_hierarchy_read_only_in_a_read_only_tmpfs() {
        use crate::cgroup::CgroupMount;
        let mounts = [
            CgroupMount {
                name: "cpu,cpuacct".into(),
                fstype: "cgroup",
                data: "cpu,cpuacct".into(),
            },
            CgroupMount {
                name: "unified".into(),
                fstype: "cgroup2",
                data: String::new(),
            },
        ];
        let mut ops = Vec::new();
        cgroup_fs(Path::new("/sys/fs/cgroup"), false, &mounts, &mut ops).expect("ok");
        assert_eq!(
            mounted(&ops),
            [
                (
                    "/sys/fs/cgroup".into(),
                    "tmpfs".into(),
                    Some("mode=755".into()),
                    false
                ),
                (
                    "/sys/fs/cgroup/cpu,cpuacct".into(),
                    "cgroup".into(),
                    Some("cpu,cpuacct".into()),
                    true
                ),
                (
                    "/sys/fs/cgroup/unified".into(),
                    "cgroup2".into(),
                    None,
                    true
                ),
            ]
        );
        let links: Vec<_> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Symlink { link, .. } => Some(link.path.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        assert_eq!(links, ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct"]);
        assert!(
            matches!(ops.last(), Some(Op::Remount { flags, .. }) if flags.contains(MountFlags::RDONLY))
        );
    }

    #[test]
    fn cgroup_fs_on_v2_is_one_cgroup2_writable_when_privileged() {
        let mounts = [crate::cgroup::CgroupMount {
            name: String::new(),
            fstype: "cgroup2",
            data: String::new(),
        }];
        let mut ops = Vec::new();
        cgroup_fs(Path::new("/sys/fs/cgroup"), true, &mounts, &mut ops).expect("ok");
        assert_eq!(
            mounted(&ops),
            [("/sys/fs/cgroup".into(), "cgroup2".into(), None, false)]
        );
        assert!(!ops.iter().any(|op| matches!(op, Op::Remount { .. })));
    }

    #[test]
    fn host_devices_list_nodes_but_the_default_ones_and_pts() {
        let nodes = host_device_nodes(Path::new("/dev")).expect("read /dev");
        assert!(
            !nodes
                .iter()
                .any(|n| n == Path::new("/dev/null") || n.starts_with("/dev/pts"))
        );
        assert!(
            nodes
                .iter()
                .any(|n| n == Path::new("/dev/kmsg") || n == Path::new("/dev/mem"))
        );
    }

    #[test]
    fn invalid_plan_does_not_compile() {
        let bad = plan().step(MountStep::Proc {
            target: "proc".into(),
        });
        assert!(MountSetup::compile(&bad).is_err());
    }
}
