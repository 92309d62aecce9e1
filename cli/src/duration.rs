//! Ages as kubectl prints them (`translateTimestampSince`, i.e.
//! apimachinery's `duration.HumanDuration`): `45s`, `2m30s`, `3h1m`, `3d`.

use peapod_runtime::Timestamp;

/// The age of an RFC 3339 time, `<unknown>` when it does not parse.
pub fn since(t: &str) -> String {
    Timestamp::parse_rfc3339(t).map_or_else(
        || "<unknown>".to_owned(),
        |t| human_duration(t.elapsed().as_secs()),
    )
}

/// `k8s.io/apimachinery/pkg/util/duration.HumanDuration`.
pub fn human_duration(seconds: u64) -> String {
    let both = |a: u64, unit_a: &str, b: u64, unit_b: &str| {
        if b == 0 {
            format!("{a}{unit_a}")
        } else {
            format!("{a}{unit_a}{b}{unit_b}")
        }
    };
    let (minutes, hours, days) = (seconds / 60, seconds / 3600, seconds / 86_400);
    match seconds {
        0..120 => format!("{seconds}s"),
        120..600 => both(minutes, "m", seconds % 60, "s"),
        600..10_800 => format!("{minutes}m"),
        10_800..28_800 => both(hours, "h", minutes % 60, "m"),
        28_800..172_800 => format!("{hours}h"),
        172_800..691_200 => both(days, "d", hours % 24, "h"),
        691_200..63_072_000 => format!("{days}d"),
        63_072_000..252_288_000 => both(days / 365, "y", days % 365, "d"),
        _ => format!("{}y", days / 365),
    }
}

/// A signed duration as Go's `time.ParseDuration` reads it (`30s`,
/// `1m30s`, `1.5h`, `300ms`, `-1s`, `0`), the form of kubectl's duration
/// flags (`--timeout`, `--since`); Go's message for another.
pub fn parse_go(text: &str) -> Result<GoDuration, String> {
    let invalid = || format!("time: invalid duration {text:?}");
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(GoDuration {
            negative,
            duration: std::time::Duration::ZERO,
        });
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut seconds = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().map_err(|_| invalid())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(format!("time: missing unit in duration {text:?}")),
            unit => return Err(format!("time: unknown unit {unit:?} in duration {text:?}")),
        };
        rest = &rest[unit_len..];
        seconds += number * scale;
    }
    let duration = std::time::Duration::try_from_secs_f64(seconds).map_err(|_| invalid())?;
    Ok(GoDuration { negative, duration })
}

/// A duration with Go's sign (`--timeout=-1s`: wait a week, as kubectl).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoDuration {
    /// Below zero.
    pub negative: bool,
    /// Its size.
    pub duration: std::time::Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_as_time_parse_duration() {
        let secs = |t: &str| parse_go(t).expect("parsed").duration.as_secs_f64();
        assert!((secs("30s") - 30.0).abs() < 1e-9);
        assert!((secs("1m30s") - 90.0).abs() < 1e-9);
        assert!((secs("1.5h") - 5400.0).abs() < 1e-9);
        assert!((secs("300ms") - 0.3).abs() < 1e-9);
        assert!((secs("0") - 0.0).abs() < 1e-9);
        assert!(parse_go("-1s").expect("parsed").negative);
        assert_eq!(
            parse_go("30").expect_err("refused"),
            "time: missing unit in duration \"30\""
        );
        assert_eq!(
            parse_go("3d").expect_err("refused"),
            "time: unknown unit \"d\" in duration \"3d\""
        );
        assert_eq!(
            parse_go("").expect_err("refused"),
            "time: invalid duration \"\""
        );
    }

    #[test]
    fn durations_read_as_kubectl_prints_them() {
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(180), "3m");
        assert_eq!(human_duration(3 * 3600 + 60), "3h1m");
        assert_eq!(human_duration(3 * 86_400), "3d");
        assert_eq!(since("not a time"), "<unknown>");
    }
}
