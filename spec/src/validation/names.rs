//! The name syntaxes of Kubernetes: DNS-1123 labels and subdomains,
//! qualified names (label keys), label values, port names, env var names,
//! ConfigMap keys. Each returns `Err(expected)` describing what was wanted.

/// What a DNS-1123 label is.
pub(crate) const DNS1123_LABEL: &str = "a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit";
/// What a DNS-1123 subdomain is.
pub(crate) const DNS1123_SUBDOMAIN: &str = "a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit";

/// `Ok` when `name` is a DNS-1123 label (`my-app`), else what a label is.
pub fn dns1123_label(name: &str) -> Result<(), &'static str> {
    let bytes = name.as_bytes();
    let edge_ok = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let ok = !name.is_empty()
        && name.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && edge_ok(bytes.first())
        && edge_ok(bytes.last());
    if ok { Ok(()) } else { Err(DNS1123_LABEL) }
}

/// `Ok` when `name` is a DNS-1123 subdomain (`my-app.example.com`).
pub(crate) fn dns1123_subdomain(name: &str) -> Result<(), &'static str> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .split('.')
            .all(|part| part.len() <= 63 && dns1123_label(part).is_ok());
    if ok { Ok(()) } else { Err(DNS1123_SUBDOMAIN) }
}

/// `Ok` when `key` is a qualified name: `[prefix/]name`, the prefix a
/// DNS-1123 subdomain, the name at most 63 alphanumerics, '-', '_', '.',
/// starting and ending alphanumeric (label and annotation keys).
pub(crate) fn qualified_name(key: &str) -> Result<(), &'static str> {
    const EXPECTED: &str = "a qualified name: an optional DNS-1123 subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if prefix.is_some_and(|p| dns1123_subdomain(p).is_err())
        || name.is_empty()
        || label_value(name).is_err()
    {
        return Err(EXPECTED);
    }
    Ok(())
}

/// `Ok` when `value` is a label value: empty, or at most 63 alphanumerics,
/// '-', '_', '.', starting and ending alphanumeric.
pub(crate) fn label_value(value: &str) -> Result<(), &'static str> {
    const EXPECTED: &str = "a label value: empty, or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
    let bytes = value.as_bytes();
    let ok = value.is_empty()
        || (value.len() <= 63
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric));
    if ok { Ok(()) } else { Err(EXPECTED) }
}

/// `Ok` when `name` is an IANA service name (a port name): at most 15
/// lowercase letters, digits and '-', one letter at least, no '--', not
/// starting or ending with '-'.
pub(crate) fn port_name(name: &str) -> Result<(), &'static str> {
    const EXPECTED: &str = "a port name: at most 15 lowercase letters, digits and '-', with a letter, without '--', not starting or ending with '-'";
    let ok = !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && !name.contains("--")
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok { Ok(()) } else { Err(EXPECTED) }
}

/// `Ok` when `name` is an environment variable name: printable ASCII
/// without '=' (Kubernetes' relaxed rule).
pub(crate) fn env_var_name(name: &str) -> Result<(), &'static str> {
    const EXPECTED: &str =
        "an environment variable name: printable ASCII characters other than '='";
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'=');
    if ok { Ok(()) } else { Err(EXPECTED) }
}

/// `Ok` when `key` is a ConfigMap or Secret key: at most 253 letters,
/// digits, '-', '_' and '.', not `.` or `..`.
pub(crate) fn config_key(key: &str) -> Result<(), &'static str> {
    const EXPECTED: &str =
        "a key: at most 253 letters, digits, '-', '_' or '.', and not \".\" or \"..\"";
    let ok = !key.is_empty()
        && key.len() <= 253
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && key != "."
        && key != "..";
    if ok { Ok(()) } else { Err(EXPECTED) }
}

/// `Ok` when `path` is relative and has no `..` part (subPath, item paths).
pub(crate) fn relative_path(path: &str) -> Result<(), &'static str> {
    if path.starts_with('/') {
        Err("a relative path")
    } else if path.split('/').any(|part| part == "..") {
        Err("a path without '..'")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns1123_label_accepts_lowercase_names_only() {
        assert!(dns1123_label("my-app1").is_ok());
        for bad in ["", "My-App", "my_app", "-app", "app-", &"a".repeat(64)] {
            assert!(dns1123_label(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dns1123_subdomain_accepts_dotted_names() {
        assert!(dns1123_subdomain("kubia-zxzij").is_ok());
        assert!(dns1123_subdomain("a.b.c").is_ok());
        assert!(dns1123_subdomain("a..b").is_err());
        assert!(dns1123_subdomain(".a").is_err());
    }

    #[test]
    fn qualified_name_allows_prefix_and_mixed_case() {
        assert!(qualified_name("app.kubernetes.io/name").is_ok());
        assert!(qualified_name("Run_Mode").is_ok());
        assert!(qualified_name("/name").is_err());
        assert!(qualified_name("a/b/c").is_err());
    }

    #[test]
    fn port_name_needs_a_letter_and_no_double_dash() {
        assert!(port_name("http-alt").is_ok());
        assert!(port_name("8080").is_err());
        assert!(port_name("a--b").is_err());
        assert!(port_name("way-too-long-port-name").is_err());
    }

    #[test]
    fn relative_path_rejects_absolute_and_dotdot() {
        assert!(relative_path("a/b").is_ok());
        assert!(relative_path("/a").is_err());
        assert!(relative_path("a/../b").is_err());
    }
}
