//! Kubernetes' `$(VAR)` expansion, as used in `env[].value`, `command`,
//! `args` and `subPathExpr`.

/// A string with its `$(VAR)` references expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion<'a> {
    /// The result: each reference `lookup` resolved is replaced by its
    /// value, each it did not stays as written (`$(NAME)`), `$$` is `$`.
    pub text: String,
    /// The names `lookup` did not resolve, in order of appearance.
    pub missing: Vec<&'a str>,
}

/// Expands `$(NAME)` in `s` with `lookup`, as kubelet's `expansion.Expand`
/// does: `$$` gives one `$`, a `$` not followed by `(` or `$` stays, an
/// unresolved reference stays as written and is listed in
/// [`Expansion::missing`]. Callers decide what a missing name means (env
/// and command keep it; `subPathExpr` refuses it).
pub fn expand_references<'a, 'v>(
    s: &'a str,
    mut lookup: impl FnMut(&str) -> Option<&'v str>,
) -> Expansion<'a> {
    let mut text = String::with_capacity(s.len());
    let mut missing = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        text.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            text.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after.strip_prefix('(').and_then(|b| b.split_once(')')) {
            if let Some(value) = lookup(name) {
                text.push_str(value);
            } else {
                text.push_str("$(");
                text.push_str(name);
                text.push(')');
                missing.push(name);
            }
            rest = tail;
        } else {
            text.push('$');
            rest = after;
        }
    }
    text.push_str(rest);
    Expansion { text, missing }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<&'static str> {
        (name == "A").then_some("x")
    }

    #[test]
    fn defined_references_are_replaced_and_undefined_ones_stay() {
        let e = expand_references("$(A)-$(B)-$(A)", lookup);
        assert_eq!(e.text, "x-$(B)-x");
        assert_eq!(e.missing, vec!["B"]);
    }

    #[test]
    fn double_dollar_escapes_a_reference() {
        let e = expand_references("$$(A) $$ $ $(", lookup);
        assert_eq!(e.text, "$(A) $ $ $(");
        assert!(e.missing.is_empty());
    }
}
