//! The child's side: [`MountSetup::apply`], raw syscalls only, every
//! container path resolved inside the new root.

use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{CWD, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use rustix::mount::{MountFlags, UnmountFlags};

use super::{Failure, InRoot, MountSetup, Op, RootMount, secure_flags};
use crate::child_error::Step;

impl MountSetup {
    /// Applies the setup in the child's new mount namespace, then pivots
    /// into the new root and detaches the old one. Allocation-free.
    /// On failure: the step, the errno and the path it worked on.
    ///
    /// `userns`: the pod's user namespace (`hostUsers: false`). The
    /// overlay is then made of idmapped layers (each lower layer and the
    /// upper/work folder get the pod's id mapping stacked over themselves
    /// in this mount namespace, so image files owned by 0 on disk are
    /// owned by the pod's 0), and host binds (volumes, the pod's files)
    /// are idmapped binds: nothing is chowned.
    pub(crate) fn apply(&self, userns: Option<BorrowedFd<'_>>) -> Result<(), Failure<'_>> {
        let root = self.root.as_c_str();
        rustix::mount::mount_change(c"/", self.propagation)
            .map_err(|e| (Step::Propagation, e, c"/"))?;
        match &self.root_mount {
            RootMount::Overlay {
                data,
                durable,
                layers,
            } => {
                idmap_in_place(layers, userns)?;
                let overlay = |data: &CStr| {
                    rustix::mount::mount(c"overlay", root, c"overlay", MountFlags::empty(), data)
                };
                match (overlay(data.as_c_str()), durable) {
                    // A kernel without `volatile` (before 5.10).
                    (Err(Errno::INVAL), Some(durable)) => overlay(durable.as_c_str()),
                    (done, _) => done,
                }
            }
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
            apply_op(root_fd.as_fd(), op, userns)?;
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

/// Stacks each folder's idmapped copy over itself, with a pod user
/// namespace; nothing without one.
fn idmap_in_place<'a>(
    folders: &'a [std::ffi::CString],
    userns: Option<BorrowedFd<'_>>,
) -> Result<(), Failure<'a>> {
    let Some(userns) = userns else { return Ok(()) };
    for f in folders {
        let err = |e| (Step::Idmap, e, f.as_c_str());
        let at = rustix::fs::openat(
            CWD,
            f.as_c_str(),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(err)?;
        crate::sys::idmap::idmapped_bind(f, at.as_fd(), false, userns).map_err(err)?;
    }
    Ok(())
}

fn apply_op<'a>(
    root: BorrowedFd<'_>,
    op: &'a Op,
    userns: Option<BorrowedFd<'_>>,
) -> Result<(), Failure<'a>> {
    match op {
        Op::IdmapInPlace(folders) => idmap_in_place(folders, userns),
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
            idmap,
        } => match userns.filter(|_| *idmap) {
            Some(userns) => resolve(root, &target.path)
                .and_then(|t| {
                    crate::sys::idmap::idmapped_bind(source, t.as_fd(), *recursive, userns)
                })
                .map_err(|e| (Step::Idmap, e, source.as_c_str())),
            None => on_target(root, Step::Mount, target, |t| {
                if *recursive {
                    rustix::mount::mount_bind_recursive(source.as_c_str(), t)
                } else {
                    rustix::mount::mount_bind(source.as_c_str(), t)
                }
            }),
        },
        Op::Remount { target, flags } => {
            on_target(root, Step::Remount, target, |t| remount(t, *flags))
        }
        Op::ReadOnlyRecursively { target } => {
            let fd = resolve(root, &target.path)
                .map_err(|e| (Step::Remount, e, target.path.as_c_str()))?;
            crate::sys::mount_attr::make_read_only_recursively(fd.as_fd())
                .map_err(|e| (Step::Remount, e, target.path.as_c_str()))
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
                kernel_file(&fd).map_err(|e| (Step::Mount, e, path.path.as_c_str()))?;
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

/// Makes sure a file mount point exists. An existing one (of any type) is
/// only looked at (`O_PATH`): opening it for writing would copy it up into
/// the container's overlay upper layer (its folder too), several inode
/// creations on the host's disk for a file the mount hides anyway.
fn make_file<'a>(root: BorrowedFd<'_>, file: &'a InRoot) -> Result<(), Failure<'a>> {
    let err = |e| (Step::Mkdir, e, file.path.as_c_str());
    let parent = resolve(root, &file.parent).map_err(err)?;
    let exists = rustix::fs::openat(
        &parent,
        file.name.as_c_str(),
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    );
    if exists.is_ok() {
        return Ok(());
    }
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

/// `procfs` and `sysfs` magic numbers (`linux/magic.h`).
const PROC_SUPER_MAGIC: i64 = 0x9fa0;
const SYSFS_MAGIC: i64 = 0x6265_6572;

/// A masked or read-only path must be a file of the kernel's own `/proc`
/// or `/sys` mounted for this container: anything else (the image's own
/// file reached through a symlink) is refused rather than masked in its
/// place, leaving the real one open.
fn kernel_file(fd: &OwnedFd) -> rustix::io::Result<()> {
    let fs = rustix::fs::fstatfs(fd)?;
    // `f_type` is an i64 on x86_64, narrower on some other targets.
    #[allow(clippy::useless_conversion)]
    let kind = i64::from(fs.f_type);
    match kind {
        PROC_SUPER_MAGIC | SYSFS_MAGIC => Ok(()),
        _ => Err(Errno::XDEV),
    }
}

/// The host's `/dev/null`, opened without following a symlink and checked
/// to be the null device (char 1:3), so a mask binds nothing else
/// (CVE-2025-31133: runc bound the container's `/dev/null`, which an image
/// could make a symlink to a host file). The old root is still reachable
/// here, so this is the host's node, never the image's.
fn host_dev_null() -> rustix::io::Result<OwnedFd> {
    let fd = rustix::fs::openat(
        rustix::fs::CWD,
        c"/dev/null",
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let stat = rustix::fs::fstat(&fd)?;
    let is_null = rustix::fs::FileType::from_raw_mode(stat.st_mode)
        == rustix::fs::FileType::CharacterDevice
        && rustix::fs::major(stat.st_rdev) == 1
        && rustix::fs::minor(stat.st_rdev) == 3;
    if is_null { Ok(fd) } else { Err(Errno::NODEV) }
}

fn mask<'a>(root: BorrowedFd<'_>, path: &'a InRoot) -> Result<(), Failure<'a>> {
    let err = |e| (Step::Mask, e, path.path.as_c_str());
    let fd = match resolve(root, &path.path) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(err(e)),
    };
    kernel_file(&fd).map_err(err)?;
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
        .map_err(err)
    } else {
        let null = host_dev_null().map_err(|e| (Step::Mask, e, c"/dev/null"))?;
        rustix::mount::mount_bind(FdPath::new(null.as_fd()).as_c_str(), at.as_c_str()).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_dev_null_is_the_null_device() {
        let fd = host_dev_null().expect("/dev/null is char 1:3");
        let stat = rustix::fs::fstat(&fd).expect("stat");
        assert_eq!(rustix::fs::major(stat.st_rdev), 1);
    }

    #[test]
    fn only_files_of_proc_and_sys_may_be_masked() {
        let open = |p: &CStr| {
            rustix::fs::openat(
                rustix::fs::CWD,
                p,
                OFlags::PATH | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .expect("open")
        };
        kernel_file(&open(c"/proc/self/status")).expect("procfs");
        kernel_file(&open(c"/sys/kernel")).expect("sysfs");
        let tmp = peapod_testkit::TempDir::new("mask-target");
        let path = std::ffi::CString::new(tmp.path().as_os_str().as_encoded_bytes()).expect("c");
        assert_eq!(kernel_file(&open(&path)), Err(Errno::XDEV));
    }

    #[test]
    fn fd_path_is_formatted_on_the_stack() {
        let file = std::fs::File::open("/dev/null").expect("open");
        let fd = file.as_fd();
        let want = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
        assert_eq!(FdPath::new(fd).as_c_str().to_str().expect("utf8"), want);
    }
}
