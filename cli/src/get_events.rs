//! `get events` (`ev`, `event`): the pods' events as kubectl lists them
//! (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE; NAMESPACE first with `-A`),
//! oldest first, `--field-selector involvedObject.name=web`, `-o
//! json|yaml|name`, and `-w` for the events recorded from then on.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use peapod_runtime::PodKey;
use peapod_runtime::{Paths, pod::inspect};
use serde_json::{Value, json};

use crate::duration::since;

/// The fields `--field-selector` takes for events.
const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
    "metadata.name",
    "metadata.namespace",
];

/// `get events` as its arguments ask.
#[derive(Debug, Clone, Copy)]
pub struct EventsQuery<'a> {
    /// Event names (`get events web.17a...`); none: all.
    pub names: &'a [String],
    /// `None`: every namespace.
    pub namespace: Option<&'a str>,
    /// `-o`.
    pub output: Option<&'a str>,
    /// `--field-selector`.
    pub field_selector: Option<&'a str>,
    /// `-w` / `--watch-only`.
    pub watch: bool,
}

/// Whether `targets` ask for events (`events`, `event`, `ev`, any case).
pub fn is_events(targets: &[String]) -> bool {
    targets.first().is_some_and(|first| {
        matches!(
            first.to_ascii_lowercase().as_str(),
            "events" | "event" | "ev"
        )
    })
}

/// Every event of the pods in scope as a v1 `Event`, oldest first.
fn events(paths: &Paths, namespace: Option<&str>) -> anyhow::Result<Vec<Value>> {
    let mut all = vec![];
    for pod in inspect::list(paths, namespace)? {
        let ns = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let name = pod.metadata.name.clone().unwrap_or_default();
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        for e in inspect::events(paths, &PodKey::new(&ns, &name))? {
            let id = fnv1a(&[&e.reason, e.field_path.as_deref().unwrap_or(""), &e.message]);
            all.push(json!({
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {
                    "name": format!("{name}.{id:016x}"),
                    "namespace": ns,
                    "creationTimestamp": e.first_timestamp,
                },
                "involvedObject": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": name,
                    "namespace": ns,
                    "uid": uid,
                    "fieldPath": e.field_path,
                },
                "reason": e.reason,
                "message": e.message,
                "type": e.type_.as_str(),
                "count": e.count,
                "firstTimestamp": e.first_timestamp,
                "lastTimestamp": e.last_timestamp,
                "source": {"component": "kubelet", "host": crate::node::name()},
                "reportingComponent": "kubelet",
                "reportingInstance": crate::node::name(),
            }));
        }
    }
    all.sort_by(|a, b| {
        a["lastTimestamp"]
            .as_str()
            .cmp(&b["lastTimestamp"].as_str())
    });
    Ok(all)
}

/// A stable name part for an event (FNV-1a of what tells it apart).
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// kubectl's row of an event; `namespaces`: with its namespace first.
fn row(e: &Value, namespaces: bool) -> Vec<String> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let count = e["count"].as_u64().unwrap_or(1);
    let last = since(e["lastTimestamp"].as_str().unwrap_or_default());
    let last_seen = if count > 1 {
        format!(
            "{last} (x{count} over {})",
            since(e["firstTimestamp"].as_str().unwrap_or_default())
        )
    } else {
        last
    };
    let mut row = vec![];
    if namespaces {
        row.push(s(&e["metadata"]["namespace"]));
    }
    row.extend([
        last_seen,
        s(&e["type"]),
        s(&e["reason"]),
        format!("pod/{}", s(&e["involvedObject"]["name"])),
        s(&e["message"]),
    ]);
    row
}

