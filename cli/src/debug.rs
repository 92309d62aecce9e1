//! `peapod debug`: kubectl's three ways of debugging, with its flags and
//! messages.
//! - `debug POD --image=IMG [--target=CTR] [-c NAME] [-it] [-- CMD]`: an
//!   ephemeral container in the running pod
//!   ([`peapod_runtime::pod::ephemeral`]), attached with `-i`, detached
//!   without (then `attach`, `logs -c NAME` reach it).
//! - `debug POD --copy-to=NEW [--image=IMG] [--set-image=C=IMG,...]
//!   [--container=C] [--share-processes] [--replace]`: a copy of the pod
//!   with a debug container added or one changed
//!   ([`peapod_runtime::pod::debug_copy`]), attached to with `-i`.
//! - `debug node/NAME --image=IMG [-it]`: a pod on this host's node in its
//!   PID, network and IPC namespaces with its `/` at `/host`.
//!
//! `--profile` (kubectl's, `general` by default) sets what the debug
//! container may do ([`peapod_runtime::pod::debug_profile`]).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context, bail};
use peapod_runtime::Paths;
use peapod_runtime::PodKey;
use peapod_runtime::pod::debug_copy::{self, CopyRequest, DebugContainer};
use peapod_runtime::pod::debug_profile::{self, Keep, Profile};
use peapod_runtime::pod::ephemeral::{self, DebugRequest};
use peapod_runtime::pod::launch::Launcher;
use peapod_runtime::pod::pod_attach::{self, AttachRequest};
use peapod_spec::{EnvVar, PullPolicy};

/// Debug a pod (an ephemeral container or a copy) or the node.
#[derive(Debug, clap::Args)]
#[allow(clippy::struct_excessive_bools)]
pub struct DebugArgs {
    /// The pod (`NAME`, `pod/NAME`) or the node (`node/NAME`).
    #[arg(value_name = "POD")]
    pod: Option<String>,
    /// Debug the pods of this manifest file instead.
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "FILE",
        conflicts_with = "pod"
    )]
    file: Option<std::path::PathBuf>,
    /// The image of the debug container.
    #[arg(long, value_name = "IMAGE")]
    image: Option<String>,
    /// An ephemeral container: the container whose processes it sees
    /// (its PID namespace).
    #[arg(long, value_name = "CONTAINER")]
    target: Option<String>,
    /// The debug container's name (`debugger-` and five letters when
    /// not given); with `--copy-to`, an existing container to change.
    #[arg(short = 'c', long, value_name = "NAME")]
    container: Option<String>,
    /// Pass stdin to it and attach (without `-i` it runs detached).
    #[arg(short = 'i', long)]
    stdin: bool,
    /// Attach to its output once it runs (`true` with `-i`).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    attach: Option<bool>,
    /// A terminal (with `-i`).
    #[arg(short = 't', long)]
    tty: bool,
    /// No informational messages.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    /// `legacy`, `general`, `baseline`, `restricted`, `netadmin` or
    /// `sysadmin`: what the debug container may do.
    #[arg(long, value_name = "PROFILE", default_value = "general")]
    profile: String,
    /// Debug a copy of the pod with this name instead.
    #[arg(long, value_name = "NAME")]
    copy_to: Option<String>,
    /// With `--copy-to`: delete the original pod.
    #[arg(long)]
    replace: bool,
    /// With `--copy-to`: on the same node (peapod has one: always).
    #[arg(long)]
    same_node: bool,
    /// With `--copy-to`: new images, `CONTAINER=IMAGE` (`*` for all).
    #[arg(long, value_name = "NAME=IMAGE", value_delimiter = ',')]
    set_image: Vec<String>,
    /// With `--copy-to`: the copy's `shareProcessNamespace`
    /// (`--share-processes=false` turns it off).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    share_processes: Option<bool>,
    /// Environment of the debug container, `KEY=VALUE`.
    #[arg(long, value_name = "KEY=VALUE", value_delimiter = ',')]
    env: Vec<String>,
    /// The words after `--` are its arguments, not its command.
    #[arg(long)]
    arguments_only: bool,
    /// A JSON or YAML file of a partial container spec laid over the
    /// debug container once its profile applied.
    #[arg(long, value_name = "FILE")]
    custom: Option<std::path::PathBuf>,
    /// `Always`, `IfNotPresent` or `Never`.
    #[arg(long, value_name = "POLICY")]
    image_pull_policy: Option<String>,
    /// With `--copy-to`: keep the pod's labels.
    #[arg(long)]
    keep_labels: bool,
    /// With `--copy-to`: keep the pod's annotations.
    #[arg(long)]
    keep_annotations: bool,
    /// With `--copy-to`: keep the liveness probes.
    #[arg(long)]
    keep_liveness: bool,
    /// With `--copy-to`: keep the readiness probes.
    #[arg(long)]
    keep_readiness: bool,
    /// With `--copy-to`: keep the startup probes.
    #[arg(long)]
    keep_startup: bool,
    /// With `--copy-to`: run the init containers (`=false`: not).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true")]
    keep_init_containers: bool,
    /// The command and its arguments (after `--`); the image's by default.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// What `debug` was asked to debug.
