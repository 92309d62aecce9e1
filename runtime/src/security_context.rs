//! The security of every process that enters a container — its app, init
//! or sidecar process, `peapod exec`, exec hooks and probes, `peapod run` —
//! computed in one place from the pod, the container and the image, as
//! kubelet, containerd and runc compute it together:
//!
//! - the pod's `securityContext` merged with the container's, the
//!   container winning (`runAsUser`, `runAsGroup`, `runAsNonRoot`,
//!   `seccompProfile`); `supplementalGroups`, `supplementalGroupsPolicy`
//!   and `fsGroup` exist only at pod level;
//! - the user: `runAsUser`, else the image's `USER` (`name`, `uid`,
//!   `uid:gid`, `name:group`, looked up in the image's `/etc/passwd` and
//!   `/etc/group`), else root; the group: `runAsGroup`, else the image's
//!   group, else the user's primary group in `/etc/passwd`, else 0 (the
//!   image's group is honoured as docker and podman honour it: under a
//!   kubelet, which passes a numeric image user on as `runAsUser` alone,
//!   containerd drops it);
//! - the groups: the primary group (containerd since CVE-2023-25173), the
//!   groups `/etc/group` lists the user in (`Merge`, the default; not with
//!   `Strict`), `fsGroup` and `supplementalGroups`;
//! - `HOME` from `/etc/passwd`, else `/`, when the environment has none
//!   (runc);
//! - `runAsNonRoot` checked as kubelet checks it, with its messages;
//! - capabilities: containerd's default set, then `add: [ALL]`,
//!   `drop: [ALL]`, the named adds, the named drops (containerd's order);
//!   `privileged: true` gives every capability the kernel knows;
//! - `no_new_privs` only for `allowPrivilegeEscalation: false`.
//!
//! [`ProcessSecurity`] is plain data; [`ProcessSecurity::apply`] writes it
//! into core's `ProcessSpec`. Its other fields (`privileged`,
//! `read_only_root_filesystem`, `proc_mount`, `seccomp_profile`,
//! `capabilities` for seccomp's capability-gated rules) are what the mount
//! plan and the seccomp filter read.

use std::io::Read;
use std::path::{Path, PathBuf};

use peapod_core::{Capabilities, Credentials, ProcessSpec};
use peapod_spec::{
    Container, Pod, PodSecurityContext, ProcMountType, SeccompProfile, SupplementalGroupsPolicy,
};
use rustix::fs::{AtFlags, FileType, Mode, OFlags};

use crate::error::{Error, Result};

/// kubelet's waiting reason for a container its config cannot start
/// (`runAsNonRoot` refused it, a ConfigMap key is missing).
pub const CREATE_CONTAINER_CONFIG_ERROR: &str = "CreateContainerConfigError";

/// kubelet's waiting reason for a container the runtime could not create
/// (an image user missing from `/etc/passwd`).
pub const CREATE_CONTAINER_ERROR: &str = "CreateContainerError";

/// The most of `/etc/passwd` or `/etc/group` that is read.
const MAX_USER_FILE: u64 = 4 << 20;

/// The security of one process entering a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSecurity {
    /// uid, gid and the supplementary groups (sorted, no duplicates).
    pub credentials: Credentials,
    /// `HOME` for an environment without one.
    pub home: String,
    /// The bounding, permitted and effective sets.
    pub capabilities: Capabilities,
    /// `allowPrivilegeEscalation: false`.
    pub no_new_privs: bool,
    /// `privileged: true`: the mount plan and seccomp open up too.
    pub privileged: bool,
    /// `readOnlyRootFilesystem: true`.
    pub read_only_root_filesystem: bool,
    /// `procMount` (default `Default`).
    pub proc_mount: ProcMountType,
    /// The container's `seccompProfile`, else the pod's.
    pub seccomp_profile: Option<SeccompProfile>,
}

