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

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{CWD, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use rustix::mount::{MountFlags, MountPropagationFlags, UnmountFlags};

use crate::child_error::Step;
use crate::error::{Error, Result};
use crate::mount_plan::{MountOptions, MountPlan, MountStep, Propagation, RootFs};

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
    /// A bind mount of a host path (`recursive`: `MS_REC`).
    Bind {
        source: CString,
        target: InRoot,
        recursive: bool,
    },
    /// `MS_REMOUNT | MS_BIND | flags`.
    Remount { target: InRoot, flags: MountFlags },
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
    Overlay { data: CString },
    Bind { source: CString },
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
                data: overlay_data(lower, upper, work)?,
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

    /// Applies the setup in the child's new mount namespace, then pivots
    /// into the new root and detaches the old one. Allocation-free.
    /// On failure: the step, the errno and the path it worked on.
    pub(crate) fn apply(&self) -> Result<(), Failure<'_>> {
        let root = self.root.as_c_str();
        rustix::mount::mount_change(c"/", self.propagation)
            .map_err(|e| (Step::Propagation, e, c"/"))?;
        match &self.root_mount {
            RootMount::Overlay { data } => rustix::mount::mount(
                c"overlay",
                root,
                c"overlay",
                MountFlags::empty(),
                data.as_c_str(),
            ),
            RootMount::Bind { source } => {
                rustix::mount::mount_bind_recursive(source.as_c_str(), root)
            }
        }
        .map_err(|e| (Step::Mount, e, root))?;
        let root_fd = rustix::fs::openat(
            CWD,
            root,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| (Step::Mount, e, root))?;
        for op in &self.ops {
            apply_op(root_fd.as_fd(), op)?;
        }
        if self.readonly_root {
            rustix::mount::mount_remount(root, MountFlags::BIND | MountFlags::RDONLY, c"")
                .map_err(|e| (Step::Remount, e, c"/"))?;
        }
        drop(root_fd);
        rustix::process::chdir(root).map_err(|e| (Step::PivotRoot, e, root))?;
        // pivot_root(".", "."): the old root ends up on top of the new one,
        // then is detached; no put_old folder needed (runc does the same).
        rustix::process::pivot_root(c".", c".").map_err(|e| (Step::PivotRoot, e, root))?;
        rustix::mount::unmount(c".", UnmountFlags::DETACH)
            .map_err(|e| (Step::PivotRoot, e, root))?;
        rustix::process::chdir(c"/").map_err(|e| (Step::PivotRoot, e, c"/"))
    }
}

/// `path` of the container opened as `O_PATH` without ever leaving `root`.
fn resolve(root: BorrowedFd<'_>, path: &CStr) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat2(
        root,
        path,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
}

/// `/proc/self/fd/N`, formatted on the stack.
struct FdPath([u8; 32]);

impl FdPath {
    fn new(fd: BorrowedFd<'_>) -> Self {
        use std::os::fd::AsRawFd;
        const PREFIX: &[u8] = b"/proc/self/fd/";
        let mut buf = [0u8; 32];
        buf[..PREFIX.len()].copy_from_slice(PREFIX);
        let mut digits = [0u8; 10];
        let mut n = fd.as_raw_fd().unsigned_abs();
        let mut len = 0;
        loop {
            // `n % 10` < 10 fits a u8.
            digits[len] = b'0' + u8::try_from(n % 10).unwrap_or(0);
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for (i, d) in digits[..len].iter().rev().enumerate() {
            buf[PREFIX.len() + i] = *d;
        }
        Self(buf)
    }

    fn as_c_str(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.0).unwrap_or(c"/proc/self/fd")
    }
}

/// Runs `f` on the `/proc/self/fd/N` path of `target` resolved in root.
fn on_target<'a>(
    root: BorrowedFd<'_>,
    step: Step,
    target: &'a InRoot,
    f: impl FnOnce(&CStr) -> rustix::io::Result<()>,
) -> Result<(), Failure<'a>> {
    let fd = resolve(root, &target.path).map_err(|e| (step, e, target.path.as_c_str()))?;
    f(FdPath::new(fd.as_fd()).as_c_str()).map_err(|e| (step, e, target.path.as_c_str()))
}

fn apply_op<'a>(root: BorrowedFd<'_>, op: &'a Op) -> Result<(), Failure<'a>> {
    match op {
        Op::MakeDirs(paths) => make_dirs(root, paths),
        Op::MakeFile { parents, file } => {
            make_dirs(root, parents)?;
            make_file(root, file)
        }
        Op::Mount {
            source,
            target,
            fstype,
            flags,
            data,
        } => on_target(root, Step::Mount, target, |t| {
            rustix::mount::mount(
                source.as_c_str(),
                t,
                fstype.as_c_str(),
                *flags,
                data.as_deref(),
            )
        }),
        Op::Bind {
            source,
            target,
            recursive,
        } => on_target(root, Step::Mount, target, |t| {
            if *recursive {
                rustix::mount::mount_bind_recursive(source.as_c_str(), t)
            } else {
                rustix::mount::mount_bind(source.as_c_str(), t)
            }
        }),
        Op::Remount { target, flags } => {
            on_target(root, Step::Remount, target, |t| remount(t, *flags))
        }
        Op::Symlink { points_to, link } => {
            let parent = resolve(root, &link.parent)
                .map_err(|e| (Step::Symlink, e, link.path.as_c_str()))?;
            match rustix::fs::symlinkat(points_to.as_c_str(), &parent, link.name.as_c_str()) {
                Ok(()) | Err(Errno::EXIST) => Ok(()),
                Err(e) => Err((Step::Symlink, e, link.path.as_c_str())),
            }
        }
        Op::Mask { path } => mask(root, path),
        Op::ReadOnly { path } => match resolve(root, &path.path) {
            Err(Errno::NOENT) => Ok(()),
            Err(e) => Err((Step::Mount, e, path.path.as_c_str())),
            Ok(fd) => {
                let at = FdPath::new(fd.as_fd());
                rustix::mount::mount_bind_recursive(at.as_c_str(), at.as_c_str())
                    .map_err(|e| (Step::Mount, e, path.path.as_c_str()))?;
                drop(fd);
                // Reopen: the path is now the top of the new bind mount.
                on_target(root, Step::Remount, path, |t| {
                    remount(t, MountFlags::RDONLY | secure_flags())
                })
            }
        },
    }
}

