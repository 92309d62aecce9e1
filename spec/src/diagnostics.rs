//! What validation found: errors and warnings, each naming the file, the
//! line and column, the field path and what was expected.

use std::fmt;

use crate::node::Position;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The manifest cannot be run.
    Error,
    /// Accepted, but something is ignored or odd.
    Warning,
}

/// One finding: `pod.yaml:14:3: spec.contaners: unknown field; did you mean "containers"?`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file name as given to the parser.
    pub file: String,
    /// Where in the file.
    pub position: Position,
    /// The field path (`spec.containers[1].image`); empty for the document itself.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Position { line, column } = self.position;
        write!(f, "{}:{line}:{column}: ", self.file)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// Every finding of a manifest that did not validate: all its errors (at
/// least one) and its warnings, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnostics {
    /// The errors.
    pub errors: Vec<Diagnostic>,
    /// The warnings.
    pub warnings: Vec<Diagnostic>,
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Collects findings while a file is read.
#[derive(Debug)]
pub(crate) struct Report {
    file: String,
    pub findings: Diagnostics,
}

impl Report {
    pub fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            findings: Diagnostics::default(),
        }
    }

    pub fn error(&mut self, position: Position, path: &str, message: impl Into<String>) {
        let diagnostic = self.diagnostic(Severity::Error, position, path, message.into());
        self.findings.errors.push(diagnostic);
    }

    pub fn warn(&mut self, position: Position, path: &str, message: impl Into<String>) {
        let diagnostic = self.diagnostic(Severity::Warning, position, path, message.into());
        self.findings.warnings.push(diagnostic);
    }

    fn diagnostic(
        &self,
        severity: Severity,
        position: Position,
        path: &str,
        message: String,
    ) -> Diagnostic {
        Diagnostic {
            severity,
            file: self.file.clone(),
            position,
            path: path.to_owned(),
            message,
        }
    }

    pub fn has_errors(&self) -> bool {
        !self.findings.errors.is_empty()
    }

    /// Errors and warnings sorted by position (stable: same-place findings
    /// keep the order they were found in).
    pub fn finish(mut self) -> Diagnostics {
        self.findings.errors.sort_by_key(|d| d.position);
        self.findings.warnings.sort_by_key(|d| d.position);
        self.findings
    }
}

/// `; did you mean "x"?` for the candidate closest to `word`, when one is
/// close enough to be a typo; empty otherwise.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| {
            (
                edit_distance(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| format!("; did you mean {c:?}?"))
        .unwrap_or_default()
}

/// Levenshtein distance between two strings, by characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_insertions_deletions_substitutions() {
        assert_eq!(edit_distance("contaners", "containers"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn did_you_mean_suggests_only_close_names() {
        let names = ["containers", "initContainers", "volumes"];
        assert_eq!(
            did_you_mean("contaners", names),
            "; did you mean \"containers\"?"
        );
        assert_eq!(did_you_mean("volume", names), "; did you mean \"volumes\"?");
        assert_eq!(did_you_mean("xyz", names), "");
    }
}
