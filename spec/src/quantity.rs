//! Kubernetes resource quantities (`128Mi`, `500m`, `1.5Gi`, `2e3`), parsed
//! exactly into integer milli-units: no floating point anywhere.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// The most digits a quantity's number may hold; more could overflow the
/// exact arithmetic, and no real resource needs them.
const MAX_DIGITS: usize = 30;

/// The largest decimal exponent accepted (`1e18` is an exabyte).
const MAX_EXPONENT: i32 = 30;

/// A resource quantity as Kubernetes writes it, kept with its exact value.
///
/// The text given is kept as written (so a manifest round-trips unchanged);
/// the value is exact, in milli-units, rounded up as Kubernetes' `MilliValue`
/// does when the text is finer than a milli-unit (`1n` → 1m).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Quantity {
    text: String,
    milli: i128,
}

/// Which multiplier a suffix stands for: `base^exponent`.
#[derive(Clone, Copy)]
enum Multiplier {
    Binary(u32),
    Decimal(i32),
}

impl Quantity {
    /// Parses a quantity in Kubernetes' syntax:
    /// `[+-]digits[.digits][suffix]`, suffix one of `Ki Mi Gi Ti Pi Ei`,
    /// `n u m k M G T P E` or an exponent `e3`/`E-2`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let milli = parse_milli(text)?;
        Ok(Self {
            text: text.to_owned(),
            milli,
        })
    }

    /// The quantity as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value in milli-units (`500m` → 500, `1` → 1000, `1Ki` → 1 024 000).
    pub fn milli_value(&self) -> i128 {
        self.milli
    }

    /// The value in whole units, rounded up (`1Gi` → 1 073 741 824 bytes,
    /// `500m` → 1).
    pub fn value(&self) -> i128 {
        let whole = self.milli / 1000;
        if self.milli % 1000 > 0 {
            whole + 1
        } else {
            whole
        }
    }

    /// Whether the quantity is below zero.
    pub fn is_negative(&self) -> bool {
        self.milli < 0
    }

    /// The quantity as Kubernetes prints it once parsed (`String()`), in
    /// the format of its suffix: binary (`1024Mi` → `1Gi`, `1536Mi` stays),
    /// decimal (`1000k` → `1M`, `0.5` → `500m`) or exponent (`1000e3` →
    /// `1e6`). Kubelet's eviction messages quote limits this way.
    pub fn canonical(&self) -> String {
        canonical_text(self.milli, Format::of(&self.text))
    }

    /// The sum of both, in this one's format (as Kubernetes' `Add`); its
    /// text is the canonical form.
    #[must_use]
    pub fn plus(&self, other: &Self) -> Self {
        let milli = self.milli.saturating_add(other.milli);
        Self {
            text: canonical_text(milli, Format::of(&self.text)),
            milli,
        }
    }
}

/// How a quantity is printed, after the suffix it was written with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    BinarySi,
    DecimalSi,
    DecimalExponent,
}

impl Format {
    fn of(text: &str) -> Self {
        if text.ends_with('i') {
            Self::BinarySi
        } else if text.contains(['e', 'E']) {
            Self::DecimalExponent
        } else {
            Self::DecimalSi
        }
    }
}

