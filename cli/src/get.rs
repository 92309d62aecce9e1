//! `peapod get pods` / `peapod get pod NAME -o json|yaml|wide|name|
//! jsonpath=...|custom-columns=...`, with kubectl's selectors (`-l`,
//! `--field-selector`), `--show-labels`, `--sort-by` and `-w`; `get events`
//! and `get all`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use peapod_runtime::PodKey;
use peapod_runtime::{Paths, pod::inspect, pod::status};
use peapod_spec::Pod;
use serde_json::Value;

use crate::duration::since;
use crate::jsonpath::{self, Template};
use crate::selector::{FieldSelector, LabelSelector};
use crate::{node, tabwriter};

/// Show pods (or their events).
#[derive(Debug, Clone, clap::Args)]
pub struct GetArgs {
    /// `pods [NAME...]` (`pod`, `po`, any case), `pod/NAME...`, `events`
    /// (`ev`) or `all`; every pod of the namespace when no name is given.
    #[arg(required = true, value_name = "TYPE[/NAME]")]
    targets: Vec<String>,
    /// Output: `json`, `yaml`, `wide`, `name`, `jsonpath=TEMPLATE`,
    /// `jsonpath-file=FILE`, `custom-columns=HEADER:PATH,...` or
    /// `custom-columns-file=FILE`.
    #[arg(short = 'o', long = "output", value_name = "FORMAT")]
    output: Option<String>,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    /// Pods of every namespace.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// Only pods whose labels match (`a=b`, `a!=b`, `a in (x,y)`,
    /// `a notin (x)`, `a`, `!a`, comma-separated).
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    selector: Option<String>,
    /// Only objects whose fields match (`status.phase=Running`,
    /// `metadata.name!=web`, comma-separated).
    #[arg(long, value_name = "SELECTOR")]
    field_selector: Option<String>,
    /// A LABELS column at the end of the table.
    #[arg(long)]
    show_labels: bool,
    /// A column for the value of each of these labels (`-L app,tier`,
    /// repeatable).
    #[arg(
        short = 'L',
        long = "label-columns",
        value_name = "KEY",
        value_delimiter = ','
    )]
    label_columns: Vec<String>,
    /// The table without its header line.
    #[arg(long)]
    no_headers: bool,
    /// Sort by the value of a JSONPath (`.metadata.name`, `{.status.podIP}`).
    #[arg(long, value_name = "JSONPATH")]
    sort_by: Option<String>,
    /// After the list, a line each time a pod changes.
    #[arg(short = 'w', long)]
    watch: bool,
    /// Only the changes, without the list first.
    #[arg(long)]
    watch_only: bool,
}

/// The fields `--field-selector` takes for pods (the API server's).
pub const POD_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
];

/// What `get` was asked for, once its arguments are read.
pub struct Query {
    /// The pods named (none: every pod of the scope).
    pub names: Vec<String>,
    /// `None`: every namespace.
    pub namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    sort_by: Option<Template>,
}

impl Query {
    /// Every pod of `namespace` whose labels `labels` keeps.
    pub fn by_labels(namespace: &str, labels: LabelSelector) -> Self {
        Self {
            names: Vec::new(),
            namespace: Some(namespace.to_owned()),
            labels,
            fields: FieldSelector::default(),
            sort_by: None,
        }
    }

    /// The pods asked for, filtered and sorted; the missing ones named as
    /// their errors.
    pub fn pods(&self, paths: &Paths) -> anyhow::Result<(Vec<Pod>, Vec<peapod_runtime::Error>)> {
        let mut missing = vec![];
        let mut pods = if self.names.is_empty() {
            inspect::list(paths, self.namespace.as_deref())?
        } else {
            let ns = self.namespace.as_deref().unwrap_or("default");
            let mut pods = vec![];
            for name in &self.names {
                match inspect::get(paths, &PodKey::new(ns, name)) {
                    Ok(pod) => pods.push(pod),
                    Err(e @ peapod_runtime::Error::NotFound { .. }) => missing.push(e),
                    Err(e) => return Err(e.into()),
                }
            }
            pods
        };
        pods.retain(|p| self.selects(p));
        if let Some(sort) = &self.sort_by {
            sort_by(&mut pods, sort)?;
        }
        Ok((pods, missing))
    }

