//! Image references and their normalisation, as docker and podman do it:
//! `busybox` is `docker.io/library/busybox:latest`, `localhost:5000/x/y@sha256:…`
//! keeps its registry and digest.

use std::fmt;

use crate::digest::Digest;
use crate::error::{Error, Result};

/// The registry of names without one.
pub const DEFAULT_REGISTRY: &str = "docker.io";

/// A normalised image reference: registry, repository path, and a tag
/// and/or a digest (a digest wins when both are given).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses and normalises a reference: adds `docker.io`, `library/` for
    /// one-component Docker Hub names, and `:latest` when neither tag nor
    /// digest is given.
    pub fn parse(input: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidReference {
            reference: input.to_string(),
            reason,
        };
        if input.is_empty() {
            return Err(invalid("empty"));
        }
        if input.len() > 4096 {
            return Err(invalid("longer than 4096 characters"));
        }
        let (name, digest) = match input.split_once('@') {
            Some((n, d)) => (
                n,
                Some(Digest::parse(d).map_err(|_| invalid("bad digest"))?),
            ),
            None => (input, None),
        };
        let (name, tag) = match name.rfind(':') {
            Some(i) if !name[i..].contains('/') => (&name[..i], Some(&name[i + 1..])),
            _ => (name, None),
        };
        if tag.is_some_and(|t| !valid_tag(t)) {
            return Err(invalid(
                "a tag is 1 to 128 of [A-Za-z0-9_.-], not starting with . or -",
            ));
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first, rest.to_string())
            }
            _ => (DEFAULT_REGISTRY, name.to_string()),
        };
        if !valid_registry(registry) {
            return Err(invalid("bad registry host"));
        }
        let registry = if registry == "index.docker.io" {
            DEFAULT_REGISTRY
        } else {
            registry
        };
        let repository = if registry == DEFAULT_REGISTRY && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        if !repository.split('/').all(valid_path_component) {
            return Err(invalid(
                "a repository name is lowercase [a-z0-9] parts separated by '.', '_', '__', '-' or '/'",
            ));
        }
        if registry.len() + repository.len() + 1 > 255 {
            return Err(invalid("name longer than 255 characters"));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, Some(_)) => None,
            (None, None) => Some("latest".to_string()),
        };
        Ok(Self {
            registry: registry.to_string(),
            repository,
            tag,
            digest,
        })
    }

    /// The registry host, with its port (`docker.io`, `localhost:5000`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path within the registry (`library/busybox`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if any.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// `registry/repository`, the name without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// What a registry's manifest endpoint takes: the digest if any, else
    /// the tag.
    pub fn manifest_key(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }

    /// This name with a digest instead of a tag (`name@sha256:…`).
    #[must_use]
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: Some(digest),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

fn valid_registry(r: &str) -> bool {
    let (host, port) = match r.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (r, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|c| c.is_ascii_digit()));
    host_ok && port_ok
}

/// `[a-z0-9]+` parts joined by one separator: `.`, `_`, `__` or dashes.
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let ch = b[i];
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            i += 1;
            continue;
        }
        let sep_len = match ch {
            b'_' if b.get(i + 1) == Some(&b'_') => 2,
            b'.' | b'_' => 1,
            b'-' => b[i..].iter().take_while(|&&x| x == b'-').count(),
            _ => return false,
        };
        i += sep_len;
        if !b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Reference::parse(s).map_or_else(|e| e.to_string(), |r| r.to_string())
    }

    #[test]
    fn short_names_get_docker_hub_library_and_latest() {
        assert_eq!(norm("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(norm("busybox:1.30.1"), "docker.io/library/busybox:1.30.1");
        assert_eq!(norm("bitnami/nginx"), "docker.io/bitnami/nginx:latest");
        assert_eq!(
            norm("index.docker.io/library/alpine:3"),
            "docker.io/library/alpine:3"
        );
    }

    #[test]
    fn registries_with_ports_and_digests_are_kept() {
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            norm(&format!("localhost:5000/x/y@{d}")),
            format!("localhost:5000/x/y@{d}")
        );
        assert_eq!(norm("localhost/x"), "localhost/x:latest");
        assert_eq!(norm("quay.io/a/b:v1"), "quay.io/a/b:v1");
        let r = Reference::parse("localhost:5000/x/y:t").unwrap();
        assert_eq!(r.registry(), "localhost:5000");
        assert_eq!(r.repository(), "x/y");
        assert_eq!(r.tag(), Some("t"));
    }

    #[test]
    fn bad_references_are_refused() {
        for bad in [
            "",
            "Busybox",
            "busybox:",
            "a//b",
            "busybox@sha256:12",
            "-x",
            "x:-t",
            "a/b..c",
            "x y",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn separators_in_path_components() {
        for good in ["a_b", "a__b", "a.b", "a---b", "a-b/c.d"] {
            assert!(Reference::parse(good).is_ok(), "{good:?} refused");
        }
    }
}