/// Kubernetes' canonical text of `milli` milli-units in `format`: the
/// largest suffix that keeps the number whole. Binary only for whole
/// values of at least 1024 in magnitude, else decimal.
fn canonical_text(milli: i128, format: Format) -> String {
    if milli == 0 {
        return "0".to_owned();
    }
    if format == Format::BinarySi && milli % 1000 == 0 && (milli / 1000).abs() >= 1024 {
        const SUFFIXES: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
        let mut value = milli / 1000;
        let mut power = 0;
        while value % 1024 == 0 && power + 1 < SUFFIXES.len() {
            value /= 1024;
            power += 1;
        }
        return format!("{value}{}", SUFFIXES[power]);
    }
    let mut value = milli;
    let mut exponent: i32 = -3;
    while value % 1000 == 0 && exponent < 18 {
        value /= 1000;
        exponent += 3;
    }
    if format == Format::DecimalExponent {
        return if exponent == 0 {
            value.to_string()
        } else {
            format!("{value}e{exponent}")
        };
    }
    let suffix = match exponent {
        -3 => "m",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => "",
    };
    format!("{value}{suffix}")
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Quantity {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

fn parse_milli(text: &str) -> Result<i128, Error> {
    let invalid = || Error::QuantitySyntax(text.to_owned());
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        Some(_) => (false, text),
        None => return Err(Error::EmptyQuantity),
    };
    let number_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_len);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return Err(invalid());
    }
    let significant = whole.trim_start_matches('0').len() + fraction.len();
    if significant > MAX_DIGITS {
        return Err(Error::QuantityTooLarge(text.to_owned()));
    }
    let mut mantissa: i128 = 0;
    for b in whole.bytes().chain(fraction.bytes()) {
        mantissa = mantissa * 10 + i128::from(b - b'0');
    }
    let fraction_digits = i32::try_from(fraction.len()).map_err(|_| invalid())?;
    let multiplier = parse_suffix(suffix).ok_or_else(invalid)?;
    let too_large = || Error::QuantityTooLarge(text.to_owned());
    // milli = mantissa * 10^(3 - fraction_digits) * multiplier
    let mut exp10 = 3 - fraction_digits;
    let mut value = mantissa;
    match multiplier {
        Multiplier::Binary(exp2) => {
            value = value.checked_mul(1_i128 << exp2).ok_or_else(too_large)?;
        }
        Multiplier::Decimal(e) => exp10 += e,
    }
    if exp10 >= 0 {
        let scale = 10_i128
            .checked_pow(exp10.unsigned_abs())
            .ok_or_else(too_large)?;
        value = value.checked_mul(scale).ok_or_else(too_large)?;
    } else {
        // Finer than a milli-unit: round up, as Kubernetes does.
        let scale = 10_i128.checked_pow(exp10.unsigned_abs());
        value = match scale {
            Some(scale) => value / scale + i128::from(value % scale != 0),
            None => i128::from(value != 0),
        };
    }
    Ok(if negative { -value } else { value })
}

fn parse_suffix(suffix: &str) -> Option<Multiplier> {
    let multiplier = match suffix {
        "" => Multiplier::Decimal(0),
        "Ki" => Multiplier::Binary(10),
        "Mi" => Multiplier::Binary(20),
        "Gi" => Multiplier::Binary(30),
        "Ti" => Multiplier::Binary(40),
        "Pi" => Multiplier::Binary(50),
        "Ei" => Multiplier::Binary(60),
        "n" => Multiplier::Decimal(-9),
        "u" => Multiplier::Decimal(-6),
        "m" => Multiplier::Decimal(-3),
        "k" => Multiplier::Decimal(3),
        "M" => Multiplier::Decimal(6),
        "G" => Multiplier::Decimal(9),
        "T" => Multiplier::Decimal(12),
        "P" => Multiplier::Decimal(15),
        "E" => Multiplier::Decimal(18),
        _ => {
            let exponent = suffix.strip_prefix(['e', 'E'])?;
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let e: i32 = exponent.parse().ok()?;
            if e.abs() > MAX_EXPONENT {
                return None;
            }
            Multiplier::Decimal(e)
        }
    };
    Some(multiplier)
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(QuantityVisitor)
    }
}

struct QuantityVisitor;

