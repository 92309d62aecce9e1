//! One run of a handler, driven by the supervisor's event loop: started,
//! then polled each time an event with its token arrives, until it gives
//! its [`Outcome`]. Nothing here blocks the loop.

use std::net::IpAddr;
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use peapod_core::{Event, EventKind, EventLoop, Process};

use crate::error::{Error, Result};
use crate::exec::{ExecRun, ExecTarget};
use crate::handler::Handler;
use crate::network_check::{Check, NetworkCheck};
use crate::outcome::Outcome;
use crate::sleep::SleepRun;

/// Where and how long a handler runs.
#[derive(Debug, Clone, Copy)]
pub struct RunContext<'a> {
    /// The running container, for `exec` handlers.
    pub exec: Option<ExecTarget<'a>>,
    /// The pod IP: the host of `httpGet`/`tcpSocket` when they give none.
    pub pod_ip: Option<IpAddr>,
    /// Connect from inside this network namespace (the pod's, when the
    /// host cannot route to the pod — no bridge); `None` connects from the
    /// supervisor's own (the host's, which reaches pod IPs over the bridge).
    /// Without a pod IP, the default host is then `127.0.0.1`, the pod's
    /// loopback.
    pub netns: Option<BorrowedFd<'a>>,
    /// The run's timeout (`timeoutSeconds`, or what is left of the grace
    /// period for `preStop`).
    pub timeout: Duration,
}

/// Where a run stands after [`Run::poll`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Still running: its watches are armed with the run's token.
    Pending,
    /// Over.
    Done(Outcome),
}

#[derive(Debug)]
enum State {
    Exec(ExecRun),
    Network(NetworkCheck),
    Sleep(SleepRun),
    Done(Option<Outcome>),
}

/// One run of a handler in flight. See the crate docs for the loop.
///
/// A caller with a loop ends a run it gives up with [`Run::cancel`] and,
/// after that or after [`Progress::Done`], reaps the command
/// [`Run::take_killed`] returns on its loop. Dropping a run that is still
/// going kills its `exec` command and reaps it on a short thread (a
/// network check's thread ends by itself at the deadline).
#[derive(Debug)]
pub struct Run {
    state: State,
    /// An `exec` command killed (timeout, cancel), not reaped yet.
    killed: Option<Process>,
    deadline: Instant,
    exit_armed: bool,
    read_armed: bool,
    timer_armed: bool,
}

impl Run {
    /// Starts `handler` in `ctx`. Never fails: what cannot start (a command
    /// not found, no container, no host) is a run already over with a
    /// failure, as kubelet reports it.
    pub fn start(handler: &Handler, ctx: &RunContext<'_>) -> Self {
        let now = Instant::now();
        // A timeout too large for the clock (a postStart given "none") is
        // a year.
        let deadline = now
            .checked_add(ctx.timeout)
            .unwrap_or_else(|| now + Duration::from_secs(365 * 86_400));
        let state = match Self::begin(handler, ctx, now, deadline) {
            Ok(s) => s,
            Err(e) => State::Done(Some(Outcome::failure(e.to_string()))),
        };
        Self {
            state,
            killed: None,
            deadline,
            exit_armed: false,
            read_armed: false,
            timer_armed: false,
        }
    }

