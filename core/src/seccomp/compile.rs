//! A resolved profile to BPF programs, with `seccompiler`.
//!
//! A seccompiler filter has one action for a match and one for no match,
//! so a profile with several actions becomes a stack of filters; the
//! kernel runs every filter of a process and keeps the most restrictive
//! result (kill > trap > errno > trace > log > allow):
//! - one filter per action other than allow: its rules give that action,
//!   anything else is allowed;
//! - for the default action (left out when the default is allow): every
//!   syscall number with any rule allowed, the default for the rest,
//!   through a dispatch on the number to buckets of 16 `JEQ`s (written
//!   here, not by seccompiler, whose one-after-the-other chain of 4
//!   instructions a syscall the kernel emulates for every number when it
//!   prepares a filter, in every container: +0.9 ms a container for
//!   RuntimeDefault, now +0.14 ms); and, when some rules have argument
//!   conditions, a seccompiler filter of those numbers only, which allows
//!   every other.
//!
//! A syscall that matches a rule of action A gets A from A's filter and
//! allow from every other; one that matches no rule gets the default.
//!
//! ## Other ABIs
//! Only the native ABI passes. seccompiler's filters kill the process on
//! any other audit architecture (i386 `int 0x80` or a 32-bit binary), as
//! libseccomp does for an architecture a profile does not list; and on
//! x86_64 the first filter also kills on x32 syscall numbers (bit 30 set),
//! which share x86_64's audit architecture: without that, an x32 call
//! would slip past a profile that allows by default. Docker and
//! containerd allow i386 and x32 through their own tables; peapod does
//! not (a smaller kernel surface, and 32-bit containers are rare).

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter as Filter,
    SeccompRule, TargetArch, sock_filter,
};

use crate::error::Result;
use crate::seccomp::profile::{ArgCondition, ArgOp, ResolvedProfile, SeccompAction, profile_error};

/// A profile compiled to the BPF programs to install, in order. Share it
/// (`Arc`) between every process that uses the same profile.
#[derive(Clone, PartialEq, Eq)]
pub struct SeccompFilter {
    /// Where the profile came from (`RuntimeDefault`, a file's path).
    origin: String,
    programs: Vec<BpfProgram>,
}

