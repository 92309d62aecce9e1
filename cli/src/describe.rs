//! `peapod describe pod NAME` / `peapod describe -f FILE`: the pod as
//! `kubectl describe pod` prints it (`k8s.io/kubectl/pkg/describe`), from
//! the state store: it works with the supervisor gone too.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use peapod_runtime::PodKey;
use peapod_runtime::Timestamp;
use peapod_runtime::pod::ephemeral::EphemeralContainer;
use peapod_runtime::pod::events::Event;
use peapod_runtime::pod::inspect::Deletion;
use peapod_runtime::pod::status::phase_name;
use peapod_runtime::{Paths, pod::inspect};
use peapod_spec::{
    Container, ContainerState, ContainerStatus, EnvVar, IntOrString, Pod, PodPhase, Probe,
    ResourceRequirements, URIScheme, Volume, VolumeSource,
};

use crate::duration::since;
use crate::{node, tabwriter};

/// Show a pod in detail: its containers' states and its events.
#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    /// `pods [NAME...]` (`pod`, `po`, any case) or `pod/NAME...`; every
    /// pod of the namespace when no name is given.
    #[arg(value_name = "TYPE[/NAME]")]
    targets: Vec<String>,
    /// Describe the pods of this manifest.
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "FILE",
        conflicts_with = "targets"
    )]
    file: Option<PathBuf>,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    /// Only the pods whose labels match (`a=b`, `a!=b`, `a in (x,y)`, ...).
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    selector: Option<String>,
}

