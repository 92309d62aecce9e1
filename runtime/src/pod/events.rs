//! The pod's events, as the kubelet records them for `kubectl describe`:
//! `events.jsonl` in the pod's state folder, one JSON object per line,
//! appended (never rewritten, so a `kill -9` of the supervisor loses at most
//! the line being written and `describe` still reads the rest).
//!
//! An event identical to an earlier one (same type, reason, object and
//! message) is coalesced as client-go's event logger does for the kubelet:
//! its line carries the running `count`, the first occurrence's
//! `firstTimestamp` and a new `lastTimestamp`; [`read`] keeps one event per
//! key, ordered by last occurrence (as `kubectl describe` sorts them), so a
//! crash loop reads `Started (x4 over 2m)`, not forty lines.
//!
//! Reasons and messages are the kubelet's (`pkg/kubelet/events/event.go`
//! and the calls in `kuberuntime_container.go`); see [`reason`].

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::state::PodDir;

/// The file of a pod's events, in its state folder.
pub const FILE: &str = "events.jsonl";

/// The kubelet's event reasons that peapod records.
pub mod reason {
    /// A pull of the image begins (`Pulling image "busybox"`).
    pub const PULLING: &str = "Pulling";
    /// The image is there: `Container image "busybox:1.30.1" already
    /// present on machine`, or `Successfully pulled image "busybox" in
    /// 1.2s (1.2s including waiting). Image size: 2156768 bytes.`
    pub const PULLED: &str = "Pulled";
    /// The container was created (`Created container: web`).
    pub const CREATED: &str = "Created";
    /// The container's process started (`Started container web`).
    pub const STARTED: &str = "Started";
    /// The container could not be created or started (`Error: ...`).
    pub const FAILED: &str = "Failed";
    /// The container is being stopped (`Stopping container web`).
    pub const KILLING: &str = "Killing";
    /// A crashed container waits for its restart (`Back-off restarting
    /// failed container web in pod web_default(uid)`).
    pub const BACK_OFF: &str = "BackOff";
    /// A probe failed.
    pub const UNHEALTHY: &str = "Unhealthy";
    /// A postStart hook failed (`PostStartHook failed`).
    pub const FAILED_POST_START_HOOK: &str = "FailedPostStartHook";
    /// A preStop hook failed.
    pub const FAILED_PRE_STOP_HOOK: &str = "FailedPreStopHook";
    /// A probe passed with a warning (an httpGet redirect to another host).
    pub const PROBE_WARNING: &str = "ProbeWarning";
    /// The pod outlived its `activeDeadlineSeconds`.
    pub const DEADLINE_EXCEEDED: &str = "DeadlineExceeded";
}

/// `Normal` or `Warning`, as `v1.Event.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    /// Things going as planned.
    Normal,
    /// Something the user may want to look at.
    Warning,
}

impl EventType {
    /// `Normal` / `Warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Warning => "Warning",
        }
    }
}

/// One event (after coalescing: `count` occurrences).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub type_: EventType,
    /// The kubelet's reason (`Started`, `BackOff`...).
    pub reason: String,
    /// `involvedObject.fieldPath`: `spec.containers{web}`,
    /// `spec.initContainers{init}`, or `None` for the pod itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_path: Option<String>,
    /// The human message.
    pub message: String,
    /// How many times it happened.
    pub count: u32,
    /// First occurrence (RFC 3339, seconds).
    pub first_timestamp: String,
    /// Last occurrence.
    pub last_timestamp: String,
}

impl Event {
    fn same_as(&self, other: &Self) -> bool {
        self.type_ == other.type_
            && self.reason == other.reason
            && self.field_path == other.field_path
            && self.message == other.message
    }
}

/// `involvedObject.fieldPath` of a container: `spec.containers{web}`, or
/// `spec.initContainers{web}` for an init container (sidecars included).
pub fn container_field_path(init: bool, name: &str) -> String {
    let list = if init { "initContainers" } else { "containers" };
    format!("spec.{list}{{{name}}}")
}

/// The event log of one pod, written by its supervisor.
#[derive(Debug)]
pub struct EventLog {
    path: PathBuf,
    /// The coalesced events so far (few: one per distinct key).
    seen: Vec<Event>,
}

impl EventLog {
    /// The log of the pod in `dir`, continuing what it holds.
    pub fn open(dir: &PodDir) -> Self {
        let path = dir.path().join(FILE);
        let seen = read_file(&path).unwrap_or_default();
        Self { path, seen }
    }