impl std::fmt::Debug for SeccompFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeccompFilter")
            .field("origin", &self.origin)
            .field(
                "instructions",
                &self.programs.iter().map(Vec::len).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl SeccompFilter {
    /// Compiles `profile` for this machine's architecture. `origin` names
    /// the profile in errors and in `Debug`.
    pub fn compile(origin: &str, profile: &ResolvedProfile) -> Result<Self> {
        let arch = TargetArch::try_from(std::env::consts::ARCH)
            .map_err(|e| profile_error(origin, e.to_string()))?;
        let mut by_action: BTreeMap<SeccompAction, Chains> = BTreeMap::new();
        let mut any_rule = Chains::new();
        for rule in &profile.rules {
            let conditions = rule
                .args
                .iter()
                .map(condition)
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| profile_error(origin, e.to_string()))?;
            let seccomp_rule = if conditions.is_empty() {
                None
            } else {
                Some(
                    SeccompRule::new(conditions)
                        .map_err(|e| profile_error(origin, e.to_string()))?,
                )
            };
            if rule.action != SeccompAction::Allow {
                add(
                    by_action.entry(rule.action).or_default(),
                    rule.number,
                    seccomp_rule.clone(),
                );
            }
            add(&mut any_rule, rule.number, seccomp_rule);
        }
        let seccompiler = |rules: Chains, on_match, otherwise| {
            Filter::new(
                for_backend(rules),
                backend(otherwise),
                backend(on_match),
                arch,
            )
            .and_then(BpfProgram::try_from)
            .map_err(|e| profile_error(origin, e.to_string()))
        };
        let mut programs = Vec::new();
        if profile.default_action != SeccompAction::Allow {
            // The default filter: every number with a rule passes a short
            // list of comparisons (1 instruction a syscall); the few with
            // argument conditions are judged by seccompiler in a second
            // filter that lets every other number through.
            let arch_check =
                seccompiler(Chains::new(), SeccompAction::Allow, profile.default_action)?;
            let numbers: Vec<i64> = any_rule.keys().copied().collect();
            programs.push(allow_list(
                &arch_check[..3],
                &numbers,
                profile.default_action,
            ));
            let conditional: Chains = any_rule
                .into_iter()
                .filter(|(_, chain)| chain.is_some())
                .collect();
            if !conditional.is_empty() {
                let judged: Vec<i64> = conditional.keys().copied().collect();
                let mut program =
                    seccompiler(conditional, SeccompAction::Allow, profile.default_action)?;
                only_for(&mut program, &judged);
                programs.push(program);
            }
        }
        for (action, rules) in by_action {
            programs.push(seccompiler(rules, action, SeccompAction::Allow)?);
        }
        if let Some(first) = programs.first_mut() {
            refuse_x32(first);
        }
        Ok(Self {
            origin: origin.to_owned(),
            programs,
        })
    }

    /// Where the profile came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The programs, in the order they are installed.
    pub(crate) fn programs(&self) -> &[BpfProgram] {
        &self.programs
    }

    /// How many BPF instructions each program has.
    pub fn instruction_counts(&self) -> Vec<usize> {
        self.programs.iter().map(Vec::len).collect()
    }

    /// The filter as bytes, for [`SeccompFilter::from_bytes`]: so a later
    /// `exec` installs exactly what the container got, without compiling
    /// again. A magic line, the origin, then each program (length, then
    /// 8-byte instructions), little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        let put = |n: usize, out: &mut Vec<u8>| {
            out.extend(u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
        };
        put(self.origin.len(), &mut out);
        out.extend(self.origin.as_bytes());
        put(self.programs.len(), &mut out);
        for program in &self.programs {
            put(program.len(), &mut out);
            for i in program {
                out.extend(i.code.to_le_bytes());
                out.extend([i.jt, i.jf]);
                out.extend(i.k.to_le_bytes());
            }
        }
        out
    }

    /// Reads what [`SeccompFilter::to_bytes`] wrote; `what` names the
    /// bytes (a file) in the error.
    pub fn from_bytes(what: &str, bytes: &[u8]) -> Result<Self> {
        let bad = || profile_error(what, "not a compiled seccomp filter");
        let mut rest = bytes.strip_prefix(MAGIC).ok_or_else(bad)?;
        let mut take = |n: usize| -> Result<&[u8]> {
            let (head, tail) = rest.split_at_checked(n).ok_or_else(bad)?;
            rest = tail;
            Ok(head)
        };
        let len = |b: &[u8]| -> usize {
            let mut n = [0u8; 4];
            n.copy_from_slice(b);
            usize::try_from(u32::from_le_bytes(n)).unwrap_or(usize::MAX)
        };
        let n = len(take(4)?);
        let origin = String::from_utf8(take(n)?.to_vec()).map_err(|_| bad())?;
        let programs_len = len(take(4)?);
        let mut programs = Vec::new();
        for _ in 0..programs_len {
            let n = len(take(4)?);
            if n == 0 || n > 4096 {
                return Err(bad());
            }
            let raw = take(n.checked_mul(8).ok_or_else(bad)?)?;
            programs.push(
                raw.chunks_exact(8)
                    .map(|c| sock_filter {
                        code: u16::from_le_bytes([c[0], c[1]]),
                        jt: c[2],
                        jf: c[3],
                        k: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
                    })
                    .collect(),
            );
        }
        if !rest.is_empty() {
            return Err(bad());
        }
        Ok(Self { origin, programs })
    }

    /// No program at all: what `Unconfined` stores for `exec`.
    pub fn unconfined() -> Self {
        Self {
            origin: "Unconfined".to_owned(),
            programs: Vec::new(),
        }
    }

    /// Whether this filter installs nothing.
    pub fn is_unconfined(&self) -> bool {
        self.programs.is_empty()
    }
}

