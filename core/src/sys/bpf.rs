//! `bpf(2)` for the device cgroup of cgroup v2: load a
//! `BPF_PROG_TYPE_CGROUP_DEVICE` program and attach it to a cgroup.
//! Neither rustix nor nix wraps `bpf`; the attribute unions are filled
//! as zeroed byte buffers at the kernel's fixed offsets
//! (`include/uapi/linux/bpf.h`).

use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use rustix::io::Errno;

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Several programs on one cgroup and its ancestors, all of which must
/// allow: what runc and systemd use, so an ancestor's program never makes
/// the attach fail.
const BPF_F_ALLOW_MULTI: u32 = 2;

/// Bytes of `union bpf_attr` passed: as far as these two commands read it.
const ATTR_SIZE: libc::c_uint = 128;

/// `union bpf_attr`, 8-aligned.
#[repr(C, align(8))]
struct Attr([u8; ATTR_SIZE as usize]);

impl Attr {
    fn new() -> Self {
        Self([0; ATTR_SIZE as usize])
    }

    fn u32_at(&mut self, offset: usize, value: u32) {
        self.0[offset..offset + 4].copy_from_slice(&value.to_ne_bytes());
    }

    fn u64_at(&mut self, offset: usize, value: u64) {
        self.0[offset..offset + 8].copy_from_slice(&value.to_ne_bytes());
    }

    fn call(&mut self, cmd: libc::c_long) -> rustix::io::Result<libc::c_long> {
        // SAFETY: `self` is a valid, zero-padded `union bpf_attr` of 128
        // bytes whose pointer fields (set by the callers) point at data
        // that outlives the call; the kernel reads at most `size` bytes.
        let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd, self.0.as_mut_ptr(), ATTR_SIZE) };
        if ret < 0 {
            Err(super::last_errno())
        } else {
            Ok(ret)
        }
    }
}

/// Loads a cgroup device program (`insns`, each one `struct bpf_insn` as a
/// u64) and returns its fd.
pub(crate) fn load_device_program(insns: &[u64], license: &CStr) -> rustix::io::Result<OwnedFd> {
    let mut attr = Attr::new();
    attr.u32_at(0, BPF_PROG_TYPE_CGROUP_DEVICE);
    attr.u32_at(4, u32::try_from(insns.len()).map_err(|_| Errno::TOOBIG)?);
    attr.u64_at(8, insns.as_ptr() as u64);
    attr.u64_at(16, license.as_ptr() as u64);
    attr.u32_at(68, BPF_CGROUP_DEVICE); // expected_attach_type
    let fd = attr.call(BPF_PROG_LOAD)?;
    let fd = i32::try_from(fd).map_err(|_| Errno::BADF)?;
    // SAFETY: a successful BPF_PROG_LOAD returns a new fd that nothing
    // else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Attaches program `prog` to the cgroup whose folder `cgroup` is.
pub(crate) fn attach_device_program(
    cgroup: BorrowedFd<'_>,
    prog: BorrowedFd<'_>,
) -> rustix::io::Result<()> {
    let mut attr = Attr::new();
    attr.u32_at(0, cgroup.as_raw_fd().cast_unsigned());
    attr.u32_at(4, prog.as_raw_fd().cast_unsigned());
    attr.u32_at(8, BPF_CGROUP_DEVICE);
    attr.u32_at(12, BPF_F_ALLOW_MULTI);
    attr.call(BPF_PROG_ATTACH).map(|_| ())
}
