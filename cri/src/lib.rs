//! The Kubernetes CRI v1 endpoint of peapod: `peapod serve`.
//!
//! Owns: the gRPC server on a unix socket (`runtime.v1.RuntimeService` and
//! `runtime.v1.ImageService`, generated from the vendored `api.proto` by
//! `build.rs`), the streaming server the `Exec`, `Attach` and
//! `PortForward` URLs point to (`streaming/`), and the mapping of each
//! RPC onto peapod's image store and engine. The only crate of the workspace with tokio, and only a
//! current-thread runtime inside [`serve`].
//!
//! Does not own: images (`peapod-image`), sandboxes and containers
//! (`peapod-runtime`'s engine). RPCs peapod does not serve answer
//! `UNIMPLEMENTED`.

pub mod api;
mod blocking;
mod client;
mod endpoint;
mod enforcement;
mod error;
mod from_engine;
mod image_service;
mod registry_auth;
mod runtime_service;
mod server;
mod status_code;
mod streaming;
mod to_engine;

pub use client::Client;
pub use endpoint::Endpoint;
pub use error::{Error, Result};
pub use server::{DEFAULT_STREAMING_ADDR, Options, serve};
