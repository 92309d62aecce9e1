//! Deployment, ReplicaSet, StatefulSet, DaemonSet and Job: what each kind
//! takes around its pod template, which is checked as a pod.

use super::Kind::{Any, Bool, Enum, Int32, Int64, List, Object, String, StringMap};
use super::Support::{ClusterOnly, NotEnforced, OutputOnly, Unsupported};
use super::pod::{OBJECT_META, POD_SPEC};
use super::{Field, TypeDef, opt, req, with};

const METADATA: Field = opt(
    "metadata",
    Object(&OBJECT_META),
    "Standard object's metadata: name, namespace, labels, annotations.",
);
const STATUS: Field = with(
    "status",
    Any,
    OutputOnly,
    "Most recently observed status; written by peapod, ignored in input.",
);
const REPLICAS: Field = opt(
    "replicas",
    Int32,
    "Number of pods to keep running; 1 by default. Re-applying with another number scales.",
);
const SELECTOR: Field = req(
    "selector",
    Object(&LABEL_SELECTOR),
    "Label query over the pods; must match the template's labels.",
);
const TEMPLATE: Field = req(
    "template",
    Object(&POD_TEMPLATE_SPEC),
    "The pods to make: checked as a pod.",
);
const MIN_READY: Field = with(
    "minReadySeconds",
    Int32,
    NotEnforced { honoured: "0" },
    "Seconds a new pod must be ready before it counts as available.",
);
const HISTORY: Field = with(
    "revisionHistoryLimit",
    Int32,
    ClusterOnly,
    "Old revisions kept for rollback; peapod keeps none.",
);

const fn kind_doc(api: &'static str, kind: &'static str) -> [Field; 2] {
    [req("apiVersion", String, api), req("kind", String, kind)]
}

const APPS: &str = "APIVersion of the object: apps/v1.";
const DEPLOYMENT_HEAD: [Field; 2] = kind_doc(APPS, "Kind of object: Deployment.");

/// `apps/v1` `Deployment`.
pub(crate) static DEPLOYMENT: TypeDef = TypeDef {
    name: "Deployment",
    doc: "Deployment keeps `replicas` pods of its template running, named <name>-<pod-template-hash>-<5 chars>; a changed template replaces them. peapod runs a keeper process per workload that watches its pods.",
    fields: &[
        DEPLOYMENT_HEAD[0],
        DEPLOYMENT_HEAD[1],
        METADATA,
        req(
            "spec",
            Object(&DEPLOYMENT_SPEC),
            "Specification of the desired behavior of the Deployment.",
        ),
        STATUS,
    ],
};

static DEPLOYMENT_SPEC: TypeDef = TypeDef {
    name: "DeploymentSpec",
    doc: "DeploymentSpec is the specification of the desired behavior of the Deployment.",
    fields: &[
        REPLICAS,
        SELECTOR,
        TEMPLATE,
        with(
            "strategy",
            Any,
            NotEnforced { honoured: "" },
            "How pods are replaced on a template change; peapod replaces them all at once (as Recreate).",
        ),
        MIN_READY,
        HISTORY,
        with(
            "progressDeadlineSeconds",
            Int32,
            ClusterOnly,
            "Progress reporting of rollouts; ignored.",
        ),
        with(
            "paused",
            Bool,
            Unsupported,
            "Paused rollouts; peapod applies a template at once.",
        ),
    ],
};

const REPLICA_SET_HEAD: [Field; 2] = kind_doc(APPS, "Kind of object: ReplicaSet.");

/// `apps/v1` `ReplicaSet`.
pub(crate) static REPLICA_SET: TypeDef = TypeDef {
    name: "ReplicaSet",
    doc: "ReplicaSet keeps `replicas` pods of its template running, named <name>-<5 chars>.",
    fields: &[
        REPLICA_SET_HEAD[0],
        REPLICA_SET_HEAD[1],
        METADATA,
        req(
            "spec",
            Object(&REPLICA_SET_SPEC),
            "Specification of the desired behavior of the ReplicaSet.",
        ),
        STATUS,
    ],
};

