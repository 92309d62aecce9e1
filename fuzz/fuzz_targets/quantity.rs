//! Quantities parse or fail cleanly; what parses is exact: the same text
//! gives the same value, and scaling by a suffix agrees with arithmetic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peapod_spec::Quantity;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(quantity) = Quantity::parse(text) else {
        return;
    };
    assert_eq!(quantity.as_str(), text);
    let milli = quantity.milli_value();
    let value = quantity.value();
    assert!(
        value * 1000 >= milli && value * 1000 - milli < 1000,
        "{text}: {value} vs {milli}"
    );
    // A binary suffix multiplies exactly by 1024 over the next smaller one,
    // when the smaller one is exact: at most 3 decimals, no rounding.
    if let Some(number) = text.strip_suffix("Mi") {
        let decimals = number.split_once('.').map_or(0, |(_, f)| f.len());
        if decimals <= 3
            && let Ok(kibi) = Quantity::parse(&format!("{number}Ki"))
        {
            assert_eq!(kibi.milli_value().checked_mul(1024), Some(milli), "{text}");
        }
    }
});
