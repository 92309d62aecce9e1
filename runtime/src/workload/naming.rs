//! The names and labels controllers give their pods: the
//! `pod-template-hash` / `controller-revision-hash` of a template, the
//! 5-character suffix of a generated name, and the owner reference.

use std::collections::BTreeMap;

use peapod_spec::{OwnerReference, Pod, Workload, WorkloadKind};

/// The characters Kubernetes' generated names and hashes use
/// (`k8s.io/apimachinery/pkg/util/rand`: no vowels, no 0/1/3 that read
/// as letters, so no words appear).
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The label a Deployment's pods carry with their template's hash.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// The label StatefulSet and DaemonSet pods carry with their revision.
pub const CONTROLLER_REVISION_HASH: &str = "controller-revision-hash";

/// The template's hash as a Deployment names its ReplicaSet: FNV-1a (32
/// bits) of the template, written in [`ALPHABET`].
pub fn template_hash(workload: &Workload) -> String {
    let bytes = serde_json::to_vec(&workload.spec.template).unwrap_or_default();
    let mut hash: u32 = 0x811c_9dc5;
    for b in bytes {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    let mut out = String::new();
    let mut n = hash;
    while n > 0 || out.is_empty() {
        out.push(char::from(ALPHABET[(n % 27) as usize]));
        n /= 27;
    }
    out
}

/// 5 random characters of [`ALPHABET`], as `generateName` gets.
pub fn random_suffix() -> String {
    let uuid = std::fs::read_to_string("/proc/sys/kernel/random/uuid").unwrap_or_default();
    let mut bytes = uuid.bytes().filter(u8::is_ascii_hexdigit);
    let mut out = String::with_capacity(5);
    for _ in 0..5 {
        let hi = bytes
            .next()
            .and_then(|b| char::from(b).to_digit(16))
            .unwrap_or(0);
        let lo = bytes
            .next()
            .and_then(|b| char::from(b).to_digit(16))
            .unwrap_or(0);
        out.push(char::from(ALPHABET[((hi * 16 + lo) % 27) as usize]));
    }
    out
}

/// The revision label of `kind`'s pods, with its value.
pub fn revision_label(workload: &Workload) -> (&'static str, String) {
    let hash = template_hash(workload);
    match workload.workload_kind() {
        WorkloadKind::StatefulSet | WorkloadKind::DaemonSet => (
            CONTROLLER_REVISION_HASH,
            format!("{}-{hash}", workload.name()),
        ),
        _ => (POD_TEMPLATE_HASH, hash),
    }
}

/// The pod `name` of `workload` (uid `uid`): its template with the labels
/// and owner reference its controller gives.
pub fn pod(workload: &Workload, uid: &str, name: &str, ordinal: Option<u32>) -> Pod {
    let mut pod = workload.template_pod();
    pod.metadata.name = Some(name.to_owned());
    pod.metadata.generate_name = None;
    let labels = &mut pod.metadata.labels;
    let kind = workload.workload_kind();
    let (owner_kind, owner_name) = match kind {
        WorkloadKind::Deployment => {
            let (key, hash) = revision_label(workload);
            labels.insert(key.to_owned(), hash.clone());
            ("ReplicaSet", format!("{}-{hash}", workload.name()))
        }
        WorkloadKind::ReplicaSet => ("ReplicaSet", workload.name().to_owned()),
        WorkloadKind::StatefulSet | WorkloadKind::DaemonSet => {
            let (key, revision) = revision_label(workload);
            labels.insert(key.to_owned(), revision);
            if let Some(i) = ordinal {
                labels.insert("statefulset.kubernetes.io/pod-name".into(), name.into());
                labels.insert("apps.kubernetes.io/pod-index".into(), i.to_string());
                pod.spec.hostname = Some(name.to_owned());
                pod.spec.subdomain.clone_from(&workload.spec.service_name);
            } else {
                labels.insert("pod-template-generation".into(), "1".into());
            }
            (kind.name(), workload.name().to_owned())
        }
        WorkloadKind::Job => {
            job_labels(labels, workload.name(), uid);
            ("Job", workload.name().to_owned())
        }
    };
    pod.metadata.owner_references = vec![OwnerReference {
        api_version: kind.api_version().to_owned(),
        kind: owner_kind.to_owned(),
        name: owner_name,
        uid: uid.to_owned(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }];
    pod
}

fn job_labels(labels: &mut BTreeMap<String, String>, name: &str, uid: &str) {
    for key in ["job-name", "batch.kubernetes.io/job-name"] {
        labels.insert(key.to_owned(), name.to_owned());
    }
    for key in ["controller-uid", "batch.kubernetes.io/controller-uid"] {
        labels.insert(key.to_owned(), uid.to_owned());
    }
}

/// The name of a new pod: `<name>-<ordinal>` for a StatefulSet,
/// `<name>-<hash>-<5>` for a Deployment, `<name>-<5>` otherwise.
pub fn pod_name(workload: &Workload, ordinal: Option<u32>) -> String {
    match (workload.workload_kind(), ordinal) {
        (_, Some(i)) => format!("{}-{i}", workload.name()),
        (WorkloadKind::Deployment, None) => format!(
            "{}-{}-{}",
            workload.name(),
            template_hash(workload),
            random_suffix()
        ),
        (_, None) => format!("{}-{}", workload.name(), random_suffix()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Workload {
        let mut w = Workload {
            kind: "Deployment".into(),
            ..Workload::default()
        };
        w.metadata.name = Some("web".into());
        w
    }

    #[test]
    fn names_use_the_generated_name_alphabet() {
        let name = pod_name(&deployment(), None);
        let parts: Vec<_> = name.split('-').collect();
        assert_eq!(parts[0], "web");
        assert_eq!(parts[2].len(), 5);
        assert!(
            parts[1..].concat().bytes().all(|b| ALPHABET.contains(&b)),
            "{name}"
        );
    }

    #[test]
    fn the_hash_follows_the_template() {
        let a = deployment();
        let mut b = deployment();
        assert_eq!(template_hash(&a), template_hash(&b));
        b.spec
            .template
            .metadata
            .labels
            .insert("v".into(), "2".into());
        assert_ne!(template_hash(&a), template_hash(&b));
    }

    #[test]
    fn a_statefulset_pod_is_named_by_its_ordinal_and_owned() {
        let mut w = deployment();
        w.kind = "StatefulSet".into();
        w.spec.service_name = Some("db".into());
        let p = pod(&w, "u1", &pod_name(&w, Some(2)), Some(2));
        assert_eq!(p.metadata.name.as_deref(), Some("web-2"));
        assert_eq!(
            p.metadata.labels["statefulset.kubernetes.io/pod-name"],
            "web-2"
        );
        assert_eq!(p.spec.subdomain.as_deref(), Some("db"));
        assert_eq!(p.metadata.owner_references[0].kind, "StatefulSet");
        assert_eq!(p.metadata.owner_references[0].uid, "u1");
    }
}
