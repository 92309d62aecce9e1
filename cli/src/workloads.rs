//! `get deployments|replicasets|statefulsets|daemonsets|jobs [NAME...]`
//! with kubectl's columns, and `delete deployment NAME...`: the workloads
//! `apply` gave to a keeper each (`peapod_runtime::workload`).

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use peapod_runtime::Paths;
use peapod_runtime::workload::{self, WorkloadView};
use peapod_spec::{Pod, PodPhase, WorkloadKind};

use crate::duration::{human_duration, since};
use crate::tabwriter;

/// The workload kind `targets` start with (`deployments`, `job/x`), if any.
pub fn kind_of(targets: &[String]) -> Option<WorkloadKind> {
    let first = targets.first()?;
    WorkloadKind::from_resource(first.split('/').next().unwrap_or(first))
}

/// The pod `arg` names for `logs`, `exec`, `attach` and `port-forward`:
/// `NAME`, `pod/NAME`, or a workload's `TYPE/NAME`, for which kubectl
/// picks one of its pods (a ready one first, then by name), saying
/// `Found N pods, using pod/X` when there are several.
///
/// # Errors
/// A type that is neither pods nor a workload kind; a workload missing
/// or without pods.
pub fn pod_name(paths: &Paths, namespace: &str, arg: &str) -> anyhow::Result<String> {
    let one = vec![arg.to_owned()];
    let Some(kind) = arg.contains('/').then(|| kind_of(&one)).flatten() else {
        return Ok(crate::resource_args::pod_name(arg)?.to_owned());
    };
    let name = names(&one).pop().unwrap_or_default();
    let view = workload::list(paths, Some(namespace), Some(kind))?
        .into_iter()
        .find(|v| v.record.workload.name() == name)
        .ok_or_else(|| {
            anyhow::anyhow!(crate::error_message::workload_not_found(
                kind.resource(),
                &name
            ))
        })?;
    let mut pods: Vec<&Pod> = view.pods.iter().collect();
    pods.sort_by_key(|p| (!is_ready(p), p.metadata.name.clone()));
    let first = pods
        .first()
        .and_then(|p| p.metadata.name.clone())
        .ok_or_else(|| anyhow::anyhow!("{}/{name} has no pods", kind.resource()))?;
    if pods.len() > 1 {
        eprintln!("Found {} pods, using pod/{first}", pods.len());
    }
    Ok(first)
}

/// The kind and the names of `targets` (`TYPE NAME...` or
/// `TYPE/NAME...`), one name at least (`scale`, `rollout`).
///
/// # Errors
/// A type that is not a workload kind; no name.
pub fn kind_and_names(targets: &[String]) -> anyhow::Result<(WorkloadKind, Vec<String>)> {
    let first = targets.first().map_or("", String::as_str);
    let resource = first.split('/').next().unwrap_or(first);
    let kind = kind_of(targets)
        .ok_or_else(|| anyhow::anyhow!("the server doesn't have a resource type \"{resource}\""))?;
    let names = names(targets);
    if names.is_empty() {
        anyhow::bail!("resource(s) were provided, but no name was specified");
    }
    Ok((kind, names))
}

/// The names of `targets` (`TYPE NAME...` or `TYPE/NAME...`).
fn names(targets: &[String]) -> Vec<String> {
    if targets.first().is_some_and(|t| t.contains('/')) {
        targets
            .iter()
            .filter_map(|t| t.split_once('/').map(|(_, n)| n.to_owned()))
            .collect()
    } else {
        targets.iter().skip(1).cloned().collect()
    }
}

