//! Bad manifests: each gives exactly the findings listed, every one with
//! `file:line:column: field.path: message`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::fmt::Write as _;

use peapod_spec::{ValidationMode, parse_manifest};

/// Lines 1-8 of most cases: a valid pod whose first container is `app`.
const HEAD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: nginx:1.25
";

fn errors(source: &str) -> Vec<String> {
    match parse_manifest(source, "pod.yaml", ValidationMode::Strict) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics.errors.iter().map(ToString::to_string).collect(),
    }
}

/// The errors of `HEAD` followed by `tail` (which starts on line 9).
fn errors_after_head(tail: &str) -> Vec<String> {
    errors(&format!("{HEAD}{tail}"))
}

macro_rules! bad {
    ($name:ident, $source:expr, [$($message:expr),+ $(,)?]) => {
        #[test]
        fn $name() {
            assert_eq!(errors($source), vec![$($message.to_owned()),+]);
        }
    };
    ($name:ident, tail $tail:expr, [$($message:expr),+ $(,)?]) => {
        #[test]
        fn $name() {
            assert_eq!(errors_after_head($tail), vec![$($message.to_owned()),+]);
        }
    };
}

#[test]
fn head_alone_is_valid() {
    assert_eq!(errors(HEAD), Vec::<String>::new());
}

// Structure: unknown, misplaced and mistyped fields.

bad!(
    unknown_spec_field_suggests_the_right_name,
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  contaners:\n  - name: app\n    image: nginx\n",
    [
        "pod.yaml:6:3: spec.contaners: unknown field; did you mean \"containers\"?",
        "pod.yaml:6:3: spec.containers: required value"
    ]
);

bad!(unknown_container_field_suggests_the_right_name, tail "    imagePullPolicy: Always\n    comand: [sleep]\n",
    ["pod.yaml:10:5: spec.containers[0].comand: unknown field; did you mean \"command\"?"]);

bad!(unknown_field_far_from_any_name_has_no_hint, tail "    frobnicate: true\n",
    ["pod.yaml:9:5: spec.containers[0].frobnicate: unknown field"]);

bad!(
    unknown_metadata_field,
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  lables:\n    app: web\nspec:\n  containers:\n  - name: app\n    image: nginx\n",
    ["pod.yaml:5:3: metadata.lables: unknown field; did you mean \"labels\"?"]
);

bad!(string_field_given_a_number_says_quote_it, tail "    command: [sleep, 1000]\n",
    ["pod.yaml:9:22: spec.containers[0].command[1]: expected a string, found an integer; quote it"]);

bad!(list_field_given_a_string, tail "    args: --verbose\n",
    ["pod.yaml:9:11: spec.containers[0].args: expected a list, found a string"]);

bad!(object_field_given_a_list, tail "    resources: [cpu]\n",
    ["pod.yaml:9:16: spec.containers[0].resources: expected a mapping, found a list"]);

bad!(bool_field_given_a_string, tail "    tty: \"yes\"\n",
    ["pod.yaml:9:10: spec.containers[0].tty: expected true or false, found a string"]);

bad!(integer_field_given_a_string, tail "    ports:\n    - containerPort: http\n",
    ["pod.yaml:10:22: spec.containers[0].ports[0].containerPort: expected an integer, found a string"]);

bad!(integer_out_of_32_bit_range, tail "    ports:\n    - containerPort: 4294967296\n",
    ["pod.yaml:10:22: spec.containers[0].ports[0].containerPort: 4294967296 is out of range for a 32-bit integer"]);

bad!(
    label_value_given_a_number,
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    version: 1.0\nspec:\n  containers:\n  - name: app\n    image: nginx\n",
    ["pod.yaml:6:14: metadata.labels.version: expected a string, found a number; quote it"]
);

// Enums.

bad!(restart_policy_value_is_checked, tail "  restartPolicy: Sometimes\n",
    ["pod.yaml:9:18: spec.restartPolicy: unsupported value \"Sometimes\": expected one of \"Always\", \"OnFailure\", \"Never\""]);

bad!(restart_policy_typo_is_suggested, tail "  restartPolicy: Nevr\n",
    ["pod.yaml:9:18: spec.restartPolicy: unsupported value \"Nevr\": expected one of \"Always\", \"OnFailure\", \"Never\"; did you mean \"Never\"?"]);

