//! Registry credentials and challenges: the `auths` of
//! `~/.docker/config.json` (or `$REGISTRY_AUTH_FILE`, podman's
//! `auth.json`), and the `WWW-Authenticate` header a registry answers 401
//! with (`Bearer realm=…,service=…,scope=…` or `Basic realm=…`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, IoContext, Result};

/// A user name and password for one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub user: String,
    pub password: String,
}

impl Credentials {
    /// The `Authorization: Basic …` value.
    pub(crate) fn basic_header(&self) -> String {
        format!(
            "Basic {}",
            base64_encode(format!("{}:{}", self.user, self.password).as_bytes())
        )
    }
}

/// The credentials for `registry` from the auth file: `explicit`, else
/// `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
/// `~/.docker/config.json` — the first that exists.
pub(crate) fn credentials_for(
    registry: &str,
    explicit: Option<&Path>,
) -> Result<Option<Credentials>> {
    let candidates: Vec<PathBuf> = match explicit {
        Some(p) => vec![p.to_path_buf()],
        None => [
            std::env::var_os("REGISTRY_AUTH_FILE").map(PathBuf::from),
            std::env::var_os("XDG_RUNTIME_DIR")
                .map(|d| PathBuf::from(d).join("containers/auth.json")),
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json")),
        ]
        .into_iter()
        .flatten()
        .collect(),
    };
    let Some(path) = candidates.into_iter().find(|p| p.is_file()) else {
        return Ok(None);
    };
    let bytes = std::fs::read(&path).ctx("read", &path)?;
    lookup(&bytes, registry, &path.display().to_string())
}

#[derive(Deserialize)]
struct AuthFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
}

#[derive(Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

fn lookup(bytes: &[u8], registry: &str, document: &str) -> Result<Option<Credentials>> {
    let file: AuthFile = serde_json::from_slice(bytes).map_err(|source| Error::Json {
        document: document.to_string(),
        source,
    })?;
    let hub = registry == crate::reference::DEFAULT_REGISTRY;
    let entry = file.auths.iter().find(|(key, _)| {
        let host = key
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default();
        host == registry
            || (hub
                && matches!(
                    host,
                    "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com"
                ))
    });
    let Some((_, entry)) = entry else {
        return Ok(None);
    };
    if let (Some(user), Some(password)) = (&entry.username, &entry.password) {
        return Ok(Some(Credentials {
            user: user.clone(),
            password: password.clone(),
        }));
    }
    let Some(encoded) = &entry.auth else {
        return Ok(None);
    };
    let decoded = base64_decode(encoded)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            Error::archive(
                document,
                format!("auth of {registry} is not base64 of user:password"),
            )
        })?;
    let (user, password) = decoded.split_once(':').ok_or_else(|| {
        Error::archive(document, format!("auth of {registry} is not user:password"))
    })?;
    Ok(Some(Credentials {
        user: user.to_string(),
        password: password.to_string(),
    }))
}

/// What a registry's 401 asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// Get a token from `realm` (with `service` and `scope`).
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    /// Send user and password with every request.
    Basic,
}

/// Parses a `WWW-Authenticate` value.
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params = BTreeMap::new();
    let mut s = rest.trim();
    while !s.is_empty() {
        let (key, after) = s.split_once('=')?;
        let after = after.trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            after.split_at(after.find(',').unwrap_or(after.len()))
        };
        params.insert(key.trim().to_ascii_lowercase(), value.to_string());
        s = next.trim_start().trim_start_matches(',').trim_start();
    }
    Some(Challenge::Bearer {
        realm: params.remove("realm")?,
        service: params.remove("service"),
        scope: params.remove("scope"),
    })
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Standard base64 with padding (the auth file's and Basic auth's).
fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard base64; `None` if it is not.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}

/// `application/x-www-form-urlencoded`-safe query value.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_challenge_is_parsed() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/busybox:pull".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate"), None);
    }

    #[test]
    fn base64_round_trips() {
        for s in ["", "a", "ab", "abc", "user:pass", "üñí:©ode"] {
            assert_eq!(
                base64_decode(&base64_encode(s.as_bytes())).unwrap(),
                s.as_bytes()
            );
        }
        assert_eq!(base64_encode(b"user:pass"), "dXNlcjpwYXNz");
    }

    #[test]
    fn auth_file_entries_match_by_host() {
        let file = br#"{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"},
                        "localhost:5000":{"auth":"YTpi"}}}"#;
        let hub = lookup(file, "docker.io", "f").unwrap().unwrap();
        assert_eq!((hub.user.as_str(), hub.password.as_str()), ("user", "pass"));
        assert_eq!(
            lookup(file, "localhost:5000", "f").unwrap().unwrap().user,
            "a"
        );
        assert_eq!(lookup(file, "quay.io", "f").unwrap(), None);
    }
}