static REPLICA_SET_SPEC: TypeDef = TypeDef {
    name: "ReplicaSetSpec",
    doc: "ReplicaSetSpec is the specification of a ReplicaSet.",
    fields: &[REPLICAS, SELECTOR, TEMPLATE, MIN_READY],
};

const STATEFUL_SET_HEAD: [Field; 2] = kind_doc(APPS, "Kind of object: StatefulSet.");

/// `apps/v1` `StatefulSet`.
pub(crate) static STATEFUL_SET: TypeDef = TypeDef {
    name: "StatefulSet",
    doc: "StatefulSet keeps `replicas` pods named <name>-0 … <name>-<N-1>, each with its name as hostname.",
    fields: &[
        STATEFUL_SET_HEAD[0],
        STATEFUL_SET_HEAD[1],
        METADATA,
        req(
            "spec",
            Object(&STATEFUL_SET_SPEC),
            "Specification of the desired behavior of the StatefulSet.",
        ),
        STATUS,
    ],
};

static STATEFUL_SET_SPEC: TypeDef = TypeDef {
    name: "StatefulSetSpec",
    doc: "A StatefulSetSpec is the specification of a StatefulSet.",
    fields: &[
        REPLICAS,
        SELECTOR,
        TEMPLATE,
        opt(
            "serviceName",
            String,
            "The governing Service: the pods' subdomain (<pod>.<serviceName>.<namespace>.svc.cluster.local).",
        ),
        with(
            "podManagementPolicy",
            Enum(&["OrderedReady", "Parallel"]),
            NotEnforced {
                honoured: "Parallel",
            },
            "Order of pod creation; peapod creates them all at once (Parallel).",
        ),
        with(
            "updateStrategy",
            Any,
            NotEnforced { honoured: "" },
            "How pods are replaced on a template change; peapod replaces them all at once.",
        ),
        with(
            "volumeClaimTemplates",
            Any,
            Unsupported,
            "Persistent volume claims per pod; no claims on a single host (use a hostPath).",
        ),
        MIN_READY,
        HISTORY,
        with(
            "persistentVolumeClaimRetentionPolicy",
            Any,
            ClusterOnly,
            "Claims' retention; no claims on a single host. Ignored.",
        ),
        with(
            "ordinals",
            Any,
            Unsupported,
            "A start ordinal other than 0.",
        ),
    ],
};

const DAEMON_SET_HEAD: [Field; 2] = kind_doc(APPS, "Kind of object: DaemonSet.");

/// `apps/v1` `DaemonSet`.
pub(crate) static DAEMON_SET: TypeDef = TypeDef {
    name: "DaemonSet",
    doc: "DaemonSet runs one pod of its template on every node: on a single host, one pod named <name>-<5 chars>.",
    fields: &[
        DAEMON_SET_HEAD[0],
        DAEMON_SET_HEAD[1],
        METADATA,
        req(
            "spec",
            Object(&DAEMON_SET_SPEC),
            "Specification of the desired behavior of the DaemonSet.",
        ),
        STATUS,
    ],
};

static DAEMON_SET_SPEC: TypeDef = TypeDef {
    name: "DaemonSetSpec",
    doc: "DaemonSetSpec is the specification of a daemon set.",
    fields: &[
        SELECTOR,
        TEMPLATE,
        with(
            "updateStrategy",
            Any,
            NotEnforced { honoured: "" },
            "How the pod is replaced on a template change; peapod replaces it at once.",
        ),
        MIN_READY,
        HISTORY,
    ],
};

const JOB_HEAD: [Field; 2] = kind_doc(
    "APIVersion of the object: batch/v1.",
    "Kind of object: Job.",
);

/// `batch/v1` `Job`.
pub(crate) static JOB: TypeDef = TypeDef {
    name: "Job",
    doc: "Job runs pods of its template to completion: `completions` successful pods, at most `parallelism` at once, failing after `backoffLimit` failed pods or `activeDeadlineSeconds`. Pods are named <name>-<5 chars>.",
    fields: &[
        JOB_HEAD[0],
        JOB_HEAD[1],
        METADATA,
        req(
            "spec",
            Object(&JOB_SPEC),
            "Specification of the desired behavior of the Job.",
        ),
        STATUS,
    ],
};

