//! `peapod run`, in kubectl's form (`run NAME --image=IMAGE [-it] [--rm]
//! [-- ARGS...]`) and podman's (`run [--name N] [-d] [-it] [-p H:C] IMAGE
//! [ARGS...]`). In the foreground (podman's default; kubectl's with `-i`,
//! `-t`, `--attach` or `--rm`) one container runs without a supervisor,
//! its exit code ours; detached (`-d`; kubectl's default) it becomes a
//! supervised pod named NAME, as `apply` makes, for `get`, `logs`,
//! `exec` and `delete`.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write as _};
use std::process::ExitCode;

use anyhow::{Context, bail};
use peapod_runtime::network::Mode;
use peapod_runtime::pod::launch::Launcher;
use peapod_runtime::pod::pod_config::PodConfig;
use peapod_runtime::pod::run_once::{self, RunOptions};
use peapod_runtime::{Paths, PodKey};
use peapod_spec::{Pod, RestartPolicy};

/// Run one container: in the foreground, exiting with its exit code (125
/// when peapod fails, 126 when the command cannot be executed, 127 when
/// it does not exist), or detached as a pod.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    # kubectl's form: a shell in a throwaway pod, on this terminal\n  \
    peapod run tmp --image=busybox -it --rm -- sh\n\n  \
    # A pod left running (kubectl's default, podman's -d), port 8080 of the host to its 80\n  \
    peapod run web --image=nginx -p 8080:80\n\n  \
    # podman's form: the image first, its command after\n  \
    peapod run --rm busybox echo hello")]
pub struct RunArgs {
    /// Remove the pod when the container exits (else it stays, Succeeded
    /// or Failed, in `get pods` until `delete`).
    #[arg(long)]
    rm: bool,
    /// The pod's and container's name (and hostname); `run-XXXXXXXX`
    /// when not given.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// `bridge` (a veth on peapod0, the default) or `none` (loopback only);
    /// `PEAPOD_NETWORK` when not given, as for `apply`.
    #[arg(
        long,
        value_name = "MODE",
        default_value = "bridge",
        env = "PEAPOD_NETWORK"
    )]
    network: String,
    /// An environment variable, `NAME=value` (repeatable).
    #[arg(short = 'e', long = "env", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// When to pull the image: `always`, `missing` (only when not in the
    /// store) or `never`, the default (import, load or pull it first).
    #[arg(long, value_enum, value_name = "POLICY")]
    pull: Option<crate::pull_flag::Pull>,
    /// kubectl's form: the image, the first argument being the pod's name.
    #[arg(long, value_name = "IMAGE")]
    image: Option<String>,
    /// Pass stdin to the container.
    #[arg(short = 'i', long)]
    stdin: bool,
    /// A terminal for the container (with `-i`): a pty relayed to this
    /// terminal, in raw mode while it runs.
    #[arg(short = 't', long)]
    tty: bool,
    /// Leave the container running as a pod and print its name.
    #[arg(short = 'd', long)]
    detach: bool,
    /// kubectl's: wait for the container and print its output (the
    /// foreground run).
    #[arg(long)]
    attach: bool,
    /// A host port forwarded to a container port, `HOST:CONTAINER`
    /// (TCP; repeatable).
    #[arg(short = 'p', long = "publish", value_name = "HOST:CONTAINER")]
    publish: Vec<String>,
    /// kubectl's: the pod's labels, `KEY=VALUE,...`, instead of `run=NAME`.
    #[arg(short = 'l', long, value_name = "KEY=VALUE,...")]
    labels: Option<String>,
    /// kubectl's: a port the container exposes (its `containerPort`;
    /// `-p` forwards a host port to it).
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    port: Option<u16>,
    /// kubectl's `client` or `server`: print the pod that would be made
    /// (`pod/NAME created (dry run)`, or as `-o` asks) and make nothing;
    /// `server` fills in what admission adds (uid, namespace, status).
    #[arg(long, value_enum, value_name = "MODE", default_value = "none", num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    dry_run: crate::dry_run::DryRun,
    /// kubectl's: print the pod made (or, with `--dry-run`, the one that
    /// would be) as `get -o` prints it (`yaml`, `json`, `name`...) instead
    /// of `pod/NAME created`.
    #[arg(short = 'o', long, value_name = "FORMAT")]
    output: Option<String>,
    /// The pod's `restartPolicy`: `Always` (a detached pod's default),
    /// `OnFailure` or `Never` (the foreground run's only one).
    #[arg(long, value_name = "POLICY")]
    restart: Option<String>,
    /// The image (podman's form: `run IMAGE`), or the pod's name with
    /// `--image` (kubectl's: `run NAME --image=IMAGE`).
    #[arg(value_name = "IMAGE|NAME")]
    target: String,
    /// Arguments replacing the image's CMD (its ENTRYPOINT stays).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<String>,
}

