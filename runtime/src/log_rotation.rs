//! Container log rotation as kubelet's container log manager does it
//! (`containerLogMaxSize`, `containerLogMaxFiles`): once the current file
//! `<n>.log` holds [`RotationPolicy::max_size`] bytes it is renamed
//! `<n>.log.<YYYYMMDD-HHMMSS>` (UTC) and a new `<n>.log` is opened, and the
//! oldest rotated files are removed so that at most
//! [`RotationPolicy::max_files`] files of the run remain, the current one
//! included.
//!
//! Unlike kubelet, peapod rotates where it writes (the supervisor owns
//! the file), right after the write that reached the size, so a file never
//! grows past it by more than one read of the pipe, and a record is never
//! split across two files. Two rotations within one second (a container
//! writing faster than `max_size` per second) name the second file
//! `<n>.log.<stamp>.1`, and so on; [`rotated`] orders them by stamp and
//! number. Rotated files
//! are not gzip-compressed (kubelet compresses all but the newest): a
//! compression of 10 MiB would stall the supervisor's loop, and `logs`
//! reads them as they are.
//!
//! Of a container's runs, the current one and the one before it keep
//! their files ([`remove_runs_before`]), as kubelet's container GC leaves
//! them.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use peapod_spec::Quantity;

use crate::clock::Timestamp;

/// kubelet's default `containerLogMaxSize` (10 MiB).
pub const DEFAULT_MAX_SIZE: u64 = 10 * 1024 * 1024;

/// kubelet's default `containerLogMaxFiles`.
pub const DEFAULT_MAX_FILES: usize = 5;

/// The environment variable setting the size, a quantity (`10Mi`, `64Ki`).
pub const MAX_SIZE_ENV: &str = "PEAPOD_CONTAINER_LOG_MAX_SIZE";

/// The environment variable setting the number of files (2 or more).
pub const MAX_FILES_ENV: &str = "PEAPOD_CONTAINER_LOG_MAX_FILES";

/// When a container's log is rotated and how many files are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// The size at which the current file is rotated.
    pub max_size: u64,
    /// The most files a container run keeps, the current one included.
    pub max_files: usize,
}

impl Default for RotationPolicy {
    fn default() -> Self {
        Self {
            max_size: DEFAULT_MAX_SIZE,
            max_files: DEFAULT_MAX_FILES,
        }
    }
}

impl RotationPolicy {
    /// kubelet's defaults, or [`MAX_SIZE_ENV`] and [`MAX_FILES_ENV`]; a
    /// value kubelet's configuration would refuse is an error naming it.
    pub fn from_env() -> Result<Self, String> {
        let mut policy = Self::default();
        if let Ok(text) = std::env::var(MAX_SIZE_ENV) {
            policy.max_size = Quantity::parse(&text)
                .ok()
                .and_then(|q| u64::try_from(q.value()).ok())
                .filter(|&bytes| bytes > 0)
                .ok_or_else(|| {
                    format!("{MAX_SIZE_ENV}={text:?}: expected a size above zero, as 10Mi")
                })?;
        }
        if let Ok(text) = std::env::var(MAX_FILES_ENV) {
            policy.max_files = text
                .parse()
                .ok()
                .filter(|&n| n >= 2)
                .ok_or_else(|| format!("{MAX_FILES_ENV}={text:?}: expected 2 or more"))?;
        }
        Ok(policy)
    }
}

/// Where a rotated file of a run sorts: its time stamp, then the number
/// of the rotation within that second.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RotatedKey {
    stamp: String,
    sequence: u32,
}

