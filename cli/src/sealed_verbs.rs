//! The verbs that clone processes into containers (`exec`, `cp`, `run`,
//! `serve`, `debug` and its hidden `ephemeral` holder) run the peapod binary from a read-only mount, which
//! no container can write through (CVE-2019-5736): they re-execute
//! themselves through one ([`peapod_runtime::SealedExe`]) first.
//!
//! The verb is read from the command line by hand, before clap: the
//! re-executed process reads the whole command line with clap anyway, so
//! the first process would read it for nothing (building the definition
//! of every verb costs about as much CPU as the exec itself).

use std::ffi::{OsStr, OsString};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::process::ExitCode;

/// The verbs that re-execute themselves sealed.
const SEALED: [&str; 6] = ["exec", "cp", "run", "serve", "debug", "ephemeral"];

/// Re-executes this process through a read-only mount of its binary when
/// the verb of its command line, read by hand, is one of [`SEALED`] and
/// it does not run sealed yet. Returns `None` when there is nothing to do,
/// `Some` exit code when the re-exec failed (on success it does not
/// return). Call it first thing in `main`, while the process has one
/// thread.
pub fn reexec_before_parsing() -> Option<ExitCode> {
    reexec_for(&verb(std::env::args_os().skip(1))?)
}

/// After clap read the command line: makes the run root (`run`, `exec`
/// ... expect it, root's alone) for a sealed `verb`, then re-executes as
/// [`reexec_before_parsing`] for a command line whose verb the hand
/// reading did not find. In a process that runs sealed already this
/// costs a `mkdir` and an `fstatvfs`.
pub fn after_parsing(verb: &str, run: &Path) -> Option<ExitCode> {
    if !SEALED.contains(&verb) {
        return None;
    }
    let _ = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(run);
    reexec_for(OsStr::new(verb))
}

/// Re-executes when `verb` is one of [`SEALED`].
fn reexec_for(verb: &OsStr) -> Option<ExitCode> {
    if !SEALED.iter().any(|sealed| verb == *sealed) {
        return None;
    }
    match peapod_runtime::SealedExe::reexec_unless_read_only() {
        Ok(()) => None,
        Err(err) => {
            eprintln!("peapod: {err}");
            Some(ExitCode::FAILURE)
        }
    }
}

/// The verb of a command line (the arguments after the program's name):
/// its first argument that is not the global `--root DIR` or
/// `--root=DIR`, the only option the command line takes before its verb;
/// `None` when another option comes first (`--help`, `--version`, or one
/// clap refuses).
fn verb(mut args: impl Iterator<Item = OsString>) -> Option<OsString> {
    while let Some(arg) = args.next() {
        if arg == "--root" {
            args.next()?;
        } else if arg.as_encoded_bytes().starts_with(b"--root=") {
        } else if arg.as_encoded_bytes().starts_with(b"-") {
            return None;
        } else {
            return Some(arg);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verb_of(line: &[&str]) -> Option<String> {
        verb(line.iter().map(OsString::from)).map(|v| v.to_string_lossy().into_owned())
    }

    #[test]
    fn the_verb_is_the_first_argument_after_the_root() {
        assert_eq!(
            verb_of(&["run", "--rm", "busybox", "true"]).as_deref(),
            Some("run")
        );
        assert_eq!(
            verb_of(&["--root", "/r", "exec", "web"]).as_deref(),
            Some("exec")
        );
        assert_eq!(
            verb_of(&["--root=/r", "cp", "a", "b"]).as_deref(),
            Some("cp")
        );
        // A root named like a verb is the root.
        assert_eq!(
            verb_of(&["--root", "run", "get", "pods"]).as_deref(),
            Some("get")
        );
    }

    #[test]
    fn no_verb_before_another_option_or_without_one() {
        assert_eq!(verb_of(&["--help", "run"]), None);
        assert_eq!(verb_of(&["-V"]), None);
        assert_eq!(verb_of(&["--root"]), None);
        assert_eq!(verb_of(&[]), None);
    }

    #[test]
    fn every_sealed_verb_is_a_verb_of_the_command_line() {
        let command = crate::command();
        for verb in SEALED {
            assert!(command.find_subcommand(verb).is_some(), "{verb}");
        }
    }
}
