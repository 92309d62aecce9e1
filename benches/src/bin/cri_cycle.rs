//! `cri_cycle --endpoint unix:///PATH [--runs N] [--first N] [--log-dir DIR]`:
//! starts the seed 000 pod `N` times (default 1) over the CRI socket at
//! `PATH` — `RunPodSandbox`, then `CreateContainer` + `StartContainer` of
//! both containers — stopping and removing each sandbox after it (not
//! timed), and prints each start's time in milliseconds, one a line.
//! `--first N` numbers the sandboxes from `N` (each name is used once);
//! `--log-dir DIR` gives each sandbox a log folder under `DIR`, as a
//! kubelet does.
//!
//! The one client `compare.sh` drives peapod (`peapod serve`) and
//! containerd (its CRI plugin) with, so both answer the same requests.
//! The images (`busybox:1.30.1`, `busybox:1.31.1`) must be in the
//! runtime's store. Exits 1 with the failed call's status on stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use peapod_benches::cri_pod;
use peapod_cri::{Client, Endpoint};

struct Options {
    endpoint: Endpoint,
    runs: u32,
    first: u32,
    log_dir: Option<PathBuf>,
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let (mut endpoint, mut runs, mut first, mut log_dir) = (None, 1, 1, None);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let number = |v: String| v.parse::<u32>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--endpoint" => {
                endpoint = Some(Endpoint::parse(&value()?).map_err(|e| e.to_string())?);
            }
            "--runs" => runs = number(value()?)?,
            "--first" => first = number(value()?)?,
            "--log-dir" => log_dir = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Options {
        endpoint: endpoint.ok_or("--endpoint unix:///PATH is required")?,
        runs,
        first,
        log_dir,
    })
}

fn run(o: &Options) -> Result<(), String> {
    let client = Client::connect(o.endpoint.path()).map_err(|e| e.to_string())?;
    for n in o.first..o.first.saturating_add(o.runs) {
        let (took, id) = cri_pod::start(&client, n, o.log_dir.as_deref())
            .map_err(|s| format!("start of myapp-{n}: {:?}: {}", s.code(), s.message()))?;
        println!("{:.3}", took.as_secs_f64() * 1000.0);
        cri_pod::stop_and_remove(&client, &id)
            .map_err(|s| format!("removal of {id}: {:?}: {}", s.code(), s.message()))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match options().and_then(|o| run(&o)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cri_cycle: {e}");
            ExitCode::FAILURE
        }
    }
}