/// Runs `run`.
pub fn run(args: &RunArgs, paths: &Paths) -> ExitCode {
    let options = match options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(125);
        }
    };
    if args.dry_run != crate::dry_run::DryRun::None || args.output.is_some() {
        return match print_pod(args, paths, &options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{}", crate::error_message::of(&e));
                ExitCode::FAILURE
            }
        };
    }
    if detached(args) {
        return match detach(args, paths, &options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{}", crate::error_message::of(&e));
                ExitCode::FAILURE
            }
        };
    }
    match run_once::run(paths, &options) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(255)),
        Err(e) => {
            eprintln!("{}", crate::error_message::of_runtime(&e));
            ExitCode::from(own_error_code(&e))
        }
    }
}

/// The run's options from the command line.
fn options(args: &RunArgs) -> anyhow::Result<RunOptions> {
    let network = match args.network.as_str() {
        "bridge" => Mode::Bridge,
        "none" => Mode::None,
        other => bail!("--network {other:?}: expected \"bridge\" or \"none\""),
    };
    let env = args
        .env
        .iter()
        .map(|e| match e.split_once('=') {
            Some((n, v)) => Ok((n.to_owned(), v.to_owned())),
            None => bail!("-e {e:?}: expected NAME=VALUE"),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (image, name) = match &args.image {
        Some(image) if args.name.is_some() => {
            bail!(
                "--name and --image: give the name as the first argument, `run NAME --image={image}`"
            )
        }
        Some(image) => {
            if let Some(flag) =
                flag_taken_as_argument(&args.args, &std::env::args().collect::<Vec<_>>())
            {
                bail!(
                    "unknown flag: {flag} (`run NAME --image={image}` takes the container's arguments after \"--\"); see 'peapod run --help'"
                );
            }
            (image.clone(), Some(args.target.clone()))
        }
        None => (args.target.clone(), args.name.clone()),
    };
    if args.tty && !args.stdin {
        bail!("-i/--stdin is required for containers with -t/--tty=true");
    }
    let tty = args.tty && std::io::stdin().is_terminal();
    if args.tty && !tty {
        eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
    }
    if detached(args) {
        if args.rm {
            bail!("--rm should only be used for attached containers (drop -d)");
        }
        if args.stdin {
            bail!(
                "-i/-t need the container attached: drop -d, or run it detached and use `peapod exec -it`"
            );
        }
    } else if !matches!(args.restart.as_deref(), None | Some("Never")) {
        bail!(
            "--restart={}: a foreground run ends with its container; only Never (or -d for a pod)",
            args.restart.as_deref().unwrap_or_default()
        );
    }
    Ok(RunOptions {
        image,
        args: args.args.clone(),
        env,
        name,
        network,
        remove: args.rm,
        ports: args
            .publish
            .iter()
            .map(|p| port(p))
            .collect::<anyhow::Result<_>>()?,
        port: args.port,
        labels: args
            .labels
            .as_deref()
            .map(labels)
            .transpose()?
            .unwrap_or_default(),
        stdin: args.stdin,
        tty,
        pull: args.pull.map(crate::pull_flag::Pull::policy),
    })
}

/// In kubectl's form (`run NAME --image=IMAGE`) flags follow the name and
/// the container's arguments come after `--`: the first of `args` (which
/// clap fills with everything after the name) when it is a flag not
/// preceded by a `--` on the command line `argv`. podman's form (`run IMAGE
/// ARGS`) passes any argument after the image on, as podman does.
fn flag_taken_as_argument<'a>(args: &'a [String], argv: &[String]) -> Option<&'a str> {
    let first = args.first().filter(|a| a.starts_with('-'))?;
    let separated = argv.len() > args.len() && argv[argv.len() - args.len() - 1] == "--";
    (!separated).then_some(first.as_str())
}