    /// Whether the selectors keep `pod`.
    pub fn selects(&self, pod: &Pod) -> bool {
        self.labels.matches(&pod.metadata.labels)
            && self
                .fields
                .matches(&serde_json::to_value(pod).unwrap_or_default())
    }
}

/// The `-l` and `--field-selector` of a verb, read; the API server's
/// `BadRequest` for a bad one.
pub fn selectors(
    labels: Option<&str>,
    fields: Option<&str>,
    supported: &[&str],
    resource: &str,
) -> anyhow::Result<(LabelSelector, FieldSelector)> {
    let bad = |why: String| {
        anyhow::Error::new(crate::error_message::BadRequest(format!(
            "Unable to find \"/v1, Resource={resource}\" that match label selector \"{}\", field selector \"{}\": {why}",
            labels.unwrap_or_default(),
            fields.unwrap_or_default()
        )))
    };
    let l = LabelSelector::parse(labels.unwrap_or_default()).map_err(bad)?;
    let f = FieldSelector::parse(fields.unwrap_or_default(), supported).map_err(bad)?;
    Ok((l, f))
}

/// kubectl's line for an empty list: of namespace `ns`, or of every
/// namespace (`None`, `-A`).
pub fn no_resources(ns: Option<&str>) -> String {
    match ns {
        Some(ns) => format!("No resources found in {ns} namespace."),
        None => "No resources found".to_owned(),
    }
}