static JOB_SPEC: TypeDef = TypeDef {
    name: "JobSpec",
    doc: "JobSpec describes how the job execution will look like.",
    fields: &[
        opt(
            "completions",
            Int32,
            "Successful pods needed for the Job to be Complete; 1 by default.",
        ),
        opt(
            "parallelism",
            Int32,
            "Pods running at once at most; 1 by default.",
        ),
        opt(
            "backoffLimit",
            Int32,
            "Failed pods tolerated before the Job is Failed (BackoffLimitExceeded); 6 by default.",
        ),
        opt(
            "activeDeadlineSeconds",
            Int64,
            "Seconds the Job may run; then its pods are stopped and it is Failed (DeadlineExceeded).",
        ),
        TEMPLATE,
        with(
            "selector",
            Object(&LABEL_SELECTOR),
            OutputOnly,
            "Set by the Job controller from the job's uid; ignored.",
        ),
        with(
            "manualSelector",
            Bool,
            ClusterOnly,
            "Use the given selector; ignored.",
        ),
        with(
            "ttlSecondsAfterFinished",
            Int32,
            NotEnforced { honoured: "" },
            "Seconds after which a finished Job is deleted; peapod keeps it until `delete`.",
        ),
        opt(
            "completionMode",
            Enum(&["NonIndexed"]),
            "NonIndexed (the default): any completions successful pods complete the Job. Indexed is not supported by peapod.",
        ),
        with(
            "suspend",
            Bool,
            NotEnforced { honoured: "false" },
            "A suspended Job makes no pods; peapod runs it.",
        ),
        with(
            "podFailurePolicy",
            Any,
            Unsupported,
            "Rules on pod failures; peapod counts every failed pod against backoffLimit.",
        ),
        with(
            "podReplacementPolicy",
            Any,
            ClusterOnly,
            "When replacement pods are made; peapod replaces a pod once it failed. Ignored.",
        ),
        with(
            "backoffLimitPerIndex",
            Int32,
            Unsupported,
            "Per-index back-off of Indexed Jobs.",
        ),
        with(
            "maxFailedIndexes",
            Int32,
            Unsupported,
            "Failed indexes of Indexed Jobs.",
        ),
        with(
            "successPolicy",
            Any,
            Unsupported,
            "Success rules of Indexed Jobs.",
        ),
        with(
            "managedBy",
            String,
            ClusterOnly,
            "An external Job controller; ignored.",
        ),
    ],
};

/// `LabelSelector`.
pub(crate) static LABEL_SELECTOR: TypeDef = TypeDef {
    name: "LabelSelector",
    doc: "A label query over a set of resources: matchLabels and matchExpressions, ANDed.",
    fields: &[
        opt(
            "matchLabels",
            StringMap,
            "Labels a pod must have, with these values.",
        ),
        opt(
            "matchExpressions",
            List(&Object(&LABEL_SELECTOR_REQUIREMENT)),
            "Label selector requirements.",
        ),
    ],
};

static LABEL_SELECTOR_REQUIREMENT: TypeDef = TypeDef {
    name: "LabelSelectorRequirement",
    doc: "A selector that contains values, a key, and an operator that relates the key and values.",
    fields: &[
        req("key", String, "The label key."),
        req(
            "operator",
            Enum(&["In", "NotIn", "Exists", "DoesNotExist"]),
            "The key's relationship to the values.",
        ),
        opt(
            "values",
            List(&String),
            "Values for In and NotIn; empty for Exists and DoesNotExist.",
        ),
    ],
};

/// `PodTemplateSpec`.
pub(crate) static POD_TEMPLATE_SPEC: TypeDef = TypeDef {
    name: "PodTemplateSpec",
    doc: "PodTemplateSpec describes the data a pod should have when created from a template.",
    fields: &[
        opt(
            "metadata",
            Object(&OBJECT_META),
            "The pods' labels and annotations; names are given by the controller.",
        ),
        req(
            "spec",
            Object(&POD_SPEC),
            "Specification of the desired behavior of the pod.",
        ),
    ],
};