impl ProcessSecurity {
    /// Writes identity, capabilities, no_new_privs and (when the
    /// environment has none) `HOME` into `spec`.
    pub fn apply(&self, spec: &mut ProcessSpec) {
        spec.user = self.credentials.clone();
        spec.capabilities = Some(self.capabilities);
        spec.no_new_privs = self.no_new_privs;
        if !spec.env.iter().any(|e| e.starts_with("HOME=")) {
            spec.env.push(format!("HOME={}", self.home));
        }
    }
}

/// What the capabilities may be drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapabilityBounds {
    /// Every capability the kernel knows (`privileged`, `add: [ALL]`).
    pub kernel: Capabilities,
    /// What peapod itself holds: nothing outside it can be given.
    pub held: Capabilities,
}

impl CapabilityBounds {
    /// This kernel's and this process's.
    pub fn current() -> peapod_core::Result<Self> {
        Ok(Self {
            kernel: Capabilities::kernel_all(),
            held: Capabilities::held()?,
        })
    }
}

/// The users and groups of an image (`/etc/passwd`, `/etc/group`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserDb {
    users: Vec<PasswdEntry>,
    groups: Vec<GroupEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct GroupEntry {
    name: String,
    gid: u32,
    members: Vec<String>,
}

impl UserDb {
    /// Parses the two files; a line that is not a valid entry is skipped,
    /// as libc and runc skip it.
    pub fn parse(passwd: &str, group: &str) -> Self {
        let fields = |line: &str| -> Option<Vec<String>> {
            let line = line.trim_end_matches('\r');
            (!line.is_empty() && !line.starts_with('#'))
                .then(|| line.split(':').map(str::to_owned).collect())
        };
        let users = passwd
            .lines()
            .filter_map(fields)
            .filter_map(|f| {
                Some(PasswdEntry {
                    uid: f.get(2)?.parse().ok()?,
                    gid: f.get(3)?.parse().ok()?,
                    home: f.get(5).cloned().unwrap_or_default(),
                    name: f.into_iter().next()?,
                })
            })
            .collect();
        let groups = group
            .lines()
            .filter_map(fields)
            .filter_map(|f| {
                Some(GroupEntry {
                    gid: f.get(2)?.parse().ok()?,
                    members: f
                        .get(3)
                        .map(|m| {
                            m.split(',')
                                .filter(|s| !s.is_empty())
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default(),
                    name: f.into_iter().next()?,
                })
            })
            .collect();
        Self { users, groups }
    }

    /// Reads `etc/passwd` and `etc/group` from an image's unpacked layers
    /// (topmost first) as overlayfs would show them, never following a
    /// symlink out of a layer: a missing, whited-out or symlinked file
    /// reads as empty.
    pub fn from_layers(lower: &[PathBuf]) -> Self {
        let read = |name: &str| {
            lower
                .iter()
                .find_map(|layer| match layer_file(layer, name) {
                    InLayer::Absent => None,
                    InLayer::Hidden => Some(String::new()),
                    InLayer::Found(text) => Some(text),
                })
                .unwrap_or_default()
        };
        Self::parse(&read("passwd"), &read("group"))
    }

    fn user_by_uid(&self, uid: u32) -> Option<&PasswdEntry> {
        self.users.iter().find(|u| u.uid == uid)
    }

    fn user_by_name(&self, name: &str) -> Option<&PasswdEntry> {
        self.users.iter().find(|u| u.name == name)
    }

    fn group_by_name(&self, name: &str) -> Option<&GroupEntry> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The groups that list `user` as a member.
    fn groups_of(&self, user: &str) -> impl Iterator<Item = u32> {
        self.groups
            .iter()
            .filter(move |g| g.members.iter().any(|m| m == user))
            .map(|g| g.gid)
    }
}

/// What one layer says of a file.
enum InLayer {
    /// Nothing: look in the layer below.
    Absent,
    /// Hidden: a whiteout, an opaque or non-directory `etc`, a symlink, a
    /// file that cannot be read.
    Hidden,
    /// Its text.
    Found(String),
}

/// `etc/<name>` in one layer.
fn layer_file(layer: &Path, name: &str) -> InLayer {
    let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let Ok(root) = rustix::fs::open(layer, dir_flags, Mode::empty()) else {
        return InLayer::Absent;
    };
    let etc = match rustix::fs::statat(&root, "etc", AtFlags::SYMLINK_NOFOLLOW) {
        Err(_) => return InLayer::Absent,
        Ok(st) if FileType::from_raw_mode(st.st_mode) != FileType::Directory => {
            return InLayer::Hidden;
        }
        Ok(_) => match rustix::fs::openat(&root, "etc", dir_flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(_) => return InLayer::Hidden,
        },
    };
    let opaque = || {
        let mut value = [0u8; 1];
        rustix::fs::fgetxattr(&etc, "trusted.overlay.opaque", &mut value)
            .is_ok_and(|n| n == 1 && value[0] == b'y')
    };
    let file_flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
    match rustix::fs::openat(&etc, name, file_flags, Mode::empty()) {
        Ok(fd) => {
            let regular = rustix::fs::fstat(&fd)
                .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::RegularFile);
            if !regular {
                return InLayer::Hidden;
            }
            let mut text = String::new();
            match std::fs::File::from(fd)
                .take(MAX_USER_FILE)
                .read_to_string(&mut text)
            {
                Ok(_) => InLayer::Found(text),
                Err(_) => InLayer::Hidden,
            }
        }
        Err(rustix::io::Errno::NOENT) if !opaque() => InLayer::Absent,
        Err(_) => InLayer::Hidden,
    }
}

/// The image's `USER`: a user (name or number) and maybe a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ImageUser<'a> {
    user: &'a str,
    group: Option<&'a str>,
}