/// The first bytes of [`SeccompFilter::to_bytes`].
const MAGIC: &[u8] = b"peapod seccomp filter v1\n";

/// Rules by syscall number; `None`: every call matches (no condition).
type Chains = BTreeMap<i64, Option<Vec<SeccompRule>>>;

/// Adds a rule for `number` (`None`: unconditional, which wins over any
/// conditional rule of the same number).
fn add(chains: &mut Chains, number: i64, rule: Option<SeccompRule>) {
    let chain = chains.entry(number).or_insert_with(|| Some(Vec::new()));
    match (chain, rule) {
        (chain @ Some(_), None) => *chain = None,
        (Some(rules), Some(rule)) => rules.push(rule),
        (None, _) => {}
    }
}

/// seccompiler's form: an empty chain matches every call.
fn for_backend(chains: Chains) -> BTreeMap<i64, Vec<SeccompRule>> {
    chains
        .into_iter()
        .map(|(number, chain)| (number, chain.unwrap_or_default()))
        .collect()
}

fn condition(c: &ArgCondition) -> std::result::Result<SeccompCondition, seccompiler::BackendError> {
    let (op, value) = match c.op {
        ArgOp::NotEqual => (SeccompCmpOp::Ne, c.value),
        ArgOp::LessThan => (SeccompCmpOp::Lt, c.value),
        ArgOp::LessOrEqual => (SeccompCmpOp::Le, c.value),
        ArgOp::Equal => (SeccompCmpOp::Eq, c.value),
        ArgOp::GreaterOrEqual => (SeccompCmpOp::Ge, c.value),
        ArgOp::GreaterThan => (SeccompCmpOp::Gt, c.value),
        ArgOp::MaskedEqual => (SeccompCmpOp::MaskedEq(c.value), c.value_two),
    };
    SeccompCondition::new(c.index, SeccompCmpArgLen::Qword, op, value)
}

fn backend(action: SeccompAction) -> seccompiler::SeccompAction {
    use seccompiler::SeccompAction as B;
    match action {
        SeccompAction::Allow => B::Allow,
        SeccompAction::Log => B::Log,
        SeccompAction::Trace(v) => B::Trace(v),
        SeccompAction::Errno(e) => B::Errno(e),
        SeccompAction::Trap => B::Trap,
        SeccompAction::KillThread => B::KillThread,
        SeccompAction::KillProcess => B::KillProcess,
    }
}

const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JA: u16 = 0x05;
const BPF_JEQ_K: u16 = 0x05 | 0x10;
const BPF_JGE_K: u16 = 0x05 | 0x30;
const BPF_RET_K: u16 = 0x06;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// Numbers a bucket of [`allow_list`] compares one by one.
const BUCKET: usize = 16;