bad!(pull_policy_value_is_checked, tail "    imagePullPolicy: Sometimes\n",
    ["pod.yaml:9:22: spec.containers[0].imagePullPolicy: unsupported value \"Sometimes\": expected one of \"Always\", \"IfNotPresent\", \"Never\""]);

bad!(protocol_is_upper_case, tail "    ports:\n    - containerPort: 53\n      protocol: udp\n",
    ["pod.yaml:11:17: spec.containers[0].ports[0].protocol: unsupported value \"udp\": expected one of \"TCP\", \"UDP\", \"SCTP\"; did you mean \"UDP\"?"]);

bad!(dns_policy_value_is_checked, tail "  dnsPolicy: Cluster\n",
    ["pod.yaml:9:14: spec.dnsPolicy: unsupported value \"Cluster\": expected one of \"ClusterFirst\", \"ClusterFirstWithHostNet\", \"Default\", \"None\""]);

// Required values and documents.

bad!(
    missing_image_is_required,
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n",
    ["pod.yaml:7:5: spec.containers[0].image: required value"]
);

bad!(empty_image_is_required, tail "  - name: other\n    image: \"\"\n",
    ["pod.yaml:10:5: spec.containers[1].image: required value"]);

bad!(
    empty_container_list_is_an_error,
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n",
    ["pod.yaml:6:3: spec.containers: required value"]
);

bad!(
    missing_name_is_required,
    "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {app: web}\nspec:\n  containers:\n  - name: app\n    image: nginx\n",
    ["pod.yaml:3:1: metadata.name: required value (or generateName)"]
);

bad!(
    unsupported_kind_is_an_error,
    "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n",
    [
        "pod.yaml:2:1: kind: unsupported kind \"Ingress\": peapod reads Pod, ConfigMap, Secret, Deployment, ReplicaSet, StatefulSet, DaemonSet and Job documents"
    ]
);

bad!(
    cron_job_is_refused_with_what_to_do_instead,
    "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\n",
    [
        "pod.yaml:2:1: kind: unsupported kind \"CronJob\": peapod has no scheduler; run the jobTemplate as a Job from a systemd timer or cron"
    ]
);

bad!(
    wrong_api_version_is_an_error,
    "apiVersion: v2\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: nginx\n",
    ["pod.yaml:1:1: apiVersion: expected \"v1\""]
);

bad!(
    scalar_document_is_an_error,
    "just text\n",
    ["pod.yaml:1:1: expected a Pod, ConfigMap, Secret or workload document, found a string"]
);

// Names.

bad!(
    pod_name_must_be_a_dns_subdomain,
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: My_Web\nspec:\n  containers:\n  - name: app\n    image: nginx\n",
    [
        "pod.yaml:4:3: metadata.name: invalid value \"My_Web\": expected a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit"
    ]
);

bad!(container_name_must_be_a_dns_label, tail "  - name: Side.Car\n    image: busybox\n",
    ["pod.yaml:9:5: spec.containers[1].name: invalid value \"Side.Car\": expected a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"]);

bad!(duplicate_container_names, tail "  - name: app\n    image: busybox\n",
    ["pod.yaml:9:5: spec.containers[1].name: duplicate container name \"app\""]);

bad!(init_and_app_containers_share_one_namespace_of_names, tail "  initContainers:\n  - name: app\n    image: busybox\n",
    ["pod.yaml:7:5: spec.containers[0].name: duplicate container name \"app\""]);

bad!(
    label_key_must_be_a_qualified_name,
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    bad key: x\nspec:\n  containers:\n  - name: app\n    image: nginx\n",
    [
        "pod.yaml:6:5: metadata.labels.bad key: invalid value \"bad key\": expected a qualified name: an optional DNS-1123 subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
    ]
);

// Volumes and mounts.

bad!(volume_mount_names_a_missing_volume, tail "    volumeMounts:\n    - name: logs\n      mountPath: /var/log\n",
    ["pod.yaml:10:7: spec.containers[0].volumeMounts[0].name: no volume named \"logs\""]);

bad!(duplicate_volume_names, tail "  volumes:\n  - name: data\n    emptyDir: {}\n  - name: data\n    emptyDir: {}\n",
    ["pod.yaml:12:5: spec.volumes[1].name: duplicate volume name \"data\""]);

