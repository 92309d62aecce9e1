//! `peapod`: run Kubernetes Pod manifests on one Linux host.
//!
//! A thin front: it parses the command line, calls the library crates and
//! formats what they return. No pod logic lives here.
#![forbid(unsafe_code)]

mod api_resources;
mod apply;
mod attach;
mod completion;
mod cp;
mod debug;
mod default_container;
mod delete;
mod describe;
mod diff;
mod dry_run;
mod duration;
mod edit;
mod error_message;
mod events;
mod examples;
mod exec;
mod explain;
mod get;
mod get_events;
mod get_watch;
mod image;
mod jsonpath;
mod label;
mod logs;
mod man;
mod manifest;
mod node;
mod patch;
mod pod_edit;
mod port_forward;
mod pull_flag;
mod resource_args;
mod rollout;
mod run;
mod scale;
mod sealed_verbs;
mod selector;
mod serve;
mod set_image;
mod stdout;
mod supervise;
mod tabwriter;
mod top;
mod top_node;
mod trace_log;
mod validate;
mod version;
mod wait;
mod workloads;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// The heap allocator of every peapod process: dlmalloc, which keeps
/// the memory it got from the kernel for the next allocation, instead of
/// musl's, which maps and unmaps pages for small allocations all along
/// (a quarter of a short-lived peapod process's CPU went to `mmap`,
/// `munmap` and the page faults after them).
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// Run Kubernetes Pod manifests on one Linux host, without a cluster.
#[derive(Debug, Parser)]
#[command(name = "peapod", version, about, propagate_version = true)]
struct Cli {
    /// Root of all state (pods, images, logs). Tests and side-by-side
    /// instances give each their own.
    #[arg(long, global = true, env = "PEAPOD_ROOT", value_name = "DIR")]
    root: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

/// The verbs; each lives in a module of its own.
#[derive(Debug, Subcommand)]
enum Command {
    // peapod:commands (each verb's variant goes here, one line each)
    /// Check manifests: every error with file:line:column and field path.
    Validate(validate::Args),
    /// Document a resource or field: `explain pod.spec.containers`.
    Explain(explain::Args),
    /// Create pods, or change running ones as far as a running pod may change.
    Apply(apply::ApplyArgs),
    /// Create pods (an existing one is an error).
    Create(apply::ApplyArgs),
    /// Replace pods (`--force`: delete and recreate them).
    Replace(apply::ApplyArgs),
    /// Set or remove labels of running pods: `label pod NAME KEY=VALUE KEY-`.
    Label(label::MetadataArgs),
    /// Set or remove annotations of running pods: `annotate pod NAME KEY=VALUE KEY-`.
    Annotate(label::MetadataArgs),
    /// Change running pods with a patch (strategic, merge or JSON).
    Patch(patch::PatchArgs),
    /// Show what `apply -f` would change: `diff -u` of the live and the applied pods.
    Diff(diff::DiffArgs),
    /// Change running pods in your editor (`KUBE_EDITOR`, `EDITOR`).
    Edit(edit::EditArgs),
    /// Restart a workload's pods, or wait for its rollout: `rollout restart|status deployment/NAME`.
    #[command(subcommand)]
    Rollout(rollout::RolloutCommand),
    /// Set how many pods a workload keeps: `scale deployment/NAME --replicas=N`.
    Scale(scale::ScaleArgs),
    /// Change the images of running pods: `set image pod/NAME CONTAINER=IMAGE`.
    #[command(subcommand)]
    Set(set_image::SetCommand),
    /// Show pods (or events): a table, `-o json|yaml|wide|name|jsonpath=|custom-columns=`, `-l`, `-w`.
    Get(get::GetArgs),
    /// Show a pod in detail: containers, states, conditions, volumes, events.
    Describe(describe::DescribeArgs),
    /// Stop pods (grace period, then SIGKILL) and remove all of them.
    Delete(delete::DeleteArgs),
    /// Run a command in a running container.
    Exec(exec::ExecArgs),
    /// Attach to a running container's output (and stdin with `-i`).
    Attach(attach::AttachArgs),
    /// Copy files and folders to and from a container (`POD:PATH`).
    Cp(cp::CpArgs),
    /// Debug a pod or the node: `debug POD -it --image=IMG --target=CTR`, `--copy-to`, `node/NAME`.
    Debug(debug::DebugArgs),
    /// Forward local ports to a pod: `port-forward POD [LOCAL:]REMOTE`.
    PortForward(port_forward::PortForwardArgs),
    /// Run one container in the foreground (`--rm`: remove it at exit).
    Run(run::RunArgs),
    /// Print a container's logs.
    Logs(logs::LogsArgs),
    /// Wait for a condition on pods: `wait pod/web --for=condition=Ready`.
    Wait(wait::WaitArgs),
    /// Show the CPU and memory pods use: `top pod [NAME] [--containers]`.
    Top(top::TopArgs),
    /// Write the man pages into a folder (run by scripts/install.sh).
    #[command(hide = true)]
    Man(man::ManArgs),
    /// Serve the Kubernetes CRI on a unix socket (for kubelet, crictl).
    Serve(serve::ServeArgs),
    /// The per-pod supervisor (started by `apply`).
    #[command(hide = true)]
    Supervise(supervise::SuperviseArgs),
    /// The per-workload keeper (started by `apply`).
    #[command(hide = true)]
    Keep(supervise::SuperviseArgs),
    /// List the events of the pods (`get events`): `events --for pod/NAME`.
    Events(events::EventsArgs),
    /// List the resource types peapod reads (pods, events, workloads).
    ApiResources(api_resources::ApiResourcesArgs),
    /// List the API group/versions of those types.
    ApiVersions,
    /// The holder of a detached ephemeral container (started by `debug`).
    #[command(hide = true)]
    Ephemeral(debug::HoldArgs),
    /// Print the client and runtime versions (`-o json|yaml`).
    Version(version::VersionArgs),
    /// Print a shell completion script: `completion bash|zsh|fish`.
    Completion(completion::CompletionArgs),
    /// Manage images: import, load, pull, ls, rm, inspect, tag, save, prune.
    #[command(subcommand)]
    Image(image::ImageCommand),
}

/// The definition `--help`, the man pages and the completion scripts
/// show: the verbs with their examples; `create` without the flags of
/// `apply` and `replace` it refuses (`--force`, and `--grace-period`,
/// which only goes with it).
fn command() -> clap::Command {
    examples::with_examples(Cli::command()).mut_subcommand("create", |create| {
        create
            .mut_arg("force", |a| a.hide(true))
            .mut_arg("grace_period", |a| a.hide(true))
    })
}

/// The command line, read against [`command`], and its verb's name.
fn parse() -> (Cli, String) {
    let matches = command().get_matches();
    let verb = matches.subcommand_name().unwrap_or_default().to_owned();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    (cli, verb)
}

fn paths(root: Option<&std::path::Path>) -> peapod_runtime::Paths {
    peapod_runtime::Paths::from_root(root)
}

fn main() -> ExitCode {
    peapod_runtime::pause_if_invoked();
    // Exec'd through a sealed fd (`/proc/self/fd/N`), the kernel named
    // this process `N`: `ps` shows it as `peapod` again.
    peapod_runtime::SealedExe::name_after_program();
    trace_log::install_from_env();
    if let Some(code) = supervise::fast_path() {
        return code;
    }
    // CVE-2019-5736: a verb that clones processes into containers runs its
    // binary from a read-only mount, which no container can write through.
    if let Some(code) = sealed_verbs::reexec_before_parsing() {
        return code;
    }
    let (cli, verb) = parse();
    if let Some(code) = sealed_verbs::after_parsing(&verb, &paths(cli.root.as_deref()).run) {
        return code;
    }
    let root = cli.root;
    let result: anyhow::Result<ExitCode> = match cli.command {
        // peapod:dispatch (each verb's arm goes here)
        Command::Validate(a) => Ok(validate::run(&a)),
        Command::Explain(a) => explain::run(&a),
        Command::Apply(a) => apply::run(&a, apply::Verb::Apply, &paths(root.as_deref())),
        Command::Create(a) => apply::run(&a, apply::Verb::Create, &paths(root.as_deref())),
        Command::Replace(a) => apply::run(&a, apply::Verb::Replace, &paths(root.as_deref())),
        Command::Label(a) => label::run(&a, label::Which::Labels, &paths(root.as_deref())),
        Command::Annotate(a) => label::run(&a, label::Which::Annotations, &paths(root.as_deref())),
        Command::Patch(a) => patch::run(&a, &paths(root.as_deref())),
        Command::Diff(a) => Ok(diff::run(&a, &paths(root.as_deref()))),
        Command::Edit(a) => edit::run(&a, &paths(root.as_deref())),
        Command::Rollout(cmd) => rollout::run(&cmd, &paths(root.as_deref())),
        Command::Scale(a) => scale::run(&a, &paths(root.as_deref())),
        Command::Set(cmd) => set_image::run(&cmd, &paths(root.as_deref())),
        Command::Events(a) => events::run(&a, &paths(root.as_deref())),
        Command::ApiResources(a) => api_resources::run(&a),
        Command::ApiVersions => api_resources::versions(),
        Command::Get(a) => get::run(&a, &paths(root.as_deref())),
        Command::Describe(a) => describe::run(&a, &paths(root.as_deref())),
        Command::Delete(a) => delete::run(&a, &paths(root.as_deref())),
        Command::Exec(a) => exec::run(&a, &paths(root.as_deref())),
        Command::Attach(a) => attach::run(&a, &paths(root.as_deref())),
        Command::Cp(a) => cp::run(&a, &paths(root.as_deref())),
        Command::Debug(a) => debug::run(&a, &paths(root.as_deref())),
        Command::PortForward(a) => port_forward::run(&a, &paths(root.as_deref())),
        Command::Run(a) => Ok(run::run(&a, &paths(root.as_deref()))),
        Command::Logs(a) => logs::run(&a, &paths(root.as_deref())),
        Command::Wait(a) => wait::run(&a, &paths(root.as_deref())),
        Command::Top(a) => top::run(&a, &paths(root.as_deref())),
        Command::Man(a) => man::run(&a),
        Command::Serve(a) => serve::run(&a, &paths(root.as_deref())),
        Command::Supervise(a) => Ok(supervise::run(a)),
        Command::Keep(a) => Ok(supervise::keep(a)),
        Command::Ephemeral(a) => Ok(debug::hold(a)),
        Command::Version(a) => version::run(&a),
        Command::Completion(a) => Ok(completion::run(&a)),
        Command::Image(cmd) => image::run(cmd, &peapod_runtime::Paths::from_root(root.as_deref())),
    };
    let _ = root;
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{}", error_message::of(&err));
            ExitCode::FAILURE
        }
    }
}
