//! `peapod wait pod/NAME --for=condition=Ready|delete|create|jsonpath=...
//! [--timeout=30s]`: kubectl's wait, woken by inotify on the pods' state
//! ([`PodWatch`]), never by a timer. Each pod met prints `pod/NAME
//! condition met`; the timeout is kubectl's `timed out waiting for the
//! condition on pods/NAME`.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::bail;
use peapod_runtime::PodKey;
use peapod_runtime::pod::pod_watch::PodWatch;
use peapod_runtime::{Paths, pod::inspect};
use peapod_spec::Pod;

use crate::duration::{GoDuration, parse_go};
use crate::jsonpath::{Template, text_of};

/// Wait for a condition on pods.
#[derive(Debug, clap::Args)]
pub struct WaitArgs {
    /// `pod/NAME...` or `pods [NAME...]` (with `-l` or `--all`).
    #[arg(required = true, value_name = "TYPE[/NAME]")]
    targets: Vec<String>,
    /// `condition=TYPE[=STATUS]` (Ready, Initialized, ContainersReady,
    /// PodScheduled), `delete`, `create` or `jsonpath=EXPR[=VALUE]`.
    #[arg(long = "for", value_name = "CONDITION")]
    for_: String,
    /// How long to wait (`30s`, `5m`; `0`: check once; below zero: a week).
    #[arg(long, default_value = "30s", value_parser = parse_go)]
    timeout: GoDuration,
    /// The pods whose labels match.
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    selector: Option<String>,
    /// Every pod of the namespace.
    #[arg(long)]
    all: bool,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
}

/// What `--for` waits for.
#[derive(Debug)]
enum Wanted {
    /// A condition of `status.conditions` with this status.
    Condition { type_: String, status: String },
    /// The pod gone.
    Delete,
    /// The pod there.
    Create,
    /// A JSONPath's values, all equal to the value (or any value).
    JsonPath {
        template: Template,
        value: Option<String>,
    },
}

impl Wanted {
    fn parse(text: &str) -> anyhow::Result<Self> {
        if text.eq_ignore_ascii_case("delete") {
            return Ok(Self::Delete);
        }
        if text.eq_ignore_ascii_case("create") {
            return Ok(Self::Create);
        }
        if let Some(cond) = text.strip_prefix("condition=") {
            let (type_, status) = cond.split_once('=').unwrap_or((cond, "true"));
            if type_.is_empty() {
                bail!("condition name must be specified: --for=condition=NAME");
            }
            return Ok(Self::Condition {
                type_: type_.to_owned(),
                status: status.to_owned(),
            });
        }
        if let Some(expr) = text.strip_prefix("jsonpath=") {
            // `{...}=VALUE` (the value after the last brace) or `.a.b=VALUE`.
            let (path, value) = match expr.rfind('}') {
                Some(end) if expr.starts_with('{') => {
                    let value = &expr[end + 1..];
                    let value = match value.strip_prefix('=') {
                        Some(v) => Some(v),
                        None if value.is_empty() => None,
                        None => bail!(
                            "jsonpath wait format must be --for=jsonpath='{{.status.readyReplicas}}'=3 or --for=jsonpath='{{.status.readyReplicas}}'"
                        ),
                    };
                    (&expr[..=end], value)
                }
                _ => match expr.split_once('=') {
                    Some((p, v)) => (p, Some(v)),
                    None => (expr, None),
                },
            };
            let template = Template::relaxed(path)
                .map_err(|e| anyhow::anyhow!("error parsing jsonpath {path}, {e}"))?;
            return Ok(Self::JsonPath {
                template,
                value: value.map(|v| v.trim_matches(['\'', '"']).to_owned()),
            });
        }
        bail!(
            "unrecognized condition: {text:?}; use condition=TYPE, delete, create or jsonpath=EXPR"
        )
    }