    /// Records an event about the object at `field_path` (`None`: the pod)
    /// now; an event identical to an earlier one bumps its count.
    pub fn record(
        &mut self,
        type_: EventType,
        reason: &str,
        field_path: Option<&str>,
        message: impl Into<String>,
    ) -> Result<()> {
        let now = Timestamp::now().rfc3339();
        let mut event = Event {
            type_,
            reason: reason.to_owned(),
            field_path: field_path.map(str::to_owned),
            message: message.into(),
            count: 1,
            first_timestamp: now.clone(),
            last_timestamp: now,
        };
        if let Some(earlier) = self.seen.iter().find(|e| e.same_as(&event)) {
            event.count = earlier.count.saturating_add(1);
            event.first_timestamp.clone_from(&earlier.first_timestamp);
        }
        let mut line = serde_json::to_vec(&event).map_err(|e| Error::json(FILE, e))?;
        line.push(b'\n');
        // One write(2) of the whole line with O_APPEND: a reader never sees
        // two lines interleaved.
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(crate::state::STATE_FILE_MODE)
            .open(&self.path)
            .and_then(|mut f| f.write_all(&line))
            .map_err(|e| Error::io(&self.path, e))?;
        coalesce(&mut self.seen, event);
        Ok(())
    }
}

/// The events of the pod in `dir`, coalesced, by last occurrence (oldest
/// first); none when the pod has no log (yet).
pub fn read(dir: &PodDir) -> Result<Vec<Event>> {
    read_file(&dir.path().join(FILE))
}

fn read_file(path: &Path) -> Result<Vec<Event>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut events: Vec<Event> = Vec::new();
    // A torn last line (the writer was killed mid-write) is skipped.
    for event in text
        .lines()
        .filter_map(|l| serde_json::from_str::<Event>(l).ok())
    {
        coalesce(&mut events, event);
    }
    Ok(events)
}

/// Adds `event` to `events`, replacing (and moving last) the one it repeats.
fn coalesce(events: &mut Vec<Event>, event: Event) {
    events.retain(|e| !e.same_as(&event));
    events.push(event);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::Paths;
    use crate::state::{PodKey, StateStore};

    fn pod_dir(tag: &str) -> (PathBuf, PodDir) {
        let root = std::env::temp_dir().join(format!("peapod-events-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = StateStore::new(&Paths::under(&root))
            .create(&PodKey::new("default", "p"))
            .expect("created");
        (root, dir)
    }

    #[test]
    fn identical_events_are_coalesced_with_a_count_in_order_of_last_occurrence() {
        let (root, dir) = pod_dir("coalesce");
        let web = container_field_path(false, "web");
        let mut log = EventLog::open(&dir);
        let started = |log: &mut EventLog| {
            log.record(
                EventType::Normal,
                reason::STARTED,
                Some(&web),
                "Started container web",
            )
            .expect("recorded");
        };
        started(&mut log);
        log.record(
            EventType::Warning,
            reason::BACK_OFF,
            Some(&web),
            "Back-off restarting failed container web in pod p_default(u)",
        )
        .expect("recorded");
        started(&mut log);
        started(&mut log);
        // A new log (a restarted supervisor) continues the count.
        let mut again = EventLog::open(&dir);
        started(&mut again);
        let events = read(&dir).expect("read");
        let summary: Vec<_> = events
            .iter()
            .map(|e| (e.reason.as_str(), e.count))
            .collect();
        assert_eq!(summary, [("BackOff", 1), ("Started", 4)]);
        assert_eq!(
            events[1].field_path.as_deref(),
            Some("spec.containers{web}")
        );
        assert_eq!(events[0].type_, EventType::Warning);
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_no_log_reads_as_none() {
        let (root, dir) = pod_dir("torn");
        assert!(read(&dir).expect("read").is_empty());
        let mut log = EventLog::open(&dir);
        log.record(
            EventType::Normal,
            reason::KILLING,
            None,
            "Stopping container web",
        )
        .expect("recorded");
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(FILE))
            .expect("open");
        f.write_all(b"{\"type\":\"Nor").expect("write");
        let events = read(&dir).expect("read");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].message, "Stopping container web");
        let _ = std::fs::remove_dir_all(root);
    }
}
