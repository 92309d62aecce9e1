//! The node of every pod: this host.

/// This host's name (`/proc/sys/kernel/hostname`), what `get -o wide`
/// and `describe` show as the pod's node; empty when it cannot be read.
pub fn name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}
