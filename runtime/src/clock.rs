//! Wall-clock timestamps in the two forms Kubernetes writes: RFC 3339 with
//! nanoseconds (CRI log lines) and with seconds (`startTime`, `startedAt`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in wall-clock time, as nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(u128);

impl Timestamp {
    /// Now.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// `2026-11-22T10:00:00.123456789Z`, the CRI log form.
    pub fn rfc3339_nanos(self) -> String {
        let (date, nanos) = self.civil();
        format!("{date}.{nanos:09}Z")
    }

    /// `2026-11-22T10:00:00Z`, the form of the Kubernetes API's `Time`.
    pub fn rfc3339(self) -> String {
        let (date, _) = self.civil();
        format!("{date}Z")
    }

    /// Seconds since the epoch.
    pub fn unix_seconds(self) -> u64 {
        u64::try_from(self.0 / 1_000_000_000).unwrap_or(u64::MAX)
    }

    /// Time elapsed since this point (zero if it lies in the future).
    pub fn elapsed(self) -> Duration {
        let now = Self::now().0;
        let nanos = now.saturating_sub(self.0);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// Parses the output of [`Timestamp::rfc3339`] or
    /// [`Timestamp::rfc3339_nanos`] back (UTC, `Z` suffix only).
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let text = text.strip_suffix('Z')?;
        let (date, time) = text.split_once('T')?;
        let mut d = date.splitn(3, '-').map(str::parse::<i64>);
        let (year, month, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
        let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
        let mut fields = hms.splitn(3, ':').map(str::parse::<i64>);
        let hour = fields.next()?.ok()?;
        let minute = fields.next()?.ok()?;
        let second = fields.next()?.ok()?;
        let nanos: u128 = if frac.is_empty() {
            0
        } else {
            let digits = &frac[..frac.len().min(9)];
            digits.parse::<u128>().ok()? * 10u128.pow(9 - u32::try_from(digits.len()).ok()?)
        };
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
        let secs = u128::try_from(secs).ok()?;
        Some(Self(secs * 1_000_000_000 + nanos))
    }

    fn civil(self) -> (String, u128) {
        let secs = self.0 / 1_000_000_000;
        let nanos = self.0 % 1_000_000_000;
        let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX);
        let rem = secs % 86_400;
        let (y, m, d) = civil_from_days(days);
        (
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
                rem / 3600,
                rem % 3600 / 60,
                rem % 60
            ),
            nanos,
        )
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        Self(t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos()))
    }
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to a date.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_with_nanoseconds() {
        // 2026-11-22T10:00:00.123456789Z
        let t = Timestamp(1_795_341_600_123_456_789);
        assert_eq!(t.rfc3339_nanos(), "2026-11-22T10:00:00.123456789Z");
        assert_eq!(t.rfc3339(), "2026-11-22T10:00:00Z");
    }

    #[test]
    fn epoch_and_leap_day() {
        assert_eq!(Timestamp(0).rfc3339(), "1970-01-01T00:00:00Z");
        let leap = Timestamp::parse_rfc3339("2024-02-29T23:59:59Z").expect("parses");
        assert_eq!(leap.rfc3339(), "2024-02-29T23:59:59Z");
    }

    #[test]
    fn parse_round_trips_nanos() {
        let t = Timestamp::now();
        assert_eq!(Timestamp::parse_rfc3339(&t.rfc3339_nanos()), Some(t));
    }
}