/// `get` of workloads.
pub fn get(
    kind: WorkloadKind,
    targets: &[String],
    output: Option<&str>,
    (namespace, all_namespaces): (&str, bool),
    prefixed: bool,
    paths: &Paths,
) -> anyhow::Result<ExitCode> {
    let names = names(targets);
    let ns = (!all_namespaces).then_some(namespace);
    let views: Vec<WorkloadView> = workload::list(paths, ns, Some(kind))?
        .into_iter()
        .filter(|v| names.is_empty() || names.iter().any(|n| n == v.record.workload.name()))
        .collect();
    let mut out = crate::stdout::stdout();
    match output {
        None | Some("wide") => {
            if !views.is_empty() {
                let rows = table(kind, &views, all_namespaces, prefixed);
                for line in tabwriter::table(&rows).lines() {
                    writeln!(out, "{}", line.trim_end())?;
                }
            } else if names.is_empty() {
                eprintln!("{}", crate::get::no_resources(ns));
            }
        }
        Some("name") => {
            for v in &views {
                writeln!(out, "{}/{}", kind.resource(), v.record.workload.name())?;
            }
        }
        Some(format @ ("json" | "yaml")) => {
            let docs: Vec<serde_json::Value> = views.iter().map(document).collect();
            let doc = if names.len() == 1 && docs.len() == 1 {
                docs.into_iter().next().unwrap_or_default()
            } else {
                serde_json::json!({"apiVersion": "v1", "kind": "List", "items": docs, "metadata": {"resourceVersion": ""}})
            };
            if format == "json" {
                writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
            } else {
                write!(out, "{}", serde_saphyr::to_string(&doc)?)?;
            }
        }
        Some(other) => bail!(
            "unable to match a printer suitable for the output format {other:?}, allowed formats are: json,name,wide,yaml"
        ),
    }
    let mut code = ExitCode::SUCCESS;
    for name in names
        .iter()
        .filter(|n| !views.iter().any(|v| v.record.workload.name() == n.as_str()))
    {
        eprintln!(
            "{}",
            crate::error_message::workload_not_found(kind.resource(), name)
        );
        code = ExitCode::FAILURE;
    }
    Ok(code)
}

/// The workload as kubectl prints it: its document with uid, creation
/// time and status.
fn document(view: &WorkloadView) -> serde_json::Value {
    let mut doc = serde_json::to_value(&view.record.workload).unwrap_or_default();
    doc["apiVersion"] = view.record.workload.workload_kind().api_version().into();
    doc["metadata"]["uid"] = view.record.uid.clone().into();
    doc["metadata"]["creationTimestamp"] = view.record.creation_timestamp.clone().into();
    let counts = Counts::of(view);
    doc["status"] = match &view.job {
        Some(job) => serde_json::to_value(job).unwrap_or_default(),
        None => serde_json::json!({
            "replicas": counts.current,
            "readyReplicas": counts.ready,
            "availableReplicas": counts.ready,
            "updatedReplicas": counts.updated,
        }),
    };
    doc
}

/// Whether `pod`'s Ready condition is true.
fn is_ready(pod: &Pod) -> bool {
    pod.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    })
}

/// The pods of a workload, counted as its status counts them.
pub struct Counts {
    /// The pods it is to keep.
    pub desired: u32,
    /// Its pods pending or running.
    pub current: usize,
    /// Those ready.
    pub ready: usize,
    /// Those of its current template.
    pub updated: usize,
}

impl Counts {
    /// The counts of `view`.
    pub fn of(view: &WorkloadView) -> Self {
        let workload = &view.record.workload;
        let (key, revision) = workload::revision_label(workload);
        let live: Vec<&Pod> = view
            .pods
            .iter()
            .filter(|p| {
                matches!(
                    p.status.as_ref().and_then(|s| s.phase),
                    Some(PodPhase::Pending | PodPhase::Running)
                )
            })
            .collect();
        let ready = live.iter().filter(|p| is_ready(p)).count();
        let updated = live
            .iter()
            .filter(|p| p.metadata.labels.get(key) == Some(&revision))
            .count();
        Self {
            desired: workload.replicas(),
            current: live.len(),
            ready,
            updated,
        }
    }
}