/// The rotated files of the run whose current file is `log`, oldest
/// first, with their keys. Names that are not rotations of it are left
/// out; no folder is no file.
pub fn rotated(log: &Path) -> io::Result<Vec<(RotatedKey, PathBuf)>> {
    let (Some(dir), Some(name)) = (log.parent(), log.file_name().and_then(|n| n.to_str())) else {
        return Ok(Vec::new());
    };
    let prefix = format!("{name}.");
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(key) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(parse_suffix)
        else {
            continue;
        };
        found.push((key, entry.path()));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// `YYYYMMDD-HHMMSS` or `YYYYMMDD-HHMMSS.N`.
fn parse_suffix(suffix: &str) -> Option<RotatedKey> {
    let (stamp, sequence) = match suffix.split_once('.') {
        Some((stamp, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            (stamp, n.parse().ok()?)
        }
        Some(_) => return None,
        None => (suffix, 0),
    };
    let well_formed = stamp.len() == 15
        && stamp.bytes().enumerate().all(|(i, b)| {
            if i == 8 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    well_formed.then(|| RotatedKey {
        stamp: stamp.to_owned(),
        sequence,
    })
}

/// kubelet's stamp of a rotated file, `20060102-150405`, in UTC.
fn stamp(time: Timestamp) -> String {
    let digits: String = time
        .rfc3339()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    format!("{}-{}", &digits[..8], &digits[8..])
}

/// Renames the current file `log` to its rotated name for `time`;
/// returns that name. The name sorts after every rotated file there is:
/// within one second (or should the clock step back) it takes the newest
/// one's stamp with the next number, so removing the oldest file never
/// frees a name that would sort first.
pub(crate) fn rotate(log: &Path, time: Timestamp) -> io::Result<PathBuf> {
    let stamp = stamp(time);
    let key = match rotated(log)?.pop() {
        Some((newest, _)) if newest.stamp >= stamp => RotatedKey {
            sequence: newest.sequence + 1,
            stamp: newest.stamp,
        },
        _ => RotatedKey { stamp, sequence: 0 },
    };
    let target = if key.sequence == 0 {
        PathBuf::from(format!("{}.{}", log.display(), key.stamp))
    } else {
        PathBuf::from(format!("{}.{}.{}", log.display(), key.stamp, key.sequence))
    };
    fs::rename(log, &target)?;
    Ok(target)
}

/// Removes the oldest rotated files of `log` until at most `keep` remain.
pub(crate) fn remove_excess(log: &Path, keep: usize) -> io::Result<()> {
    let files = rotated(log)?;
    let excess = files.len().saturating_sub(keep);
    for (_, path) in &files[..excess] {
        match fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Removes the files (current and rotated) of the runs before
/// `keep_from` from a container's log folder `dir`. kubelet's container
/// GC keeps one dead container per pod container (`MaxPerPodContainer`)
/// and containerd removes a container's log with it: the current run and
/// the one before (`logs --previous`) stay, so a crash loop does not pile
/// up logs run after run.
pub(crate) fn remove_runs_before(dir: &Path, keep_from: u32) -> io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let run = entry
            .file_name()
            .to_str()
            .and_then(|n| n.split_once(".log"))
            .filter(|(_, rest)| rest.is_empty() || rest.starts_with('.'))
            .and_then(|(run, _)| run.parse::<u32>().ok());
        if run.is_some_and(|run| run < keep_from) {
            match fs::remove_file(entry.path()) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_testkit::TempDir;

    fn t(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).expect("valid")
    }

    #[test]
    fn rotated_name_is_kubelets_utc_stamp() {
        assert_eq!(stamp(t("2026-11-22T10:04:05.123Z")), "20261122-100405");
    }

    #[test]
    fn rotations_in_one_second_get_numbers_and_sort_in_order() {
        let tmp = TempDir::new("rotation-order");
        let log = tmp.path().join("0.log");
        let at = t("2026-11-22T10:04:05Z");
        for i in 0..12 {
            fs::write(&log, format!("{i}\n")).expect("write");
            rotate(&log, at).expect("rotate");
        }
        fs::write(&log, "current\n").expect("write");
        fs::write(tmp.path().join("0.log.tmp"), "").expect("write");
        fs::write(tmp.path().join("1.log"), "").expect("write");
        let contents: Vec<String> = rotated(&log)
            .expect("list")
            .iter()
            .map(|(_, p)| fs::read_to_string(p).expect("read"))
            .collect();
        let expected: Vec<String> = (0..12).map(|i| format!("{i}\n")).collect();
        assert_eq!(contents, expected);
    }

    #[test]
    fn a_rotation_after_a_removal_in_the_same_second_still_sorts_last() {
        let tmp = TempDir::new("rotation-reuse");
        let log = tmp.path().join("0.log");
        let at = t("2026-11-22T10:04:05Z");
        for i in 0..3 {
            fs::write(&log, format!("{i}\n")).expect("write");
            rotate(&log, at).expect("rotate");
            remove_excess(&log, 2).expect("remove");
        }
        let earlier = t("2026-11-22T10:04:01Z");
        fs::write(&log, "3\n").expect("write");
        rotate(&log, earlier).expect("a clock stepped back");
        let left: Vec<String> = rotated(&log)
            .expect("list")
            .iter()
            .map(|(_, p)| fs::read_to_string(p).expect("read"))
            .collect();
        assert_eq!(left, ["1\n", "2\n", "3\n"]);
    }

    #[test]
    fn excess_rotated_files_go_oldest_first() {
        let tmp = TempDir::new("rotation-excess");
        let log = tmp.path().join("0.log");
        for second in 0..6 {
            fs::write(&log, format!("{second}\n")).expect("write");
            rotate(&log, t(&format!("2026-11-22T10:04:0{second}Z"))).expect("rotate");
        }
        remove_excess(&log, 4).expect("remove");
        let left: Vec<String> = rotated(&log)
            .expect("list")
            .iter()
            .map(|(_, p)| fs::read_to_string(p).expect("read"))
            .collect();
        assert_eq!(left, ["2\n", "3\n", "4\n", "5\n"]);
    }

    #[test]
    fn runs_before_the_previous_one_are_removed_with_their_rotated_files() {
        let tmp = TempDir::new("rotation-runs");
        for name in [
            "0.log",
            "0.log.20261122-100405",
            "1.log",
            "1.log.20261122-100406.1",
            "2.log",
            "3.log",
            "10.log",
            "notes",
        ] {
            fs::write(tmp.path().join(name), "x\n").expect("write");
        }
        remove_runs_before(tmp.path(), 2).expect("remove");
        let mut left: Vec<String> = fs::read_dir(tmp.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["10.log", "2.log", "3.log", "notes"]);
    }

    #[test]
    fn policy_defaults_are_kubelets() {
        assert_eq!(
            RotationPolicy::default(),
            RotationPolicy {
                max_size: 10 << 20,
                max_files: 5
            }
        );
    }
}
