//! The same behaviour on both backends: a process exit, a readable pipe
//! and a timer, each reported once with its token.

use std::io::Write;
use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use peapod_core::{Event, EventKind, EventLoop, EventLoopBackend};
use rustix::process::{Pid, PidfdFlags, pidfd_open};

fn wait_for(lp: &mut EventLoop, want: usize) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut events = Vec::new();
    while events.len() < want && Instant::now() < deadline {
        lp.wait(&mut events, Some(Duration::from_millis(500)))
            .expect("wait");
    }
    events
}

/// A loop on `backend`. Where the kernel refuses io_uring (seccomp, a
/// sysctl), the loop peapod makes instead, which must then be epoll: the
/// io_uring tests check that fallback rather than pass by returning.
fn event_loop(backend: EventLoopBackend) -> EventLoop {
    match EventLoop::with_backend(backend) {
        Ok(lp) => {
            assert_eq!(lp.backend(), backend);
            lp
        }
        Err(e) if backend == EventLoopBackend::IoUring => {
            let lp = EventLoop::new().expect("the fallback loop");
            assert_eq!(
                lp.backend(),
                EventLoopBackend::Epoll,
                "io_uring is refused here ({e}) and EventLoop::new did not fall back to epoll"
            );
            lp
        }
        Err(e) => panic!("{e}"),
    }
}

fn exit_pipe_and_timer_are_reported(backend: EventLoopBackend) {
    let mut lp = event_loop(backend);
    // The child exits once the test closes its stdin: after the timer,
    // however late this thread runs.
    let mut child = Command::new("sh")
        .args(["-c", "read _; exit 3"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("sh");
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid")).expect("pid");
    let pidfd = pidfd_open(pid, PidfdFlags::empty()).expect("pidfd_open");
    let (r, w) = rustix::pipe::pipe().expect("pipe");
    lp.watch_process(pidfd.as_fd(), 1).expect("watch process");
    lp.watch_readable(r.as_fd(), 2).expect("watch pipe");
    let timer = Duration::from_millis(20);
    lp.add_timer(timer, 3);
    let armed = Instant::now();

    // Nothing is ready before 20 ms (checked when this thread got here
    // in time: a loaded machine may not run it before then).
    let mut early = Vec::new();
    lp.wait(&mut early, Some(Duration::ZERO)).expect("wait");
    if armed.elapsed() < timer {
        assert!(early.is_empty(), "{early:?}");
    }

    let first = if early.is_empty() {
        wait_for(&mut lp, 1)
    } else {
        early
    };
    assert_eq!(
        first,
        [Event {
            token: 3,
            kind: EventKind::Timer
        }]
    );
    std::fs::File::from(w).write_all(b"x").expect("write");
    drop(child.stdin.take());
    let mut rest = wait_for(&mut lp, 2);
    rest.sort_by_key(|e| e.token);
    assert_eq!(
        rest,
        [
            Event {
                token: 1,
                kind: EventKind::Exited
            },
            Event {
                token: 2,
                kind: EventKind::Readable
            },
        ]
    );
    assert_eq!(child.wait().expect("reap").code(), Some(3));
    // One-shot: nothing more.
    let mut after = Vec::new();
    lp.wait(&mut after, Some(Duration::from_millis(10)))
        .expect("wait");
    assert!(after.is_empty(), "{after:?}");
}

fn unwatched_pipe_and_timer_report_nothing(backend: EventLoopBackend) {
    let mut lp = event_loop(backend);
    let (r, w) = rustix::pipe::pipe().expect("pipe");
    lp.watch_readable(r.as_fd(), 5).expect("watch");
    lp.add_timer(Duration::from_millis(1), 5);
    lp.unwatch(5).expect("unwatch");
    std::fs::File::from(w).write_all(b"x").expect("write");
    let mut events = Vec::new();
    lp.wait(&mut events, Some(Duration::from_millis(20)))
        .expect("wait");
    assert!(events.is_empty(), "{events:?}");
    // The slot is reused by a new watch, which alone reports.
    lp.watch_readable(r.as_fd(), 6).expect("watch again");
    let events = wait_for(&mut lp, 1);
    assert_eq!(
        events,
        [Event {
            token: 6,
            kind: EventKind::Readable
        }]
    );
}

#[test]
fn io_uring_unwatch_reports_nothing() {
    unwatched_pipe_and_timer_report_nothing(EventLoopBackend::IoUring);
}

#[test]
fn epoll_unwatch_reports_nothing() {
    unwatched_pipe_and_timer_report_nothing(EventLoopBackend::Epoll);
}

#[test]
fn io_uring_reports_exit_pipe_and_timer() {
    exit_pipe_and_timer_are_reported(EventLoopBackend::IoUring);
}

#[test]
fn epoll_reports_exit_pipe_and_timer() {
    exit_pipe_and_timer_are_reported(EventLoopBackend::Epoll);
}

#[test]
fn peapod_event_loop_epoll_forces_epoll() {
    // The choice is read from the environment of a child run of this
    // test binary, so this process's environment is never changed.
    let out = Command::new(std::env::current_exe().expect("exe"))
        .args([
            "--exact",
            "print_backend_choice",
            "--nocapture",
            "--include-ignored",
        ])
        .env("PEAPOD_EVENT_LOOP", "epoll")
        .output()
        .expect("run self");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("backend=Epoll"), "{text}");
}

#[test]
#[ignore = "helper run by peapod_event_loop_epoll_forces_epoll"]
fn print_backend_choice() {
    println!("backend={:?}", EventLoop::new().expect("loop").backend());
}
