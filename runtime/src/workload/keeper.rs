//! The keeper: one process per workload (as each pod has its supervisor),
//! started by `apply` in a session of its own. It wakes on events only:
//! inotify on the pods' folder (a pod made or removed), on each of its
//! pods' folders (`pod.json` replaced by its supervisor) and on its own
//! folder (`workload.json` replaced by a re-apply), a pidfd on each pod's
//! supervisor (one killed), and for a Job its `activeDeadlineSeconds`.
//! Each wakeup reads the workload and its pods again and carries out what
//! [`super::reconcile`] says.

use std::collections::{BTreeMap, BTreeSet};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use peapod_spec::{Pod, PodPhase, Workload, WorkloadKind};
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
use rustix::process::{Pid, PidfdFlags};

use super::naming;
use super::reconcile::{Action, PodView, reconcile};
use super::store::{JobCondition, WorkloadDir, WorkloadRecord};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::launch::Launcher;
use crate::paths::Paths;
use crate::state::{PodKey, ProcessRecord, StateStore};

/// How long a keeper waits before it tries again to make a pod that
/// failed to start (a missing image, a port taken), as kubelet's
/// shortest back-off.
const RETRY: Duration = Duration::from_secs(10);

/// Runs the keeper of the workload in `dir` until the workload is deleted
/// (its folder gone) or, for a Job, until it ended. Returns the exit code.
pub fn keep(paths: &Paths, dir: &std::path::Path) -> i32 {
    let _ = rustix::process::setsid();
    match Keeper::new(paths, WorkloadDir::at(dir)).and_then(|mut k| k.run()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("peapod keeper: {e}");
            1
        }
    }
}

/// What a keeper does after a pass.
enum Next {
    /// Waits for an event, or until the instant (a retry, a deadline).
    Wait(Option<Instant>),
    /// Ends: the Job ended.
    Done,
}

struct Keeper<'p> {
    paths: &'p Paths,
    dir: WorkloadDir,
    inotify: OwnedFd,
    /// Pods being deleted, by name, with the thread deleting each.
    deleting: BTreeMap<String, JoinHandle<()>>,
    /// A pidfd on each pod's supervisor, by pod name.
    supervisors: BTreeMap<String, OwnedFd>,
    /// Pods whose supervisor ended, not watched again.
    gone: BTreeSet<String>,
    /// When to try again to make pods that failed to start.
    retry_at: Option<Instant>,
    launcher: Launcher,
}