bad!(volume_without_source, tail "  volumes:\n  - name: data\n",
    ["pod.yaml:10:5: spec.volumes[0]: must specify one volume source: emptyDir, hostPath, configMap, secret, downwardAPI, projected"]);

bad!(volume_with_two_sources, tail "  volumes:\n  - name: data\n    emptyDir: {}\n    hostPath:\n      path: /data\n",
    ["pod.yaml:12:5: spec.volumes[0].hostPath: may not specify more than one volume source: \"emptyDir\" is already given"]);

bad!(cluster_volume_type_is_unsupported, tail "  volumes:\n  - name: data\n    persistentVolumeClaim:\n      claimName: data\n",
    ["pod.yaml:11:5: spec.volumes[0].persistentVolumeClaim: not supported by peapod: A cluster storage volume; not supported on a single host (use hostPath or emptyDir)."]);

bad!(host_path_must_be_absolute, tail "  volumes:\n  - name: data\n    hostPath:\n      path: data\n",
    ["pod.yaml:12:7: spec.volumes[0].hostPath.path: invalid value \"data\": expected an absolute path"]);

bad!(mount_path_must_be_absolute, tail "    volumeMounts:\n    - name: data\n      mountPath: var/data\n  volumes:\n  - name: data\n    emptyDir: {}\n",
    ["pod.yaml:11:7: spec.containers[0].volumeMounts[0].mountPath: invalid value \"var/data\": expected an absolute path"]);

bad!(sub_path_may_not_climb_out, tail "    volumeMounts:\n    - name: data\n      mountPath: /data\n      subPath: ../etc\n  volumes:\n  - name: data\n    emptyDir: {}\n",
    ["pod.yaml:12:7: spec.containers[0].volumeMounts[0].subPath: invalid value \"../etc\": expected a path without '..'"]);

bad!(config_map_volume_names_a_missing_config_map, tail "  volumes:\n  - name: config\n    configMap:\n      name: settings\n",
    ["pod.yaml:12:7: spec.volumes[0].configMap.name: no ConfigMap named \"settings\" in this file or --config-dir; add it, or set optional: true"]);

bad!(secret_volume_names_a_missing_secret, tail "  volumes:\n  - name: tls\n    secret:\n      secretName: certs\n",
    ["pod.yaml:12:7: spec.volumes[0].secret.secretName: no Secret named \"certs\" in this file or --config-dir; add it, or set optional: true"]);

bad!(file_mode_out_of_range, tail "  volumes:\n  - name: tls\n    secret:\n      secretName: certs\n      optional: true\n      defaultMode: 1000\n",
    ["pod.yaml:14:7: spec.volumes[0].secret.defaultMode: 1000: must be a file mode from 0000 to 0777 (0 to 511)"]);

// Environment and references.

bad!(config_map_key_ref_names_a_missing_config_map, tail "    env:\n    - name: MODE\n      valueFrom:\n        configMapKeyRef:\n          name: settings\n          key: mode\n",
    ["pod.yaml:13:11: spec.containers[0].env[0].valueFrom.configMapKeyRef.name: no ConfigMap named \"settings\" in this file or --config-dir; add it, or set optional: true"]);

bad!(
    config_map_key_ref_names_a_missing_key,
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: prod\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: nginx\n    env:\n    - name: MODE\n      valueFrom:\n        configMapKeyRef:\n          name: settings\n          key: mod\n",
    [
        "pod.yaml:21:11: spec.containers[0].env[0].valueFrom.configMapKeyRef.key: ConfigMap \"settings\" has no key \"mod\"; did you mean \"mode\"?"
    ]
);

bad!(env_value_and_value_from_together, tail "    env:\n    - name: NAME\n      value: x\n      valueFrom:\n        fieldRef:\n          fieldPath: metadata.name\n",
    ["pod.yaml:12:7: spec.containers[0].env[0].valueFrom: may not be given when value is not empty"]);

bad!(env_field_ref_path_is_checked, tail "    env:\n    - name: NODE\n      valueFrom:\n        fieldRef:\n          fieldPath: spec.nodeNam\n",
    ["pod.yaml:13:11: spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: unsupported value \"spec.nodeNam\": expected one of metadata.name, metadata.namespace, metadata.uid, spec.nodeName, spec.serviceAccountName, status.hostIP, status.hostIPs, status.podIP, status.podIPs, metadata.labels['<key>'], metadata.annotations['<key>']"]);

