//! The Kubernetes core/v1 `Pod` model as peapod runs it on one host.
//!
//! Owns: the Pod types (a v1 subset, plus the `ConfigMap` and `Secret`
//! documents that pods in the same file use), YAML and JSON parsing of
//! multi-document files, Kubernetes' defaults, validation whose errors name
//! the file, line, column and field path, resource quantities, and the
//! field documentation behind `peapod explain`.
//!
//! Does not own: anything that touches the host. No syscalls, no I/O beyond
//! the bytes handed in.
#![forbid(unsafe_code)]
