//! `get pods -w` / `--watch-only`: the list (unless watch-only), then a
//! line each time a pod's row changes, as kubectl prints its watch: the
//! header once, each later row aligned on its own, a removed pod's last
//! row once more. Woken by inotify on the pods' state ([`PodWatch`]), not
//! by a timer; it runs until interrupted.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use peapod_runtime::Paths;
use peapod_runtime::pod::pod_watch::PodWatch;
use peapod_spec::Pod;

use crate::get::{Format, Printer, Query, document, print_rows};

/// What tells two states of a pod apart for the printer: its row without
/// the columns that change with the clock alone (AGE, `(5s ago)`), or its
/// whole document for the machine formats.
fn signature(printer: &Printer, paths: &Paths, pod: &Pod) -> anyhow::Result<String> {
    match printer.format {
        Format::Table | Format::Wide => {
            let mut row = printer.row(paths, pod)?;
            let age = if printer.namespaces { 5 } else { 4 };
            row.remove(age);
            if let Some(space) = row[age - 1].find(' ') {
                row[age - 1].truncate(space);
            }
            Ok(row.join("\t"))
        }
        Format::CustomColumns(_) => Ok(printer.row(paths, pod)?.join("\t")),
        _ => {
            let deleting = peapod_runtime::pod::inspect::deletion(paths, &key_of(pod)).is_some();
            Ok(format!("{deleting}{}", serde_json::to_string(pod)?))
        }
    }
}

fn key_of(pod: &Pod) -> peapod_runtime::PodKey {
    peapod_runtime::PodKey::new(
        pod.metadata.namespace.as_deref().unwrap_or("default"),
        pod.metadata.name.as_deref().unwrap_or_default(),
    )
}

/// Runs `get -w`.
pub fn run(
    query: &Query,
    printer: &Printer,
    paths: &Paths,
    watch_only: bool,
) -> anyhow::Result<ExitCode> {
    // The watches first: nothing that changes after the first read is lost.
    let mut watch = PodWatch::new(paths)?;
    let (pods, missing) = query.pods(paths)?;
    if let Some(e) = missing.into_iter().next() {
        return Err(e.into());
    }
    let mut out = crate::stdout::stdout();
    let mut header_printed = false;
    if !watch_only {
        if pods.is_empty() && matches!(printer.format, Format::Table | Format::Wide) {
            eprintln!("{}", crate::get::no_resources(query.namespace.as_deref()));
        }
        if matches!(
            printer.format,
            Format::Table | Format::Wide | Format::CustomColumns(_)
        ) {
            // The list is one table, as without `-w`.
            printer.print(&mut out, paths, &pods, false)?;
            header_printed = !pods.is_empty();
        } else {
            print(&mut out, printer, paths, &pods, &mut header_printed)?;
        }
    }
    let mut seen: BTreeMap<peapod_runtime::PodKey, (String, Pod)> = BTreeMap::new();
    for p in pods {
        seen.insert(key_of(&p), (signature(printer, paths, &p)?, p));
    }
    loop {
        watch.wait(paths, None)?;
        let (pods, _) = query.pods(paths)?;
        let mut changed = vec![];
        let mut present = std::collections::BTreeSet::new();
        for p in pods {
            let key = key_of(&p);
            present.insert(key.clone());
            let sig = signature(printer, paths, &p)?;
            if seen.get(&key).is_none_or(|(old, _)| *old != sig) {
                changed.push(p.clone());
                seen.insert(key, (sig, p));
            }
        }
        // Removed (or no longer selected): its last state once more.
        let gone: Vec<_> = seen
            .keys()
            .filter(|k| !present.contains(*k))
            .cloned()
            .collect();
        for key in gone {
            if let Some((_, p)) = seen.remove(&key) {
                changed.push(p);
            }
        }
        print(&mut out, printer, paths, &changed, &mut header_printed)?;
    }
}

/// Prints one batch of changes: tables get the header with their first
/// row only, each row aligned on its own; documents one by one.
fn print(
    out: &mut dyn Write,
    printer: &Printer,
    paths: &Paths,
    pods: &[Pod],
    header_printed: &mut bool,
) -> anyhow::Result<()> {
    match &printer.format {
        Format::Table | Format::Wide | Format::CustomColumns(_) => {
            for p in pods {
                let rows = printer.rows(paths, std::slice::from_ref(p), !*header_printed)?;
                *header_printed = true;
                print_rows(out, &rows)?;
            }
            out.flush()?;
        }
        Format::Yaml => {
            for p in pods {
                write!(
                    out,
                    "---\n{}",
                    serde_saphyr::to_string(&document(paths, std::slice::from_ref(p), true))?
                )?;
            }
            out.flush()?;
        }
        _ => {
            for p in pods {
                printer.print(out, paths, std::slice::from_ref(p), true)?;
            }
        }
    }
    Ok(())
}
