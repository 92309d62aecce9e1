//! Pods dumped from a cluster (`kubectl get pod -o yaml`, `get pods -o
//! yaml`) read as they are: server-set fields ignored with warnings, the
//! service account's token and CA as placeholders, the newer pod fields
//! read or refused by name.
#![allow(clippy::unwrap_used, missing_docs)]

use peapod_spec::{Manifest, ValidationMode, VolumeSource, parse_manifest};

const DUMP: &str = include_str!("../../cli/tests/fixtures/cluster-dump-pod.yaml");

fn read(source: &str) -> Manifest {
    match parse_manifest(source, "dump.yaml", ValidationMode::Strict) {
        Ok(manifest) => manifest,
        Err(diagnostics) => panic!("{diagnostics}"),
    }
}

fn errors(source: &str) -> String {
    parse_manifest(source, "pod.yaml", ValidationMode::Strict)
        .unwrap_err()
        .to_string()
}

fn warnings(manifest: &Manifest) -> Vec<String> {
    manifest.warnings.iter().map(ToString::to_string).collect()
}

#[test]
fn kubectl_get_pod_output_reads_with_warnings() {
    let manifest = read(DUMP);
    assert_eq!(manifest.pods.len(), 1);
    let pod = &manifest.pods[0];
    assert_eq!(
        pod.metadata.name.as_deref(),
        Some("dump-web-7c5ddbdf54-x2x7q")
    );
    assert_eq!(pod.status, None, "status is ignored");
    let warnings = warnings(&manifest).join("\n");
    for field in [
        "metadata.managedFields: output only",
        "metadata.ownerReferences: output only",
        "metadata.resourceVersion: output only",
        "spec.nodeName: ignored on a single host",
        "status: output only",
        "serviceAccountToken: no API server issues service account tokens",
        "configMap.name: ConfigMap \"kube-root-ca.crt\" is the cluster's CA bundle",
    ] {
        assert!(
            warnings.contains(field),
            "no warning {field:?} in\n{warnings}"
        );
    }
}

#[test]
fn kube_root_ca_gets_a_placeholder_config_map_in_the_pods_namespace() {
    let manifest = read(DUMP);
    assert_eq!(manifest.config_maps.len(), 1);
    let ca = &manifest.config_maps[0];
    assert_eq!(ca.metadata.name.as_deref(), Some("kube-root-ca.crt"));
    assert_eq!(ca.metadata.namespace.as_deref(), Some("default"));
    assert!(ca.data.contains_key("ca.crt"));
}

#[test]
fn a_given_kube_root_ca_is_used_without_a_warning() {
    let source = format!(
        "{DUMP}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-root-ca.crt\ndata:\n  ca.crt: mine\n"
    );
    let manifest = read(&source);
    assert_eq!(manifest.config_maps.len(), 1);
    assert_eq!(manifest.config_maps[0].data["ca.crt"], "mine");
    assert!(
        !warnings(&manifest).join("\n").contains("kube-root-ca.crt"),
        "{:?}",
        manifest.warnings
    );
}

const LEGACY_TOKEN: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: kubia
spec:
  containers:
  - name: kubia
    image: luksa/kubia
    volumeMounts:
    - mountPath: /var/run/secrets/k8s.io/servacc
      name: default-token-kvcqa
      readOnly: true
  nodeName: app-cluster-control-plane
  serviceAccountName: default
  volumes:
  - name: default-token-kvcqa
    secret:
      secretName: default-token-kvcqa
";

#[test]
fn a_default_token_secret_gets_placeholder_files() {
    let manifest = read(LEGACY_TOKEN);
    let secret = &manifest.secrets[0];
    assert_eq!(secret.metadata.name.as_deref(), Some("default-token-kvcqa"));
    assert_eq!(
        secret.type_.as_deref(),
        Some("kubernetes.io/service-account-token")
    );
    let keys: Vec<_> = secret.entries().unwrap().into_keys().collect();
    assert_eq!(keys, ["ca.crt", "namespace", "token"]);
    let warnings = warnings(&manifest).join("\n");
    assert!(
        warnings.contains("dump.yaml:18:7: spec.volumes[0].secret.secretName: Secret \"default-token-kvcqa\" is service account \"default\"'s token"),
        "{warnings}"
    );
}