impl<'a> ImageUser<'a> {
    fn parse(s: &'a str) -> Option<Self> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        let (user, group) = match s.split_once(':') {
            Some((u, g)) => (u, Some(g).filter(|g| !g.is_empty())),
            None => (s, None),
        };
        Some(Self { user, group })
    }
}

/// The image's side: its `USER` and its users and groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageIdentity {
    /// `USER` (`None` or empty: root).
    pub user: Option<String>,
    /// Its `/etc/passwd` and `/etc/group`.
    pub users: UserDb,
}

impl ImageIdentity {
    /// `user` and the user files of the image's layers (topmost first).
    pub fn read(user: Option<String>, lower: &[PathBuf]) -> Self {
        Self {
            user,
            users: UserDb::from_layers(lower),
        }
    }
}

/// The pod's side, the same for each of its containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSecurity {
    context: Option<PodSecurityContext>,
    /// kubelet's `name_namespace(uid)`, for messages.
    pod_name: String,
    bounds: CapabilityBounds,
}

impl PodSecurity {
    /// `pod`'s, with what this kernel and this process allow.
    pub fn of(pod: &Pod) -> peapod_core::Result<Self> {
        Ok(Self::with_bounds(pod, CapabilityBounds::current()?))
    }

    /// `pod`'s, with `bounds`.
    pub fn with_bounds(pod: &Pod, bounds: CapabilityBounds) -> Self {
        let pod_name = format!(
            "{}_{}({})",
            pod.metadata.name.as_deref().unwrap_or_default(),
            pod.metadata
                .namespace
                .as_deref()
                .unwrap_or(crate::launch::DEFAULT_NAMESPACE),
            pod.metadata.uid.as_deref().unwrap_or_default()
        );
        Self {
            context: pod.spec.security_context.clone(),
            pod_name,
            bounds,
        }
    }

    /// The security of a process of `container` from `image`. A refusal
    /// is an [`Error::Create`] with kubelet's reason and message.
    pub fn container(
        &self,
        container: &Container,
        image: &ImageIdentity,
    ) -> Result<ProcessSecurity> {
        compute(self, container, image)
    }
}

