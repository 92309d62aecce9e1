//! The seccomp profile as plain data, and its OCI/Docker JSON form (the
//! format of `localhostProfile` files and of moby's `default.json`).
//!
//! A profile names syscalls; [`SeccompProfile::resolve`] turns it into
//! numbered rules for this architecture and a container's capabilities,
//! dropping the entries whose `includes`/`excludes` do not apply, as
//! Docker and containerd do.

use crate::error::{Error, Result};
use crate::process_spec::Capabilities;
use crate::seccomp::syscall_names;

/// What the kernel does with a syscall a rule (or the default) matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SeccompAction {
    /// `SCMP_ACT_ALLOW`.
    Allow,
    /// `SCMP_ACT_LOG`: allowed and logged by the kernel.
    Log,
    /// `SCMP_ACT_TRACE`: a ptrace tracer is told, with this value.
    Trace(u32),
    /// `SCMP_ACT_ERRNO`: fails with this errno.
    Errno(u32),
    /// `SCMP_ACT_TRAP`: `SIGSYS`.
    Trap,
    /// `SCMP_ACT_KILL` and `SCMP_ACT_KILL_THREAD`.
    KillThread,
    /// `SCMP_ACT_KILL_PROCESS`.
    KillProcess,
}

/// A comparison of one syscall argument (`SCMP_CMP_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArgOp {
    /// `SCMP_CMP_NE`.
    NotEqual,
    /// `SCMP_CMP_LT`.
    LessThan,
    /// `SCMP_CMP_LE`.
    LessOrEqual,
    /// `SCMP_CMP_EQ`.
    Equal,
    /// `SCMP_CMP_GE`.
    GreaterOrEqual,
    /// `SCMP_CMP_GT`.
    GreaterThan,
    /// `SCMP_CMP_MASKED_EQ`: `arg & value == value_two`.
    MaskedEqual,
}

/// One argument condition of a rule; the conditions of a rule must all
/// hold. Arguments are compared as 64-bit values, as libseccomp does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArgCondition {
    /// Which argument, 0 to 5.
    pub index: u8,
    /// The value compared with (the mask for [`ArgOp::MaskedEqual`]).
    pub value: u64,
    /// The expected masked value for [`ArgOp::MaskedEqual`]; unused else.
    pub value_two: u64,
    /// The comparison.
    pub op: ArgOp,
}

/// When an entry applies (`includes`) or does not (`excludes`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleFilter {
    /// Capabilities by name (`CAP_SYS_ADMIN`): `includes` needs all of
    /// them, `excludes` skips the entry when the container has any.
    pub caps: Vec<String>,
    /// Architectures, as Go names them (`amd64`, `arm64`, `x86`, ...).
    pub arches: Vec<String>,
    /// `(major, minor)`: `includes` needs a kernel at least this new,
    /// `excludes` skips the entry on one at least this new.
    pub min_kernel: Option<(u32, u32)>,
}

/// One entry of `syscalls`: these names, under these conditions, get
/// this action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallRule {
    /// Syscall names.
    pub names: Vec<String>,
    /// The action.
    pub action: SeccompAction,
    /// Conditions on the arguments, all of which must hold (none: always).
    pub args: Vec<ArgCondition>,
    /// When the entry applies.
    pub includes: RuleFilter,
    /// When it does not.
    pub excludes: RuleFilter,
}

/// A seccomp profile: a default action and rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeccompProfile {
    /// What a syscall no rule matches gets.
    pub default_action: SeccompAction,
    /// The rules, in order.
    pub syscalls: Vec<SyscallRule>,
}

/// A rule for one syscall number: the action when all `args` hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NumberedRule {
    /// The syscall number on this architecture.
    pub number: i64,
    /// The action.
    pub action: SeccompAction,
    /// Conditions, all of which must hold.
    pub args: Vec<ArgCondition>,
}

/// A profile resolved for one architecture and one capability set: what
/// the BPF compiler takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedProfile {
    /// What a syscall no rule matches gets.
    pub default_action: SeccompAction,
    /// The rules that apply, by number.
    pub rules: Vec<NumberedRule>,
}

/// The architecture peapod runs on, as Go (and so profiles) name it.
const NATIVE_GO_ARCH: &str = if cfg!(target_arch = "x86_64") {
    "amd64"
} else if cfg!(target_arch = "aarch64") {
    "arm64"
} else {
    std::env::consts::ARCH
};

impl SeccompProfile {
    /// Parses a profile in the OCI/Docker JSON format. `origin` names it in
    /// errors (the file's path). Unknown fields, actions, operators and
    /// syscall names are errors, never ignored.
    pub fn from_json(origin: &str, text: &[u8]) -> Result<Self> {
        let raw: json::Profile =
            serde_json::from_slice(text).map_err(|e| profile_error(origin, e.to_string()))?;
        raw.into_profile(origin)
    }

