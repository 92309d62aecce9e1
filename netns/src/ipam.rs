//! Address leases: one file per leased address under the lease folder,
//! every change made while holding an exclusive `flock` on `<dir>/lock`.
//!
//! A lease file `<dir>/<ip>` holds the pod, its owner (supervisor pid and
//! that process's start time, so a reused pid is not mistaken for the
//! owner) and the pod's host ports. A lease whose owner is gone is
//! reclaimed when it is in the way (the subnet is full, or it holds a
//! host port asked for), and handed back to the caller so the pod's
//! links and rules can be cleaned too.
//!
//! A pod whose veth is left to the kernel (it goes with the pod's network
//! namespace, in the kernel's own time) gives its address back into
//! quarantine: the lease file is marked `released` and its address is not
//! handed out again while a link of the pod's veth name exists — a second
//! pod answering ARP for the same address from a dying namespace would
//! poison the host's neighbour cache. The next allocation sweeps the
//! quarantine, looking each veth up in sysfs (no netlink dump: that waits
//! for the RTNL lock the kernel holds while it destroys the veths); a veth
//! still there [`QUARANTINE_LIMIT`] after the release, its namespace kept
//! alive by something else, is deleted by the sweep itself, so neither it
//! nor the address leaks. Allocation is also
//! round-robin (after the last address handed out), so a quarantined
//! address is rarely even looked at.

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, flock};

use crate::error::{Error, Result};
use crate::host_ports::HostPort;
use crate::subnet::Ipv4Subnet;
use crate::veth::veth_name;

/// The process a lease belongs to: pid and start time (clock ticks since
/// boot, field 22 of `/proc/<pid>/stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Owner {
    pub(crate) pid: u32,
    pub(crate) start_time: u64,
}

impl Owner {
    /// The process `pid`, or `None` when it does not exist or is a zombie
    /// (dead: its lease can be taken back).
    pub(crate) fn of(pid: u32) -> Option<Self> {
        let start_time = peapod_core::process_start_time(i32::try_from(pid).ok()?)?;
        Some(Self { pid, start_time })
    }

    fn is_alive(self) -> bool {
        Self::of(self.pid) == Some(self)
    }
}

/// One pod's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lease {
    pub(crate) pod: String,
    /// What errors call the pod (`default/web`): its id is a uid, which
    /// tells a user nothing. Leases written before it had one name the
    /// pod by its id.
    pub(crate) name: String,
    pub(crate) ip: Ipv4Addr,
    pub(crate) owner: Owner,
    pub(crate) host_ports: Vec<HostPort>,
    /// In quarantine: the pod is gone, its veth may not be yet.
    pub(crate) released: bool,
}

impl Lease {
    fn render(&self) -> String {
        let mut text = format!(
            "pod {}\nname {}\nowner {} {}\n",
            self.pod, self.name, self.owner.pid, self.owner.start_time
        );
        for port in &self.host_ports {
            let _ = writeln!(
                text,
                "port {} {} {} {}",
                port.protocol, port.host_ip, port.host_port, port.container_port
            );
        }
        if self.released {
            text.push_str("released\n");
        }
        text
    }

    fn parse(ip: Ipv4Addr, text: &str) -> Option<Self> {
        let mut pod: Option<String> = None;
        let mut name = None;
        let mut owner = None;
        let mut host_ports = Vec::new();
        let mut released = false;
        for line in text.lines() {
            let words: Vec<&str> = line.split(' ').collect();
            match words.as_slice() {
                ["pod", id] => pod = Some((*id).to_owned()),
                ["name", n] => name = Some((*n).to_owned()),
                ["released"] => released = true,
                ["owner", pid, start] => {
                    owner = Some(Owner {
                        pid: pid.parse().ok()?,
                        start_time: start.parse().ok()?,
                    });
                }
                ["port", protocol, host_ip, host_port, container_port] => {
                    host_ports.push(HostPort {
                        protocol: protocol.parse().ok()?,
                        host_ip: host_ip.parse().ok()?,
                        host_port: host_port.parse().ok()?,
                        container_port: container_port.parse().ok()?,
                    });
                }
                _ => {}
            }
        }
        let pod = pod?;
        Some(Self {
            name: name.unwrap_or_else(|| pod.clone()),
            pod,
            ip,
            owner: owner?,
            host_ports,
            released,
        })
    }
}

