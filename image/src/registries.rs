//! Where a reference is pulled from: the registries configuration, in the
//! containers-registries.conf(5) version 2 format that podman, buildah,
//! skopeo and CRI-O read, so a host's existing file (or a copy of it)
//! serves peapod too.
//!
//! ```toml
//! [[registry]]
//! prefix = "docker.io"              # which references this entry is for
//! location = "docker.io"            # where they live (default: prefix)
//! insecure = false                  # plain HTTP
//! blocked = false                   # refuse to pull them
//! [[registry.mirror]]
//! location = "mirror.internal:5000/hub"
//! insecure = true
//! pull-from-mirror = "all"          # or "digest-only", "tag-only"
//! ```
//!
//! The entry of the longest matching prefix (`host[:port][/path]`, or
//! `*.domain` for its subdomains) applies: its mirrors are tried in order,
//! then its location. The image is stored under the name the pod gave,
//! whichever source served it.
//!
//! peapod resolves a short name (`busybox`) to `docker.io` as Kubernetes
//! does, so `unqualified-search-registries` must be absent or begin with
//! `docker.io`, and `[aliases]` is refused; `short-name-mode` has nothing
//! to decide then and is accepted. Any other key is refused: a setting
//! peapod would not follow is never silently accepted.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::reference::{DEFAULT_REGISTRY, Reference};

/// The parsed configuration: the `[[registry]]` entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registries {
    entries: Vec<Entry>,
}

/// One place to try for a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The reference as this source names it.
    pub reference: Reference,
    /// Plain HTTP.
    pub insecure: bool,
    /// A mirror, not the registry itself.
    pub mirror: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    prefix: String,
    location: String,
    insecure: bool,
    blocked: bool,
    mirrors: Vec<Mirror>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Mirror {
    location: String,
    insecure: bool,
    pull_from: PullFromMirror,
}

