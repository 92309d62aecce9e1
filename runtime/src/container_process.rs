//! What a container runs, from its spec and its image's config, as
//! kubelet and containerd combine them: `command` replaces the image's
//! ENTRYPOINT and drops its CMD, `args` replaces CMD; the environment is
//! the image's, then `HOSTNAME`, then the container's `env` with `$(VAR)`
//! references expanded; the working folder is `workingDir`, else the
//! image's, else `/`. Also the cgroup limits from `resources`.

use peapod_core::{CgroupLimits, ProcessSpec};
use peapod_spec::{Container, ResourceRequirements};

/// The defaults an image gives (a plain-data view of its config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageDefaults {
    /// ENTRYPOINT.
    pub entrypoint: Vec<String>,
    /// CMD.
    pub cmd: Vec<String>,
    /// `NAME=value` pairs.
    pub env: Vec<String>,
    /// WORKDIR.
    pub working_dir: Option<String>,
}

/// The argv: `command` or ENTRYPOINT, then `args` or (without `command`)
/// CMD.
pub fn argv(container: &Container, image: &ImageDefaults) -> Vec<String> {
    let env = environment(container, image, "");
    let expand_all = |v: &[String]| v.iter().map(|s| expand(s, &env)).collect::<Vec<_>>();
    let mut argv = if container.command.is_empty() {
        image.entrypoint.clone()
    } else {
        expand_all(&container.command)
    };
    if !container.args.is_empty() {
        argv.extend(expand_all(&container.args));
    } else if container.command.is_empty() {
        argv.extend(image.cmd.iter().cloned());
    }
    argv
}

/// The environment, in order, later entries overriding earlier ones.
pub fn environment(container: &Container, image: &ImageDefaults, hostname: &str) -> Vec<String> {
    let mut env: Vec<(String, String)> = Vec::new();
    for entry in &image.env {
        if let Some((n, v)) = entry.split_once('=') {
            set_var(&mut env, n, v.to_owned());
        }
    }
    if !env.iter().any(|(n, _)| n == "PATH") {
        set_var(&mut env, "PATH", peapod_core::DEFAULT_PATH.to_owned());
    }
    if !hostname.is_empty() {
        set_var(&mut env, "HOSTNAME", hostname.to_owned());
    }
    add_container_env(&mut env, container);
    env.into_iter().map(|(n, v)| format!("{n}={v}")).collect()
}

/// The container's own environment, without the image's: its `env` (with
/// `envFrom` and references already resolved) with `$(VAR)` expanded, as
/// kubelet expands a volumeMount's `subPathExpr` with it.
pub fn container_environment(container: &Container) -> Vec<String> {
    let mut env = Vec::new();
    add_container_env(&mut env, container);
    env.into_iter().map(|(n, v)| format!("{n}={v}")).collect()
}

/// Sets each of the container's `env` in `env`, in order, `$(VAR)`
/// expanded against what is set before it; a later entry overrides.
fn add_container_env(env: &mut Vec<(String, String)>, container: &Container) {
    for var in &container.env {
        let value = var.value.as_deref().unwrap_or_default();
        let expanded = expand_pairs(value, env);
        set_var(env, &var.name, expanded);
    }
}

/// Sets `name` to `value`: in place when it is set already, else last.
fn set_var(env: &mut Vec<(String, String)>, name: &str, value: String) {
    if let Some(slot) = env.iter_mut().find(|(n, _)| n == name) {
        slot.1 = value;
    } else {
        env.push((name.to_owned(), value));
    }
}

/// The process spec of a container, but for its identity and privileges
/// (`security_context`'s `ProcessSecurity::apply` adds them).
pub fn process_spec(container: &Container, image: &ImageDefaults, hostname: &str) -> ProcessSpec {
    let mut spec = ProcessSpec::new(argv(container, image));
    spec.env = environment(container, image, hostname);
    spec.cwd = container
        .working_dir
        .clone()
        .or_else(|| image.working_dir.clone().filter(|w| !w.is_empty()))
        .unwrap_or_else(|| "/".to_owned())
        .into();
    spec.tty = container.tty.unwrap_or(false);
    spec
}

/// cgroup limits from `resources` (KUBELET.md's conversions).
pub fn cgroup_limits(container: &Container) -> CgroupLimits {
    container
        .resources
        .as_ref()
        .map(resource_limits)
        .unwrap_or_default()
}

