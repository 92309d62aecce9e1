//! A pod's sysctls (`spec.securityContext.sysctls`): written by the
//! pause's child after it made the pod's namespaces and before it execs,
//! so they hold in the pod's net and IPC namespaces before any container
//! runs, and never on the host. Which names are allowed (the namespaced
//! ones) is `peapod-spec`'s validation; here a name only has to make a
//! path below `/proc/sys`.

use std::ffi::CString;
use std::os::fd::AsFd;

use rustix::fs::{CWD, Mode, OFlags};
use rustix::io::Errno;

use crate::error::{Error, Result};

/// The `/proc/sys` file of sysctl `name`, written with dots
/// (`net.ipv4.ip_unprivileged_port_start`) or slashes
/// (`net/ipv4/conf/eth0.100/forwarding`), as Kubernetes takes both: with
/// dots, a slash stands for a dot inside one component.
pub fn sysctl_path(name: &str) -> Result<String> {
    let refuse = |why: &str| Error::invalid(format!("sysctl {name:?}"), why);
    let dotted = name
        .find(['.', '/'])
        .is_none_or(|i| name[i..].starts_with('.'));
    let path: String = if dotted {
        name.chars()
            .map(|c| match c {
                '.' => '/',
                '/' => '.',
                c => c,
            })
            .collect()
    } else {
        name.to_owned()
    };
    if path.is_empty()
        || path
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(refuse("not a sysctl name"));
    }
    if path.contains('\0') {
        return Err(refuse("holds a NUL byte"));
    }
    Ok(format!("/proc/sys/{path}"))
}

/// Whether the file of `path` belongs to a namespace the pause makes: the
/// IPC ones (`kernel.shm*`, `kernel.msg*`, `kernel.sem`, `fs.mqueue.*`)
/// always, `net.*` unless the pod is on the host's network. A write to
/// any other would change the host.
fn in_pod_namespace(path: &str, host_network: bool) -> bool {
    let Some(rel) = path.strip_prefix("/proc/sys/") else {
        return false;
    };
    let ipc = rel == "kernel/sem"
        || rel.starts_with("kernel/shm")
        || rel.starts_with("kernel/msg")
        || rel.starts_with("fs/mqueue/");
    ipc || (!host_network && rel.starts_with("net/"))
}

/// Each `(name, value)` as the `(path, value)` the child writes; a sysctl
/// outside the pod's namespaces is refused.
pub(crate) fn compile(
    sysctls: &[(String, String)],
    host_network: bool,
) -> Result<Vec<(CString, CString)>> {
    sysctls
        .iter()
        .map(|(name, value)| {
            let path = sysctl_path(name)?;
            if !in_pod_namespace(&path, host_network) {
                return Err(Error::invalid(
                    format!("sysctl {name:?}"),
                    "not in the pod's namespaces: it would change the host",
                ));
            }
            let path =
                CString::new(path).map_err(|_| Error::invalid("sysctl", "holds a NUL byte"))?;
            let value = CString::new(value.as_bytes()).map_err(|_| {
                Error::invalid(format!("sysctl {name:?}"), "value holds a NUL byte")
            })?;
            Ok((path, value))
        })
        .collect()
}

/// In the child: writes each value to its file. The namespaces of the
/// calling process decide which `net`/`kernel.shm*`/`fs.mqueue` tables
/// the files are. Allocation-free.
pub(crate) fn write(path: &CString, value: &CString) -> rustix::io::Result<()> {
    let fd = rustix::fs::openat(
        CWD,
        path.as_c_str(),
        OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
    )?;
    let bytes = value.as_bytes();
    let written = rustix::io::write(fd.as_fd(), bytes)?;
    if written == bytes.len() {
        Ok(())
    } else {
        Err(Errno::IO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_and_slashed_names_make_the_same_kind_of_path() {
        for (name, path) in [
            (
                "net.ipv4.ip_unprivileged_port_start",
                "net/ipv4/ip_unprivileged_port_start",
            ),
            (
                "net.ipv4.conf.eth0/100.forwarding",
                "net/ipv4/conf/eth0.100/forwarding",
            ),
            (
                "net/ipv4/conf/eth0.100/forwarding",
                "net/ipv4/conf/eth0.100/forwarding",
            ),
            ("kernel.sem", "kernel/sem"),
        ] {
            assert_eq!(sysctl_path(name).expect(name), format!("/proc/sys/{path}"));
        }
    }

    #[test]
    fn names_that_climb_or_are_empty_are_refused() {
        for bad in ["", "net..ipv4", "net/../../etc", "kernel.", ".kernel"] {
            assert!(sysctl_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_with_nul_are_refused() {
        let err = compile(&[("kernel.sem".into(), "1\0".into())], false).expect_err("refused");
        assert!(err.to_string().contains("kernel.sem"), "{err}");
    }

    #[test]
    fn only_sysctls_of_the_pods_namespaces_compile() {
        let one = |name: &str, host_network| compile(&[(name.into(), "1".into())], host_network);
        for ok in [
            "kernel.shm_rmid_forced",
            "kernel.msgmax",
            "kernel.sem",
            "fs.mqueue.msg_max",
        ] {
            one(ok, true).expect(ok);
        }
        one("net.ipv4.ip_unprivileged_port_start", false).expect("own netns");
        let err = one("net.ipv4.ip_forward", true).expect_err("host network");
        assert!(err.to_string().contains("host"), "{err}");
        for host in [
            "kernel.panic",
            "vm.overcommit_memory",
            "fs.file-max",
            "kernel.semx/../panic",
        ] {
            assert!(one(host, false).is_err(), "{host}");
        }
    }
}
