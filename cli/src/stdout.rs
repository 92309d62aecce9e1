//! Standard output that ends the process as `kubectl` and Unix tools end
//! when their reader goes away (`peapod get po -o json | head -3`): killed
//! by `SIGPIPE`, with nothing on stderr. Rust ignores `SIGPIPE`, so without
//! this a closed pipe surfaced as `error: Broken pipe` (exit 1), or as a
//! panic of `println!` (an abort in the release binary).

use std::io::{self, StdoutLock, Write};

/// The process's standard output, locked; every verb prints through it.
pub struct Stdout(StdoutLock<'static>);

/// Locks standard output.
pub fn stdout() -> Stdout {
    Stdout(io::stdout().lock())
}

/// Passes `result` on, unless its error says the reader has gone: then
/// the process ends of `SIGPIPE`, as kubectl (a Go program) does for a
/// broken pipe on its stdout.
fn unless_reader_gone<T>(result: io::Result<T>) -> io::Result<T> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => peapod_runtime::die_of_sigpipe(),
        other => other,
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        unless_reader_gone(self.0.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        unless_reader_gone(self.0.flush())
    }
}

impl Drop for Stdout {
    /// Flushes here, where a gone reader is still noticed (the runtime's
    /// flush at exit drops the error).
    fn drop(&mut self) {
        let _ = self.flush();
    }
}