/// What [`Ipam::allocate`] gives back.
#[derive(Debug)]
pub(crate) struct Allocation {
    /// The pod's lease (its earlier one, if it had one).
    pub(crate) lease: Lease,
    /// Leases taken back from dead owners: their pods' links and rules
    /// are the caller's to remove.
    pub(crate) reclaimed: Vec<Lease>,
}

/// The lease store of one subnet.
#[derive(Debug, Clone)]
pub(crate) struct Ipam {
    dir: PathBuf,
    subnet: Ipv4Subnet,
}

/// The exclusive lock on the store, released when dropped (the fd closes).
/// The lock file also keeps the last address handed out, overwritten in
/// place (no truncate, no rename: cheap on ext4 under load).
struct StoreLock {
    file: File,
}

/// Width of the last-address hint at the start of the lock file.
const HINT_LEN: usize = 16;

impl StoreLock {
    fn last(&self) -> Option<Ipv4Addr> {
        let mut hint = [0; HINT_LEN];
        let read = self.file.read_at(&mut hint, 0).ok()?;
        std::str::from_utf8(&hint[..read]).ok()?.trim().parse().ok()
    }

    fn set_last(&self, ip: Ipv4Addr, path: &Path) -> Result<()> {
        let hint = format!("{:<width$}", ip.to_string(), width = HINT_LEN);
        self.file
            .write_all_at(hint.as_bytes(), 0)
            .map_err(|e| Error::file(path, e))
    }
}

impl Ipam {
    pub(crate) fn new(dir: impl Into<PathBuf>, subnet: Ipv4Subnet) -> Self {
        Self {
            dir: dir.into(),
            subnet,
        }
    }

