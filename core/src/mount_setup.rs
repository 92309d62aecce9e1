//! A [`MountPlan`] turned into syscall-ready steps in the parent
//! ([`MountSetup::compile`]: every path a `CString`, every target joined
//! below the new root), and applied in the child ([`MountSetup::apply`]:
//! raw syscalls only, no allocation), ending with `pivot_root`.

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{CWD, Mode};
use rustix::io::Errno;
use rustix::mount::{MountFlags, MountPropagationFlags, UnmountFlags};

use crate::child_error::Step;
use crate::error::{Error, Result};
use crate::mount_plan::{MountOptions, MountPlan, MountStep, Propagation, RootFs};

/// One syscall-level operation.
#[derive(Debug)]
enum Op {
    /// `mkdir` each path in turn, `EEXIST` ignored (parents first).
    MakeDirs(Vec<CString>),
    /// Parents as `MakeDirs`, then the file with `O_CREAT`.
    MakeFile {
        parents: Vec<CString>,
        path: CString,
    },
    /// `mount(source, target, fstype, flags, data)`.
    Mount {
        source: CString,
        target: CString,
        fstype: CString,
        flags: MountFlags,
        data: Option<CString>,
    },
    /// A bind mount (`recursive`: `MS_REC`).
    Bind {
        source: CString,
        target: CString,
        recursive: bool,
    },
    /// `MS_REMOUNT | MS_BIND | flags`.
    Remount { target: CString, flags: MountFlags },
    /// `symlink(points_to, path)`, `EEXIST` ignored.
    Symlink { points_to: CString, path: CString },
    /// `/dev/null` over a file or a read-only tmpfs over a folder.
    Mask { path: CString },
    /// Bind onto itself, remount read-only; skipped when missing.
    ReadOnly { path: CString },
}

/// The compiled mount setup of one container.
#[derive(Debug)]
pub(crate) struct MountSetup {
    propagation: MountPropagationFlags,
    root: CString,
    ops: Vec<Op>,
}

impl MountSetup {
    /// Validates `plan` and prepares every path and option string.
    pub(crate) fn compile(plan: &MountPlan) -> Result<Self> {
        plan.validate()?;
        let root = &plan.root_mountpoint;
        let mut ops = Vec::with_capacity(plan.steps.len() + 2);
        match &plan.root {
            RootFs::Overlay { lower, upper, work } => ops.push(overlay(lower, upper, work, root)?),
            RootFs::Bind(source) => ops.push(Op::Bind {
                source: cstr(source)?,
                target: cstr(root)?,
                recursive: true,
            }),
        }
        for step in &plan.steps {
            compile_step(root, step, &mut ops)?;
        }
        if plan.readonly_root {
            ops.push(Op::Remount {
                target: cstr(root)?,
                flags: MountFlags::RDONLY,
            });
        }
        Ok(Self {
            propagation: match plan.propagation {
                Propagation::Private => MountPropagationFlags::PRIVATE,
                Propagation::Slave => MountPropagationFlags::DOWNSTREAM,
            } | MountPropagationFlags::REC,
            root: cstr(root)?,
            ops,
        })
    }

    /// Applies the setup in the child's new mount namespace, then pivots
    /// into the new root and detaches the old one. Allocation-free.
    /// On failure: the step, the errno and the path it worked on.
    pub(crate) fn apply(&self) -> Result<(), (Step, Errno, &CStr)> {
        rustix::mount::mount_change(c"/", self.propagation)
            .map_err(|e| (Step::Propagation, e, c"/"))?;
        for op in &self.ops {
            apply_op(op)?;
        }
        let root = self.root.as_c_str();
        rustix::process::chdir(root).map_err(|e| (Step::PivotRoot, e, root))?;
        // pivot_root(".", "."): the old root ends up on top of the new one,
        // then is detached; no put_old folder needed (runc does the same).
        rustix::process::pivot_root(c".", c".").map_err(|e| (Step::PivotRoot, e, root))?;
        rustix::mount::unmount(c".", UnmountFlags::DETACH)
            .map_err(|e| (Step::PivotRoot, e, root))?;
        rustix::process::chdir(c"/").map_err(|e| (Step::PivotRoot, e, c"/"))
    }
}

