//! Probes driven as the supervisor drives them — one thread, core's event
//! loop, a `Run` per probe run, `ContainerProbes` deciding — against
//! servers on 127.0.0.1 that come and go, with 100 ms periods.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::time::{Duration, Instant};

use peapod_core::{Event, EventLoop};
use peapod_hooks::{
    ContainerProbes, Handler, HttpGet, ProbeEvent, ProbeKind, ProbeTiming, Progress, Purpose, Run,
    RunContext, Scheme, TcpSocket,
};

const TIMER: u64 = 1 << 40;
const PERIOD: Duration = Duration::from_millis(100);

fn timing(failure_threshold: u32) -> ProbeTiming {
    ProbeTiming {
        initial_delay: Duration::ZERO,
        period: PERIOD,
        timeout: Duration::from_millis(80),
        success_threshold: 1,
        failure_threshold,
    }
}

/// How long a test waits for the event it drives to: far more than the
/// few 100 ms periods any of them needs, so a loaded machine only makes
/// the test slower, never wrong.
const PATIENCE: Duration = Duration::from_secs(10);

/// Runs the probes until an event satisfies `until` (returned last) or
/// `length` is over; returns each event with when it came.
fn drive(
    probes: &mut ContainerProbes,
    handlers: &HashMap<ProbeKind, Handler>,
    until: impl Fn(&ProbeEvent) -> bool,
    length: Duration,
) -> Vec<(Duration, ProbeEvent)> {
    let ctx = RunContext {
        exec: None,
        pod_ip: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        netns: None,
        timeout: timing(1).timeout,
    };
    let mut event_loop = EventLoop::new().unwrap();
    let mut events: Vec<Event> = Vec::new();
    let mut runs: HashMap<u64, (ProbeKind, Run)> = HashMap::new();
    let mut next_token = 1;
    let mut timer_at: Option<Instant> = None;
    let mut seen = Vec::new();
    let start = Instant::now();
    let end = start + length;
    loop {
        if let Some(due) = probes.next_due()
            && timer_at != Some(due)
        {
            event_loop.add_timer(due.saturating_duration_since(Instant::now()), TIMER);
            timer_at = Some(due);
        }
        let now = Instant::now();
        if now >= end {
            return seen;
        }
        events.clear();
        event_loop.wait(&mut events, Some(end - now)).unwrap();
        for ev in &events {
            let now = Instant::now();
            let mut done = Vec::new();
            if ev.token == TIMER {
                timer_at = None;
                for kind in probes.due(now) {
                    let token = next_token;
                    next_token += 1;
                    let mut run = Run::start(&handlers[&kind], &ctx);
                    match run.poll(None, &mut event_loop, token).unwrap() {
                        Progress::Pending => {
                            runs.insert(token, (kind, run));
                        }
                        Progress::Done(o) => done.push((kind, o)),
                    }
                }
            } else if let Some((kind, run)) = runs.get_mut(&ev.token)
                && let Progress::Done(o) =
                    run.poll(Some(ev.kind), &mut event_loop, ev.token).unwrap()
            {
                done.push((*kind, o));
                runs.remove(&ev.token);
            }
            for (kind, o) in done {
                for e in probes.record(kind, &o, now) {
                    let last = until(&e);
                    seen.push((now - start, e));
                    if last {
                        return seen;
                    }
                }
            }
        }
    }
}

fn is_unhealthy(e: &ProbeEvent, kind: ProbeKind) -> bool {
    matches!(e, ProbeEvent::Unhealthy { kind: k, .. } if *k == kind)
}