    fn lock(&self) -> Result<StoreLock> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::file(&self.dir, e))?;
        let path = self.dir.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| Error::file(&path, e))?;
        flock(&file, FlockOperation::LockExclusive).map_err(|e| Error::file(&path, e.into()))?;
        Ok(StoreLock { file })
    }

    fn leases(&self) -> Result<Vec<Lease>> {
        let entries = fs::read_dir(&self.dir).map_err(|e| Error::file(&self.dir, e))?;
        let mut leases = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::file(&self.dir, e))?;
            let Some(ip) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse::<Ipv4Addr>().ok())
            else {
                continue;
            };
            let path = entry.path();
            let text = match fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::file(&path, e)),
            };
            if let Some(lease) = Lease::parse(ip, &text) {
                leases.push(lease);
            }
        }
        Ok(leases)
    }

    fn lease_path(&self, ip: Ipv4Addr) -> PathBuf {
        self.dir.join(ip.to_string())
    }

    /// Writes a lease. Readers hold the lock, so nobody sees it half
    /// written; a file torn by a crash does not parse and is overwritten.
    fn write(&self, lease: &Lease) -> Result<()> {
        let path = self.lease_path(lease.ip);
        fs::write(&path, lease.render()).map_err(|e| Error::file(&path, e))
    }

    fn remove(&self, ip: Ipv4Addr) -> Result<()> {
        remove_file_if_present(&self.lease_path(ip))
    }

    /// Leases an address to `pod` (called `name` in errors) for `owner`,
    /// recording its host ports. A pod that holds a lease gets the same
    /// address again. Fails when a host port is held by another pod's
    /// lease, or no address is free.
    pub(crate) fn allocate(
        &self,
        pod: &str,
        name: &str,
        owner: Owner,
        host_ports: &[HostPort],
        links: &dyn HostLinks,
    ) -> Result<Allocation> {
        if pod.is_empty() || pod.contains(['\n', ' ', '/']) {
            return Err(Error::Config {
                reason: format!(
                    "pod id {pod:?}: must be non-empty, without spaces, slashes or newlines"
                ),
            });
        }
        if name.is_empty() || name.contains(['\n', ' ']) {
            return Err(Error::Config {
                reason: format!("pod name {name:?}: must be non-empty, without spaces or newlines"),
            });
        }
        let lock = self.lock()?;
        let (quarantined, mut live): (Vec<Lease>, Vec<Lease>) =
            self.leases()?.into_iter().partition(|lease| lease.released);
        let quarantined = self.sweep(quarantined, links)?;
        let mut reclaimed = Vec::new();
        for port in host_ports {
            let clash = |lease: &Lease| {
                lease.pod != pod && lease.host_ports.iter().any(|held| held.clashes_with(port))
            };
            if let Some(holder) = live.iter().find(|lease| clash(lease)) {
                if holder.owner.is_alive() {
                    return Err(port.taken(name, format!("pod {}", holder.name)));
                }
                reclaimed.extend(self.reclaim(&mut live, |lease| clash(lease))?);
            }
        }
        // The pod's own lease, live or in quarantine (the same pod again:
        // wiring deletes its old veth first).
        let existing = live
            .iter()
            .chain(&quarantined)
            .find(|lease| lease.pod == pod)
            .map(|lease| lease.ip);
        let taken = |live: &[Lease]| -> Vec<Ipv4Addr> {
            live.iter().chain(&quarantined).map(|l| l.ip).collect()
        };
        let ip = if let Some(ip) = existing.or_else(|| self.free_address(&lock, &taken(&live))) {
            ip
        } else {
            // Full: take back the addresses of dead supervisors.
            reclaimed.extend(self.reclaim(&mut live, |lease| lease.pod != pod)?);
            self.free_address(&lock, &taken(&live))
                .ok_or_else(|| Error::AddressesExhausted {
                    subnet: self.subnet.to_string(),
                    pod: name.to_owned(),
                })?
        };
        let lease = Lease {
            pod: pod.to_owned(),
            name: name.to_owned(),
            ip,
            owner,
            host_ports: host_ports.to_vec(),
            released: false,
        };
        self.write(&lease)?;
        lock.set_last(ip, &self.dir.join("lock"))?;
        Ok(Allocation { lease, reclaimed })
    }

    /// Removes, from the store and from `live`, the leases picked by
    /// `candidate` whose owner is gone; returns them.
    fn reclaim(
        &self,
        live: &mut Vec<Lease>,
        candidate: impl Fn(&Lease) -> bool,
    ) -> Result<Vec<Lease>> {
        let (dead, alive): (Vec<Lease>, Vec<Lease>) = live
            .drain(..)
            .partition(|lease| candidate(lease) && !lease.owner.is_alive());
        *live = alive;
        for lease in &dead {
            self.remove(lease.ip)?;
        }
        Ok(dead)
    }

    /// The next free address after the last one handed out (as host-local
    /// IPAM does), so a just-released address is not reused at once.
    fn free_address(&self, lock: &StoreLock, taken: &[Ipv4Addr]) -> Option<Ipv4Addr> {
        let last = lock.last();
        let taken = |ip: &Ipv4Addr| taken.contains(ip);
        let after_last = self
            .subnet
            .pod_addresses()
            .skip_while(|ip| last.is_some_and(|last| *ip <= last));
        after_last
            .chain(self.subnet.pod_addresses())
            .find(|ip| !taken(ip))
    }

    /// Ends the quarantine of the leases whose veth is gone (their files
    /// go), deleting the veths still there [`QUARANTINE_LIMIT`] after
    /// their release (the lease file's time: it is rewritten when the
    /// quarantine starts); returns the others.
    fn sweep(&self, quarantined: Vec<Lease>, links: &dyn HostLinks) -> Result<Vec<Lease>> {
        let mut kept = Vec::new();
        for lease in quarantined {
            let veth = veth_name(&lease.pod);
            let gone = !links.exists(&veth)
                || (self.quarantined_for(lease.ip) >= QUARANTINE_LIMIT && {
                    tracing::warn!(
                        pod = %lease.name,
                        veth,
                        "the veth of a deleted pod is still there: its network namespace is \
                         kept alive by something else (an fd, a bind mount); deleting it"
                    );
                    links.delete(&veth)
                });
            if gone {
                self.remove(lease.ip)?;
            } else {
                kept.push(lease);
            }
        }
        Ok(kept)
    }

    /// How long the lease of `ip` has been in quarantine: since its file
    /// was last written.
    fn quarantined_for(&self, ip: Ipv4Addr) -> std::time::Duration {
        fs::metadata(self.lease_path(ip))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .unwrap_or_default()
    }

    /// The lease of `pod`, if it has one (not in quarantine).
    pub(crate) fn lease_of(&self, pod: &str) -> Result<Option<Lease>> {
        let _lock = self.lock()?;
        Ok(self
            .leases()?
            .into_iter()
            .find(|lease| lease.pod == pod && !lease.released))
    }

    /// Puts `pod`'s lease in quarantine (its veth goes with its network
    /// namespace, later): the file stays, marked `released`, rewritten in
    /// place. Returns the lease it held; nothing happens when it has none.
    #[cfg(test)]
    pub(crate) fn quarantine(&self, pod: &str) -> Result<Option<Lease>> {
        self.quarantine_after(pod, |_| Ok(()))
    }

    /// [`Ipam::quarantine`], `first` done with the lease before it is
    /// marked (its host-port rules removed), all under one lock and one
    /// reading of the leases. Both are tried; the first error is returned.
    pub(crate) fn quarantine_after(
        &self,
        pod: &str,
        first: impl FnOnce(&Lease) -> Result<()>,
    ) -> Result<Option<Lease>> {
        let _lock = self.lock()?;
        let lease = self
            .leases()?
            .into_iter()
            .find(|lease| lease.pod == pod && !lease.released);
        if let Some(lease) = &lease {
            let done = first(lease);
            let marked = self.write(&Lease {
                released: true,
                ..lease.clone()
            });
            done.and(marked)?;
        }
        Ok(lease)
    }

    /// Releases `pod`'s lease (one in quarantine too); nothing happens
    /// when it has none.
    pub(crate) fn release(&self, pod: &str) -> Result<Option<Lease>> {
        let _lock = self.lock()?;
        let lease = self.leases()?.into_iter().find(|lease| lease.pod == pod);
        if let Some(lease) = &lease {
            self.remove(lease.ip)?;
        }
        Ok(lease)
    }

    /// Every lease, for the checks of tests and `peapod` diagnostics.
    pub(crate) fn all(&self) -> Result<Vec<Lease>> {
        if !self.dir.exists() {
            return Ok(Vec::new());
        }
        let _lock = self.lock()?;
        Ok(self
            .leases()?
            .into_iter()
            .filter(|lease| !lease.released)
            .collect())
    }
}