bad!(env_source_needs_one_field, tail "    env:\n    - name: EMPTY\n      valueFrom: {}\n",
    ["pod.yaml:11:18: spec.containers[0].env[0].valueFrom: must specify one source: fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef"]);

bad!(env_name_may_not_hold_equals, tail "    env:\n    - name: A=B\n      value: x\n",
    ["pod.yaml:10:7: spec.containers[0].env[0].name: invalid value \"A=B\": expected an environment variable name: printable ASCII characters other than '='"]);

// Ports.

bad!(host_port_needs_a_container_port, tail "    ports:\n    - hostPort: 8080\n",
    ["pod.yaml:10:7: spec.containers[0].ports[0].containerPort: required value"]);

bad!(container_port_out_of_range, tail "    ports:\n    - containerPort: 70000\n",
    ["pod.yaml:10:7: spec.containers[0].ports[0].containerPort: 70000: must be between 1 and 65535, inclusive"]);

bad!(duplicate_host_ports_in_a_pod, tail "    ports:\n    - containerPort: 80\n      hostPort: 8080\n  - name: other\n    image: nginx\n    ports:\n    - containerPort: 81\n      hostPort: 8080\n",
    ["pod.yaml:16:7: spec.containers[1].ports[0].hostPort: duplicate hostPort 8080/Tcp in the pod"]);

bad!(host_network_host_port_must_match, tail "    ports:\n    - containerPort: 80\n      hostPort: 8080\n  hostNetwork: true\n",
    ["pod.yaml:11:7: spec.containers[0].ports[0].hostPort: 8080: must equal containerPort (80) when hostNetwork is true"]);

bad!(port_name_syntax, tail "    ports:\n    - name: HTTP\n      containerPort: 80\n",
    ["pod.yaml:10:7: spec.containers[0].ports[0].name: invalid value \"HTTP\": expected a port name: at most 15 lowercase letters, digits and '-', with a letter, without '--', not starting or ending with '-'"]);

// Resources.

bad!(quantity_syntax_is_checked, tail "    resources:\n      limits:\n        memory: 128MB\n",
    ["pod.yaml:11:17: spec.containers[0].resources.limits.memory: \"128MB\" is not a quantity: expected a number with an optional suffix (500m, 128Mi, 1.5Gi, 2e3)"]);

bad!(request_above_limit, tail "    resources:\n      requests:\n        cpu: \"2\"\n      limits:\n        cpu: 500m\n",
    ["pod.yaml:11:9: spec.containers[0].resources.requests.cpu: 2: must be less than or equal to the cpu limit of 500m"]);

bad!(unknown_resource_name, tail "    resources:\n      limits:\n        gpu: 1\n",
    ["pod.yaml:11:9: spec.containers[0].resources.limits.gpu: unsupported resource \"gpu\": expected cpu, memory, ephemeral-storage, hugepages-<size> or a domain-prefixed extended resource"]);

bad!(cpu_limit_above_the_kernels_cfs_quota, tail "    resources:\n      limits:\n        cpu: \"1e9\"\n",
    ["pod.yaml:11:9: spec.containers[0].resources.limits.cpu: 1e9: must be at most 175921860444m (the kernel refuses a CFS quota above 17592186044415 µs per 100 ms period)"]);

bad!(memory_limit_below_6mi_cannot_start, tail "    resources:\n      limits:\n        memory: \"1\"\n",
    ["pod.yaml:11:9: spec.containers[0].resources.limits.memory: 1: must be at least 6Mi (6291456 bytes): a smaller limit kills the container as it starts"]);

bad!(memory_limit_above_int64, tail "    resources:\n      limits:\n        memory: 9Ei\n",
    ["pod.yaml:11:9: spec.containers[0].resources.limits.memory: 9Ei: must be at most 9223372036854775807 bytes (an int64, as Kubernetes counts bytes)"]);

