//! Linux primitives of peapod, and the only crate allowed `unsafe`.
//!
//! Owns: process creation with `clone3` (pidfds, namespaces, cgroup
//! placement), joining namespaces with `setns`, the pause process, the path
//! a child takes between clone and `execve` (mounts, pivot, credentials,
//! error pipe), cgroups v1 and v2, and the event loop that supervises
//! processes (io_uring, with an epoll fallback).
//!
//! Does not own: what a pod is. Callers hand in plain plans (namespaces,
//! mounts, limits) and get back processes and events.
