//! Host ports (`ports[].hostPort`) by kernel DNAT, and the egress
//! masquerade of the pod subnet, as nftables rules applied with the `nft`
//! binary (one atomic `nft -f -` transaction per change).
//!
//! Layout, in table `ip <table>` (`peapod` by default):
//! - chain `postrouting` (nat, srcnat): masquerade of the pod subnet to
//!   outside addresses; of a pod reaching another pod through a host
//!   port (hairpin: without it the answer would go straight back over
//!   the bridge, bypassing the un-DNAT); and of host-loopback sources
//!   DNATed to a pod (127.0.0.1:hostPort), whose replies must come back
//!   to the host. Plain pod-to-pod traffic keeps its pod IP source;
//! - per pod, chains `pod_<id>_pre` (nat, prerouting) and
//!   `pod_<id>_out` (nat, output) holding its DNAT rules, so removing a
//!   pod's rules is deleting its two chains.
//!
//! Where `nft` is missing, the masquerade is skipped with a warning, and
//! a pod asking for a host port is refused ([`crate::Network::reserve`]):
//! a pod must never run believing its port is forwarded when it is not.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};
use crate::host_ports::HostPort;
use crate::subnet::Ipv4Subnet;

/// Where `nft` is looked for when the configuration names no binary:
/// `PATH`, then these.
pub(crate) const NFT_SEARCHED: &str = "PATH, /usr/sbin, /sbin";

/// The nftables side: the table name and the `nft` binary, if found.
#[derive(Debug, Clone)]
pub(crate) struct Nft {
    table: String,
    program: Option<PathBuf>,
}