#[test]
fn limits_at_the_bounds_are_valid() {
    let tail = "    resources:\n      limits:\n        cpu: 175921860444m\n        memory: 6Mi\n";
    assert_eq!(errors_after_head(tail), Vec::<String>::new());
    let init = "  initContainers:\n  - name: i\n    image: busybox\n    resources:\n      limits:\n        memory: 5Mi\n";
    assert_eq!(
        errors_after_head(init),
        vec!["pod.yaml:14:9: spec.initContainers[0].resources.limits.memory: 5Mi: must be at least 6Mi (6291456 bytes): a smaller limit kills the container as it starts".to_owned()]
    );
}

#[test]
fn annotations_over_256_kib_in_total_are_too_long() {
    let value = "x".repeat(200 << 10);
    let source = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    a: {value}\n    b: {value}\nspec:\n  containers:\n  - name: app\n    image: nginx\n"
    );
    assert_eq!(
        errors(&source),
        vec![format!(
            "pod.yaml:5:3: metadata.annotations: Too long: must have at most 262144 bytes (keys and values add up to {})",
            2 * (1 + (200 << 10))
        )]
    );
    let fits = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    a: {}\nspec:\n  containers:\n  - name: app\n    image: nginx\n",
        "x".repeat((256 << 10) - 1)
    );
    assert_eq!(errors(&fits), Vec::<String>::new());
}

bad!(negative_quantity, tail "    resources:\n      limits:\n        memory: -1Gi\n",
    ["pod.yaml:11:9: spec.containers[0].resources.limits.memory: -1Gi: must be 0 or more"]);

// Probes, hooks, sidecars.

bad!(probe_needs_a_handler, tail "    livenessProbe:\n      periodSeconds: 5\n",
    ["pod.yaml:10:7: spec.containers[0].livenessProbe: must specify one handler: exec, httpGet, tcpSocket, grpc"]);

bad!(unquoted_true_in_a_command_and_a_threshold_are_both_reported, tail "    livenessProbe:\n      exec:\n        command: [true]\n      successThreshold: 2\n",
    ["pod.yaml:11:19: spec.containers[0].livenessProbe.exec.command[0]: expected a string, found a boolean; quote it",
     "pod.yaml:12:7: spec.containers[0].livenessProbe.successThreshold: 2: must be 1 for liveness and startup probes"]);

bad!(liveness_success_threshold_above_one, tail "    livenessProbe:\n      exec:\n        command: [\"true\"]\n      successThreshold: 2\n",
    ["pod.yaml:12:7: spec.containers[0].livenessProbe.successThreshold: 2: must be 1 for liveness and startup probes"]);

bad!(probe_port_name_must_exist, tail "    readinessProbe:\n      httpGet:\n        port: http\n",
    ["pod.yaml:11:9: spec.containers[0].readinessProbe.httpGet.port: no port named \"http\" in the container's ports"]);

bad!(plain_init_container_takes_no_probe, tail "  initContainers:\n  - name: setup\n    image: busybox\n    readinessProbe:\n      exec:\n        command: [\"true\"]\n",
    ["pod.yaml:12:5: spec.initContainers[0].readinessProbe: may not be set on an init container unless it is a sidecar (restartPolicy: Always)"]);

bad!(app_container_takes_no_restart_policy, tail "    restartPolicy: Always\n",
    ["pod.yaml:9:5: spec.containers[0].restartPolicy: only init containers may set restartPolicy (Always makes a sidecar)"]);

bad!(exec_command_may_not_be_empty, tail "    lifecycle:\n      preStop:\n        exec:\n          command: []\n",
    ["pod.yaml:12:11: spec.containers[0].lifecycle.preStop.exec.command: required value"]);

// Pod-level fields.

bad!(negative_grace_period, tail "  terminationGracePeriodSeconds: -1\n",
    ["pod.yaml:9:3: spec.terminationGracePeriodSeconds: -1: must be 0 or more"]);

bad!(host_alias_ip_must_be_an_address, tail "  hostAliases:\n  - ip: 10.9.8\n    hostnames: [a.example]\n",
    ["pod.yaml:10:5: spec.hostAliases[0].ip: invalid value \"10.9.8\": expected an IP address"]);

bad!(dns_policy_none_needs_nameservers, tail "  dnsPolicy: None\n",
    ["pod.yaml:9:3: spec.dnsPolicy: None needs at least one nameserver in dnsConfig.nameservers"]);

