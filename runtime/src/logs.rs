//! `logs`: a container's CRI log back as plain output, across its
//! rotated files ([`crate::log_reader`]), optionally only its last lines,
//! optionally followed while the container's run lasts (across
//! rotations; the stream ends with the run, as kubectl's).

use std::collections::VecDeque;
use std::io::Write;
use std::time::Duration;

use crate::cri_log;
use crate::error::{Error, Result};
use crate::log_reader::RunLog;
use crate::paths::Paths;
use crate::state::{PodKey, StateStore};

/// Which log, how.
#[derive(Debug, Clone, Default)]
pub struct LogsRequest {
    /// The container; required when the pod has more than one.
    pub container: Option<String>,
    /// Keep printing as the container writes, until its run ends (`-f`).
    pub follow: bool,
    /// The previous run's log (`--previous`).
    pub previous: bool,
    /// Only the last lines (`--tail`); all when `None`.
    pub tail: Option<usize>,
}

/// Writes the log of a container of pod `key` to `out`.
pub fn logs(paths: &Paths, key: &PodKey, request: &LogsRequest, out: &mut dyn Write) -> Result<()> {
    let dir = StateStore::new(paths).pod(key);
    if !dir.exists() {
        return Err(Error::NotFound {
            name: key.name.clone(),
        });
    }
    let pod = dir.read_pod()?;
    let names: Vec<&str> = pod
        .spec
        .containers
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let container = match (&request.container, names.as_slice()) {
        (Some(c), _) => c.clone(),
        (None, [only]) => (*only).to_owned(),
        (None, _) => {
            return Err(Error::pod(
                &key.name,
                format!(
                    "a container name must be specified for pod {}, choose one of: [{}]",
                    key.name,
                    names.join(" ")
                ),
            ));
        }
    };
    let status_of = |pod: &peapod_spec::Pod| {
        pod.status.as_ref().and_then(|s| {
            s.container_statuses
                .iter()
                .chain(&s.init_container_statuses)
                .find(|c| c.name == container)
                .cloned()
        })
    };
    let restart_of = |pod: &peapod_spec::Pod| status_of(pod).map(|c| c.restart_count);
    let Some(mut restart) = restart_of(&pod) else {
        return Err(Error::NoSuchContainer {
            pod: key.name.clone(),
            container,
        });
    };
    if request.previous {
        if restart == 0 {
            return Err(Error::container(
                &container,
                "no previous terminated container",
            ));
        }
        restart -= 1;
    }
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let log_dir = cri_log::pod_log_dir(&paths.log, &key.namespace, &key.name, &uid);
    let path_of = |n: i32| cri_log::log_path(&log_dir, &container, u32::try_from(n).unwrap_or(0));
    let mut printer = Printer::new(out, request.tail);
    let mut run = RunLog::new(path_of(restart));
    run.read_available(&mut |partial, msg| printer.record(partial, msg))?;
    printer.end_of_tail();
    if !request.follow || request.previous {
        return Ok(());
    }
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let Ok(pod) = dir.read_pod() else {
            return Ok(());
        };
        run.read_available(&mut |partial, msg| printer.record(partial, msg))?;
        let Some(now) = status_of(&pod) else {
            return Ok(());
        };
        // The stream ends with the run it follows, as kubectl's: once the
        // container no longer runs (exited, waiting for its restart, or
        // already restarted), what it wrote last is in the file now.
        if now.restart_count != restart || now.state.running.is_none() {
            run.read_available(&mut |partial, msg| printer.record(partial, msg))?;
            return Ok(());
        }
    }
}

/// Writes messages out: full records end their line, partial ones are
/// joined to the next. With a tail, the lines are held (the last `n`)
/// until [`Printer::end_of_tail`], then written as they come.
struct Printer<'a> {
    out: &'a mut dyn Write,
    tail: Option<VecDeque<String>>,
    limit: usize,
    /// The line being joined from partial records, while tailing.
    line: String,
}

impl<'a> Printer<'a> {
    fn new(out: &'a mut dyn Write, tail: Option<usize>) -> Self {
        Self {
            out,
            tail: tail.map(|_| VecDeque::new()),
            limit: tail.unwrap_or(0),
            line: String::new(),
        }
    }

    fn record(&mut self, partial: bool, message: &str) {
        let Some(kept) = &mut self.tail else {
            let _ = self.out.write_all(message.as_bytes());
            if !partial {
                let _ = self.out.write_all(b"\n");
            }
            return;
        };
        self.line.push_str(message);
        if !partial {
            kept.push_back(std::mem::take(&mut self.line));
            if kept.len() > self.limit {
                kept.pop_front();
            }
        }
    }

    /// Writes the held lines (and a line still being joined); from now on
    /// records go straight out.
    fn end_of_tail(&mut self) {
        if let Some(kept) = self.tail.take() {
            for line in kept {
                let _ = self.out.write_all(line.as_bytes());
                let _ = self.out.write_all(b"\n");
            }
            let _ = self
                .out
                .write_all(std::mem::take(&mut self.line).as_bytes());
        }
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(tail: Option<usize>, records: &[(bool, &str)]) -> String {
        let mut out = Vec::new();
        let mut printer = Printer::new(&mut out, tail);
        for (partial, msg) in records {
            printer.record(*partial, msg);
        }
        printer.end_of_tail();
        printer.record(false, "after");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn partial_records_join_and_full_ones_end_lines() {
        let records = [(true, "hel"), (false, "lo"), (false, "x")];
        assert_eq!(printed(None, &records), "hello\nx\nafter\n");
    }

    #[test]
    fn tail_keeps_the_last_lines_joined_then_passes_on() {
        let records = [
            (false, "a"),
            (true, "b"),
            (false, "c"),
            (false, "d"),
            (true, "e"),
        ];
        assert_eq!(printed(Some(2), &records), "bc\nd\neafter\n");
        assert_eq!(printed(Some(0), &records), "eafter\n");
    }
}
