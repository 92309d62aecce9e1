//! Container logs in the CRI format that kubelet and log shippers read:
//! `2016-10-06T00:17:09.669794202Z stdout F the log line`, one line per
//! chunk, `F` for a full line, `P` for a partial one (a line longer than
//! [`MAX_LINE`] is cut into `P` pieces ending with an `F`). Files are
//! rotated as kubelet rotates them ([`crate::log_rotation`]).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::clock::Timestamp;
use crate::log_rotation::{self, RotationPolicy};

/// Longest line kept in one record, as containerd's default buffer.
pub const MAX_LINE: usize = 16 * 1024;

/// Which stream of the container a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output (also everything of a `tty: true` container).
    Stdout,
    /// Standard error.
    Stderr,
}

impl Stream {
    /// The tag written in the record.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
        }
    }
}

/// One record, formatted: `<time> <stream> <F|P> <bytes>\n`.
pub fn format_record(time: Timestamp, stream: Stream, partial: bool, line: &[u8]) -> Vec<u8> {
    let tag = if partial { 'P' } else { 'F' };
    let mut out = format!("{} {} {tag} ", time.rfc3339_nanos(), stream.tag()).into_bytes();
    out.extend_from_slice(line);
    out.push(b'\n');
    out
}

/// Where a container's log file for a given restart lives:
/// `<log root>/<ns>_<pod>_<uid>/<container>/<restart>.log`.
pub fn log_path(pod_log_dir: &Path, container: &str, restart_count: u32) -> PathBuf {
    pod_log_dir
        .join(container)
        .join(format!("{restart_count}.log"))
}

/// The pod's log folder below the log root: `<ns>_<pod>_<uid>`.
///
/// Being one file name, it takes at most 255 bytes (`NAME_MAX`): see
/// [`room_for_namespace_and_name`].
pub fn pod_log_dir(log_root: &Path, namespace: &str, pod: &str, uid: &str) -> PathBuf {
    log_root.join(format!("{namespace}_{pod}_{uid}"))
}

/// How many bytes a pod's namespace and name may take together for its
/// log folder `<ns>_<pod>_<uid>` to fit in one file name (255 bytes): 217
/// with a UUID, the same limit as a kubelet's `/var/log/pods`.
pub fn room_for_namespace_and_name(uid: &str) -> usize {
    const NAME_MAX: usize = 255;
    NAME_MAX.saturating_sub(uid.len() + 2)
}

/// Turns the bytes of one stream into CRI records.
#[derive(Debug)]
pub struct LineSplitter {
    stream: Stream,
    pending: Vec<u8>,
}

impl LineSplitter {
    /// A splitter for `stream`.
    pub fn new(stream: Stream) -> Self {
        Self {
            stream,
            pending: Vec::new(),
        }
    }

    /// Feeds bytes read from the stream; returns the records they complete.
    pub fn feed(&mut self, time: Timestamp, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.pending.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(nl) = self.pending[start..].iter().position(|&b| b == b'\n') {
            let mut line = &self.pending[start..start + nl];
            line = line.strip_suffix(b"\r").unwrap_or(line);
            for (i, piece) in pieces(line).enumerate() {
                let last = (i + 1) * MAX_LINE >= line.len();
                out.extend(format_record(time, self.stream, !last, piece));
            }
            start += nl + 1;
        }
        self.pending.drain(..start);
        while self.pending.len() > MAX_LINE {
            let rest = self.pending.split_off(MAX_LINE);
            out.extend(format_record(time, self.stream, true, &self.pending));
            self.pending = rest;
        }
        out
    }

    /// The stream ended: a last line without newline is written as full.
    pub fn finish(&mut self, time: Timestamp) -> Vec<u8> {
        if self.pending.is_empty() {
            return Vec::new();
        }
        let line = std::mem::take(&mut self.pending);
        format_record(time, self.stream, false, &line)
    }
}

fn pieces(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    let empty: &[u8] = &[];
    let first = line.is_empty().then_some(empty);
    first.into_iter().chain(line.chunks(MAX_LINE))
}

/// The mode of a container's log file: containerd's (0640, what a kubelet
/// node shows), read by root and the `adm`-style group of log shippers;
/// the folders above it stay 0755 as kubelet makes them.
const LOG_FILE_MODE: u32 = 0o640;

