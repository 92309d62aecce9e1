//! A container's output as an attach streams it (the CRI's `Attach`
//! through `peapod serve`'s streaming server): the records its log gets
//! from now on, each with the stream it came from, across rotations
//! ([`crate::log_reader`]). The log is the output's only copy: the
//! supervisor owns the container's stdout and stderr.

use std::path::PathBuf;

pub use crate::cri_log::Stream;
use crate::error::Result;
use crate::log_reader::RunLog;

/// The output of one container run, followed.
#[derive(Debug)]
pub struct OutputFollower {
    run: RunLog,
}

impl OutputFollower {
    /// Follows the run whose current log file is `log_path` from what it
    /// holds now: what was written before is skipped.
    ///
    /// # Errors
    /// The log exists and cannot be read.
    pub fn from_now(log_path: PathBuf) -> Result<Self> {
        let mut run = RunLog::new(log_path);
        run.read_available(&mut |_, _, _, _| {})?;
        Ok(Self { run })
    }

    /// What was written since the last call, in order: each record's
    /// bytes with its stream, a whole record's ending with its newline.
    ///
    /// # Errors
    /// The log cannot be read.
    pub fn read(&mut self) -> Result<Vec<(Stream, Vec<u8>)>> {
        let mut out: Vec<(Stream, Vec<u8>)> = Vec::new();
        self.run
            .read_available(&mut |_, stream, partial, message| {
                if out.last().is_none_or(|(last, _)| *last != stream) {
                    out.push((stream, Vec::new()));
                }
                if let Some((_, bytes)) = out.last_mut() {
                    bytes.extend_from_slice(message.as_bytes());
                    if !partial {
                        bytes.push(b'\n');
                    }
                }
            })?;
        Ok(out)
    }
}
