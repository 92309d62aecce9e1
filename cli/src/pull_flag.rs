//! `--pull=always|missing|never` of `apply` and `run`: podman's flag, which
//! overrides every container's `imagePullPolicy` for that command.

use peapod_spec::PullPolicy;

/// When to pull the images of the command's containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Pull {
    /// Pull every image, present or not (`imagePullPolicy: Always`).
    Always,
    /// Pull an image only when the store lacks it (`IfNotPresent`).
    Missing,
    /// Never pull: an image missing from the store is an error
    /// (`Never`; kubelet's `ErrImageNeverPull`).
    Never,
}

impl Pull {
    /// The `imagePullPolicy` it stands for.
    pub fn policy(self) -> PullPolicy {
        match self {
            Self::Always => PullPolicy::Always,
            Self::Missing => PullPolicy::IfNotPresent,
            Self::Never => PullPolicy::Never,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn podmans_words_map_to_kubernetes_policies() {
        let parse = |s| Pull::from_str(s, false).map(Pull::policy);
        assert_eq!(parse("always"), Ok(PullPolicy::Always));
        assert_eq!(parse("missing"), Ok(PullPolicy::IfNotPresent));
        assert_eq!(parse("never"), Ok(PullPolicy::Never));
        assert!(parse("newer").is_err());
    }
}