impl Nft {
    /// Uses the binary `program` when given (it must be a file), else
    /// looks for `nft` on `PATH` (and in `/usr/sbin`, `/sbin`); without
    /// running it.
    pub(crate) fn new(table: &str, program: Option<&Path>) -> Self {
        let program = if let Some(given) = program {
            given.is_file().then(|| given.to_owned())
        } else {
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path)
                .chain(["/usr/sbin".into(), "/sbin".into()])
                .map(|dir| dir.join("nft"))
                .find(|candidate| candidate.is_file())
        };
        if program.is_none() {
            tracing::warn!(
                "nft not found: pods get no egress masquerade and pods with a hostPort are refused"
            );
        }
        Self {
            table: table.to_owned(),
            program,
        }
    }

    pub(crate) fn available(&self) -> bool {
        self.program.is_some()
    }

    /// Runs a script through `nft -f -`; a warning and no error without
    /// nft (callers that need the rules check [`Nft::available`] first).
    pub(crate) fn apply(&self, what: &str, script: &str) -> Result<()> {
        let Some(program) = &self.program else {
            tracing::warn!("nft not found: skipping {what}");
            return Ok(());
        };
        tracing::debug!(what, script, "nft");
        let spawn_error = |e: std::io::Error| Error::Nft {
            what: what.to_owned(),
            stderr: e.to_string(),
        };
        let mut child = Command::new(program)
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(script.as_bytes()).map_err(spawn_error)?;
        }
        let output = child.wait_with_output().map_err(spawn_error)?;
        if output.status.success() {
            Ok(())
        } else {
            Err(Error::Nft {
                what: what.to_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            })
        }
    }

    /// The table and its `postrouting` chain, rewritten whole
    /// (idempotent): the hairpin and host-loopback rules host ports need,
    /// and with `egress` the masquerade of the pod subnet to outside.
    pub(crate) fn postrouting_script(
        &self,
        subnet: Ipv4Subnet,
        bridge: &str,
        egress: bool,
    ) -> String {
        let t = &self.table;
        let mut script = format!(
            "add table ip {t}\n\
add chain ip {t} postrouting {{ type nat hook postrouting priority srcnat; policy accept; }}\n\
flush chain ip {t} postrouting\n\
add rule ip {t} postrouting ip saddr {subnet} ip daddr {subnet} ct status dnat masquerade\n\
add rule ip {t} postrouting oifname \"{bridge}\" ip saddr 127.0.0.0/8 masquerade\n"
        );
        if egress {
            let _ = writeln!(
                script,
                "add rule ip {t} postrouting ip saddr {subnet} ip daddr != {subnet} masquerade"
            );
        }
        script
    }

    /// The pod's two DNAT chains with one rule per host port in each.
    pub(crate) fn pod_script(&self, chain: &str, pod_ip: Ipv4Addr, ports: &[HostPort]) -> String {
        let t = &self.table;
        let mut script = format!(
            "add table ip {t}\n\
add chain ip {t} {chain}_pre {{ type nat hook prerouting priority dstnat; policy accept; }}\n\
add chain ip {t} {chain}_out {{ type nat hook output priority -100; policy accept; }}\n\
flush chain ip {t} {chain}_pre\n\
flush chain ip {t} {chain}_out\n"
        );
        for port in ports {
            let destination = if port.host_ip.is_unspecified() {
                "fib daddr type local".to_owned()
            } else {
                format!("ip daddr {}", port.host_ip)
            };
            for hook in ["pre", "out"] {
                let _ = writeln!(
                    script,
                    "add rule ip {t} {chain}_{hook} {destination} {proto} dport {host} dnat to {pod_ip}:{container}",
                    proto = port.protocol.nft(),
                    host = port.host_port,
                    container = port.container_port,
                );
            }
        }
        script
    }

    /// Deletes the pod's chains; harmless when they do not exist (each is
    /// first added, so the delete always finds it).
    pub(crate) fn remove_pod_script(&self, chain: &str) -> String {
        let t = &self.table;
        let mut script = format!("add table ip {t}\n");
        for hook in ["pre", "out"] {
            let _ = write!(
                script,
                "add chain ip {t} {chain}_{hook}\nflush chain ip {t} {chain}_{hook}\ndelete chain ip {t} {chain}_{hook}\n"
            );
        }
        script
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_ports::Protocol;
    use std::net::IpAddr;

    fn nft() -> Nft {
        Nft {
            table: "peapod".into(),
            program: Some("nft".into()),
        }
    }

    #[test]
    fn pod_script_dnats_all_local_addresses_in_both_hooks() {
        let script = nft().pod_script(
            "pod_1",
            Ipv4Addr::new(10, 77, 0, 2),
            &[HostPort::tcp(8001, 8080)],
        );
        assert!(script.contains(
            "add rule ip peapod pod_1_pre fib daddr type local tcp dport 8001 dnat to 10.77.0.2:8080\n"
        ));
        assert!(script.contains(
            "add rule ip peapod pod_1_out fib daddr type local tcp dport 8001 dnat to 10.77.0.2:8080\n"
        ));
    }

    #[test]
    fn pod_script_honours_host_ip_and_udp() {
        let port = HostPort {
            protocol: Protocol::Udp,
            host_ip: IpAddr::from([127, 0, 0, 1]),
            host_port: 5353,
            container_port: 53,
        };
        let script = nft().pod_script("pod_1", Ipv4Addr::new(10, 77, 0, 2), &[port]);
        assert!(
            script.contains("pod_1_pre ip daddr 127.0.0.1 udp dport 5353 dnat to 10.77.0.2:53\n")
        );
    }

    #[test]
    fn remove_pod_script_adds_flushes_then_deletes_each_chain() {
        let script = nft().remove_pod_script("pod_1");
        assert!(script.contains(
            "add chain ip peapod pod_1_out\nflush chain ip peapod pod_1_out\ndelete chain ip peapod pod_1_out\n"
        ));
    }

    #[test]
    fn postrouting_script_without_egress_keeps_host_port_rules_only() {
        let script = nft().postrouting_script("10.77.0.0/16".parse().unwrap(), "peapod0", false);
        assert!(script.contains("ct status dnat masquerade"));
        assert!(script.contains("ip saddr 127.0.0.0/8 masquerade"));
        assert!(!script.contains("ip daddr != 10.77.0.0/16"));
    }

    #[test]
    fn postrouting_script_covers_subnet_and_host_loopback() {
        let script = nft().postrouting_script("10.77.0.0/16".parse().unwrap(), "peapod0", true);
        assert!(script.contains("ip saddr 10.77.0.0/16 ip daddr != 10.77.0.0/16 masquerade"));
        assert!(script.contains("oifname \"peapod0\" ip saddr 127.0.0.0/8 masquerade"));
        assert!(
            script
                .contains("ip saddr 10.77.0.0/16 ip daddr 10.77.0.0/16 ct status dnat masquerade")
        );
    }

    #[test]
    fn missing_nft_degrades_to_a_warning_not_an_error() {
        let nft = Nft::new("peapod", Some(Path::new("/nonexistent/nft")));
        assert!(!nft.available());
        assert!(
            nft.apply("host ports of pod web", "this is not nft syntax")
                .is_ok()
        );
    }
}