    fn begin(
        handler: &Handler,
        ctx: &RunContext<'_>,
        now: Instant,
        deadline: Instant,
    ) -> Result<State> {
        let network = |check: Check, host: Option<&String>, what: &'static str| {
            let host = match (host, ctx.pod_ip, ctx.netns) {
                (Some(h), _, _) => h.clone(),
                (None, Some(ip), _) => ip.to_string(),
                (None, None, Some(_)) => "127.0.0.1".to_owned(),
                (None, None, None) => {
                    return Err(Error::MissingContext {
                        handler: what,
                        missing: "host or pod IP",
                    });
                }
            };
            let netns = ctx
                .netns
                .map(|fd| fd.try_clone_to_owned())
                .transpose()
                .map_err(|e| Error::io("dup netns fd", e))?;
            Ok(State::Network(NetworkCheck::spawn(
                check, host, netns, deadline,
            )?))
        };
        match handler {
            Handler::Exec(exec) => {
                let target = ctx.exec.as_ref().ok_or(Error::MissingContext {
                    handler: "exec",
                    missing: "container",
                })?;
                Ok(State::Exec(ExecRun::spawn(exec, target)?))
            }
            Handler::HttpGet(get) => {
                network(Check::Http(get.clone()), get.host.as_ref(), "httpGet")
            }
            Handler::TcpSocket(tcp) => {
                network(Check::Tcp(tcp.port), tcp.host.as_ref(), "tcpSocket")
            }
            Handler::Sleep(length) => Ok(State::Sleep(SleepRun::new(*length, now))),
        }
    }

    /// Gives the run up: an `exec` command still going is SIGKILLed (reap
    /// it from [`Run::take_killed`]); a network check's thread ends by
    /// itself at the deadline.
    pub fn cancel(&mut self) {
        if let State::Exec(run) = &mut self.state {
            run.kill();
            self.killed = run.take_killed();
        }
        self.state = State::Done(None);
    }

    /// The `exec` command this run killed (timeout, [`Run::cancel`]) if it
    /// was not gone at once: watch its pidfd and reap it
    /// ([`Process::try_wait`]) when it fires.
    pub fn take_killed(&mut self) -> Option<Process> {
        self.killed.take()
    }

    /// When the run is stopped for its timeout.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Advances the run: call once right after [`Run::start`] with
    /// `fired: None`, then with the kind of each event that comes with
    /// `token`. Arms in `event_loop` (with `token`) whatever the run waits
    /// on next — its pidfd, a pipe, the deadline timer — and returns
    /// [`Progress::Done`] once it is over.
    ///
    /// Use a token no other watch shares, fresh for each run: core's timers
    /// cannot be cancelled, so the deadline timer of a run that ended early
    /// still fires later — ignore events whose token has no run.
    pub fn poll(
        &mut self,
        fired: Option<EventKind>,
        event_loop: &mut EventLoop,
        token: u64,
    ) -> Result<Progress> {
        match fired {
            Some(EventKind::Exited) => self.exit_armed = false,
            Some(EventKind::Readable) => self.read_armed = false,
            Some(EventKind::Timer) => self.timer_armed = false,
            None => {}
        }
        let now = Instant::now();
        let deadline = self.deadline;
        let outcome = match &mut self.state {
            State::Done(o) => o.take(),
            State::Exec(run) => {
                run.drain()?;
                match run.try_finish()? {
                    Some(o) => Some(o),
                    None if now >= deadline => Some(run.time_out()),
                    None => None,
                }
            }
            State::Network(check) => match check.try_result() {
                Some(o) => Some(o),
                None if now >= deadline => Some(check.time_out()),
                None => None,
            },
            State::Sleep(sleep) => sleep.outcome(now, deadline),
        };
        if let Some(outcome) = outcome {
            if let State::Exec(run) = &mut self.state {
                self.killed = run.take_killed();
            }
            self.state = State::Done(None);
            return Ok(Progress::Done(outcome));
        }
        self.arm(event_loop, token, now)?;
        Ok(Progress::Pending)
    }

    fn arm(&mut self, event_loop: &mut EventLoop, token: u64, now: Instant) -> Result<()> {
        let wake_at = match &self.state {
            State::Sleep(s) => s.ends().min(self.deadline),
            _ => self.deadline,
        };
        if !self.timer_armed {
            event_loop.add_timer(wake_at.saturating_duration_since(now), token);
            self.timer_armed = true;
        }
        let (exit, read) = match &self.state {
            State::Exec(run) => (run.pidfd(), run.output()),
            State::Network(check) => (None, Some(check.fd())),
            State::Sleep(_) | State::Done(_) => (None, None),
        };
        if let Some(pidfd) = exit
            && !self.exit_armed
        {
            event_loop.watch_process(pidfd, token)?;
            self.exit_armed = true;
        }
        if let Some(fd) = read
            && !self.read_armed
        {
            event_loop.watch_readable(fd, token)?;
            self.read_armed = true;
        }
        Ok(())
    }

    /// Runs to the end on a loop of its own, blocking the caller: for
    /// callers without a loop (the CLI, tests). The supervisor uses
    /// [`Run::poll`].
    pub fn wait(mut self) -> Result<Outcome> {
        const TOKEN: u64 = 0;
        let mut event_loop = EventLoop::new()?;
        let mut events: Vec<Event> = Vec::new();
        let mut progress = self.poll(None, &mut event_loop, TOKEN)?;
        loop {
            if let Progress::Done(outcome) = progress {
                return Ok(outcome);
            }
            events.clear();
            event_loop.wait(&mut events, None)?;
            for e in &events {
                progress = self.poll(Some(e.kind), &mut event_loop, TOKEN)?;
                if matches!(progress, Progress::Done(_)) {
                    break;
                }
            }
        }
    }
}

impl Drop for Run {
    /// A killed command nobody took is reaped on a short thread.
    fn drop(&mut self) {
        if let Some(p) = self.killed.take() {
            crate::exec::reap_on_thread(p);
        }
    }
}
