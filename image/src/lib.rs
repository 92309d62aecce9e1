//! The local image store.
//!
//! Owns: a content-addressed store of blobs and unpacked layers, the index
//! of image references, importing a root filesystem, loading OCI layouts and
//! `docker save` archives, saving OCI archives, pulling from OCI registries
//! (through the mirrors of a containers-registries.conf(5) file), unpacking layers
//! safely (whiteouts, no entry written outside its layer), and the ordered
//! lower directories of an image for an overlay rootfs, with the layer of
//! mount points its containers need on top of them.
//!
//! Does not own: mounting (that is `peapod-volumes` and `peapod-core`).
//!
//! The runtime's one call is [`Store::ensure`]: a reference and a
//! [`PullPolicy`] in, an [`Image`] with its config and overlay lower dirs
//! out.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod archive;
mod auth;
mod beneath;
mod change;
mod compression;
mod digest;
mod error;
mod import;
mod index;
mod mount_points;
pub mod oci;
mod reference;
mod registries;
mod registry;
mod save;
mod store;
mod unpack;

pub use digest::Digest;
pub use error::{Error, Result};
pub use oci::ImageConfig;
pub use reference::Reference;
pub use registries::{Registries, Source};
pub use registry::{Progress, PullOptions};
pub use store::{Ensured, Image, ImageDetails, ImageSummary, PullPolicy, Pulled, Store};
pub use unpack::Limits;
