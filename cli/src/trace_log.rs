//! `RUST_LOG=peapod=debug`: the `tracing` spans and events of every crate,
//! one line each on stderr (a supervisor's stderr is its pod's
//! `supervisor.log`), each span with how long it took — enough to read a
//! slow pod start. Installed only when `RUST_LOG` is set: without it no
//! subscriber exists and every span is a no-op.
//!
//! `RUST_LOG` takes a level (`debug`) or `target=level` items separated by
//! commas (`peapod=debug`: every crate whose module path starts with
//! `peapod`); a target matches a module path by prefix.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Installs the stderr subscriber when `RUST_LOG` is set.
pub fn install_from_env() {
    let Some(spec) = std::env::var_os("RUST_LOG") else {
        return;
    };
    let subscriber = StderrLog {
        filter: Filter::parse(&spec.to_string_lossy()),
        next_id: AtomicU64::new(1),
        spans: Mutex::new(HashMap::new()),
    };
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// Which targets log at which level.
#[derive(Debug, Default, PartialEq)]
struct Filter {
    /// `(target prefix, most verbose level)`; an empty prefix is every target.
    items: Vec<(String, Level)>,
}

impl Filter {
    fn parse(spec: &str) -> Self {
        let items = spec
            .split(',')
            .filter_map(|item| {
                let (target, level) = item.rsplit_once('=').unwrap_or(("", item));
                Some((target.trim().to_owned(), level.trim().parse().ok()?))
            })
            .collect();
        Self { items }
    }

    /// The longest matching prefix decides.
    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        self.items
            .iter()
            .filter(|(target, _)| meta.target().starts_with(target.as_str()))
            .max_by_key(|(target, _)| target.len())
            .is_some_and(|(_, level)| meta.level() <= level)
    }
}

struct OpenSpan {
    name: &'static str,
    fields: String,
    since: Instant,
    refs: usize,
}

struct StderrLog {
    filter: Filter,
    next_id: AtomicU64,
    spans: Mutex<HashMap<u64, OpenSpan>>,
}

/// `name=value` pairs (the `message` field bare).
#[derive(Default)]
struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let sep = if self.0.is_empty() { "" } else { " " };
        let _ = if field.name() == "message" {
            write!(self.0, "{sep}{value:?}")
        } else {
            write!(self.0, "{sep}{}={value:?}", field.name())
        };
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_debug(field, &format_args!("{value}"));
    }
}

/// One line on stderr: wall-clock seconds (to line up the lines of `apply`
/// and of its supervisor), pid, then the text.
fn emit(text: &str) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let line = format!(
        "{}.{:06} [{}] {text}\n",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id()
    );
    let _ = std::io::stderr().write_all(line.as_bytes());
}

impl StderrLog {
    fn spans(&self) -> std::sync::MutexGuard<'_, HashMap<u64, OpenSpan>> {
        self.spans
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Subscriber for StderrLog {
    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        self.filter.enabled(meta)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut fields = Fields::default();
        span.record(&mut fields);
        self.spans().insert(
            id,
            OpenSpan {
                name: span.metadata().name(),
                fields: fields.0,
                since: Instant::now(),
                refs: 1,
            },
        );
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(open) = self.spans().get_mut(&span.into_u64()) {
            let mut fields = Fields(std::mem::take(&mut open.fields));
            values.record(&mut fields);
            open.fields = fields.0;
        }
    }

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        emit(&format!("{} {}: {}", meta.level(), meta.target(), fields.0));
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}

    fn clone_span(&self, id: &Id) -> Id {
        if let Some(open) = self.spans().get_mut(&id.into_u64()) {
            open.refs += 1;
        }
        id.clone()
    }

    /// The span's last handle is gone: one line with its duration.
    fn try_close(&self, id: Id) -> bool {
        let mut spans = self.spans();
        let Some(open) = spans.get_mut(&id.into_u64()) else {
            return false;
        };
        open.refs -= 1;
        if open.refs > 0 {
            return false;
        }
        let Some(open) = spans.remove(&id.into_u64()) else {
            return false;
        };
        drop(spans);
        let micros = open.since.elapsed().as_micros();
        let sep = if open.fields.is_empty() { "" } else { " " };
        emit(&format!(
            "span {}{sep}{}: {}.{:03} ms",
            open.name,
            open.fields,
            micros / 1000,
            micros % 1000
        ));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_items_give_a_level_per_target_prefix() {
        let f = Filter::parse("info,peapod_runtime=debug,bogus");
        assert_eq!(
            f.items,
            [
                (String::new(), Level::INFO),
                ("peapod_runtime".to_owned(), Level::DEBUG)
            ]
        );
    }
}
