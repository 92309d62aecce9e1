//! `peapod serve`: the CRI socket itself, `Version`, `Status`, and the
//! `ImageService` against the local `docker-registry`, through the tonic
//! client generated from the same `api.proto`.
//!
//! The tests live in the CLI's package because `serve` must be the real
//! `peapod` binary (it re-executes itself as each pod's supervisor), and
//! Cargo names that binary to its own package's tests only.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;
#[path = "common/cri_server.rs"]
mod cri_server;
#[path = "../../image/tests/common/layout.rs"]
mod layout;
#[path = "../../image/tests/common/registry.rs"]
mod registry;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};

use common::{shared, start};
use cri_server::Serve;
use peapod_cri::api::{
    AuthConfig, ImageFilter, ImageFsInfoRequest, ImageSpec, ImageStatusRequest, ListImagesRequest,
    PullImageRequest, RemoveImageRequest, RuntimeStatus, StatusRequest, VersionRequest,
};
use peapod_testkit::{TempDir, busybox_rootfs};
use tonic::Code;

#[allow(clippy::unnecessary_wraps)] // every request holds an Option<ImageSpec>
fn spec(image: &str) -> Option<ImageSpec> {
    Some(ImageSpec {
        image: image.to_string(),
        ..ImageSpec::default()
    })
}

fn runtime_status(client: &peapod_cri::Client) -> RuntimeStatus {
    client
        .block_on(
            client
                .runtime_service
                .clone()
                .status(StatusRequest::default()),
        )
        .unwrap()
        .into_inner()
        .status
        .unwrap()
}

