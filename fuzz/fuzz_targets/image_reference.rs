//! Image reference parsing: never panics, and whatever parses prints back
//! to a reference that parses to the same thing (normalisation is stable).
#![no_main]

use libfuzzer_sys::fuzz_target;
use peapod_image::Reference;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = Reference::parse(s) {
        let printed = r.to_string();
        let again = Reference::parse(&printed).expect("a printed reference parses");
        assert_eq!(again, r, "{s:?} -> {printed:?}");
        assert_eq!(again.to_string(), printed);
    }
});
