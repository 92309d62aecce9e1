//! Workload documents: Deployment, ReplicaSet, StatefulSet, DaemonSet and
//! Job read with their template checked as a pod, at `spec.template.…`.
#![allow(clippy::unwrap_used, missing_docs)]

use peapod_spec::{ValidationMode, WorkloadKind, explain, parse_manifest};

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: nginx
";

fn errors(source: &str) -> String {
    parse_manifest(source, "w.yaml", ValidationMode::Strict)
        .unwrap_err()
        .to_string()
}

#[test]
fn a_deployment_reads_with_its_template_defaulted_as_a_pod() {
    let manifest = parse_manifest(DEPLOYMENT, "w.yaml", ValidationMode::Strict).unwrap();
    assert!(manifest.pods.is_empty());
    let deployment = &manifest.workloads[0];
    assert_eq!(deployment.workload_kind(), WorkloadKind::Deployment);
    assert_eq!(deployment.replicas(), 3);
    assert_eq!(deployment.namespace(), "default");
    let pod = deployment.template_pod();
    assert_eq!(pod.spec.termination_grace_period_seconds, Some(30));
    assert_eq!(pod.metadata.labels["app"], "web");
}

#[test]
fn template_errors_name_the_template_field_and_its_line() {
    let source = DEPLOYMENT.replace(
        "image: nginx",
        "image: nginx\n        imagePullPolicy: Sometimes",
    );
    let message = errors(&source);
    assert!(
        message.contains(
            "w.yaml:18:26: spec.template.spec.containers[0].imagePullPolicy: unsupported value"
        ),
        "{message}"
    );
    let source = DEPLOYMENT.replace(
        "      - name: app\n        image: nginx\n",
        "      - name: app\n",
    );
    let message = errors(&source);
    assert!(
        message.contains("w.yaml:16:9: spec.template.spec.containers[0].image: required value"),
        "{message}"
    );
}

#[test]
fn template_validation_names_the_template_path() {
    let source = DEPLOYMENT.replace("name: app", "name: App_1");
    let message = errors(&source);
    assert!(
        message.contains("spec.template.spec.containers[0].name: invalid value \"App_1\""),
        "{message}"
    );
}

#[test]
fn a_selector_that_misses_the_template_labels_is_refused() {
    let source = DEPLOYMENT.replacen("app: web", "app: other", 1);
    let message = errors(&source);
    assert!(
        message
            .contains("spec.template.metadata.labels: `selector` does not match template `labels`"),
        "{message}"
    );
}

#[test]
fn a_deployment_must_restart_always_and_a_job_must_not() {
    let source = DEPLOYMENT.replace(
        "      containers:",
        "      restartPolicy: Never\n      containers:",
    );
    let message = errors(&source);
    assert!(
        message.contains("spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""),
        "{message}"
    );
    let job = "\
apiVersion: batch/v1
kind: Job
metadata:
  name: once
spec:
  template:
    spec:
      containers:
      - name: a
        image: busybox
";
    let message = errors(job);
    assert!(
        message.contains("spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""),
        "{message}"
    );
    let fixed = job.replace(
        "    spec:\n      containers",
        "    spec:\n      restartPolicy: Never\n      containers",
    );
    let manifest = parse_manifest(&fixed, "j.yaml", ValidationMode::Strict).unwrap();
    assert_eq!(manifest.workloads[0].completions(), 1);
    assert_eq!(manifest.workloads[0].backoff_limit(), 6);
}

#[test]
fn a_workload_with_the_wrong_api_version_is_refused() {
    let message = errors(&DEPLOYMENT.replace("apps/v1", "v1"));
    assert!(
        message.contains("w.yaml:1:1: apiVersion: expected \"apps/v1\""),
        "{message}"
    );
}

#[test]
fn a_service_is_skipped_with_a_warning() {
    let source = format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n---\n{DEPLOYMENT}"
    );
    let manifest = parse_manifest(&source, "w.yaml", ValidationMode::Strict).unwrap();
    assert_eq!(manifest.workloads.len(), 1);
    let warnings: Vec<_> = manifest.warnings.iter().map(ToString::to_string).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("w.yaml:2:1: kind: Service skipped")),
        "{warnings:?}"
    );
}

#[test]
fn volume_claim_templates_are_refused_as_not_supported() {
    let source = DEPLOYMENT
        .replace("kind: Deployment", "kind: StatefulSet")
        .replace("  template:", "  volumeClaimTemplates: []\n  template:");
    let message = errors(&source);
    assert!(
        message.contains("spec.volumeClaimTemplates: not supported by peapod"),
        "{message}"
    );
}

#[test]
fn explain_documents_each_workload_kind() {
    let text = explain("deployment.spec.template").unwrap();
    assert!(
        text.contains("KIND:       Deployment\nVERSION:    apps/v1"),
        "{text}"
    );
    assert!(text.contains("FIELD: template <PodTemplateSpec>"), "{text}");
    for kind in ["deployments", "rs", "sts", "daemonset", "job"] {
        assert!(explain(kind).is_ok(), "{kind}");
    }
    assert!(
        explain("job.spec.backoffLimit")
            .unwrap()
            .contains("FIELD: backoffLimit <integer>")
    );
}
