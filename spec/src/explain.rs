//! `peapod explain pod.spec.containers`: the documentation of a field,
//! from the same schema validation uses, laid out like `kubectl explain`.

use std::fmt::Write as _;

use crate::Error;
use crate::diagnostics::did_you_mean;
use crate::schema::{self, Field, Kind, Support, TypeDef};

/// The documentation of the resource or field at `path`
/// (`pod`, `pod.spec.containers`, `configmap.data`).
pub fn explain(path: &str) -> Result<String, Error> {
    explain_with(path, false)
}

/// [`explain`] with every field below `path` as kubectl's `--recursive`
/// lists them: a tree of names and types, without their descriptions.
pub fn explain_recursive(path: &str) -> Result<String, Error> {
    explain_with(path, true)
}

fn explain_with(path: &str, recursive: bool) -> Result<String, Error> {
    let mut segments = path.split('.').filter(|s| !s.is_empty());
    let resource = segments.next().unwrap_or_default();
    let root: &'static TypeDef = match resource.to_ascii_lowercase().as_str() {
        "pod" | "pods" | "po" => &schema::POD,
        "configmap" | "configmaps" | "cm" => &schema::CONFIG_MAP,
        "secret" | "secrets" => &schema::SECRET,
        other => match crate::workload::WorkloadKind::from_resource(other) {
            Some(crate::workload::WorkloadKind::Deployment) => &schema::DEPLOYMENT,
            Some(crate::workload::WorkloadKind::ReplicaSet) => &schema::REPLICA_SET,
            Some(crate::workload::WorkloadKind::StatefulSet) => &schema::STATEFUL_SET,
            Some(crate::workload::WorkloadKind::DaemonSet) => &schema::DAEMON_SET,
            Some(crate::workload::WorkloadKind::Job) => &schema::JOB,
            None => {
                return Err(Error::UnknownExplainPath {
                    path: path.to_owned(),
                    hint: did_you_mean(
                        resource,
                        [
                            "pod",
                            "configmap",
                            "secret",
                            "deployment",
                            "replicaset",
                            "statefulset",
                            "daemonset",
                            "job",
                        ],
                    ),
                });
            }
        },
    };
    let mut def = root;
    let mut field: Option<&'static Field> = None;
    for segment in segments {
        let Some(found) = def.field(segment) else {
            return Err(Error::UnknownExplainPath {
                path: path.to_owned(),
                hint: did_you_mean(segment, def.fields.iter().map(|f| f.name)),
            });
        };
        field = Some(found);
        match found.kind.object() {
            Some(next) => def = next,
            None => break,
        }
    }
    Ok(render(root, field, def, recursive))
}

