//! The device cgroup of cgroup v2: a `BPF_PROG_TYPE_CGROUP_DEVICE`
//! program built from the same [`DeviceRule`]s v1 writes to
//! `devices.allow`, loaded and attached to the container's cgroup (as runc
//! does on v2). The program reads the access (`type | access << 16`),
//! major and minor of `struct bpf_cgroup_dev_ctx` and returns 1 (allow)
//! at the first rule that matches, 0 (deny) after the last.

use std::os::fd::AsFd;
use std::path::Path;

use super::DeviceRule;
use crate::error::{Error, Result};

/// `BPF_DEVCG_DEV_BLOCK`, `BPF_DEVCG_DEV_CHAR`.
fn kind_code(kind: char) -> Option<i32> {
    match kind {
        'b' => Some(1),
        'c' => Some(2),
        _ => None,
    }
}

/// `BPF_DEVCG_ACC_MKNOD | _READ | _WRITE` of an `rwm` string.
fn access_code(access: &str) -> i32 {
    access.chars().fold(0, |acc, c| match c {
        'm' => acc | 1,
        'r' => acc | 2,
        'w' => acc | 4,
        _ => acc,
    })
}

/// One `struct bpf_insn` as a little-endian u64 (`code`, `dst:4 src:4`,
/// `off`, `imm`).
fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> u64 {
    u64::from(code)
        | u64::from((dst & 0xf) | ((src & 0xf) << 4)) << 8
        | u64::from(off.cast_unsigned()) << 16
        | u64::from(imm.cast_unsigned()) << 32
}

const LDX_W: u8 = 0x61; // r_dst = *(u32 *)(r_src + off)
const AND_K: u8 = 0x57; // r_dst &= imm (64-bit)
const RSH_K: u8 = 0x77; // r_dst >>= imm
const MOV_X: u8 = 0xbf; // r_dst = r_src
const MOV_K: u8 = 0xb7; // r_dst = imm
const JNE_K: u8 = 0x55; // if r_dst != imm goto +off
const EXIT: u8 = 0x95;

/// The program allowing exactly `rules` (runc's `devicefilter`).
pub(crate) fn program(rules: &[DeviceRule]) -> Vec<u64> {
    let mut p = vec![
        insn(LDX_W, 2, 1, 0, 0),      // r2 = access_type
        insn(AND_K, 2, 0, 0, 0xffff), // r2 = device type
        insn(LDX_W, 3, 1, 0, 0),
        insn(RSH_K, 3, 0, 0, 16), // r3 = access asked
        insn(LDX_W, 4, 1, 4, 0),  // r4 = major
        insn(LDX_W, 5, 1, 8, 0),  // r5 = minor
    ];
    for rule in rules {
        // Checks, each jumping past the rule's block when it fails.
        let mut checks: Vec<(u8, u8, u8, i32)> = Vec::new();
        if let Some(kind) = kind_code(rule.kind) {
            checks.push((JNE_K, 2, 0, kind));
        }
        let allowed = access_code(rule.access);
        if allowed != 7 {
            // Any access bit outside the rule's: r1 = r3 & !allowed.
            checks.push((MOV_X, 1, 3, 0));
            checks.push((AND_K, 1, 0, !allowed));
            checks.push((JNE_K, 1, 0, 0));
        }
        if let Some(major) = rule.major.and_then(|m| i32::try_from(m).ok()) {
            checks.push((JNE_K, 4, 0, major));
        }
        if let Some(minor) = rule.minor.and_then(|m| i32::try_from(m).ok()) {
            checks.push((JNE_K, 5, 0, minor));
        }
        let block = checks.len() + 2;
        for (i, (code, dst, src, imm)) in checks.into_iter().enumerate() {
            let off = if code == JNE_K {
                // To the first instruction after the block.
                i16::try_from(block - i - 1).unwrap_or(i16::MAX)
            } else {
                0
            };
            p.push(insn(code, dst, src, off, imm));
        }
        p.push(insn(MOV_K, 0, 0, 0, 1));
        p.push(insn(EXIT, 0, 0, 0, 0));
    }
    p.push(insn(MOV_K, 0, 0, 0, 0));
    p.push(insn(EXIT, 0, 0, 0, 0));
    p
}

/// Loads the program of `rules` and attaches it to the v2 cgroup `dir`.
pub(super) fn attach(dir: &Path, rules: &[DeviceRule]) -> Result<()> {
    use rustix::fs::{CWD, Mode, OFlags};
    let insns = program(rules);
    let prog = crate::sys::bpf::load_device_program(&insns, c"Apache-2.0").map_err(|e| {
        Error::cgroup(
            dir,
            std::io::Error::other(format!("load the device filter (bpf): {e}")),
        )
    })?;
    let cgroup = rustix::fs::openat(
        CWD,
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::cgroup(dir, e.into()))?;
    crate::sys::bpf::attach_device_program(cgroup.as_fd(), prog.as_fd()).map_err(|e| {
        Error::cgroup(
            dir,
            std::io::Error::other(format!("attach the device filter (bpf): {e}")),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::DEFAULT_ALLOWED_DEVICES;

    /// Runs the program on one request, as the kernel would: a tiny
    /// interpreter of the instructions `program` emits.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "fields masked to their width"
    )]
    fn run(p: &[u64], kind: i64, access: i64, major: i64, minor: i64) -> i64 {
        let mut r = [0i64; 11];
        let ctx = [kind | (access << 16), major, minor];
        let mut pc = 0;
        loop {
            let i = p[pc];
            let code = (i & 0xff) as u8;
            let dst = ((i >> 8) & 0xf) as usize;
            let src = ((i >> 12) & 0xf) as usize;
            let off = (((i >> 16) & 0xffff) as u16).cast_signed();
            let imm = i64::from(((i >> 32) as u32).cast_signed());
            pc += 1;
            match code {
                LDX_W => r[dst] = ctx[usize::try_from(off / 4).expect("field offset")],
                AND_K => r[dst] &= imm,
                RSH_K => r[dst] >>= imm,
                MOV_X => r[dst] = r[src],
                MOV_K => r[dst] = imm,
                JNE_K => {
                    if r[dst] != imm {
                        pc += usize::try_from(off).expect("forward jump");
                    }
                }
                EXIT => return r[0],
                other => panic!("opcode {other:#x}"),
            }
        }
    }

    #[test]
    fn default_program_allows_runcs_devices_and_mknod_only() {
        let prog = program(DEFAULT_ALLOWED_DEVICES);
        let (chr, blk) = (2, 1);
        let (mknod, read, write) = (1, 2, 4);
        assert_eq!(
            run(&prog, chr, read | write, 1, 3),
            1,
            "read/write /dev/null"
        );
        assert_eq!(run(&prog, chr, read, 136, 7), 1, "a pty");
        assert_eq!(run(&prog, chr, mknod, 1, 11), 1, "mknod of anything");
        assert_eq!(run(&prog, blk, mknod, 8, 0), 1, "mknod of a disk");
        assert_eq!(run(&prog, chr, read, 1, 11), 0, "read /dev/kmsg");
        assert_eq!(run(&prog, blk, read, 8, 0), 0, "read a disk");
        assert_eq!(run(&prog, chr, read | mknod, 1, 1), 0, "/dev/mem");
        assert_eq!(run(&prog, chr, write, 10, 229), 1, "fuse");
    }

    #[test]
    fn no_rules_deny_everything() {
        let p = program(&[]);
        assert_eq!(run(&p, 2, 2, 1, 3), 0);
    }
}