fn apply_op(op: &Op) -> Result<(), (Step, Errno, &CStr)> {
    match op {
        Op::MakeDirs(paths) => make_dirs(paths),
        Op::MakeFile { parents, path } => {
            make_dirs(parents)?;
            make_file(path)
        }
        Op::Mount {
            source,
            target,
            fstype,
            flags,
            data,
        } => rustix::mount::mount(
            source.as_c_str(),
            target.as_c_str(),
            fstype.as_c_str(),
            *flags,
            data.as_deref(),
        )
        .map_err(|e| (Step::Mount, e, target.as_c_str())),
        Op::Bind {
            source,
            target,
            recursive,
        } => if *recursive {
            rustix::mount::mount_bind_recursive(source.as_c_str(), target.as_c_str())
        } else {
            rustix::mount::mount_bind(source.as_c_str(), target.as_c_str())
        }
        .map_err(|e| (Step::Mount, e, target.as_c_str())),
        Op::Remount { target, flags } => remount(target, *flags),
        Op::Symlink { points_to, path } => {
            match rustix::fs::symlinkat(points_to.as_c_str(), CWD, path.as_c_str()) {
                Ok(()) | Err(Errno::EXIST) => Ok(()),
                Err(e) => Err((Step::Symlink, e, path.as_c_str())),
            }
        }
        Op::Mask { path } => mask(path),
        Op::ReadOnly { path } => {
            match rustix::mount::mount_bind_recursive(path.as_c_str(), path.as_c_str()) {
                Ok(()) => remount(path, MountFlags::RDONLY | secure_flags()),
                Err(Errno::NOENT) => Ok(()),
                Err(e) => Err((Step::Mount, e, path.as_c_str())),
            }
        }
    }
}

fn make_dirs(paths: &[CString]) -> Result<(), (Step, Errno, &CStr)> {
    for p in paths {
        match rustix::fs::mkdirat(CWD, p.as_c_str(), Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err((Step::Mkdir, e, p.as_c_str())),
        }
    }
    Ok(())
}

fn make_file(path: &CStr) -> Result<(), (Step, Errno, &CStr)> {
    use rustix::fs::OFlags;
    rustix::fs::openat(
        CWD,
        path,
        OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::from_raw_mode(0o644),
    )
    .map(drop)
    .or_else(|e| {
        // An existing directory, socket or device is a fine mount point.
        if e == Errno::ISDIR || e == Errno::NXIO || e == Errno::ACCESS {
            Ok(())
        } else {
            Err((Step::Mkdir, e, path))
        }
    })
}

fn remount(target: &CStr, flags: MountFlags) -> Result<(), (Step, Errno, &CStr)> {
    rustix::mount::mount_remount(target, MountFlags::BIND | flags, c"")
        .map_err(|e| (Step::Remount, e, target))
}

