//! `peapod edit pod NAME`: the pod's object in the user's editor
//! (`KUBE_EDITOR`, else `EDITOR`, else `vi`), as kubectl opens it; the
//! saved text is carried out in place ([`crate::pod_edit`]). A failed
//! edit keeps the file and says where, as kubectl does.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use peapod_runtime::{Paths, PodKey};

use crate::pod_edit::{self, Outcome};

/// Edit running pods in your editor.
#[derive(Debug, clap::Args)]
pub struct EditArgs {
    /// `pod NAME` or `pod/NAME`.
    #[arg(required = true, value_name = "TYPE[/NAME]")]
    targets: Vec<String>,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
}

/// kubectl's header of the file it opens.
const HEADER: &str = "# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this file will be
# reopened with the relevant failures.
#
";

/// Runs `edit`: `pod/NAME edited`, or `Edit cancelled, no changes made.`
///
/// # Errors
/// A pod is missing; the editor failed; the saved text is not a valid
/// pod or makes a change a running pod cannot take (the file is kept).
pub fn run(args: &EditArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let keys = pod_edit::keys(
        "edit",
        &args.targets,
        &args.namespace,
        &pod_edit::Selection::only(&pod_edit::Manifests::default()),
        paths,
    )?;
    let editor = std::env::var("KUBE_EDITOR")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".to_owned());
    let mut code = ExitCode::SUCCESS;
    for key in keys {
        if let Err((err, file)) = edit_one(paths, &key, &editor) {
            pod_edit::report(&err, &key.name);
            if let Some(file) = file {
                eprintln!(
                    "A copy of your changes has been stored to \"{}\"",
                    file.display()
                );
            }
            code = ExitCode::FAILURE;
        }
    }
    Ok(code)
}

/// The error of an edit, and the file kept when there is one.
type Failed = (anyhow::Error, Option<PathBuf>);

fn edit_one(paths: &Paths, key: &PodKey, editor: &str) -> Result<(), Failed> {
    let unkept = |err: anyhow::Error| (err, None);
    let live = pod_edit::live(paths, key).map_err(unkept)?;
    let original = format!(
        "{HEADER}{}",
        peapod_spec::to_yaml(&pod_edit::object(&live).map_err(unkept)?)
            .map_err(|e| unkept(e.into()))?
    );
    let file = std::env::temp_dir().join(format!(
        "peapod-edit-{}-{}.yaml",
        std::process::id(),
        key.name
    ));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&file)
        .and_then(|mut f| f.write_all(original.as_bytes()))
        .with_context(|| format!("writing {}", file.display()))
        .map_err(unkept)?;
    let edited = run_editor(editor, &file).and_then(|()| {
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))
    });
    let edited = match edited {
        Ok(text) => text,
        Err(err) => return Err((err, Some(file))),
    };
    let blank = edited
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    if edited == original || blank {
        let _ = std::fs::remove_file(&file);
        println!("Edit cancelled, no changes made.");
        return Ok(());
    }
    match pod_edit::carry_out(paths, key, &live, &edited, &file.display().to_string()) {
        Ok(outcome) => {
            let _ = std::fs::remove_file(&file);
            match outcome {
                Outcome::Changed => println!("pod/{} edited", key.name),
                Outcome::Unchanged => println!("Edit cancelled, no changes made."),
            }
            Ok(())
        }
        Err(err) => Err((err, Some(file))),
    }
}

/// `sh -c 'EDITOR "$1"'`: the editor as the user wrote it (`code -w`).
fn run_editor(editor: &str, file: &Path) -> anyhow::Result<()> {
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(file)
        .status()
        .with_context(|| format!("starting the editor {editor:?}"))?;
    if !status.success() {
        bail!("the editor {editor:?} ended with {status}");
    }
    Ok(())
}
