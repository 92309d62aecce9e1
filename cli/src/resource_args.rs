//! kubectl's two ways of naming pods on the command line: `TYPE NAME...`
//! and `TYPE/NAME...`, the type any case of `pod`, `pods` or `po`
//! (`get pod/web`, `delete po/a po/b`, `logs Pod/web`, `exec pods/web`).

use anyhow::{anyhow, bail};

/// Whether kubectl reads `kind` as pods.
fn is_pod_kind(kind: &str) -> bool {
    matches!(kind.to_ascii_lowercase().as_str(), "pod" | "pods" | "po")
}

/// kubectl's error for a type peapod has not (`deploy/web`).
fn unknown_kind(kind: &str) -> anyhow::Error {
    anyhow!("the server doesn't have a resource type \"{kind}\"")
}

/// kubectl's error for `TYPE NAME` and `TYPE/NAME` in one command.
fn mixed_forms(verb: &str) -> anyhow::Error {
    anyhow!(
        "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'peapod {verb} resource/<resource_name>' instead of 'peapod {verb} resource resource/<resource_name>')"
    )
}

/// The name of `TYPE/NAME`, checking the type; `None` for an argument
/// without a `/`.
fn split_pod_ref(arg: &str) -> anyhow::Result<Option<&str>> {
    let Some((kind, name)) = arg.split_once('/') else {
        return Ok(None);
    };
    if !is_pod_kind(kind) {
        return Err(unknown_kind(kind));
    }
    if name.is_empty() || name.contains('/') {
        bail!("arguments in resource/name form must have a single resource and name");
    }
    Ok(Some(name))
}

/// The pod names of `verb`'s arguments, `TYPE [NAME...]` or
/// `TYPE/NAME...`; none when only the type is given (every pod).
pub fn pod_names(verb: &str, args: &[String]) -> anyhow::Result<Vec<String>> {
    let Some((first, rest)) = args.split_first() else {
        bail!("You must specify the type of resource to {verb}: pods, the one peapod has.");
    };
    if first.contains('/') {
        return args
            .iter()
            .map(|a| {
                split_pod_ref(a)?
                    .map(str::to_owned)
                    .ok_or_else(|| mixed_forms(verb))
            })
            .collect();
    }
    if !is_pod_kind(first) {
        return Err(unknown_kind(first));
    }
    if rest.iter().any(|a| a.contains('/')) {
        return Err(mixed_forms(verb));
    }
    Ok(rest.to_vec())
}

/// Command-line words for the unit tests of the verbs.
#[cfg(test)]
pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(ToString::to_string).collect()
}

/// The pod of `NAME` or `TYPE/NAME` (`logs`, `exec`).
pub fn pod_name(arg: &str) -> anyhow::Result<&str> {
    Ok(split_pod_ref(arg)?.unwrap_or(arg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(args: &[&str]) -> anyhow::Result<Vec<String>> {
        let args: Vec<String> = args.iter().map(ToString::to_string).collect();
        pod_names("get", &args)
    }

    #[test]
    fn both_forms_and_every_spelling_of_the_type_name_pods() {
        assert_eq!(names(&["pods"]).expect("names"), Vec::<String>::new());
        assert_eq!(names(&["PO", "a", "b"]).expect("names"), ["a", "b"]);
        assert_eq!(
            names(&["pod/a", "po/b", "Pods/c"]).expect("names"),
            ["a", "b", "c"]
        );
        assert_eq!(pod_name("web").expect("names"), "web");
        assert_eq!(pod_name("Pod/web").expect("names"), "web");
    }

    #[test]
    fn another_type_or_a_mixed_form_is_kubectls_error() {
        let err = |args: &[&str]| names(args).expect_err("an error").to_string();
        assert_eq!(
            err(&["deploy/x"]),
            "the server doesn't have a resource type \"deploy\""
        );
        assert_eq!(
            pod_name("deploy/x").expect_err("an error").to_string(),
            "the server doesn't have a resource type \"deploy\""
        );
        assert_eq!(
            err(&["svc"]),
            "the server doesn't have a resource type \"svc\""
        );
        assert!(err(&["pod", "pod/a"]).starts_with("there is no need to specify a resource type"));
        assert!(err(&["pod/a", "b"]).starts_with("there is no need to specify a resource type"));
        assert_eq!(
            err(&["pod/"]),
            "arguments in resource/name form must have a single resource and name"
        );
    }
}