/// Runs `describe`.
pub fn run(args: &DescribeArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let keys: Vec<PodKey> = if let Some(file) = &args.file {
        crate::manifest::read_pods(file)?
            .iter()
            .map(|p| {
                PodKey::new(
                    p.metadata.namespace.as_deref().unwrap_or("default"),
                    p.metadata.name.as_deref().unwrap_or_default(),
                )
            })
            .collect()
    } else {
        let names = crate::resource_args::pod_names("describe", &args.targets)?;
        if !names.is_empty() && args.selector.is_some() {
            anyhow::bail!("name cannot be provided when a selector is specified");
        }
        let (labels, _) = crate::get::selectors(args.selector.as_deref(), None, &[], "pods")?;
        if names.is_empty() {
            inspect::list(paths, Some(&args.namespace))?
                .iter()
                .filter(|p| labels.matches(&p.metadata.labels))
                .map(|p| {
                    PodKey::new(
                        &args.namespace,
                        p.metadata.name.as_deref().unwrap_or_default(),
                    )
                })
                .collect()
        } else {
            names
                .iter()
                .map(|n| PodKey::new(&args.namespace, n))
                .collect()
        }
    };
    if keys.is_empty() {
        eprintln!("No resources found in {} namespace.", args.namespace);
    }
    let mut out = crate::stdout::stdout();
    let (mut printed, mut code) = (0, ExitCode::SUCCESS);
    for key in &keys {
        // As kubectl: a missing pod is an error of its own, the others
        // are described.
        let pod = match inspect::get(paths, key) {
            Ok(pod) => pod,
            Err(e @ peapod_runtime::Error::NotFound { .. }) => {
                eprintln!("{}", crate::error_message::of_runtime(&e));
                code = ExitCode::FAILURE;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let events = inspect::events(paths, key)?;
        let deletion = inspect::deletion(paths, key);
        if printed > 0 {
            write!(out, "\n\n")?;
        }
        let ephemeral = peapod_runtime::pod::ephemeral::list(paths, key);
        write!(
            out,
            "{}",
            describe(&pod, deletion.as_ref(), &ephemeral, &events)
        )?;
        printed += 1;
    }
    Ok(code)
}

/// The text of `kubectl describe pod`; `deletion`: a stop in progress;
/// `ephemeral`: the containers `peapod debug` added.
pub fn describe(
    pod: &Pod,
    deletion: Option<&Deletion>,
    ephemeral: &[EphemeralContainer],
    events: &[Event],
) -> String {
    let mut w = String::new();
    pod_header(&mut w, pod, deletion);
    let status = pod.status.clone().unwrap_or_default();
    if !pod.spec.init_containers.is_empty() {
        containers(
            &mut w,
            "Init Containers",
            &pod.spec.init_containers,
            &status.init_container_statuses,
        );
    }
    containers(
        &mut w,
        "Containers",
        &pod.spec.containers,
        &status.container_statuses,
    );
    if !ephemeral.is_empty() {
        let specs: Vec<Container> = ephemeral.iter().map(|e| e.spec.clone()).collect();
        let statuses: Vec<ContainerStatus> = ephemeral.iter().map(|e| e.status.clone()).collect();
        containers(&mut w, "Ephemeral Containers", &specs, &statuses);
    }
    if !status.conditions.is_empty() {
        w.push_str("Conditions:\n  Type\tStatus\n");
        for c in &status.conditions {
            line(&mut w, 1, &format!("{} \t{} ", c.type_, c.status));
        }
    }
    volumes(&mut w, &pod.spec.volumes);
    let qos = status
        .qos_class
        .map_or_else(String::new, |q| enum_name(serde_json::to_value(q)));
    line(&mut w, 0, &format!("QoS Class:\t{qos}"));
    line(&mut w, 0, "Node-Selectors:\t<none>");
    line(&mut w, 0, "Tolerations:\t<none>");
    // kubectl flushes its tabwriter before the events: their table is
    // aligned on its own.
    let mut text = tabwriter::align(&w);
    text.push_str(&tabwriter::align(&events_table(events)));
    text
}

fn line(w: &mut String, level: usize, text: &str) {
    for _ in 0..level {
        w.push_str("  ");
    }
    w.push_str(text);
    w.push('\n');
}

fn pod_header(w: &mut String, pod: &Pod, deletion: Option<&Deletion>) {
    let meta = &pod.metadata;
    let status = pod.status.clone().unwrap_or_default();
    line(
        w,
        0,
        &format!("Name:\t{}", meta.name.as_deref().unwrap_or_default()),
    );
    let namespace = meta.namespace.as_deref().unwrap_or("default");
    line(w, 0, &format!("Namespace:\t{namespace}"));
    let account = pod
        .spec
        .service_account_name
        .as_deref()
        .unwrap_or("default");
    line(w, 0, &format!("Service Account:\t{account}"));
    let node = pod.spec.node_name.clone().unwrap_or_else(node::name);
    match &status.host_ip {
        Some(ip) => line(w, 0, &format!("Node:\t{node}/{ip}")),
        None => line(w, 0, &format!("Node:\t{node}")),
    }
    if let Some(t) = &status.start_time {
        line(w, 0, &format!("Start Time:\t{}", rfc1123z(t)));
    }
    multiline(
        w,
        "Labels",
        meta.labels.iter().map(|(k, v)| format!("{k}={v}")),
    );
    // kubectl's describe leaves out the last-applied configuration.
    multiline(
        w,
        "Annotations",
        meta.annotations
            .iter()
            .filter(|(k, _)| k.as_str() != peapod_runtime::pod::pod_update::LAST_APPLIED)
            .map(|(k, v)| {
                let l = format!("{k}: {v}");
                match l.char_indices().nth(140) {
                    Some((cut, _)) => format!("{}...", &l[..cut]),
                    None => l,
                }
            }),
    );
    let phase = status.phase;
    match deletion {
        Some(d) if !matches!(phase, Some(PodPhase::Succeeded | PodPhase::Failed)) => {
            line(
                w,
                0,
                &format!("Status:\tTerminating (lasts {})", since(&d.timestamp)),
            );
            let grace = d.grace_period_seconds;
            line(w, 0, &format!("Termination Grace Period:\t{grace}s"));
        }
        _ => line(w, 0, &format!("Status:\t{}", phase_name(phase))),
    }
    if let Some(r) = &status.reason {
        line(w, 0, &format!("Reason:\t{r}"));
    }
    if let Some(m) = &status.message {
        line(w, 0, &format!("Message:\t{m}"));
    }
    line(
        w,
        0,
        &format!("IP:\t{}", status.pod_ip.as_deref().unwrap_or_default()),
    );
    if heading(w, 0, "IPs", status.pod_ips.is_empty()) {
        for ip in &status.pod_ips {
            line(w, 1, &format!("IP:\t{}", ip.ip));
        }
    }
}

/// `Title:` alone on its line, or `Title:\t<none>` when `empty`; whether
/// there are items to list under it.
fn heading(w: &mut String, level: usize, title: &str, empty: bool) -> bool {
    if empty {
        line(w, level, &format!("{title}:\t<none>"));
    } else {
        line(w, level, &format!("{title}:"));
    }
    !empty
}

/// `Labels:\ta=1` then `\tb=2`..., or `<none>`.
fn multiline(w: &mut String, title: &str, items: impl Iterator<Item = String>) {
    let mut any = false;
    for (i, item) in items.enumerate() {
        any = true;
        if i == 0 {
            line(w, 0, &format!("{title}:\t{item}"));
        } else {
            line(w, 0, &format!("\t{item}"));
        }
    }
    if !any {
        line(w, 0, &format!("{title}:\t<none>"));
    }
}

fn containers(w: &mut String, title: &str, specs: &[Container], statuses: &[ContainerStatus]) {
    line(w, 0, &format!("{title}:"));
    for c in specs {
        let status = statuses.iter().find(|s| s.name == c.name);
        line(w, 1, &format!("{}:", c.name));
        if let Some(s) = status {
            let id = s.container_id.as_deref().unwrap_or_default();
            line(w, 2, &format!("Container ID:\t{id}"));
        }
        line(w, 2, &format!("Image:\t{}", c.image));
        if let Some(s) = status {
            line(w, 2, &format!("Image ID:\t{}", s.image_id));
        }
        ports(w, c);
        string_list(w, "Command", &c.command);
        string_list(w, "Args", &c.args);
        if let Some(s) = status {
            state(w, "State", &s.state);
            if let Some(last) = &s.last_state
                && last.terminated.is_some()
            {
                state(w, "Last State", last);
            }
            let ready = if s.ready { "True" } else { "False" };
            line(w, 2, &format!("Ready:\t{ready}"));
            line(w, 2, &format!("Restart Count:\t{}", s.restart_count));
        }
        if let Some(r) = &c.resources {
            resources(w, r);
        }
        for (title, probe) in [
            ("Liveness", &c.liveness_probe),
            ("Readiness", &c.readiness_probe),
            ("Startup", &c.startup_probe),
        ] {
            if let Some(p) = probe {
                line(w, 2, &format!("{title}:\t{}", describe_probe(p)));
            }
        }
        if !c.env_from.is_empty() {
            env_from(w, c);
        }
        env(w, &c.env);
        mounts(w, c);
    }
}

fn ports(w: &mut String, c: &Container) {
    let list = |f: &dyn Fn(&peapod_spec::ContainerPort) -> i32| {
        c.ports
            .iter()
            .map(|p| format!("{}/{}", f(p), enum_name(serde_json::to_value(p.protocol))))
            .collect::<Vec<_>>()
    };
    let ports = list(&|p| p.container_port);
    let host = list(&|p| p.host_port.unwrap_or(0));
    for (one, many, items) in [("Port", "Ports", ports), ("Host Port", "Host Ports", host)] {
        match items.len() {
            0 => line(w, 2, &format!("{one}:\t<none>")),
            1 => line(w, 2, &format!("{one}:\t{}", items[0])),
            _ => line(w, 2, &format!("{many}:\t{}", items.join(", "))),
        }
    }
}

fn string_list(w: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    line(w, 2, &format!("{title}:"));
    for item in items {
        for l in item.split('\n') {
            line(w, 3, l);
        }
    }
}

fn state(w: &mut String, title: &str, s: &ContainerState) {
    if let Some(r) = &s.running {
        line(w, 2, &format!("{title}:\tRunning"));
        let started = r.started_at.as_deref().map(rfc1123z).unwrap_or_default();
        line(w, 3, &format!("Started:\t{started}"));
    } else if let Some(t) = &s.terminated {
        line(w, 2, &format!("{title}:\tTerminated"));
        if let Some(r) = &t.reason {
            line(w, 3, &format!("Reason:\t{r}"));
        }
        if let Some(m) = t.message.as_deref().filter(|m| !m.is_empty()) {
            line(w, 3, &format!("Message:\t{m}"));
        }
        line(w, 3, &format!("Exit Code:\t{}", t.exit_code));
        if let Some(sig) = t.signal.filter(|s| *s > 0) {
            line(w, 3, &format!("Signal:\t{sig}"));
        }
        let at = |t: Option<&String>| t.map(|t| rfc1123z(t)).unwrap_or_default();
        line(w, 3, &format!("Started:\t{}", at(t.started_at.as_ref())));
        line(w, 3, &format!("Finished:\t{}", at(t.finished_at.as_ref())));
    } else {
        line(w, 2, &format!("{title}:\tWaiting"));
        if let Some(r) = s.waiting.as_ref().and_then(|wt| wt.reason.as_deref()) {
            line(w, 3, &format!("Reason:\t{r}"));
        }
    }
}

fn resources(w: &mut String, r: &ResourceRequirements) {
    for (title, list) in [("Limits", &r.limits), ("Requests", &r.requests)] {
        if list.is_empty() {
            continue;
        }
        line(w, 2, &format!("{title}:"));
        for (name, q) in list {
            line(w, 3, &format!("{name}:\t{}", q.as_str()));
        }
    }
}

/// kubectl's `DescribeProbe`: `http-get http://:8080/healthz delay=0s
/// timeout=1s period=10s #success=1 #failure=3`.
fn describe_probe(p: &Probe) -> String {
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        p.initial_delay_seconds.unwrap_or(0),
        p.timeout_seconds,
        p.period_seconds,
        p.success_threshold,
        p.failure_threshold
    );
    let port = |p: &IntOrString| match p {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(s) => s.clone(),
    };
    if let Some(e) = &p.exec {
        format!("exec [{}] {attrs}", e.command.join(" "))
    } else if let Some(h) = &p.http_get {
        let scheme = match h.scheme {
            URIScheme::Http => "http",
            URIScheme::Https => "https",
        };
        let host = h.host.as_deref().unwrap_or_default();
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        let path = h.path.as_deref().unwrap_or_default();
        let slash = if path.is_empty() || path.starts_with('/') {
            ""
        } else {
            "/"
        };
        format!(
            "http-get {scheme}://{host}:{}{slash}{path} {attrs}",
            port(&h.port)
        )
    } else if let Some(t) = &p.tcp_socket {
        let host = t.host.as_deref().unwrap_or_default();
        format!("tcp-socket {host}:{} {attrs}", port(&t.port))
    } else if let Some(g) = &p.grpc {
        let service = g.service.as_deref().unwrap_or_default();
        format!("grpc <pod>:{} {service} {attrs}", g.port)
    } else {
        format!("unknown {attrs}")
    }
}

fn env_from(w: &mut String, c: &Container) {
    line(w, 2, "Environment Variables from:");
    for e in &c.env_from {
        let (name, from, optional) = match (&e.config_map_ref, &e.secret_ref) {
            (Some(r), _) => (&r.name, "ConfigMap", r.optional),
            (None, Some(r)) => (&r.name, "Secret", r.optional),
            (None, None) => continue,
        };
        let optional = optional.unwrap_or(false);
        match e.prefix.as_deref().filter(|p| !p.is_empty()) {
            None => line(w, 3, &format!("{name}\t{from}\tOptional: {optional}")),
            Some(p) => line(
                w,
                3,
                &format!("{name}\t{from} with prefix '{p}'\tOptional: {optional}"),
            ),
        }
    }
}

fn env(w: &mut String, env: &[EnvVar]) {
    if !heading(w, 2, "Environment", env.is_empty()) {
        return;
    }
    for e in env {
        let Some(from) = &e.value_from else {
            let value = e.value.as_deref().unwrap_or_default();
            for (i, l) in value.split('\n').enumerate() {
                if i == 0 {
                    line(w, 3, &format!("{}:\t{l}", e.name));
                } else {
                    line(w, 3, &format!("\t{l}"));
                }
            }
            continue;
        };
        let text = if let Some(f) = &from.field_ref {
            let version = f.api_version.as_deref().unwrap_or("v1");
            format!("{}:\t ({version}:{})", e.name, f.field_path)
        } else if let Some(r) = &from.resource_field_ref {
            format!("{}:\t ({})", e.name, r.resource)
        } else if let Some(k) = &from.secret_key_ref {
            format!(
                "{}:\t<set to the key '{}' in secret '{}'>\tOptional: {}",
                e.name,
                k.key,
                k.name,
                k.optional.unwrap_or(false)
            )
        } else if let Some(k) = &from.config_map_key_ref {
            format!(
                "{}:\t<set to the key '{}' of config map '{}'>\tOptional: {}",
                e.name,
                k.key,
                k.name,
                k.optional.unwrap_or(false)
            )
        } else {
            continue;
        };
        line(w, 3, &text);
    }
}

fn mounts(w: &mut String, c: &Container) {
    if !heading(w, 2, "Mounts", c.volume_mounts.is_empty()) {
        return;
    }
    let mut list: Vec<_> = c.volume_mounts.iter().collect();
    list.sort_by(|a, b| a.mount_path.cmp(&b.mount_path));
    for m in list {
        let mut flags = vec![
            if m.read_only == Some(true) {
                "ro"
            } else {
                "rw"
            }
            .to_owned(),
        ];
        if let Some(p) = m.sub_path.as_deref().filter(|p| !p.is_empty()) {
            flags.push(format!("path={p:?}"));
        }
        line(
            w,
            3,
            &format!("{} from {} ({})", m.mount_path, m.name, flags.join(",")),
        );
    }
}

fn volumes(w: &mut String, volumes: &[Volume]) {
    if !heading(w, 0, "Volumes", volumes.is_empty()) {
        return;
    }
    for v in volumes {
        line(w, 1, &format!("{}:", v.name));
        let mut field = |k: &str, v: &dyn std::fmt::Display| line(w, 2, &format!("{k}:\t{v}"));
        match &v.source {
            VolumeSource::EmptyDir(e) => {
                field(
                    "Type",
                    &"EmptyDir (a temporary directory that shares a pod's lifetime)",
                );
                field(
                    "Medium",
                    &e.medium
                        .map(|m| enum_name(serde_json::to_value(m)))
                        .unwrap_or_default(),
                );
                let size = e.size_limit.as_ref().map_or("<unset>", |q| q.as_str());
                field("SizeLimit", &size);
            }
            VolumeSource::HostPath(h) => {
                field("Type", &"HostPath (bare host directory volume)");
                field("Path", &h.path);
                let kind = h
                    .type_
                    .map(|t| enum_name(serde_json::to_value(t)))
                    .unwrap_or_default();
                field("HostPathType", &kind);
            }
            VolumeSource::ConfigMap(c) => {
                field("Type", &"ConfigMap (a volume populated by a ConfigMap)");
                field("Name", &c.name);
                field("Optional", &c.optional.unwrap_or(false));
            }
            VolumeSource::Secret(s) => {
                field("Type", &"Secret (a volume populated by a Secret)");
                field("SecretName", &s.secret_name);
                field("Optional", &s.optional.unwrap_or(false));
            }
            VolumeSource::DownwardAPI(d) => {
                field(
                    "Type",
                    &"DownwardAPI (a volume populated by information about the pod)",
                );
                downward_items(w, &d.items);
            }
            VolumeSource::Projected(p) => {
                field(
                    "Type",
                    &"Projected (a volume that contains injected data from multiple sources)",
                );
                for s in &p.sources {
                    if let Some(s) = &s.secret {
                        field("SecretName", &s.name);
                        field("Optional", &s.optional.unwrap_or(false));
                    } else if s.downward_api.is_some() {
                        field("DownwardAPI", &"true");
                    } else if let Some(c) = &s.config_map {
                        field("ConfigMapName", &c.name);
                        field("Optional", &c.optional.unwrap_or(false));
                    }
                }
            }
        }
    }
}

fn downward_items(w: &mut String, items: &[peapod_spec::DownwardAPIVolumeFile]) {
    line(w, 2, "Items:");
    for item in items {
        if let Some(f) = &item.field_ref {
            line(w, 3, &format!("{} -> {}", f.field_path, item.path));
        }
        if let Some(r) = &item.resource_field_ref {
            line(w, 3, &format!("{} -> {}", r.resource, item.path));
        }
    }
}

fn events_table(events: &[Event]) -> String {
    if events.is_empty() {
        return "Events:\t<none>\n".to_owned();
    }
    let mut w = String::from("Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    line(&mut w, 1, "----\t------\t----\t----\t-------");
    for e in events {
        let first = since(&e.first_timestamp);
        let age = if e.count > 1 {
            format!("{} (x{} over {first})", since(&e.last_timestamp), e.count)
        } else {
            first
        };
        let _ = writeln!(
            w,
            "  {}\t{}\t{age}\tkubelet\t{}",
            e.type_.as_str(),
            e.reason,
            e.message.trim()
        );
    }
    w
}

/// Go's `time.RFC1123Z` of an RFC 3339 UTC time: `Tue, 24 Nov 2026
/// 18:54:45 +0000`.
fn rfc1123z(t: &str) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let Some(ts) = Timestamp::parse_rfc3339(t) else {
        return t.to_owned();
    };
    let (Some((date, time)), Some(weekday)) = (
        t.split_once('T'),
        usize::try_from(ts.unix_seconds() / 86_400 % 7).ok(),
    ) else {
        return t.to_owned();
    };
    let mut parts = date.splitn(3, '-');
    let (year, month, day) = (parts.next(), parts.next(), parts.next());
    let month = month
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)));
    let hms = time.trim_end_matches('Z');
    let hms = hms.split_once('.').map_or(hms, |(s, _)| s);
    match (year, month, day) {
        (Some(y), Some(m), Some(d)) => format!("{}, {d} {m} {y} {hms} +0000", DAYS[weekday]),
        _ => t.to_owned(),
    }
}