/// The cgroup limits `resources` asks for: memory and cpu limits, and the
/// cpu weight of the cpu request. A container's, or the pod's own
/// (`spec.resources`) for the pod cgroup.
pub fn resource_limits(resources: &ResourceRequirements) -> CgroupLimits {
    let mut limits = CgroupLimits::default();
    if let Some(mem) = resources.limits.get("memory") {
        limits.memory_max_bytes = u64::try_from(mem.value()).ok();
    }
    if let Some(cpu) = resources.limits.get("cpu") {
        let milli = u64::try_from(cpu.milli_value()).unwrap_or(0);
        limits.cpu_quota_us = Some((milli * 100).max(1000));
        limits.cpu_period_us = Some(CgroupLimits::DEFAULT_CPU_PERIOD_US);
    }
    if let Some(cpu) = resources.requests.get("cpu") {
        // Saturating: a request beyond u64 is the most shares, never the least.
        let milli = u64::try_from(cpu.milli_value()).unwrap_or(u64::MAX);
        limits.cpu_shares = Some((milli.saturating_mul(1024) / 1000).clamp(2, 262_144));
    }
    limits
}

/// `$(VAR)` expansion against `NAME=value` entries, the last one winning;
/// an undefined reference stays as written.
fn expand(s: &str, env: &[String]) -> String {
    peapod_spec::expand_references(s, |name| {
        env.iter()
            .rev()
            .filter_map(|e| e.split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    })
    .text
}

/// The same against `(name, value)` pairs.
fn expand_pairs(s: &str, env: &[(String, String)]) -> String {
    peapod_spec::expand_references(s, |name| {
        env.iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    })
    .text
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_spec::EnvVar;

    fn image() -> ImageDefaults {
        ImageDefaults {
            entrypoint: vec!["/docker-entrypoint.sh".into()],
            cmd: vec!["nginx".into(), "-g".into(), "daemon off;".into()],
            env: vec!["PATH=/usr/bin:/bin".into(), "A=image".into()],
            working_dir: Some("/srv".into()),
        }
    }

    fn container(command: &[&str], args: &[&str]) -> Container {
        Container {
            name: "c".into(),
            command: command.iter().map(|s| (*s).to_owned()).collect(),
            args: args.iter().map(|s| (*s).to_owned()).collect(),
            ..Container::default()
        }
    }

    #[test]
    fn command_replaces_entrypoint_and_drops_cmd() {
        assert_eq!(
            argv(&container(&["sleep", "1000"], &[]), &image()),
            ["sleep", "1000"]
        );
    }

    #[test]
    fn args_replace_cmd_and_keep_entrypoint() {
        let a = argv(&container(&[], &["-v"]), &image());
        assert_eq!(a, ["/docker-entrypoint.sh", "-v"]);
        let a = argv(&container(&[], &[]), &image());
        assert_eq!(a.len(), 4);
    }

    #[test]
    fn env_overrides_image_and_expands_earlier_variables() {
        let mut c = container(&["sh"], &[]);
        c.env = vec![
            EnvVar {
                name: "A".into(),
                value: Some("pod".into()),
                ..EnvVar::default()
            },
            EnvVar {
                name: "B".into(),
                value: Some("$(A)-$(NOPE)-$$(A)".into()),
                ..EnvVar::default()
            },
        ];
        let env = environment(&c, &image(), "myapp");
        assert_eq!(
            env,
            [
                "PATH=/usr/bin:/bin",
                "A=pod",
                "HOSTNAME=myapp",
                "B=pod-$(NOPE)-$(A)"
            ]
        );
    }

    #[test]
    fn working_dir_falls_back_to_image_then_root() {
        let spec = process_spec(&container(&["sh"], &[]), &image(), "h");
        assert_eq!(spec.cwd, std::path::Path::new("/srv"));
        let spec = process_spec(&container(&["sh"], &[]), &ImageDefaults::default(), "h");
        assert_eq!(spec.cwd, std::path::Path::new("/"));
    }

    #[test]
    fn limits_follow_kubelet_conversions() {
        let mut c = container(&["sh"], &[]);
        let q = |s: &str| peapod_spec::Quantity::parse(s).expect("quantity");
        c.resources = Some(peapod_spec::ResourceRequirements {
            limits: [("memory".into(), q("128Mi")), ("cpu".into(), q("500m"))].into(),
            requests: [("cpu".into(), q("250m"))].into(),
        });
        let l = cgroup_limits(&c);
        assert_eq!(l.memory_max_bytes, Some(128 * 1024 * 1024));
        assert_eq!(l.cpu_quota_us, Some(50_000));
        assert_eq!(l.cpu_period_us, Some(100_000));
        assert_eq!(l.cpu_shares, Some(256));
    }

    #[test]
    fn a_cpu_request_beyond_u64_gets_the_most_shares_not_the_least() {
        let mut c = container(&["sh"], &[]);
        let q = |s: &str| peapod_spec::Quantity::parse(s).expect("quantity");
        c.resources = Some(peapod_spec::ResourceRequirements {
            limits: std::collections::BTreeMap::new(),
            requests: [("cpu".into(), q("1e20"))].into(),
        });
        assert_eq!(cgroup_limits(&c).cpu_shares, Some(262_144));
    }
}
