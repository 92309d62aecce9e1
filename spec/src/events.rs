//! The second way to the tree, for what [`crate::block_yaml`] leaves:
//! straight from the YAML parser's events (granit-parser, the parser under
//! serde-saphyr), without the serde layer. Its scalar typing is the one
//! both fast paths share.
//!
//! It reads the plain documents pods are written as: mappings, lists and
//! scalars, no tags, anchors, aliases or merge keys. Anything else (and
//! anything it cannot resolve exactly as serde-saphyr does: floats, octal,
//! duplicate keys, syntax errors, too deep a nesting) makes it give up, and
//! [`crate::node`]'s serde path reads the text instead, with its messages.
//! So the two give the same tree for every text this one reads; debug
//! builds check that they do.

use std::borrow::Cow;

use granit_parser::{Event, Options, Parser, ScalarStyle, Span, StrInput};

use crate::node::{Entry, MAX_DEPTH, Node, Position, Value};

type EventParser<'a> = Parser<'a, StrInput<'a>>;

/// The documents of `source`, or `None` when the serde path must read it.
pub(crate) fn parse_documents(source: &str) -> Option<Vec<Node>> {
    let mut options = Options::default();
    // Comments are not data; without their events the parse is faster.
    options.emit_comments = false;
    let mut parser = Parser::new_from_str_with_options(source, options);
    let mut documents = Vec::new();
    if !matches!(next(&mut parser)?.0, Event::StreamStart) {
        return None;
    }
    loop {
        match next(&mut parser)?.0 {
            Event::StreamEnd => break,
            Event::DocumentStart(_, None) => {}
            _ => return None,
        }
        // Every document a pod file holds is a mapping; anything else
        // (empty documents included) is left to the serde path.
        let (event, span) = next(&mut parser)?;
        if !matches!(event, Event::MappingStart(..)) {
            return None;
        }
        documents.push(read_node(&mut parser, event, &span, 1)?);
        if !matches!(next(&mut parser)?.0, Event::DocumentEnd) {
            return None;
        }
    }
    if documents.is_empty() {
        return None;
    }
    Some(documents)
}

fn next<'a>(parser: &mut EventParser<'a>) -> Option<(Event<'a>, Span)> {
    parser.next()?.ok()
}

