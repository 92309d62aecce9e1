//! Kubelet's crash-loop back-off: 10 s, doubling per crash, capped at
//! 300 s, forgotten after a container ran 10 minutes without trouble.

use std::time::Duration;

/// The environment variable that overrides the base delay (milliseconds),
/// so tests see restarts without waiting 10 s.
pub const BASE_ENV: &str = "PEAPOD_BACKOFF_BASE_MS";

/// Back-off settings: the kubelet's by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Delay before the first restart.
    pub base: Duration,
    /// Ceiling of the delay.
    pub cap: Duration,
    /// A container that ran this long has its back-off reset.
    pub reset_after: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(10),
            cap: Duration::from_secs(300),
            reset_after: Duration::from_secs(600),
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
}

/// The back-off state of one container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backoff {
    /// Crashes since the last reset.
    crashes: u32,
}

impl Backoff {
    /// Records an exit after the container ran `ran` and returns how long to
    /// wait before starting it again.
    pub fn next_delay(&mut self, policy: &BackoffPolicy, ran: Duration) -> Duration {
        if ran >= policy.reset_after {
            self.crashes = 0;
        }
        let factor = 1u32.checked_shl(self.crashes).unwrap_or(u32::MAX);
        self.crashes = self.crashes.saturating_add(1);
        policy.base.saturating_mul(factor).min(policy.cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delays(n: usize) -> Vec<u64> {
        let policy = BackoffPolicy::default();
        let mut b = Backoff::default();
        (0..n)
            .map(|_| b.next_delay(&policy, Duration::from_secs(1)).as_secs())
            .collect()
    }

    #[test]
    fn backoff_doubles_from_ten_seconds_and_caps_at_five_minutes() {
        assert_eq!(delays(8), [10, 20, 40, 80, 160, 300, 300, 300]);
    }

    #[test]
    fn backoff_never_overflows_after_many_crashes() {
        assert_eq!(*delays(100).last().expect("100 delays"), 300);
    }

    #[test]
    fn backoff_resets_after_ten_minutes_of_running() {
        let policy = BackoffPolicy::default();
        let mut b = Backoff::default();
        for _ in 0..4 {
            b.next_delay(&policy, Duration::from_secs(5));
        }
        let d = b.next_delay(&policy, Duration::from_secs(601));
        assert_eq!(d, Duration::from_secs(10));
    }
}
