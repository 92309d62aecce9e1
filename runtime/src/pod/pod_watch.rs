//! Waking when pods change, for `get -w`, `wait` and `logs -f`: inotify on
//! the pods' folder (a pod created or removed) and on each pod's folder
//! (its `pod.json` replaced by rename, `deletion.json` or `events.jsonl`
//! written). A caller reads the state after [`PodWatch::new`] and after
//! each wake-up, so a change between its read and its wait is never lost:
//! the watches are in place before the read, and the kernel queues what
//! they see.

use std::collections::HashSet;
use std::os::fd::OwnedFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::time::Instant;

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
use rustix::io::Errno;

use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::state::StateStore;

/// The inotify watches on the pods of one root.
#[derive(Debug)]
pub struct PodWatch {
    fd: OwnedFd,
    pods: PathBuf,
    /// The pod folders watched already.
    watched: HashSet<PathBuf>,
}

/// What a pod's folder is watched for.
fn pod_dir_flags() -> WatchFlags {
    WatchFlags::MOVED_TO | WatchFlags::CLOSE_WRITE | WatchFlags::MODIFY | WatchFlags::DELETE
}

impl PodWatch {
    /// Watches every pod of `paths` (the pods' folder is made if missing,
    /// as the first `apply` would).
    pub fn new(paths: &Paths) -> Result<Self> {
        let pods = paths.run.join("pods");
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(crate::state::STATE_DIR_MODE)
            .create(&pods)
            .map_err(|e| Error::io(&pods, e))?;
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)
            .map_err(|e| Error::io(&pods, e.into()))?;
        inotify::add_watch(
            &fd,
            &pods,
            WatchFlags::CREATE
                | WatchFlags::DELETE
                | WatchFlags::MOVED_TO
                | WatchFlags::MOVED_FROM
                | WatchFlags::ONLYDIR,
        )
        .map_err(|e| Error::io(&pods, e.into()))?;
        let mut watch = Self {
            fd,
            pods,
            watched: HashSet::new(),
        };
        watch.watch_new_pods(paths)?;
        Ok(watch)
    }

    /// Adds a watch on each pod folder not watched yet.
    fn watch_new_pods(&mut self, paths: &Paths) -> Result<()> {
        self.watched.retain(|p| p.exists());
        for dir in StateStore::new(paths).list()? {
            let path = dir.path().to_path_buf();
            if self.watched.contains(&path) {
                continue;
            }
            match inotify::add_watch(&self.fd, &path, pod_dir_flags() | WatchFlags::ONLYDIR) {
                Ok(_) => {
                    self.watched.insert(path);
                }
                // Removed meanwhile: its removal is an event already.
                Err(Errno::NOENT | Errno::NOTDIR) => {}
                Err(e) => return Err(Error::io(&path, e.into())),
            }
        }
        Ok(())
    }

    /// Blocks until something changed under the pods' folder (`true`) or
    /// `deadline` passed (`false`); `None`: no deadline.
    pub fn wait(&mut self, paths: &Paths, deadline: Option<Instant>) -> Result<bool> {
        loop {
            let timeout = match deadline {
                None => None,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(false);
                    }
                    Some(Timespec::try_from(left).unwrap_or(Timespec {
                        tv_sec: i64::MAX,
                        tv_nsec: 0,
                    }))
                }
            };
            if readable(&self.fd, timeout.as_ref()).map_err(|e| Error::io(&self.pods, e.into()))? {
                break;
            }
        }
        drain(&self.fd).map_err(|e| Error::io(&self.pods, e.into()))?;
        self.watch_new_pods(paths)?;
        Ok(true)
    }
}

/// Whether `fd` became readable within `timeout` (`None`: no limit); an
/// interrupted wait is `false` as a timeout.
fn readable(fd: &OwnedFd, timeout: Option<&Timespec>) -> std::result::Result<bool, Errno> {
    let mut fds = [PollFd::new(fd, PollFlags::IN)];
    match rustix::event::poll(&mut fds, timeout) {
        Ok(0) | Err(Errno::INTR) => Ok(false),
        Ok(_) => Ok(true),
        Err(e) => Err(e),
    }
}

/// Reads every queued event of inotify `fd` (their content does not
/// matter: the caller reads the state again).
fn drain(fd: &OwnedFd) -> std::result::Result<(), Errno> {
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 4096];
    let mut reader = inotify::Reader::new(fd, &mut buf);
    loop {
        match reader.next() {
            Ok(_) | Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// Inotify watches on a few folders, for a reader of files in them that
/// reads again after each wake-up (`logs -f`: a pod's folder, where
/// `pod.json` is replaced at each status change, and its container's
/// log folder, written at each record and at each rotation), so what is
/// written shows at once instead of at the next tick of a timer.
#[derive(Debug)]
pub(crate) struct FolderWatch {
    fd: OwnedFd,
}

impl FolderWatch {
    /// Watches `folders`; one missing is not watched (the caller's
    /// timeout covers it).
    pub(crate) fn new(folders: &[&std::path::Path]) -> Result<Self> {
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)
            .map_err(|e| Error::sys("inotify_init", e))?;
        for folder in folders {
            let flags = pod_dir_flags() | WatchFlags::CREATE | WatchFlags::ONLYDIR;
            match inotify::add_watch(&fd, *folder, flags) {
                Ok(_) | Err(Errno::NOENT | Errno::NOTDIR) => {}
                Err(e) => return Err(Error::io(folder, e.into())),
            }
        }
        Ok(Self { fd })
    }

    /// Blocks until something changed in the folders or `timeout`
    /// passed.
    pub(crate) fn wait(&self, timeout: std::time::Duration) -> Result<()> {
        let timeout = Timespec::try_from(timeout).unwrap_or(Timespec {
            tv_sec: i64::MAX,
            tv_nsec: 0,
        });
        if readable(&self.fd, Some(&timeout)).map_err(|e| Error::sys("poll", e))? {
            drain(&self.fd).map_err(|e| Error::sys("inotify read", e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::PodKey;
    use std::time::Duration;

    #[test]
    fn a_pod_created_or_its_status_replaced_wakes_the_watch() {
        let tmp = peapod_testkit::TempDir::new("pod-watch");
        let paths = Paths::under(tmp.path());
        let mut watch = PodWatch::new(&paths).expect("watch");
        let soon = || Some(Instant::now() + Duration::from_millis(50));
        assert!(!watch.wait(&paths, soon()).expect("waited"), "nothing yet");
        let dir = StateStore::new(&paths)
            .create(&PodKey::new("default", "p"))
            .expect("created");
        assert!(watch.wait(&paths, None).expect("waited"), "the new pod");
        assert!(!watch.wait(&paths, soon()).expect("waited"), "drained");
        dir.write_pod(&peapod_spec::Pod::default())
            .expect("written");
        assert!(watch.wait(&paths, None).expect("waited"), "its status");
    }
}
