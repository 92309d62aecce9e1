//! Which seccomp filter each container of a pod gets, compiled once per
//! distinct profile and capability set, and kept for `exec`.
//!
//! The choice, as Kubernetes and containerd make it: the container's
//! `securityContext.seccompProfile` wins over the pod's; with neither,
//! `RuntimeDefault` (as podman and Docker do; a kubelet does only with
//! `--seccomp-default`); `Unconfined` opts out; `privileged: true` gets no
//! filter even with a profile set (containerd skips seccomp for a
//! privileged container). A `Localhost` profile is a JSON file named
//! relative to `<lib>/seccomp` (`/var/lib/peapod/seccomp`, as a kubelet's
//! `<root>/seccomp`); a missing, unreadable or malformed one stops the
//! container with `CreateContainerError` naming the file and the reason,
//! never an unconfined start.
//!
//! Each created container's filter is written to its folder
//! (`<run>/mounts/<uid>/containers/<name>/seccomp.bpf`, on a tmpfs), so `peapod exec`
//! installs exactly what the container got, even if the profile file
//! changed since, without compiling again.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use peapod_core::{Capabilities, SeccompFilter, SeccompProfile};
use peapod_spec::SeccompProfileType;

use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::security_context::{CREATE_CONTAINER_ERROR, ProcessSecurity};

/// The profile a container runs under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Choice {
    /// No filter.
    Unconfined,
    /// moby's default profile.
    RuntimeDefault,
    /// `localhostProfile`, as written (relative to the profile root).
    Localhost(Option<String>),
}

/// The choice for a process whose security is `security` (the
/// container's `seccompProfile`, else the pod's, already merged there).
pub(crate) fn choice(security: &ProcessSecurity) -> Choice {
    if security.privileged {
        return Choice::Unconfined;
    }
    match security
        .seccomp_profile
        .as_ref()
        .map(|p| (p.type_, &p.localhost_profile))
    {
        None | Some((SeccompProfileType::RuntimeDefault, _)) => Choice::RuntimeDefault,
        Some((SeccompProfileType::Unconfined, _)) => Choice::Unconfined,
        Some((SeccompProfileType::Localhost, file)) => Choice::Localhost(file.clone()),
    }
}

/// `<lib>/seccomp`: where `localhostProfile` names are looked up.
pub fn profile_root(paths: &Paths) -> PathBuf {
    paths.lib.join("seccomp")
}

/// A compiled filter (`None`: unconfined), or why there is none.
type Compiled = std::result::Result<Option<Arc<SeccompFilter>>, String>;

/// Filters compiled for one pod, by (profile, capabilities): every
/// container and every restart with the same pair shares one.
#[derive(Debug, Default)]
pub(crate) struct FilterCache {
    root: PathBuf,
    compiled: HashMap<(Choice, u64), Compiled>,
}

impl FilterCache {
    /// A cache whose Localhost profiles are under [`profile_root`].
    pub(crate) fn new(paths: &Paths) -> Self {
        Self {
            root: profile_root(paths),
            compiled: HashMap::new(),
        }
    }

    /// The filter of a process of `container` with `security` (`None`:
    /// unconfined), compiled on first use. A profile that cannot be used
    /// is kubelet's `CreateContainerError`, with `seccomp profile FILE:
    /// REASON`.
    pub(crate) fn filter(
        &mut self,
        container: &str,
        security: &ProcessSecurity,
    ) -> Result<Option<Arc<SeccompFilter>>> {
        let caps = security.capabilities;
        let root = &self.root;
        self.compiled
            .entry((choice(security), caps.bits()))
            .or_insert_with_key(|(choice, _)| compile(root, choice, caps))
            .clone()
            .map_err(|message| Error::Create {
                container: container.to_owned(),
                reason: CREATE_CONTAINER_ERROR,
                message,
            })
    }
}

fn compile(root: &Path, choice: &Choice, caps: Capabilities) -> Compiled {
    let (origin, profile) = match choice {
        Choice::Unconfined => return Ok(None),
        Choice::RuntimeDefault => (
            "RuntimeDefault".to_owned(),
            SeccompProfile::runtime_default(),
        ),
        Choice::Localhost(name) => {
            let path = localhost_path(root, name.as_deref())?;
            let origin = path.display().to_string();
            let text =
                std::fs::read(&path).map_err(|e| format!("seccomp profile {origin}: {e}"))?;
            let profile = SeccompProfile::from_json(&origin, &text).map_err(|e| e.to_string())?;
            (origin, profile)
        }
    };
    let resolved = profile.resolve(&origin, caps).map_err(|e| e.to_string())?;
    let filter = SeccompFilter::compile(&origin, &resolved).map_err(|e| e.to_string())?;
    Ok(Some(Arc::new(filter)))
}

/// `root/name`, for a relative `name` that stays below `root` (as the
/// Kubernetes API requires of `localhostProfile`), or `name` itself when
/// it is absolute: the CRI's `localhost_ref` is the host path a kubelet
/// resolved under its own seccomp root, as containerd reads it. A
/// manifest cannot carry an absolute name (spec validation refuses it as
/// the API server does), so only a CRI caller reaches that branch.
fn localhost_path(root: &Path, name: Option<&str>) -> std::result::Result<PathBuf, String> {
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return Err("seccomp profile: type Localhost needs localhostProfile".into());
    };
    let relative = Path::new(name);
    if relative.is_absolute() {
        return Ok(relative.to_path_buf());
    }
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "seccomp profile {name}: localhostProfile must be a relative path below {} without \"..\"",
            root.display()
        ));
    }
    Ok(root.join(relative))
}

