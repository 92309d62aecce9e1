//! YAML syntax errors as findings, and what can still be said about a file
//! that does not parse.
//!
//! A syntax error stops the YAML parser at the first problem. To report
//! more than that one line, an outline of the block-style keys (by
//! indentation, forgiving the usual indentation slips) is walked against
//! the schema, and its unknown fields are reported too: the seed manifest
//! with a mis-indented key *and* `contaners` gets both errors.

use crate::check::join;
use crate::diagnostics::{Report, did_you_mean};
use crate::manifest::{FILE_START, ValidationMode};
use crate::node::Position;
use crate::schema::{self, Kind, TypeDef};

/// Reports a YAML syntax error, then the unknown fields the outline finds.
pub(crate) fn syntax_error(
    source: &str,
    err: &serde_saphyr::Error,
    mode: ValidationMode,
    report: &mut Report,
) {
    let position = err
        .location()
        .filter(|l| l.line() > 0)
        .map_or(FILE_START, |l| Position {
            line: usize::try_from(l.line()).unwrap_or(usize::MAX),
            column: usize::try_from(l.column()).unwrap_or(usize::MAX),
        });
    let text = err.without_snippet().to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(message, _)| message);
    // serde-saphyr speaks to the programmer here, not to the user.
    let message = message
        .split(", set DuplicateKeyPolicy")
        .next()
        .unwrap_or(message);
    match indentation_slip(source, position.line) {
        Some((at, explanation)) => report.error(at, "", explanation),
        None => report.error(position, "", format!("invalid YAML: {message}")),
    }
    if mode == ValidationMode::Strict {
        outline_unknown_fields(source, report);
    }
}

/// When line `line` holds a key indented deeper than the key above it
/// (the usual cause of "mapping values are not allowed"), says so.
fn indentation_slip(source: &str, line: usize) -> Option<(Position, String)> {
    let lines: Vec<&str> = source.lines().collect();
    let this = outline_line(lines.get(line.checked_sub(1)?)?)?;
    let above = lines[..line - 1]
        .iter()
        .rev()
        .find_map(|l| outline_line(l))?;
    let key = this.key?;
    let above_key = above.key?;
    if this.dashes > 0 || this.key_column <= above.key_column || above.has_value_block() {
        return None;
    }
    Some((
        Position {
            line,
            column: this.key_column,
        },
        format!(
            "bad indentation: {key:?} is indented more than {above_key:?} above it (column {} against {}); keys of one mapping start in the same column",
            this.key_column, above.key_column
        ),
    ))
}

/// What the outline sees on one line of block-style YAML.
struct OutlineLine<'a> {
    /// Columns (1-based) of the `- ` list markers at the start.
    dash_columns: Vec<usize>,
    dashes: usize,
    /// The key, when the line holds `key:`.
    key: Option<&'a str>,
    key_column: usize,
    /// Whether anything follows `key:` on the line.
    inline_value: bool,
}

impl OutlineLine<'_> {
    /// `key:` with nothing after it opens a nested block.
    fn has_value_block(&self) -> bool {
        self.key.is_some() && !self.inline_value
    }
}

/// Reads one line; `None` for blank lines, comments and document markers.
fn outline_line(line: &str) -> Option<OutlineLine<'_>> {
    let trimmed = line.trim_start_matches(' ');
    if trimmed.is_empty()
        || trimmed.starts_with('#')
        || trimmed.starts_with("---")
        || trimmed.starts_with("...")
    {
        return None;
    }
    let mut column = line.len() - trimmed.len() + 1;
    let mut rest = trimmed;
    let mut dash_columns = Vec::new();
    while let Some(after) = rest
        .strip_prefix("- ")
        .or_else(|| (rest == "-").then_some(""))
    {
        dash_columns.push(column);
        let after_trim = after.trim_start_matches(' ');
        column += 2 + (after.len() - after_trim.len());
        rest = after_trim;
    }
    let (key, inline_value) = match rest
        .find(": ")
        .or_else(|| rest.strip_suffix(':').map(str::len))
    {
        Some(end) if is_plain_key(&rest[..end]) => {
            let value = rest[end + 1..].trim();
            (
                Some(rest[..end].trim_matches(['"', '\''])),
                !value.is_empty() && !value.starts_with('#'),
            )
        }
        _ => (None, !rest.is_empty()),
    };
    Some(OutlineLine {
        dashes: dash_columns.len(),
        dash_columns,
        key,
        key_column: column,
        inline_value,
    })
}

