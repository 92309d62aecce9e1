//! A network namespace's interface counters, as `/proc/<pid>/net/dev`
//! shows them for the namespace process `pid` is in (the counters the
//! kubelet reports as a pod's network usage).

use crate::error::{Error, Result};

/// One interface's cumulative counters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InterfaceStats {
    /// The interface's name in its namespace (`eth0`).
    pub name: String,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Transmit errors.
    pub tx_errors: u64,
}

/// The interfaces of the network namespace of process `pid`, loopback
/// left out.
pub(crate) fn read(pid: i32) -> Result<Vec<InterfaceStats>> {
    let path = format!("/proc/{pid}/net/dev");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    Ok(parse(&text)
        .into_iter()
        .filter(|i| i.name != "lo")
        .collect())
}

/// The table of `/proc/net/dev`: two heading lines, then `name:` and 16
/// counters (8 received, 8 sent: bytes, packets, errs, drop, ...).
fn parse(text: &str) -> Vec<InterfaceStats> {
    text.lines()
        .filter_map(|line| {
            let (name, counters) = line.split_once(':')?;
            let n: Vec<u64> = counters
                .split_whitespace()
                .map(str::parse)
                .collect::<std::result::Result<_, _>>()
                .ok()?;
            (n.len() >= 16).then(|| InterfaceStats {
                name: name.trim().to_owned(),
                rx_bytes: n[0],
                rx_errors: n[2],
                tx_bytes: n[8],
                tx_errors: n[10],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_dev_counters_of_each_interface_after_the_headings() {
        let text = "\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     140       2    0    0    0     0          0         0      140       2    0    0    0     0       0          0
  eth0:    4406      41    3    0    0     0          0         0     1426      15    5    0    0     0       0          0
";
        let all = parse(text);
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[1],
            InterfaceStats {
                name: "eth0".into(),
                rx_bytes: 4406,
                rx_errors: 3,
                tx_bytes: 1426,
                tx_errors: 5,
            }
        );
    }
}
