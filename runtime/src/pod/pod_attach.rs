//! `attach`: a running container's own stdio from any process, as
//! kubectl attaches. Its output is its log, followed from now until its
//! run ends ([`crate::logs`]); its input (with `stdin: true` or
//! `tty: true` in its spec) is the stdin pipe or the pty master its
//! supervisor holds, taken with `pidfd_getfd`. On a terminal the caller's
//! goes raw and its size is passed on; Ctrl-P Ctrl-Q detaches, leaving
//! the container running.

use std::os::fd::{AsFd, OwnedFd};

use peapod_core::TerminationSignals;
use rustix::event::{PollFd, PollFlags, poll};
use rustix::io::Errno;

use crate::error::{Error, Result};
use crate::logs::{self, LogsRequest};
use crate::paths::Paths;
use crate::state::{PodKey, StateStore};
use crate::terminal::{self, RawMode};

/// Ctrl-P then Ctrl-Q: docker's and podman's detach keys.
const DETACH: [u8; 2] = [0x10, 0x11];

/// What to attach to, how.
#[derive(Debug, Clone, Default)]
pub struct AttachRequest {
    /// The container.
    pub container: String,
    /// Pass the caller's stdin to the container's (`-i`).
    pub stdin: bool,
    /// The caller's terminal drives the container's (`-t`): raw, its
    /// size passed on, Ctrl-P Ctrl-Q detaching.
    pub tty: bool,
    /// Its output from the start of its run, not from now: a container
    /// the caller just started (`debug`), whose first lines would
    /// otherwise fall before the attach. One that already ended has its
    /// log printed, not an error.
    pub from_start: bool,
}

/// How an attach ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachEnd {
    /// The container's run ended.
    Ended,
    /// The caller detached (Ctrl-P Ctrl-Q, or a termination signal); the
    /// container runs on.
    Detached,
}

/// Attaches the caller's stdio to `request.container` of pod `key` until
/// its run ends or the caller detaches.
pub fn attach(paths: &Paths, key: &PodKey, request: &AttachRequest) -> Result<AttachEnd> {
    let dir = StateStore::new(paths).existing(key)?;
    let pod = dir.read_pod()?;
    let name = &request.container;
    // One of its containers, or an ephemeral one (`debug`).
    let ephemeral = crate::pod::ephemeral::read_record(&dir, name);
    let Some(spec) = (pod.spec.containers.iter())
        .chain(ephemeral.as_ref().map(|e| &e.spec))
        .find(|c| &c.name == name)
    else {
        return Err(Error::NoSuchContainer {
            pod: key.name.clone(),
            container: name.clone(),
        });
    };
    let running = (pod.status.iter())
        .flat_map(|s| &s.container_statuses)
        .chain(ephemeral.as_ref().map(|e| &e.status))
        .any(|s| &s.name == name && s.state.running.is_some());
    if !running && request.from_start {
        // Its whole run was asked for and it has already ended (a short
        // command `debug --attach` just started): its log is all of it.
        let log = LogsRequest {
            container: Some(name.clone()),
            ..LogsRequest::default()
        };
        logs::logs(paths, key, &log, &mut std::io::stdout())?;
        return Ok(AttachEnd::Ended);
    }
    if !running {
        return Err(Error::container(name, "container is not running"));
    }
    let input = if request.stdin {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let layers = crate::container::layers_dir(&crate::teardown::lib_dir(paths, &uid), name);
        let input = match ephemeral.as_ref().and_then(|e| e.holder) {
            // A detached ephemeral container's input is its holder's.
            Some(holder) => crate::engine::input_held(
                &layers,
                name,
                || Ok(holder),
                "the holder of this ephemeral container is gone",
            )?,
            None => crate::engine::input_of(&dir, &layers, name)?,
        };
        let has_input = spec.stdin == Some(true) || spec.tty == Some(true);
        if input.is_none() && ephemeral.is_some() && has_input {
            return Err(Error::container(
                name,
                "its input is the terminal of the debug command that runs it attached (debug -i --attach=false leaves one to attach to)",
            ));
        }
        if input.is_none() {
            return Err(Error::container(
                name,
                "its spec has no stdin: true nor tty: true, so it has no input to attach to",
            ));
        }
        input
    } else {
        None
    };
    let tty = request.tty && spec.tty.unwrap_or(false);
    if request.tty && !tty {
        eprintln!("Unable to use a TTY - container {name} did not allocate one");
    }
    let (done, finished) = rustix::pipe::pipe().map_err(|e| Error::sys("pipe", e))?;
    // From now on: the records written from this time, whenever the
    // follower reads the file first (the caller's input may already
    // have an answer by then).
    let follow = LogsRequest {
        container: Some(name.clone()),
        follow: true,
        since: (!request.from_start).then(crate::clock::Timestamp::now),
        ..LogsRequest::default()
    };
    let (paths, key) = (paths.clone(), key.clone());
    std::thread::spawn(move || {
        let result = logs::logs(&paths, &key, &follow, &mut std::io::stdout());
        drop(finished);
        result
    });
    if tty && input.is_some() {
        eprintln!("If you don't see a command prompt, try pressing enter.");
    }
    relay(input.as_ref(), tty, &done)
}

