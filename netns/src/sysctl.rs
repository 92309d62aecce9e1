//! The few sysctls pod networking needs on (`ip_forward`, and
//! `route_localnet` on the bridge).

use std::path::Path;

use crate::error::{Error, Result};

/// Writes `1` to a sysctl under `/proc/sys`.
pub(crate) fn enable_sysctl(path: &str) -> Result<()> {
    let path = Path::new("/proc/sys").join(path);
    if std::fs::read_to_string(&path).is_ok_and(|v| v.trim() == "1") {
        return Ok(());
    }
    std::fs::write(&path, "1").map_err(|e| Error::file(path, e))
}