fn header(namespaces: bool) -> Vec<String> {
    let mut h = vec![];
    if namespaces {
        h.push("NAMESPACE");
    }
    h.extend(["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
    h.iter().map(ToString::to_string).collect()
}

/// Runs `get events`.
pub fn run(query: EventsQuery<'_>, paths: &Paths) -> anyhow::Result<ExitCode> {
    let format = query.output.unwrap_or("");
    if !matches!(format, "" | "wide" | "json" | "yaml" | "name") {
        bail!(
            "unable to match a printer suitable for the output format {format:?}, allowed formats are: json,name,wide,yaml"
        );
    }
    let (_, fields) = crate::get::selectors(None, query.field_selector, EVENT_FIELDS, "events")?;
    let select = |all: Vec<Value>| -> Vec<Value> {
        all.into_iter()
            .filter(|e| fields.matches(e))
            .filter(|e| {
                query.names.is_empty()
                    || query
                        .names
                        .iter()
                        .any(|n| e["metadata"]["name"].as_str() == Some(n))
            })
            .collect()
    };
    let mut watch = if query.watch {
        Some(peapod_runtime::pod::pod_watch::PodWatch::new(paths)?)
    } else {
        None
    };
    let namespaces = query.namespace.is_none();
    let listed = select(events(paths, query.namespace)?);
    let mut out = crate::stdout::stdout();
    match format {
        "json" if !query.watch => {
            writeln!(out, "{}", serde_json::to_string_pretty(&list(&listed))?)?;
        }
        "yaml" if !query.watch => write!(out, "{}", serde_saphyr::to_string(&list(&listed))?)?,
        _ => print(&mut out, format, &listed, namespaces, true)?,
    }
    if listed.is_empty() && matches!(format, "" | "wide") {
        eprintln!("{}", crate::get::no_resources(query.namespace));
    }
    let Some(watch) = watch.as_mut() else {
        return Ok(ExitCode::SUCCESS);
    };
    let mut seen: BTreeMap<String, Value> = listed.into_iter().map(|e| (key(&e), e)).collect();
    let mut need_header = seen.is_empty();
    loop {
        watch.wait(paths, None)?;
        let fresh: Vec<Value> = select(events(paths, query.namespace)?)
            .into_iter()
            .filter(|e| seen.get(&key(e)) != Some(e))
            .collect();
        print(&mut out, format, &fresh, namespaces, need_header)?;
        need_header &= fresh.is_empty();
        seen.extend(fresh.into_iter().map(|e| (key(&e), e)));
    }
}

fn key(e: &Value) -> String {
    format!(
        "{}/{}",
        e["metadata"]["namespace"].as_str().unwrap_or_default(),
        e["metadata"]["name"].as_str().unwrap_or_default()
    )
}

fn list(items: &[Value]) -> Value {
    json!({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}})
}

/// Prints events as rows (the header first when `header`), names or
/// documents.
fn print(
    out: &mut dyn Write,
    format: &str,
    events: &[Value],
    namespaces: bool,
    with_header: bool,
) -> anyhow::Result<()> {
    match format {
        "json" => {
            for e in events {
                writeln!(out, "{}", serde_json::to_string_pretty(e)?)?;
            }
        }
        "yaml" => {
            for e in events {
                write!(out, "---\n{}", serde_saphyr::to_string(e)?)?;
            }
        }
        "name" => {
            for e in events {
                writeln!(
                    out,
                    "event/{}",
                    e["metadata"]["name"].as_str().unwrap_or_default()
                )?;
            }
        }
        _ => {
            let mut rows = vec![];
            if with_header && !events.is_empty() {
                rows.push(header(namespaces));
            }
            rows.extend(events.iter().map(|e| row(e, namespaces)));
            crate::get::print_rows(out, &rows)?;
        }
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_row_reads_as_kubectls() {
        let e = json!({
            "metadata": {"name": "web.1", "namespace": "default"},
            "involvedObject": {"name": "web"},
            "type": "Normal", "reason": "Started", "message": "Started container c",
            "count": 1, "firstTimestamp": "x", "lastTimestamp": "x",
        });
        assert_eq!(
            row(&e, false),
            [
                "<unknown>",
                "Normal",
                "Started",
                "pod/web",
                "Started container c"
            ]
        );
        let mut repeated = e.clone();
        repeated["count"] = json!(4);
        assert_eq!(
            row(&repeated, true)[..2],
            ["default", "<unknown> (x4 over <unknown>)"]
        );
        assert_eq!(
            header(true),
            [
                "NAMESPACE",
                "LAST SEEN",
                "TYPE",
                "REASON",
                "OBJECT",
                "MESSAGE"
            ]
        );
    }
}
