//! Syscall names to numbers, from the `syscalls` crate's tables of every
//! architecture: the native table gives the number, the others tell a
//! name that exists elsewhere (`chown32`) from one that exists nowhere (a
//! typo, refused).

use std::str::FromStr;

#[cfg(target_arch = "aarch64")]
use syscalls::aarch64::Sysno as Native;
#[cfg(target_arch = "x86_64")]
use syscalls::x86_64::Sysno as Native;

/// Native syscalls the `syscalls` tables do not list yet.
#[cfg(target_arch = "x86_64")]
const NATIVE_EXTRA: &[(&str, i64)] = &[("uretprobe", 335)];
#[cfg(not(target_arch = "x86_64"))]
const NATIVE_EXTRA: &[(&str, i64)] = &[];

/// Names libseccomp knows that no `syscalls` table lists: ARM's private
/// calls and calls newer than the tables.
const OTHER_KNOWN: &[&str] = &[
    "breakpoint",
    "cacheflush",
    "set_tls",
    "usr26",
    "usr32",
    "uretprobe",
    "riscv_hwprobe",
    "riscv_flush_icache",
    "s390_pci_mmio_read",
    "s390_pci_mmio_write",
    "s390_runtime_instr",
    "swapcontext",
    "sync_file_range2",
    "arm_fadvise64_64",
    "arm_sync_file_range",
];

/// The number of `name` on this architecture.
pub(crate) fn native_number(name: &str) -> Option<i64> {
    Native::from_str(name)
        .ok()
        .map(|s| i64::from(s.id()))
        .or_else(|| {
            NATIVE_EXTRA
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, nr)| *nr)
        })
}

/// Whether some architecture has a syscall called `name`.
pub(crate) fn is_known(name: &str) -> bool {
    use syscalls::{
        aarch64, arm, loongarch64, mips, mips64, powerpc, powerpc64, riscv32, riscv64, s390x,
        sparc, sparc64, x86, x86_64,
    };
    native_number(name).is_some()
        || OTHER_KNOWN.contains(&name)
        || x86_64::Sysno::from_str(name).is_ok()
        || x86::Sysno::from_str(name).is_ok()
        || aarch64::Sysno::from_str(name).is_ok()
        || arm::Sysno::from_str(name).is_ok()
        || riscv64::Sysno::from_str(name).is_ok()
        || riscv32::Sysno::from_str(name).is_ok()
        || powerpc64::Sysno::from_str(name).is_ok()
        || powerpc::Sysno::from_str(name).is_ok()
        || s390x::Sysno::from_str(name).is_ok()
        || mips64::Sysno::from_str(name).is_ok()
        || mips::Sysno::from_str(name).is_ok()
        || sparc64::Sysno::from_str(name).is_ok()
        || sparc::Sysno::from_str(name).is_ok()
        || loongarch64::Sysno::from_str(name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_names_have_their_numbers() {
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(native_number("read"), Some(0));
            assert_eq!(native_number("clone3"), Some(435));
            assert_eq!(native_number("uretprobe"), Some(335));
        }
        assert_eq!(native_number("io_uring_setup"), Some(425));
    }

    #[test]
    fn names_of_other_architectures_are_known_but_not_native() {
        #[cfg(target_arch = "x86_64")]
        assert_eq!(native_number("chown32"), None);
        assert!(is_known("chown32"));
        assert!(is_known("arm_fadvise64_64"));
        assert!(!is_known("mkdri"));
    }
}
