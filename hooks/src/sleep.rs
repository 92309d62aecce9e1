//! `sleep`: waits, then passes — a timer in the event loop, nothing else.
//! Cut short by the run's timeout (for `preStop`, what is left of the
//! grace period), which kubelet reports as a failed hook.

use std::time::{Duration, Instant};

use crate::outcome::Outcome;

/// A sleep in flight.
#[derive(Debug)]
pub(crate) struct SleepRun {
    ends: Instant,
    length: Duration,
}

impl SleepRun {
    pub(crate) fn new(length: Duration, now: Instant) -> Self {
        Self {
            ends: now + length,
            length,
        }
    }

    /// When the sleep is over.
    pub(crate) fn ends(&self) -> Instant {
        self.ends
    }

    /// The outcome at `now`, when there is one: passed once the sleep is
    /// over, timed out when the deadline comes first.
    pub(crate) fn outcome(&self, now: Instant, deadline: Instant) -> Option<Outcome> {
        if now >= self.ends {
            Some(Outcome::success(""))
        } else if now >= deadline {
            Some(Outcome::timed_out(format!(
                "sleep of {}s cut short by its timeout",
                self.length.as_secs()
            )))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Verdict;

    #[test]
    fn sleep_passes_when_over_and_times_out_at_the_deadline() {
        let t0 = Instant::now();
        let s = SleepRun::new(Duration::from_secs(5), t0);
        assert!(s.outcome(t0, t0 + Duration::from_secs(10)).is_none());
        let over = s.outcome(t0 + Duration::from_secs(5), t0 + Duration::from_secs(10));
        assert_eq!(over.unwrap().verdict, Verdict::Success);
        let cut = s.outcome(t0 + Duration::from_secs(2), t0 + Duration::from_secs(2));
        assert_eq!(cut.unwrap().verdict, Verdict::TimedOut);
    }
}