/// `prefixed`: names as `KIND.GROUP/NAME` (`get all`, several kinds).
fn table(
    kind: WorkloadKind,
    views: &[WorkloadView],
    namespaces: bool,
    prefixed: bool,
) -> Vec<Vec<String>> {
    let header: &[&str] = match kind {
        WorkloadKind::Deployment => &["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        WorkloadKind::ReplicaSet => &["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
        WorkloadKind::StatefulSet => &["NAME", "READY", "AGE"],
        WorkloadKind::DaemonSet => &[
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "NODE SELECTOR",
            "AGE",
        ],
        WorkloadKind::Job => &["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
    };
    let mut rows = vec![];
    let mut first = vec![];
    if namespaces {
        first.push("NAMESPACE".to_owned());
    }
    first.extend(header.iter().map(ToString::to_string));
    rows.push(first);
    for view in views {
        let workload = &view.record.workload;
        let c = Counts::of(view);
        let age = since(&view.record.creation_timestamp);
        let mut row = vec![];
        if namespaces {
            row.push(workload.namespace().to_owned());
        }
        row.push(if prefixed {
            format!("{}/{}", kind.resource(), workload.name())
        } else {
            workload.name().to_owned()
        });
        match kind {
            WorkloadKind::Deployment => row.extend([
                format!("{}/{}", c.ready, c.desired),
                c.updated.to_string(),
                c.ready.to_string(),
                age,
            ]),
            WorkloadKind::ReplicaSet => row.extend([
                c.desired.to_string(),
                c.current.to_string(),
                c.ready.to_string(),
                age,
            ]),
            WorkloadKind::StatefulSet => row.extend([format!("{}/{}", c.ready, c.desired), age]),
            // nodeSelector is a cluster field peapod does not keep.
            WorkloadKind::DaemonSet => row.extend([
                c.desired.to_string(),
                c.current.to_string(),
                c.ready.to_string(),
                c.updated.to_string(),
                c.ready.to_string(),
                "<none>".to_owned(),
                age,
            ]),
            WorkloadKind::Job => {
                let job = view.job.clone().unwrap_or_default();
                let status = job
                    .conditions
                    .first()
                    .map_or("Running", |c| c.type_.as_str());
                let duration = match (&job.start_time, &job.completion_time) {
                    (Some(start), Some(end)) => {
                        let secs = |t: &str| {
                            peapod_runtime::Timestamp::parse_rfc3339(t)
                                .map_or(0, peapod_runtime::Timestamp::unix_seconds)
                        };
                        human_duration(secs(end).saturating_sub(secs(start)))
                    }
                    (Some(start), None) => since(start),
                    _ => String::new(),
                };
                row.extend([
                    status.to_owned(),
                    format!("{}/{}", job.succeeded, workload.completions()),
                    duration,
                    age,
                ]);
            }
        }
        rows.push(row);
    }
    rows
}

/// `delete KIND NAME...`: each workload, its keeper and its pods.
pub fn delete(
    kind: WorkloadKind,
    targets: &[String],
    namespace: &str,
    grace_period: Option<u64>,
    ignore_not_found: bool,
    paths: &Paths,
) -> anyhow::Result<ExitCode> {
    let names = names(targets);
    if names.is_empty() {
        bail!("resource(s) were provided, but no name was specified");
    }
    let mut code = ExitCode::SUCCESS;
    for name in names {
        match workload::delete(paths, kind, namespace, &name, grace_period) {
            Ok(()) => writeln!(
                crate::stdout::stdout(),
                "{} \"{name}\" deleted",
                kind.resource()
            )?,
            Err(peapod_runtime::Error::NotFound { .. }) if ignore_not_found => {}
            Err(peapod_runtime::Error::NotFound { .. }) => {
                eprintln!(
                    "{}",
                    crate::error_message::workload_not_found(kind.resource(), &name)
                );
                code = ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("{}", crate::error_message::of_runtime(&e));
                code = ExitCode::FAILURE;
            }
        }
    }
    Ok(code)
}