    /// The rules that apply to a container with `caps` on this machine's
    /// architecture and kernel, by syscall number.
    ///
    /// A name this architecture does not have but another does
    /// (`chown32`, `arm_fadvise64_64`) is skipped, as libseccomp skips it;
    /// a name no architecture has is an error.
    pub fn resolve(&self, origin: &str, caps: Capabilities) -> Result<ResolvedProfile> {
        self.resolve_for(origin, caps, kernel_version())
    }

    pub(crate) fn resolve_for(
        &self,
        origin: &str,
        caps: Capabilities,
        kernel: (u32, u32),
    ) -> Result<ResolvedProfile> {
        let has_cap =
            |name: &str| Capabilities::from_name(name).is_some_and(|c| caps.union(c) == caps);
        let mut rules = Vec::new();
        for (i, rule) in self.syscalls.iter().enumerate() {
            let inc = &rule.includes;
            let exc = &rule.excludes;
            let applies = !exc.arches.iter().any(|a| is_native_arch(a))
                && !exc.caps.iter().any(|c| has_cap(c))
                && exc.min_kernel.is_none_or(|min| kernel < min)
                && (inc.arches.is_empty() || inc.arches.iter().any(|a| is_native_arch(a)))
                && inc.caps.iter().all(|c| has_cap(c))
                && inc.min_kernel.is_none_or(|min| kernel >= min);
            if !applies {
                continue;
            }
            for name in &rule.names {
                match syscall_names::native_number(name) {
                    Some(number) => rules.push(NumberedRule {
                        number,
                        action: rule.action,
                        args: rule.args.clone(),
                    }),
                    None if syscall_names::is_known(name) => {}
                    None => {
                        return Err(profile_error(
                            origin,
                            format!("syscalls[{i}].names: unknown syscall {name:?}"),
                        ));
                    }
                }
            }
        }
        Ok(ResolvedProfile {
            default_action: self.default_action,
            rules,
        })
    }
}

fn is_native_arch(name: &str) -> bool {
    name == NATIVE_GO_ARCH || name == std::env::consts::ARCH
}

/// `(major, minor)` of the running kernel; `(0, 0)` if unreadable, so a
/// `minKernel` entry is left out rather than wrongly allowed.
fn kernel_version() -> (u32, u32) {
    let uname = rustix::system::uname();
    let release = uname.release().to_string_lossy();
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor),
        _ => (0, 0),
    }
}

pub(crate) fn profile_error(origin: &str, reason: impl Into<String>) -> Error {
    Error::Seccomp {
        profile: origin.to_owned(),
        reason: reason.into(),
    }
}

/// The JSON form, as runc, Docker and the kubelet's `localhostProfile`
/// files write it.
mod json {
    use serde::Deserialize;

    use super::{
        ArgCondition, ArgOp, Result, RuleFilter, SeccompAction, SeccompProfile, SyscallRule,
        profile_error,
    };

