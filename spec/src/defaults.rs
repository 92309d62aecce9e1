//! Kubernetes' defaults, applied as the API server does on create.
//!
//! The static ones (restartPolicy Always, dnsPolicy ClusterFirst, protocol
//! TCP, terminationMessagePath and Policy, probe timings, HTTP scheme) are
//! serde defaults of the types; those that depend on other fields, or that
//! Kubernetes writes out explicitly, are set here.

use crate::container::Container;
use crate::pod::Pod;
use crate::volume::VolumeSource;

/// The namespace of a pod that names none.
pub const DEFAULT_NAMESPACE: &str = "default";
/// Seconds between SIGTERM and SIGKILL when a pod gives none.
pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS: i64 = 30;
/// File mode of ConfigMap, Secret, downward API and projected files (0644).
pub const DEFAULT_FILE_MODE: i32 = 0o644;

/// Fills in what the API server would for a workload: its namespace, and
/// its template's as a pod's (the template in the workload's namespace).
pub fn apply_workload_defaults(workload: &mut crate::workload::Workload) {
    workload
        .metadata
        .namespace
        .get_or_insert_with(|| DEFAULT_NAMESPACE.to_owned());
    let mut pod = workload.template_pod();
    apply_defaults(&mut pod);
    workload.spec.template.spec = pod.spec;
}

/// Fills in what the API server would.
pub fn apply_defaults(pod: &mut Pod) {
    pod.metadata
        .namespace
        .get_or_insert_with(|| DEFAULT_NAMESPACE.to_owned());
    let spec = &mut pod.spec;
    spec.termination_grace_period_seconds
        .get_or_insert(DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS);
    for container in spec.init_containers.iter_mut().chain(&mut spec.containers) {
        default_container(container);
    }
    for volume in &mut spec.volumes {
        let mode = match &mut volume.source {
            VolumeSource::ConfigMap(source) => &mut source.default_mode,
            VolumeSource::Secret(source) => &mut source.default_mode,
            VolumeSource::DownwardAPI(source) => &mut source.default_mode,
            VolumeSource::Projected(source) => &mut source.default_mode,
            VolumeSource::EmptyDir(_) | VolumeSource::HostPath(_) => continue,
        };
        mode.get_or_insert(DEFAULT_FILE_MODE);
    }
}

fn default_container(container: &mut Container) {
    container.image_pull_policy = Some(container.pull_policy());
    if let Some(resources) = &mut container.resources {
        // A limit without a request requests the limit.
        for (name, limit) in &resources.limits {
            resources
                .requests
                .entry(name.clone())
                .or_insert_with(|| limit.clone());
        }
    }
    for env in &mut container.env {
        if let Some(field_ref) = env.value_from.as_mut().and_then(|v| v.field_ref.as_mut()) {
            field_ref.api_version.get_or_insert_with(|| "v1".to_owned());
        }
    }
    // An httpGet probe or hook without a path asks for "/".
    let probe_requests = [
        &mut container.liveness_probe,
        &mut container.readiness_probe,
        &mut container.startup_probe,
    ]
    .into_iter()
    .filter_map(|probe| probe.as_mut().and_then(|p| p.http_get.as_mut()));
    let hook_requests = container
        .lifecycle
        .as_mut()
        .into_iter()
        .flat_map(|l| [l.post_start.as_mut(), l.pre_stop.as_mut()])
        .filter_map(|hook| hook.and_then(|h| h.http_get.as_mut()));
    for http_get in probe_requests.chain(hook_requests) {
        http_get.path.get_or_insert_with(|| "/".to_owned());
    }
}
