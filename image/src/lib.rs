//! The local image store.
//!
//! Owns: a content-addressed store of blobs and unpacked layers, the index
//! of image references, importing a root filesystem, loading OCI layouts and
//! `docker save` archives, pulling from OCI registries, unpacking layers
//! safely (whiteouts, no entry written outside its layer), and the ordered
//! lower directories of an image for an overlay rootfs.
//!
//! Does not own: mounting (that is `peapod-volumes` and `peapod-core`).
#![forbid(unsafe_code)]
