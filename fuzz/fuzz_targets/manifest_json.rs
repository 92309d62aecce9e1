//! Registry and layout JSON: manifests, indexes (manifest lists) and image
//! configs from untrusted bytes never panic, and the linux/amd64 choice of
//! an index always points into it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peapod_image::oci::{ConfigFile, ManifestOrIndex};

fuzz_target!(|data: &[u8]| {
    for content_type in [
        None,
        Some(peapod_image::oci::OCI_INDEX),
        Some(peapod_image::oci::DOCKER_MANIFEST),
    ] {
        if let Ok(ManifestOrIndex::Index(index)) =
            ManifestOrIndex::parse(data, content_type, "fuzz")
        {
            if let Some(d) = index.linux_amd64() {
                assert!(index.manifests.iter().any(|m| std::ptr::eq(m, d)));
            }
        }
    }
    let _ = ConfigFile::parse(data, "fuzz");
});
