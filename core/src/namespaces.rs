//! Which namespaces a process gets: new ones, and ones joined from another
//! process by its pidfd.

use crate::error::{Error, Result};

bitflags::bitflags! {
    /// A set of Linux namespaces.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Namespaces: u32 {
        /// Mount namespace (`CLONE_NEWNS`).
        const MNT = 1 << 0;
        /// Network namespace (`CLONE_NEWNET`).
        const NET = 1 << 1;
        /// System V IPC and POSIX message queues (`CLONE_NEWIPC`).
        const IPC = 1 << 2;
        /// Hostname and domain name (`CLONE_NEWUTS`).
        const UTS = 1 << 3;
        /// Process ids (`CLONE_NEWPID`).
        const PID = 1 << 4;
        /// cgroup root view (`CLONE_NEWCGROUP`).
        const CGROUP = 1 << 5;
        /// User and group ids and capabilities (`CLONE_NEWUSER`): the
        /// pod's own with `hostUsers: false`.
        const USER = 1 << 6;
    }
}

impl Namespaces {
    /// The namespaces of this set that `clone3` must create: the PID
    /// namespace, whose first process has to be born in it, and the user
    /// namespace, so the parent can write its id maps at once and every
    /// namespace the child makes after is owned by it. The child
    /// makes the others itself with `unshare`, after it joined its cgroup
    /// and the namespaces it shares: the parent's `clone3` stays short
    /// (a new net namespace alone costs ~0.6 ms, now spent on the child's
    /// core while the supervisor goes on), and a cgroup namespace is
    /// rooted at the cgroup the child already moved to.
    pub(crate) fn at_clone(self) -> Self {
        self & (Namespaces::PID | Namespaces::USER)
    }

    /// The `CLONE_NEW*` bits of this set, as `clone3` and `setns` take them.
    pub(crate) fn clone_flags(self) -> u64 {
        const TABLE: [(Namespaces, i32); 7] = [
            (Namespaces::MNT, libc::CLONE_NEWNS),
            (Namespaces::NET, libc::CLONE_NEWNET),
            (Namespaces::IPC, libc::CLONE_NEWIPC),
            (Namespaces::UTS, libc::CLONE_NEWUTS),
            (Namespaces::PID, libc::CLONE_NEWPID),
            (Namespaces::CGROUP, libc::CLONE_NEWCGROUP),
            (Namespaces::USER, libc::CLONE_NEWUSER),
        ];
        TABLE
            .iter()
            .filter(|(ns, _)| self.contains(*ns))
            // The CLONE_NEW* constants are positive and fit in 32 bits.
            .fold(0, |acc, (_, flag)| acc | u64::from(flag.cast_unsigned()))
    }
}

/// The namespaces of a process to be spawned: which are created new, which
/// are joined from another process (the pod's pause, or a running container
/// for `exec`), and the rest are inherited from the caller.
///
/// A pod's containers: `create = MNT` (plus `PID` when the pod does not
/// share its PID namespace) and `join = NET | IPC | UTS` (plus `PID` when it
/// does). The pause: `create = NET | IPC | UTS` (less `NET` with
/// `hostNetwork`, plus `PID` with `shareProcessNamespace`). `exec`:
/// `join = all` of the target container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NamespacePlan {
    /// Namespaces created new: the PID namespace by `clone3`, the others
    /// by the child's `unshare` after it joined [`NamespacePlan::join`].
    pub create: Namespaces,
    /// Namespaces joined from the process whose pidfd the spawn is given.
    pub join: Namespaces,
}

impl NamespacePlan {
    /// The plan of a pod's pause process.
    pub fn pause(host_network: bool, share_process_namespace: bool) -> Self {
        let mut create = Namespaces::IPC | Namespaces::UTS;
        if !host_network {
            create |= Namespaces::NET;
        }
        if share_process_namespace {
            create |= Namespaces::PID;
        }
        Self {
            create,
            join: Namespaces::empty(),
        }
    }