fn render(root: &TypeDef, field: Option<&Field>, def: &TypeDef, recursive: bool) -> String {
    let mut out = String::new();
    let version = crate::workload::WorkloadKind::from_name(root.name)
        .map_or("v1", crate::workload::WorkloadKind::api_version);
    let _ = writeln!(out, "KIND:       {}\nVERSION:    {version}\n", root.name);
    if let Some(field) = field {
        let _ = writeln!(
            out,
            "FIELD: {} <{}>{}\n",
            field.name,
            field.kind.type_name(),
            required(field)
        );
        out.push_str("DESCRIPTION:\n");
        wrap(&mut out, field.doc, 4);
        if let Some(note) = support_note(field.support) {
            wrap(&mut out, &note, 4);
        }
        if let Kind::Enum(values) = field.kind {
            let list = values
                .iter()
                .map(|v| format!("{v:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(out, "\n    Possible enum values: {list}");
        }
        if field.kind.object().is_some() {
            out.push('\n');
            wrap(&mut out, def.doc, 4);
        }
    } else {
        out.push_str("DESCRIPTION:\n");
        wrap(&mut out, def.doc, 4);
    }
    let has_fields = field.is_none_or(|f| f.kind.object().is_some());
    if has_fields && recursive {
        out.push_str("\nFIELDS:\n");
        tree(&mut out, def, 1, &mut vec![def.name]);
    } else if has_fields {
        out.push_str("\nFIELDS:\n");
        for child in sorted(def) {
            let _ = writeln!(
                out,
                "  {}\t<{}>{}",
                child.name,
                child.kind.type_name(),
                required(child)
            );
            wrap(&mut out, child.doc, 4);
            if let Some(note) = support_note(child.support) {
                wrap(&mut out, &note, 4);
            }
            out.push('\n');
        }
    }
    out
}

/// The fields of `def` as kubectl lists them: by name.
fn sorted(def: &TypeDef) -> Vec<&Field> {
    let mut fields: Vec<&Field> = def.fields.iter().collect();
    fields.sort_by_key(|f| f.name);
    fields
}

/// `--recursive`'s tree: each field, then its own fields indented two
/// more; a type already open above is not entered again (no cycles).
fn tree(out: &mut String, def: &TypeDef, depth: usize, open: &mut Vec<&'static str>) {
    for child in sorted(def) {
        let _ = writeln!(
            out,
            "{}{}\t<{}>{}",
            "  ".repeat(depth),
            child.name,
            child.kind.type_name(),
            required(child)
        );
        if let Some(next) = child.kind.object()
            && !open.contains(&next.name)
        {
            open.push(next.name);
            tree(out, next, depth + 1, open);
            open.pop();
        }
    }
}

fn required(field: &Field) -> &'static str {
    if field.required { " -required-" } else { "" }
}

fn support_note(support: Support) -> Option<String> {
    let note = match support {
        Support::Supported => return None,
        Support::ClusterOnly => "peapod: accepted and ignored on a single host (a warning).",
        Support::OutputOnly => "peapod: output only; ignored in input (a warning).",
        Support::Unsupported => "peapod: not supported (an error).",
        Support::NotEnforced { honoured: "" } => {
            "peapod: not enforced (accepted with a warning; the pod runs as if it were not set)."
        }
        Support::NotEnforced { honoured } => {
            return Some(format!(
                "peapod: not enforced (accepted with a warning unless {honoured}; the pod runs as if it were not set)."
            ));
        }
    };
    Some(note.to_owned())
}

/// Appends `text` wrapped at 80 columns, indented by `indent` spaces.
fn wrap(out: &mut String, text: &str, indent: usize) {
    const WIDTH: usize = 80;
    let mut line_len = 0;
    for word in text.split_whitespace() {
        if line_len > 0 && line_len + 1 + word.len() > WIDTH {
            out.push('\n');
            line_len = 0;
        }
        if line_len == 0 {
            out.extend(std::iter::repeat_n(' ', indent));
            line_len = indent;
        } else {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += word.len();
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_pod_lists_its_fields() {
        let text = explain("pod").unwrap();
        assert!(text.starts_with("KIND:       Pod\nVERSION:    v1\n"));
        assert!(text.contains("  spec\t<PodSpec> -required-\n"));
    }

    #[test]
    fn explain_containers_shows_the_field_and_container_fields() {
        let text = explain("pod.spec.containers").unwrap();
        assert!(text.contains("FIELD: containers <[]Container> -required-"));
        assert!(text.contains("  image\t<string> -required-\n"));
        assert!(text.contains("  imagePullPolicy\t<string>\n"));
    }

    #[test]
    fn explain_leaf_field_lists_enum_values() {
        let text = explain("pod.spec.restartPolicy").unwrap();
        assert!(text.contains("FIELD: restartPolicy <string>"));
        assert!(text.contains("Possible enum values: \"Always\", \"OnFailure\", \"Never\""));
        assert!(!text.contains("FIELDS:"));
    }

    #[test]
    fn explain_notes_cluster_only_fields() {
        let text = explain("pod.spec.nodeName").unwrap();
        assert!(text.contains("ignored on a single host"));
    }

    /// The text with its line wrapping undone.
    fn flat(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn explain_notes_fields_peapod_does_not_enforce() {
        let text = flat(&explain("pod.spec.hostUsers").unwrap());
        assert!(!text.contains("not enforced"), "{text}");
        let text = explain("pod.spec.containers.securityContext.capabilities").unwrap();
        assert!(!text.contains("peapod:"), "{text}");
        let text = explain("pod.spec.containers.securityContext.readOnlyRootFilesystem").unwrap();
        assert!(!text.contains("peapod:"), "{text}");
    }

    #[test]
    fn fields_are_listed_by_name_as_kubectl_sorts_them() {
        let text = explain("pod.spec.containers").unwrap();
        let names: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
            .filter_map(|l| l.trim().split('\t').next())
            .collect();
        let mut want = names.clone();
        want.sort_unstable();
        assert!(names.len() > 10, "{text}");
        assert_eq!(names, want);
    }

    #[test]
    fn recursive_lists_the_tree_of_fields_without_descriptions() {
        let text = explain_recursive("pod.spec.containers").unwrap();
        assert!(text.contains("\nFIELDS:\n  args\t<[]string>\n"), "{text}");
        assert!(
            text.contains(
                "  securityContext\t<SecurityContext>\n    allowPrivilegeEscalation\t<boolean>\n"
            ),
            "{text}"
        );
        assert!(text.contains("\n      add\t<[]string>\n"), "{text}");
        let pod = explain_recursive("pod").unwrap();
        assert!(
            pod.contains("\n  spec\t<PodSpec> -required-\n    activeDeadlineSeconds\t<integer>\n"),
            "{pod}"
        );
    }

    #[test]
    fn explain_unknown_field_suggests_a_name() {
        let err = explain("pod.spec.contaners").unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod.spec.contaners: no such field; did you mean \"containers\"?"
        );
        assert!(explain("ingress").is_err());
    }
}