/// A program that allows `numbers` (sorted) and gives `otherwise` to the
/// rest: `arch_check` (seccompiler's 3 instructions), then a dispatch on
/// the number (`JGE` the first number of each bucket of [`BUCKET`],
/// highest first, through `JA` trampolines, as jumps on a comparison
/// reach 255 instructions at most) to a bucket of one `JEQ` a number,
/// each to the bucket's `RET ALLOW`, the default after them.
///
/// seccompiler spends 4 instructions a syscall, one after the other: the
/// kernel, preparing a filter in every container, emulates it for every
/// syscall number to cache which are always allowed, so a long chain
/// cost ~0.9 ms a container for RuntimeDefault; here each number walks
/// about 40 instructions.
fn allow_list(arch_check: &[sock_filter], numbers: &[i64], otherwise: SeccompAction) -> BpfProgram {
    let k = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    let buckets: Vec<&[i64]> = numbers.chunks(BUCKET).collect();
    let nb = buckets.len().max(1);
    let mut program = arch_check.to_vec();
    program.push(insn(BPF_LD_W_ABS, 0, 0, 0));
    // Offsets from the dispatch's start: the JGEs of buckets nb-1 .. 1,
    // the JA to bucket 0, the trampolines of buckets nb-1 .. 1, buckets.
    let mut starts = Vec::with_capacity(nb);
    let mut at = 2 * nb - 1;
    for bucket in &buckets {
        starts.push(at);
        at += bucket.len() + 2;
    }
    let to_trampoline = u8::try_from(nb - 1).unwrap_or(u8::MAX);
    for b in (1..buckets.len()).rev() {
        program.push(insn(BPF_JGE_K, to_trampoline, 0, k(buckets[b][0])));
    }
    let ja = |from: usize, to: usize| insn(BPF_JA, 0, 0, u32::try_from(to - from - 1).unwrap_or(0));
    program.push(ja(nb - 1, starts.first().copied().unwrap_or(nb)));
    for b in (1..buckets.len()).rev() {
        program.push(ja(nb + (nb - 1 - b), starts[b]));
    }
    for bucket in &buckets {
        for (j, &number) in bucket.iter().enumerate() {
            let to_allow = u8::try_from(bucket.len() - j).unwrap_or(u8::MAX);
            program.push(insn(BPF_JEQ_K, to_allow, 0, k(number)));
        }
        program.push(insn(BPF_RET_K, 0, 0, u32::from(backend(otherwise))));
        program.push(insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW));
    }
    if buckets.is_empty() {
        program.push(insn(BPF_RET_K, 0, 0, u32::from(backend(otherwise))));
    }
    program
}

/// Makes seccompiler's `program` allow every number but `judged`:
/// inserted right after its architecture check (3 instructions),
/// self-contained, so no jump of the rest changes.
fn only_for(program: &mut BpfProgram, judged: &[i64]) {
    let k = judged.len();
    let mut check = vec![insn(BPF_LD_W_ABS, 0, 0, 0)];
    for (i, &number) in judged.iter().enumerate() {
        // Past the RET ALLOW below, into the filter.
        let past_allow = u8::try_from(k - i).unwrap_or(u8::MAX);
        check.push(insn(
            BPF_JEQ_K,
            past_allow,
            0,
            u32::try_from(number).unwrap_or(u32::MAX),
        ));
    }
    check.push(insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW));
    program.splice(3..3, check);
}