/// Which references a mirror serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum PullFromMirror {
    All,
    DigestOnly,
    TagOnly,
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    #[serde(default)]
    unqualified_search_registries: Option<Vec<String>>,
    #[serde(default)]
    short_name_mode: Option<String>,
    #[serde(default)]
    registry: Vec<RegistryTable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RegistryTable {
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    blocked: bool,
    #[serde(default)]
    mirror_by_digest_only: bool,
    #[serde(default)]
    mirror: Vec<MirrorTable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct MirrorTable {
    location: String,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    pull_from_mirror: Option<PullFromMirror>,
}

impl Registries {
    /// Reads the configuration at `path`; none (no mirrors, every registry
    /// as itself) when the file does not exist.
    pub fn read(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::io("read", path, e)),
        }
    }

    /// Parses the text of the file `file` (named in errors).
    pub fn parse(text: &str, file: &str) -> Result<Self> {
        let bad = |message: String| Error::Config {
            file: file.to_string(),
            message,
        };
        let parsed: File = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        if let Some(search) = &parsed.unqualified_search_registries
            && search.first().is_some_and(|r| r != DEFAULT_REGISTRY)
        {
            return Err(bad(format!(
                "unqualified-search-registries = {search:?}: peapod resolves a short name \
                 to {DEFAULT_REGISTRY} as Kubernetes does; the list must be absent or begin \
                 with \"{DEFAULT_REGISTRY}\" (a [[registry]] with prefix = \"{DEFAULT_REGISTRY}\" \
                 and a mirror pulls short names from elsewhere)"
            )));
        }
        if let Some(mode) = &parsed.short_name_mode
            && !matches!(mode.as_str(), "enforcing" | "permissive" | "disabled")
        {
            return Err(bad(format!(
                "short-name-mode = {mode:?}: expected \"enforcing\", \"permissive\" or \"disabled\""
            )));
        }
        let mut entries = Vec::new();
        for (i, r) in parsed.registry.into_iter().enumerate() {
            let at = |field: &str| format!("registry[{i}].{field}");
            let prefix = match (r.prefix, &r.location) {
                (Some(p), _) => p,
                (None, Some(l)) => l.clone(),
                (None, None) => {
                    return Err(bad(format!(
                        "{}: prefix or location is required",
                        at("prefix")
                    )));
                }
            };
            check_location(prefix.strip_prefix("*.").unwrap_or(&prefix))
                .map_err(|m| bad(format!("{} = {prefix:?}: {m}", at("prefix"))))?;
            let wildcard = prefix.starts_with("*.");
            if wildcard && (r.location.is_some() || !r.mirror.is_empty()) {
                return Err(bad(format!(
                    "{}: a wildcard prefix ({prefix:?}) takes no location and, in peapod, no mirrors",
                    at("location")
                )));
            }
            let location = r.location.unwrap_or_else(|| prefix.clone());
            check_location(&location)
                .map_err(|m| bad(format!("{} = {location:?}: {m}", at("location"))))?;
            let mut mirrors = Vec::new();
            for (j, m) in r.mirror.into_iter().enumerate() {
                check_location(&m.location).map_err(|e| {
                    bad(format!(
                        "{} = {:?}: {e}",
                        at(&format!("mirror[{j}].location")),
                        m.location
                    ))
                })?;
                let pull_from = m.pull_from_mirror.unwrap_or(if r.mirror_by_digest_only {
                    PullFromMirror::DigestOnly
                } else {
                    PullFromMirror::All
                });
                mirrors.push(Mirror {
                    location: m.location,
                    insecure: m.insecure,
                    pull_from,
                });
            }
            entries.push(Entry {
                prefix,
                location,
                insecure: r.insecure,
                blocked: r.blocked,
                mirrors,
            });
        }
        Ok(Self { entries })
    }

    /// Where to pull `reference` from, in order: the mirrors of its entry
    /// that serve it, then its registry. A blocked registry is an error.
    pub fn sources(&self, reference: &Reference) -> Result<Vec<Source>> {
        let name = reference.name();
        let Some(entry) = self
            .entries
            .iter()
            .filter(|e| e.matches(&name, reference.registry()))
            .max_by_key(|e| e.prefix.len())
        else {
            return Ok(vec![Source {
                reference: reference.clone(),
                insecure: false,
                mirror: false,
            }]);
        };
        if entry.blocked {
            return Err(Error::Registry {
                registry: reference.registry().to_string(),
                code: "BLOCKED".to_string(),
                message: format!(
                    "pulling {reference} is blocked by the registries configuration (prefix {:?})",
                    entry.prefix
                ),
            });
        }
        let by_digest = reference.digest().is_some();
        let mut out = Vec::new();
        for m in &entry.mirrors {
            let serves = match m.pull_from {
                PullFromMirror::All => true,
                PullFromMirror::DigestOnly => by_digest,
                PullFromMirror::TagOnly => !by_digest,
            };
            if serves {
                out.push(Source {
                    reference: entry.rewrite(reference, &m.location)?,
                    insecure: m.insecure,
                    mirror: true,
                });
            }
        }
        out.push(Source {
            reference: entry.rewrite(reference, &entry.location)?,
            insecure: entry.insecure,
            mirror: false,
        });
        Ok(out)
    }
}