    const EPERM: u32 = 1;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub(super) struct Profile {
        default_action: String,
        default_errno_ret: Option<u32>,
        architectures: Option<Vec<String>>,
        arch_map: Option<Vec<ArchMap>>,
        syscalls: Option<Vec<Syscall>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct ArchMap {
        architecture: String,
        sub_architectures: Option<Vec<String>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Syscall {
        name: Option<String>,
        names: Option<Vec<String>>,
        action: String,
        errno_ret: Option<u32>,
        args: Option<Vec<Arg>>,
        comment: Option<String>,
        includes: Option<Filter>,
        excludes: Option<Filter>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Arg {
        index: u32,
        value: u64,
        #[serde(default)]
        value_two: u64,
        op: String,
    }

    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Filter {
        caps: Option<Vec<String>>,
        arches: Option<Vec<String>>,
        min_kernel: Option<String>,
    }

    /// The architectures a profile may name (`SCMP_ARCH_*`).
    const ARCHES: &[&str] = &[
        "SCMP_ARCH_X86",
        "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X32",
        "SCMP_ARCH_ARM",
        "SCMP_ARCH_AARCH64",
        "SCMP_ARCH_MIPS",
        "SCMP_ARCH_MIPS64",
        "SCMP_ARCH_MIPS64N32",
        "SCMP_ARCH_MIPSEL",
        "SCMP_ARCH_MIPSEL64",
        "SCMP_ARCH_MIPSEL64N32",
        "SCMP_ARCH_PPC",
        "SCMP_ARCH_PPC64",
        "SCMP_ARCH_PPC64LE",
        "SCMP_ARCH_S390",
        "SCMP_ARCH_S390X",
        "SCMP_ARCH_PARISC",
        "SCMP_ARCH_PARISC64",
        "SCMP_ARCH_RISCV64",
        "SCMP_ARCH_LOONGARCH64",
        "SCMP_ARCH_M68K",
        "SCMP_ARCH_SH",
        "SCMP_ARCH_SHEB",
    ];

    impl Profile {
        pub(super) fn into_profile(self, origin: &str) -> Result<SeccompProfile> {
            let err =
                |field: String, reason: String| profile_error(origin, format!("{field}: {reason}"));
            let arch_names = self
                .architectures
                .iter()
                .flatten()
                .map(|a| ("architectures", a))
                .chain(self.arch_map.iter().flatten().flat_map(|m| {
                    std::iter::once(("archMap", &m.architecture))
                        .chain(m.sub_architectures.iter().flatten().map(|a| ("archMap", a)))
                }));
            for (field, arch) in arch_names {
                if !ARCHES.contains(&arch.as_str()) {
                    return Err(err(field.into(), format!("unknown architecture {arch:?}")));
                }
            }
            let default_action = action(&self.default_action, self.default_errno_ret)
                .map_err(|r| err("defaultAction".into(), r))?;
            let mut syscalls = Vec::new();
            for (i, s) in self.syscalls.into_iter().flatten().enumerate() {
                let at = |field: &str| format!("syscalls[{i}].{field}");
                let _ = s.comment;
                let names: Vec<String> = s.names.into_iter().flatten().chain(s.name).collect();
                if names.is_empty() {
                    return Err(err(at("names"), "no syscall named".into()));
                }
                let action = action(&s.action, s.errno_ret).map_err(|r| err(at("action"), r))?;
                let mut args = Vec::new();
                for (j, a) in s.args.into_iter().flatten().enumerate() {
                    let index =
                        u8::try_from(a.index)
                            .ok()
                            .filter(|i| *i <= 5)
                            .ok_or_else(|| {
                                err(
                                    at(&format!("args[{j}].index")),
                                    format!("{} is not 0 to 5", a.index),
                                )
                            })?;
                    let op = op(&a.op).map_err(|r| err(at(&format!("args[{j}].op")), r))?;
                    args.push(ArgCondition {
                        index,
                        value: a.value,
                        value_two: a.value_two,
                        op,
                    });
                }
                let includes = filter(s.includes.unwrap_or_default())
                    .map_err(|r| err(at("includes.minKernel"), r))?;
                let excludes = filter(s.excludes.unwrap_or_default())
                    .map_err(|r| err(at("excludes.minKernel"), r))?;
                syscalls.push(SyscallRule {
                    names,
                    action,
                    args,
                    includes,
                    excludes,
                });
            }
            Ok(SeccompProfile {
                default_action,
                syscalls,
            })
        }
    }

    fn action(name: &str, errno_ret: Option<u32>) -> std::result::Result<SeccompAction, String> {
        Ok(match name {
            "SCMP_ACT_ALLOW" => SeccompAction::Allow,
            "SCMP_ACT_LOG" => SeccompAction::Log,
            "SCMP_ACT_ERRNO" => SeccompAction::Errno(errno_ret.unwrap_or(EPERM)),
            "SCMP_ACT_TRACE" => SeccompAction::Trace(errno_ret.unwrap_or(EPERM)),
            "SCMP_ACT_TRAP" => SeccompAction::Trap,
            "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => SeccompAction::KillThread,
            "SCMP_ACT_KILL_PROCESS" => SeccompAction::KillProcess,
            "SCMP_ACT_NOTIFY" => {
                return Err(
                    "SCMP_ACT_NOTIFY is not supported (peapod has no seccomp agent)".into(),
                );
            }
            other => return Err(format!("unknown action {other:?}")),
        })
    }

    fn op(name: &str) -> std::result::Result<ArgOp, String> {
        Ok(match name {
            "SCMP_CMP_NE" => ArgOp::NotEqual,
            "SCMP_CMP_LT" => ArgOp::LessThan,
            "SCMP_CMP_LE" => ArgOp::LessOrEqual,
            "SCMP_CMP_EQ" => ArgOp::Equal,
            "SCMP_CMP_GE" => ArgOp::GreaterOrEqual,
            "SCMP_CMP_GT" => ArgOp::GreaterThan,
            "SCMP_CMP_MASKED_EQ" => ArgOp::MaskedEqual,
            other => return Err(format!("unknown operator {other:?}")),
        })
    }

    fn filter(f: Filter) -> std::result::Result<RuleFilter, String> {
        let min_kernel = f
            .min_kernel
            .map(|v| {
                let mut parts = v.split('.').map(str::parse::<u32>);
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(Ok(major)), Some(Ok(minor)), None) => Ok((major, minor)),
                    _ => Err(format!("{v:?} is not MAJOR.MINOR")),
                }
            })
            .transpose()?;
        Ok(RuleFilter {
            caps: f.caps.unwrap_or_default(),
            arches: f.arches.unwrap_or_default(),
            min_kernel,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<SeccompProfile> {
        SeccompProfile::from_json("/p/deny.json", json.as_bytes())
    }

    fn error(json: &str) -> String {
        let profile = parse(json).and_then(|p| {
            p.resolve_for("/p/deny.json", Capabilities::container_default(), (6, 18))
        });
        profile.expect_err("refused").to_string()
    }

    #[test]
    fn docker_json_parses_with_names_args_includes_and_excludes() {
        let p = parse(
            r#"{"defaultAction": "SCMP_ACT_ERRNO",
                "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
                "syscalls": [
                  {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "comment": "",
                   "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
                   "includes": {}, "excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390x"]}},
                  {"name": "ptrace", "action": "SCMP_ACT_ALLOW", "args": null, "includes": {"minKernel": "4.8"}}
                ]}"#,
        )
        .expect("parse");
        assert_eq!(p.default_action, SeccompAction::Errno(1));
        assert_eq!(p.syscalls[0].args[0].op, ArgOp::MaskedEqual);
        assert_eq!(p.syscalls[0].excludes.caps, ["CAP_SYS_ADMIN"]);
        assert_eq!(p.syscalls[1].names, ["ptrace"]);
        assert_eq!(p.syscalls[1].includes.min_kernel, Some((4, 8)));
        // Excluded with CAP_SYS_ADMIN; too old a kernel leaves ptrace out.
        let resolved = p
            .resolve_for("x", Capabilities::all(), (4, 4))
            .expect("resolve");
        assert!(resolved.rules.is_empty(), "{resolved:?}");
        let resolved = p
            .resolve_for("x", Capabilities::container_default(), (4, 8))
            .expect("resolve");
        assert_eq!(resolved.rules.len(), 2);
    }

    #[test]
    fn malformed_json_names_the_file_and_the_line() {
        let e = error("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [\n}");
        assert!(e.starts_with("seccomp profile /p/deny.json: "), "{e}");
        assert!(e.contains("line 4"), "{e}");
    }

    #[test]
    fn unknown_actions_operators_fields_and_syscalls_are_errors() {
        for (json, want) in [
            (
                r#"{"defaultAction": "SCMP_ACT_MAYBE"}"#,
                r#"defaultAction: unknown action "SCMP_ACT_MAYBE""#,
            ),
            (
                r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}"#,
                "syscalls[0].action: SCMP_ACT_NOTIFY is not supported",
            ),
            (
                r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]}"#,
                r#"syscalls[0].args[0].op: unknown operator "SCMP_CMP_ABOUT""#,
            ),
            (
                r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#,
                "syscalls[0].args[0].index: 6 is not 0 to 5",
            ),
            (
                r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdri"], "action": "SCMP_ACT_ERRNO"}]}"#,
                r#"syscalls[0].names: unknown syscall "mkdri""#,
            ),
            (
                r#"{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock"}"#,
                "unknown field `listenerPath`",
            ),
            (
                r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]}"#,
                r#"architectures: unknown architecture "SCMP_ARCH_Z80""#,
            ),
            (
                r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "five"}}]}"#,
                r#"syscalls[0].includes.minKernel: "five" is not MAJOR.MINOR"#,
            ),
            (r#"{"syscalls": []}"#, "missing field `defaultAction`"),
        ] {
            let e = error(json);
            assert!(e.contains(want), "{json}\n{e}");
            assert!(e.starts_with("seccomp profile /p/deny.json: "), "{e}");
        }
    }

    #[test]
    fn runtime_default_names_all_exist_somewhere() {
        // Resolving checks every name the default profile lists.
        SeccompProfile::runtime_default()
            .resolve_for("RuntimeDefault", Capabilities::all(), (6, 18))
            .expect("every name known");
        let allowed = SeccompProfile::runtime_default()
            .resolve_for("RuntimeDefault", Capabilities::container_default(), (6, 18))
            .expect("resolve")
            .rules
            .iter()
            .filter(|r| r.action == SeccompAction::Allow && r.args.is_empty())
            .map(|r| r.number)
            .collect::<std::collections::BTreeSet<_>>();
        // About 370 names, minus those of other architectures.
        assert!((300..400).contains(&allowed.len()), "{}", allowed.len());
    }
}
