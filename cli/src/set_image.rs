//! `peapod set image pod/NAME CONTAINER=IMAGE...` (`*=IMAGE` for every
//! container): kubectl's way of changing images, carried out in place
//! ([`crate::pod_edit`]): each changed container restarts with its new
//! image, as kubelet restarts a container whose definition changed.

use std::process::ExitCode;

use anyhow::{anyhow, bail};
use peapod_runtime::Paths;
use serde_json::Value;

use crate::pod_edit::{self, Outcome};

/// The resources `set` changes.
#[derive(Debug, clap::Subcommand)]
pub enum SetCommand {
    /// Change the images of containers of running pods.
    Image(SetImageArgs),
}

/// Change the images of containers of running pods.
#[derive(Debug, clap::Args)]
pub struct SetImageArgs {
    /// `pod NAME...` or `pod/NAME...`, then `CONTAINER=IMAGE` (`*=IMAGE`:
    /// every container).
    #[arg(required = true, value_name = "TYPE[/NAME] CONTAINER=IMAGE")]
    args: Vec<String>,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    #[command(flatten)]
    selection: pod_edit::Selection,
    #[command(flatten)]
    dry_run: crate::dry_run::DryRunFlag,
}

/// Runs `set`.
///
/// # Errors
/// See [`image`].
pub fn run(command: &SetCommand, paths: &Paths) -> anyhow::Result<ExitCode> {
    match command {
        SetCommand::Image(args) => image(args, paths),
    }
}

/// Gives the containers `images` names (init containers too; `*`: all)
/// their new image in the pod's object.
fn set_images(object: &mut Value, images: &[(String, String)]) -> anyhow::Result<()> {
    for (container, image) in images {
        let mut found = false;
        for list in ["initContainers", "containers"] {
            let Some(Value::Array(list)) = object["spec"].get_mut(list) else {
                continue;
            };
            for c in list.iter_mut() {
                if container == "*" || c["name"].as_str() == Some(container.as_str()) {
                    c["image"] = Value::String(image.clone());
                    found = true;
                }
            }
        }
        if !found {
            bail!("unable to find container named \"{container}\"");
        }
    }
    Ok(())
}

/// Runs `set image`: `pod/NAME image updated` for each pod changed.
fn image(args: &SetImageArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let at = args
        .args
        .iter()
        .position(|a| a.contains('='))
        .ok_or_else(|| anyhow!("at least one image update is required: CONTAINER=IMAGE"))?;
    let (targets, pairs) = args.args.split_at(at);
    let images = pairs
        .iter()
        .map(|p| {
            p.split_once('=')
                .filter(|(c, i)| !c.is_empty() && !i.is_empty())
                .map(|(c, i)| (c.to_owned(), i.to_owned()))
                .ok_or_else(|| anyhow!("{p:?}: an image update is CONTAINER=IMAGE"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let keys = pod_edit::keys(
        "set image",
        targets,
        &args.namespace,
        &args.selection,
        paths,
    )?;
    pod_edit::edit_each(
        paths,
        keys,
        args.dry_run.mode,
        |key| format!("pod/{} with its new images", key.name),
        |object| set_images(object, &images),
        |outcome| (outcome == Outcome::Changed).then_some("image updated"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_named_container_or_every_one_gets_the_image() {
        let mut pod = json!({"spec": {
            "initContainers": [{"name": "init", "image": "a"}],
            "containers": [{"name": "app", "image": "a"}, {"name": "side", "image": "a"}]
        }});
        set_images(&mut pod, &[("app".into(), "b".into())]).expect("set");
        assert_eq!(pod["spec"]["containers"][0]["image"], "b");
        assert_eq!(pod["spec"]["containers"][1]["image"], "a");
        set_images(&mut pod, &[("*".into(), "c".into())]).expect("set");
        assert_eq!(pod["spec"]["initContainers"][0]["image"], "c");
        assert_eq!(pod["spec"]["containers"][1]["image"], "c");
        let err = set_images(&mut pod, &[("nosuch".into(), "d".into())]).expect_err("no such");
        assert_eq!(err.to_string(), "unable to find container named \"nosuch\"");
    }
}
