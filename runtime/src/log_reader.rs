//! Reading one container run's log in order across its rotated files
//! ([`crate::log_rotation`]), and on across rotations while it is
//! followed: each record once, none skipped while its file exists.
//!
//! The current file `<n>.log` is opened first and the rotated files older
//! than it are read before it; once `<n>.log` names another file (the
//! writer rotated it), what the old file got last is read through the fd
//! still open, then the files rotated since, then the new current file.
//! Files are told apart by device and inode; a rotated file removed for
//! the count before it was read is lost, as with kubelet.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::cri_log::{self, Stream};
use crate::error::{Error, Result};
use crate::log_rotation::{self, RotatedKey};

/// Takes the records read: its time (as written, RFC 3339 with
/// nanoseconds), its stream, whether it is a partial one, and its message.
pub(crate) type Sink<'a> = dyn FnMut(&str, Stream, bool, &str) + 'a;

/// The log of one container run being read.
#[derive(Debug)]
pub(crate) struct RunLog {
    /// `<n>.log`.
    path: PathBuf,
    /// The file being read, once opened.
    current: Option<OpenLog>,
    /// The newest rotated file read to its end.
    last_rotated: Option<RotatedKey>,
}

/// A file being read and how far.
#[derive(Debug)]
struct OpenLog {
    file: File,
    pos: u64,
    id: (u64, u64),
}

impl OpenLog {
    fn open(path: &Path) -> io::Result<Option<Self>> {
        match File::open(path) {
            Ok(file) => {
                let meta = file.metadata()?;
                Ok(Some(Self {
                    file,
                    pos: 0,
                    id: (meta.dev(), meta.ino()),
                }))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl RunLog {
    /// The run whose current file is `path`, read from its first record.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            current: None,
            last_rotated: None,
        }
    }

    /// Gives `sink` every whole record written since the last call, in
    /// order, across the rotations that happened meanwhile.
    pub(crate) fn read_available(&mut self, sink: &mut Sink<'_>) -> Result<()> {
        let path = self.path.clone();
        let fail = |e| Error::io(&path, e);
        loop {
            if self.current.is_none() {
                let Some(fresh) = OpenLog::open(&self.path).map_err(fail)? else {
                    // Between a rotation and the new file, or no output
                    // yet: what was rotated is there to read.
                    self.read_rotated(None, sink)?;
                    return Ok(());
                };
                self.read_rotated(Some(fresh.id), sink)?;
                self.current = Some(fresh);
            }
            let Some(open) = self.current.as_mut() else {
                return Ok(());
            };
            open.pos = copy_records(&mut open.file, open.pos, sink).map_err(fail)?;
            let still = std::fs::metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == open.id);
            if still {
                return Ok(());
            }
            // Rotated away: what it got before the rename, then on.
            copy_records(&mut open.file, open.pos, sink).map_err(fail)?;
            let id = open.id;
            let rotated = log_rotation::rotated(&self.path).map_err(fail)?;
            if let Some((key, _)) = rotated.into_iter().find(|(_, p)| same_file(p, id)) {
                self.last_rotated = Some(key);
            }
            self.current = None;
        }
    }

    /// Reads whole the rotated files newer than the last one read, oldest
    /// first, up to the file `until` (the current one, opened already).
    fn read_rotated(&mut self, until: Option<(u64, u64)>, sink: &mut Sink<'_>) -> Result<()> {
        let files = log_rotation::rotated(&self.path).map_err(|e| Error::io(&self.path, e))?;
        for (key, path) in files {
            if self.last_rotated.as_ref().is_some_and(|last| key <= *last) {
                continue;
            }
            let Some(mut open) = OpenLog::open(&path).map_err(|e| Error::io(&path, e))? else {
                continue;
            };
            if until == Some(open.id) {
                break;
            }
            copy_records(&mut open.file, 0, sink).map_err(|e| Error::io(&path, e))?;
            self.last_rotated = Some(key);
        }
        Ok(())
    }
}

fn same_file(path: &Path, id: (u64, u64)) -> bool {
    std::fs::metadata(path).is_ok_and(|m| (m.dev(), m.ino()) == id)
}

/// Gives `sink` the records after byte `offset` of `file`; returns the new
/// offset (only whole lines are consumed).
fn copy_records(file: &mut File, offset: u64, sink: &mut Sink<'_>) -> io::Result<u64> {
    file.seek(SeekFrom::Start(offset))?;
    let mut reader = BufReader::new(file);
    let mut pos = offset;
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line)?;
        if n == 0 || !line.ends_with('\n') {
            break;
        }
        pos += n as u64;
        let record = line.trim_end_matches('\n');
        if let Some((stream, partial, msg)) = cri_log::parse_record(record) {
            sink(
                record.split(' ').next().unwrap_or_default(),
                stream,
                partial,
                msg,
            );
        }
    }
    Ok(pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::cri_log::{LogFile, Stream, format_record};
    use crate::log_rotation::RotationPolicy;
    use peapod_testkit::TempDir;

    fn record(n: usize) -> Vec<u8> {
        format_record(
            Timestamp::now(),
            Stream::Stdout,
            false,
            format!("line {n}").as_bytes(),
        )
    }

    fn read(log: &mut RunLog) -> Vec<String> {
        let mut lines = Vec::new();
        log.read_available(&mut |_, _, _, msg: &str| lines.push(msg.to_owned()))
            .expect("read");
        lines
    }

    fn lines(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|n| format!("line {n}")).collect()
    }

    #[test]
    fn a_rotated_run_reads_in_order_and_follows_across_rotations() {
        let tmp = TempDir::new("log-reader");
        let path = tmp.path().join("c/0.log");
        // Three records a file, at most four files.
        let policy = RotationPolicy {
            max_size: 3 * record(0).len() as u64,
            max_files: 4,
        };
        let mut file = LogFile::open(&path, policy).expect("open");
        for n in 0..8 {
            file.write(&record(n)).expect("write");
        }
        let mut follower = RunLog::new(path.clone());
        assert_eq!(read(&mut follower), lines(0..8));
        // Several rotations between two reads, none removed yet.
        for n in 8..14 {
            file.write(&record(n)).expect("write");
        }
        assert_eq!(read(&mut follower), lines(8..14));
        assert_eq!(
            read(&mut follower),
            Vec::<String>::new(),
            "each record once"
        );
        // Many rotations: the oldest files went; the follower finishes the
        // file it holds open and goes on with what is left, in order.
        for n in 14..40 {
            file.write(&record(n)).expect("write");
        }
        let mut expected = lines(14..15);
        expected.extend(lines(30..40));
        assert_eq!(read(&mut follower), expected);
        let files = std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .count();
        assert!(files <= 4, "{files} files");
        assert_eq!(read(&mut RunLog::new(path)), lines(30..40));
    }
}