impl Entry {
    /// Whether the prefix covers `name` (`registry/repository`): equal,
    /// or followed by a `/`; a `*.domain` prefix covers its subdomains.
    fn matches(&self, name: &str, registry: &str) -> bool {
        if let Some(domain) = self.prefix.strip_prefix("*.") {
            let host = registry.split(':').next().unwrap_or(registry);
            return host
                .strip_suffix(domain)
                .is_some_and(|sub| sub.ends_with('.'));
        }
        name == self.prefix
            || name
                .strip_prefix(self.prefix.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    }

    /// `reference` with this entry's prefix replaced by `location`.
    fn rewrite(&self, reference: &Reference, location: &str) -> Result<Reference> {
        if self.prefix.starts_with("*.") {
            return Ok(reference.clone());
        }
        let full = reference.to_string();
        let rest = full.strip_prefix(self.prefix.as_str()).unwrap_or(&full);
        Reference::parse(&format!("{location}{rest}"))
    }
}

/// A location is `host[:port][/path]`, without a scheme.
fn check_location(location: &str) -> std::result::Result<(), &'static str> {
    if location.is_empty() {
        return Err("empty");
    }
    if location.contains("://") {
        return Err("a location is host[:port][/path], without a scheme");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(conf: &str, reference: &str) -> Vec<(String, bool)> {
        Registries::parse(conf, "registries.conf")
            .unwrap()
            .sources(&Reference::parse(reference).unwrap())
            .unwrap()
            .into_iter()
            .map(|s| (s.reference.to_string(), s.insecure))
            .collect()
    }

    const MIRRORED: &str = r#"
unqualified-search-registries = ["docker.io"]
short-name-mode = "enforcing"

[[registry]]
prefix = "docker.io"
location = "docker.io"

[[registry.mirror]]
location = "127.0.0.1:5000"
insecure = true

[[registry.mirror]]
location = "mirror.example/hub"
pull-from-mirror = "digest-only"

[[registry]]
prefix = "quay.io/team"
location = "registry.internal/quay-team"
insecure = true

[[registry]]
prefix = "*.corp.example"
insecure = true
"#;

    #[test]
    fn a_short_name_goes_to_the_docker_io_mirror_first() {
        assert_eq!(
            sources(MIRRORED, "busybox"),
            [
                ("127.0.0.1:5000/library/busybox:latest".to_owned(), true),
                ("docker.io/library/busybox:latest".to_owned(), false),
            ]
        );
    }

    #[test]
    fn a_digest_only_mirror_serves_digests_only() {
        let d = format!("sha256:{}", "ab".repeat(32));
        let got = sources(MIRRORED, &format!("busybox@{d}"));
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].0, format!("mirror.example/hub/library/busybox@{d}"));
    }

    #[test]
    fn the_longest_prefix_rewrites_the_location() {
        assert_eq!(
            sources(MIRRORED, "quay.io/team/app:1"),
            [("registry.internal/quay-team/app:1".to_owned(), true)]
        );
        // quay.io/teamwork is not below quay.io/team.
        assert_eq!(
            sources(MIRRORED, "quay.io/teamwork/app:1"),
            [("quay.io/teamwork/app:1".to_owned(), false)]
        );
        assert_eq!(
            sources(MIRRORED, "build.corp.example/x:1"),
            [("build.corp.example/x:1".to_owned(), true)]
        );
    }

    #[test]
    fn a_blocked_registry_refuses_the_pull() {
        let conf = "[[registry]]\nlocation = \"evil.example\"\nblocked = true\n";
        let err = Registries::parse(conf, "r.conf")
            .unwrap()
            .sources(&Reference::parse("evil.example/x").unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("blocked"), "{err}");
    }

    #[test]
    fn what_peapod_would_not_follow_is_refused_naming_the_file() {
        for (conf, expected) in [
            (
                "unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n",
                "must be absent or begin with \"docker.io\"",
            ),
            ("[aliases]\nbusybox = \"quay.io/x/busybox\"\n", "aliases"),
            ("[[registry]]\nprefix = \"x.io\"\nblockd = true\n", "blockd"),
            (
                "[[registry]]\nlocation = \"https://x.io\"\n",
                "without a scheme",
            ),
            ("[[registry]]\nprefix = \"x.io\n", "line 2"),
        ] {
            let err = Registries::parse(conf, "/etc/peapod/registries.conf")
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("/etc/peapod/registries.conf") && err.contains(expected),
                "{conf}: {err}"
            );
        }
    }

    #[test]
    fn no_file_means_every_registry_as_itself() {
        let r = Registries::read(Path::new("/nonexistent/registries.conf")).unwrap();
        assert_eq!(
            r.sources(&Reference::parse("busybox").unwrap()).unwrap(),
            [Source {
                reference: Reference::parse("busybox").unwrap(),
                insecure: false,
                mirror: false,
            }]
        );
    }
}
