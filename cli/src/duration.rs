//! Ages as kubectl prints them (`translateTimestampSince`, i.e.
//! apimachinery's `duration.HumanDuration`): `45s`, `2m30s`, `3h1m`, `3d`.

use peapod_runtime::clock::Timestamp;

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

#[cfg(test)]
mod tests {
    use super::*;

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
