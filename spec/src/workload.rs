//! The workload kinds that make pods from a template: `Deployment`,
//! `ReplicaSet`, `StatefulSet`, `DaemonSet` (apps/v1) and `Job` (batch/v1).
//! One model for all five; the schema of each kind (`schema/workload.rs`)
//! says which fields it takes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::pod::{ObjectMeta, Pod, PodSpec};

/// Which controller a workload asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WorkloadKind {
    /// `replicas` pods `<name>-<pod-template-hash>-<5 chars>`, replaced on a template change.
    Deployment,
    /// `replicas` pods `<name>-<5 chars>`.
    ReplicaSet,
    /// `replicas` pods `<name>-0` … `<name>-<N-1>`.
    StatefulSet,
    /// One pod on this host, `<name>-<5 chars>`.
    DaemonSet,
    /// Pods run to completion: `completions`, `parallelism`, `backoffLimit`.
    Job,
}

impl WorkloadKind {
    /// Every kind, in the order `get all` lists them.
    pub const ALL: [WorkloadKind; 5] = [
        WorkloadKind::Deployment,
        WorkloadKind::ReplicaSet,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
        WorkloadKind::Job,
    ];

    /// The kind as written in a manifest (`Deployment`).
    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Job => "Job",
        }
    }

    /// The kind named `name` (`Deployment`), if it is a workload.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Its API group and version: `apps/v1` or `batch/v1`.
    pub fn api_version(self) -> &'static str {
        match self {
            WorkloadKind::Job => "batch/v1",
            _ => "apps/v1",
        }
    }

    /// kubectl's name of the resource: `deployment.apps`, `job.batch`.
    pub fn resource(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment.apps",
            WorkloadKind::ReplicaSet => "replicaset.apps",
            WorkloadKind::StatefulSet => "statefulset.apps",
            WorkloadKind::DaemonSet => "daemonset.apps",
            WorkloadKind::Job => "job.batch",
        }
    }

    /// The kind a resource argument names (`deployments`, `deploy`,
    /// `job`, `sts`, any case), as kubectl reads it.
    pub fn from_resource(resource: &str) -> Option<Self> {
        let lower = resource.to_ascii_lowercase();
        let bare = lower
            .strip_suffix(".apps")
            .or_else(|| lower.strip_suffix(".batch"))
            .unwrap_or(&lower);
        Some(match bare {
            "deployment" | "deployments" | "deploy" => WorkloadKind::Deployment,
            "replicaset" | "replicasets" | "rs" => WorkloadKind::ReplicaSet,
            "statefulset" | "statefulsets" | "sts" => WorkloadKind::StatefulSet,
            "daemonset" | "daemonsets" | "ds" => WorkloadKind::DaemonSet,
            "job" | "jobs" => WorkloadKind::Job,
            _ => return None,
        })
    }
}

/// A workload document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    /// `apps/v1` or `batch/v1`.
    #[serde(default)]
    pub api_version: String,
    /// `Deployment`, `ReplicaSet`, `StatefulSet`, `DaemonSet` or `Job`.
    #[serde(default)]
    pub kind: String,
    /// Name, namespace, labels, annotations.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// What to keep running.
    #[serde(default)]
    pub spec: WorkloadSpec,
}

/// The spec of every workload kind (each takes its own fields).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSpec {
    /// Pods to keep (Deployment, ReplicaSet, StatefulSet); 1 by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Which pods are the workload's; must match the template's labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// The pods to make.
    #[serde(default)]
    pub template: PodTemplateSpec,
    /// StatefulSet: the governing Service, the pods' subdomain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// Job: successful pods needed (1 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completions: Option<i32>,
    /// Job: pods running at once at most (1 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<i32>,
    /// Job: failed pods tolerated before the Job fails (6 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_limit: Option<i32>,
    /// Job: seconds the Job may run before it fails (`DeadlineExceeded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<i64>,
}

/// A label query.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// Labels a pod must have, with these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// Further requirements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelectorRequirement {
    /// The label.
    #[serde(default)]
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    #[serde(default)]
    pub operator: String,
    /// The values `In` and `NotIn` look at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Whether `labels` satisfy the selector.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let labels_match = self
            .match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v));
        labels_match
            && self.match_expressions.iter().all(|r| {
                let value = labels.get(&r.key);
                match r.operator.as_str() {
                    "In" => value.is_some_and(|v| r.values.contains(v)),
                    "NotIn" => value.is_none_or(|v| !r.values.contains(v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    _ => false,
                }
            })
    }
}

/// The pods a workload makes: metadata (labels) and spec.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplateSpec {
    /// Labels and annotations of the pods.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The pods' spec.
    #[serde(default)]
    pub spec: PodSpec,
}

/// Job defaults, as the API server sets them.
const DEFAULT_BACKOFF_LIMIT: i32 = 6;

impl Workload {
    /// Its kind (the parser admits only workload kinds).
    pub fn workload_kind(&self) -> WorkloadKind {
        WorkloadKind::from_name(&self.kind).unwrap_or(WorkloadKind::Deployment)
    }

    /// Its name.
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or_default()
    }

    /// Its namespace (`default` when unset).
    pub fn namespace(&self) -> &str {
        self.metadata.namespace.as_deref().unwrap_or("default")
    }

    /// The pods it keeps: `replicas` (1 by default), 1 for a DaemonSet on
    /// one host; for a Job, how many run at once at most.
    pub fn replicas(&self) -> u32 {
        let n = match self.workload_kind() {
            WorkloadKind::DaemonSet => 1,
            WorkloadKind::Job => self.spec.parallelism.unwrap_or(1),
            _ => self.spec.replicas.unwrap_or(1),
        };
        u32::try_from(n).unwrap_or(0)
    }

    /// Job: the successful pods needed.
    pub fn completions(&self) -> u32 {
        u32::try_from(self.spec.completions.unwrap_or(1)).unwrap_or(0)
    }

    /// Job: the failed pods tolerated.
    pub fn backoff_limit(&self) -> u32 {
        u32::try_from(self.spec.backoff_limit.unwrap_or(DEFAULT_BACKOFF_LIMIT)).unwrap_or(0)
    }

    /// The template as a pod (no name yet), in the workload's namespace.
    pub fn template_pod(&self) -> Pod {
        let mut metadata = self.spec.template.metadata.clone();
        metadata.namespace = Some(self.namespace().to_owned());
        Pod {
            api_version: "v1".to_owned(),
            kind: "Pod".to_owned(),
            metadata,
            spec: self.spec.template.spec.clone(),
            status: None,
        }
    }
}