    /// The plan of an app or init container of a pod whose pause is joined.
    ///
    /// `host_network`: the pause made no net namespace, so there is none to
    /// join (joining the pause's would be the host's anyway).
    ///
    /// Each container gets its own cgroup namespace, made after it joined
    /// its cgroup, so that cgroup is its root: it sees none of the host's
    /// cgroups, and a cgroup v1 `release_agent` cannot be set from it.
    ///
    /// The pause's user namespace is joined too: the spawn drops `USER`
    /// from the join when it is the caller's own (`hostUsers` unset or
    /// true).
    pub fn container(host_network: bool, share_process_namespace: bool) -> Self {
        let mut create = Namespaces::MNT | Namespaces::CGROUP;
        let mut join = Namespaces::IPC | Namespaces::UTS | Namespaces::USER;
        if !host_network {
            join |= Namespaces::NET;
        }
        if share_process_namespace {
            join |= Namespaces::PID;
        } else {
            create |= Namespaces::PID;
        }
        Self { create, join }
    }

    /// The plan of `peapod exec`: every namespace of the target joined
    /// (its user namespace only when it is not the caller's).
    pub fn exec() -> Self {
        Self {
            create: Namespaces::empty(),
            join: Namespaces::all(),
        }
    }

    /// Checks that no namespace is both created and joined.
    pub fn validate(&self) -> Result<()> {
        let both = self.create & self.join;
        if both.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid(
                "namespaces",
                format!("{both:?} both created and joined"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_with_host_network_creates_no_net_namespace() {
        let plan = NamespacePlan::pause(true, false);
        assert!(!plan.create.contains(Namespaces::NET));
        assert!(plan.create.contains(Namespaces::IPC | Namespaces::UTS));
        assert!(!plan.create.contains(Namespaces::PID));
    }

    #[test]
    fn shared_pid_namespace_is_created_by_pause_and_joined_by_containers() {
        assert!(
            NamespacePlan::pause(false, true)
                .create
                .contains(Namespaces::PID)
        );
        let c = NamespacePlan::container(false, true);
        assert!(c.join.contains(Namespaces::PID | Namespaces::NET));
        assert!(!c.create.contains(Namespaces::PID));
        c.validate().expect("valid");
    }

    #[test]
    fn unshared_pid_namespace_is_created_per_container() {
        let c = NamespacePlan::container(false, false);
        assert!(
            c.create
                .contains(Namespaces::PID | Namespaces::MNT | Namespaces::CGROUP)
        );
        assert!(!c.join.contains(Namespaces::PID));
    }

    #[test]
    fn namespace_both_created_and_joined_is_refused() {
        let plan = NamespacePlan {
            create: Namespaces::NET,
            join: Namespaces::NET | Namespaces::IPC,
        };
        let err = plan.validate().expect_err("refused").to_string();
        assert!(err.contains("NET"), "{err}");
    }

    #[test]
    fn user_namespace_is_made_by_clone3_and_joined_by_containers_and_exec() {
        let ns = Namespaces::USER | Namespaces::NET | Namespaces::PID;
        assert_eq!(ns.at_clone(), Namespaces::USER | Namespaces::PID);
        assert_eq!(
            Namespaces::USER.clone_flags(),
            u64::from(libc::CLONE_NEWUSER.cast_unsigned())
        );
        assert!(
            NamespacePlan::container(false, false)
                .join
                .contains(Namespaces::USER)
        );
        assert!(NamespacePlan::exec().join.contains(Namespaces::USER));
        assert!(
            !NamespacePlan::pause(false, false)
                .create
                .contains(Namespaces::USER)
        );
    }

    #[test]
    fn clone_flags_match_the_kernel_constants() {
        let flags = (Namespaces::NET | Namespaces::PID).clone_flags();
        assert_eq!(flags, (libc::CLONE_NEWNET | libc::CLONE_NEWPID) as u64);
        assert_eq!(Namespaces::empty().clone_flags(), 0);
    }
}
