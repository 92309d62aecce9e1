//! `peapod serve` for the CRI tests: the binary started on a `--root`, the
//! blocking client of `peapod-cri` connected once it says it listens, and
//! SIGTERM on drop.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

use peapod_cri::Client;

/// A running `peapod serve`.
pub struct Serve {
    child: Child,
    pub socket: PathBuf,
}

impl Serve {
    /// `peapod --root ROOT serve ARGS…`, once it accepts connections.
    pub fn start(root: &Path, args: &[&str]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_peapod"));
        command.arg("--root").arg(root).arg("serve").args(args);
        Self::from_command(command)
    }

    /// A prepared `peapod … serve` command (an environment of its own…).
    pub fn from_command(mut command: Command) -> Self {
        let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let socket = line
            .trim()
            .strip_prefix("listening on unix://")
            .unwrap_or_else(|| panic!("serve said {line:?}"))
            .into();
        Self { child, socket }
    }

    pub fn client(&self) -> Client {
        Client::connect(&self.socket).unwrap()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, and its exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        self.child.wait().unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.terminate();
        }
    }
}