enum Subject<'a> {
    Pods(Vec<PodKey>),
    Node(&'a str),
}

impl DebugArgs {
    /// kubectl's checks of the flags, in its order and words.
    fn validate(&self) -> anyhow::Result<()> {
        if self.attach == Some(true) && self.image.is_none() && self.container.is_none() {
            bail!(
                "you must specify --container or create a new container using --image in order to attach."
            );
        }
        if self.copy_to.is_some() {
            if self.image.is_none() && self.set_image.is_empty() && self.command.is_empty() {
                bail!("you must specify --image, --set-image or command arguments.");
            }
            if !self.command.is_empty() && self.container.is_none() && self.image.is_none() {
                bail!(
                    "you must specify an existing container or a new image when specifying args."
                );
            }
        } else if self.replace {
            bail!("--replace may only be used with --copy-to.");
        } else if self.same_node {
            bail!("--same-node may only be used with --copy-to.");
        } else if !self.set_image.is_empty() {
            bail!("--set-image may only be used with --copy-to.");
        } else if self.image.is_none() {
            bail!("you must specify --image when not using --copy-to.");
        }
        if self.target.is_some() && self.copy_to.is_some() {
            bail!("--target is incompatible with --copy-to. Use --share-processes instead.");
        }
        if self.tty && !self.stdin {
            bail!("-i/--stdin is required for containers with -t/--tty=true");
        }
        Ok(())
    }

    /// The pods (the one named, or those of `-f`) or the node.
    fn subject(&self) -> anyhow::Result<Subject<'_>> {
        let Some(pod) = &self.pod else {
            let Some(file) = &self.file else {
                bail!("NAME or filename is required for debug");
            };
            let keys = crate::manifest::read_pods(file)?
                .iter()
                .map(|p| {
                    let namespace = p.metadata.namespace.as_deref();
                    let name = p.metadata.name.clone().unwrap_or_default();
                    PodKey::new(namespace.unwrap_or(&self.namespace), name)
                })
                .collect();
            return Ok(Subject::Pods(keys));
        };
        if let Some((kind, name)) = pod.split_once('/')
            && matches!(kind.to_ascii_lowercase().as_str(), "node" | "nodes" | "no")
        {
            return Ok(Subject::Node(name));
        }
        let name = crate::resource_args::pod_name(pod)?;
        Ok(Subject::Pods(vec![PodKey::new(&self.namespace, name)]))
    }

    fn pull_policy(&self) -> anyhow::Result<Option<PullPolicy>> {
        self.image_pull_policy
            .as_deref()
            .map(|p| match p {
                "Always" => Ok(PullPolicy::Always),
                "IfNotPresent" => Ok(PullPolicy::IfNotPresent),
                "Never" => Ok(PullPolicy::Never),
                other => bail!("invalid image pull policy: {other}"),
            })
            .transpose()
    }

    fn env(&self) -> anyhow::Result<Vec<EnvVar>> {
        self.env
            .iter()
            .map(|pair| {
                let (name, value) = pair
                    .split_once('=')
                    .with_context(|| format!("{pair} must be formatted as key=value"))?;
                Ok(EnvVar {
                    name: name.to_owned(),
                    value: Some(value.to_owned()),
                    ..EnvVar::default()
                })
            })
            .collect()
    }

    /// `--custom`'s partial container spec, read as kubectl reads it.
    fn custom(&self) -> anyhow::Result<Option<serde_json::Value>> {
        let Some(file) = &self.custom else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(file).map_err(|e| {
            anyhow::anyhow!("must pass a container spec json file for custom profile: {e}")
        })?;
        let value = serde_json::from_str(&text).or_else(|_| {
            serde_saphyr::from_str::<serde_json::Value>(&text).map_err(|e| {
                anyhow::anyhow!(
                    "{} does not contain a valid container spec: {e}",
                    file.display()
                )
            })
        })?;
        Ok(Some(value))
    }

    /// The debug container of a copy or node pod.
    fn debug_container(&self, tty: bool) -> anyhow::Result<DebugContainer> {
        Ok(DebugContainer {
            name: self.container.clone(),
            image: self.image.clone(),
            image_pull_policy: self.pull_policy()?,
            command: self.command.clone(),
            arguments_only: self.arguments_only,
            env: self.env()?,
            stdin: self.stdin,
            tty,
            custom: self.custom()?,
        })
    }

    /// Whether to attach to the debug container: `--attach`, else `-i`.
    fn attaching(&self) -> bool {
        self.attach.unwrap_or(self.stdin)
    }

    /// Prints an informational message on stdout, as kubectl does,
    /// unless `--quiet`.
    fn inform(&self, message: &str) {
        if !self.quiet {
            println!("{message}");
        }
    }
}