/// The host's links as a quarantine sweep sees them. A closure is one
/// that only looks (tests).
pub(crate) trait HostLinks {
    /// Whether a link of this name is on the host.
    fn exists(&self, name: &str) -> bool;
    /// Deletes the link of this name (both ends of a veth); whether it is
    /// gone. Asked for a veth still there [`QUARANTINE_LIMIT`] after its
    /// pod's release.
    fn delete(&self, _name: &str) -> bool {
        false
    }
}

impl<F: Fn(&str) -> bool> HostLinks for F {
    fn exists(&self, name: &str) -> bool {
        self(name)
    }
}

/// How long a released address waits for its veth to go with the pod's
/// network namespace before the sweep deletes the veth itself. The kernel
/// destroys a namespace within a second or so of its last process; one
/// still there after this is kept alive by something else (an fd of
/// `/proc/<pid>/ns/net` someone holds, a bind mount of it, a process that
/// joined it), and its veth and address would otherwise stay forever.
pub(crate) const QUARANTINE_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

pub(crate) fn remove_file_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::file(path, e)),
        _ => Ok(()),
    }
}

/// Whether two host addresses overlap: equal, or either means "all".
pub(crate) fn host_ips_overlap(a: IpAddr, b: IpAddr) -> bool {
    a == b || a.is_unspecified() || b.is_unspecified()
}

