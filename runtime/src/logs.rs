//! `logs`: a container's CRI log file back as plain output, optionally
//! followed while the container runs.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::Duration;

use crate::cri_log;
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::state::{PodKey, StateStore};

/// Which log, how.
#[derive(Debug, Clone, Default)]
pub struct LogsRequest {
    /// The container; required when the pod has more than one.
    pub container: Option<String>,
    /// Keep printing as the container writes (`-f`).
    pub follow: bool,
    /// The previous run's log (`--previous`).
    pub previous: bool,
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
    let mut offset = copy_records(&path_of(restart), 0, out)?;
    if !request.follow || request.previous {
        return Ok(());
    }
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let Ok(pod) = dir.read_pod() else {
            return Ok(());
        };
        offset = copy_records(&path_of(restart), offset, out)?;
        let Some(now) = status_of(&pod) else {
            return Ok(());
        };
        if now.restart_count != restart {
            restart = now.restart_count;
            offset = 0;
        } else if now.state.terminated.is_some() {
            // Exited for good (a restart would show `waiting` first): what
            // it wrote last is in the file now.
            copy_records(&path_of(restart), offset, out)?;
            return Ok(());
        }
    }
}

/// Copies the messages of the records after byte `offset` of `path`;
/// returns the new offset (only whole lines are consumed).
fn copy_records(path: &PathBuf, offset: u64, out: &mut dyn Write) -> Result<u64> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(offset),
        Err(e) => return Err(Error::io(path, e)),
    };
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut pos = offset;
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| Error::io(path, e))?;
        if n == 0 || !line.ends_with('\n') {
            break;
        }
        pos += n as u64;
        if let Some((_, partial, msg)) = cri_log::parse_record(line.trim_end_matches('\n')) {
            let _ = out.write_all(msg.as_bytes());
            if !partial {
                let _ = out.write_all(b"\n");
            }
        }
    }
    let _ = out.flush();
    Ok(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_records_join_and_full_ones_end_lines() {
        let path = std::env::temp_dir().join(format!("peapod-logs-{}.log", std::process::id()));
        std::fs::write(
            &path,
            "2026-11-22T10:00:00.1Z stdout P hel\n2026-11-22T10:00:00.2Z stdout F lo\n2026-11-22T10:00:00.3Z stderr F x\n2026-11-22T10:00",
        )
        .expect("written");
        let mut out = Vec::new();
        let off = copy_records(&path, 0, &mut out).expect("read");
        assert_eq!(out, b"hello\nx\n");
        assert!(off < std::fs::metadata(&path).expect("meta").len());
        let _ = std::fs::remove_file(path);
    }
}
