//! `peapod top node`: this host as kubectl's `top node` shows a node —
//! CPU(cores) in millicores and CPU(%) of the host's CPUs, from two
//! readings of `/proc/stat` a window apart (metrics-server's rate of two
//! scrapes); MEMORY(bytes) and MEMORY(%) from `/proc/meminfo` (what is in
//! use: `MemTotal - MemAvailable`).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};

use crate::tabwriter;

/// The host's CPU time (`/proc/stat`'s `cpu` line, in ticks): busy and
/// all, and the number of CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CpuTimes {
    busy: u64,
    total: u64,
    cpus: u64,
}

fn cpu_times(stat: &str) -> anyhow::Result<CpuTimes> {
    let mut lines = stat.lines();
    let first = lines
        .next()
        .filter(|l| l.starts_with("cpu "))
        .ok_or_else(|| anyhow!("/proc/stat: no cpu line"))?;
    let ticks: Vec<u64> = first
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .context("/proc/stat: the cpu line")?;
    // user nice system idle iowait irq softirq steal (guest time is
    // counted in user already).
    let total: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
    let cpus = lines
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    Ok(CpuTimes {
        busy: total.saturating_sub(idle),
        total,
        cpus: u64::try_from(cpus.max(1)).unwrap_or(1),
    })
}

/// Millicores used between two readings.
fn millicores(a: CpuTimes, b: CpuTimes) -> u64 {
    let busy = u128::from(b.busy.saturating_sub(a.busy));
    let total = u128::from(b.total.saturating_sub(a.total)).max(1);
    u64::try_from(busy * u128::from(b.cpus) * 1000 / total).unwrap_or(u64::MAX)
}

/// `MemTotal` and what is in use (`MemTotal - MemAvailable`), in bytes.
fn memory(meminfo: &str) -> anyhow::Result<(u64, u64)> {
    let field = |name: &str| -> anyhow::Result<u64> {
        meminfo
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
            .ok_or_else(|| anyhow!("/proc/meminfo: no {name}"))
    };
    let total = field("MemTotal")?;
    Ok((total, total.saturating_sub(field("MemAvailable")?)))
}

fn read(path: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {path}"))
}

/// Runs `top node [NAME]`: NAME is this host's name, the one node.
///
/// # Errors
/// A name other than this host's; `/proc` cannot be read.
pub fn run(name: Option<&str>, window: Duration) -> anyhow::Result<ExitCode> {
    let node = crate::node::name();
    if let Some(asked) = name.map(|n| n.rsplit('/').next().unwrap_or(n))
        && asked != node
    {
        bail!("nodes \"{asked}\" not found: this host is the one node, \"{node}\"");
    }
    let first = cpu_times(&read("/proc/stat")?)?;
    std::thread::sleep(window);
    let second = cpu_times(&read("/proc/stat")?)?;
    let (total, used) = memory(&read("/proc/meminfo")?)?;
    let used_m = millicores(first, second);
    let percent = |part: u128, whole: u128| part * 100 / whole.max(1);
    let rows = vec![
        ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
            .map(str::to_owned)
            .to_vec(),
        vec![
            node,
            format!("{used_m}m"),
            format!(
                "{}%",
                percent(used_m.into(), u128::from(second.cpus) * 1000)
            ),
            format!("{}Mi", used / (1024 * 1024)),
            format!("{}%", percent(used.into(), total.into())),
        ],
    ];
    let mut out = crate::stdout::stdout();
    out.write_all(tabwriter::table(&rows).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\ncpu1 50 0 25 400 25 0 0 0 0 0\nintr 1\n";

    #[test]
    fn busy_time_over_all_time_times_the_cpus_is_the_millicores() {
        let a = cpu_times(STAT).expect("parsed");
        assert_eq!(
            a,
            CpuTimes {
                busy: 150,
                total: 1000,
                cpus: 2
            }
        );
        // 100 busy ticks of 400 on 2 CPUs: half a core.
        let b = CpuTimes {
            busy: 250,
            total: 1400,
            cpus: 2,
        };
        assert_eq!(millicores(a, b), 500);
    }

    #[test]
    fn memory_in_use_is_total_less_available() {
        let info = "MemTotal:        2048 kB\nMemFree:          100 kB\nMemAvailable:     512 kB\n";
        assert_eq!(memory(info).expect("parsed"), (2048 * 1024, 1536 * 1024));
    }
}
