//! `/proc/<pid>/stat`: when a process started, so that a recorded pid can
//! be told from a recycled one.

/// Start time of process `pid` in clock ticks since boot
/// (`/proc/<pid>/stat` field 22); `None` when `pid` is not positive, the
/// process does not exist, or it is a zombie (dead, not yet reaped).
pub fn process_start_time(pid: i32) -> Option<u64> {
    if pid <= 0 {
        return None;
    }
    start_time_of(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Field 22 of a `stat` line, `None` for a zombie (state `Z` or `X`).
/// The command (field 2) may hold spaces and parentheses: fields are
/// counted after the last `)`, where field 3 (the state) comes first.
fn start_time_of(stat: &str) -> Option<u64> {
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    if matches!(fields.next()?, "Z" | "X") {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_testkit::TempDir;
    use std::os::unix::fs::symlink;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// A `stat` line whose fields 3.. are `state 4 5 … 21 start 23 …`.
    fn stat_line(comm: &str, state: &str, start: u64) -> String {
        let middle: Vec<String> = (4..=21).map(|n| n.to_string()).collect();
        format!("42 ({comm}) {state} {} {start} 23 24\n", middle.join(" "))
    }

    #[test]
    fn a_command_with_spaces_and_parentheses_does_not_shift_the_fields() {
        assert_eq!(start_time_of(&stat_line("cat", "S", 777)), Some(777));
        assert_eq!(
            start_time_of(&stat_line("a) (b c) R 9", "S", 777)),
            Some(777)
        );
        assert_eq!(start_time_of(&stat_line(")", "R", 5)), Some(5));
        assert_eq!(start_time_of(&stat_line("x", "Z", 777)), None);
        assert_eq!(start_time_of(&stat_line("x", "X", 777)), None);
        assert_eq!(start_time_of("42 (truncated) S 1 2"), None);
        assert_eq!(start_time_of(""), None);
    }

    /// Clock ticks since boot now (`/proc/uptime`, at 100 ticks a second,
    /// the `USER_HZ` of every Linux architecture peapod builds for).
    fn ticks_now() -> u64 {
        let uptime = std::fs::read_to_string("/proc/uptime").expect("uptime");
        let seconds: f64 = uptime
            .split_whitespace()
            .next()
            .expect("a field")
            .parse()
            .expect("seconds");
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let ticks = (seconds * 100.0) as u64;
        ticks
    }

    #[test]
    fn this_process_started_before_now_and_keeps_its_start_time() {
        let me = i32::try_from(std::process::id()).expect("pid fits");
        let start = process_start_time(me).expect("own stat");
        assert_eq!(process_start_time(me), Some(start));
        assert!(
            start <= ticks_now() + 1,
            "{start} ticks after boot is in the future"
        );
        assert_eq!(process_start_time(0), None);
        assert_eq!(process_start_time(-1), None);
        assert_eq!(process_start_time(i32::MAX), None, "no such pid");
    }

    #[test]
    fn a_process_named_with_a_parenthesis_and_spaces_then_its_zombie() {
        let dir = TempDir::new("proc-stat");
        let exe = dir.path().join("a) (b c");
        symlink("/bin/sleep", &exe).expect("symlink");
        let before = ticks_now();
        let mut child = Command::new(&exe)
            .arg("0.3")
            .stdout(Stdio::null())
            .spawn()
            .expect("spawned");
        let pid = i32::try_from(child.id()).expect("pid fits");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
        assert!(stat.contains("(a) (b c)"), "{stat}");
        let start = process_start_time(pid).expect("a live child");
        assert!(
            before <= start + 1 && start <= ticks_now() + 1,
            "{before} {start}"
        );
        // Once it exits, unreaped, it is a zombie: no start time.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .expect("a zombie keeps its stat")
            .contains(") Z ")
        {
            assert!(Instant::now() < deadline, "the child did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(process_start_time(pid), None);
        child.wait().expect("reaped");
        assert_eq!(process_start_time(pid), None);
    }
}
