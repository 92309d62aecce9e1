//! `peapod scale deployment/NAME --replicas=N` (ReplicaSets and
//! StatefulSets too): the workload's `replicas` changed as a re-apply of
//! its manifest would change it (`workload::apply`; its keeper makes or
//! stops the pods), said as kubectl says it.

use std::process::ExitCode;

use anyhow::{Context, bail};
use peapod_runtime::{Paths, workload};
use peapod_spec::WorkloadKind;

/// Set how many pods a workload keeps.
#[derive(Debug, clap::Args)]
pub struct ScaleArgs {
    /// `deployment/NAME...` or `deployment NAME...` (`replicaset`,
    /// `statefulset`, their short names).
    #[arg(required = true, value_name = "TYPE[/NAME]")]
    targets: Vec<String>,
    /// The pods to keep.
    #[arg(long, value_name = "N", required = true)]
    replicas: u32,
    /// Only when the workload keeps this many now (kubectl's precondition).
    #[arg(long, value_name = "N")]
    current_replicas: Option<u32>,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
}

/// The kind and names of `targets`: the kinds that scale.
fn kind_and_names(targets: &[String]) -> anyhow::Result<(WorkloadKind, Vec<String>)> {
    let (kind, names) = crate::workloads::kind_and_names(targets)?;
    if matches!(kind, WorkloadKind::DaemonSet | WorkloadKind::Job) {
        bail!(
            "no scaler has been implemented for {:?}: a DaemonSet keeps one pod on this host, a Job its parallelism",
            kind.resource()
        );
    }
    Ok((kind, names))
}

/// Runs `scale`: `deployment.apps/NAME scaled` for each.
///
/// # Errors
/// A kind that does not scale; a workload missing; a failed precondition.
pub fn run(args: &ScaleArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let (kind, names) = kind_and_names(&args.targets)?;
    let exe = std::env::current_exe().context("finding the peapod binary")?;
    let views = workload::list(paths, Some(&args.namespace), Some(kind))?;
    let mut code = ExitCode::SUCCESS;
    for name in &names {
        let Some(view) = views.iter().find(|v| v.record.workload.name() == name) else {
            eprintln!(
                "{}",
                crate::error_message::workload_not_found(kind.resource(), name)
            );
            code = ExitCode::FAILURE;
            continue;
        };
        let now = view.record.workload.replicas();
        if let Some(expected) = args.current_replicas
            && expected != now
        {
            eprintln!("error: Expected replicas to be {expected}, was {now}");
            code = ExitCode::FAILURE;
            continue;
        }
        let mut scaled = view.record.workload.clone();
        scaled.spec.replicas = Some(i32::try_from(args.replicas).context("--replicas")?);
        workload::apply(paths, &exe, scaled, view.record.config.clone())?;
        println!("{}/{name} scaled", kind.resource());
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource_args::strings;

    #[test]
    fn both_forms_name_the_workloads_and_daemonsets_do_not_scale() {
        let (kind, names) = kind_and_names(&strings(&["deploy/a", "deploy/b"])).expect("ok");
        assert_eq!(
            (kind, names),
            (WorkloadKind::Deployment, strings(&["a", "b"]))
        );
        let (kind, names) = kind_and_names(&strings(&["sts", "db"])).expect("ok");
        assert_eq!((kind, names), (WorkloadKind::StatefulSet, strings(&["db"])));
        assert!(kind_and_names(&strings(&["ds/x"])).is_err());
        assert!(kind_and_names(&strings(&["svc/x"])).is_err());
        assert!(kind_and_names(&strings(&["deploy"])).is_err());
    }
}