#[test]
fn version_and_status_over_a_0660_socket_that_sigterm_removes() {
    let Some((_g, root)) = start(
        "version_and_status_over_a_0660_socket_that_sigterm_removes",
        "cri-version",
        shared,
    ) else {
        return;
    };
    // A socket file left by a server that died is replaced.
    let socket = root.path().join("run/peapod.sock");
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists());

    let mut serve = Serve::start(root.path(), &[]);
    assert_eq!(serve.socket, socket);
    let meta = std::fs::symlink_metadata(&socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);

    let client = serve.client();
    let version = client
        .block_on(
            client
                .runtime_service
                .clone()
                .version(VersionRequest::default()),
        )
        .unwrap()
        .into_inner();
    assert_eq!(version.runtime_name, "peapod");
    assert_eq!(version.runtime_api_version, "v1");
    assert_eq!(version.runtime_version, env!("CARGO_PKG_VERSION"));

    let status = runtime_status(&client);
    let kinds: Vec<(&str, bool)> = status
        .conditions
        .iter()
        .map(|c| (c.r#type.as_str(), c.status))
        .collect();
    assert_eq!(kinds, [("RuntimeReady", true), ("NetworkReady", true)]);

    // A second server on the same socket is refused, the first untouched.
    let second = root.run(&["serve"]);
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("another server is listening"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    client
        .block_on(
            client
                .runtime_service
                .clone()
                .version(VersionRequest::default()),
        )
        .unwrap();

    drop(client);
    let exit = serve.terminate();
    assert!(exit.success(), "{exit:?}");
    assert!(!socket.exists(), "the socket is removed at shutdown");
}

#[test]
fn network_not_ready_says_why() {
    let Some((_g, root)) = start("network_not_ready_says_why", "cri-netready", shared) else {
        return;
    };
    // The server reads PEAPOD_NETWORK as pods would.
    let mut command = root.command(&["serve"]);
    command.env("PEAPOD_NETWORK", "none");
    let serve = Serve::from_command(command);
    let client = serve.client();
    let status = runtime_status(&client);
    let network = status
        .conditions
        .iter()
        .find(|c| c.r#type == "NetworkReady")
        .unwrap();
    assert!(!network.status);
    assert_eq!(network.reason, "NetworkPluginNotReady");
    assert!(
        network.message.contains("PEAPOD_NETWORK=none"),
        "{network:?}"
    );
}

#[test]
fn pull_list_status_remove_and_fs_info_against_a_registry_with_a_login() {
    let Some((_g, root)) = start(
        "pull_list_status_remove_and_fs_info_against_a_registry_with_a_login",
        "cri-images",
        shared,
    ) else {
        return;
    };
    let tmp = TempDir::new("cri-images-layout");
    let layout_dir = tmp.path().join("layout");
    std::fs::create_dir_all(&layout_dir).unwrap();
    layout::add_image(
        &layout_dir,
        "three:1",
        &layout::three_layers(busybox_rootfs()),
        "/bin/sh",
    );
    let login = registry::Login {
        user: "kube",
        password: "s3cret",
    };
    let reg = registry::Registry::start(Some(&login));
    reg.push(&layout_dir, "three:1", "test/three:1", Some(&login));
    let name = format!("{}/test/three:1", reg.host());

    // Plain HTTP to the local registry, as registries.conf says for pulls.
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(
        root.path().join("etc/registries.conf"),
        format!(
            "[[registry]]\nlocation = \"{}\"\ninsecure = true\n",
            reg.host()
        ),
    )
    .unwrap();
    let serve = Serve::start(root.path(), &[]);
    let client = serve.client();
    let images = || client.image_service.clone();

    // Without the request's credentials the registry refuses.
    let refused = client
        .block_on(images().pull_image(PullImageRequest {
            image: spec(&name),
            ..PullImageRequest::default()
        }))
        .unwrap_err();
    assert_ne!(refused.code(), Code::Ok);
    assert!(refused.message().contains("UNAUTHORIZED"), "{refused:?}");

    let pulled = client
        .block_on(images().pull_image(PullImageRequest {
            image: spec(&name),
            auth: Some(AuthConfig {
                username: login.user.into(),
                password: login.password.into(),
                ..AuthConfig::default()
            }),
            sandbox_config: None,
        }))
        .unwrap()
        .into_inner();
    assert!(pulled.image_ref.starts_with("sha256:"), "{pulled:?}");
    assert!(
        std::fs::read_dir(root.path().join("run/cri"))
            .unwrap()
            .next()
            .is_none(),
        "the request's auth file is removed after the pull"
    );

    let status = client
        .block_on(images().image_status(ImageStatusRequest {
            image: spec(&name),
            verbose: false,
        }))
        .unwrap()
        .into_inner()
        .image
        .unwrap();
    assert_eq!(status.id, pulled.image_ref);
    assert_eq!(status.repo_tags, std::slice::from_ref(&name));
    assert_eq!(status.repo_digests.len(), 1);
    assert!(
        status.repo_digests[0].starts_with(&format!("{}/test/three@sha256:", reg.host())),
        "{status:?}"
    );
    assert!(status.size > 0);

    let all = client
        .block_on(images().list_images(ListImagesRequest::default()))
        .unwrap()
        .into_inner()
        .images;
    let ids: Vec<&str> = all.iter().map(|i| i.id.as_str()).collect();
    assert!(ids.contains(&pulled.image_ref.as_str()), "{ids:?}");
    // Root::new imported the busybox tags too.
    assert!(
        all.iter()
            .any(|i| i.repo_tags.iter().any(|t| t.ends_with("busybox:1.30.1"))),
        "{all:?}"
    );
    let filtered = client
        .block_on(images().list_images(ListImagesRequest {
            filter: Some(ImageFilter { image: spec(&name) }),
        }))
        .unwrap()
        .into_inner()
        .images;
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0].id, pulled.image_ref);

    let fs = client
        .block_on(images().image_fs_info(ImageFsInfoRequest {}))
        .unwrap()
        .into_inner()
        .image_filesystems;
    assert_eq!(fs.len(), 1);
    assert!(fs[0].used_bytes.as_ref().unwrap().value > status.size / 2);
    assert!(fs[0].inodes_used.as_ref().unwrap().value > 10);

    // Removed by its ID, with its name; then gone, and removing it again
    // succeeds (RemoveImage is idempotent).
    for _ in 0..2 {
        client
            .block_on(images().remove_image(RemoveImageRequest {
                image: spec(&pulled.image_ref),
            }))
            .unwrap();
    }
    let gone = client
        .block_on(images().image_status(ImageStatusRequest {
            image: spec(&name),
            verbose: false,
        }))
        .unwrap()
        .into_inner();
    assert!(gone.image.is_none(), "{gone:?}");
    assert!(!root.ok(&["image", "ls"]).contains("test/three"));

    let missing = client
        .block_on(images().pull_image(PullImageRequest {
            image: spec(&format!("{}/test/none:1", reg.host())),
            auth: Some(AuthConfig {
                username: login.user.into(),
                password: login.password.into(),
                ..AuthConfig::default()
            }),
            sandbox_config: None,
        }))
        .unwrap_err();
    assert!(
        missing.message().contains("MANIFEST_UNKNOWN"),
        "{missing:?}"
    );
}

#[test]
fn an_image_a_pod_uses_is_not_removed() {
    let Some((_g, root)) = start("an_image_a_pod_uses_is_not_removed", "cri-inuse", shared) else {
        return;
    };
    let pod = root.apply(
        "cri-inuse",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: cri-inuse\nspec:\n  containers:\n  - name: c\n    image: busybox:1.30.1\n    command: [sleep, \"3600\"]\n",
    );
    let serve = Serve::start(root.path(), &[]);
    let client = serve.client();
    let refused = client
        .block_on(
            client
                .image_service
                .clone()
                .remove_image(RemoveImageRequest {
                    image: spec("busybox:1.30.1"),
                }),
        )
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(
        refused
            .message()
            .contains("in use by pod default/cri-inuse"),
        "{refused:?}"
    );
    assert!(root.ok(&["image", "ls"]).contains("busybox"));
    drop(pod);
    client
        .block_on(
            client
                .image_service
                .clone()
                .remove_image(RemoveImageRequest {
                    image: spec("busybox:1.30.1"),
                }),
        )
        .unwrap();
    let left = client
        .block_on(
            client
                .image_service
                .clone()
                .image_status(ImageStatusRequest {
                    image: spec("busybox:1.30.1"),
                    verbose: false,
                }),
        )
        .unwrap()
        .into_inner();
    assert!(left.image.is_none());
}
