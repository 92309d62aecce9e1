//! downwardAPI files: pod fields and container resources as text, in
//! kubelet's formats (`pkg/fieldpath`, `pkg/api/v1/resource`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use peapod_spec::{
    Container, DownwardAPIVolumeFile, Pod, Quantity, ResourceFieldSelector, ResourceKind,
};

use crate::payload::{Invalid, NodeAllocatable, Payload, insert};

/// Adds the downwardAPI `items` to `payload`.
pub(crate) fn add_items(
    payload: &mut Payload,
    pod: &Pod,
    items: &[DownwardAPIVolumeFile],
    default_mode: u32,
    node: Option<NodeAllocatable>,
) -> Result<(), Invalid> {
    for item in items {
        let text = match (&item.field_ref, &item.resource_field_ref) {
            (Some(field), None) => field_value(pod, &field.field_path)?,
            (None, Some(resource)) => resource_value(pod, resource, node)?,
            _ => {
                return Err(Invalid(format!(
                    "item {:?} needs exactly one of fieldRef and resourceFieldRef",
                    item.path
                )));
            }
        };
        insert(
            payload,
            &item.path,
            text.into_bytes(),
            item.mode,
            default_mode,
        )?;
    }
    Ok(())
}

/// A `fieldRef` a volume may use: `metadata.name`, `.namespace`, `.uid`,
/// `.labels`, `.annotations`, and `.labels['k']`, `.annotations['k']`.
fn field_value(pod: &Pod, path: &str) -> Result<String, Invalid> {
    let meta = &pod.metadata;
    let keyed = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix("['"))
            .and_then(|rest| rest.strip_suffix("']"))
    };
    Ok(match path {
        "metadata.name" => meta.name.clone().unwrap_or_default(),
        "metadata.namespace" => meta
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned()),
        "metadata.uid" => meta.uid.clone().unwrap_or_default(),
        "metadata.labels" => format_map(&meta.labels),
        "metadata.annotations" => format_map(&meta.annotations),
        _ => {
            if let Some(key) = keyed("metadata.labels") {
                meta.labels.get(key).cloned().unwrap_or_default()
            } else if let Some(key) = keyed("metadata.annotations") {
                meta.annotations.get(key).cloned().unwrap_or_default()
            } else {
                return Err(Invalid(format!(
                    "fieldRef {path:?} is not supported in volumes"
                )));
            }
        }
    })
}

/// kubelet's `FormatMap`: `key="value"` lines in key order, values quoted
/// as Go's `%q`, no newline after the last.
fn format_map(map: &BTreeMap<String, String>) -> String {
    let lines: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect();
    lines.join("\n")
}

/// Go's `strconv.Quote` for the text labels hold.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A pod `fieldRef` of `metadata` as text, for env as for volumes: see
/// [`field_value`]. `Err` says why.
pub fn metadata_field_value(pod: &Pod, path: &str) -> Result<String, String> {
    field_value(pod, path).map_err(|e| e.0)
}

/// A `resourceFieldRef` as text, for env (`valueFrom.resourceFieldRef`)
/// as for volumes: see [`resource_value`]. `Err` says why.
pub fn resource_field_value(
    pod: &Pod,
    field: &ResourceFieldSelector,
    node: Option<NodeAllocatable>,
) -> Result<String, String> {
    resource_value(pod, field, node).map_err(|e| e.0)
}

/// A `resourceFieldRef`: the named container's limit or request divided
/// by `divisor` (default 1), rounded up. Unset limits resolve to the
/// node's allocatable; unset requests to the limit when one is set, else 0
/// (the API server's defaulting).
fn resource_value(
    pod: &Pod,
    field: &ResourceFieldSelector,
    node: Option<NodeAllocatable>,
) -> Result<String, Invalid> {
    let name = field.container_name.as_deref().ok_or_else(|| {
        Invalid(format!(
            "resourceFieldRef {:?} needs containerName",
            field.resource
        ))
    })?;
    let container = pod
        .spec
        .containers
        .iter()
        .chain(&pod.spec.init_containers)
        .find(|c| c.name == name)
        .ok_or_else(|| Invalid(format!("resourceFieldRef: no container named {name:?}")))?;
    let (which, resource) = field.resource.split_once('.').ok_or_else(|| {
        Invalid(format!(
            "resourceFieldRef {:?} is not supported",
            field.resource
        ))
    })?;
    let cpu = match resource {
        "cpu" => true,
        "memory" | "ephemeral-storage" => false,
        _ => {
            return Err(Invalid(format!(
                "resourceFieldRef {:?} is not supported",
                field.resource
            )));
        }
    };
    let limit = || {
        quantity(container, ResourceKind::Limits, resource, cpu).or_else(|| {
            let node = node.unwrap_or_else(NodeAllocatable::host);
            match resource {
                "cpu" => Some(node.cpu_millis),
                "memory" => Some(node.memory_bytes),
                _ => None,
            }
        })
    };
    let value = match which {
        "limits" => limit().ok_or_else(|| {
            Invalid(format!(
                "resourceFieldRef {:?}: container {name:?} sets no limit and the node's is unknown",
                field.resource
            ))
        })?,
        "requests" => quantity(container, ResourceKind::Requests, resource, cpu)
            .or_else(|| quantity(container, ResourceKind::Limits, resource, cpu))
            .unwrap_or(0),
        _ => {
            return Err(Invalid(format!(
                "resourceFieldRef {:?} is not supported",
                field.resource
            )));
        }
    };
    let divisor = match &field.divisor {
        Some(d) if cpu => d.milli_value(),
        Some(d) => d.value(),
        None if cpu => 1000,
        None => 1,
    };
    if divisor <= 0 {
        return Err(Invalid(format!(
            "resourceFieldRef {:?}: divisor must be positive",
            field.resource
        )));
    }
    Ok(ceil_div(value, divisor).to_string())
}

