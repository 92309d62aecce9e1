//! `peapod get pods` / `peapod get pod NAME -o json|yaml|wide|name`:
//! kubectl's columns and documents.

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use peapod_runtime::state::PodKey;
use peapod_runtime::{Paths, inspect, status};
use peapod_spec::Pod;

use crate::duration::since;
use crate::{node, tabwriter};

/// Show pods.
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// `pods [NAME...]` (`pod`, `po`, any case) or `pod/NAME...`; every
    /// pod of the namespace when no name is given.
    #[arg(required = true, value_name = "TYPE[/NAME]")]
    targets: Vec<String>,
    /// Output: `json`, `yaml`, `wide` or `name`.
    #[arg(short = 'o', long = "output", value_name = "FORMAT")]
    output: Option<String>,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    /// Pods of every namespace.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
}

/// Runs `get`.
pub fn run(args: &GetArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let names = crate::resource_args::pod_names("get", &args.targets)?;
    // The printer first, as kubectl: a bad format is the one error.
    let format = Format::of(args.output.as_deref())?;
    // As kubectl: the pods found are printed, each one missing is an
    // error of its own after them.
    let mut missing = vec![];
    let pods = if names.is_empty() {
        let ns = (!args.all_namespaces).then_some(args.namespace.as_str());
        inspect::list(paths, ns)?
    } else {
        let mut pods = vec![];
        for name in &names {
            match inspect::get(paths, &PodKey::new(&args.namespace, name)) {
                Ok(pod) => pods.push(pod),
                Err(e @ peapod_runtime::Error::NotFound { .. }) => missing.push(e),
                Err(e) => return Err(e.into()),
            }
        }
        pods
    };
    let single = names.len() == 1;
    let mut out = crate::stdout::stdout();
    match format {
        // The one pod asked for is missing: its error alone, as kubectl.
        _ if single && pods.is_empty() => {}
        Format::Json => {
            let doc = document(&pods, single)?;
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        Format::Yaml => {
            let doc = document(&pods, single)?;
            write!(out, "{}", serde_saphyr::to_string(&doc)?)?;
        }
        Format::Name => {
            for p in &pods {
                writeln!(
                    out,
                    "pod/{}",
                    p.metadata.name.as_deref().unwrap_or_default()
                )?;
            }
        }
        Format::Wide => table(&mut out, paths, &pods, true, args.all_namespaces)?,
        Format::Table => table(&mut out, paths, &pods, false, args.all_namespaces)?,
    }
    let human = matches!(format, Format::Table | Format::Wide);
    if pods.is_empty() && names.is_empty() && human {
        if args.all_namespaces {
            eprintln!("No resources found");
        } else {
            eprintln!("No resources found in {} namespace.", args.namespace);
        }
    }
    for e in &missing {
        eprintln!("{}", crate::error_message::of_runtime(e));
    }
    Ok(if missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The printers of `-o`.
#[derive(Debug, Clone, Copy)]
enum Format {
    /// No `-o`: kubectl's table.
    Table,
    Wide,
    Json,
    Yaml,
    Name,
}

impl Format {
    /// The printer `-o output` asks for; kubectl's error for another.
    fn of(output: Option<&str>) -> anyhow::Result<Self> {
        Ok(match output {
            None => Self::Table,
            Some("wide") => Self::Wide,
            Some("json") => Self::Json,
            Some("yaml") => Self::Yaml,
            Some("name") => Self::Name,
            Some(other) => bail!(
                "unable to match a printer suitable for the output format {other:?}, allowed formats are: json,name,wide,yaml"
            ),
        })
    }
}

/// One pod as itself, several as a v1 `List`.
fn document(pods: &[Pod], single: bool) -> anyhow::Result<serde_json::Value> {
    if single && let Some(p) = pods.first() {
        return Ok(serde_json::to_value(p)?);
    }
    Ok(serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": pods,
        "metadata": { "resourceVersion": "" },
    }))
}

/// The kubectl table: NAME READY STATUS RESTARTS AGE (+ IP NODE NOMINATED
/// NODE READINESS GATES with wide).
fn table(
    out: &mut dyn Write,
    paths: &Paths,
    pods: &[Pod],
    wide: bool,
    namespaces: bool,
) -> anyhow::Result<()> {
    let mut rows = vec![];
    let mut header = vec![];
    if namespaces {
        header.push("NAMESPACE");
    }
    header.extend(["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    if wide {
        header.extend(["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]);
    }
    rows.push(header.iter().map(ToString::to_string).collect::<Vec<_>>());
    for p in pods {
        let st = p.status.clone().unwrap_or_default();
        let key = PodKey::new(
            p.metadata.namespace.as_deref().unwrap_or("default"),
            p.metadata.name.as_deref().unwrap_or_default(),
        );
        let summary = status::pod_row(p, inspect::deletion(paths, &key).is_some());
        let restarts = match &summary.last_restart {
            Some(t) if summary.restarts != 0 => {
                format!("{} ({} ago)", summary.restarts, since(t))
            }
            _ => summary.restarts.to_string(),
        };
        let age = p
            .metadata
            .creation_timestamp
            .as_deref()
            .map_or_else(|| "<unknown>".to_owned(), since);
        let mut row = vec![];
        if namespaces {
            row.push(p.metadata.namespace.clone().unwrap_or_default());
        }
        row.extend([
            p.metadata.name.clone().unwrap_or_default(),
            format!("{}/{}", summary.ready, summary.total),
            summary.status,
            restarts,
            age,
        ]);
        if wide {
            row.push(st.pod_ip.clone().unwrap_or_else(|| "<none>".to_owned()));
            row.push(node::name());
            row.extend(["<none>".to_owned(), "<none>".to_owned()]);
        }
        rows.push(row);
    }
    if pods.is_empty() {
        return Ok(());
    }
    for line in tabwriter::table(&rows).lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pod with `n` containers of which `ready` are ready, `restarts` in
    /// all, no creation time (AGE `<unknown>`, stable in a test).
    fn pod(ns: &str, name: &str, ip: Option<&str>, ready: usize, restarts: u32) -> Pod {
        let statuses: Vec<_> = (0..2)
            .map(|i| {
                serde_json::json!({
                    "name": format!("c{i}"), "image": "busybox", "imageID": "",
                    "ready": i < ready, "restartCount": if i == 0 { restarts } else { 0 },
                    "started": true, "state": {"running": {}},
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": ns},
            "spec": {"containers": [
                {"name": "c0", "image": "busybox"}, {"name": "c1", "image": "busybox"},
            ]},
            "status": {"phase": "Running", "podIP": ip, "containerStatuses": statuses},
        }))
        .expect("a pod")
    }

    fn render(pods: &[Pod], wide: bool, namespaces: bool) -> String {
        let mut out = vec![];
        let paths = Paths::under(std::path::Path::new("/nonexistent/peapod-get-test"));
        table(&mut out, &paths, pods, wide, namespaces).expect("written");
        String::from_utf8(out).expect("UTF-8")
    }

    fn pods() -> Vec<Pod> {
        vec![
            pod("default", "web", Some("10.88.0.7"), 2, 0),
            pod(
                "a-rather-long-namespace",
                "a-pod-name-that-is-much-longer-than-its-header-x",
                None,
                1,
                12,
            ),
        ]
    }

    #[test]
    fn the_table_pads_columns_to_their_widest_cell_plus_three() {
        assert_eq!(render(&[], false, false), "", "no header without pods");
        assert_eq!(
            render(&pods(), false, false),
            "NAME                                               READY   STATUS    RESTARTS   AGE\n\
             web                                                2/2     Running   0          <unknown>\n\
             a-pod-name-that-is-much-longer-than-its-header-x   1/2     Running   12         <unknown>\n"
        );
    }

    #[test]
    fn the_wide_table_with_namespaces() {
        // NODE is this host's name: as wide as the widest of it and the header.
        let node = node::name();
        let w = node.chars().count().max("NODE".len());
        assert_eq!(
            render(&pods(), true, true),
            format!(
                "NAMESPACE                 NAME                                               READY   STATUS    RESTARTS   AGE         IP          {:<w$}   NOMINATED NODE   READINESS GATES\n\
                 default                   web                                                2/2     Running   0          <unknown>   10.88.0.7   {node:<w$}   <none>           <none>\n\
                 a-rather-long-namespace   a-pod-name-that-is-much-longer-than-its-header-x   1/2     Running   12         <unknown>   <none>      {node:<w$}   <none>           <none>\n",
                "NODE"
            )
        );
    }
}
