//! `peapod top pod [NAME] [--containers]`: kubectl's CPU(cores) in
//! millicores and MEMORY(bytes) in Mi, from the cgroup counters of each
//! running container (the engine's [`peapod_runtime::engine::stats`]).
//! The CPU is a rate: two readings a second apart, as metrics-server
//! computes it from two scrapes; the memory is the working set.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::bail;
use peapod_runtime::PodKey;
use peapod_runtime::engine::{self, ContainerStats};
use peapod_runtime::{Paths, pod::inspect};
use peapod_spec::Pod;

use crate::tabwriter;

/// How far apart the two CPU readings are.
const WINDOW: Duration = Duration::from_secs(1);

/// Show the CPU and memory pods use.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    # Every pod of the default namespace\n  peapod top pod\n\n  \
    # One pod, a line per container\n  peapod top pod web --containers")]
pub struct TopArgs {
    /// `pod` (`pods`, `po`) or `node` (this host).
    #[arg(value_name = "TYPE")]
    kind: String,
    /// The pod (every pod of the namespace when not given), or the node.
    #[arg(value_name = "NAME")]
    name: Option<String>,
    /// A line per container.
    #[arg(long)]
    containers: bool,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    /// Pods of every namespace.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
}

/// A running container: its pod and name, its pod's uid.
struct Running {
    namespace: String,
    pod: String,
    uid: String,
    container: String,
}

/// Runs `top`.
pub fn run(args: &TopArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    if matches!(
        args.kind.to_ascii_lowercase().as_str(),
        "node" | "nodes" | "no"
    ) {
        return crate::top_node::run(args.name.as_deref(), WINDOW);
    }
    if !matches!(
        args.kind.to_ascii_lowercase().as_str(),
        "pod" | "pods" | "po"
    ) {
        bail!(
            "top {:?}: pods and the node are measured (`peapod top pod`, `peapod top node`)",
            args.kind
        );
    }
    let pods = match &args.name {
        Some(name) => {
            let name = crate::resource_args::pod_name(name)?;
            vec![inspect::get(paths, &PodKey::new(&args.namespace, name))?]
        }
        None => inspect::list(paths, (!args.all_namespaces).then_some(&*args.namespace))?,
    };
    let running: Vec<Running> = pods.iter().flat_map(running_containers).collect();
    if running.is_empty() {
        if let Some(name) = &args.name {
            bail!("metrics not available yet: pod {name:?} has no running container");
        }
        let ns = (!args.all_namespaces).then_some(args.namespace.as_str());
        eprintln!("{}", crate::get::no_resources(ns));
        return Ok(ExitCode::SUCCESS);
    }
    let first = read_all(paths, &running);
    let start = Instant::now();
    std::thread::sleep(WINDOW);
    let second = read_all(paths, &running);
    let elapsed = start.elapsed();
    // (cpu millicores, memory bytes) a container; one that stopped in
    // between is left out, as metrics-server leaves it.
    let usage: Vec<Option<(u64, u64)>> = first
        .iter()
        .zip(&second)
        .map(|(a, b)| match (a, b) {
            (Some(a), Some(b)) => Some((millicores(a, b, elapsed), b.memory_working_set_bytes)),
            _ => None,
        })
        .collect();
    let mut rows = vec![header(args)];
    if args.containers {
        for (c, u) in running.iter().zip(&usage) {
            if let Some((cpu, mem)) = u {
                let mut row = vec![
                    c.pod.clone(),
                    c.container.clone(),
                    cores(*cpu),
                    mebibytes(*mem),
                ];
                if args.all_namespaces {
                    row.insert(0, c.namespace.clone());
                }
                rows.push(row);
            }
        }
    } else {
        let mut i = 0;
        while i < running.len() {
            let (ns, pod) = (&running[i].namespace, &running[i].pod);
            let mut total = None::<(u64, u64)>;
            while i < running.len() && running[i].pod == *pod && running[i].namespace == *ns {
                if let Some((cpu, mem)) = usage[i] {
                    let (c, m) = total.unwrap_or_default();
                    total = Some((c + cpu, m + mem));
                }
                i += 1;
            }
            if let Some((cpu, mem)) = total {
                let mut row = vec![pod.clone(), cores(cpu), mebibytes(mem)];
                if args.all_namespaces {
                    row.insert(0, ns.clone());
                }
                rows.push(row);
            }
        }
    }
    let mut out = crate::stdout::stdout();
    write!(out, "{}", tabwriter::table(&rows))?;
    Ok(ExitCode::SUCCESS)
}

/// kubectl's header.
fn header(args: &TopArgs) -> Vec<String> {
    let mut h: Vec<&str> = Vec::new();
    if args.all_namespaces {
        h.push("NAMESPACE");
    }
    h.extend(if args.containers {
        &["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"][..]
    } else {
        &["NAME", "CPU(cores)", "MEMORY(bytes)"][..]
    });
    h.into_iter().map(str::to_owned).collect()
}

/// The running containers of `pod` (sidecars included), in status order.
fn running_containers(pod: &Pod) -> Vec<Running> {
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let namespace = pod
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let name = pod.metadata.name.clone().unwrap_or_default();
    pod.status
        .iter()
        .flat_map(|s| {
            s.init_container_statuses
                .iter()
                .chain(&s.container_statuses)
        })
        .filter(|s| s.state.running.is_some())
        .map(|s| Running {
            namespace: namespace.clone(),
            pod: name.clone(),
            uid: uid.clone(),
            container: s.name.clone(),
        })
        .collect()
}

/// Each container's reading; `None` for one that is gone.
fn read_all(paths: &Paths, running: &[Running]) -> Vec<Option<ContainerStats>> {
    running
        .iter()
        .map(|c| engine::stats(paths, &c.uid, &c.container).ok())
        .collect()
}

/// The CPU rate between two readings, in millicores.
fn millicores(a: &ContainerStats, b: &ContainerStats, elapsed: Duration) -> u64 {
    let used = u128::from(b.cpu_usage_ns.saturating_sub(a.cpu_usage_ns));
    let nanos = elapsed.as_nanos().max(1);
    u64::try_from(used * 1000 / nanos).unwrap_or(u64::MAX)
}

/// kubectl's `%vm`.
fn cores(millicores: u64) -> String {
    format!("{millicores}m")
}

/// kubectl's `%vMi` (whole mebibytes, rounded down).
fn mebibytes(bytes: u64) -> String {
    format!("{}Mi", bytes / (1024 * 1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_millicores_of_the_window() {
        let a = ContainerStats {
            cpu_usage_ns: 1_000_000_000,
            ..ContainerStats::default()
        };
        let b = ContainerStats {
            cpu_usage_ns: 1_500_000_000,
            ..ContainerStats::default()
        };
        assert_eq!(millicores(&a, &b, Duration::from_secs(1)), 500);
        assert_eq!(cores(500), "500m");
        assert_eq!(mebibytes(20 * 1024 * 1024 + 5), "20Mi");
    }
}
