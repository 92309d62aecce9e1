//! Pod networking.
//!
//! Owns: the bridge, a veth pair per pod moved into the pod's network
//! namespace, addresses and routes, loopback, IPAM leases with a lock file,
//! host ports, `hostNetwork`, and the files a pod owns in kubelet's format:
//! `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`. Netlink is spoken
//! directly; no `ip` subprocess.
//!
//! Does not own: creating the namespaces (that is `peapod-core`).
#![forbid(unsafe_code)]