    /// Whether `pod` (`None`: gone) is as wanted.
    fn met(&self, pod: Option<&Pod>) -> anyhow::Result<bool> {
        let Some(pod) = pod else {
            return Ok(matches!(self, Self::Delete));
        };
        Ok(match self {
            Self::Delete => false,
            Self::Create => true,
            Self::Condition { type_, status } => pod.status.as_ref().is_some_and(|s| {
                s.conditions.iter().any(|c| {
                    c.type_.eq_ignore_ascii_case(type_) && c.status.eq_ignore_ascii_case(status)
                })
            }),
            Self::JsonPath { template, value } => {
                let doc = serde_json::to_value(pod)?;
                let found = template.values(&doc).map_err(|e| anyhow::anyhow!("{e}"))?;
                match value {
                    None => !found.is_empty(),
                    Some(v) => !found.is_empty() && found.iter().all(|f| text_of(f) == *v),
                }
            }
        })
    }
}

/// Runs `wait`.
pub fn run(args: &WaitArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let wanted = Wanted::parse(&args.for_)?;
    let names = crate::resource_args::pod_names("wait", &args.targets)?;
    // Watches first: nothing that happens after the first read is lost.
    let mut watch = PodWatch::new(paths)?;
    let names = if names.is_empty() {
        if args.selector.is_none() && !args.all {
            bail!("resource(s) were provided, but no name was specified");
        }
        let (labels, _) = crate::get::selectors(args.selector.as_deref(), None, &[], "pods")?;
        let names: Vec<String> = inspect::list(paths, Some(&args.namespace))?
            .into_iter()
            .filter(|p| labels.matches(&p.metadata.labels))
            .filter_map(|p| p.metadata.name)
            .collect();
        if names.is_empty() {
            bail!("no matching resources found");
        }
        names
    } else {
        names
    };
    let timeout = match args.timeout {
        GoDuration { negative: true, .. } => Duration::from_secs(7 * 24 * 3600),
        GoDuration { duration, .. } => duration,
    };
    let deadline = Instant::now() + timeout;
    let mut out = crate::stdout::stdout();
    for name in names {
        let key = PodKey::new(&args.namespace, &name);
        loop {
            let pod = match inspect::get(paths, &key) {
                Ok(p) => Some(p),
                Err(peapod_runtime::Error::NotFound { .. }) => None,
                Err(e) => return Err(e.into()),
            };
            if pod.is_none() && !matches!(wanted, Wanted::Delete | Wanted::Create) {
                return Err(peapod_runtime::Error::NotFound { name }.into());
            }
            if wanted.met(pod.as_ref())? {
                writeln!(out, "pod/{name} condition met")?;
                break;
            }
            if !watch.wait(paths, Some(deadline))? {
                bail!("timed out waiting for the condition on pods/{name}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(phase: &str, ready: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            "status": {"phase": phase, "conditions": [
                {"type": "Ready", "status": ready},
                {"type": "PodScheduled", "status": "True"},
            ]},
        }))
        .expect("a pod")
    }

    fn met(wanted: &str, pod: Option<&Pod>) -> bool {
        Wanted::parse(wanted)
            .expect("parsed")
            .met(pod)
            .expect("checked")
    }

    #[test]
    fn conditions_match_their_type_and_status_in_any_case() {
        let ready = pod("Running", "True");
        let unready = pod("Running", "False");
        assert!(met("condition=Ready", Some(&ready)));
        assert!(met("condition=ready", Some(&ready)));
        assert!(!met("condition=Ready", Some(&unready)));
        assert!(met("condition=Ready=false", Some(&unready)));
        assert!(met("condition=PodScheduled", Some(&unready)));
        assert!(!met("condition=Initialized", Some(&ready)));
    }

    #[test]
    fn delete_create_and_jsonpath() {
        let p = pod("Running", "True");
        assert!(met("delete", None));
        assert!(!met("delete", Some(&p)));
        assert!(met("create", Some(&p)));
        assert!(met("jsonpath={.status.phase}=Running", Some(&p)));
        assert!(met("jsonpath={.status.phase}='Running'", Some(&p)));
        assert!(!met("jsonpath={.status.phase}=Pending", Some(&p)));
        assert!(met("jsonpath=.status.phase=Running", Some(&p)));
        assert!(met("jsonpath={.status.phase}", Some(&p)));
        assert!(!met("jsonpath={.status.podIP}", Some(&p)));
        assert!(met(
            r#"jsonpath={.status.conditions[?(@.type=="Ready")].status}=True"#,
            Some(&p)
        ));
        assert!(Wanted::parse("ready").is_err());
    }
}