/// Runs `debug`.
pub fn run(args: &DebugArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let profile: Profile = args.profile.parse().map_err(anyhow::Error::msg)?;
    args.validate()?;
    args.pull_policy()?;
    if let Some(target) = &args.target {
        args.inform(&format!(
            "Targeting container \"{target}\". If you don't see processes from this container it may be because the container runtime doesn't support this feature."
        ));
    }
    if profile == Profile::Legacy {
        eprintln!(
            "--profile=legacy is deprecated and planned to be removed in v1.39. It is recommended to specify other profile, for example \"--profile=general\"."
        );
    }
    // The caller's terminal matters only to an attach: a detached
    // container's terminal is its own.
    let tty = args.tty && (!args.attaching() || std::io::stdin().is_terminal());
    if args.tty && !tty {
        eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
    }
    match args.subject()? {
        Subject::Node(node) => debug_node(args, paths, node, profile, tty),
        Subject::Pods(keys) => {
            let mut code = ExitCode::SUCCESS;
            for key in &keys {
                code = if args.copy_to.is_some() {
                    debug_copy(args, paths, key, profile, tty)?
                } else {
                    debug_ephemeral(args, paths, key, profile, tty)?
                };
            }
            Ok(code)
        }
    }
}

/// An ephemeral container in pod `key`.
fn debug_ephemeral(
    args: &DebugArgs,
    paths: &Paths,
    key: &PodKey,
    profile: Profile,
    tty: bool,
) -> anyhow::Result<ExitCode> {
    let name = args.container.clone().unwrap_or_else(|| {
        let name = format!("debugger-{}", suffix());
        args.inform(&format!("Defaulting debug container name to {name}."));
        name
    });
    let request = DebugRequest {
        name,
        image: args.image.clone().unwrap_or_default(),
        image_pull_policy: args.pull_policy()?,
        target: args.target.clone(),
        command: args.command.clone(),
        arguments_only: args.arguments_only,
        env: args.env()?,
        stdin: args.stdin,
        tty,
        profile,
        custom: args.custom()?,
    };
    let pod = peapod_runtime::pod::inspect::get(paths, key)?;
    if let Some(warning) = debug_profile::non_root_warning(&pod, &request.container()?) {
        eprintln!("{warning}");
    }
    if !args.attaching() || !args.stdin {
        ephemeral::start_detached(paths, key, &request, &own_binary()?)?;
        return attach_if_asked(args, paths, key, Some(&request.name), false);
    }
    if tty && !args.quiet {
        eprintln!("If you don't see a command prompt, try pressing enter.");
    }
    let code = ephemeral::debug(paths, key, &request)?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(255)))
}

/// A copy of pod `key` to debug in.
fn debug_copy(
    args: &DebugArgs,
    paths: &Paths,
    key: &PodKey,
    profile: Profile,
    tty: bool,
) -> anyhow::Result<ExitCode> {
    let original = peapod_runtime::pod::inspect::get(paths, key)?;
    let mut set_images = BTreeMap::new();
    for pair in &args.set_image {
        let (name, image) = pair
            .split_once('=')
            .with_context(|| format!("{pair} must be formatted as key=value"))?;
        set_images.insert(name.to_owned(), image.to_owned());
    }
    let request = CopyRequest {
        name: args.copy_to.clone().unwrap_or_default(),
        set_images,
        share_processes: args.share_processes,
        profile,
        keep: Keep {
            labels: args.keep_labels,
            annotations: args.keep_annotations,
            liveness: args.keep_liveness,
            readiness: args.keep_readiness,
            startup: args.keep_startup,
            init_containers: args.keep_init_containers,
        },
        container: args.debug_container(tty)?,
    };
    let (copy, container) = debug_copy::copy_of(&original, &request, &mut suffix)?;
    if args.container.is_none()
        && let Some(name) = &container
    {
        args.inform(&format!("Defaulting debug container name to {name}."));
    }
    if let Some(c) = container
        .as_ref()
        .and_then(|n| copy.spec.containers.iter().find(|c| &c.name == n))
        && let Some(warning) = debug_profile::non_root_warning(&copy, c)
    {
        eprintln!("{warning}");
    }
    let copy_key = debug_copy::start(paths, &launcher()?, copy, Some(key), args.replace)?;
    attach_if_asked(args, paths, &copy_key, container.as_deref(), tty)
}