bad!(ids_outside_the_user_namespace_are_refused, tail "    securityContext: {runAsUser: 65536}\n  hostUsers: false\n  securityContext: {supplementalGroups: [70000], fsGroup: 65535}\n",
    ["pod.yaml:9:23: spec.containers[0].securityContext.runAsUser: 65536: must be between 0 and 65535, inclusive in the pod's user namespace (hostUsers: false)",
     "pod.yaml:11:42: spec.securityContext.supplementalGroups[0]: 70000: must be between 0 and 65535, inclusive in the pod's user namespace (hostUsers: false)"]);

bad!(host_users_false_with_host_namespaces, tail "  hostUsers: false\n  hostNetwork: true\n  hostPID: true\n  hostIPC: true\n",
    ["pod.yaml:10:3: spec.hostNetwork: Forbidden: when `hostUsers` is false",
     "pod.yaml:11:3: spec.hostPID: Forbidden: when `hostUsers` is false",
     "pod.yaml:12:3: spec.hostIPC: Forbidden: when `hostUsers` is false"]);

bad!(share_process_namespace_with_host_pid, tail "  shareProcessNamespace: true\n  hostPID: true\n",
    ["pod.yaml:9:3: spec.shareProcessNamespace: may not be true together with hostPID"]);

// ConfigMap and Secret documents.

bad!(
    secret_data_must_be_base64,
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ndata:\n  password: hunter2\n",
    [
        "pod.yaml:6:3: data.password: expected base64 (padded, standard alphabet); use stringData for text"
    ]
);

bad!(
    config_map_key_syntax,
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  bad key: x\n",
    [
        "pod.yaml:6:3: data.bad key: invalid value \"bad key\": expected a key: at most 253 letters, digits, '-', '_' or '.', and not \".\" or \"..\""
    ]
);

bad!(
    duplicate_pods_in_one_file,
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: nginx\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: nginx\n",
    ["pod.yaml:13:3: metadata.name: duplicate pod \"web\" in namespace \"default\""]
);

// YAML syntax.

bad!(
    bad_indentation_names_both_keys,
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n     image: nginx\n",
    [
        "pod.yaml:8:6: bad indentation: \"image\" is indented more than \"name\" above it (column 6 against 5); keys of one mapping start in the same column"
    ]
);

bad!(
    duplicate_keys_are_an_error,
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  name: web2\nspec:\n  containers:\n  - name: app\n    image: nginx\n",
    ["pod.yaml:5:3: invalid YAML: duplicate mapping key: name"]
);

bad!(
    unclosed_flow_sequence,
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - name: app\n    image: nginx\n    command: [sleep, \"1\"\n",
    ["pod.yaml:8:14: invalid YAML: unclosed bracket '['"]
);

#[test]
fn all_errors_are_collected_not_only_the_first() {
    let found = errors_after_head(
        "    comand: [sleep]\n  - name: app\n    image: busybox\n  restartPolicy: Sometimes\n",
    );
    assert_eq!(found.len(), 3, "{found:#?}");
}

#[test]
fn warn_mode_turns_unknown_fields_into_warnings() {
    let source = format!("{HEAD}    comand: [sleep]\n");
    let manifest = parse_manifest(&source, "pod.yaml", ValidationMode::Warn).unwrap();
    let warnings: Vec<String> = manifest.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        ["pod.yaml:9:5: spec.containers[0].comand: unknown field; did you mean \"command\"?"]
    );
}

#[test]
fn ignore_mode_drops_unknown_fields_silently() {
    let source = format!("{HEAD}    comand: [sleep]\n");
    let manifest = parse_manifest(&source, "pod.yaml", ValidationMode::Ignore).unwrap();
    assert!(manifest.warnings.is_empty());
}

#[test]
fn cluster_only_fields_are_warnings_in_every_mode() {
    let source = format!("{HEAD}  nodeSelector:\n    disk: ssd\n  ephemeralContainers: []\n");
    let manifest = parse_manifest(&source, "pod.yaml", ValidationMode::Strict).unwrap();
    let warnings: Vec<String> = manifest.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "pod.yaml:9:3: spec.nodeSelector: ignored on a single host",
            "pod.yaml:11:3: spec.ephemeralContainers: ignored on a single host",
        ]
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let source = format!("{}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let found = errors(&source);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("pod.yaml:1:"), "{found:?}");
}

