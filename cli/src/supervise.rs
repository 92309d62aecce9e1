//! `peapod supervise ...` (hidden): the per-pod supervisor process that
//! `apply` starts. Not for people.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use peapod_runtime::{Paths, supervise};

/// Run a pod's supervisor (started by `apply`).
#[derive(Debug, clap::Args)]
pub struct SuperviseArgs {
    /// Root of running pods' state.
    #[arg(long, value_name = "DIR")]
    run_root: PathBuf,
    /// Root of images and volumes.
    #[arg(long, value_name = "DIR")]
    lib_root: PathBuf,
    /// Root of container logs.
    #[arg(long, value_name = "DIR")]
    log_root: PathBuf,
    /// Configuration folder (`registries.conf`).
    #[arg(long, value_name = "DIR")]
    etc_root: PathBuf,
    /// The pod's (or the workload's) state folder.
    pod_dir: PathBuf,
}

/// Runs the supervisor until the pod is gone.
pub fn run(args: SuperviseArgs) -> ExitCode {
    let (paths, dir) = args.into_parts();
    let code = supervise(&paths, &dir);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// `peapod keep ...` (hidden): a workload's keeper, `dir` its folder;
/// runs until the workload is deleted or, for a Job, has ended.
pub fn keep(args: SuperviseArgs) -> ExitCode {
    let (paths, dir) = args.into_parts();
    let code = peapod_runtime::workload::keep(&paths, &dir);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// `supervise` and `keep` read by hand when their arguments have the one
/// shape `launch` gives them (`--run-root R --lib-root L --log-root G
/// --etc-root E DIR`): a supervisor's start then skips building the
/// whole command line's definition, every verb with its examples, to read
/// five paths. `None` for anything else, which clap reads as ever.
pub fn fast_path() -> Option<ExitCode> {
    match read_by_hand(std::env::args_os().skip(1))? {
        (Verb::Supervise, args) => Some(run(args)),
        (Verb::Keep, args) => Some(keep(args)),
    }
}

/// The two verbs of [`fast_path`].
#[derive(Debug, PartialEq, Eq)]
enum Verb {
    Supervise,
    Keep,
}

/// The verb and its arguments, when `args` (after the program's name)
/// have the shape `launch` gives them.
fn read_by_hand(args: impl Iterator<Item = OsString>) -> Option<(Verb, SuperviseArgs)> {
    let args: Vec<OsString> = args.collect();
    let [
        verb,
        f1,
        run_root,
        f2,
        lib_root,
        f3,
        log_root,
        f4,
        etc_root,
        pod_dir,
    ] = <[OsString; 10]>::try_from(args).ok()?;
    let flags = [f1, f2, f3, f4];
    if flags != ["--run-root", "--lib-root", "--log-root", "--etc-root"] {
        return None;
    }
    let verb = match verb.to_str()? {
        "supervise" => Verb::Supervise,
        "keep" => Verb::Keep,
        _ => return None,
    };
    let args = SuperviseArgs {
        run_root: run_root.into(),
        lib_root: lib_root.into(),
        log_root: log_root.into(),
        etc_root: etc_root.into(),
        pod_dir: pod_dir.into(),
    };
    Some((verb, args))
}

impl SuperviseArgs {
    pub(crate) fn into_parts(self) -> (Paths, PathBuf) {
        let paths = Paths {
            run: self.run_root,
            lib: self.lib_root,
            log: self.log_root,
            etc: self.etc_root,
        };
        (paths, self.pod_dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_arguments_launch_gives_a_supervisor_take_the_fast_path() {
        let paths = Paths::from_root(Some(Path::new("/r")));
        let dir = Path::new("/r/run/pods/default_web");
        let launched = peapod_runtime::pod::launch::supervise_args(&paths, dir);
        for (name, verb) in [("supervise", Verb::Supervise), ("keep", Verb::Keep)] {
            let argv = std::iter::once(OsString::from(name))
                .chain(launched.iter().map(|a| a.clone().into_os_string()));
            let (read, args) = read_by_hand(argv).expect("the fast path");
            assert_eq!(read, verb);
            let (got, pod_dir) = args.into_parts();
            assert_eq!(got, paths);
            assert_eq!(pod_dir, dir);
        }
    }

    #[test]
    fn any_other_shape_is_left_to_clap() {
        let argv = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>().into_iter();
        let full = [
            "supervise",
            "--run-root",
            "/r",
            "--lib-root",
            "/l",
            "--log-root",
            "/g",
            "--etc-root",
            "/e",
            "/d",
        ];
        assert!(read_by_hand(argv(&full)).is_some());
        let mut other = full;
        other[0] = "serve";
        assert!(read_by_hand(argv(&other)).is_none());
        let mut swapped = full;
        swapped.swap(1, 3);
        assert!(read_by_hand(argv(&swapped)).is_none());
        assert!(read_by_hand(argv(&full[..9])).is_none());
    }
}