impl<'p> Keeper<'p> {
    fn new(paths: &'p Paths, dir: WorkloadDir) -> Result<Self> {
        let pid = i32::try_from(std::process::id()).unwrap_or(i32::MAX);
        if let Some(me) = ProcessRecord::of(pid) {
            dir.write_keeper(&me)?;
        }
        let inotify = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)
            .map_err(|e| Error::sys("inotify_init1", e))?;
        let pods = paths.run.join("pods");
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&pods)
            .map_err(|e| Error::io(&pods, e))?;
        let folder_events = WatchFlags::CREATE
            | WatchFlags::DELETE
            | WatchFlags::MOVED_TO
            | WatchFlags::MOVED_FROM
            | WatchFlags::ONLYDIR;
        inotify::add_watch(&inotify, &pods, folder_events)
            .map_err(|e| Error::sys("inotify_add_watch", e))?;
        inotify::add_watch(
            &inotify,
            dir.path(),
            WatchFlags::MOVED_TO | WatchFlags::DELETE_SELF,
        )
        .map_err(|e| Error::sys("inotify_add_watch", e))?;
        let exe = std::env::current_exe().map_err(|e| Error::io("/proc/self/exe", e))?;
        Ok(Self {
            paths,
            dir,
            inotify,
            deleting: BTreeMap::new(),
            supervisors: BTreeMap::new(),
            gone: BTreeSet::new(),
            retry_at: None,
            launcher: Launcher { exe, wait: true },
        })
    }

    fn run(&mut self) -> Result<()> {
        loop {
            self.deleting.retain(|_, thread| !thread.is_finished());
            // Deleted: the folder (and the record) is gone.
            let Ok(record) = self.dir.read_record() else {
                return Ok(());
            };
            let pods = self.pods(&record)?;
            match self.pass(&record, &pods)? {
                Next::Wait(deadline) => self.wait(deadline)?,
                Next::Done => {
                    // A Job ended: its deletions finish, then the keeper.
                    for (_, thread) in std::mem::take(&mut self.deleting) {
                        let _ = thread.join();
                    }
                    return Ok(());
                }
            }
        }
    }

    /// The pods the workload owns, watched.
    fn pods(&mut self, record: &WorkloadRecord) -> Result<Vec<Pod>> {
        let namespace = record.workload.namespace();
        let pods: Vec<Pod> = crate::inspect::list(self.paths, Some(namespace))?
            .into_iter()
            .filter(|p| super::owned_by(p, &record.uid))
            .collect();
        let store = StateStore::new(self.paths);
        let names: Vec<&str> = pods
            .iter()
            .filter_map(|p| p.metadata.name.as_deref())
            .collect();
        self.supervisors
            .retain(|name, _| names.contains(&name.as_str()));
        self.gone.retain(|name| names.contains(&name.as_str()));
        for name in names {
            let dir = store.pod(&PodKey::new(namespace, name));
            let _ = inotify::add_watch(
                &self.inotify,
                dir.path(),
                WatchFlags::MOVED_TO | WatchFlags::CLOSE_WRITE,
            );
            if !self.supervisors.contains_key(name)
                && !self.gone.contains(name)
                && let Ok(Some(supervisor)) = dir.read_supervisor()
                && let Some(pid) = Pid::from_raw(supervisor.pid)
                && let Ok(pidfd) = rustix::process::pidfd_open(pid, PidfdFlags::empty())
            {
                self.supervisors.insert(name.to_owned(), pidfd);
            }
        }
        Ok(pods)
    }

    /// One reconciliation; returns what next.
    fn pass(&mut self, record: &WorkloadRecord, pods: &[Pod]) -> Result<Next> {
        let workload = &record.workload;
        let (_, revision) = naming::revision_label(workload);
        let views: Vec<PodView> = pods.iter().map(|p| self.view(workload, p)).collect();
        let is_job = workload.workload_kind() == WorkloadKind::Job;
        let mut status = self.dir.read_status().unwrap_or_default();
        if is_job && !status.conditions.is_empty() {
            return Ok(Next::Done);
        }
        let started = status
            .start_time
            .get_or_insert_with(|| Timestamp::now().rfc3339())
            .clone();
        let elapsed = Timestamp::parse_rfc3339(&started).map_or(Duration::ZERO, Timestamp::elapsed);
        let retry_due = self.retry_at.is_none_or(|at| Instant::now() >= at);
        let mut ended = false;
        for action in reconcile(workload, &revision, &views, elapsed) {
            match action {
                Action::Create { ordinal } if retry_due => self.create(record, ordinal),
                Action::Create { .. } => {}
                Action::Delete(name) => self.delete(workload.namespace(), name),
                Action::Finish {
                    condition,
                    reason,
                    message,
                } => {
                    let now = Timestamp::now().rfc3339();
                    if condition == "Complete" {
                        status.completion_time = Some(now.clone());
                    }
                    status.conditions.push(JobCondition {
                        type_: condition.to_owned(),
                        status: "True".to_owned(),
                        reason: reason.to_owned(),
                        message: message.to_owned(),
                        last_transition_time: now,
                    });
                    ended = true;
                }
            }
        }
        if is_job {
            let count = |phase: PodPhase| {
                u32::try_from(views.iter().filter(|v| v.phase == phase).count()).unwrap_or(0)
            };
            status.succeeded = count(PodPhase::Succeeded);
            status.failed = count(PodPhase::Failed);
            status.active = if ended {
                0
            } else {
                u32::try_from(views.len()).unwrap_or(0) - status.succeeded - status.failed
            };
            if self.dir.read_status().as_ref() != Some(&status) {
                self.dir.write_status(&status)?;
            }
        }
        if ended {
            return Ok(Next::Done);
        }
        let job_deadline = workload
            .spec
            .active_deadline_seconds
            .filter(|_| is_job)
            .and_then(|s| u64::try_from(s).ok())
            .map(|s| Instant::now() + Duration::from_secs(s).saturating_sub(elapsed));
        Ok(Next::Wait(match (self.retry_at, job_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }))
    }

    fn view(&self, workload: &Workload, pod: &Pod) -> PodView {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let status = pod.status.as_ref();
        let (revision_key, _) = naming::revision_label(workload);
        // A pod being deleted counts as gone, but keeps its name taken.
        let phase = if self.deleting.contains_key(&name) {
            PodPhase::Unknown
        } else {
            status.and_then(|s| s.phase).unwrap_or(PodPhase::Pending)
        };
        let ready = status.is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        });
        PodView {
            revision: pod.metadata.labels.get(revision_key).cloned(),
            name,
            phase,
            ready,
        }
    }

    fn create(&mut self, record: &WorkloadRecord, ordinal: Option<u32>) {
        let workload = &record.workload;
        let name = naming::pod_name(workload, ordinal);
        let pod = naming::pod(workload, &record.uid, &name, ordinal);
        match self.launcher.create_with(self.paths, pod, &record.config) {
            Ok(_) => eprintln!("peapod keeper: pod {name} created"),
            // The pod of that name is still being removed: its folder's
            // removal wakes the keeper again.
            Err(Error::AlreadyExists { .. }) => {}
            Err(e) => {
                eprintln!("peapod keeper: pod {name}: {e}");
                self.retry_at = Some(Instant::now() + RETRY);
            }
        }
    }

    fn delete(&mut self, namespace: &str, name: String) {
        if self.deleting.contains_key(&name) {
            return;
        }
        let key = PodKey::new(namespace, &name);
        let paths = self.paths.clone();
        let thread = std::thread::spawn(move || {
            if let Err(e) = crate::teardown::delete(&paths, &key, None) {
                eprintln!("peapod keeper: delete pod {}: {e}", key.name);
            }
        });
        self.deleting.insert(name, thread);
    }

    /// Sleeps until an event or `deadline`; drains inotify.
    fn wait(&mut self, deadline: Option<Instant>) -> Result<()> {
        // A thread deleting a pod ends when the pod's folder is removed,
        // which inotify reports; none is polled for.
        let timeout = deadline.map(|d| {
            let left = d.saturating_duration_since(Instant::now());
            Timespec {
                tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: i64::from(left.subsec_nanos()),
            }
        });
        let mut fds: Vec<PollFd<'_>> = std::iter::once(self.inotify.as_fd())
            .chain(self.supervisors.values().map(AsFd::as_fd))
            .map(|fd| PollFd::from_borrowed_fd(fd, PollFlags::IN))
            .collect();
        match rustix::event::poll(&mut fds, timeout.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(Error::sys("poll", e)),
        }
        // A supervisor that ended is watched no more (its pidfd stays
        // readable); its pod reads Unknown from now on.
        let ended: Vec<String> = self
            .supervisors
            .keys()
            .zip(&fds[1..])
            .filter(|(_, fd)| !fd.revents().is_empty())
            .map(|(name, _)| name.clone())
            .collect();
        drop(fds);
        for name in ended {
            self.supervisors.remove(&name);
            self.gone.insert(name);
        }
        // Supervisors this keeper started are its children: reap them.
        while let Ok(Some(_)) = rustix::process::waitpid(None, rustix::process::WaitOptions::NOHANG)
        {
        }
        if self.retry_at.is_some_and(|at| Instant::now() >= at) {
            self.retry_at = None;
        }
        let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
        while rustix::io::read(&self.inotify, &mut buf).is_ok_and(|(read, _)| !read.is_empty()) {}
        Ok(())
    }
}