/// Whether the container is left running as a pod: `-d`, or kubectl's
/// form asking for no terminal, output or removal.
fn detached(args: &RunArgs) -> bool {
    args.detach || (args.image.is_some() && !(args.stdin || args.tty || args.attach || args.rm))
}

/// `HOST:CONTAINER`.
fn port(spec: &str) -> anyhow::Result<(u16, u16)> {
    let parsed = spec
        .split_once(':')
        .and_then(|(h, c)| Some((h.parse().ok()?, c.parse().ok()?)));
    match parsed {
        Some((h, c)) if h > 0 && c > 0 => Ok((h, c)),
        _ => bail!("-p {spec:?}: expected HOST:CONTAINER, two ports (1-65535)"),
    }
}

/// kubectl's `--labels`: `KEY=VALUE` pairs separated by commas, each key
/// and value as the API server takes them.
fn labels(spec: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let mut labels = BTreeMap::new();
    for pair in spec.split(',') {
        let Some((key, value)) = pair.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            bail!("invalid label spec: {pair:?} (--labels takes KEY=VALUE,KEY=VALUE)");
        };
        if labels.insert(key.to_owned(), value.to_owned()).is_some() {
            bail!("invalid label spec: {spec:?}: the key {key:?} twice");
        }
    }
    Ok(labels)
}

/// The pod a detached run makes: `run_once`'s with the `--restart`
/// policy, labelled `run=NAME` as kubectl labels it (unless `--labels`),
/// checked as a manifest would be.
fn detached_pod(args: &RunArgs, options: &RunOptions) -> anyhow::Result<Pod> {
    let mut pod = run_once::pod(options);
    pod.spec.restart_policy = match args.restart.as_deref() {
        None | Some("Always") => RestartPolicy::Always,
        Some("OnFailure") => RestartPolicy::OnFailure,
        Some("Never") => RestartPolicy::Never,
        Some(other) => bail!("--restart={other}: expected Always, OnFailure or Never"),
    };
    if pod.metadata.labels.is_empty() {
        let name = name_of(&pod).to_owned();
        pod.metadata.labels.insert("run".to_owned(), name);
    }
    let text = serde_json::to_string(&pod)?;
    let checked = peapod_spec::parse_manifest_with(
        &text,
        "run",
        peapod_spec::ValidationMode::Strict,
        peapod_spec::Context::default(),
    );
    if let Err(found) = checked {
        // Where in the pod's JSON is nothing to the user: the field and why.
        let said: Vec<String> = (found.errors.iter())
            .map(|d| format!("{}: {}", d.path, d.message))
            .collect();
        bail!("the pod of run {}: {}", name_of(&pod), said.join("; "));
    }
    Ok(pod)
}

/// The run as a supervised pod, as `apply` starts one; prints `pod/NAME
/// created`.
fn detach(args: &RunArgs, paths: &Paths, options: &RunOptions) -> anyhow::Result<()> {
    let key = create(args, paths, options)?;
    println!("pod/{} created", key.name);
    Ok(())
}