/// Sorts `pods` by the value `template` finds in each (`--sort-by`).
fn sort_by(pods: &mut [Pod], template: &Template) -> anyhow::Result<()> {
    let mut keyed = pods
        .iter()
        .map(|p| {
            let v = serde_json::to_value(p)?;
            let first = template
                .values(&v)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .first()
                .copied()
                .cloned();
            Ok((first, p.clone()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    keyed.sort_by(|a, b| jsonpath::compare(a.0.as_ref(), b.0.as_ref()));
    for (slot, (_, p)) in pods.iter_mut().zip(keyed) {
        *slot = p;
    }
    Ok(())
}

/// Runs `get`.
pub fn run(args: &GetArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    if let Some(kinds) = args.targets.first().filter(|t| t.contains(',')) {
        return several_kinds(args, kinds, paths);
    }
    run_one(args, paths, false)
}

/// `get` of one kind; `prefixed`: its names as `KIND/NAME`, as kubectl
/// names them when several kinds are listed (`get all`, `get po,deploy`).
fn run_one(args: &GetArgs, paths: &Paths, prefixed: bool) -> anyhow::Result<ExitCode> {
    if crate::get_events::is_events(&args.targets) {
        return crate::get_events::run(args.events_query(), paths);
    }
    if let Some(kind) = crate::workloads::kind_of(&args.targets) {
        let output = args.output.as_deref();
        let (ns, all) = (args.namespace.as_str(), args.all_namespaces);
        return crate::workloads::get(kind, &args.targets, output, (ns, all), prefixed, paths);
    }
    let all = is_all(&args.targets);
    let targets = if all {
        vec!["pods".to_owned()]
    } else {
        args.targets.clone()
    };
    let names = crate::resource_args::pod_names("get", &targets)?;
    // The printer first, as kubectl: a bad format is the one error.
    let format = Format::of(args.output.as_deref())?;
    if !names.is_empty() && (args.selector.is_some() || args.field_selector.is_some()) {
        bail!("name cannot be provided when a selector is specified");
    }
    let (labels, fields) = selectors(
        args.selector.as_deref(),
        args.field_selector.as_deref(),
        POD_FIELDS,
        "pods",
    )?;
    let sort_by = args
        .sort_by
        .as_deref()
        .map(|s| Template::relaxed(s).map_err(|e| anyhow::anyhow!("{e}")))
        .transpose()?;
    let query = Query {
        names,
        namespace: (!args.all_namespaces).then(|| args.namespace.clone()),
        labels,
        fields,
        sort_by,
    };
    let printer = Printer {
        format,
        namespaces: args.all_namespaces,
        show_labels: args.show_labels,
        label_columns: args.label_columns.clone(),
        no_headers: args.no_headers,
        prefixed: prefixed || all,
    };
    if args.watch || args.watch_only {
        return crate::get_watch::run(&query, &printer, paths, args.watch_only);
    }
    // As kubectl: the pods found are printed, each one missing is an
    // error of its own after them.
    let (pods, missing) = query.pods(paths)?;
    if all {
        return get_all(args, &printer, paths, &pods);
    }
    let single = query.names.len() == 1;
    let mut out = crate::stdout::stdout();
    // The one pod asked for is missing: its error alone, as kubectl.
    if !(single && pods.is_empty()) {
        printer.print(&mut out, paths, &pods, single)?;
    }
    if pods.is_empty() && query.names.is_empty() && printer.format.is_human() {
        let ns = (!args.all_namespaces).then_some(args.namespace.as_str());
        eprintln!("{}", no_resources(ns));
    }
    for e in &missing {
        eprintln!("{}", crate::error_message::of_runtime(e));
    }
    Ok(if missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

impl GetArgs {
    /// The arguments as `get events` reads them.
    fn events_query(&self) -> crate::get_events::EventsQuery<'_> {
        crate::get_events::EventsQuery {
            names: &self.targets[1..],
            namespace: (!self.all_namespaces).then_some(self.namespace.as_str()),
            output: self.output.as_deref(),
            field_selector: self.field_selector.as_deref(),
            watch: self.watch || self.watch_only,
        }
    }
}

/// `get po,deploy [NAME...]`: each kind in turn, as kubectl lists them
/// (a blank line between tables); a kind peapod has not is the one error,
/// before anything is printed.
fn several_kinds(args: &GetArgs, kinds: &str, paths: &Paths) -> anyhow::Result<ExitCode> {
    let kinds: Vec<String> = kinds.split(',').map(str::to_owned).collect();
    for kind in &kinds {
        let one = std::slice::from_ref(kind);
        if !crate::get_events::is_events(one) && crate::workloads::kind_of(one).is_none() {
            crate::resource_args::pod_names("get", one)?;
        }
    }
    let human = Format::of(args.output.as_deref())?.is_human();
    let ns = (!args.all_namespaces).then_some(args.namespace.as_str());
    let (mut code, mut printed) = (ExitCode::SUCCESS, false);
    for kind in &kinds {
        let one_kind = std::slice::from_ref(kind);
        // As kubectl: a kind without objects prints nothing, not even
        // its "No resources found".
        let empty = match crate::workloads::kind_of(one_kind) {
            Some(w) => peapod_runtime::workload::list(paths, ns, Some(w))?.is_empty(),
            None if crate::get_events::is_events(one_kind) => false,
            None => inspect::list(paths, ns)?.is_empty(),
        };
        if empty {
            continue;
        }
        if printed && human {
            writeln!(crate::stdout::stdout())?;
        }
        printed = true;
        let mut one = args.clone();
        one.targets = std::iter::once(kind.clone())
            .chain(args.targets[1..].iter().cloned())
            .collect();
        if run_one(&one, paths, true)? != ExitCode::SUCCESS {
            code = ExitCode::FAILURE;
        }
    }
    if !printed {
        eprintln!("{}", no_resources(ns));
    }
    Ok(code)
}

/// Whether `targets` are `all` (kubectl's `get all`).
fn is_all(targets: &[String]) -> bool {
    matches!(targets, [only] if only.eq_ignore_ascii_case("all"))
}

/// `get all`: the pods, then each workload kind that has objects, a blank
/// line between two tables, as kubectl; `No resources found` once when
/// there is nothing at all.
fn get_all(
    args: &GetArgs,
    printer: &Printer,
    paths: &Paths,
    pods: &[Pod],
) -> anyhow::Result<ExitCode> {
    let ns = (!args.all_namespaces).then_some(args.namespace.as_str());
    let mut printed = !pods.is_empty();
    if printed {
        printer.print(&mut crate::stdout::stdout(), paths, pods, false)?;
    }
    for kind in peapod_spec::WorkloadKind::ALL {
        if peapod_runtime::workload::list(paths, ns, Some(kind))?.is_empty() {
            continue;
        }
        if printed && printer.format.is_human() {
            writeln!(crate::stdout::stdout())?;
        }
        printed = true;
        let targets = [kind.resource().to_owned()];
        let output = args.output.as_deref();
        crate::workloads::get(
            kind,
            &targets,
            output,
            (&args.namespace, args.all_namespaces),
            true,
            paths,
        )?;
    }
    if !printed {
        eprintln!("{}", no_resources(ns));
    }
    Ok(ExitCode::SUCCESS)
}

/// The printers of `-o`.
#[derive(Debug, Clone)]
pub enum Format {
    /// No `-o`: kubectl's table.
    Table,
    /// `-o wide`.
    Wide,
    /// `-o json`.
    Json,
    /// `-o yaml`.
    Yaml,
    /// `-o name`.
    Name,
    /// `-o jsonpath=` / `-o jsonpath-file=`.
    JsonPath(Template),
    /// `-o custom-columns=` / `-o custom-columns-file=`.
    CustomColumns(Vec<(String, Template)>),
}

impl Format {
    /// The printer `-o output` asks for; kubectl's error for another.
    pub fn of(output: Option<&str>) -> anyhow::Result<Self> {
        let Some(output) = output else {
            return Ok(Self::Table);
        };
        let (name, arg) = output.split_once('=').unwrap_or((output, ""));
        Ok(match name {
            "wide" => Self::Wide,
            "json" => Self::Json,
            "yaml" => Self::Yaml,
            "name" => Self::Name,
            "jsonpath" | "jsonpath-file" => {
                let text = if name == "jsonpath" {
                    arg.to_owned()
                } else {
                    std::fs::read_to_string(arg)
                        .with_context(|| format!("reading the template file {arg}"))?
                };
                if text.is_empty() {
                    bail!("template format specified but no template given");
                }
                Self::JsonPath(
                    Template::parse(&text)
                        .map_err(|e| anyhow::anyhow!("error parsing jsonpath {text}, {e}"))?,
                )
            }
            "custom-columns" => Self::CustomColumns(columns(arg)?),
            "custom-columns-file" => {
                let text = std::fs::read_to_string(arg)
                    .with_context(|| format!("reading the columns file {arg}"))?;
                Self::CustomColumns(columns_file(&text)?)
            }
            _ => bail!(
                "unable to match a printer suitable for the output format {output:?}, allowed formats are: custom-columns,custom-columns-file,json,jsonpath,jsonpath-file,name,wide,yaml"
            ),
        })
    }

    /// Whether kubectl says `No resources found` for it.
    fn is_human(&self) -> bool {
        matches!(self, Self::Table | Self::Wide | Self::CustomColumns(_))
    }
}

/// `NAME:.metadata.name,IP:.status.podIP`.
fn columns(spec: &str) -> anyhow::Result<Vec<(String, Template)>> {
    if spec.is_empty() {
        bail!("custom-columns format specified but no custom columns given");
    }
    spec.split(',')
        .map(|col| {
            let Some((header, path)) = col.split_once(':') else {
                bail!("unexpected custom-columns spec: {col}, expected <header>:<json-path-expr>");
            };
            Ok((header.to_owned(), relaxed(path)?))
        })
        .collect()
}

/// A columns file: the headers on one line, the paths on the next.
fn columns_file(text: &str) -> anyhow::Result<Vec<(String, Template)>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let (Some(headers), Some(paths), None) = (lines.next(), lines.next(), lines.next()) else {
        bail!("invalid template file: expected two lines: the headers, then the JSONPath of each");
    };
    let (headers, paths): (Vec<_>, Vec<_>) = (
        headers.split_whitespace().collect(),
        paths.split_whitespace().collect(),
    );
    if headers.len() != paths.len() {
        bail!(
            "number of headers ({}) does not match number of paths ({})",
            headers.len(),
            paths.len()
        );
    }
    headers
        .into_iter()
        .zip(paths)
        .map(|(h, p)| Ok((h.to_owned(), relaxed(p)?)))
        .collect()
}

fn relaxed(path: &str) -> anyhow::Result<Template> {
    Template::relaxed(path).map_err(|e| anyhow::anyhow!("{e}"))
}

/// How `get` prints pods.
pub struct Printer {
    /// `-o`.
    pub format: Format,
    /// `-A`: a NAMESPACE column.
    pub namespaces: bool,
    /// `--show-labels`.
    pub show_labels: bool,
    /// `-L`: a column for each of these labels' values.
    pub label_columns: Vec<String>,
    /// `--no-headers`.
    pub no_headers: bool,
    /// Names as `pod/NAME` (`get all`, several kinds).
    pub prefixed: bool,
}

impl Printer {
    /// Prints `pods`; `single`: one pod was named (its document alone,
    /// not a `List`).
    pub fn print(
        &self,
        out: &mut dyn Write,
        paths: &Paths,
        pods: &[Pod],
        single: bool,
    ) -> anyhow::Result<()> {
        match &self.format {
            Format::Json => {
                let doc = document(paths, pods, single);
                writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
            }
            Format::Yaml => {
                let doc = document(paths, pods, single);
                write!(out, "{}", serde_saphyr::to_string(&doc)?)?;
            }
            Format::Name => {
                for p in pods {
                    writeln!(
                        out,
                        "pod/{}",
                        p.metadata.name.as_deref().unwrap_or_default()
                    )?;
                }
            }
            Format::JsonPath(t) => {
                let doc = document(paths, pods, single);
                let text = t.render(&doc).map_err(|e| {
                    anyhow::anyhow!("error executing jsonpath: Error executing template: {e}")
                })?;
                write!(out, "{text}")?;
            }
            Format::Table | Format::Wide | Format::CustomColumns(_) => {
                let rows = self.rows(paths, pods, true)?;
                print_rows(out, &rows)?;
            }
        }
        out.flush()?;
        Ok(())
    }

    /// The table's rows (with the header first when `header`); none
    /// without pods.
    pub fn rows(
        &self,
        paths: &Paths,
        pods: &[Pod],
        header: bool,
    ) -> anyhow::Result<Vec<Vec<String>>> {
        let mut rows = vec![];
        if pods.is_empty() {
            return Ok(rows);
        }
        if header && !self.no_headers {
            rows.push(self.header());
        }
        for p in pods {
            rows.push(self.row(paths, p)?);
        }
        Ok(rows)
    }

    fn header(&self) -> Vec<String> {
        if let Format::CustomColumns(cols) = &self.format {
            return cols.iter().map(|(h, _)| h.clone()).collect();
        }
        let mut header = vec![];
        if self.namespaces {
            header.push("NAMESPACE");
        }
        header.extend(["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
        if matches!(self.format, Format::Wide) {
            header.extend(["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]);
        }
        let mut header: Vec<String> = header.iter().map(ToString::to_string).collect();
        // kubectl heads a label's column with its name, in capitals.
        header.extend(
            self.label_columns
                .iter()
                .map(|k| k.rsplit('/').next().unwrap_or(k).to_uppercase()),
        );
        if self.show_labels {
            header.push("LABELS".to_owned());
        }
        header
    }

    /// One pod's row.
    pub fn row(&self, paths: &Paths, p: &Pod) -> anyhow::Result<Vec<String>> {
        if let Format::CustomColumns(cols) = &self.format {
            let v = serde_json::to_value(p)?;
            return cols
                .iter()
                .map(|(_, t)| {
                    let found = t.values(&v).map_err(|e| anyhow::anyhow!("{e}"))?;
                    Ok(if found.is_empty() {
                        "<none>".to_owned()
                    } else {
                        found
                            .iter()
                            .map(|v| jsonpath::text_of(v))
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                })
                .collect();
        }
        let st = p.status.clone().unwrap_or_default();
        let key = PodKey::new(
            p.metadata.namespace.as_deref().unwrap_or("default"),
            p.metadata.name.as_deref().unwrap_or_default(),
        );
        let summary = status::pod_row(p, inspect::deletion(paths, &key).is_some());
        let restarts = match &summary.last_restart {
            Some(t) if summary.restarts != 0 => {
                format!("{} ({} ago)", summary.restarts, since(t))
            }
            _ => summary.restarts.to_string(),
        };
        let age = p
            .metadata
            .creation_timestamp
            .as_deref()
            .map_or_else(|| "<unknown>".to_owned(), since);
        let mut row = vec![];
        if self.namespaces {
            row.push(p.metadata.namespace.clone().unwrap_or_default());
        }
        let name = p.metadata.name.clone().unwrap_or_default();
        row.extend([
            if self.prefixed {
                format!("pod/{name}")
            } else {
                name
            },
            format!("{}/{}", summary.ready, summary.total),
            summary.status,
            restarts,
            age,
        ]);
        if matches!(self.format, Format::Wide) {
            row.push(st.pod_ip.clone().unwrap_or_else(|| "<none>".to_owned()));
            row.push(node::name());
            row.extend(["<none>".to_owned(), "<none>".to_owned()]);
        }
        row.extend(
            self.label_columns
                .iter()
                .map(|k| p.metadata.labels.get(k).cloned().unwrap_or_default()),
        );
        if self.show_labels {
            row.push(labels_cell(&p.metadata.labels));
        }
        Ok(row)
    }
}

/// `a=b,c=d` (sorted by key), `<none>` without labels.
fn labels_cell(labels: &std::collections::BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "<none>".to_owned();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Prints aligned rows, kubectl's padding, no trailing blanks.
pub fn print_rows(out: &mut dyn Write, rows: &[Vec<String>]) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    for line in tabwriter::table(rows).lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// One pod as itself, several as a v1 `List`; each with its ephemeral
/// containers (`peapod debug`).
pub fn document(paths: &Paths, pods: &[Pod], single: bool) -> Value {
    let mut items: Vec<Value> = pods
        .iter()
        .map(|p| {
            let ephemeral = peapod_runtime::pod::launch::key_of(p)
                .map(|key| peapod_runtime::pod::ephemeral::list(paths, &key))
                .unwrap_or_default();
            peapod_runtime::pod::ephemeral::with_ephemeral(p, &ephemeral)
        })
        .collect();
    if single && !items.is_empty() {
        return items.swap_remove(0);
    }
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": items,
        "metadata": { "resourceVersion": "" },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pod with `n` containers of which `ready` are ready, `restarts` in
    /// all, no creation time (AGE `<unknown>`, stable in a test).
    fn pod(ns: &str, name: &str, ip: Option<&str>, ready: usize, restarts: u32) -> Pod {
        let statuses: Vec<_> = (0..2)
            .map(|i| {
                serde_json::json!({
                    "name": format!("c{i}"), "image": "busybox", "imageID": "",
                    "ready": i < ready, "restartCount": if i == 0 { restarts } else { 0 },
                    "started": true, "state": {"running": {}},
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": ns},
            "spec": {"containers": [
                {"name": "c0", "image": "busybox"}, {"name": "c1", "image": "busybox"},
            ]},
            "status": {"phase": "Running", "podIP": ip, "containerStatuses": statuses},
        }))
        .expect("a pod")
    }

    fn render(pods: &[Pod], wide: bool, namespaces: bool) -> String {
        let mut out = vec![];
        let paths = Paths::under(std::path::Path::new("/nonexistent/peapod-get-test"));
        let printer = Printer {
            format: if wide { Format::Wide } else { Format::Table },
            namespaces,
            show_labels: false,
            label_columns: Vec::new(),
            no_headers: false,
            prefixed: false,
        };
        printer
            .print(&mut out, &paths, pods, false)
            .expect("written");
        String::from_utf8(out).expect("UTF-8")
    }

    fn pods() -> Vec<Pod> {
        vec![
            pod("default", "web", Some("10.88.0.7"), 2, 0),
            pod(
                "a-rather-long-namespace",
                "a-pod-name-that-is-much-longer-than-its-header-x",
                None,
                1,
                12,
            ),
        ]
    }

    #[test]
    fn the_table_pads_columns_to_their_widest_cell_plus_three() {
        assert_eq!(render(&[], false, false), "", "no header without pods");
        assert_eq!(
            render(&pods(), false, false),
            "NAME                                               READY   STATUS    RESTARTS   AGE\n\
             web                                                2/2     Running   0          <unknown>\n\
             a-pod-name-that-is-much-longer-than-its-header-x   1/2     Running   12         <unknown>\n"
        );
    }

    #[test]
    fn the_wide_table_with_namespaces() {
        // NODE is this host's name: as wide as the widest of it and the header.
        let node = node::name();
        let w = node.chars().count().max("NODE".len());
        assert_eq!(
            render(&pods(), true, true),
            format!(
                "NAMESPACE                 NAME                                               READY   STATUS    RESTARTS   AGE         IP          {:<w$}   NOMINATED NODE   READINESS GATES\n\
                 default                   web                                                2/2     Running   0          <unknown>   10.88.0.7   {node:<w$}   <none>           <none>\n\
                 a-rather-long-namespace   a-pod-name-that-is-much-longer-than-its-header-x   1/2     Running   12         <unknown>   <none>      {node:<w$}   <none>           <none>\n",
                "NODE"
            )
        );
    }
}
