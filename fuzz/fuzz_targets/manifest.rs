//! Any text given to the manifest parser gives pods or diagnostics, never
//! a panic; whatever parses must round-trip through YAML unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peapod_spec::{Context, ValidationMode, parse_manifest, parse_manifest_with};

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    for mode in [ValidationMode::Strict, ValidationMode::Ignore] {
        match parse_manifest(source, "fuzz.yaml", mode) {
            Ok(manifest) => {
                for pod in &manifest.pods {
                    let yaml = peapod_spec::to_yaml(pod).expect("a parsed pod serializes");
                    let context = Context {
                        config_maps: &manifest.config_maps,
                        secrets: &manifest.secrets,
                        references_checked: false,
                    };
                    let again =
                        parse_manifest_with(&yaml, "again.yaml", ValidationMode::Strict, context)
                            .expect("a serialized pod parses");
                    assert_eq!(&again.pods[0], pod, "round trip changed the pod:\n{yaml}");
                }
            }
            Err(diagnostics) => {
                assert!(!diagnostics.errors.is_empty());
                for error in &diagnostics.errors {
                    assert!(error.position.line >= 1, "{error}");
                }
            }
        }
    }
});