/// The pod's name.
fn name_of(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or_default()
}

/// Starts the detached run's pod.
fn create(args: &RunArgs, paths: &Paths, options: &RunOptions) -> anyhow::Result<PodKey> {
    let pod = detached_pod(args, options)?;
    let launcher = Launcher {
        exe: peapod_runtime::SealedExe::own_binary().context("finding the peapod binary")?,
        wait: true,
    };
    let config = PodConfig::default().with_pull(options.pull);
    Ok(launcher.create_with(paths, pod, &config)?)
}

/// kubectl's `--dry-run` and `-o` of a detached run: the pod that would be
/// made (`--dry-run=server`: as admitted, with its uid and status), or
/// the one made, said as `get -o` prints it (without `-o`: `pod/NAME
/// created (dry run)`). kubectl's refusal for an attached run.
fn print_pod(args: &RunArgs, paths: &Paths, options: &RunOptions) -> anyhow::Result<()> {
    use crate::dry_run::DryRun;
    if !detached(args) {
        bail!(
            "--dry-run=[server|client] and -o can't be used with attached containers options (--attach, --stdin, --tty or --rm); run the pod detached"
        );
    }
    let printer = match &args.output {
        Some(output) => Some(crate::get::Printer {
            format: crate::get::Format::of(Some(output))?,
            namespaces: false,
            show_labels: false,
            label_columns: Vec::new(),
            no_headers: false,
            prefixed: false,
        }),
        None => None,
    };
    let pod = match args.dry_run {
        DryRun::None => {
            let key = create(args, paths, options)?;
            peapod_runtime::pod::inspect::get(paths, &key)?
        }
        DryRun::Client => detached_pod(args, options)?,
        DryRun::Server => peapod_runtime::pod::launch::admit(detached_pod(args, options)?)?,
    };
    let mut out = crate::stdout::stdout();
    match printer {
        Some(printer) => printer.print(&mut out, paths, &[pod], true)?,
        None => writeln!(
            out,
            "pod/{} created {}",
            name_of(&pod),
            args.dry_run.suffix()
        )?,
    }
    Ok(())
}

/// podman's and docker's codes for `run`'s own failures: 127 when the
/// command does not exist, 126 when it cannot be executed, 125 for
/// anything else (image, cgroup, network, ...). A command that ran exits
/// with its own code (128 + signal when killed) instead.
fn own_error_code(e: &peapod_runtime::Error) -> u8 {
    match e {
        peapod_runtime::Error::Exec {
            not_found: true, ..
        } => 127,
        peapod_runtime::Error::Exec { .. } => 126,
        _ => 125,
    }
}

#[cfg(test)]
mod tests {
    use super::flag_taken_as_argument;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|&a| a.to_owned()).collect()
    }

    #[test]
    fn a_flag_after_the_name_is_a_flag_unless_after_a_double_dash() {
        let argv = strings(&["peapod", "run", "x", "--image=b", "--labels=a=b"]);
        assert_eq!(
            flag_taken_as_argument(&strings(&["--labels=a=b"]), &argv),
            Some("--labels=a=b")
        );
        let argv = strings(&["peapod", "run", "x", "--image=b", "--", "--help"]);
        assert_eq!(flag_taken_as_argument(&strings(&["--help"]), &argv), None);
        let argv = strings(&["peapod", "run", "x", "--image=b", "--", "ls", "-l"]);
        assert_eq!(flag_taken_as_argument(&strings(&["ls", "-l"]), &argv), None);
        // clap keeps a later `--` among the arguments: the flag before it
        // is still the user's mistake.
        let argv = strings(&["peapod", "run", "x", "--image=b", "-L", "--", "sh"]);
        assert_eq!(
            flag_taken_as_argument(&strings(&["-L", "--", "sh"]), &argv),
            Some("-L")
        );
        assert_eq!(flag_taken_as_argument(&[], &argv), None);
    }
}