#[test]
fn alias_bomb_is_an_error() {
    let mut source = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let prev = level - 1;
        let name = format!("l{level}");
        let refs = vec![
            if prev == 0 {
                "*a".to_owned()
            } else {
                format!("*l{prev}")
            };
            10
        ]
        .join(", ");
        writeln!(source, "{name}: &{name} [{refs}]").unwrap();
    }
    let found = errors(&source);
    assert!(
        found
            .iter()
            .any(|e| e.contains("alias replay limit exceeded")),
        "{found:?}"
    );
}

/// Found by the `manifest` fuzz target: with `spec` misspelled and
/// unknown fields ignored, a pod without containers was accepted.
#[test]
fn pod_without_spec_is_an_error_even_when_unknown_fields_are_ignored() {
    let source = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\ns`ec:\n  containers:\n  - name: app\n    image: nginx\n";
    let found: Vec<String> = parse_manifest(source, "pod.yaml", ValidationMode::Ignore)
        .unwrap_err()
        .errors
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(found, ["pod.yaml:1:1: spec: required value"]);
}

// Fields peapod reads but does not enforce: a warning each, with its line.

fn warnings_after_head(tail: &str) -> Vec<String> {
    let source = format!("{HEAD}{tail}");
    match parse_manifest(&source, "pod.yaml", ValidationMode::Strict) {
        Ok(manifest) => manifest.warnings.iter().map(ToString::to_string).collect(),
        Err(diagnostics) => panic!("{diagnostics}"),
    }
}

#[test]
fn fields_peapod_does_not_enforce_warn_with_file_line_and_path() {
    let tail = "    volumeMounts:\n    - {name: v, mountPath: /v, readOnly: true, recursiveReadOnly: Enabled}\n    resources:\n      limits:\n        hugepages-2Mi: 4Mi\n  volumes:\n  - name: v\n    emptyDir: {}\n";
    assert_eq!(
        warnings_after_head(tail),
        vec![
            "pod.yaml:13:9: spec.containers[0].resources.limits.hugepages-2Mi: not enforced by peapod: accepted, but the pod runs as if it were not set",
        ]
    );
}

#[test]
fn honoured_values_and_enforced_fields_give_no_warning() {
    let tail = "    stdinOnce: true\n    resources:\n      limits:\n        cpu: 500m\n        memory: 64Mi\n        ephemeral-storage: 1Gi\n  hostPID: true\n  hostIPC: true\n  setHostnameAsFQDN: false\n  hostUsers: true\n  volumes:\n    - name: scratch\n      emptyDir: { sizeLimit: 1Gi }\n";
    assert_eq!(warnings_after_head(tail), Vec::<String>::new());
}

bad!(grpc_probes_are_refused_at_validation, tail "    livenessProbe:\n      grpc:\n        port: 9090\n",
    ["pod.yaml:10:7: spec.containers[0].livenessProbe.grpc: not supported by peapod: gRPC health checks; use exec, httpGet or tcpSocket."]);

bad!(mount_propagation_other_than_none_is_refused_at_validation, tail "    volumeMounts:\n    - {name: v, mountPath: /v, mountPropagation: HostToContainer}\n  volumes:\n  - name: v\n    emptyDir: {}\n",
    ["pod.yaml:10:32: spec.containers[0].volumeMounts[0].mountPropagation: HostToContainer: not supported by peapod (only None)"]);

// Security contexts Kubernetes refuses.

bad!(no_privilege_escalation_with_privileged_is_refused,
    tail "    securityContext:\n      privileged: true\n      allowPrivilegeEscalation: false\n",
    ["pod.yaml:9:5: spec.containers[0].securityContext: cannot set `allowPrivilegeEscalation` to false and `privileged` to true"]);

bad!(no_privilege_escalation_with_cap_sys_admin_added_is_refused,
    tail "    securityContext:\n      allowPrivilegeEscalation: false\n      capabilities:\n        add: [CAP_SYS_ADMIN]\n",
    ["pod.yaml:9:5: spec.containers[0].securityContext: cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"]);

bad!(no_privilege_escalation_with_sys_admin_without_prefix_is_refused_too,
    tail "    securityContext:\n      allowPrivilegeEscalation: false\n      capabilities:\n        add: [sys_admin]\n",
    ["pod.yaml:9:5: spec.containers[0].securityContext: cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"]);

bad!(negative_ids_are_refused_at_pod_and_container_level,
tail "    securityContext:\n      runAsUser: -1\n  securityContext:\n    runAsGroup: -5\n    supplementalGroups: [4000, -2]\n    supplementalGroupsPolicy: Strict\n",
[
    "pod.yaml:10:7: spec.containers[0].securityContext.runAsUser: -1: must be between 0 and 2147483647, inclusive",
    "pod.yaml:12:5: spec.securityContext.runAsGroup: -5: must be between 0 and 2147483647, inclusive",
    "pod.yaml:13:32: spec.securityContext.supplementalGroups[1]: -2: must be between 0 and 2147483647, inclusive",
]);

#[test]
fn supplemental_groups_policy_takes_merge_or_strict() {
    let ok = "  securityContext:\n    supplementalGroupsPolicy: Merge\n";
    assert_eq!(errors_after_head(ok), Vec::<String>::new());
    let bad = errors_after_head("  securityContext:\n    supplementalGroupsPolicy: Loose\n");
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].starts_with("pod.yaml:10:31: spec.securityContext.supplementalGroupsPolicy:"),
        "{bad:?}"
    );
}

bad!(seccomp_localhost_profile_is_required_relative_and_only_for_localhost,
tail "    securityContext:\n      seccompProfile:\n        type: Localhost\n  - name: b\n    image: busybox\n    securityContext:\n      seccompProfile:\n        type: Localhost\n        localhostProfile: ../../etc/deny.json\n  securityContext:\n    seccompProfile:\n      type: RuntimeDefault\n      localhostProfile: deny.json\n",
[
    "pod.yaml:10:7: spec.containers[0].securityContext.seccompProfile: `localhostProfile` must be set when `type` is Localhost",
    "pod.yaml:17:9: spec.containers[1].securityContext.seccompProfile.localhostProfile: \"../../etc/deny.json\": must be a relative path without `..`",
    "pod.yaml:21:7: spec.securityContext.seccompProfile.localhostProfile: can only be set when `type` is Localhost",
]);

bad!(a_fqdn_hostname_over_64_characters_is_refused, tail "  subdomain: a-rather-long-subdomain-name-abcdef\n  setHostnameAsFQDN: true\n",
    ["pod.yaml:10:3: spec.setHostnameAsFQDN: Failed to construct FQDN from pod hostname and cluster domain, FQDN web.a-rather-long-subdomain-name-abcdef.default.svc.cluster.local is too long (64 characters is the max, 65 characters requested)"]);

#[test]
fn config_map_and_secret_values_over_1_mib_are_too_long() {
    let half = "x".repeat(600 << 10);
    let config_map = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  a: {half}\n  b: {half}\n"
    );
    assert_eq!(
        errors(&config_map),
        vec![format!(
            "pod.yaml:5:1: data: Too long: must have at most 1048576 bytes (the values add up to {})",
            2 * (600 << 10)
        )]
    );
    // stringData over data counts once; 1 MiB exactly is allowed.
    let mib = "y".repeat(1 << 20);
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  k: eHl6\nstringData:\n  k: {mib}\n"
    );
    assert_eq!(errors(&secret), Vec::<String>::new());
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  j: eHl6\nstringData:\n  k: {mib}\n"
    );
    assert_eq!(
        errors(&secret),
        vec![format!(
            "pod.yaml:5:1: data: Too long: must have at most 1048576 bytes (the values add up to {})",
            (1 << 20) + 3
        )]
    );
}

bad!(recursive_read_only_needs_read_only, tail "    volumeMounts:\n    - {name: v, mountPath: /v, recursiveReadOnly: IfPossible}\n  volumes:\n  - name: v\n    emptyDir: {}\n",
    ["pod.yaml:10:32: spec.containers[0].volumeMounts[0].recursiveReadOnly: may only be specified when readOnly is true"]);

bad!(stop_signal_must_be_a_signal_and_needs_the_os, tail "    lifecycle:\n      stopSignal: SIGFOO\n",
[
    "pod.yaml:10:7: spec.containers[0].lifecycle.stopSignal: unsupported value \"SIGFOO\": expected a signal name (SIGTERM, SIGUSR1, SIGRTMIN+1, ...)",
    "pod.yaml:10:7: spec.containers[0].lifecycle.stopSignal: may only be set when spec.os.name is set"
]);