fn is_plain_key(text: &str) -> bool {
    !text.is_empty() && !text.contains(['{', '[', '#']) && !text.contains(": ")
}

/// A block the outline is inside: the column of its key (or list marker)
/// and what it holds.
struct Frame {
    column: usize,
    kind: Option<Kind>,
    path: String,
    items: usize,
}

/// Walks the outline of each document and reports its unknown fields.
fn outline_unknown_fields(source: &str, report: &mut Report) {
    for (start, document) in documents(source) {
        let def = document_kind(document);
        let mut stack = vec![Frame {
            column: 0,
            kind: Some(Kind::Object(def)),
            path: String::new(),
            items: 0,
        }];
        for (offset, line) in document.lines().enumerate() {
            let Some(outline) = outline_line(line) else {
                continue;
            };
            if line.contains(['{', '[']) && outline.key.is_none() {
                continue;
            }
            for &dash in &outline.dash_columns {
                pop_to(&mut stack, dash, true);
                let Some(top) = stack.last_mut() else { break };
                let item_kind = match top.kind {
                    Some(Kind::List(item)) => Some(*item),
                    _ => None,
                };
                let path = format!("{}[{}]", top.path, top.items);
                top.items += 1;
                stack.push(Frame {
                    column: dash,
                    kind: item_kind,
                    path,
                    items: 0,
                });
            }
            let Some(key) = outline.key else { continue };
            pop_to(&mut stack, outline.key_column, false);
            let Some(parent) = stack.last() else { continue };
            let Some(Kind::Object(parent_def)) = parent.kind else {
                stack.push(unknown_frame(outline.key_column));
                continue;
            };
            let path = join(&parent.path, key);
            let kind = if let Some(field) = parent_def.field(key) {
                Some(field.kind)
            } else {
                let hint = did_you_mean(key, parent_def.fields.iter().map(|f| f.name));
                let at = Position {
                    line: start + offset,
                    column: outline.key_column,
                };
                report.error(at, &path, format!("unknown field{hint}"));
                None
            };
            stack.push(Frame {
                column: outline.key_column,
                kind,
                path,
                items: 0,
            });
        }
    }
}

fn unknown_frame(column: usize) -> Frame {
    Frame {
        column,
        kind: None,
        path: String::new(),
        items: 0,
    }
}

/// Leaves the blocks that a line at `column` is not inside. A line deeper
/// than a scalar key is a slip of indentation, not a child: it leaves
/// that key too. A list marker may sit in its key's column.
fn pop_to(stack: &mut Vec<Frame>, column: usize, dash: bool) {
    while stack.len() > 1 {
        let Some(top) = stack.last() else { break };
        let holds_block = matches!(top.kind, Some(Kind::Object(_) | Kind::List(_)) | None);
        let is_list_at_same_column =
            dash && matches!(top.kind, Some(Kind::List(_))) && column == top.column;
        if column > top.column && holds_block || is_list_at_same_column {
            break;
        }
        stack.pop();
    }
}

/// The documents of the file with the line each starts on.
fn documents(source: &str) -> Vec<(usize, &str)> {
    let mut documents = Vec::new();
    let mut start_line = 1;
    let mut start_byte = 0;
    let mut byte = 0;
    for (line_number, line) in (1..).zip(source.split_inclusive('\n')) {
        if line.starts_with("---") {
            documents.push((start_line, &source[start_byte..byte]));
            start_line = line_number;
            start_byte = byte;
        }
        byte += line.len();
    }
    documents.push((start_line, &source[start_byte..]));
    documents
}

/// The schema of a document by its top-level `kind:` line; Pod by default.
fn document_kind(document: &str) -> &'static TypeDef {
    let kind = document
        .lines()
        .find_map(|l| l.strip_prefix("kind:"))
        .map(|v| v.trim().trim_matches(['"', '\'']));
    match kind {
        Some("ConfigMap") => &schema::CONFIG_MAP,
        Some("Secret") => &schema::SECRET,
        _ => &schema::POD,
    }
}
