//! The fast block-style YAML reader of the spec crate reads, whenever it
//! reads a text at all, the very tree (values and positions) that the full
//! parser (granit-parser's events, serde-saphyr) reads.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(agrees) = peapod_spec::fast_path_agrees(source) {
        assert!(agrees, "the fast path reads this text differently:\n{source}");
    }
});
