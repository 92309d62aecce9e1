//! Copies of a pod's log streams parked with its pause, so a container
//! writing to stdout survives a `kill -9` of the supervisor.
//!
//! The supervisor reads each container's output from the read end of a
//! pipe (the master of a pty with `tty: true`). Were the supervisor's copy
//! the only one, its death would leave the pipe without a reader and the
//! container's next write would end it with `SIGPIPE`. So a copy of every
//! read end in use waits in the queue of a Unix socket whose receiving end
//! is the pause's stdin: the pause never reads it, and a file in a queue
//! stays open while the socket does. After a `kill -9` the container's
//! writes go on (they block once the pipe is full: nobody copies them to
//! the log any more) and the fds can be taken back (`pidfd_getfd` of the
//! pause's fd 0, then `recvmsg`). The pod's delete kills the pause, which
//! closes the socket and the copies with it.
//!
//! The queue holds one message: each change (a container started, a
//! stream ended) empties it and sends the streams in use again, so it never
//! grows with restarts.

use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::io::Errno;
use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvFlags, SendAncillaryBuffer, SendAncillaryMessage,
    SendFlags, SocketFlags, SocketType,
};

/// The most fds one `SCM_RIGHTS` message carries (the kernel's
/// `SCM_MAX_FD`).
const MAX_PER_MESSAGE: usize = 253;

/// A socket pair: the supervisor sends on one end; the other is the
/// pause's stdin, and the supervisor keeps a copy of it to empty the queue.
#[derive(Debug)]
pub(crate) struct ParkedStreams {
    send: OwnedFd,
    queue: OwnedFd,
}

impl ParkedStreams {
    /// A new, empty pair.
    pub fn new() -> std::io::Result<Self> {
        let (send, queue) = rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )?;
        Ok(Self { send, queue })
    }

    /// The end the pause holds (its stdin).
    pub fn pause_end(&self) -> BorrowedFd<'_> {
        self.queue.as_fd()
    }

    /// Parks copies of `fds` (at most [`MAX_PER_MESSAGE`]; the rest are
    /// not parked) in place of those parked before.
    pub fn park(&self, fds: &[BorrowedFd<'_>]) -> std::io::Result<()> {
        self.empty()?;
        if fds.is_empty() {
            return Ok(());
        }
        let fds = &fds[..fds.len().min(MAX_PER_MESSAGE)];
        let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(fds.len()))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        control.push(SendAncillaryMessage::ScmRights(fds));
        rustix::net::sendmsg(
            &self.send,
            &[IoSlice::new(&[0])],
            &mut control,
            SendFlags::NOSIGNAL,
        )?;
        Ok(())
    }

    /// Reads the queue until it is empty, closing what it held.
    fn empty(&self) -> std::io::Result<()> {
        let mut space =
            vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_PER_MESSAGE))];
        let mut byte = [0u8; 1];
        loop {
            // Dropping the buffer closes the fds it received.
            let mut control = RecvAncillaryBuffer::new(&mut space);
            match rustix::net::recvmsg(
                &self.queue,
                &mut [IoSliceMut::new(&mut byte)],
                &mut control,
                RecvFlags::CMSG_CLOEXEC | RecvFlags::DONTWAIT,
            ) {
                Ok(msg) if msg.bytes > 0 => {}
                Ok(_) | Err(Errno::AGAIN) => return Ok(()),
                Err(Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// How many fds are parked (tests).
    #[cfg(test)]
    fn parked(&self) -> usize {
        use rustix::net::RecvAncillaryMessage;
        let mut space =
            vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_PER_MESSAGE))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let mut byte = [0u8; 1];
        let Ok(_) = rustix::net::recvmsg(
            &self.queue,
            &mut [IoSliceMut::new(&mut byte)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC | RecvFlags::DONTWAIT,
        ) else {
            return 0;
        };
        let mut n = 0;
        for message in control.drain() {
            if let RecvAncillaryMessage::ScmRights(fds) = message {
                n += fds.count();
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_whose_read_end_is_parked_takes_writes_after_its_reader_closed() {
        let parked = ParkedStreams::new().expect("socket pair");
        let (r, w) = rustix::pipe::pipe().expect("pipe");
        parked.park(&[r.as_fd()]).expect("parked");
        drop(r);
        // Without the parked copy this is EPIPE (and SIGPIPE).
        assert_eq!(rustix::io::write(&w, b"tick\n"), Ok(5));
    }

    #[test]
    fn parking_again_replaces_what_was_parked() {
        let parked = ParkedStreams::new().expect("socket pair");
        let (r1, w1) = rustix::pipe::pipe().expect("pipe");
        let (r2, _w2) = rustix::pipe::pipe().expect("pipe");
        parked.park(&[r1.as_fd()]).expect("parked");
        parked.park(&[r1.as_fd(), r2.as_fd()]).expect("parked");
        parked.park(&[r2.as_fd()]).expect("parked");
        drop(r1);
        // r1's parked copies are closed: the pipe has no reader left.
        assert_eq!(
            rustix::io::write(&w1, b"x"),
            Err(Errno::PIPE),
            "a stale copy of r1 is still parked"
        );
        assert_eq!(parked.parked(), 1);
    }
}