#[test]
fn readiness_goes_true_then_false_after_failure_threshold() {
    // The server goes when the test says, not at a time: a loaded machine
    // only makes the test slower.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut probes = ContainerProbes::new(None, None, Some(timing(2)), Instant::now());
    let handlers = HashMap::from([(
        ProbeKind::Readiness,
        Handler::TcpSocket(TcpSocket { host: None, port }),
    )]);
    let seen = drive(
        &mut probes,
        &handlers,
        |e| *e == ProbeEvent::Ready(true),
        PATIENCE,
    );
    let events: Vec<_> = seen.iter().map(|(_, e)| e.clone()).collect();
    assert_eq!(events, [ProbeEvent::Ready(true)], "the first run passes");
    drop(listener);
    let seen = drive(
        &mut probes,
        &handlers,
        |e| *e == ProbeEvent::Ready(false),
        PATIENCE,
    );
    let (at, _) = seen
        .iter()
        .find(|(_, e)| *e == ProbeEvent::Ready(false))
        .expect("never unready");
    // Unready at the second failed run, a period after the first at least
    // (later on a loaded machine, never sooner).
    assert!(*at >= PERIOD, "{seen:?}");
    let before: Vec<_> = seen
        .iter()
        .take_while(|(_, e)| *e != ProbeEvent::Ready(false))
        .filter(|(_, e)| is_unhealthy(e, ProbeKind::Readiness))
        .collect();
    assert_eq!(before.len(), 2, "{seen:?}");
    assert!(!probes.ready());
}

#[test]
fn liveness_failing_threshold_asks_one_restart_then_stops() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::Write;
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { return };
            let mut buf = [0u8; 1024];
            let _ = std::io::Read::read(&mut c, &mut buf);
            let _ = c.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let mut probes = ContainerProbes::new(None, Some(timing(3)), None, Instant::now());
    let handlers = HashMap::from([(
        ProbeKind::Liveness,
        Handler::HttpGet(HttpGet {
            host: None,
            port,
            path: "/healthz".into(),
            scheme: Scheme::Http,
            headers: Vec::new(),
            purpose: Purpose::Probe,
        }),
    )]);
    let restart = |e: &ProbeEvent| matches!(e, ProbeEvent::Restart { .. });
    let seen = drive(&mut probes, &handlers, restart, PATIENCE);
    let events: Vec<_> = seen.iter().map(|(_, e)| e.clone()).collect();
    let message = "Liveness probe failed: HTTP probe failed with statuscode: 500".to_owned();
    let unhealthy = ProbeEvent::Unhealthy {
        kind: ProbeKind::Liveness,
        message,
    };
    assert_eq!(
        events,
        vec![
            unhealthy.clone(),
            unhealthy.clone(),
            unhealthy,
            ProbeEvent::Restart {
                kind: ProbeKind::Liveness
            }
        ]
    );
    // Three failures 100 ms apart: not before 200 ms (later when loaded).
    let at = seen[3].0;
    assert!(at >= Duration::from_millis(200), "{seen:?}");
    // Then it stops: nothing in three more periods (a window for an event
    // that must not come, not a synchronisation).
    let after = drive(&mut probes, &handlers, |_| true, 3 * PERIOD);
    assert!(after.is_empty(), "{after:?}");
}

#[test]
fn startup_holds_liveness_until_it_passes() {
    let port = common::free_port();
    let tcp = Handler::TcpSocket(TcpSocket { host: None, port });
    let mut probes = ContainerProbes::new(Some(timing(30)), Some(timing(1)), None, Instant::now());
    let handlers = HashMap::from([
        (ProbeKind::Startup, tcp.clone()),
        (ProbeKind::Liveness, tcp),
    ]);
    // Nothing listens yet: the startup probe fails, liveness is held.
    let unhealthy = |e: &ProbeEvent| is_unhealthy(e, ProbeKind::Startup);
    let early = drive(&mut probes, &handlers, unhealthy, PATIENCE);
    assert!(early.len() == 1 && unhealthy(&early[0].1), "{early:?}");
    let _listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let seen = drive(
        &mut probes,
        &handlers,
        |e| *e == ProbeEvent::Started,
        PATIENCE,
    );
    let started = seen
        .iter()
        .position(|(_, e)| *e == ProbeEvent::Started)
        .expect("never started");
    assert!(
        seen[..started].iter().all(|(_, e)| unhealthy(e)),
        "{seen:?}"
    );
    assert!(
        !seen
            .iter()
            .any(|(_, e)| matches!(e, ProbeEvent::Restart { .. })),
        "{seen:?}"
    );
    assert!(probes.started() && probes.ready());
}