/// A serde enum's wire name (`TCP`, `Memory`, `Burstable`...), given
/// `serde_json::to_value` of it.
fn enum_name(v: serde_json::Result<serde_json::Value>) -> String {
    match v {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn times_read_as_kubectl_prints_them() {
        assert_eq!(
            rfc1123z("2026-11-24T18:54:45Z"),
            "Tue, 24 Nov 2026 18:54:45 +0000"
        );
    }

    #[test]
    fn repeated_events_show_their_count_and_span() {
        let now = Timestamp::now().rfc3339();
        let e = Event {
            type_: peapod_runtime::pod::events::EventType::Warning,
            reason: "BackOff".into(),
            field_path: None,
            message: "Back-off restarting failed container web".into(),
            count: 3,
            first_timestamp: now.clone(),
            last_timestamp: now,
        };
        let text = tabwriter::align(&events_table(&[e]));
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(
            rows[1],
            "  Type     Reason   Age              From     Message"
        );
        assert!(
            rows[3].starts_with("  Warning  BackOff  0s (x3 over 0s)  kubelet  Back-off"),
            "{text}"
        );
    }

    #[test]
    fn probes_read_as_kubectl_describes_them() {
        let probe = Probe {
            http_get: Some(peapod_spec::HTTPGetAction {
                path: Some("/healthz".into()),
                port: IntOrString::Int(8080),
                ..Default::default()
            }),
            timeout_seconds: 1,
            period_seconds: 10,
            success_threshold: 1,
            failure_threshold: 3,
            ..Probe::default()
        };
        assert_eq!(
            describe_probe(&probe),
            "http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3"
        );
        let exec = Probe {
            http_get: None,
            exec: Some(peapod_spec::ExecAction {
                command: vec!["cat".into(), "/tmp/ready".into()],
            }),
            initial_delay_seconds: Some(5),
            ..probe
        };
        assert!(
            describe_probe(&exec).starts_with("exec [cat /tmp/ready] delay=5s "),
            "{}",
            describe_probe(&exec)
        );
    }

    #[test]
    fn labels_continue_on_aligned_lines() {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web".into());
        pod.metadata.labels = BTreeMap::from([("a".into(), "1".into()), ("b".into(), "2".into())]);
        // As kubectl, describe leaves apply's record out.
        pod.metadata.annotations = BTreeMap::from([(
            peapod_runtime::pod::pod_update::LAST_APPLIED.into(),
            "{}".into(),
        )]);
        let text = describe(&pod, None, &[], &[]);
        assert!(
            text.contains("Labels:           a=1\n                  b=2\n"),
            "{text}"
        );
        assert!(text.contains("Annotations:      <none>\n"), "{text}");
        assert!(text.ends_with("Events:  <none>\n"), "{text}");
    }

    #[test]
    fn a_whole_description_aligns_as_kubectl_does() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": "a-pod-name-that-is-much-longer-than-the-labels-column",
                "namespace": "default",
                "labels": {"app": "web", "tier": "front"},
                "annotations": {"note": "déjà vu – ünïcode"},
            },
            "spec": {"nodeName": "node-1", "containers": [{
                "name": "web", "image": "busybox", "command": ["sleep", "3600"],
                "env": [
                    {"name": "GREETING", "value": "héllo"},
                    {"name": "GRÜSSE_AUS_KÖLN", "value": "ja"},
                ],
                "ports": [{"containerPort": 80}],
            }]},
            "status": {
                "phase": "Running", "podIP": "10.88.0.7", "qosClass": "BestEffort",
                "conditions": [
                    {"type": "Initialized", "status": "True"},
                    {"type": "ContainersReady", "status": "True"},
                ],
                "containerStatuses": [{
                    "name": "web", "image": "busybox", "imageID": "", "ready": true,
                    "restartCount": 0, "started": true, "state": {"running": {}},
                }],
            },
        }))
        .expect("a pod");
        let expected: String = [
            "Name:             a-pod-name-that-is-much-longer-than-the-labels-column",
            "Namespace:        default",
            "Service Account:  default",
            "Node:             node-1",
            "Labels:           app=web",
            "                  tier=front",
            "Annotations:      note: déjà vu – ünïcode",
            "Status:           Running",
            "IP:               10.88.0.7",
            "IPs:              <none>",
            "Containers:",
            "  web:",
            "    Container ID:  ",
            "    Image:         busybox",
            "    Image ID:      ",
            "    Port:          80/TCP",
            "    Host Port:     0/TCP",
            "    Command:",
            "      sleep",
            "      3600",
            "    State:          Running",
            "      Started:      ",
            "    Ready:          True",
            "    Restart Count:  0",
            "    Environment:",
            "      GREETING:         héllo",
            "      GRÜSSE_AUS_KÖLN:  ja",
            "    Mounts:             <none>",
            "Conditions:",
            "  Type              Status",
            "  Initialized       True ",
            "  ContainersReady   True ",
            "Volumes:            <none>",
            "QoS Class:          BestEffort",
            "Node-Selectors:     <none>",
            "Tolerations:        <none>",
            "Events:  <none>",
        ]
        .map(|l| format!("{l}\n"))
        .concat();
        assert_eq!(describe(&pod, None, &[], &[]), expected);
    }
}