/// The container's quantity in millicores (cpu) or whole units.
fn quantity(container: &Container, kind: ResourceKind, resource: &str, cpu: bool) -> Option<i128> {
    container
        .resource_list(kind)
        .and_then(|list| list.get(resource))
        .map(|q: &Quantity| if cpu { q.milli_value() } else { q.value() })
}

fn ceil_div(value: i128, divisor: i128) -> i128 {
    let q = value / divisor;
    if value % divisor > 0 { q + 1 } else { q }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_spec::{ObjectFieldSelector, ResourceRequirements};

    fn pod() -> Pod {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web".into());
        pod.metadata.uid = Some("u-1".into());
        pod.metadata.labels = BTreeMap::from([
            ("app".to_owned(), "nginx".to_owned()),
            ("tier".to_owned(), "fr\"ont".to_owned()),
        ]);
        pod.spec.containers = vec![Container {
            name: "c".into(),
            resources: Some(ResourceRequirements {
                limits: BTreeMap::from([
                    ("cpu".to_owned(), Quantity::parse("500m").expect("q")),
                    ("memory".to_owned(), Quantity::parse("128Mi").expect("q")),
                ]),
                ..ResourceRequirements::default()
            }),
            ..Container::default()
        }];
        pod
    }

    fn field(path: &str) -> DownwardAPIVolumeFile {
        DownwardAPIVolumeFile {
            path: "f".into(),
            field_ref: Some(ObjectFieldSelector {
                field_path: path.into(),
                ..ObjectFieldSelector::default()
            }),
            ..DownwardAPIVolumeFile::default()
        }
    }

    fn resource(res: &str, divisor: Option<&str>) -> DownwardAPIVolumeFile {
        DownwardAPIVolumeFile {
            path: "f".into(),
            resource_field_ref: Some(ResourceFieldSelector {
                container_name: Some("c".into()),
                resource: res.into(),
                divisor: divisor.map(|d| Quantity::parse(d).expect("q")),
            }),
            ..DownwardAPIVolumeFile::default()
        }
    }

    fn text(item: DownwardAPIVolumeFile) -> Result<String, Invalid> {
        let node = NodeAllocatable {
            cpu_millis: 2000,
            memory_bytes: 4 << 30,
        };
        let mut p = Payload::new();
        add_items(&mut p, &pod(), &[item], 0o644, Some(node))?;
        Ok(String::from_utf8(p.into_values().next().expect("file").data).expect("utf8"))
    }

    #[test]
    fn labels_are_sorted_quoted_lines_without_a_final_newline() {
        assert_eq!(
            text(field("metadata.labels")).expect("labels"),
            "app=\"nginx\"\ntier=\"fr\\\"ont\""
        );
        assert_eq!(text(field("metadata.labels['app']")).expect("one"), "nginx");
    }

    #[test]
    fn name_namespace_and_uid() {
        assert_eq!(text(field("metadata.name")).expect("name"), "web");
        assert_eq!(text(field("metadata.namespace")).expect("ns"), "default");
        assert_eq!(text(field("metadata.uid")).expect("uid"), "u-1");
        assert!(text(field("status.podIP")).is_err());
    }

    #[test]
    fn cpu_limit_rounds_up_by_divisor_and_unset_limit_is_the_node_s() {
        assert_eq!(text(resource("limits.cpu", None)).expect("cpu"), "1");
        assert_eq!(
            text(resource("limits.cpu", Some("1m"))).expect("cpu"),
            "500"
        );
        assert_eq!(
            text(resource("limits.memory", Some("1Mi"))).expect("mem"),
            "128"
        );
        assert_eq!(
            text(resource("requests.memory", None)).expect("req"),
            "134217728"
        );
        let mut p = pod();
        p.spec.containers[0].resources = None;
        let node = NodeAllocatable {
            cpu_millis: 2000,
            memory_bytes: 4 << 30,
        };
        let mut payload = Payload::new();
        add_items(
            &mut payload,
            &p,
            &[resource("limits.cpu", Some("1m"))],
            0o644,
            Some(node),
        )
        .expect("node");
        assert_eq!(payload.into_values().next().expect("f").data, b"2000");
    }
}