fn position(span: &Span) -> Position {
    Position {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

/// Reads the node that starts with `event`, nested `depth` collections deep
/// when it is one.
fn read_node<'a>(
    parser: &mut EventParser<'a>,
    event: Event<'a>,
    span: &Span,
    depth: usize,
) -> Option<Node> {
    let value = match event {
        Event::Scalar(text, style, 0, None) => scalar(text, style)?,
        Event::SequenceStart(_, 0, None) => {
            if depth > MAX_DEPTH {
                return None;
            }
            let mut items = Vec::new();
            loop {
                let (event, span) = next(parser)?;
                if matches!(event, Event::SequenceEnd) {
                    break;
                }
                items.push(read_node(parser, event, &span, depth + 1)?);
            }
            Value::Seq(items)
        }
        Event::MappingStart(_, 0, None) => {
            if depth > MAX_DEPTH {
                return None;
            }
            let mut entries: Vec<Entry> = Vec::new();
            loop {
                let (event, key_span) = next(parser)?;
                let key = match event {
                    Event::MappingEnd => break,
                    Event::Scalar(text, style, 0, None) => key(text, style)?,
                    _ => return None,
                };
                let (event, span) = next(parser)?;
                let value = read_node(parser, event, &span, depth + 1)?;
                entries.push(Entry {
                    key,
                    key_position: position(&key_span),
                    value,
                });
            }
            if has_duplicate_key(&entries) {
                return None;
            }
            Value::Map(entries)
        }
        _ => return None,
    };
    Some(Node {
        value,
        position: position(span),
    })
}

pub(crate) fn has_duplicate_key(entries: &[Entry]) -> bool {
    if entries.len() <= 16 {
        return entries
            .iter()
            .enumerate()
            .any(|(i, e)| entries[..i].iter().any(|f| f.key == e.key));
    }
    let mut keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
    keys.sort_unstable();
    keys.windows(2).any(|w| w[0] == w[1])
}

/// A mapping key: text only; a plain key that would resolve to anything
/// else (or a merge key) is left to the serde path.
pub(crate) fn key(text: Cow<'_, str>, style: ScalarStyle) -> Option<String> {
    if style == ScalarStyle::Plain && text == "<<" {
        return None;
    }
    match scalar(text, style)? {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

/// A scalar, resolved as serde-saphyr resolves an untagged one with
/// YAML 1.1 booleans and legacy octal; `None` for what it resolves in
/// ways this does not repeat (floats, octal, hex, signs, underscores).
pub(crate) fn scalar(text: Cow<'_, str>, style: ScalarStyle) -> Option<Value> {
    if style != ScalarStyle::Plain {
        return Some(Value::Str(text.into_owned()));
    }
    let t: &str = &text;
    if matches!(t, "" | "~" | "null" | "Null" | "NULL") {
        return Some(Value::Null);
    }
    let bytes = t.as_bytes();
    if bytes[0].is_ascii_whitespace() || bytes[bytes.len() - 1].is_ascii_whitespace() {
        return None;
    }
    if let Some(b) = yaml11_bool(t) {
        return Some(Value::Bool(b));
    }
    if !matches!(bytes[0], b'0'..=b'9' | b'+' | b'-' | b'.') {
        return Some(Value::Str(text.into_owned()));
    }
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let is_decimal = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits.len() == 1 || !digits.starts_with('0'));
    if is_decimal {
        return if negative {
            t.parse::<i64>().ok().map(Value::Int)
        } else {
            let u = digits.parse::<u64>().ok()?;
            Some(i64::try_from(u).map_or(Value::UInt(u), Value::Int))
        };
    }
    // Text with a character no number, boolean or null is spelled with
    // is a string (`10m`, `128Mi`, `1.2.3-rc`); the rest may be a number.
    let maybe_number = bytes.iter().all(|b| {
        b.is_ascii_hexdigit() || b.is_ascii_whitespace() || b"xXoO._+-:iInNtTyY".contains(b)
    });
    // No number has two dots: `10.9.8.7` is an address.
    if maybe_number && t.matches('.').nth(1).is_none() {
        return resolve_alone(t);
    }
    Some(Value::Str(text.into_owned()))
}

/// What serde-saphyr makes of a plain scalar that may be a number
/// (`1.5`, `0644`, a UUID), read on its own: it is the same plain scalar
/// there. Rare in a pod; `None` when it reads as anything but a scalar.
fn resolve_alone(t: &str) -> Option<Value> {
    if t.starts_with("---") || t.starts_with("...") {
        return None;
    }
    match serde_saphyr::from_str_with_options::<Value>(t, crate::manifest::serde_options()).ok()? {
        Value::Seq(_) | Value::Map(_) => None,
        value => Some(value),
    }
}

/// YAML 1.1 booleans, as Kubernetes reads them.
fn yaml11_bool(t: &str) -> Option<bool> {
    if t.len() > 5 {
        return None;
    }
    if ["true", "yes", "y", "on"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
    {
        Some(true)
    } else if ["false", "no", "n", "off"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
    {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::parse_documents;
    use crate::manifest::parse_with_serde;

    fn same_as_serde(source: &str) {
        let fast = parse_documents(source).expect("the event path reads it");
        assert_eq!(fast, parse_with_serde(source).unwrap());
    }

    #[test]
    fn seeds_take_the_event_path_and_read_the_same() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seeds");
        let mut read = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().ends_with(".broken.yaml") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            same_as_serde(&source);
            read += 1;
        }
        assert!(read > 0);
        same_as_serde(include_str!("../tests/fixtures/full-pod.yaml"));
    }

    #[test]
    fn scalars_resolve_as_serde_saphyr_does() {
        same_as_serde(
            "a: 1\nb: -2\nc: 0\nd: yes\ne: Off\nf: ~\ng:\nh: 10m\ni: '1'\nj: 18446744073709551615\nk: --port\nl: \"y\"\nm: |\n  text\n",
        );
        same_as_serde("a: 1.5\nb: 0644\nc: 0x1F\nd: +1\ne: 0b7c7f0e-1d2e\nf: 10.9.8.7\ng: 1e3\n");
        for fallback in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: 1\na: 2\n",
            "y: 1\n",
            "<<: {a: 1}\n",
            "a: 1\n---\n",
            "[1]\n",
            "a: .inf\n",
            "a: [\n",
        ] {
            assert!(parse_documents(fallback).is_none(), "{fallback:?}");
        }
    }
}
