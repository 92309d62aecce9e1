//! A process's own terminal, as runc makes one with `--console-socket`:
//! the child opens `/dev/pts/ptmx` once its mounts are made (so the pty is
//! one of the devpts the process sees, `/dev/pts/0` of a fresh container),
//! makes the slave its stdin, stdout, stderr and controlling terminal,
//! and sends the master to its parent over a Unix socket (`SCM_RIGHTS`),
//! which relays it ([`crate::Held::terminal`]).
//!
//! The slave is what runc leaves: mode 0620 and group 5 (`tty`) from the
//! devpts mount options (in a user namespace, the host id of its group 5:
//! `MountPlan::in_user_namespace`), owned by the process's uid (runc's
//! `fixStdioPermissions`; should the kernel refuse that chown, as for a
//! group the namespace does not map, the slave stays root's, as runc lets
//! it).

use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, SocketFlags, SocketType,
};
use rustix::process::Uid;
use rustix::pty::OpenptFlags;

use crate::process_spec::WindowSize;

/// Where the child opens its terminal: the devpts of its own `/dev/pts`.
const PTMX: &CStr = c"/dev/pts/ptmx";

/// The socket pair the master goes over: `(parent's end, child's end)`.
pub(crate) fn channel() -> std::io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )?)
}

/// In the clone3 child, after its mounts and before its credentials: a new
/// pty of its `/dev/pts` as fds 0, 1, 2 and its controlling terminal
/// (`size` when given, before anything runs on it), the slave owned by
/// `uid`, the master sent on `socket`. Allocation-free; the error is the
/// path it concerns.
pub(crate) fn set_up_in_child(
    socket: BorrowedFd<'_>,
    uid: Uid,
    size: Option<WindowSize>,
) -> Result<(), (Errno, &'static CStr)> {
    let at = |path: &'static CStr| move |e: Errno| (e, path);
    let master = rustix::fs::open(
        PTMX,
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(at(PTMX))?;
    rustix::pty::unlockpt(&master).map_err(at(c"unlockpt"))?;
    if let Some(size) = size {
        rustix::termios::tcsetwinsize(&master, size.winsize()).map_err(at(c"TIOCSWINSZ"))?;
    }
    // By the master's fd, not a path: the peer of this very devpts.
    let slave = rustix::pty::ioctl_tiocgptpeer(
        &master,
        OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC,
    )
    .map_err(at(c"TIOCGPTPEER"))?;
    match rustix::fs::fchown(&slave, Some(uid), None) {
        Ok(()) | Err(Errno::PERM | Errno::INVAL) => {}
        Err(e) => return Err((e, c"chown of the pty")),
    }
    rustix::stdio::dup2_stdin(&slave).map_err(at(c"dup2"))?;
    rustix::stdio::dup2_stdout(&slave).map_err(at(c"dup2"))?;
    rustix::stdio::dup2_stderr(&slave).map_err(at(c"dup2"))?;
    rustix::process::ioctl_tiocsctty(rustix::stdio::stdin()).map_err(at(c"TIOCSCTTY"))?;
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let fds = [master.as_fd()];
    if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
        return Err((Errno::NOBUFS, c"SCM_RIGHTS"));
    }
    rustix::net::sendmsg(
        socket,
        &[std::io::IoSlice::new(b"t")],
        &mut control,
        SendFlags::NOSIGNAL,
    )
    .map_err(at(c"send the pty master"))?;
    Ok(())
}

/// In the parent: the master the child sent on `socket`; `None` when the
/// child ended without sending one (it failed: its error pipe says why).
pub(crate) fn receive(socket: &OwnedFd) -> std::io::Result<Option<OwnedFd>> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut byte = [0u8; 1];
    loop {
        match rustix::net::recvmsg(
            socket,
            &mut [std::io::IoSliceMut::new(&mut byte)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        ) {
            Ok(_) => break,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let mut master = None;
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(fds) = message {
            for fd in fds {
                master.get_or_insert(fd);
            }
        }
    }
    Ok(master)
}
