//! Three 1-second probes on an idle container, driven the way the
//! supervisor drives them: one thread, core's event loop, a `Run` per
//! probe run. Prints the CPU this process (and its reaped children, the
//! exec probes) used — the figure of "probes add no busy waiting".
//!
//! Needs root (a busybox container for the exec probe) and busybox on the
//! host (`busybox httpd` as the HTTP target):
//!
//! ```text
//! cargo run --release -p peapod-hooks --example idle_probes -- 60
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::time::{Duration, Instant};

use peapod_core::{
    ContainerSpawn, Event, EventKind, EventLoop, MountPlan, NamespacePlan, Namespaces, ProcessSpec,
    RootFs,
};
use peapod_hooks::{
    ContainerProbes, Exec, ExecTarget, Handler, HttpGet, Outcome, ProbeKind, ProbeTiming, Progress,
    Purpose, Run, RunContext, Scheme, TcpSocket,
};

/// Timer tokens are `TIMER + probe index`; run tokens count up from 1.
const TIMER: u64 = 1 << 40;

struct Probe {
    handler: Handler,
    kind: ProbeKind,
    probes: ContainerProbes,
    run: Option<(u64, Run)>,
}

fn main() {
    let seconds: u64 = std::env::args().nth(1).map_or(60, |s| s.parse().unwrap());
    let scratch = peapod_testkit::TempDir::new("hooks-idle");
    let dir = scratch.path();
    for d in ["upper", "work", "rootfs", "www"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::write(dir.join("www/index.html"), "ok").unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut httpd = std::process::Command::new("busybox")
        .args(["httpd", "-f", "-p", &format!("127.0.0.1:{port}"), "-h"])
        .arg(dir.join("www"))
        .spawn()
        .expect("busybox httpd");

    let spec = ProcessSpec::new(["sleep", "3600"]);
    let mut spawn = ContainerSpawn::new(spec.clone());
    spawn.namespaces = NamespacePlan {
        create: Namespaces::MNT | Namespaces::PID,
        join: Namespaces::empty(),
    };
    spawn.mounts = Some(
        MountPlan::new(
            RootFs::Overlay {
                lower: vec![peapod_testkit::busybox_rootfs().to_path_buf()],
                upper: dir.join("upper"),
                work: dir.join("work"),
            },
            dir.join("rootfs"),
        )
        .with_standard_mounts(None, 64 << 20),
    );
    let container = spawn.spawn().expect("container");

    let every_second = ProbeTiming {
        initial_delay: Duration::ZERO,
        period: Duration::from_secs(1),
        timeout: Duration::from_secs(1),
        success_threshold: 1,
        failure_threshold: 3,
    };
    let t0 = Instant::now();
    let one = |kind: ProbeKind| match kind {
        ProbeKind::Liveness => ContainerProbes::new(None, Some(every_second), None, t0),
        _ => ContainerProbes::new(None, None, Some(every_second), t0),
    };
    let mut probes = [
        Probe {
            handler: Handler::Exec(Exec {
                command: vec!["true".into()],
            }),
            kind: ProbeKind::Liveness,
            probes: one(ProbeKind::Liveness),
            run: None,
        },
        Probe {
            handler: Handler::HttpGet(HttpGet {
                host: None,
                port,
                path: "/".into(),
                scheme: Scheme::Http,
                headers: Vec::new(),
                purpose: Purpose::Probe,
            }),
            kind: ProbeKind::Readiness,
            probes: one(ProbeKind::Readiness),
            run: None,
        },
        Probe {
            handler: Handler::TcpSocket(TcpSocket { host: None, port }),
            kind: ProbeKind::Liveness,
            probes: one(ProbeKind::Liveness),
            run: None,
        },
    ];

    let mut event_loop = EventLoop::new().unwrap();
    let mut events: Vec<Event> = Vec::new();
    let mut next_token = 1u64;
    let mut by_token: HashMap<u64, usize> = HashMap::new();
    let mut passed = 0u32;
    let mut failed: Vec<String> = Vec::new();
    let cpu0 = cpu_ticks();
    for (i, p) in probes.iter().enumerate() {
        arm(&mut event_loop, p, i);
    }
    let end = t0 + Duration::from_secs(seconds);
    while Instant::now() < end {
        events.clear();
        event_loop
            .wait(
                &mut events,
                Some(end.saturating_duration_since(Instant::now())),
            )
            .unwrap();
        for ev in &events {
            let now = Instant::now();
            if ev.token >= TIMER {
                let i = usize::try_from(ev.token - TIMER).unwrap();
                let p = &mut probes[i];
                if p.run.is_none() && !p.probes.due(now).is_empty() {
                    let ctx = RunContext {
                        exec: Some(ExecTarget {
                            pidfd: container.pidfd(),
                            cgroup: None,
                            process: &spec,
                        }),
                        pod_ip: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                        netns: None,
                        timeout: every_second.timeout,
                    };
                    let token = next_token;
                    next_token += 1;
                    let mut run = Run::start(&p.handler, &ctx);
                    match run.poll(None, &mut event_loop, token).unwrap() {
                        Progress::Pending => {
                            by_token.insert(token, i);
                            p.run = Some((token, run));
                        }
                        Progress::Done(o) => tally(p, &o, now, &mut passed, &mut failed),
                    }
                }
                arm(&mut event_loop, &probes[i], i);
            } else if let Some(&i) = by_token.get(&ev.token) {
                let p = &mut probes[i];
                let Some((token, run)) = p.run.as_mut() else {
                    continue;
                };
                if let Progress::Done(o) = run.poll(Some(ev.kind), &mut event_loop, *token).unwrap()
                {
                    by_token.remove(&ev.token);
                    p.run = None;
                    tally(p, &o, now, &mut passed, &mut failed);
                    arm(&mut event_loop, p, i);
                }
            } else {
                // A finished run's deadline timer: nothing to do.
                debug_assert_eq!(ev.kind, EventKind::Timer);
            }
        }
    }
    let (own, children) = cpu_ticks();
    let wall = t0.elapsed().as_secs_f64();
    // Clock ticks are 1/100 s.
    let percent =
        |ticks: u64, base: u64| f64::from(u32::try_from(ticks - base).unwrap_or(u32::MAX)) / wall;
    println!(
        "{seconds} s, 3 probes every 1 s: {passed} passed, {} failed; CPU {:.3}% of a core (this process, threads included), {:.3}% (reaped exec children)",
        failed.len(),
        percent(own, cpu0.0),
        percent(children, cpu0.1),
    );
    for f in failed.iter().take(5) {
        println!("  failed: {f}");
    }
    let _ = container.kill();
    let _ = container.wait();
    let _ = httpd.kill();
    let _ = httpd.wait();
}

/// Records a run's outcome.
fn tally(p: &mut Probe, o: &Outcome, now: Instant, passed: &mut u32, failed: &mut Vec<String>) {
    if o.passed() {
        *passed += 1;
    } else {
        failed.push(format!("{}: {}", p.handler.kind(), o.message));
    }
    let kind = p.kind;
    p.probes.record(kind, o, now);
}

/// Arms the probe's timer at its next due time.
fn arm(event_loop: &mut EventLoop, p: &Probe, i: usize) {
    if let Some(due) = p.probes.next_due() {
        event_loop.add_timer(
            due.saturating_duration_since(Instant::now()),
            TIMER + i as u64,
        );
    }
}

/// (utime + stime, cutime + cstime) of this process in clock ticks.
fn cpu_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<u64> = after.split(' ').map(|x| x.parse().unwrap_or(0)).collect();
    // Fields 14..17 of stat(5), counted from field 3 here.
    (f[11] + f[12], f[13] + f[14])
}
