//! Signal names as Kubernetes takes them in `lifecycle.stopSignal`, with
//! their Linux numbers.

/// The named signals and their numbers on Linux (`signal(7)`).
const NAMED: &[(&str, i32)] = &[
    ("SIGHUP", 1),
    ("SIGINT", 2),
    ("SIGQUIT", 3),
    ("SIGILL", 4),
    ("SIGTRAP", 5),
    ("SIGABRT", 6),
    ("SIGIOT", 6),
    ("SIGBUS", 7),
    ("SIGFPE", 8),
    ("SIGKILL", 9),
    ("SIGUSR1", 10),
    ("SIGSEGV", 11),
    ("SIGUSR2", 12),
    ("SIGPIPE", 13),
    ("SIGALRM", 14),
    ("SIGTERM", 15),
    ("SIGSTKFLT", 16),
    ("SIGCHLD", 17),
    ("SIGCLD", 17),
    ("SIGCONT", 18),
    ("SIGSTOP", 19),
    ("SIGTSTP", 20),
    ("SIGTTIN", 21),
    ("SIGTTOU", 22),
    ("SIGURG", 23),
    ("SIGXCPU", 24),
    ("SIGXFSZ", 25),
    ("SIGVTALRM", 26),
    ("SIGPROF", 27),
    ("SIGWINCH", 28),
    ("SIGIO", 29),
    ("SIGPOLL", 29),
    ("SIGPWR", 30),
    ("SIGSYS", 31),
];

/// `SIGRTMIN` as glibc and musl number it (the kernel's 32 and 33 are the
/// C library's own), and `SIGRTMAX`.
const RTMIN: i32 = 34;
const RTMAX: i32 = 64;

/// The Linux number of a signal Kubernetes names (`SIGTERM`, `SIGUSR1`,
/// `SIGRTMIN+3`, `SIGRTMAX-2`); `None` for any other text.
pub fn signal_number(name: &str) -> Option<i32> {
    if let Some(&(_, n)) = NAMED.iter().find(|(s, _)| *s == name) {
        return Some(n);
    }
    let offset = |rest: &str, range: std::ops::RangeInclusive<i32>| {
        rest.parse::<i32>().ok().filter(|n| range.contains(n))
    };
    match name {
        "SIGRTMIN" => Some(RTMIN),
        "SIGRTMAX" => Some(RTMAX),
        _ => {
            if let Some(rest) = name.strip_prefix("SIGRTMIN+") {
                offset(rest, 1..=15).map(|n| RTMIN + n)
            } else {
                let rest = name.strip_prefix("SIGRTMAX-")?;
                offset(rest, 1..=14).map(|n| RTMAX - n)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::signal_number;

    #[test]
    fn kubernetes_signal_names_map_to_linux_numbers() {
        assert_eq!(signal_number("SIGTERM"), Some(15));
        assert_eq!(signal_number("SIGUSR1"), Some(10));
        assert_eq!(signal_number("SIGRTMIN+1"), Some(35));
        assert_eq!(signal_number("SIGRTMAX-1"), Some(63));
        assert_eq!(signal_number("TERM"), None);
        assert_eq!(signal_number("SIGRTMIN+16"), None);
        assert_eq!(signal_number("15"), None);
    }
}