/// Where a created container's filter is kept for `exec`.
pub(crate) fn exec_record(container_dir: &Path) -> PathBuf {
    container_dir.join("seccomp.bpf")
}

/// Writes `filter` (`None`: unconfined) to the container's record. The
/// first start writes it in place (one new inode, no rename: nothing can
/// `exec` into a container before it has started); a restart, when an
/// `exec` may be reading the old record, goes through a temporary file
/// and a rename.
pub(crate) fn write_exec_record(
    container_dir: &Path,
    filter: Option<&SeccompFilter>,
) -> std::io::Result<()> {
    use std::io::Write as _;
    let bytes = filter.map_or_else(
        || SeccompFilter::unconfined().to_bytes(),
        SeccompFilter::to_bytes,
    );
    let path = exec_record(container_dir);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(mut file) => return file.write_all(&bytes),
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
        Err(_) => {}
    }
    let tmp = path.with_extension("bpf.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, &path)
}

/// The filter the running container got, for `exec` into it.
pub(crate) fn read_exec_record(
    container: &str,
    container_dir: &Path,
) -> Result<Option<Arc<SeccompFilter>>> {
    let path = exec_record(container_dir);
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let filter = SeccompFilter::from_bytes(&path.display().to_string(), &bytes)
        .map_err(|e| Error::container(container, e))?;
    Ok((!filter.is_unconfined()).then(|| Arc::new(filter)))
}

#[cfg(test)]
mod tests {
    use peapod_core::Credentials;
    use peapod_spec::{ProcMountType, SeccompProfile as ProfileField};

    use super::*;

    fn security(profile: Option<(SeccompProfileType, &str)>) -> ProcessSecurity {
        ProcessSecurity {
            credentials: Credentials::default(),
            home: "/".into(),
            capabilities: Capabilities::container_default(),
            no_new_privs: false,
            privileged: false,
            read_only_root_filesystem: false,
            proc_mount: ProcMountType::Default,
            seccomp_profile: profile.map(|(type_, file)| ProfileField {
                type_,
                localhost_profile: Some(file.to_owned()).filter(|f| !f.is_empty()),
            }),
        }
    }

    #[test]
    fn runtime_default_unless_a_profile_says_otherwise() {
        assert_eq!(choice(&security(None)), Choice::RuntimeDefault);
        let unconfined = security(Some((SeccompProfileType::Unconfined, "")));
        assert_eq!(choice(&unconfined), Choice::Unconfined);
        let local = security(Some((SeccompProfileType::Localhost, "deny.json")));
        assert_eq!(choice(&local), Choice::Localhost(Some("deny.json".into())));
    }

    #[test]
    fn exec_record_is_written_in_place_then_replaced_on_restart() {
        let dir = std::env::temp_dir().join(format!("peapod-exec-record-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let names = || -> Vec<_> {
            std::fs::read_dir(&dir)
                .expect("read dir")
                .map(|e| e.expect("entry").file_name())
                .collect()
        };
        // First start, then a restart over the existing record: either way
        // the one file reads back, and no temporary file stays.
        for _ in 0..2 {
            write_exec_record(&dir, None).expect("write");
            assert!(read_exec_record("c", &dir).expect("read").is_none());
            assert_eq!(names(), ["seccomp.bpf"]);
        }
        std::fs::remove_dir_all(&dir).expect("clean");
    }

    #[test]
    fn privileged_gets_no_filter_even_with_a_profile() {
        let mut s = security(Some((SeccompProfileType::RuntimeDefault, "")));
        s.privileged = true;
        assert_eq!(choice(&s), Choice::Unconfined);
    }

    #[test]
    fn relative_names_stay_below_the_profile_root_and_the_cris_absolute_ref_is_taken() {
        let root = Path::new("/var/lib/peapod/seccomp");
        assert_eq!(
            localhost_path(root, Some("profiles/deny.json")).expect("path"),
            root.join("profiles/deny.json")
        );
        assert_eq!(
            localhost_path(root, Some("/var/lib/kubelet/seccomp/deny.json")).expect("path"),
            Path::new("/var/lib/kubelet/seccomp/deny.json")
        );
        for bad in ["../deny.json", "a/../../b.json"] {
            let e = localhost_path(root, Some(bad)).expect_err(bad);
            assert!(e.contains("must be a relative path"), "{e}");
        }
        assert!(localhost_path(root, None).is_err());
    }

    #[test]
    fn one_compilation_per_profile_and_capability_set() {
        let mut cache = FilterCache::new(&Paths::under(Path::new("/nonexistent")));
        let a = cache
            .filter("a", &security(None))
            .expect("a")
            .expect("filter");
        let b = cache
            .filter("b", &security(None))
            .expect("b")
            .expect("filter");
        assert!(Arc::ptr_eq(&a, &b));
        let mut admin = security(None);
        admin.capabilities = Capabilities::all();
        let c = cache.filter("c", &admin).expect("c").expect("filter");
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(cache.compiled.len(), 2);
    }

    #[test]
    fn a_missing_localhost_profile_is_a_create_container_error_naming_the_file() {
        let mut cache = FilterCache::new(&Paths::under(Path::new("/nonexistent")));
        let local = security(Some((SeccompProfileType::Localhost, "nope.json")));
        let e = cache.filter("a", &local).expect_err("missing");
        assert_eq!(
            e.to_string(),
            "container \"a\": CreateContainerError: seccomp profile /nonexistent/lib/seccomp/nope.json: No such file or directory (os error 2)"
        );
    }
}