fn mask(path: &CStr) -> Result<(), (Step, Errno, &CStr)> {
    let stat = match rustix::fs::statat(CWD, path, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
        Ok(s) => s,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err((Step::Mask, e, path)),
    };
    let is_dir =
        rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::Directory;
    if is_dir {
        rustix::mount::mount(c"tmpfs", path, c"tmpfs", MountFlags::RDONLY, c"size=0")
    } else {
        // The host's /dev/null: the old root is still reachable here.
        rustix::mount::mount_bind(c"/dev/null", path)
    }
    .map_err(|e| (Step::Mask, e, path))
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

fn compile_step(root: &Path, step: &MountStep, ops: &mut Vec<Op>) -> Result<()> {
    let at = |p: &Path| -> Result<CString> { cstr(&below(root, p)) };
    match step {
        MountStep::Bind {
            source,
            target,
            recursive,
            options,
        } => {
            let target_c = at(target)?;
            ops.push(mountpoint_for(root, target, source.is_dir())?);
            ops.push(Op::Bind {
                source: cstr(source)?,
                target: target_c.clone(),
                recursive: *recursive,
            });
            let flags = flags_of(*options);
            if !flags.is_empty() {
                ops.push(Op::Remount {
                    target: target_c,
                    flags,
                });
            }
        }
        MountStep::Device { source, target } => {
            ops.push(mountpoint_for(root, target, false)?);
            ops.push(Op::Bind {
                source: cstr(source)?,
                target: at(target)?,
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
            ops.push(mountpoint_for(root, target, true)?);
            let mut op = overlay(lower, upper, work, &below(root, target))?;
            if let Op::Mount { flags, .. } = &mut op {
                *flags = flags_of(*options);
            }
            ops.push(op);
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
            special(root, target, "tmpfs", flags_of(*options), Some(&data), ops)?;
        }
        MountStep::Proc { target } => special(root, target, "proc", secure_flags(), None, ops)?,
        MountStep::Sysfs { target } => special(
            root,
            target,
            "sysfs",
            secure_flags() | MountFlags::RDONLY,
            None,
            ops,
        )?,
        MountStep::Devpts { target } => special(
            root,
            target,
            "devpts",
            MountFlags::NOSUID | MountFlags::NOEXEC,
            Some("newinstance,ptmxmode=0666,mode=0620,gid=5"),
            ops,
        )?,
        MountStep::Mqueue { target } => special(root, target, "mqueue", secure_flags(), None, ops)?,
        MountStep::Mkdir { path, .. } => ops.push(mountpoint_for(root, path, true)?),
        MountStep::File { path } => ops.push(mountpoint_for(root, path, false)?),
        MountStep::Symlink { path, points_to } => {
            if let Op::MakeDirs(parents) = mountpoint_for(root, parent_of(path), true)? {
                ops.push(Op::MakeDirs(parents));
            }
            ops.push(Op::Symlink {
                points_to: cstr(points_to)?,
                path: at(path)?,
            });
        }
        MountStep::Mask { path } => ops.push(Op::Mask { path: at(path)? }),
        MountStep::ReadOnly { path } => ops.push(Op::ReadOnly { path: at(path)? }),
    }
    Ok(())
}

/// A filesystem without a source (`proc`, `tmpfs`, ...) on a folder made
/// when missing.
fn special(
    root: &Path,
    target: &Path,
    fstype: &str,
    flags: MountFlags,
    data: Option<&str>,
    ops: &mut Vec<Op>,
) -> Result<()> {
    ops.push(mountpoint_for(root, target, true)?);
    ops.push(Op::Mount {
        source: cstr(Path::new(fstype))?,
        target: cstr(&below(root, target))?,
        fstype: cstr(Path::new(fstype))?,
        flags,
        data: data.map(|d| cstr(Path::new(d))).transpose()?,
    });
    Ok(())
}

fn overlay(lower: &[PathBuf], upper: &Path, work: &Path, target: &Path) -> Result<Op> {
    let lowerdir = lower
        .iter()
        .map(|l| l.to_string_lossy())
        .collect::<Vec<_>>()
        .join(":");
    let data = format!(
        "lowerdir={lowerdir},upperdir={},workdir={}",
        upper.display(),
        work.display()
    );
    Ok(Op::Mount {
        source: c"overlay".to_owned(),
        target: cstr(target)?,
        fstype: c"overlay".to_owned(),
        flags: MountFlags::empty(),
        data: Some(cstr(Path::new(&data))?),
    })
}

/// The ops that make `path` (a folder, or a file in its made parents).
fn mountpoint_for(root: &Path, path: &Path, dir: bool) -> Result<Op> {
    let mut chain = Vec::new();
    let mut cur = root.to_path_buf();
    let rel = path.strip_prefix("/").unwrap_or(path);
    let parts: Vec<_> = rel.components().collect();
    for (i, part) in parts.iter().enumerate() {
        cur.push(part);
        if i + 1 < parts.len() || dir {
            chain.push(cstr(&cur)?);
        }
    }
    Ok(if dir {
        Op::MakeDirs(chain)
    } else {
        Op::MakeFile {
            parents: chain,
            path: cstr(&below(root, path))?,
        }
    })
}

fn parent_of(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("/"))
}

/// `path` of the container as a host path below `root`.
fn below(root: &Path, path: &Path) -> PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
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
    fn targets_are_joined_below_the_root() {
        let setup = MountSetup::compile(&plan().step(MountStep::Proc {
            target: "/proc".into(),
        }))
        .expect("compiles");
        assert_eq!(setup.root.as_c_str(), c"/run/c/rootfs");
        let Op::Mount { target, fstype, .. } = &setup.ops[2] else {
            panic!("{:?}", setup.ops)
        };
        assert_eq!(target.as_c_str(), c"/run/c/rootfs/proc");
        assert_eq!(fstype.as_c_str(), c"proc");
    }

    #[test]
    fn file_bind_makes_parents_then_the_file() {
        let op = mountpoint_for(Path::new("/r"), Path::new("/etc/ssl/hosts"), false).expect("ok");
        let Op::MakeFile { parents, path } = op else {
            panic!("{op:?}")
        };
        assert_eq!(parents, [c"/r/etc".to_owned(), c"/r/etc/ssl".to_owned()]);
        assert_eq!(path.as_c_str(), c"/r/etc/ssl/hosts");
    }

    #[test]
    fn overlay_options_list_layers_top_first() {
        let op = overlay(
            &["/l/top".into(), "/l/base".into()],
            Path::new("/c/upper"),
            Path::new("/c/work"),
            Path::new("/c/rootfs"),
        )
        .expect("ok");
        let Op::Mount { data, .. } = op else {
            panic!("{op:?}")
        };
        assert_eq!(
            data.expect("data").as_c_str(),
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
        let Op::Mount { data, flags, .. } = &setup.ops[2] else {
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
            matches!(&setup.ops[3], Op::Remount { flags, .. } if flags.contains(MountFlags::RDONLY))
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
