//! Containers: names, ports, env, resources, mounts, probes and hooks.

use std::collections::BTreeSet;
use std::fmt;

use super::references::ObjectKind;
use super::{Doc, Validator, names};
use crate::container::{
    Container, EnvVar, MountPropagation, RecursiveReadOnlyMode, ResourceRequirements,
};
use crate::handler::{HTTPGetAction, IntOrString, LifecycleHandler, Probe, TCPSocketAction};
use crate::pod::PodSpec;

/// Field paths the downward API gives to env vars.
const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// Whether `path` is a downward API field path; `extra` are the plain
/// paths allowed besides `metadata.labels['k']`/`metadata.annotations['k']`.
pub(super) fn field_path_ok(path: &str, extra: &[&str]) -> bool {
    let subscripted = ["metadata.labels['", "metadata.annotations['"]
        .iter()
        .any(|prefix| {
            path.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix("']"))
                .is_some_and(|key| names::qualified_name(key).is_ok())
        });
    subscripted || extra.contains(&path)
}

/// Whether `resource` can be read by a resourceFieldRef.
pub(super) fn resource_field_ok(resource: &str) -> bool {
    let Some((kind, name)) = resource.split_once('.') else {
        return false;
    };
    matches!(kind, "limits" | "requests")
        && (matches!(name, "cpu" | "memory" | "ephemeral-storage")
            || name.starts_with("hugepages-"))
}

/// The largest CFS quota the kernel takes, in µs per period: `MAX_BW` of
/// `kernel/sched/core.c`, 2^44 - 1 (`cpu.cfs_quota_us` and `cpu.max`
/// refuse more with EINVAL).
const MAX_CFS_QUOTA_US: i128 = (1 << 44) - 1;

/// The largest `limits.cpu` in millicores: the kubelet's quota is
/// `milliCPU × period / 1000` with its 100 ms period.
pub(super) const MAX_CPU_LIMIT_MILLI: i128 = MAX_CFS_QUOTA_US / 100;

/// The smallest `limits.memory`: docker's minimum (6 MiB, moby's
/// `linuxMinMemory`); below it a container is OOM-killed while it starts
/// and crash-loops.
pub(super) const MIN_MEMORY_LIMIT_BYTES: i128 = 6 << 20;

/// Whether peapod enforces resource `name` in `kind` (`limits` or
/// `requests`): cpu and memory (cgroups), and the ephemeral-storage limit
/// (the runtime's eviction).
fn enforced_resource(name: &str, kind: &str) -> bool {
    matches!(name, "cpu" | "memory") || (name == "ephemeral-storage" && kind == "limits")
}

/// Why a (non-negative) limit cannot be enforced, if it cannot.
fn limit_out_of_range(name: &str, quantity: &crate::Quantity) -> Option<String> {
    match name {
        "cpu" if quantity.milli_value() > MAX_CPU_LIMIT_MILLI => Some(format!(
            "{quantity}: must be at most {MAX_CPU_LIMIT_MILLI}m (the kernel refuses a CFS quota above {MAX_CFS_QUOTA_US} µs per 100 ms period)"
        )),
        "memory" if quantity.value() < MIN_MEMORY_LIMIT_BYTES => Some(format!(
            "{quantity}: must be at least 6Mi ({MIN_MEMORY_LIMIT_BYTES} bytes): a smaller limit kills the container as it starts"
        )),
        "memory" if quantity.value() > i128::from(i64::MAX) => Some(format!(
            "{quantity}: must be at most {} bytes (an int64, as Kubernetes counts bytes)",
            i64::MAX
        )),
        _ => None,
    }
}

