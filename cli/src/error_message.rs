//! The one shape of every error the CLI prints, kubectl's: what the
//! server would answer for a pod that is not there or already is
//! (`Error from server (NotFound): pods "web" not found`), `error: ...`
//! for everything else.

use peapod_runtime::Error;

/// What a user does after a pod was not found.
pub const NOT_FOUND_NEXT: &str = "\"peapod get pods -A\" lists the pods";

/// kubectl's line for an error of the runtime, with the next step.
pub fn of_runtime(err: &Error) -> String {
    match err {
        Error::NotFound { .. } => {
            format!("Error from server (NotFound): {err}; {NOT_FOUND_NEXT}")
        }
        Error::AlreadyExists { .. } => format!("Error from server (AlreadyExists): {err}"),
        // kubectl prints the API server's Invalid status as it is.
        Error::Invalid { .. } => err.to_string(),
        Error::NoSuchContainer { pod, .. } => format!(
            "error: {err}; \"peapod get pod {pod} -o jsonpath='{{.spec.containers[*].name}}'\" lists its containers"
        ),
        _ => format!("error: {err}"),
    }
}

/// A request the API server would refuse (`BadRequest`): a selector it
/// cannot parse or a field it cannot select on.
#[derive(Debug)]
pub struct BadRequest(pub String);

impl std::fmt::Display for BadRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadRequest {}

/// kubectl's line for an error a verb ended with: the server's form when
/// a pod is missing or already there, whatever context was added on the
/// way up; `error:` and the whole chain otherwise.
pub fn of(err: &anyhow::Error) -> String {
    if let Some(bad) = err.chain().find_map(|e| e.downcast_ref::<BadRequest>()) {
        return format!("Error from server (BadRequest): {bad}");
    }
    match err.chain().find_map(|e| e.downcast_ref::<Error>()) {
        Some(
            e @ (Error::NotFound { .. }
            | Error::AlreadyExists { .. }
            | Error::Invalid { .. }
            | Error::NoSuchContainer { .. }),
        ) => of_runtime(e),
        _ => format!("error: {}", chain(err)),
    }
}

/// kubectl's NotFound line for a workload (`deployment.apps "web"`), with
/// the next step.
pub fn workload_not_found(resource: &str, name: &str) -> String {
    let plural = resource.split('.').next().unwrap_or(resource);
    format!(
        "Error from server (NotFound): {resource} {name:?} not found; \"peapod get {plural}s -A\" lists the {plural}s"
    )
}

/// The causes of `err`, outermost first, joined by `: `; a cause that
/// the message before it already ends with (an error whose text repeats
/// its source's) is said once.
fn chain(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let cause = cause.to_string();
        if text.ends_with(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_pod_is_the_servers_not_found_and_the_rest_error() {
        let missing = anyhow::Error::new(Error::NotFound { name: "web".into() });
        assert_eq!(
            of(&missing.context("reading the pod")),
            "Error from server (NotFound): pods \"web\" not found; \"peapod get pods -A\" lists the pods"
        );
        let exists = Error::AlreadyExists {
            namespace: "default".into(),
            name: "web".into(),
        };
        assert_eq!(
            of(&exists.into()),
            "Error from server (AlreadyExists): pods \"web\" already exists"
        );
        assert_eq!(
            of(&anyhow::anyhow!("bad").context("while reading")),
            "error: while reading: bad"
        );
    }

    /// An error whose message ends with its source's text (thiserror's
    /// `"{op} {path}: {source}"` with `#[source]`).
    #[derive(Debug)]
    struct Repeats(std::io::Error);

    impl std::fmt::Display for Repeats {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "read /x: {}", self.0)
        }
    }

    impl std::error::Error for Repeats {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn image_import_of_a_missing_path_printed_the_cause_twice() {
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        let text = missing.to_string();
        let err = anyhow::Error::new(Repeats(missing)).context("importing");
        assert_eq!(of(&err), format!("error: importing: read /x: {text}"));
    }

    #[test]
    fn a_missing_workload_says_what_to_do_next() {
        assert_eq!(
            workload_not_found("deployment.apps", "web"),
            "Error from server (NotFound): deployment.apps \"web\" not found; \"peapod get deployments -A\" lists the deployments"
        );
    }
}
