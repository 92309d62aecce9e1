//! Resolving a container's image through `peapod-image`'s store, as plain
//! data for the rest of the runtime.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use peapod_image::{PullOptions, PullPolicy, Store};
use peapod_spec::Container;

use crate::container_process::ImageDefaults;
use crate::error::{Error, Result};
use crate::security_context::ImageIdentity;

/// An image ready to become a container's root.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedImage {
    /// `sha256:...`, for `imageID`.
    pub id: String,
    /// overlayfs lower dirs, topmost first.
    pub lower: Vec<PathBuf>,
    /// The store it is in (its mount-point layers: `mount_point_layer.rs`).
    pub store: Store,
    /// ENTRYPOINT, CMD, ENV, WORKDIR.
    pub defaults: ImageDefaults,
    /// STOPSIGNAL as a number (`None`: SIGTERM).
    pub stop_signal: Option<i32>,
    /// USER and the image's `/etc/passwd` and `/etc/group`.
    pub identity: ImageIdentity,
    /// The pull that brought it, if one did (for the `Pulled` event).
    pub pulled: Option<PullRecord>,
}

/// A pull of a container's image, as kubelet's `Pulled` event tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PullRecord {
    /// The pull itself.
    pub took: Duration,
    /// From the container's image resolution to the image being there
    /// (the pull, and the wait for the store's lock before it).
    pub including_waiting: Duration,
    /// The image's size in bytes.
    pub size: u64,
}

/// Finds (or pulls, as `imagePullPolicy` says, or `pull` when given: the
/// `--pull` of `apply` and `run`) the image of `container`. An image
/// missing under `Never` is kubelet's `ErrImageNeverPull`.
pub(crate) fn resolve(
    store: &Store,
    container: &Container,
    pull: Option<peapod_spec::PullPolicy>,
    options: &PullOptions,
) -> Result<ResolvedImage> {
    let _span = tracing::debug_span!("image", image = %container.image).entered();
    let policy = match pull.unwrap_or_else(|| container.pull_policy()) {
        peapod_spec::PullPolicy::Always => PullPolicy::Always,
        peapod_spec::PullPolicy::IfNotPresent => PullPolicy::IfNotPresent,
        peapod_spec::PullPolicy::Never => PullPolicy::Never,
    };
    let start = Instant::now();
    let ensured = store
        .ensure_reporting(&container.image, policy, options)
        .map_err(|e| Error::container(&container.name, with_reason(&container.image, &e)))?;
    let pulled = ensured.pulled.map(|p| PullRecord {
        took: p.took,
        including_waiting: start.elapsed(),
        size: p.size,
    });
    Ok(ResolvedImage {
        pulled,
        ..resolved(store, container, ensured.image)
    })
}

/// `e` led by kubelet's waiting reason for it: `ErrImageNeverPull`,
/// `InvalidImageName`, or `ErrImagePull` with kubelet's `Failed to pull
/// image "x": ...`.
fn with_reason(image: &str, e: &peapod_image::Error) -> String {
    use peapod_image::Error as E;
    match e {
        E::NotPresentNever { .. } => format!("ErrImageNeverPull: {e}"),
        E::InvalidReference { .. } => format!("InvalidImageName: {e}"),
        E::Registry { .. }
        | E::Http { .. }
        | E::Config { .. }
        | E::DigestMismatch { .. }
        | E::BadLayer { .. }
        | E::UnsafeEntry { .. } => format!("ErrImagePull: Failed to pull image {image:?}: {e}"),
        _ => e.to_string(),
    }
}

/// How this host pulls: through the mirrors and insecure registries of
/// its `registries.conf`.
pub(crate) fn pull_options(paths: &crate::Paths) -> PullOptions {
    PullOptions {
        registries_conf: Some(paths.registries_conf()),
        ..PullOptions::default()
    }
}

/// The image a running `container` was started from, by its `imageID`
/// (`status.containerStatuses[].imageID`), never pulled: what `exec`
/// recomputes the container's process from.
pub(crate) fn started_from(
    store: &Store,
    container: &Container,
    image_id: &str,
) -> Result<ResolvedImage> {
    let name = if image_id.is_empty() {
        &container.image
    } else {
        image_id
    };
    let image = store
        .image(name)
        .map_err(|e| Error::container(&container.name, e))?;
    Ok(resolved(store, container, image))
}

fn resolved(store: &Store, container: &Container, image: peapod_image::Image) -> ResolvedImage {
    let c = image.config;
    let image_stop_signal = c.stop_signal.as_deref().and_then(|s| {
        let sig = crate::termination::parse_signal(s);
        if sig.is_none() {
            tracing::warn!(
                "image {}: unknown STOPSIGNAL {s}, using SIGTERM",
                container.image
            );
        }
        sig
    });
    // The container's lifecycle.stopSignal (validated) wins over the image's.
    let stop_signal = container
        .lifecycle
        .as_ref()
        .and_then(|l| l.stop_signal.as_deref())
        .and_then(peapod_spec::signal_number)
        .or(image_stop_signal);
    let identity = ImageIdentity::read(c.user, &image.lower_dirs);
    ResolvedImage {
        stop_signal,
        identity,
        pulled: None,
        id: image.id.to_string(),
        lower: image.lower_dirs,
        store: store.clone(),
        defaults: ImageDefaults {
            entrypoint: c.entrypoint.unwrap_or_default(),
            cmd: c.cmd.unwrap_or_default(),
            env: c.env.unwrap_or_default(),
            working_dir: c.working_dir,
        },
    }
}