fn make_dirs<'a>(root: BorrowedFd<'_>, paths: &'a [InRoot]) -> Result<(), Failure<'a>> {
    for p in paths {
        let parent = resolve(root, &p.parent).map_err(|e| (Step::Mkdir, e, p.path.as_c_str()))?;
        match rustix::fs::mkdirat(&parent, p.name.as_c_str(), Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err((Step::Mkdir, e, p.path.as_c_str())),
        }
    }
    Ok(())
}

fn make_file<'a>(root: BorrowedFd<'_>, file: &'a InRoot) -> Result<(), Failure<'a>> {
    let err = |e| (Step::Mkdir, e, file.path.as_c_str());
    let parent = resolve(root, &file.parent).map_err(err)?;
    match rustix::fs::openat(
        &parent,
        file.name.as_c_str(),
        OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW | OFlags::NONBLOCK,
        Mode::from_raw_mode(0o644),
    ) {
        // An existing folder, socket or device is a fine mount point too,
        // and so is a symlink (LOOP): it is resolved in root when mounted on.
        Ok(_) | Err(Errno::ISDIR | Errno::NXIO | Errno::ACCESS | Errno::LOOP) => Ok(()),
        Err(e) => Err(err(e)),
    }
}

fn remount(target: &CStr, flags: MountFlags) -> rustix::io::Result<()> {
    rustix::mount::mount_remount(target, MountFlags::BIND | flags, c"")
}

fn mask<'a>(root: BorrowedFd<'_>, path: &'a InRoot) -> Result<(), Failure<'a>> {
    let err = |e| (Step::Mask, e, path.path.as_c_str());
    let fd = match resolve(root, &path.path) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(err(e)),
    };
    let stat = rustix::fs::fstat(&fd).map_err(err)?;
    let at = FdPath::new(fd.as_fd());
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::Directory {
        rustix::mount::mount(
            c"tmpfs",
            at.as_c_str(),
            c"tmpfs",
            MountFlags::RDONLY,
            c"size=0",
        )
    } else {
        // The host's /dev/null: the old root is still reachable here.
        rustix::mount::mount_bind(c"/dev/null", at.as_c_str())
    }
    .map_err(err)
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
            });
            let flags = flags_of(*options);
            if !flags.is_empty() {
                ops.push(Op::Remount {
                    target: in_root(target)?,
                    flags,
                });
            }
        }
        MountStep::Device { source, target } => {
            ops.push(mountpoint_for(target, false)?);
            ops.push(Op::Bind {
                source: cstr(source)?,
                target: in_root(target)?,
                recursive: false,
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
            ops.push(Op::Mount {
                source: c"overlay".to_owned(),
                target: in_root(target)?,
                fstype: c"overlay".to_owned(),
                flags: flags_of(*options),
                data: Some(overlay_data(lower, upper, work)?),
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
        MountStep::Sysfs { target } => special(
            target,
            "sysfs",
            secure_flags() | MountFlags::RDONLY,
            None,
            ops,
        )?,
        MountStep::Devpts { target } => special(
            target,
            "devpts",
            MountFlags::NOSUID | MountFlags::NOEXEC,
            Some("newinstance,ptmxmode=0666,mode=0620,gid=5"),
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

fn overlay_data(lower: &[PathBuf], upper: &Path, work: &Path) -> Result<CString> {
    let lowerdir = lower
        .iter()
        .map(|l| l.to_string_lossy())
        .collect::<Vec<_>>()
        .join(":");
    cstr(Path::new(&format!(
        "lowerdir={lowerdir},upperdir={},workdir={}",
        upper.display(),
        work.display()
    )))
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
    fn overlay_options_list_layers_top_first() {
        let data = overlay_data(
            &["/l/top".into(), "/l/base".into()],
            Path::new("/c/upper"),
            Path::new("/c/work"),
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
    fn fd_path_is_formatted_on_the_stack() {
        let file = std::fs::File::open("/dev/null").expect("open");
        let fd = file.as_fd();
        let want = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
        assert_eq!(FdPath::new(fd).as_c_str().to_str().expect("utf8"), want);
    }

    #[test]
    fn invalid_plan_does_not_compile() {
        let bad = plan().step(MountStep::Proc {
            target: "proc".into(),
        });
        assert!(MountSetup::compile(&bad).is_err());
    }
}
