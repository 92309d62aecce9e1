//! Durations as Kubernetes and Go write them (`300ms`, `1.5s`, `1h30m`),
//! for flags such as `--timeout` and annotations; parsed exactly into
//! nanoseconds, no floats.

use std::time::Duration;

use crate::Error;

/// Parses a Go duration: one or more `<number><unit>` with units `ns`,
/// `us` (or `µs`), `ms`, `s`, `m`, `h`; `0` alone is zero. Negative
/// durations are refused.
pub fn parse_duration(text: &str) -> Result<Duration, Error> {
    let invalid = || Error::DurationSyntax(text.to_owned());
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(invalid)?;
        let (number, after) = rest.split_at(number_len);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let unit_nanos: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(invalid()),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') || number.len() > 30
        {
            return Err(invalid());
        }
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| invalid())?
        };
        let mut nanos = whole.checked_mul(unit_nanos).ok_or_else(invalid)?;
        let mut scale = unit_nanos;
        for digit in fraction.bytes() {
            scale /= 10;
            nanos += u128::from(digit - b'0') * scale;
        }
        total = total.checked_add(nanos).ok_or_else(invalid)?;
        rest = after;
    }
    let secs = u64::try_from(total / 1_000_000_000).map_err(|_| invalid())?;
    let nanos = u32::try_from(total % 1_000_000_000).map_err(|_| invalid())?;
    Ok(Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_parses_go_syntax() {
        assert_eq!(parse_duration("300ms").unwrap(), Duration::from_millis(300));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(
            parse_duration("2m3.25s").unwrap(),
            Duration::from_millis(123_250)
        );
        assert_eq!(parse_duration("10us").unwrap(), Duration::from_micros(10));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
    }

    #[test]
    fn duration_rejects_bad_syntax() {
        for bad in ["", "5", "1x", "-1s", "s", "1..5s", "1h30", ".s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