fn compute(
    pod: &PodSecurity,
    container: &Container,
    image: &ImageIdentity,
) -> Result<ProcessSecurity> {
    let users = &image.users;
    let bounds = pod.bounds;
    let psc = pod.context.as_ref();
    let csc = container.security_context.as_ref();
    let refuse = |reason: &'static str, message: String| Error::Create {
        container: container.name.clone(),
        reason,
        message,
    };
    let run_as_user = csc
        .and_then(|s| s.run_as_user)
        .or_else(|| psc.and_then(|s| s.run_as_user));
    let run_as_group = csc
        .and_then(|s| s.run_as_group)
        .or_else(|| psc.and_then(|s| s.run_as_group));
    let run_as_non_root = csc
        .and_then(|s| s.run_as_non_root)
        .or_else(|| psc.and_then(|s| s.run_as_non_root))
        .unwrap_or(false);
    let image_user = image.user.as_deref().and_then(ImageUser::parse);
    if run_as_non_root {
        check_non_root(&pod.pod_name, &container.name, run_as_user, image_user)
            .map_err(|m| refuse(CREATE_CONTAINER_CONFIG_ERROR, m))?;
    }
    // The user: by number, or by name from the image.
    let id = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
    let (uid, entry) = match (run_as_user, image_user) {
        (Some(uid), _) => (id(uid), users.user_by_uid(id(uid))),
        (None, Some(ImageUser { user, .. })) => {
            if let Ok(uid) = user.parse::<u32>() {
                (uid, users.user_by_uid(uid))
            } else {
                let entry = users.user_by_name(user).ok_or_else(|| {
                    refuse(
                        CREATE_CONTAINER_ERROR,
                        format!("unable to find user {user}: no matching entries in passwd file"),
                    )
                })?;
                (entry.uid, Some(entry))
            }
        }
        (None, None) => (0, users.user_by_uid(0)),
    };
    let image_group = image_user
        .filter(|_| run_as_user.is_none())
        .and_then(|u| u.group);
    let gid =
        match (run_as_group, image_group) {
            (Some(gid), _) => id(gid),
            (None, Some(group)) => match group.parse::<u32>() {
                Ok(gid) => gid,
                Err(_) => users
                    .group_by_name(group)
                    .ok_or_else(|| {
                        refuse(
                            CREATE_CONTAINER_ERROR,
                            format!(
                                "unable to find group {group}: no matching entries in group file"
                            ),
                        )
                    })?
                    .gid,
            },
            (None, None) => entry.map_or(0, |e| e.gid),
        };
    let mut groups = vec![gid];
    let policy = psc
        .and_then(|s| s.supplemental_groups_policy)
        .unwrap_or_default();
    if policy == SupplementalGroupsPolicy::Merge
        && let Some(name) = entry.map(|e| e.name.as_str()).or_else(|| {
            image_user
                .filter(|_| run_as_user.is_none())
                .map(|u| u.user)
                .filter(|u| u.parse::<u32>().is_err())
        })
    {
        groups.extend(users.groups_of(name));
    }
    if let Some(sc) = psc {
        groups.extend(sc.fs_group.map(id));
        groups.extend(sc.supplemental_groups.iter().copied().map(id));
    }
    groups.sort_unstable();
    groups.dedup();
    let privileged = csc.and_then(|s| s.privileged).unwrap_or(false);
    let capabilities = if privileged {
        bounds.kernel.intersection(bounds.held)
    } else {
        capabilities(container, bounds).map_err(|m| refuse(CREATE_CONTAINER_ERROR, m))?
    };
    Ok(ProcessSecurity {
        credentials: Credentials { uid, gid, groups },
        home: entry
            .map(|e| e.home.clone())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "/".to_owned()),
        capabilities,
        no_new_privs: !privileged && csc.and_then(|s| s.allow_privilege_escalation) == Some(false),
        privileged,
        read_only_root_filesystem: csc
            .and_then(|s| s.read_only_root_filesystem)
            .unwrap_or(false),
        proc_mount: csc
            .and_then(|s| s.proc_mount)
            .unwrap_or(ProcMountType::Default),
        seccomp_profile: csc
            .and_then(|s| s.seccomp_profile.clone())
            .or_else(|| psc.and_then(|s| s.seccomp_profile.clone())),
    })
}