/// The open log file of one container run, shared by its streams
/// (stdout and stderr write records into the same file), rotated by its
/// [`RotationPolicy`] (see [`crate::log_rotation`]).
#[derive(Debug)]
pub struct LogFile {
    path: PathBuf,
    file: File,
    /// Bytes in the current file.
    size: u64,
    policy: RotationPolicy,
}

impl LogFile {
    /// Opens (creating folders, appending) the file at `path`, to be
    /// rotated by `policy`.
    pub fn open(path: &Path, policy: RotationPolicy) -> io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            path: path.to_owned(),
            file,
            size,
            policy,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the file at its path again, creating it: after the caller
    /// renamed it away (the CRI's `ReopenContainerLog`).
    pub fn reopen(&mut self) -> io::Result<()> {
        self.file = open_append(&self.path)?;
        self.size = self.file.metadata()?.len();
        Ok(())
    }

    /// Appends formatted records (whole records only, so a rotation never
    /// splits one); rotates the file once it reached the policy's size.
    pub fn write(&mut self, records: &[u8]) -> io::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.file.write_all(records)?;
        self.size += records.len() as u64;
        if self.size >= self.policy.max_size {
            self.rotate()?;
        }
        Ok(())
    }

    /// The current file becomes `<n>.log.<stamp>`, a new one is opened,
    /// and rotated files past the policy's count are removed.
    fn rotate(&mut self) -> io::Result<()> {
        let _span = tracing::debug_span!("log_rotation").entered();
        log_rotation::rotate(&self.path, Timestamp::now())?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        log_rotation::remove_excess(&self.path, self.policy.max_files.saturating_sub(1))
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(LOG_FILE_MODE)
        .open(path)
}

/// The message of a CRI record line, without time, stream and tag; partial
/// records are joined by the caller by not adding a newline.
pub fn parse_record(line: &str) -> Option<(Stream, bool, &str)> {
    let mut parts = line.splitn(4, ' ');
    let _time = parts.next()?;
    let stream = match parts.next()? {
        "stdout" => Stream::Stdout,
        "stderr" => Stream::Stderr,
        _ => return None,
    };
    let partial = match parts.next()? {
        "P" => true,
        "F" => false,
        _ => return None,
    };
    Some((stream, partial, parts.next().unwrap_or("")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Timestamp {
        Timestamp::parse_rfc3339("2026-11-22T10:00:00.123456789Z").expect("valid")
    }

    #[test]
    fn cri_record_has_time_stream_tag_and_message() {
        let rec = format_record(t(), Stream::Stdout, false, b"hello");
        assert_eq!(rec, b"2026-11-22T10:00:00.123456789Z stdout F hello\n");
    }

    #[test]
    fn lines_split_across_reads_make_one_full_record() {
        let mut s = LineSplitter::new(Stream::Stderr);
        assert!(s.feed(t(), b"hel").is_empty());
        let out = s.feed(t(), b"lo\nwor");
        assert_eq!(out, b"2026-11-22T10:00:00.123456789Z stderr F hello\n");
        let rest = s.finish(t());
        assert_eq!(rest, b"2026-11-22T10:00:00.123456789Z stderr F wor\n");
    }

    #[test]
    fn long_line_is_cut_into_partial_records() {
        let mut s = LineSplitter::new(Stream::Stdout);
        let mut long = vec![b'a'; MAX_LINE + 10];
        long.push(b'\n');
        let out = String::from_utf8(s.feed(t(), &long)).expect("utf8");
        let tags: Vec<_> = out
            .lines()
            .map(|l| parse_record(l).expect("record").1)
            .collect();
        assert_eq!(tags, [true, false]);
    }

    #[test]
    fn tty_carriage_returns_and_empty_lines_are_kept_as_lines() {
        let mut s = LineSplitter::new(Stream::Stdout);
        let out = String::from_utf8(s.feed(t(), b"a\r\n\n")).expect("utf8");
        let msgs: Vec<_> = out
            .lines()
            .map(|l| parse_record(l).expect("record").2)
            .collect();
        assert_eq!(msgs, ["a", ""]);
    }

    #[test]
    fn log_path_follows_kubelet_layout() {
        let dir = pod_log_dir(Path::new("/var/log/pods"), "default", "myapp", "u1");
        assert_eq!(
            log_path(&dir, "myapp1", 2),
            Path::new("/var/log/pods/default_myapp_u1/myapp1/2.log")
        );
    }
}
