//! The `Examples:` at the end of each verb's `--help` (and man page), as
//! kubectl prints them: kept in one table so every verb, whoever adds
//! it, gets its examples the same way.

/// Each verb (`image ls` for a verb of `image`) and its examples.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "validate",
        "  # Check a manifest: every error with file:line:column and field path
  peapod validate -f examples/myapp.yaml

  # Check several files, treating unknown fields as warnings
  peapod validate -f a.yaml -f b.yaml --validate=warn",
    ),
    (
        "explain",
        "  # Document the fields of a pod's containers
  peapod explain pod.spec.containers

  # Every field below spec, indented
  peapod explain pod.spec --recursive

  # Every field below, as a tree
  peapod explain pods.spec --recursive",
    ),
    (
        "apply",
        "  # Create the pods of a manifest, or bring running ones to it
  peapod apply -f examples/myapp.yaml

  # Every manifest of a directory and its subdirectories
  peapod apply -R -f manifests/

  # A manifest from stdin
  cat pod.yaml | peapod apply -f -

  # Delete and recreate a pod whose change a running pod cannot take
  peapod apply --force -f pod.yaml",
    ),
    (
        "create",
        "  # Create the pods of a manifest (an existing pod is an error)
  peapod create -f examples/myapp.yaml",
    ),
    (
        "replace",
        "  # Change running pods as an update (images, labels, annotations)
  peapod replace -f pod.yaml

  # Delete the pods and create them again from the manifest
  peapod replace --force -f pod.yaml",
    ),
    (
        "get",
        "  # List the pods of the default namespace, of all namespaces
  peapod get pods
  peapod get pods -A -o wide

  # One pod as YAML, or one field of it
  peapod get pod myapp -o yaml
  peapod get pod myapp -o jsonpath='{.status.podIP}'

  # Pods by label, watching for changes
  peapod get pods -l app=web -w

  # Set-based and field selectors, labels shown
  peapod get pods -l 'app in (web,db),!canary' --field-selector status.phase=Running --show-labels

  # A line per pod from a JSONPath template, or chosen columns, sorted
  peapod get pods -o jsonpath='{range .items[*]}{.metadata.name}{\"\\t\"}{.status.podIP}{\"\\n\"}{end}'
  peapod get pods -o custom-columns=NAME:.metadata.name,IP:.status.podIP --sort-by=.metadata.creationTimestamp

  # The events of one pod
  peapod get events --field-selector involvedObject.name=myapp",
    ),
    (
        "describe",
        "  # A pod in detail: containers, states, conditions, volumes, events
  peapod describe pod myapp

  # The pods of a manifest
  peapod describe -f examples/myapp.yaml",
    ),
    (
        "delete",
        "  # Delete a pod (its grace period, then SIGKILL)
  peapod delete pod myapp

  # Delete at once, and the pods of a manifest
  peapod delete pod myapp --grace-period=0
  peapod delete -f examples/myapp.yaml",
    ),
    (
        "exec",
        "  # Run a command in a pod's default container
  peapod exec myapp -- ls /

  # A shell in container web, with a terminal
  peapod exec -it myapp -c web -- sh",
    ),
    (
        "run",
        "  # Run a container in the foreground, removed when it ends
  peapod run --rm -it shell --image=busybox -- sh

  # Run in the background, publishing port 8080 of the host
  peapod run web --image=nginx -d -p 8080:80",
    ),
    (
        "logs",
        "  # The logs of a pod's default container, then follow them
  peapod logs myapp
  peapod logs -f myapp

  # The last 20 lines of container web, and of its previous run
  peapod logs myapp -c web --tail=20
  peapod logs myapp -c web --previous

  # Every container, each line after its pod and container and its time
  peapod logs myapp --all-containers --prefix --timestamps --since=10m

  # The default containers of the pods labelled app=web, followed
  peapod logs -l app=web -f --max-log-requests=10",
    ),
    (
        "wait",
        "  # Wait until a pod is Ready, at most 60 seconds
  peapod wait pod/myapp --for=condition=Ready --timeout=60s

  # Wait until a pod is gone
  peapod wait pod/myapp --for=delete

  # Wait for a field's value, for every pod labelled app=web
  peapod wait pods -l app=web --for=jsonpath='{.status.phase}'=Running",
    ),
    (
        "top",
        "  # CPU and memory of every pod, then of one pod's containers
  peapod top pod
  peapod top pod myapp --containers",
    ),
    (
        "attach",
        "  # Attach to the main process of a pod's default container
  peapod attach -it myapp",
    ),
    (
        "serve",
        "  # Serve the CRI where kubelet and crictl look for peapod
  peapod serve
  crictl --runtime-endpoint unix:///run/peapod/peapod.sock version

  # A socket of its own, for a second instance
  peapod --root /srv/peapod2 serve --cri unix:///run/peapod2.sock",
    ),
    (
        "cp",
        "  # Copy a file out of a pod, and a folder into it
  peapod cp myapp:/etc/hostname ./hostname
  peapod cp ./site myapp:/usr/share/nginx/html -c web",
    ),
    (
        "port-forward",
        "  # Reach port 80 of a pod on port 8080 of the host's loopback
  peapod port-forward myapp 8080:80",
    ),
    (
        "debug",
        "  # A busybox container in a pod, sharing container web's namespaces
  peapod debug myapp -it --image=busybox --target=web

  # The same, detached: its output with logs, attach to follow it
  peapod debug myapp --image=busybox -c dbg -- sh -c 'netstat -tln'
  peapod logs myapp -c dbg

  # A copy of the pod with every image changed, sharing its processes
  peapod debug myapp --copy-to=myapp-debug --set-image=*=busybox

  # A shell on the node: the host's namespaces, its / at /host
  peapod debug node/$(hostname) -it --image=busybox",
    ),
    (
        "serve",
        "  # Serve the CRI for crictl or a kubelet on the default socket, or on another
  peapod serve
  peapod serve --cri unix:///tmp/peapod.sock",
    ),
    (
        "version",
        "  # The version of peapod
  peapod version",
    ),
    (
        "completion",
        "  # Completion for bash in this shell
  source <(peapod completion bash)",
    ),
    (
        "image",
        "  # The images in the store, and a pull
  peapod image ls
  peapod image pull docker.io/library/busybox:1.36",
    ),
    (
        "image import",
        "  # A root filesystem folder as an image
  peapod image import ./rootfs myimage:1.0",
    ),
    (
        "image load",
        "  # Load a docker save or OCI archive
  peapod image load -i busybox.tar",
    ),
    (
        "image pull",
        "  # Pull an image from its registry
  peapod image pull docker.io/library/busybox:1.36",
    ),
    (
        "image ls",
        "  # The images in the store
  peapod image ls",
    ),
    (
        "image rm",
        "  # Remove an image no pod uses
  peapod image rm busybox:1.36",
    ),
    (
        "image inspect",
        "  # An image's configuration and layers as JSON
  peapod image inspect busybox:1.36",
    ),
    (
        "image tag",
        "  # Another name for an image
  peapod image tag busybox:1.36 mybox:latest",
    ),
    (
        "image save",
        "  # An image as an OCI archive
  peapod image save -o busybox.tar busybox:1.36",
    ),
    (
        "image prune",
        "  # Remove the images no pod uses and no name points at (-a: unused ones too)
  peapod image prune",
    ),
    (
        "man",
        "  # The man pages of peapod and of each verb, into a folder
  peapod man /usr/local/share/man/man1",
    ),
    (
        "label",
        "  # Add a label to a running pod (in place: no restart)
  peapod label pod myapp tier=web

  # Change a label the pod has, and remove another
  peapod label pod/myapp tier=db --overwrite
  peapod label pod myapp tier-",
    ),
    (
        "annotate",
        "  # Add an annotation to a running pod
  peapod annotate pod myapp description='my first pod'

  # Remove it
  peapod annotate pod myapp description-",
    ),
    (
        "patch",
        "  # Merge a label into a pod (a strategic merge patch)
  peapod patch pod myapp -p '{\"metadata\":{\"labels\":{\"tier\":\"web\"}}}'

  # A new image for one container: it restarts with it
  peapod patch pod myapp -p '{\"spec\":{\"containers\":[{\"name\":\"myapp1\",\"image\":\"busybox:1.31.1\"}]}}'

  # A JSON patch
  peapod patch pod myapp --type=json -p '[{\"op\":\"remove\",\"path\":\"/metadata/labels/tier\"}]'",
    ),
    (
        "diff",
        "  # What applying the manifest would change (exit 1: something would)
  peapod diff -f examples/myapp.yaml

  # With another diff program
  KUBECTL_EXTERNAL_DIFF='diff -u --color' peapod diff -f pod.yaml",
    ),
    (
        "edit",
        "  # Edit a running pod in vi (what a running pod cannot change is refused)
  peapod edit pod myapp

  # With another editor
  KUBE_EDITOR=nano peapod edit pod/myapp",
    ),
    (
        "rollout",
        "  # Replace every pod of a Deployment, then wait for them
  peapod rollout restart deployment/web
  peapod rollout status deployment/web",
    ),
    (
        "rollout restart",
        "  # Replace every pod of a Deployment, as a template change does
  peapod rollout restart deployment/web",
    ),
    (
        "rollout status",
        "  # Wait until every pod of the Deployment is new and ready
  peapod rollout status deployment/web --timeout=2m",
    ),
    (
        "scale",
        "  # Keep 3 pods of a Deployment
  peapod scale deployment/web --replicas=3

  # Only if it keeps 2 now
  peapod scale deploy web --current-replicas=2 --replicas=3",
    ),
    (
        "set",
        "  # Restart a pod's container with a new image
  peapod set image pod/myapp myapp1=busybox:1.31.1",
    ),
    (
        "set image",
        "  # Restart a pod's container with a new image
  peapod set image pod/myapp myapp1=busybox:1.31.1

  # Every container of the pod
  peapod set image pod/myapp '*=busybox:1.31.1'",
    ),
    (
        "events",
        "  # The events of the pods of the default namespace, of every namespace
  peapod events
  peapod events -A

  # The warnings of one pod
  peapod events --for pod/myapp --types=Warning",
    ),
    (
        "api-resources",
        "  # The resource types peapod reads, with their short names
  peapod api-resources",
    ),
    (
        "api-versions",
        "  # The API group/versions of those types
  peapod api-versions",
    ),
];

