//! The CRI v1 messages, services, servers and clients, generated at build
//! time from `proto/api.proto` (package `runtime.v1`). The tests drive
//! `peapod serve` with the clients.
#![allow(
    missing_docs,
    clippy::pedantic,
    clippy::doc_lazy_continuation,
    clippy::large_enum_variant
)]

tonic::include_proto!("runtime.v1");
