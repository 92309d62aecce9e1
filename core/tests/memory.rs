//! Giving back the executable's clean pages, in a test binary of its own
//! (its one test runs alone).

#[test]
fn trimming_the_executable_lowers_rss_and_the_process_runs_on() {
    fn rss_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .expect("status")
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }
    let before = rss_kib();
    let bytes = peapod_core::trim_executable_pages();
    assert!(bytes > 0, "nothing trimmed");
    let after = rss_kib();
    assert!(
        after < before,
        "Rss {before} KiB did not shrink ({after} KiB)"
    );
    // Code and read-only data come back from the file on use.
    assert_eq!(format!("{}", 6 * 7), "42");
}
