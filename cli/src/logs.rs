//! `peapod logs POD [-c CONTAINER] [-f] [-p] [--tail N] [--since 5m |
//! --since-time T] [--timestamps] [--all-containers] [--prefix]`, and
//! `logs -l SELECTOR`: containers' output as kubectl prints it.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::bail;
use peapod_runtime::PodKey;
use peapod_runtime::Timestamp;
use peapod_runtime::pod::logs::LogsRequest;
use peapod_runtime::{Paths, pod::inspect, pod::logs};

use crate::duration::{GoDuration, parse_go};

/// Print containers' logs.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// The pod: `NAME` or `pod/NAME` (none with `-l`).
    #[arg(value_name = "POD", required_unless_present = "selector")]
    pod: Option<String>,
    /// The container; the pod's default one (its
    /// `kubectl.kubernetes.io/default-container` annotation, else its
    /// first) when not given.
    #[arg(short = 'c', long, value_name = "CONTAINER")]
    container: Option<String>,
    /// Keep printing while the container runs.
    #[arg(short = 'f', long)]
    follow: bool,
    /// The previous run's log.
    #[arg(short = 'p', long)]
    previous: bool,
    /// Only the last lines (-1: all, as kubectl; 10 with `-l`).
    #[arg(long, allow_negative_numbers = true)]
    tail: Option<i64>,
    /// Only lines newer than this (`5s`, `2m`, `1h`).
    #[arg(long, value_parser = parse_go, conflicts_with = "since_time")]
    since: Option<GoDuration>,
    /// Only lines written at or after this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    since_time: Option<String>,
    /// Each line after its time (RFC 3339).
    #[arg(long)]
    timestamps: bool,
    /// Every container of the pod, init containers first.
    #[arg(long)]
    all_containers: bool,
    /// Each line after `[pod/NAME/CONTAINER] `.
    #[arg(long)]
    prefix: bool,
    /// The pods whose labels match (their default containers, or all of
    /// them with `--all-containers`).
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    selector: Option<String>,
    /// How many logs `-f` follows at once at most.
    #[arg(long, default_value_t = 5)]
    max_log_requests: usize,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
}

/// One container's log to print.
struct Stream {
    key: PodKey,
    container: String,
}

/// Runs `logs`.
pub fn run(args: &LogsArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let since = match (&args.since, &args.since_time) {
        (Some(d), _) => {
            let now = std::time::SystemTime::now();
            Some(Timestamp::from(now.checked_sub(d.duration).unwrap_or(now)))
        }
        (None, Some(t)) => Some(Timestamp::parse_rfc3339(t).ok_or_else(|| {
            anyhow::anyhow!("--since-time must be a valid RFC3339 timestamp (in UTC: 2006-01-02T15:04:05Z), not {t:?}")
        })?),
        (None, None) => None,
    };
    let streams = streams(args, paths)?;
    let tail = args
        .tail
        .unwrap_or(if args.selector.is_some() { 10 } else { -1 });
    let request = |container: &str| LogsRequest {
        container: Some(container.to_owned()),
        follow: args.follow,
        previous: args.previous,
        tail: usize::try_from(tail).ok(),
        since,
        timestamps: args.timestamps,
    };
    let prefix = |s: &Stream| {
        if args.prefix {
            format!("[pod/{}/{}] ", s.key.name, s.container)
        } else {
            String::new()
        }
    };
    if args.follow && streams.len() > 1 {
        if streams.len() > args.max_log_requests {
            bail!(
                "you are attempting to follow {} log streams, but maximum allowed concurrency is {}, use --max-log-requests to increase the limit",
                streams.len(),
                args.max_log_requests
            );
        }
        // Followed at once, as kubectl does, each line written whole.
        return std::thread::scope(|scope| {
            let handles: Vec<_> = streams
                .iter()
                .map(|s| {
                    scope.spawn(move || {
                        let mut out = Lines::new(prefix(s));
                        let r = logs::logs(paths, &s.key, &request(&s.container), &mut out);
                        out.finish();
                        r
                    })
                })
                .collect();
            for h in handles {
                h.join()
                    .map_err(|_| anyhow::anyhow!("a log stream panicked"))??;
            }
            Ok(ExitCode::SUCCESS)
        });
    }
    for s in &streams {
        let mut out = Lines::new(prefix(s));
        let r = logs::logs(paths, &s.key, &request(&s.container), &mut out);
        out.finish();
        r?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The containers whose logs `args` ask for.
fn streams(args: &LogsArgs, paths: &Paths) -> anyhow::Result<Vec<Stream>> {
    let keys = match (&args.pod, &args.selector) {
        (Some(_), Some(_)) => bail!("only a selector (-l) or a POD name is allowed"),
        (Some(pod), None) => vec![PodKey::new(
            &args.namespace,
            crate::workloads::pod_name(paths, &args.namespace, pod)?,
        )],
        (None, selector) => {
            let (labels, _) = crate::get::selectors(selector.as_deref(), None, &[], "pods")?;
            let keys: Vec<PodKey> = inspect::list(paths, Some(&args.namespace))?
                .into_iter()
                .filter(|p| labels.matches(&p.metadata.labels))
                .filter_map(|p| p.metadata.name)
                .map(|name| PodKey::new(&args.namespace, name))
                .collect();
            if keys.is_empty() {
                eprintln!("No resources found in {} namespace.", args.namespace);
            }
            keys
        }
    };
    let mut streams = vec![];
    for key in keys {
        if !args.all_containers {
            let container =
                crate::default_container::container(paths, &key, args.container.as_deref())?;
            streams.push(Stream { key, container });
            continue;
        }
        let pod = inspect::get(paths, &key)?;
        // Init containers first, as kubectl; those not started yet have
        // no log to print.
        let started: Vec<String> = pod
            .status
            .iter()
            .flat_map(|s| {
                s.init_container_statuses
                    .iter()
                    .chain(&s.container_statuses)
            })
            .map(|c| c.name.clone())
            .collect();
        for c in pod.spec.init_containers.iter().chain(&pod.spec.containers) {
            if started.contains(&c.name) {
                streams.push(Stream {
                    key: key.clone(),
                    container: c.name.clone(),
                });
            }
        }
    }
    Ok(streams)
}

/// The one lock of standard output among concurrent streams.
static STDOUT: Mutex<()> = Mutex::new(());

/// A writer that passes whole lines to standard output, each after a
/// prefix, so concurrent streams never cut into each other's lines.
struct Lines {
    prefix: String,
    pending: Vec<u8>,
}

impl Lines {
    fn new(prefix: String) -> Self {
        Self {
            prefix,
            pending: vec![],
        }
    }

    /// Writes `bytes` (whole lines) out under the lock.
    fn emit(&self, lines: &[u8]) -> std::io::Result<()> {
        let _guard = STDOUT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = crate::stdout::stdout();
        for line in lines.split_inclusive(|b| *b == b'\n') {
            out.write_all(self.prefix.as_bytes())?;
            out.write_all(line)?;
        }
        out.flush()
    }

    /// Writes what is left of a last line without its newline.
    fn finish(&mut self) {
        let rest = std::mem::take(&mut self.pending);
        if !rest.is_empty() {
            let _ = self.emit(&rest);
        }
    }
}

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(end) = self.pending.iter().rposition(|b| *b == b'\n') {
            let whole: Vec<u8> = self.pending.drain(..=end).collect();
            self.emit(&whole)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
