//! Kubelet's crash-loop back-off (`doBackOff` over client-go's
//! `flowcontrol.Backoff`), per container: the first restart is immediate;
//! each restart after it waits the current back-off from the container's
//! `finishedAt` — 10 s, then 20 s, 40 s ... capped at 300 s; the entry is
//! forgotten (the next restart immediate again) once its last update is
//! more than twice the cap (10 minutes) older than the exit. Pure: times
//! come in as arguments.

use std::time::{Duration, Instant};

/// The environment variable that overrides the base delay (milliseconds),
/// so tests see restarts without waiting 10 s.
pub(crate) const BASE_ENV: &str = "PEAPOD_BACKOFF_BASE_MS";

/// Back-off settings: the kubelet's by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BackoffPolicy {
    /// The wait before the second restart (kubelet's 10 s).
    pub base: Duration,
    /// Ceiling of the wait (kubelet's 300 s).
    pub cap: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(10),
            cap: Duration::from_secs(300),
        }
    }
}

impl BackoffPolicy {
    /// The kubelet's policy, with the base from [`BASE_ENV`] when set. The
    /// cap scales with the base (30 × base), so tests keep the shape.
    pub fn from_env() -> Self {
        let mut policy = Self::default();
        if let Some(ms) = std::env::var(BASE_ENV)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            policy.base = Duration::from_millis(ms);
            policy.cap = policy.base.saturating_mul(30);
        }
        policy
    }

    /// client-go's `hasExpired`: an entry last updated at `last_update` is
    /// forgotten for an event at `event` more than 2 × cap later.
    fn expired(self, event: Instant, last_update: Instant) -> bool {
        event.saturating_duration_since(last_update) > self.cap.saturating_mul(2)
    }
}

/// The back-off entry of one container (`None` until its first restart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Backoff {
    entry: Option<Entry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    backoff: Duration,
    last_update: Instant,
}

impl Backoff {
    /// When a container that finished at `finished` may start again
    /// (`IsInBackOffSince`): at once without a live entry, else the
    /// entry's back-off after `finished`.
    pub fn restart_at(&self, policy: BackoffPolicy, finished: Instant) -> Instant {
        match self.entry {
            Some(e) if !policy.expired(finished, e.last_update) => finished + e.backoff,
            _ => finished,
        }
    }

    /// The container restarts at `now` after it finished at `finished`
    /// (`Next`): a new or expired entry starts at the base, a live one
    /// doubles up to the cap.
    pub fn restarted(&mut self, policy: BackoffPolicy, finished: Instant, now: Instant) {
        let backoff = match self.entry {
            Some(e) if !policy.expired(finished, e.last_update) => {
                e.backoff.saturating_mul(2).min(policy.cap)
            }
            _ => policy.base.min(policy.cap),
        };
        self.entry = Some(Entry {
            backoff,
            last_update: now,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Crashes `n` times, each 1 s after its restart; the waits seen.
    fn waits(n: usize) -> Vec<u64> {
        let policy = BackoffPolicy::default();
        let mut b = Backoff::default();
        let mut now = Instant::now();
        (0..n)
            .map(|_| {
                let finished = now + Duration::from_secs(1);
                let at = b.restart_at(policy, finished);
                b.restarted(policy, finished, at);
                now = at;
                (at - finished).as_secs()
            })
            .collect()
    }

    #[test]
    fn first_restart_is_immediate_then_ten_seconds_doubling_to_five_minutes() {
        assert_eq!(waits(9), [0, 10, 20, 40, 80, 160, 300, 300, 300]);
    }

    #[test]
    fn backoff_never_overflows_after_many_crashes() {
        assert_eq!(*waits(100).last().expect("100 waits"), 300);
    }

    #[test]
    fn backoff_is_counted_from_finished_at_not_from_now() {
        let policy = BackoffPolicy::default();
        let mut b = Backoff::default();
        let t0 = Instant::now();
        b.restarted(policy, t0, t0);
        let finished = t0 + Duration::from_secs(3);
        assert_eq!(b.restart_at(policy, finished), finished + policy.base);
    }

    #[test]
    fn backoff_resets_when_last_update_is_over_ten_minutes_before_the_exit() {
        let policy = BackoffPolicy::default();
        let mut b = Backoff::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            b.restarted(policy, t0, t0);
        }
        let late = t0 + Duration::from_secs(601);
        assert_eq!(b.restart_at(policy, late), late, "immediate again");
        b.restarted(policy, late, late);
        let next = late + Duration::from_secs(1);
        assert_eq!(b.restart_at(policy, next), next + policy.base);
        let at_ten_minutes = t0 + Duration::from_secs(600);
        let mut kept = Backoff::default();
        kept.restarted(policy, t0, t0);
        kept.restarted(policy, t0, t0);
        assert_eq!(
            kept.restart_at(policy, at_ten_minutes),
            at_ten_minutes + Duration::from_secs(20),
            "exactly 10 minutes is not over"
        );
    }
}