impl HostPort {
    fn clashes_with(&self, other: &HostPort) -> bool {
        self.protocol == other.protocol
            && self.host_port == other.host_port
            && host_ips_overlap(self.host_ip, other.host_ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_ports::Protocol;
    use std::collections::BTreeSet;

    fn store(name: &str, subnet: &str) -> (Ipam, PathBuf) {
        let dir = std::env::temp_dir().join(format!("peapod-ipam-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        (Ipam::new(&dir, subnet.parse().unwrap()), dir)
    }

    fn no_links(_: &str) -> bool {
        false
    }

    fn me() -> Owner {
        Owner::of(std::process::id()).unwrap()
    }

    fn port(host_port: u16) -> HostPort {
        HostPort {
            protocol: Protocol::Tcp,
            host_ip: IpAddr::from([0, 0, 0, 0]),
            host_port,
            container_port: 80,
        }
    }

    #[test]
    fn allocate_gives_distinct_addresses_and_same_one_again_per_pod() {
        let (ipam, dir) = store("distinct", "10.99.0.0/24");
        let a = ipam
            .allocate("a", "a", me(), &[], &no_links)
            .unwrap()
            .lease
            .ip;
        let b = ipam
            .allocate("b", "b", me(), &[], &no_links)
            .unwrap()
            .lease
            .ip;
        assert_eq!(a, Ipv4Addr::new(10, 99, 0, 2));
        assert_eq!(b, Ipv4Addr::new(10, 99, 0, 3));
        assert_eq!(
            ipam.allocate("a", "a", me(), &[], &no_links)
                .unwrap()
                .lease
                .ip,
            a
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn release_frees_the_address_and_is_idempotent() {
        let (ipam, dir) = store("release", "10.99.0.0/24");
        let a = ipam
            .allocate("a", "a", me(), &[], &no_links)
            .unwrap()
            .lease
            .ip;
        assert_eq!(ipam.release("a").unwrap().unwrap().ip, a);
        assert!(ipam.release("a").unwrap().is_none());
        assert!(ipam.all().unwrap().is_empty());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn released_address_is_not_handed_out_again_at_once() {
        let (ipam, dir) = store("hint", "10.99.0.0/24");
        let a = ipam
            .allocate("a", "a", me(), &[], &no_links)
            .unwrap()
            .lease
            .ip;
        ipam.release("a").unwrap();
        let b = ipam
            .allocate("b", "b", me(), &[], &no_links)
            .unwrap()
            .lease
            .ip;
        assert_ne!(a, b);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn quarantined_address_waits_for_its_veth_to_vanish() {
        // A /30 has one pod address: the next pod can only get a's.
        let (ipam, dir) = store("quarantine", "10.99.0.0/30");
        let a = ipam
            .allocate("a", "a", me(), &[], &no_links)
            .unwrap()
            .lease
            .ip;
        assert_eq!(ipam.quarantine("a").unwrap().unwrap().ip, a);
        // Out of sight for the pod's own look-ups, still on disk.
        assert!(ipam.lease_of("a").unwrap().is_none());
        assert!(ipam.all().unwrap().is_empty());
        assert!(ipam.quarantine("a").unwrap().is_none());
        let veth_still_there = |name: &str| name == veth_name("a");
        let error = ipam
            .allocate("b", "b", me(), &[], &veth_still_there)
            .unwrap_err()
            .to_string();
        assert_eq!(error, "no free address left in 10.99.0.0/30 for pod b");
        // Once the kernel destroyed the veth, the address is free again.
        let b = ipam
            .allocate("b", "b", me(), &[], &no_links)
            .unwrap()
            .lease
            .ip;
        assert_eq!(b, a);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 2); // lock + b
        fs::remove_dir_all(dir).unwrap();
    }

    /// Links that are there until deleted, the deletions recorded.
    struct Stuck(std::cell::RefCell<Vec<String>>);

    impl HostLinks for Stuck {
        fn exists(&self, name: &str) -> bool {
            !self.0.borrow().iter().any(|d| d == name)
        }
        fn delete(&self, name: &str) -> bool {
            self.0.borrow_mut().push(name.to_owned());
            true
        }
    }

    #[test]
    fn veth_still_there_past_the_quarantine_limit_is_deleted_and_its_address_freed() {
        let (ipam, dir) = store("stuck", "10.99.0.0/30");
        let a = ipam.allocate("a", "a", me(), &[], &no_links).unwrap();
        let a = a.lease.ip;
        ipam.quarantine("a").unwrap();
        let links = Stuck(std::cell::RefCell::new(Vec::new()));
        // Within the limit: left to the kernel.
        assert!(ipam.allocate("b", "b", me(), &[], &links).is_err());
        assert!(links.0.borrow().is_empty());
        let released = std::time::SystemTime::now() - QUARANTINE_LIMIT;
        File::options()
            .write(true)
            .open(dir.join(a.to_string()))
            .and_then(|f| f.set_times(fs::FileTimes::new().set_modified(released)))
            .unwrap();
        let b = ipam.allocate("b", "b", me(), &[], &links).unwrap().lease.ip;
        assert_eq!(b, a);
        assert_eq!(*links.0.borrow(), [veth_name("a")]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn quarantined_pod_applied_again_gets_its_address_back() {
        let (ipam, dir) = store("requarantine", "10.99.0.0/24");
        let a = ipam
            .allocate("a", "a", me(), &[], &no_links)
            .unwrap()
            .lease
            .ip;
        ipam.quarantine("a").unwrap();
        let veth_still_there = |name: &str| name == veth_name("a");
        let again = ipam
            .allocate("a", "a", me(), &[], &veth_still_there)
            .unwrap();
        assert_eq!(again.lease.ip, a);
        assert_eq!(ipam.lease_of("a").unwrap().unwrap().ip, a);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn full_subnet_reclaims_only_dead_owners() {
        let (ipam, dir) = store("full", "10.99.0.0/29");
        let dead = Owner {
            pid: std::process::id(),
            start_time: 1,
        };
        for pod in ["a", "b", "c", "d"] {
            ipam.allocate(pod, pod, me(), &[], &no_links).unwrap();
        }
        ipam.allocate("ghost", "ghost", dead, &[], &no_links)
            .unwrap();
        let allocation = ipam.allocate("e", "e", me(), &[], &no_links).unwrap();
        let reclaimed: Vec<_> = allocation
            .reclaimed
            .iter()
            .map(|l| l.pod.as_str())
            .collect();
        assert_eq!(reclaimed, ["ghost"]);
        assert_eq!(ipam.all().unwrap().len(), 5);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn exhausted_subnet_names_subnet_and_pod() {
        let (ipam, dir) = store("exhaust", "10.99.0.0/30");
        ipam.allocate("a", "a", me(), &[], &no_links).unwrap();
        let error = ipam
            .allocate("b", "b", me(), &[], &no_links)
            .unwrap_err()
            .to_string();
        assert_eq!(error, "no free address left in 10.99.0.0/30 for pod b");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn lease_of_a_dead_owner_is_reclaimed() {
        let (ipam, dir) = store("reclaim", "10.99.0.0/30");
        let dead = Owner {
            pid: std::process::id(),
            start_time: 1,
        };
        ipam.allocate("ghost", "ghost", dead, &[port(8001)], &no_links)
            .unwrap();
        let allocation = ipam
            .allocate("b", "b", me(), &[port(8001)], &no_links)
            .unwrap();
        assert_eq!(allocation.reclaimed.len(), 1);
        assert_eq!(allocation.reclaimed[0].pod, "ghost");
        assert_eq!(allocation.lease.ip, Ipv4Addr::new(10, 99, 0, 2));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn host_port_conflict_named_pods_by_uid_not_namespace_and_name() {
        let (ipam, dir) = store("ports", "10.99.0.0/24");
        let web = "dac53849-0c5e-4c4a-9d0e-6f1b2f1c0a01";
        let api = "ed662b14-5b7f-4e39-8a8e-1f0d3c2b4a02";
        ipam.allocate(web, "default/web", me(), &[port(8001)], &no_links)
            .unwrap();
        let error = ipam
            .allocate(api, "default/api", me(), &[port(8001)], &no_links)
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "hostPort 0.0.0.0:8001/TCP of pod default/api is already taken by pod default/web"
        );
        let udp = HostPort {
            protocol: Protocol::Udp,
            ..port(8001)
        };
        ipam.allocate("dns", "dns", me(), &[udp], &no_links)
            .unwrap();
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn lease_round_trips_through_its_file_format() {
        let lease = Lease {
            pod: "default_web".into(),
            name: "default/web".into(),
            ip: Ipv4Addr::new(10, 77, 0, 9),
            owner: me(),
            host_ports: vec![port(8001)],
            released: false,
        };
        assert_eq!(Lease::parse(lease.ip, &lease.render()), Some(lease.clone()));
        let released = Lease {
            released: true,
            ..lease
        };
        assert_eq!(
            Lease::parse(released.ip, &released.render()),
            Some(released)
        );
        // A lease written before leases had a name is named by its id.
        let old = Lease::parse(Ipv4Addr::new(10, 77, 0, 9), "pod u1\nowner 1 2\n").unwrap();
        assert_eq!(old.name, "u1");
    }

    #[test]
    fn twenty_concurrent_allocations_never_share_an_address() {
        let (ipam, dir) = store("threads", "10.99.0.0/24");
        let ips: Vec<Ipv4Addr> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..20)
                .map(|i| {
                    let ipam = ipam.clone();
                    scope.spawn(move || {
                        let pod = format!("pod{i}");
                        ipam.allocate(&pod, &pod, me(), &[], &no_links)
                            .unwrap()
                            .lease
                            .ip
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(ips.iter().collect::<BTreeSet<_>>().len(), 20);
        fs::remove_dir_all(dir).unwrap();
    }

    /// The child half of the process test below: does nothing unless the
    /// parent set `PEAPOD_IPAM_CHILD_DIR`.
    #[test]
    fn ipam_child_process_allocates() {
        let Ok(dir) = std::env::var("PEAPOD_IPAM_CHILD_DIR") else {
            return;
        };
        let parent: u32 = std::env::var("PEAPOD_IPAM_PARENT")
            .unwrap()
            .parse()
            .unwrap();
        let pod = format!("proc{}", std::process::id());
        let ipam = Ipam::new(dir, "10.99.0.0/24".parse().unwrap());
        ipam.allocate(&pod, &pod, Owner::of(parent).unwrap(), &[], &no_links)
            .unwrap();
    }

    #[test]
    fn twenty_concurrent_processes_never_share_an_address() {
        let (ipam, dir) = store("procs", "10.99.0.0/24");
        let exe = std::env::current_exe().unwrap();
        let children: Vec<_> = (0..20)
            .map(|_| {
                std::process::Command::new(&exe)
                    .args([
                        "--exact",
                        "ipam::tests::ipam_child_process_allocates",
                        "--quiet",
                    ])
                    .env("PEAPOD_IPAM_CHILD_DIR", &dir)
                    .env("PEAPOD_IPAM_PARENT", std::process::id().to_string())
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
        let leases = ipam.all().unwrap();
        assert_eq!(leases.len(), 20);
        let ips: BTreeSet<_> = leases.iter().map(|lease| lease.ip).collect();
        assert_eq!(ips.len(), 20);
        fs::remove_dir_all(dir).unwrap();
    }
}