/// A pod on the node `node` (this host) to debug it.
fn debug_node(
    args: &DebugArgs,
    paths: &Paths,
    node: &str,
    profile: Profile,
    tty: bool,
) -> anyhow::Result<ExitCode> {
    let host = crate::node::name();
    if node != host {
        bail!("nodes \"{node}\" not found (peapod's one node is this host, \"{host}\")");
    }
    let container = args.debug_container(tty)?;
    let pod = debug_copy::node_pod(node, &args.namespace, &container, profile, &mut suffix)?;
    let pod_name = pod.metadata.name.clone().unwrap_or_default();
    let container_name = pod.spec.containers[0].name.clone();
    args.inform(&format!(
        "Creating debugging pod {pod_name} with container {container_name} on node {node}."
    ));
    let key = debug_copy::start(paths, &launcher()?, pod, None, false)?;
    attach_if_asked(args, paths, &key, Some(&container_name), tty)
}

/// With `-i` or `--attach`, attaches to the new `container` of pod `key`
/// as kubectl does (its log when it already ended), from its start.
fn attach_if_asked(
    args: &DebugArgs,
    paths: &Paths,
    key: &PodKey,
    container: Option<&str>,
    tty: bool,
) -> anyhow::Result<ExitCode> {
    let (Some(container), true) = (container, args.attaching()) else {
        return Ok(ExitCode::SUCCESS);
    };
    let pod = peapod_runtime::pod::inspect::get(paths, key)?;
    let ephemeral = ephemeral::list(paths, key);
    let running = (pod.status.iter())
        .flat_map(|s| &s.container_statuses)
        .chain(ephemeral.iter().map(|e| &e.status))
        .any(|s| s.name == container && s.state.running.is_some());
    if running && tty && !args.quiet {
        eprintln!("If you don't see a command prompt, try pressing enter.");
    }
    // From its start: one that ended already (now or before the attach
    // reads its state) has its log printed, as kubectl does.
    let request = AttachRequest {
        container: container.to_owned(),
        stdin: args.stdin,
        tty,
        from_start: true,
    };
    if pod_attach::attach(paths, key, &request)? == pod_attach::AttachEnd::Detached {
        eprintln!("read escape sequence");
    }
    Ok(ExitCode::SUCCESS)
}

/// How `debug` starts a pod's supervisor (the binary's own path, as
/// `apply` does), waiting for it to run.
fn launcher() -> anyhow::Result<Launcher> {
    Ok(Launcher {
        exe: own_binary()?,
        wait: true,
    })
}

/// The `peapod` binary (not the sealed copy this process may run from).
fn own_binary() -> anyhow::Result<std::path::PathBuf> {
    peapod_runtime::SealedExe::own_binary().context("finding the peapod binary")
}

/// The holder of a detached ephemeral container (started by `debug`).
#[derive(Debug, clap::Args)]
pub struct HoldArgs {
    #[command(flatten)]
    roots: crate::supervise::SuperviseArgs,
    /// What to start (`DebugRequest` as JSON).
    request: String,
}

/// Runs the holder until its container ended.
pub fn hold(args: HoldArgs) -> ExitCode {
    let (paths, pod_dir) = args.roots.into_parts();
    let code = ephemeral::hold(&paths, &pod_dir, &args.request);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Five letters of kubectl's generated-name alphabet, from the clock and
/// the process id (a name, not a secret).
fn suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut n = nanos ^ u128::from(std::process::id()) << 64;
    (0..5)
        .map(|_| {
            let base = ALPHABET.len() as u128;
            let c = ALPHABET[usize::try_from(n % base).unwrap_or(0)];
            n /= base;
            char::from(c)
        })
        .collect()
}