#[test]
fn another_missing_secret_is_still_an_error() {
    let source = LEGACY_TOKEN.replace("secretName: default-token-kvcqa", "secretName: db-password");
    let message = errors(&source);
    assert!(
        message.contains("spec.volumes[0].secret.secretName: no Secret named \"db-password\""),
        "{message}"
    );
}

#[test]
fn a_list_of_pods_reads_each_item_with_its_lines() {
    let source = "\
apiVersion: v1
kind: List
metadata:
  resourceVersion: \"\"
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: one
  spec:
    containers:
    - name: a
      image: busybox
- apiVersion: v1
  kind: Pod
  metadata:
    name: two
  spec:
    containers:
    - name: a
      image: busybox
      imagePullPolicy: Sometimes
";
    let message = errors(source);
    assert!(
        message.contains("pod.yaml:22:24: spec.containers[0].imagePullPolicy"),
        "{message}"
    );
    let fixed = source.replace("Sometimes", "Never");
    let manifest = read(&fixed);
    let names: Vec<_> = manifest
        .pods
        .iter()
        .map(|p| p.metadata.name.as_deref().unwrap())
        .collect();
    assert_eq!(names, ["one", "two"]);
}

const NEWER_FIELDS: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: newer
spec:
  resources:
    limits:
      cpu: \"1\"
      memory: 64Mi
  containers:
  - name: a
    image: busybox
";

#[test]
fn pod_level_resources_are_read() {
    let manifest = read(NEWER_FIELDS);
    let resources = manifest.pods[0].spec.resources.as_ref().unwrap();
    assert_eq!(resources.limits["memory"].value(), 64 << 20);
}

#[test]
fn pod_level_resources_other_than_cpu_and_memory_are_refused() {
    let source = NEWER_FIELDS.replace("memory: 64Mi", "memory: 64Mi\n      hugepages-2Mi: 2Mi");
    let message = errors(&source);
    assert!(
        message.contains(
            "spec.resources.limits.hugepages-2Mi: unsupported pod-level resource \"hugepages-2Mi\": expected cpu or memory"
        ),
        "{message}"
    );
}

#[test]
fn file_key_ref_is_refused_as_not_supported_not_unknown() {
    let source = format!(
        "{NEWER_FIELDS}    env:\n    - name: X\n      valueFrom:\n        fileKeyRef:\n          path: env\n          volumeName: v\n          key: X\n"
    );
    let message = errors(&source);
    assert!(
        message
            .contains("spec.containers[0].env[0].valueFrom.fileKeyRef: not supported by peapod:"),
        "{message}"
    );
    assert!(!message.contains("unknown field"), "{message}");
}

#[test]
fn restart_policy_rules_are_refused_as_not_supported_not_unknown() {
    let source = format!(
        "{NEWER_FIELDS}    restartPolicyRules:\n    - action: Restart\n      exitCodes:\n        operator: In\n        values: [42]\n"
    );
    let message = errors(&source);
    assert!(
        message.contains("spec.containers[0].restartPolicyRules: not supported by peapod:"),
        "{message}"
    );
    assert!(!message.contains("unknown field"), "{message}");
}

#[test]
fn service_account_token_projection_is_kept_in_the_model() {
    let manifest = read(DUMP);
    let VolumeSource::Projected(projected) = &manifest.pods[0].spec.volumes[0].source else {
        panic!("not projected");
    };
    let token = projected.sources[0].service_account_token.as_ref().unwrap();
    assert_eq!(token.path, "token");
    assert_eq!(token.expiration_seconds, Some(3607));
}
