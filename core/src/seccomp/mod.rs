//! seccomp: profiles as plain data ([`SeccompProfile`]: `RuntimeDefault`
//! or a Localhost JSON file), resolved against a container's capabilities
//! and this architecture ([`ResolvedProfile`]), compiled once to BPF
//! ([`SeccompFilter`], shared through an `Arc` by every process that uses
//! it) and installed by the spawn's child (see `spawn.rs`: right before
//! `execve` with no_new_privs, else before credentials and capabilities
//! are dropped, while the child still has CAP_SYS_ADMIN, as runc does).

mod compile;
mod default_profile;
mod profile;
mod syscall_names;

pub use compile::SeccompFilter;
pub use profile::{
    ArgCondition, ArgOp, NumberedRule, ResolvedProfile, RuleFilter, SeccompAction, SeccompProfile,
    SyscallRule,
};