/// Inserts, right after seccompiler's architecture check (3
/// instructions: load arch, compare, kill), a kill for x32 syscall
/// numbers. Every jump of seccompiler's program is relative and none
/// crosses this point, so the rest is unchanged.
fn refuse_x32(program: &mut BpfProgram) {
    const BPF_LD_W_ABS: u16 = 0x20;
    const BPF_JGE_K: u16 = 0x05 | 0x30;
    const BPF_RET_K: u16 = 0x06;
    const SECCOMP_DATA_NR: u32 = 0;
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
    if !cfg!(target_arch = "x86_64") || program.len() < 3 {
        return;
    }
    let insn = |code, jt, jf, k| sock_filter { code, jt, jf, k };
    program.splice(
        3..3,
        [
            insn(BPF_LD_W_ABS, 0, 0, SECCOMP_DATA_NR),
            insn(BPF_JGE_K, 0, 1, X32_SYSCALL_BIT),
            insn(BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process_spec::Capabilities;
    use crate::seccomp::profile::SeccompProfile;

    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    const AUDIT_ARCH_I386: u32 = 0x4000_0003;
    const ALLOW: u32 = 0x7fff_0000;
    const KILL_PROCESS: u32 = 0x8000_0000;
    const fn errno(e: u32) -> u32 {
        0x0005_0000 | e
    }

    /// A classic-BPF interpreter for the instructions seccompiler emits,
    /// over `struct seccomp_data` (nr, arch, ip, args).
    fn run(program: &[sock_filter], nr: u32, arch: u32, args: [u64; 6]) -> u32 {
        let mut data = vec![nr, arch, 0, 0];
        for a in args {
            #[allow(clippy::cast_possible_truncation)]
            data.extend([a as u32, (a >> 32) as u32]);
        }
        let (mut acc, mut pc) = (0u32, 0usize);
        loop {
            let i = &program[pc];
            pc += 1;
            let jump = |taken: bool| usize::from(if taken { i.jt } else { i.jf });
            match i.code {
                0x20 => acc = data[i.k as usize / 4],
                0x54 => acc &= i.k,
                0x05 => pc += i.k as usize,
                0x15 => pc += jump(acc == i.k),
                0x25 => pc += jump(acc > i.k),
                0x35 => pc += jump(acc >= i.k),
                0x45 => pc += jump(acc & i.k != 0),
                0x06 => return i.k,
                other => panic!("instruction {other:#x} not interpreted"),
            }
        }
    }

    /// What the kernel returns for a stack: the most restrictive action
    /// (lowest as a signed number), the newest filter winning ties.
    #[allow(clippy::cast_possible_wrap)]
    fn verdict(filter: &SeccompFilter, nr: i64, arch: u32, args: [u64; 6]) -> u32 {
        let nr = u32::try_from(nr).expect("syscall number");
        filter
            .programs()
            .iter()
            .rev()
            .map(|p| run(p, nr, arch, args))
            .fold(ALLOW, |best, r| {
                if ((r & 0xffff_0000) as i32) < ((best & 0xffff_0000) as i32) {
                    r
                } else {
                    best
                }
            })
    }

    fn nr(name: &str) -> i64 {
        crate::seccomp::syscall_names::native_number(name).expect("native syscall")
    }

    fn default_for(caps: Capabilities) -> SeccompFilter {
        let profile = SeccompProfile::runtime_default()
            .resolve_for("RuntimeDefault", caps, (6, 18))
            .expect("resolve");
        SeccompFilter::compile("RuntimeDefault", &profile).expect("compile")
    }

    fn call(filter: &SeccompFilter, name: &str, args: [u64; 6]) -> u32 {
        verdict(filter, nr(name), AUDIT_ARCH_X86_64, args)
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn runtime_default_refuses_what_moby_refuses_to_an_ordinary_container() {
        let f = default_for(Capabilities::container_default());
        let none = [0; 6];
        for allowed in [
            "read",
            "write",
            "execve",
            "close_range",
            "setresuid",
            "capset",
            "prctl",
        ] {
            assert_eq!(call(&f, allowed, none), ALLOW, "{allowed}");
        }
        for refused in [
            "mount",
            "umount2",
            "unshare",
            "setns",
            "keyctl",
            "add_key",
            "bpf",
            "perf_event_open",
            "io_uring_setup",
            "io_uring_enter",
            "io_uring_register",
            "init_module",
            "finit_module",
            "kexec_load",
            "reboot",
            "open_by_handle_at",
            "sethostname",
        ] {
            assert_eq!(call(&f, refused, none), errno(1), "{refused}");
        }
        // CAP_SYS_CHROOT is in the default set.
        assert_eq!(call(&f, "chroot", none), ALLOW);
        assert_eq!(call(&f, "clone3", none), errno(38));
        let clone_newns = [0x0002_0011, 0, 0, 0, 0, 0];
        assert_eq!(call(&f, "clone", clone_newns), errno(1));
        assert_eq!(call(&f, "clone", [0x0120_0011, 0, 0, 0, 0, 0]), ALLOW);
        // moby's list of families: every one the kernel has but AF_ALG
        // (38) and AF_VSOCK (40); 0 and removed ones refused.
        let allowed = |f: u64| matches!(f, 1..=11 | 13..=18 | 21 | 22 | 24 | 26..=33 | 35 | 36 | 39 | 41..=45);
        for family in 0..64_u64 {
            let want = if allowed(family) { ALLOW } else { errno(1) };
            let got = call(&f, "socket", [family, 1, 0, 0, 0, 0]);
            assert_eq!(got, want, "AF {family}");
        }
        // The upper 32 bits count: no family hides behind them.
        assert_eq!(call(&f, "socket", [0x1_0000_0002, 1, 0, 0, 0, 0]), errno(1));
        for (persona, want) in [
            (0, ALLOW),
            (8, ALLOW),
            (0xffff_ffff, ALLOW),
            (0x0040_0000, errno(1)),
        ] {
            assert_eq!(
                call(&f, "personality", [persona, 0, 0, 0, 0, 0]),
                want,
                "{persona:#x}"
            );
        }
        // ptrace: allowed on kernels from 4.8 (the syscall; the kernel's
        // own checks still apply).
        assert_eq!(call(&f, "ptrace", none), ALLOW);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn runtime_default_opens_the_groups_of_the_capabilities_a_container_has() {
        let caps = |names: &[&str]| {
            names
                .iter()
                .filter_map(|n| Capabilities::from_name(n))
                .fold(Capabilities::container_default(), Capabilities::union)
        };
        let none = [0; 6];
        let admin = default_for(caps(&["SYS_ADMIN"]));
        for name in [
            "mount",
            "umount2",
            "unshare",
            "setns",
            "sethostname",
            "bpf",
            "perf_event_open",
            "clone3",
        ] {
            assert_eq!(call(&admin, name, none), ALLOW, "{name} with SYS_ADMIN");
        }
        assert_eq!(call(&admin, "clone", [0x0002_0011, 0, 0, 0, 0, 0]), ALLOW);
        let module = default_for(caps(&["SYS_MODULE"]));
        assert_eq!(call(&module, "finit_module", none), ALLOW);
        assert_eq!(call(&module, "mount", none), errno(1));
        let bpf = default_for(caps(&["BPF", "PERFMON"]));
        assert_eq!(call(&bpf, "bpf", none), ALLOW);
        assert_eq!(call(&bpf, "perf_event_open", none), ALLOW);
        let no_chroot = default_for(
            Capabilities::container_default()
                .without(Capabilities::from_name("SYS_CHROOT").expect("cap")),
        );
        assert_eq!(call(&no_chroot, "chroot", none), errno(1));
        // Even CAP_SYS_ADMIN does not open io_uring or keyctl.
        assert_eq!(call(&admin, "io_uring_setup", none), errno(1));
        assert_eq!(call(&admin, "keyctl", none), errno(1));
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn other_abis_are_killed() {
        let f = default_for(Capabilities::container_default());
        // i386 (`int 0x80`, 32-bit binaries): seccompiler's arch check.
        assert_eq!(verdict(&f, 3, AUDIT_ARCH_I386, [0; 6]), KILL_PROCESS);
        // x32: x86_64's audit arch with bit 30 in the number.
        assert_eq!(
            verdict(&f, 0x4000_0000, AUDIT_ARCH_X86_64, [0; 6]),
            KILL_PROCESS
        );
        // Even under a profile that allows by default.
        let allow_all = SeccompProfile::from_json(
            "p.json",
            br#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#,
        )
        .expect("parse")
        .resolve_for("p.json", Capabilities::empty(), (6, 18))
        .expect("resolve");
        let f = SeccompFilter::compile("p.json", &allow_all).expect("compile");
        assert_eq!(
            verdict(&f, 0x4000_0053, AUDIT_ARCH_X86_64, [0; 6]),
            KILL_PROCESS
        );
        assert_eq!(call(&f, "mkdir", [0; 6]), errno(1));
        assert_eq!(call(&f, "mkdirat", [0; 6]), ALLOW);
    }

    #[test]
    fn filter_round_trips_through_bytes_and_refuses_garbage() {
        let f = default_for(Capabilities::container_default());
        let back = SeccompFilter::from_bytes("f.bpf", &f.to_bytes()).expect("read back");
        assert_eq!(back, f);
        let none = SeccompFilter::unconfined();
        let back = SeccompFilter::from_bytes("f.bpf", &none.to_bytes()).expect("read back");
        assert!(back.is_unconfined());
        let bytes = f.to_bytes();
        for broken in [&bytes[..bytes.len() - 1], &bytes[1..], b"{}".as_slice()] {
            let e = SeccompFilter::from_bytes("f.bpf", broken).expect_err("broken");
            assert_eq!(
                e.to_string(),
                "seccomp profile f.bpf: not a compiled seccomp filter"
            );
        }
    }

    #[test]
    fn runtime_default_is_short_and_clone3_has_a_filter_of_its_own() {
        let plain = default_for(Capabilities::container_default());
        let admin = default_for(Capabilities::all());
        assert_eq!(plain.instruction_counts().len(), 3, "{plain:?}");
        assert_eq!(admin.instruction_counts().len(), 2, "{admin:?}");
        // seccompiler alone made ~1,600 instructions of it.
        let total: usize = plain.instruction_counts().iter().sum();
        assert!(total < 800, "{plain:?}");
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn every_syscall_number_without_arguments_gets_its_rules_verdict() {
        let profile = SeccompProfile::runtime_default()
            .resolve_for("RuntimeDefault", Capabilities::container_default(), (6, 18))
            .expect("resolve");
        let f = SeccompFilter::compile("RuntimeDefault", &profile).expect("compile");
        for nr in 0..600_u32 {
            let rules: Vec<_> = profile
                .rules
                .iter()
                .filter(|r| r.number == i64::from(nr))
                .collect();
            let want = if rules
                .iter()
                .any(|r| r.args.is_empty() && r.action == SeccompAction::Allow)
            {
                ALLOW
            } else if rules.iter().any(|r| r.action == SeccompAction::Errno(38)) {
                errno(38)
            } else if rules.is_empty() {
                errno(1)
            } else {
                continue; // argument rules: checked by name above
            };
            let got = verdict(&f, i64::from(nr), AUDIT_ARCH_X86_64, [0; 6]);
            assert_eq!(got, want, "nr {nr}");
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn localhost_actions_args_and_masked_eq_compile_as_written() {
        let json = br#"{
            "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [
              {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
              {"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS"},
              {"names": ["getpid"], "action": "SCMP_ACT_TRAP"},
              {"names": ["openat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
               "args": [{"index": 2, "value": 3, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]},
              {"names": ["openat"], "action": "SCMP_ACT_ALLOW"},
              {"names": ["lseek"], "action": "SCMP_ACT_ALLOW",
               "args": [{"index": 2, "value": 2, "op": "SCMP_CMP_LE"}]},
              {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
              {"names": ["chown32"], "action": "SCMP_ACT_ALLOW"}
            ]}"#;
        let profile = SeccompProfile::from_json("p.json", json)
            .expect("parse")
            .resolve_for("p.json", Capabilities::container_default(), (6, 18))
            .expect("resolve");
        let f = SeccompFilter::compile("p.json", &profile).expect("compile");
        assert_eq!(call(&f, "read", [0; 6]), ALLOW);
        assert_eq!(call(&f, "getppid", [0; 6]), errno(38));
        assert_eq!(call(&f, "kill", [0; 6]), KILL_PROCESS);
        assert_eq!(call(&f, "getpid", [0; 6]), 0x0003_0000);
        // O_WRONLY (1) and O_RDWR (2) masked by 3: write access refused.
        assert_eq!(call(&f, "openat", [0, 0, 1, 0, 0, 0]), errno(13));
        assert_eq!(call(&f, "openat", [0, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(call(&f, "openat", [0, 0, 2, 0, 0, 0]), ALLOW);
        assert_eq!(call(&f, "lseek", [0, 0, 2, 0, 0, 0]), ALLOW);
        assert_eq!(call(&f, "lseek", [0, 0, 3, 0, 0, 0]), errno(38));
        assert_eq!(call(&f, "mount", [0; 6]), errno(38));
    }
}
