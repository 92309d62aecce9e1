//! `logs`: a container's CRI log back as plain output, across its
//! rotated files ([`crate::log_reader`]), optionally only its last lines,
//! optionally followed while the container's run lasts (across
//! rotations; the stream ends with the run, as kubectl's).

use std::collections::VecDeque;
use std::io::Write;
use std::time::Duration;

use crate::clock::Timestamp;
use crate::cri_log;
use crate::error::{Error, Result};
use crate::log_reader::RunLog;
use crate::paths::Paths;
use crate::pod_watch::FolderWatch;
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
    /// Only the records written at or after this time (`--since`,
    /// `--since-time`).
    pub since: Option<Timestamp>,
    /// Each line after its record's time (`--timestamps`), as kubectl
    /// prints it (RFC 3339 with the nanoseconds' trailing zeros cut).
    pub timestamps: bool,
}

/// Writes the log of a container of pod `key` to `out`.
pub fn logs(paths: &Paths, key: &PodKey, request: &LogsRequest, out: &mut dyn Write) -> Result<()> {
    let dir = StateStore::new(paths).existing(key)?;
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
        pod.status
            .as_ref()
            .and_then(|s| {
                s.container_statuses
                    .iter()
                    .chain(&s.init_container_statuses)
                    .find(|c| c.name == container)
                    .cloned()
            })
            .or_else(|| crate::pod::ephemeral::status_in(&dir, &container))
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
    let following = request.follow && !request.previous;
    // Woken by each record the supervisor writes and each status it
    // publishes (watched before the first read, so nothing written
    // meanwhile waits for the timeout, which only covers a supervisor
    // killed outright: its pod changes no file).
    let watch = if following {
        Some(FolderWatch::new(&[dir.path(), &log_dir.join(&container)])?)
    } else {
        None
    };
    let mut printer = Printer::new(out, request);
    let mut run = RunLog::new(path_of(restart));
    run.read_available(&mut |time, _, partial, msg| printer.record(time, partial, msg))?;
    printer.end_of_tail();
    let Some(watch) = watch else {
        return Ok(());
    };
    loop {
        watch.wait(Duration::from_secs(1))?;
        let Ok(pod) = dir.read_pod() else {
            return Ok(());
        };
        run.read_available(&mut |time, _, partial, msg| printer.record(time, partial, msg))?;
        let Some(now) = status_of(&pod) else {
            return Ok(());
        };
        // The stream ends with the run it follows, as kubectl's: once the
        // container no longer runs (exited, waiting for its restart, or
        // already restarted), what it wrote last is in the file now.
        if now.restart_count != restart || now.state.running.is_none() {
            run.read_available(&mut |time, _, partial, msg| printer.record(time, partial, msg))?;
            return Ok(());
        }
    }
}

/// Writes messages out: full records end their line, partial ones are
/// joined to the next. With a tail, the lines are held (the last `n`)
/// until [`Printer::end_of_tail`], then written as they come. Records
/// older than `since` are left out; with `timestamps` a line starts with
/// the time of its first record.
struct Printer<'a> {
    out: &'a mut dyn Write,
    tail: Option<VecDeque<String>>,
    limit: usize,
    since: Option<Timestamp>,
    timestamps: bool,
    /// The line being joined from partial records.
    line: String,
    /// Whether the last record written was a partial one (the line goes on).
    mid_line: bool,
}

impl<'a> Printer<'a> {
    fn new(out: &'a mut dyn Write, request: &LogsRequest) -> Self {
        Self {
            out,
            tail: request.tail.map(|_| VecDeque::new()),
            limit: request.tail.unwrap_or(0),
            since: request.since,
            timestamps: request.timestamps,
            line: String::new(),
            mid_line: false,
        }
    }

    fn record(&mut self, time: &str, partial: bool, message: &str) {
        if let Some(since) = self.since
            && Timestamp::parse_rfc3339(time).is_some_and(|t| t < since)
        {
            return;
        }
        if self.timestamps && !self.mid_line {
            self.line.push_str(&go_rfc3339_nano(time));
            self.line.push(' ');
        }
        self.mid_line = partial;
        self.line.push_str(message);
        let Some(kept) = &mut self.tail else {
            let mut text = std::mem::take(&mut self.line);
            if !partial {
                text.push('\n');
            }
            let _ = self.out.write_all(text.as_bytes());
            return;
        };
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

/// A CRI record's time as Go's `RFC3339Nano` prints it: the fraction's
/// trailing zeros cut (`...:05.1Z`, `...:05Z`).
fn go_rfc3339_nano(time: &str) -> String {
    let Some((whole, fraction)) = time.strip_suffix('Z').and_then(|t| t.split_once('.')) else {
        return time.to_owned();
    };
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{whole}Z")
    } else {
        format!("{whole}.{fraction}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "2026-01-02T03:04:05.120000000Z";

    fn printed(tail: Option<usize>, records: &[(bool, &str)]) -> String {
        let mut out = Vec::new();
        let request = LogsRequest {
            tail,
            ..Default::default()
        };
        let mut printer = Printer::new(&mut out, &request);
        for (partial, msg) in records {
            printer.record(T, *partial, msg);
        }
        printer.end_of_tail();
        printer.record(T, false, "after");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn since_leaves_older_records_out_and_timestamps_start_lines() {
        let mut out = Vec::new();
        let request = LogsRequest {
            since: Timestamp::parse_rfc3339("2026-01-02T03:04:05Z"),
            timestamps: true,
            ..Default::default()
        };
        let mut printer = Printer::new(&mut out, &request);
        printer.record("2026-01-02T03:04:04.999999999Z", false, "old");
        printer.record("2026-01-02T03:04:05.000000000Z", true, "new ");
        printer.record("2026-01-02T03:04:05.500000000Z", false, "line");
        printer.record(T, false, "x");
        printer.end_of_tail();
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "2026-01-02T03:04:05Z new line\n2026-01-02T03:04:05.12Z x\n"
        );
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
