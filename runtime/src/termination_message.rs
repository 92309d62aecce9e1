//! `terminationMessagePath` and `terminationMessagePolicy`, as the kubelet
//! does them: a fresh host file (mode 0666) per container start,
//! bind-mounted at the path (default `/dev/termination-log`, which lies on
//! the container's own `/dev` tmpfs), read back after the exit into
//! `state.terminated.message`: its last 4096 bytes. With
//! `FallbackToLogsOnError`, a failed container that left the file empty
//! gets the end of its log instead: the last 80 lines, at most 2048 bytes.

use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use peapod_spec::{Container, TerminationMessagePolicy};

use crate::cri_log;

/// kubelet's `MaxContainerTerminationMessageLength`.
const MAX_MESSAGE: u64 = 4096;
/// kubelet's `MaxContainerTerminationMessageLogLines`.
const LOG_LINES: usize = 80;
/// kubelet's `MaxContainerTerminationMessageLogLength`.
const LOG_BYTES: usize = 2048;

/// The host file of the container whose state folder is `container_dir`.
fn host_file(container_dir: &Path) -> PathBuf {
    container_dir.join("termination-log")
}

/// Makes the host file empty (mode 0666, whatever the umask) for a new
/// start of the container; `None` when the container has no path.
pub(crate) fn prepare(container: &Container, container_dir: &Path) -> io::Result<Option<PathBuf>> {
    if container.termination_message_path.is_empty() {
        return Ok(None);
    }
    std::fs::create_dir_all(container_dir)?;
    let path = host_file(container_dir);
    std::fs::File::create(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))?;
    Ok(Some(path))
}

/// The message of a container that exited with `exit_code`: the file's
/// last 4096 bytes, or with `FallbackToLogsOnError` and a failure, the end
/// of `log` (its CRI log of this run) when the file is empty or missing.
pub(crate) fn read(
    container: &Container,
    container_dir: &Path,
    log: &Path,
    exit_code: i32,
) -> Option<String> {
    let fallback = container.termination_message_policy
        == TerminationMessagePolicy::FallbackToLogsOnError
        && exit_code != 0;
    let from_file = if container.termination_message_path.is_empty() {
        String::new()
    } else {
        match tail(&host_file(container_dir)) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Some(format!("Error on reading termination log: {e}")),
        }
    };
    let message = if from_file.is_empty() && fallback {
        log_tail(log)
    } else {
        from_file
    };
    (!message.is_empty()).then_some(message)
}

/// The last [`MAX_MESSAGE`] bytes of `path`.
fn tail(path: &Path) -> io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(MAX_MESSAGE)))?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The output of the last [`LOG_LINES`] records of a CRI log, cut to its
/// last [`LOG_BYTES`] bytes (`kubectl logs --tail 80` into a ring buffer).
fn log_tail(log: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(log) else {
        return String::new();
    };
    let records: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    for line in &records[records.len().saturating_sub(LOG_LINES)..] {
        if let Some((_, partial, content)) = cri_log::parse_record(line) {
            out.push_str(content);
            if !partial {
                out.push('\n');
            }
        }
    }
    let mut cut = out.len().saturating_sub(LOG_BYTES);
    while !out.is_char_boundary(cut) {
        cut += 1;
    }
    out.split_off(cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::cri_log::{Stream, format_record};

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("peapod-tmsg-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("dir");
        d
    }

    fn container(policy: TerminationMessagePolicy) -> Container {
        Container {
            name: "c".into(),
            termination_message_path: "/dev/termination-log".into(),
            termination_message_policy: policy,
            ..Container::default()
        }
    }

    #[test]
    fn the_file_wins_and_keeps_its_last_4096_bytes() {
        let d = dir("file");
        let c = container(TerminationMessagePolicy::FallbackToLogsOnError);
        let file = prepare(&c, &d).expect("prepared").expect("a path");
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o666);
        let long = format!("{}{}", "x".repeat(100), "y".repeat(4096));
        std::fs::write(&file, &long).expect("write");
        let log = d.join("0.log");
        assert_eq!(read(&c, &d, &log, 1), Some("y".repeat(4096)));
        // A new start empties it.
        prepare(&c, &d).expect("prepared");
        assert_eq!(
            read(&container(TerminationMessagePolicy::File), &d, &log, 1),
            None
        );
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn fallback_takes_the_last_80_lines_of_a_failed_containers_log() {
        let d = dir("fallback");
        let c = container(TerminationMessagePolicy::FallbackToLogsOnError);
        prepare(&c, &d).expect("prepared");
        let mut log = Vec::new();
        for i in 0..100 {
            let line = format!("line {i}");
            log.extend(format_record(
                Timestamp::now(),
                Stream::Stderr,
                false,
                line.as_bytes(),
            ));
        }
        let path = d.join("0.log");
        std::fs::write(&path, log).expect("log");
        let message = read(&c, &d, &path, 2).expect("fallback");
        assert!(message.starts_with("line 20\n"), "{message}");
        assert!(message.ends_with("line 99\n"), "{message}");
        // Not on success.
        assert_eq!(read(&c, &d, &path, 0), None);
        let _ = std::fs::remove_dir_all(d);
    }
}
