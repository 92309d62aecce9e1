//! Workloads: their counts, their selector against the template's labels,
//! the restart policy their kind allows, and the template checked as a pod
//! (its findings at `spec.template.…`).

use super::{Doc, Validator};
use crate::node::Node;
use crate::pod::RestartPolicy;
use crate::workload::{Workload, WorkloadKind};

impl<'m> Validator<'_, 'm> {
    /// Validates one workload, read from `node`.
    pub fn workload(&mut self, workload: &'m Workload, node: &Node) {
        let doc = Doc { node, prefix: "" };
        self.metadata(doc, &workload.metadata, false);
        let kind = workload.workload_kind();
        if !self
            .workloads_seen
            .insert((kind, workload.namespace(), workload.name()))
        {
            let message = format!("duplicate {} {:?}", kind.name(), workload.name());
            self.error(doc, "metadata.name", message);
        }
        let spec = &workload.spec;
        let counts = [
            ("spec.replicas", spec.replicas),
            ("spec.completions", spec.completions),
            ("spec.parallelism", spec.parallelism),
            ("spec.backoffLimit", spec.backoff_limit),
        ];
        for (path, value) in counts {
            if let Some(n) = value.filter(|n| *n < 0) {
                self.error(doc, path, format!("{n}: must be 0 or more"));
            }
        }
        if let Some(seconds) = spec.active_deadline_seconds.filter(|s| *s <= 0) {
            let message = format!("{seconds}: must be more than 0");
            self.error(doc, "spec.activeDeadlineSeconds", message);
        }
        let policy = spec.template.spec.restart_policy;
        let allowed: &[RestartPolicy] = if kind == WorkloadKind::Job {
            &[RestartPolicy::OnFailure, RestartPolicy::Never]
        } else {
            &[RestartPolicy::Always]
        };
        if !allowed.contains(&policy) {
            let list = allowed
                .iter()
                .map(|p| format!("\"{p:?}\""))
                .collect::<Vec<_>>()
                .join(", ");
            self.error(
                doc,
                "spec.template.spec.restartPolicy",
                format!("Unsupported value: \"{policy:?}\": supported values: {list}"),
            );
        }
        if let Some(selector) = spec.selector.as_ref().filter(|_| kind != WorkloadKind::Job) {
            if selector.match_labels.is_empty() && selector.match_expressions.is_empty() {
                self.error(doc, "spec.selector", "empty selector is invalid");
            } else if !selector.matches(&spec.template.metadata.labels) {
                self.error(
                    doc,
                    "spec.template.metadata.labels",
                    "`selector` does not match template `labels`",
                );
            }
        }
        self.template(workload, node);
    }

    /// The template, as a pod named as the workload.
    fn template(&mut self, workload: &Workload, node: &Node) {
        let Some(template) = node.get("spec").and_then(|spec| spec.value.get("template")) else {
            return;
        };
        let doc = Doc {
            node: &template.value,
            prefix: "spec.template.",
        };
        let mut pod = workload.template_pod();
        pod.metadata.name.clone_from(&workload.metadata.name);
        self.metadata(doc, &pod.metadata, false);
        self.pod_spec(doc, &pod.spec);
        self.fqdn_hostname(doc, &pod);
    }
}