/// `command` with the examples of its verbs (and of `image`'s verbs) at
/// the end of their help.
pub fn with_examples(mut command: clap::Command) -> clap::Command {
    let verbs: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    for verb in verbs {
        command = command.mut_subcommand(&verb, |sub| {
            let inner: Vec<String> = sub
                .get_subcommands()
                .map(|c| c.get_name().to_owned())
                .collect();
            let mut sub = add(sub, &verb);
            for name in inner {
                let path = format!("{verb} {name}");
                sub = sub.mut_subcommand(&name, |c| add(c, &path));
            }
            sub
        });
    }
    command
}

fn add(command: clap::Command, path: &str) -> clap::Command {
    match EXAMPLES.iter().find(|(verb, _)| *verb == path) {
        Some((_, text)) => command.after_help(format!("Examples:\n{text}")),
        None => command,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn every_visible_verb_has_examples() {
        let command = with_examples(crate::Cli::command());
        let mut missing = Vec::new();
        for verb in command.get_subcommands().filter(|c| !c.is_hide_set()) {
            let subs: Vec<&clap::Command> = verb.get_subcommands().collect();
            for c in std::iter::once(verb).chain(subs) {
                let help = c.get_after_help().map(ToString::to_string);
                if !help.is_some_and(|h| h.starts_with("Examples:\n  # ")) {
                    missing.push(c.get_name().to_owned());
                }
            }
        }
        assert!(
            missing.is_empty(),
            "verbs without examples (add them to EXAMPLES in cli/src/examples.rs): {missing:?}"
        );
    }
}
