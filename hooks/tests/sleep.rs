//! The sleep handler: a timer in the loop, cut short by its timeout.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::{Duration, Instant};

use peapod_hooks::{Handler, Run, RunContext, Verdict};

fn ctx<'a>(timeout: Duration) -> RunContext<'a> {
    RunContext {
        exec: None,
        pod_ip: None,
        netns: None,
        timeout,
    }
}

#[test]
fn sleep_passes_after_its_length() {
    let t0 = Instant::now();
    let sleep = Handler::Sleep(Duration::from_millis(200));
    let o = Run::start(&sleep, &ctx(Duration::from_secs(5)))
        .wait()
        .unwrap();
    let took = t0.elapsed();
    // Success also says it ended before its 5 s timeout.
    assert_eq!(o.verdict, Verdict::Success);
    assert!(took >= Duration::from_millis(200), "{took:?}");
}

#[test]
fn sleep_longer_than_its_timeout_is_cut_short() {
    let t0 = Instant::now();
    let sleep = Handler::Sleep(Duration::from_secs(30));
    let o = Run::start(&sleep, &ctx(Duration::from_millis(200)))
        .wait()
        .unwrap();
    let took = t0.elapsed();
    assert_eq!(o.verdict, Verdict::TimedOut);
    // The 30 s sleep was cut: under 10 s leaves a loaded machine room.
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn unbounded_timeout_does_not_overflow_the_clock() {
    let sleep = Handler::Sleep(Duration::from_millis(50));
    let o = Run::start(&sleep, &ctx(Duration::MAX)).wait().unwrap();
    assert_eq!(o.verdict, Verdict::Success);
}