/// kubelet's `verifyRunAsNonRoot`, with its messages.
fn check_non_root(
    pod_name: &str,
    c: &str,
    run_as_user: Option<i64>,
    image_user: Option<ImageUser<'_>>,
) -> std::result::Result<(), String> {
    match (run_as_user, image_user) {
        (Some(0), _) => Err(format!(
            "container's runAsUser breaks non-root policy (pod: {pod_name:?}, container: {c})"
        )),
        (Some(_), _) => Ok(()),
        (None, Some(ImageUser { user, .. })) => match user.parse::<u32>() {
            Ok(0) => Err(format!(
                "container has runAsNonRoot and image will run as root (pod: {pod_name:?}, container: {c})"
            )),
            Ok(_) => Ok(()),
            Err(_) => Err(format!(
                "container has runAsNonRoot and image has non-numeric user ({user}), cannot verify user is non-root (pod: {pod_name:?}, container: {c})"
            )),
        },
        (None, None) => Err(format!(
            "container has runAsNonRoot and image will run as root (pod: {pod_name:?}, container: {c})"
        )),
    }
}

/// The capability set of an unprivileged container, in containerd's
/// order: the default set, `add: [ALL]`, `drop: [ALL]`, each add, each
/// drop. A named capability peapod does not hold is an error.
fn capabilities(
    container: &Container,
    bounds: CapabilityBounds,
) -> std::result::Result<Capabilities, String> {
    // The default set as far as peapod holds it (a peapod itself run
    // without, say, AUDIT_WRITE cannot pass it on); only a named add of a
    // capability it lacks is an error.
    let mut set = Capabilities::container_default().intersection(bounds.held);
    let Some(caps) = container
        .security_context
        .as_ref()
        .and_then(|s| s.capabilities.as_ref())
    else {
        return Ok(set);
    };
    let all = |list: &[String]| list.iter().any(|n| n.eq_ignore_ascii_case("ALL"));
    if all(&caps.add) {
        set = bounds.kernel.intersection(bounds.held);
    }
    if all(&caps.drop) {
        set = Capabilities::empty();
    }
    let named = |list: &[String]| -> std::result::Result<Capabilities, String> {
        let mut out = Capabilities::empty();
        for name in list.iter().filter(|n| !n.eq_ignore_ascii_case("ALL")) {
            let cap = Capabilities::from_name(name)
                .ok_or_else(|| format!("unknown capability {name:?}"))?;
            out = out.union(cap);
        }
        Ok(out)
    };
    let add = named(&caps.add)?;
    let missing = add.without(bounds.held);
    if missing != Capabilities::empty() {
        let names: Vec<String> = missing
            .numbers()
            .filter_map(Capabilities::name_of)
            .map(|n| format!("CAP_{n}"))
            .collect();
        return Err(format!(
            "cannot add {}: peapod itself does not hold it on this host",
            names.join(", ")
        ));
    }
    Ok(set.union(add).without(named(&caps.drop)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_spec::{PodSecurityContext, SecurityContext};

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
        # a comment\n\
        nginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin\n\
        broken line\n\
        app:x:1000:1000::/home/app:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nnginx:x:101:\nwww:x:33:nginx,app\nadm:x:4:app\n";

    fn bounds() -> CapabilityBounds {
        CapabilityBounds {
            kernel: Capabilities::all(),
            // As on a host without CAP_SYS_RESOURCE (24).
            held: Capabilities::all().without(Capabilities::from_number(24).expect("24")),
        }
    }

    fn pod(psc: Option<PodSecurityContext>, csc: Option<SecurityContext>) -> Pod {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web".into());
        pod.metadata.uid = Some("u-1".into());
        pod.spec.security_context = psc;
        pod.spec.containers.push(Container {
            name: "app".into(),
            security_context: csc,
            ..Container::default()
        });
        pod
    }

    fn compute_for(pod: &Pod, image_user: Option<&str>) -> Result<ProcessSecurity> {
        let image = ImageIdentity {
            user: image_user.map(str::to_owned),
            users: UserDb::parse(PASSWD, GROUP),
        };
        PodSecurity::with_bounds(pod, bounds()).container(&pod.spec.containers[0], &image)
    }

    fn caps(names: &[&str]) -> Capabilities {
        names
            .iter()
            .filter_map(|n| Capabilities::from_name(n))
            .fold(Capabilities::empty(), Capabilities::union)
    }

    #[test]
    fn passwd_and_group_parse_and_skip_bad_lines() {
        let db = UserDb::parse(PASSWD, GROUP);
        assert_eq!(db.users.len(), 3);
        assert_eq!(db.user_by_name("nginx").map(|u| u.uid), Some(101));
        assert_eq!(
            db.user_by_uid(1000).map(|u| u.home.as_str()),
            Some("/home/app")
        );
        assert_eq!(db.groups_of("app").collect::<Vec<_>>(), [33, 4]);
        assert_eq!(db.group_by_name("www").map(|g| g.gid), Some(33));
    }

    #[test]
    fn pod_level_ids_and_groups_apply_and_sort_as_the_kernel_does() {
        let p = pod(
            Some(PodSecurityContext {
                run_as_user: Some(1000),
                run_as_group: Some(3000),
                supplemental_groups: vec![4000],
                fs_group: Some(2000),
                ..PodSecurityContext::default()
            }),
            None,
        );
        let s = compute_for(&p, None).expect("ok");
        assert_eq!(s.credentials.uid, 1000);
        assert_eq!(s.credentials.gid, 3000);
        // Primary group, /etc/group's for "app" (Merge), fsGroup, extra.
        assert_eq!(s.credentials.groups, [4, 33, 2000, 3000, 4000]);
        assert_eq!(s.home, "/home/app");
    }

    #[test]
    fn strict_policy_leaves_out_the_image_groups() {
        let p = pod(
            Some(PodSecurityContext {
                run_as_user: Some(1000),
                supplemental_groups_policy: Some(SupplementalGroupsPolicy::Strict),
                ..PodSecurityContext::default()
            }),
            None,
        );
        let s = compute_for(&p, None).expect("ok");
        // The primary group from passwd when only a uid is given.
        assert_eq!(s.credentials.gid, 1000);
        assert_eq!(s.credentials.groups, [1000]);
    }

    #[test]
    fn container_wins_over_pod() {
        let p = pod(
            Some(PodSecurityContext {
                run_as_user: Some(1000),
                run_as_group: Some(3000),
                run_as_non_root: Some(true),
                ..PodSecurityContext::default()
            }),
            Some(SecurityContext {
                run_as_user: Some(101),
                run_as_non_root: Some(false),
                ..SecurityContext::default()
            }),
        );
        let s = compute_for(&p, Some("0")).expect("ok");
        assert_eq!((s.credentials.uid, s.credentials.gid), (101, 3000));
        assert_eq!(s.home, "/var/cache/nginx");
    }

    #[test]
    fn image_user_forms_resolve_in_passwd_and_group() {
        let p = pod(None, None);
        let ids = |user: &str| {
            let s = compute_for(&p, Some(user)).expect(user);
            (s.credentials.uid, s.credentials.gid)
        };
        assert_eq!(ids("nginx"), (101, 101));
        assert_eq!(ids("1000"), (1000, 1000));
        assert_eq!(ids("1000:42"), (1000, 42));
        assert_eq!(ids("nginx:www"), (101, 33));
        assert_eq!(ids("5000"), (5000, 0));
        assert_eq!(ids(""), (0, 0));
        let home = compute_for(&p, Some("5000")).expect("ok").home;
        assert_eq!(home, "/");
        let err = compute_for(&p, Some("nobody")).expect_err("unknown");
        assert!(
            matches!(&err, Error::Create { reason, message, .. }
                if *reason == CREATE_CONTAINER_ERROR
                && message == "unable to find user nobody: no matching entries in passwd file"),
            "{err:?}"
        );
        assert!(compute_for(&p, Some("nginx:staff")).is_err());
    }

    #[test]
    fn run_as_user_overrides_the_image_user_and_its_group() {
        let p = pod(
            Some(PodSecurityContext {
                run_as_user: Some(1000),
                ..PodSecurityContext::default()
            }),
            None,
        );
        let s = compute_for(&p, Some("nginx:www")).expect("ok");
        assert_eq!((s.credentials.uid, s.credentials.gid), (1000, 1000));
    }

    #[test]
    fn run_as_non_root_gives_kubelets_messages() {
        let non_root = |user: Option<i64>| {
            pod(
                Some(PodSecurityContext {
                    run_as_non_root: Some(true),
                    run_as_user: user,
                    ..PodSecurityContext::default()
                }),
                None,
            )
        };
        let message = |p: &Pod, image: Option<&str>| match compute_for(p, image) {
            Err(Error::Create {
                reason, message, ..
            }) if reason == CREATE_CONTAINER_CONFIG_ERROR => message,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            message(&non_root(None), None),
            "container has runAsNonRoot and image will run as root (pod: \"web_default(u-1)\", container: app)"
        );
        assert_eq!(
            message(&non_root(None), Some("0:0")),
            "container has runAsNonRoot and image will run as root (pod: \"web_default(u-1)\", container: app)"
        );
        assert_eq!(
            message(&non_root(None), Some("nginx")),
            "container has runAsNonRoot and image has non-numeric user (nginx), cannot verify user is non-root (pod: \"web_default(u-1)\", container: app)"
        );
        assert_eq!(
            message(&non_root(Some(0)), Some("1000")),
            "container's runAsUser breaks non-root policy (pod: \"web_default(u-1)\", container: app)"
        );
        assert!(compute_for(&non_root(None), Some("1000")).is_ok());
        assert!(compute_for(&non_root(Some(7)), None).is_ok());
    }

    fn with_caps(add: &[&str], drop: &[&str]) -> Pod {
        pod(
            None,
            Some(SecurityContext {
                capabilities: Some(peapod_spec::Capabilities {
                    add: add.iter().map(|s| (*s).to_owned()).collect(),
                    drop: drop.iter().map(|s| (*s).to_owned()).collect(),
                }),
                ..SecurityContext::default()
            }),
        )
    }

    fn caps_of(add: &[&str], drop: &[&str]) -> Capabilities {
        compute_for(&with_caps(add, drop), None)
            .expect("ok")
            .capabilities
    }

    #[test]
    fn capabilities_follow_containerds_arithmetic() {
        let default = Capabilities::container_default();
        assert_eq!(caps_of(&[], &[]).bits(), 0xa804_25fb);
        assert_eq!(
            caps_of(&["NET_ADMIN"], &["cap_chown"]),
            default
                .union(caps(&["NET_ADMIN"]))
                .without(caps(&["CHOWN"]))
        );
        assert_eq!(caps_of(&["CAP_NET_RAW"], &["ALL"]), caps(&["NET_RAW"]));
        assert_eq!(caps_of(&[], &["all"]), Capabilities::empty());
        let held = bounds().held;
        assert_eq!(caps_of(&["ALL"], &[]), held);
        assert_eq!(
            caps_of(&["ALL"], &["SYS_ADMIN"]),
            held.without(caps(&["SYS_ADMIN"]))
        );
        assert_eq!(caps_of(&["ALL", "KILL"], &["ALL"]), caps(&["KILL"]));
    }

    #[test]
    fn an_unknown_capability_is_refused_as_runc_refuses_it() {
        let err = compute_for(&with_caps(&["CAP_NOPE"], &[]), None).expect_err("refused");
        assert!(
            matches!(&err, Error::Create { reason, message, .. }
                if *reason == CREATE_CONTAINER_ERROR && message == "unknown capability \"CAP_NOPE\""),
            "{err:?}"
        );
    }

    #[test]
    fn the_default_set_is_cut_to_what_peapod_holds() {
        let p = pod(None, None);
        let image = ImageIdentity::default();
        let kill = caps(&["KILL"]);
        let held = Capabilities::container_default().without(kill);
        let bounds = CapabilityBounds {
            kernel: Capabilities::all(),
            held,
        };
        let s = PodSecurity::with_bounds(&p, bounds)
            .container(&p.spec.containers[0], &image)
            .expect("ok");
        assert_eq!(s.capabilities, held);
    }

    #[test]
    fn a_capability_peapod_does_not_hold_is_refused_by_name() {
        let err = compute_for(&with_caps(&["SYS_RESOURCE"], &[]), None).expect_err("refused");
        assert!(err.to_string().contains("CAP_SYS_RESOURCE"), "{err}");
    }

    #[test]
    fn privileged_has_every_held_capability_and_no_no_new_privs() {
        let p = pod(
            None,
            Some(SecurityContext {
                privileged: Some(true),
                ..SecurityContext::default()
            }),
        );
        let s = compute_for(&p, None).expect("ok");
        assert_eq!(s.capabilities, bounds().held);
        assert!(s.privileged && !s.no_new_privs);
    }

    #[test]
    fn no_new_privs_only_when_escalation_is_refused() {
        let escalation = |allow: Option<bool>| {
            let p = pod(
                None,
                Some(SecurityContext {
                    allow_privilege_escalation: allow,
                    ..SecurityContext::default()
                }),
            );
            compute_for(&p, None).expect("ok").no_new_privs
        };
        assert!(escalation(Some(false)));
        assert!(!escalation(Some(true)));
        assert!(!escalation(None));
    }

    #[test]
    fn apply_keeps_a_home_from_the_environment() {
        let s = compute_for(&pod(None, None), Some("app")).expect("ok");
        let mut spec = ProcessSpec::new(["sh"]);
        s.apply(&mut spec);
        assert!(spec.env.contains(&"HOME=/home/app".to_owned()));
        let mut spec = ProcessSpec::new(["sh"]);
        spec.env.push("HOME=/srv".into());
        s.apply(&mut spec);
        assert_eq!(
            spec.env.iter().filter(|e| e.starts_with("HOME=")).count(),
            1
        );
        assert_eq!(spec.user.uid, 1000);
        assert_eq!(spec.capabilities, Some(Capabilities::container_default()));
    }

    #[test]
    fn layers_are_read_top_down_and_whiteouts_hide() {
        let tmp = std::env::temp_dir().join(format!("peapod-userdb-{}", std::process::id()));
        let (top, bottom) = (tmp.join("top"), tmp.join("bottom"));
        for d in [&top, &bottom] {
            std::fs::create_dir_all(d.join("etc")).expect("mkdir");
        }
        std::fs::write(bottom.join("etc/passwd"), "old:x:5:5::/old:/bin/sh\n").expect("w");
        std::fs::write(bottom.join("etc/group"), "g:x:9:old\n").expect("w");
        std::fs::write(top.join("etc/passwd"), "new:x:6:6::/new:/bin/sh\n").expect("w");
        // A symlink in a layer is never followed.
        std::os::unix::fs::symlink("/etc/group", top.join("etc/group")).expect("symlink");
        let db = UserDb::from_layers(&[top.clone(), bottom.clone()]);
        assert_eq!(db.user_by_name("new").map(|u| u.uid), Some(6));
        assert!(db.user_by_name("old").is_none());
        assert!(db.groups.is_empty(), "{db:?}");
        std::fs::remove_file(top.join("etc/group")).expect("rm");
        let db = UserDb::from_layers(&[top, bottom]);
        assert_eq!(db.group_by_name("g").map(|g| g.gid), Some(9));
        std::fs::remove_dir_all(&tmp).expect("cleanup");
    }
}
