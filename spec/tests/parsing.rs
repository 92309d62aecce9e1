//! Parsing: defaults, multi-document files, flow style (KYAML), JSON,
//! round trips, references to a context.
#![allow(clippy::unwrap_used, missing_docs)]

use peapod_spec::{
    ConfigMap, Context, DNSPolicy, PullPolicy, QOSClass, RestartPolicy, ValidationMode,
    VolumeSource, parse_manifest, parse_manifest_with, to_yaml,
};

const MINIMAL: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: nginx
    ports:
    - containerPort: 80
    resources:
      limits:
        cpu: 500m
        memory: 128Mi
  - name: pinned
    image: nginx:1.25
    readinessProbe:
      httpGet:
        port: 80
  volumes:
  - name: config
    configMap:
      name: settings
      optional: true
";

#[test]
fn defaults_are_applied_like_the_api_server() {
    let manifest = parse_manifest(MINIMAL, "pod.yaml", ValidationMode::Strict).unwrap();
    let pod = &manifest.pods[0];
    assert_eq!(pod.metadata.namespace.as_deref(), Some("default"));
    assert_eq!(pod.spec.restart_policy, RestartPolicy::Always);
    assert_eq!(pod.spec.dns_policy, DNSPolicy::ClusterFirst);
    assert_eq!(pod.spec.termination_grace_period_seconds, Some(30));
    let [app, pinned] = &pod.spec.containers[..] else {
        panic!()
    };
    assert_eq!(app.image_pull_policy, Some(PullPolicy::Always));
    assert_eq!(pinned.image_pull_policy, Some(PullPolicy::IfNotPresent));
    assert_eq!(app.termination_message_path, "/dev/termination-log");
    assert_eq!(app.ports[0].protocol, peapod_spec::Protocol::Tcp);
    let resources = app.resources.as_ref().unwrap();
    assert_eq!(
        resources.requests, resources.limits,
        "requests default to limits"
    );
    let probe = pinned.readiness_probe.as_ref().unwrap();
    assert_eq!(
        (
            probe.timeout_seconds,
            probe.period_seconds,
            probe.success_threshold,
            probe.failure_threshold
        ),
        (1, 10, 1, 3)
    );
    assert_eq!(probe.http_get.as_ref().unwrap().path.as_deref(), Some("/"));
    let VolumeSource::ConfigMap(config) = &pod.spec.volumes[0].source else {
        panic!()
    };
    assert_eq!(config.default_mode, Some(0o644));
    assert_eq!(pod.spec.qos_class(), QOSClass::Burstable);
}

#[test]
fn defaulted_pod_round_trips_unchanged() {
    let manifest = parse_manifest(MINIMAL, "pod.yaml", ValidationMode::Strict).unwrap();
    let yaml = to_yaml(&manifest.pods[0]).unwrap();
    let again = parse_manifest(&yaml, "again.yaml", ValidationMode::Strict).unwrap();
    assert_eq!(again.pods, manifest.pods);
}

#[test]
fn flow_style_kyaml_with_trailing_commas_parses() {
    let kyaml = r#"{
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "web",
  },
  spec: {
    containers: [{
      name: "app",
      image: "nginx:1.25",
      command: ["sleep", "1000",],
    },],
  },
}
"#;
    let manifest = parse_manifest(kyaml, "pod.kyaml", ValidationMode::Strict).unwrap();
    assert_eq!(
        manifest.pods[0].spec.containers[0].command,
        ["sleep", "1000"]
    );
}

#[test]
fn flow_style_errors_have_positions_too() {
    let kyaml = "{\n  apiVersion: \"v1\",\n  kind: \"Pod\",\n  metadata: {name: \"web\"},\n  spec: {contaners: []},\n}\n";
    let errors = parse_manifest(kyaml, "pod.kyaml", ValidationMode::Strict).unwrap_err();
    let messages: Vec<String> = errors.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "pod.kyaml:5:9: spec.containers: required value",
            "pod.kyaml:5:10: spec.contaners: unknown field; did you mean \"containers\"?",
        ]
    );
}

#[test]
fn json_parses_like_yaml() {
    let json = r#"{
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "web", "labels": {"app": "web"}},
	"spec": {"containers": [{"name": "app", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]}
}"#;
    let manifest = parse_manifest(json, "pod.json", ValidationMode::Strict).unwrap();
    assert_eq!(
        manifest.pods[0].spec.containers[0].ports[0].container_port,
        80
    );
}

#[test]
fn multi_document_file_holds_pods_config_maps_and_secrets() {
    let source = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: production
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
stringData:
  password: hunter2
---
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: nginx
    envFrom:
    - configMapRef:
        name: settings
    env:
    - name: PASSWORD
      valueFrom:
        secretKeyRef:
          name: creds
          key: password
---
";
    let manifest = parse_manifest(source, "all.yaml", ValidationMode::Strict).unwrap();
    assert_eq!(
        (
            manifest.pods.len(),
            manifest.config_maps.len(),
            manifest.secrets.len()
        ),
        (1, 1, 1)
    );
    let entries = manifest.secrets[0].entries().unwrap();
    assert_eq!(entries["password"], b"hunter2");
}

#[test]
fn references_may_name_objects_of_a_context() {
    let source = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: nginx
    envFrom:
    - configMapRef:
        name: settings
";
    assert!(parse_manifest(source, "pod.yaml", ValidationMode::Strict).is_err());
    let settings = ConfigMap {
        metadata: peapod_spec::ObjectMeta {
            name: Some("settings".to_owned()),
            ..Default::default()
        },
        ..Default::default()
    };
    let context = Context {
        config_maps: std::slice::from_ref(&settings),
        secrets: &[],
        references_checked: false,
    };
    assert!(parse_manifest_with(source, "pod.yaml", ValidationMode::Strict, context).is_ok());
}

#[test]
fn octal_file_modes_read_as_kubernetes_reads_them() {
    let source = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: nginx
  volumes:
  - name: tls
    secret:
      secretName: certs
      optional: true
      defaultMode: 0400
";
    let manifest = parse_manifest(source, "pod.yaml", ValidationMode::Strict).unwrap();
    let VolumeSource::Secret(secret) = &manifest.pods[0].spec.volumes[0].source else {
        panic!()
    };
    assert_eq!(secret.default_mode, Some(0o400));
}

#[test]
fn sidecars_are_init_containers_that_always_restart() {
    let source = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  initContainers:
  - name: setup
    image: busybox
  - name: proxy
    image: envoy
    restartPolicy: Always
  containers:
  - name: app
    image: nginx
";
    let manifest = parse_manifest(source, "pod.yaml", ValidationMode::Strict).unwrap();
    let sidecars: Vec<bool> = manifest.pods[0]
        .spec
        .init_containers
        .iter()
        .map(peapod_spec::Container::is_sidecar)
        .collect();
    assert_eq!(sidecars, [false, true]);
}

#[test]
fn empty_file_holds_nothing() {
    let manifest = parse_manifest("# nothing\n", "empty.yaml", ValidationMode::Strict).unwrap();
    assert!(manifest.pods.is_empty());
}