impl Visitor<'_> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a quantity such as 500m, 128Mi or 2")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
        Quantity::parse(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
        // Rust prints the shortest text that reads back as the same float,
        // which is the text the user wrote for any sane quantity.
        self.visit_str(&v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn milli(text: &str) -> i128 {
        Quantity::parse(text).unwrap().milli_value()
    }

    fn canonical(text: &str) -> String {
        Quantity::parse(text).unwrap().canonical()
    }

    #[test]
    fn canonical_form_is_the_one_kubernetes_prints() {
        assert_eq!(canonical("64Ki"), "64Ki");
        assert_eq!(canonical("1024Mi"), "1Gi");
        assert_eq!(canonical("1.5Gi"), "1536Mi");
        assert_eq!(canonical("0.5Ki"), "512");
        assert_eq!(canonical("10Mi"), "10Mi");
        assert_eq!(canonical("1000k"), "1M");
        assert_eq!(canonical("1500000"), "1500k");
        assert_eq!(canonical("0.5"), "500m");
        assert_eq!(canonical("1000e3"), "1e6");
        assert_eq!(canonical("0"), "0");
    }

    #[test]
    fn sum_keeps_the_first_format() {
        let sum = Quantity::parse("64Ki")
            .unwrap()
            .plus(&Quantity::parse("64000").unwrap());
        assert_eq!(sum.value(), 65_536 + 64_000);
        assert_eq!(sum.as_str(), "129536");
        let sum = Quantity::parse("512Ki")
            .unwrap()
            .plus(&Quantity::parse("512Ki").unwrap());
        assert_eq!(sum.as_str(), "1Mi");
    }

    #[test]
    fn quantity_parses_binary_suffixes_exactly() {
        assert_eq!(milli("128Mi"), 128 * 1024 * 1024 * 1000);
        assert_eq!(milli("1.5Gi"), 1_610_612_736_000);
        assert_eq!(milli("1Ki"), 1_024_000);
        assert_eq!(Quantity::parse("1Ei").unwrap().value(), 1 << 60);
    }

    #[test]
    fn quantity_parses_decimal_suffixes_and_exponents() {
        assert_eq!(milli("500m"), 500);
        assert_eq!(milli("2"), 2000);
        assert_eq!(milli("0.1"), 100);
        assert_eq!(milli(".5"), 500);
        assert_eq!(milli("5."), 5000);
        assert_eq!(milli("1k"), 1_000_000);
        assert_eq!(milli("2e3"), 2_000_000);
        assert_eq!(milli("2E3"), 2_000_000);
        assert_eq!(milli("1E"), 1_000_000_000_000_000_000_000);
        assert_eq!(milli("1e-3"), 1);
        assert_eq!(milli("+3"), 3000);
        assert_eq!(milli("-3"), -3000);
    }

    #[test]
    fn quantity_finer_than_milli_rounds_up() {
        assert_eq!(milli("1n"), 1);
        assert_eq!(milli("1500u"), 2);
        assert_eq!(milli("0.0001"), 1);
        assert_eq!(milli("0n"), 0);
        assert_eq!(milli("1e-30"), 1);
        assert_eq!(Quantity::parse("500m").unwrap().value(), 1);
    }

    /// Found by the `quantity` fuzz target (its own property was wrong,
    /// the parser right): rounding below a milli-unit is away from zero,
    /// as Kubernetes' RoundUp, for negative quantities too.
    #[test]
    fn quantity_negative_fraction_rounds_away_from_zero() {
        assert_eq!(milli("-.9999992205Mi"), -1_048_575_183);
        assert_eq!(milli("-.9999992205Ki"), -1_024_000);
        assert_eq!(milli("-1n"), -1);
    }

    #[test]
    fn quantity_rejects_bad_syntax() {
        for bad in [
            "", "m", "1mi", "1.2.3", "1 Gi", "Gi", "1e", "1e+", "abc", "--1", "1KiB", ".", "1e1000",
        ] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn quantity_too_large_is_an_error_not_a_panic() {
        assert!(Quantity::parse("99999999999999999999999999999999Ei").is_err());
        assert!(Quantity::parse("999999999999999999999Ei").is_err());
        assert!(Quantity::parse("99999999e30").is_err());
    }

    #[test]
    fn quantity_keeps_its_text() {
        assert_eq!(Quantity::parse("1.50Gi").unwrap().to_string(), "1.50Gi");
    }
}