/// Copies the caller's stdin to `input` until `done` (the output's end)
/// is readable, the caller detaches or a termination signal comes.
fn relay(input: Option<&OwnedFd>, tty: bool, done: &OwnedFd) -> Result<AttachEnd> {
    let signals =
        TerminationSignals::block_with_window_changes().map_err(|e| Error::pod("attach", e))?;
    let caller = rustix::stdio::stdin();
    let terminal = terminal::caller_terminal();
    let _raw = match (input, tty) {
        (Some(_), true) if rustix::termios::isatty(caller) => Some(RawMode::input_only(caller)?),
        _ => None,
    };
    let resize = || {
        if let (Some(t), Some(master), true) = (terminal, input, tty) {
            terminal::copy_window_size(t, master.as_fd());
        }
    };
    resize();
    let mut reading = input.is_some();
    let mut held_ctrl_p = false;
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let sigfd = signals.fd();
        let mut fds = vec![
            PollFd::new(done, PollFlags::IN),
            PollFd::new(&sigfd, PollFlags::IN),
        ];
        if reading {
            fds.push(PollFd::new(&caller, PollFlags::IN));
        }
        match poll(&mut fds, None) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => return Err(Error::sys("poll", e)),
        }
        let ready: Vec<bool> = fds.iter().map(|f| !f.revents().is_empty()).collect();
        drop(fds);
        if ready[0] {
            return Ok(AttachEnd::Ended);
        }
        while let Some(signal) = signals.read() {
            if signal != TerminationSignals::WINDOW_CHANGE {
                return Ok(AttachEnd::Detached);
            }
            resize();
        }
        let (true, Some(to)) = (reading && ready[2], input) else {
            continue;
        };
        let n = match rustix::io::read(caller, &mut buf) {
            Ok(n) => n,
            Err(Errno::INTR | Errno::AGAIN) => continue,
            Err(e) => return Err(Error::sys("read stdin", e)),
        };
        if n == 0 {
            reading = false;
            continue;
        }
        let mut keys = Vec::with_capacity(n + 1);
        for &b in &buf[..n] {
            match (held_ctrl_p, b) {
                (true, k) if k == DETACH[1] && tty => return Ok(AttachEnd::Detached),
                (_, k) if k == DETACH[0] && tty => {
                    if held_ctrl_p {
                        keys.push(DETACH[0]);
                    }
                    held_ctrl_p = true;
                    continue;
                }
                (true, _) => keys.push(DETACH[0]),
                _ => {}
            }
            held_ctrl_p = false;
            keys.push(b);
        }
        match terminal::write_all_to(to.as_fd(), &keys) {
            Ok(()) => {}
            // The container closed its stdin: its output goes on.
            Err(Errno::PIPE) => reading = false,
            Err(e) => return Err(Error::sys("write the container's input", e)),
        }
    }
}
