//! `peapod rollout restart|status deployment/NAME` (StatefulSets and
//! DaemonSets too), as kubectl's: `restart` stamps the pod template with
//! `kubectl.kubernetes.io/restartedAt`, so the keeper replaces every pod
//! as for any template change; `status` waits until every pod is of the
//! current template and ready. Revisions (`history`, `undo`) are not
//! kept.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use peapod_runtime::workload::{self, WorkloadView};
use peapod_runtime::{Paths, Timestamp};
use peapod_spec::WorkloadKind;

/// kubectl's annotation of a restart.
const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// What `rollout` does.
#[derive(Debug, clap::Subcommand)]
pub enum RolloutCommand {
    /// Replace every pod of workloads, as a template change does.
    Restart(RolloutArgs),
    /// Wait until every pod of a workload is of its template and ready.
    Status(RolloutStatusArgs),
}

/// The workloads of `rollout`.
#[derive(Debug, clap::Args)]
pub struct RolloutArgs {
    /// `deployment/NAME...` or `deployment NAME...` (`statefulset`,
    /// `daemonset`, their short names).
    #[arg(required = true, value_name = "TYPE[/NAME]")]
    targets: Vec<String>,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
}

/// `rollout status`'s workload and how long to wait.
#[derive(Debug, clap::Args)]
pub struct RolloutStatusArgs {
    #[command(flatten)]
    workload: RolloutArgs,
    /// How long to wait (`0`: as long as it takes).
    #[arg(long, value_name = "DURATION", default_value = "0s")]
    timeout: String,
}

/// Runs `rollout`.
///
/// # Errors
/// A kind without rollouts; a workload missing; the timeout passed.
pub fn run(command: &RolloutCommand, paths: &Paths) -> anyhow::Result<ExitCode> {
    match command {
        RolloutCommand::Restart(args) => restart(args, paths),
        RolloutCommand::Status(args) => status(args, paths),
    }
}

/// The workloads `args` names, as they are now.
fn views(args: &RolloutArgs, paths: &Paths) -> anyhow::Result<(WorkloadKind, Vec<WorkloadView>)> {
    let (kind, names) = crate::workloads::kind_and_names(&args.targets)?;
    if matches!(kind, WorkloadKind::ReplicaSet | WorkloadKind::Job) {
        bail!(
            "no rollout for {:?}: deployments, statefulsets and daemonsets have one",
            kind.resource()
        );
    }
    let all = workload::list(paths, Some(&args.namespace), Some(kind))?;
    let found = names
        .iter()
        .map(|name| {
            all.iter()
                .find(|v| v.record.workload.name() == name)
                .cloned()
                .ok_or_else(|| {
                    anyhow!(crate::error_message::workload_not_found(
                        kind.resource(),
                        name
                    ))
                })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((kind, found))
}

fn restart(args: &RolloutArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let (kind, views) = views(args, paths)?;
    let exe = std::env::current_exe().context("finding the peapod binary")?;
    for view in views {
        let mut restarted = view.record.workload.clone();
        restarted
            .spec
            .template
            .metadata
            .annotations
            .insert(RESTARTED_AT.to_owned(), Timestamp::now().rfc3339());
        let name = restarted.name().to_owned();
        workload::apply(paths, &exe, restarted, view.record.config.clone())?;
        println!("{}/{name} restarted", kind.resource());
    }
    Ok(ExitCode::SUCCESS)
}

fn status(args: &RolloutStatusArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let timeout = crate::duration::parse_go(&args.timeout)
        .map_err(|e| anyhow!(e))?
        .duration;
    let deadline = (!timeout.is_zero()).then(|| Instant::now() + timeout);
    let (kind, first) = views(&args.workload, paths)?;
    let noun = kind.resource().split('.').next().unwrap_or_default();
    for name in first.iter().map(|v| v.record.workload.name().to_owned()) {
        let mut said = String::new();
        loop {
            let one = RolloutArgs {
                targets: vec![format!("{noun}/{name}")],
                namespace: args.workload.namespace.clone(),
            };
            let (_, now) = views(&one, paths)?;
            let counts = crate::workloads::Counts::of(&now[0]);
            let desired = counts.desired as usize;
            let line = if counts.updated < desired {
                format!(
                    "Waiting for {noun} {name:?} rollout to finish: {} out of {desired} new replicas have been updated...",
                    counts.updated
                )
            } else if counts.current > desired {
                format!(
                    "Waiting for {noun} {name:?} rollout to finish: {} old replicas are pending termination...",
                    counts.current - desired
                )
            } else if counts.ready < desired {
                format!(
                    "Waiting for {noun} {name:?} rollout to finish: {} of {desired} updated replicas are available...",
                    counts.ready
                )
            } else {
                println!("{noun} {name:?} successfully rolled out");
                break;
            };
            if line != said {
                println!("{line}");
                said = line;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                bail!("timed out waiting for the condition");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(ExitCode::SUCCESS)
}