impl Validator<'_, '_> {
    pub(super) fn containers(&mut self, doc: Doc<'_>, spec: &PodSpec) {
        let volumes: BTreeSet<&str> = spec.volumes.iter().map(|v| v.name.as_str()).collect();
        let mut names_seen = BTreeSet::new();
        let mut host_ports = BTreeSet::new();
        let all = spec
            .init_containers
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("spec.initContainers[{i}]"), c, true))
            .chain(
                spec.containers
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (format!("spec.containers[{i}]"), c, false)),
            );
        for (path, container, init) in all {
            if !container.name.is_empty() {
                self.syntax(
                    doc,
                    format_args!("{path}.name"),
                    &container.name,
                    names::dns1123_label,
                );
                if !names_seen.insert(container.name.as_str()) {
                    let message = format!("duplicate container name {:?}", container.name);
                    self.error(doc, format_args!("{path}.name"), message);
                }
            }
            if container.image.trim() != container.image {
                self.error(
                    doc,
                    format_args!("{path}.image"),
                    "must not have leading or trailing whitespace",
                );
            }
            self.container_kind(doc, &path, container, init);
            self.ports(
                doc,
                &path,
                container,
                spec.host_network == Some(true),
                &mut host_ports,
            );
            self.env(doc, &path, container);
            self.resources(doc, &path, container.resources.as_ref());
            self.mounts(doc, &path, container, &volumes);
            self.probes_and_hooks(doc, &path, container);
            self.stop_signal(doc, &path, container, spec);
            self.proc_mount(doc, &path, container, spec.host_users);
        }
    }

    /// `procMount: Unmasked` shows the `/proc` files the masks hide; the
    /// API server allows it only in a user namespace (`hostUsers:
    /// false`), where root is an unprivileged host id.
    fn proc_mount(
        &mut self,
        doc: Doc<'_>,
        path: &str,
        container: &Container,
        host_users: Option<bool>,
    ) {
        let unmasked = container
            .security_context
            .as_ref()
            .and_then(|sc| sc.proc_mount)
            == Some(crate::security::ProcMountType::Unmasked);
        if !unmasked || host_users == Some(false) {
            return;
        }
        self.error(
            doc,
            format_args!("{path}.securityContext.procMount"),
            "invalid value \"Unmasked\": `hostUsers` must be false to use `Unmasked`",
        );
    }

    /// restartPolicy is for init containers (sidecars); plain init
    /// containers run to completion and take no probes or hooks.
    fn container_kind(&mut self, doc: Doc<'_>, path: &str, container: &Container, init: bool) {
        if !init && container.restart_policy.is_some() {
            let message = "only init containers may set restartPolicy (Always makes a sidecar)";
            self.error(doc, format_args!("{path}.restartPolicy"), message);
        }
        if init && !container.is_sidecar() {
            let fields = [
                ("lifecycle", container.lifecycle.is_some()),
                ("livenessProbe", container.liveness_probe.is_some()),
                ("readinessProbe", container.readiness_probe.is_some()),
                ("startupProbe", container.startup_probe.is_some()),
            ];
            for (field, _) in fields.iter().filter(|(_, set)| *set) {
                let message = "may not be set on an init container unless it is a sidecar (restartPolicy: Always)";
                self.error(doc, format_args!("{path}.{field}"), message);
            }
        }
    }

    fn ports(
        &mut self,
        doc: Doc<'_>,
        path: &str,
        container: &Container,
        host_network: bool,
        host_ports: &mut BTreeSet<(i32, crate::Protocol, String)>,
    ) {
        let mut port_names = BTreeSet::new();
        for (i, port) in container.ports.iter().enumerate() {
            let path = format!("{path}.ports[{i}]");
            if port.container_port != 0 {
                self.port_range(
                    doc,
                    format_args!("{path}.containerPort"),
                    port.container_port,
                );
            }
            if let Some(host_port) = port.host_port.filter(|p| *p != 0) {
                self.port_range(doc, format_args!("{path}.hostPort"), host_port);
                if host_network && host_port != port.container_port {
                    let message = format!(
                        "{host_port}: must equal containerPort ({}) when hostNetwork is true",
                        port.container_port
                    );
                    self.error(doc, format_args!("{path}.hostPort"), message);
                }
                let host_ip = port.host_ip.clone().unwrap_or_default();
                if !host_ports.insert((host_port, port.protocol, host_ip)) {
                    let message = format!(
                        "duplicate hostPort {host_port}/{:?} in the pod",
                        port.protocol
                    );
                    self.error(doc, format_args!("{path}.hostPort"), message);
                }
            }
            if let Some(host_ip) = &port.host_ip
                && host_ip.parse::<std::net::IpAddr>().is_err()
            {
                let message = format!("invalid value {host_ip:?}: expected an IP address");
                self.error(doc, format_args!("{path}.hostIP"), message);
            }
            if let Some(name) = &port.name {
                self.syntax(doc, format_args!("{path}.name"), name, names::port_name);
                if !port_names.insert(name.as_str()) {
                    let message = format!("duplicate port name {name:?}");
                    self.error(doc, format_args!("{path}.name"), message);
                }
            }
        }
    }

    fn port_range(&mut self, doc: Doc<'_>, path: impl fmt::Display, port: i32) {
        if !(1..=65535).contains(&port) {
            self.error(
                doc,
                path,
                format!("{port}: must be between 1 and 65535, inclusive"),
            );
        }
    }

    fn env(&mut self, doc: Doc<'_>, path: &str, container: &Container) {
        for (i, env) in container.env.iter().enumerate() {
            let path = format!("{path}.env[{i}]");
            if !env.name.is_empty() {
                self.syntax(
                    doc,
                    format_args!("{path}.name"),
                    &env.name,
                    names::env_var_name,
                );
            }
            self.env_source(doc, &path, env);
        }
        for (i, source) in container.env_from.iter().enumerate() {
            let path = format!("{path}.envFrom[{i}]");
            if let Some(r) = &source.config_map_ref {
                self.reference(
                    doc,
                    &format!("{path}.configMapRef.name"),
                    ObjectKind::ConfigMap,
                    &r.name,
                    None,
                    r.optional,
                );
            }
            if let Some(r) = &source.secret_ref {
                self.reference(
                    doc,
                    &format!("{path}.secretRef.name"),
                    ObjectKind::Secret,
                    &r.name,
                    None,
                    r.optional,
                );
            }
        }
    }

    fn env_source(&mut self, doc: Doc<'_>, path: &str, env: &EnvVar) {
        let Some(source) = &env.value_from else {
            return;
        };
        if env.value.as_deref().is_some_and(|v| !v.is_empty()) {
            self.error(
                doc,
                format_args!("{path}.valueFrom"),
                "may not be given when value is not empty",
            );
        }
        if let Some(field_ref) = &source.field_ref
            && !field_path_ok(&field_ref.field_path, ENV_FIELD_PATHS)
        {
            let message = format!(
                "unsupported value {:?}: expected one of {}, metadata.labels['<key>'], metadata.annotations['<key>']",
                field_ref.field_path,
                ENV_FIELD_PATHS.join(", ")
            );
            self.error(
                doc,
                format_args!("{path}.valueFrom.fieldRef.fieldPath"),
                message,
            );
        }
        if let Some(resource_ref) = &source.resource_field_ref
            && !resource_field_ok(&resource_ref.resource)
        {
            let message = format!(
                "unsupported value {:?}: expected limits.cpu, limits.memory, limits.ephemeral-storage, requests.cpu, requests.memory or requests.ephemeral-storage",
                resource_ref.resource
            );
            self.error(
                doc,
                format_args!("{path}.valueFrom.resourceFieldRef.resource"),
                message,
            );
        }
        if let Some(r) = &source.config_map_key_ref {
            self.reference(
                doc,
                &format!("{path}.valueFrom.configMapKeyRef"),
                ObjectKind::ConfigMap,
                &r.name,
                Some(&r.key),
                r.optional,
            );
        }
        if let Some(r) = &source.secret_key_ref {
            self.reference(
                doc,
                &format!("{path}.valueFrom.secretKeyRef"),
                ObjectKind::Secret,
                &r.name,
                Some(&r.key),
                r.optional,
            );
        }
    }

    /// Pod-level `spec.resources`: as a container's, cpu and memory only
    /// (the API server's rule for `PodLevelResources`).
    pub(super) fn pod_resources(&mut self, doc: Doc<'_>, spec: &crate::pod::PodSpec) {
        let Some(resources) = spec.resources.as_ref() else {
            return;
        };
        self.resources(doc, "spec", Some(resources));
        for (kind, list) in [
            ("limits", &resources.limits),
            ("requests", &resources.requests),
        ] {
            for name in list
                .keys()
                .filter(|n| !matches!(n.as_str(), "cpu" | "memory"))
            {
                let field = crate::check::map_key_path(&format!("spec.resources.{kind}"), name);
                let message =
                    format!("unsupported pod-level resource {name:?}: expected cpu or memory");
                self.error(doc, &field, message);
            }
        }
    }

    fn resources(&mut self, doc: Doc<'_>, path: &str, resources: Option<&ResourceRequirements>) {
        let Some(resources) = resources else { return };
        // Requests defaulted from limits repeat them: checked once, as limits.
        let given_requests = resources
            .requests
            .iter()
            .filter(|(name, request)| resources.limits.get(*name) != Some(*request));
        let lists = resources
            .limits
            .iter()
            .map(|entry| (entry, "limits"))
            .chain(given_requests.map(|entry| (entry, "requests")));
        {
            for ((name, quantity), kind) in lists {
                let field = crate::check::map_key_path(&format!("{path}.resources.{kind}"), name);
                let known = matches!(name.as_str(), "cpu" | "memory" | "ephemeral-storage")
                    || name.starts_with("hugepages-")
                    || name.contains('/');
                if !known {
                    let message = format!(
                        "unsupported resource {name:?}: expected cpu, memory, ephemeral-storage, hugepages-<size> or a domain-prefixed extended resource"
                    );
                    self.error(doc, &field, message);
                } else if !enforced_resource(name, kind) {
                    // No hugetlb cgroup, no device plugins; an
                    // ephemeral-storage request would only rank pods
                    // under node disk pressure, which peapod does not
                    // watch. Its limit evicts (runtime `eviction`).
                    self.not_enforced(doc, &field);
                }
                if quantity.is_negative() {
                    self.error(doc, &field, format!("{quantity}: must be 0 or more"));
                } else if kind == "limits"
                    && let Some(message) = limit_out_of_range(name, quantity)
                {
                    self.error(doc, &field, message);
                }
            }
        }
        for (name, request) in &resources.requests {
            if let Some(limit) = resources.limits.get(name)
                && request.milli_value() > limit.milli_value()
            {
                let field = crate::check::map_key_path(&format!("{path}.resources.requests"), name);
                let message =
                    format!("{request}: must be less than or equal to the {name} limit of {limit}");
                self.error(doc, &field, message);
            }
        }
    }

    fn mounts(
        &mut self,
        doc: Doc<'_>,
        path: &str,
        container: &Container,
        volumes: &BTreeSet<&str>,
    ) {
        let mut mount_paths = BTreeSet::new();
        let privileged = container
            .security_context
            .as_ref()
            .and_then(|s| s.privileged)
            .unwrap_or(false);
        for (i, mount) in container.volume_mounts.iter().enumerate() {
            let path = format!("{path}.volumeMounts[{i}]");
            if !mount.name.is_empty() && !volumes.contains(mount.name.as_str()) {
                self.error(
                    doc,
                    format_args!("{path}.name"),
                    format!("no volume named {:?}", mount.name),
                );
            }
            if !mount.mount_path.is_empty() {
                if !mount.mount_path.starts_with('/') {
                    self.error(
                        doc,
                        format_args!("{path}.mountPath"),
                        format!(
                            "invalid value {:?}: expected an absolute path",
                            mount.mount_path
                        ),
                    );
                }
                if !mount_paths.insert(mount.mount_path.trim_end_matches('/')) {
                    self.error(
                        doc,
                        format_args!("{path}.mountPath"),
                        format!("duplicate mountPath {:?}", mount.mount_path),
                    );
                }
            }
            if let Some(sub_path) = &mount.sub_path {
                self.syntax(
                    doc,
                    format_args!("{path}.subPath"),
                    sub_path,
                    names::relative_path,
                );
                if mount.sub_path_expr.is_some() {
                    self.error(
                        doc,
                        format_args!("{path}.subPathExpr"),
                        "may not be given together with subPath",
                    );
                }
            }
            if let Some(expr) = &mount.sub_path_expr {
                self.syntax(
                    doc,
                    format_args!("{path}.subPathExpr"),
                    expr,
                    names::relative_path,
                );
            }
            if mount
                .recursive_read_only
                .is_some_and(|r| r != RecursiveReadOnlyMode::Disabled)
            {
                // The API server's rules for recursiveReadOnly.
                if mount.read_only != Some(true) {
                    self.error(
                        doc,
                        format_args!("{path}.recursiveReadOnly"),
                        "may only be specified when readOnly is true",
                    );
                } else if mount
                    .mount_propagation
                    .is_some_and(|p| p != MountPropagation::None)
                {
                    self.error(
                        doc,
                        format_args!("{path}.recursiveReadOnly"),
                        "may only be specified when mountPropagation is None or not specified",
                    );
                }
            }
            if mount.mount_propagation == Some(MountPropagation::Bidirectional) && !privileged {
                self.error(
                    doc,
                    format_args!("{path}.mountPropagation"),
                    "Bidirectional needs a privileged container",
                );
            } else if let Some(other) = mount
                .mount_propagation
                .filter(|p| *p != MountPropagation::None)
            {
                // The mount plan binds privately; it refused these at start.
                self.error(
                    doc,
                    format_args!("{path}.mountPropagation"),
                    format!("{other:?}: not supported by peapod (only None)"),
                );
            }
        }
    }

    fn probes_and_hooks(&mut self, doc: Doc<'_>, path: &str, container: &Container) {
        let probes = [
            ("livenessProbe", &container.liveness_probe, true),
            ("readinessProbe", &container.readiness_probe, false),
            ("startupProbe", &container.startup_probe, true),
        ];
        for (field, probe, single_success) in probes {
            if let Some(probe) = probe {
                self.probe(
                    doc,
                    &format!("{path}.{field}"),
                    probe,
                    single_success,
                    container,
                );
            }
        }
        if let Some(lifecycle) = &container.lifecycle {
            for (field, handler) in [
                ("postStart", &lifecycle.post_start),
                ("preStop", &lifecycle.pre_stop),
            ] {
                if let Some(handler) = handler {
                    self.handler(
                        doc,
                        &format!("{path}.lifecycle.{field}"),
                        handler,
                        container,
                    );
                }
            }
        }
    }

    /// `lifecycle.stopSignal`: a signal Kubernetes names, and (as the API
    /// server requires) only with `spec.os.name` set.
    fn stop_signal(&mut self, doc: Doc<'_>, path: &str, container: &Container, spec: &PodSpec) {
        let Some(signal) = container
            .lifecycle
            .as_ref()
            .and_then(|l| l.stop_signal.as_deref())
        else {
            return;
        };
        let field = format!("{path}.lifecycle.stopSignal");
        if crate::signal_number(signal).is_none() {
            let message = format!(
                "unsupported value {signal:?}: expected a signal name (SIGTERM, SIGUSR1, SIGRTMIN+1, ...)"
            );
            self.error(doc, &field, message);
        }
        if spec.os.is_none() {
            self.error(doc, &field, "may only be set when spec.os.name is set");
        }
    }

    fn probe(
        &mut self,
        doc: Doc<'_>,
        path: &str,
        probe: &Probe,
        single_success: bool,
        container: &Container,
    ) {
        let minimums = [
            ("timeoutSeconds", probe.timeout_seconds, 1),
            ("periodSeconds", probe.period_seconds, 1),
            ("successThreshold", probe.success_threshold, 1),
            ("failureThreshold", probe.failure_threshold, 1),
            (
                "initialDelaySeconds",
                probe.initial_delay_seconds.unwrap_or(0),
                0,
            ),
        ];
        for (field, value, minimum) in minimums {
            if value < minimum {
                self.error(
                    doc,
                    format_args!("{path}.{field}"),
                    format!("{value}: must be {minimum} or more"),
                );
            }
        }
        if single_success && probe.success_threshold > 1 {
            let message = format!(
                "{}: must be 1 for liveness and startup probes",
                probe.success_threshold
            );
            self.error(doc, format_args!("{path}.successThreshold"), message);
        }
        self.handler_ports(
            doc,
            path,
            probe.http_get.as_ref(),
            probe.tcp_socket.as_ref(),
            container,
        );
        if let Some(grpc) = &probe.grpc {
            self.port_range(doc, format_args!("{path}.grpc.port"), grpc.port);
        }
    }

    fn handler(
        &mut self,
        doc: Doc<'_>,
        path: &str,
        handler: &LifecycleHandler,
        container: &Container,
    ) {
        self.handler_ports(
            doc,
            path,
            handler.http_get.as_ref(),
            handler.tcp_socket.as_ref(),
            container,
        );
        if let Some(sleep) = &handler.sleep
            && sleep.seconds < 0
        {
            self.error(
                doc,
                format_args!("{path}.sleep.seconds"),
                format!("{}: must be 0 or more", sleep.seconds),
            );
        }
    }

    /// The ports of an httpGet or tcpSocket handler (probe or hook).
    fn handler_ports(
        &mut self,
        doc: Doc<'_>,
        path: &str,
        http_get: Option<&HTTPGetAction>,
        tcp_socket: Option<&TCPSocketAction>,
        container: &Container,
    ) {
        if let Some(http_get) = http_get {
            self.named_port(
                doc,
                format_args!("{path}.httpGet.port"),
                &http_get.port,
                container,
            );
        }
        if let Some(tcp) = tcp_socket {
            self.named_port(
                doc,
                format_args!("{path}.tcpSocket.port"),
                &tcp.port,
                container,
            );
        }
    }

    /// A port by number (1-65535) or by the name of one of the container's ports.
    fn named_port(
        &mut self,
        doc: Doc<'_>,
        path: impl fmt::Display,
        port: &IntOrString,
        container: &Container,
    ) {
        match port {
            IntOrString::Int(number) => self.port_range(doc, path, *number),
            IntOrString::String(name) => {
                let known = container
                    .ports
                    .iter()
                    .any(|p| p.name.as_deref() == Some(name.as_str()));
                if !known {
                    let message = format!("no port named {name:?} in the container's ports");
                    self.error(doc, path, message);
                }
            }
        }
    }
}
