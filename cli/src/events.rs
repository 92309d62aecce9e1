//! `peapod events [--for pod/NAME] [--types=Warning]`: kubectl's `events`
//! verb, the table of `get events` ([`crate::get_events`]).

use std::process::ExitCode;

use anyhow::bail;
use peapod_runtime::Paths;

/// List the events of the pods.
#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    /// The events of every namespace.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// Only the events of this pod: `pod/NAME`.
    #[arg(long = "for", value_name = "TYPE/NAME")]
    for_object: Option<String>,
    /// Only the events of this type: `Normal` or `Warning`.
    #[arg(long, value_name = "TYPE")]
    types: Option<String>,
    /// `json`, `yaml`, `name`, `jsonpath=...`, as `get events -o`.
    #[arg(short = 'o', long = "output", value_name = "FORMAT")]
    output: Option<String>,
    /// After the events there are, print each new one as it comes.
    #[arg(short = 'w', long)]
    watch: bool,
}

/// Runs `events`.
///
/// # Errors
/// `--for` names another type than pods; `--types` is neither `Normal`
/// nor `Warning`; see [`crate::get_events::run`].
pub fn run(args: &EventsArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let mut fields = Vec::new();
    if let Some(target) = &args.for_object {
        let name = crate::resource_args::pod_name(target)?;
        if name == target {
            bail!("--for must be in resource/name form: pod/{target}");
        }
        fields.push(format!(
            "involvedObject.kind=Pod,involvedObject.name={name}"
        ));
    }
    if let Some(types) = &args.types {
        let kind = match types.to_ascii_lowercase().as_str() {
            "normal" => "Normal",
            "warning" => "Warning",
            _ => bail!("valid --types are Normal and Warning: {types:?}"),
        };
        fields.push(format!("type={kind}"));
    }
    let field_selector = fields.join(",");
    crate::get_events::run(
        crate::get_events::EventsQuery {
            names: &[],
            namespace: (!args.all_namespaces).then_some(args.namespace.as_str()),
            output: args.output.as_deref(),
            field_selector: (!field_selector.is_empty()).then_some(field_selector.as_str()),
            watch: args.watch,
        },
        paths,
    )
}
