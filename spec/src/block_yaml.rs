//! The fastest way to the tree: a hand-written reader of the block-style
//! YAML subset pod manifests are written in.
//!
//! It reads block mappings and lists (`- ` items, `- key: v` compact
//! mappings, lists at their key's indentation), one-line plain,
//! single-quoted and double-quoted scalars, one-line flow `[a, b]` and
//! `{k: v}`, comments and `---` separators, all in ASCII. Anything else
//! (tabs, anchors, aliases, tags, block scalars, multi-line scalars or flow,
//! empty values, complex keys, errors...) makes it answer "not mine", and
//! [`crate::events`] reads the text instead. Scalars are typed by the same
//! code as there, and nodes get the positions granit-parser gives them, so
//! every text this reads gives the very tree the other paths give; the
//! differential tests and the `manifest_fast_path` fuzz target check it.

use std::borrow::Cow;

use granit_parser::ScalarStyle;

use crate::events::{has_duplicate_key, key, scalar};
use crate::node::{Entry, MAX_DEPTH, Node, Position, Value};

/// The documents of `source`, or `None` when another path must read it.
pub(crate) fn parse_documents(source: &str) -> Option<Vec<Node>> {
    let src = source.as_bytes();
    if !plain_characters(src) {
        return None;
    }
    let mut reader = Reader {
        src,
        text: source,
        pos: 0,
        line: 1,
        line_start: 0,
        ascii: source.is_ascii(),
        entries: Vec::new(),
        items: Vec::new(),
    };
    reader.skip_blank_lines();
    if reader.document_marker() {
        reader.skip_blank_lines();
    }
    let mut documents = Vec::new();
    loop {
        // Every document is a mapping: an empty one is not read here.
        let indent = reader.line_indent()?;
        reader.pos += indent;
        if !reader.starts_key() {
            return None;
        }
        documents.push(reader.block_mapping(indent, 1)?);
        if reader.at_end() {
            return Some(documents);
        }
        if !reader.document_marker() {
            return None;
        }
        reader.skip_blank_lines();
    }
}

/// The longest key read here. YAML caps an implicit key at 1024
/// characters (granit-parser then reports an error); longer ones are left
/// to the full parser, with some margin.
const MAX_KEY_BYTES: usize = 1000;

/// What the full parser reads: granit-parser's events, or serde-saphyr
/// where they give up.
pub(crate) fn full_parse(source: &str) -> Option<Vec<Node>> {
    crate::events::parse_documents(source)
        .or_else(|| crate::manifest::parse_with_serde(source).ok())
}

/// Whether this reader, when it reads `source`, reads the very tree the
/// full parser reads; `None` when it leaves `source` to the full parser.
pub(crate) fn agrees_with_full_parser(source: &str) -> Option<bool> {
    let fast = parse_documents(source)?;
    Some(full_parse(source).as_ref() == Some(&fast))
}

/// The text and where the reader is in it.
struct Reader<'a> {
    src: &'a [u8],
    /// The same text as `src`.
    text: &'a str,
    /// Byte offset of the next character.
    pos: usize,
    /// Line of `pos`, from 1.
    line: usize,
    /// Byte offset where that line starts.
    line_start: usize,
    /// Whether the whole text is ASCII (a column is then a byte offset).
    ascii: bool,
    /// The entries of the block mappings being read, innermost last: each
    /// mapping takes its own off the end, in a vector of the right size.
    entries: Vec<Entry>,
    /// The same for the items of block lists.
    items: Vec<Node>,
}

impl<'a> Reader<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.src.get(self.pos + offset).copied()
    }

    fn position(&self) -> Position {
        let before = &self.src[self.line_start..self.pos];
        // Columns count characters: UTF-8 continuation bytes do not count.
        let continuations = if self.ascii {
            0
        } else {
            before.iter().filter(|&&b| b & 0xc0 == 0x80).count()
        };
        Position {
            line: self.line,
            column: before.len() - continuations + 1,
        }
    }

    /// Whether the byte at `offset` ends a token: a space, a line break or
    /// the end of the text.
    fn blank_at(&self, offset: usize) -> bool {
        matches!(self.peek_at(offset), None | Some(b' ' | b'\n'))
    }

    fn skip_spaces(&mut self) -> usize {
        let start = self.pos;
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Moves past the line break that ends the current line.
    fn next_line(&mut self) {
        match self.src[self.pos..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.pos += i + 1;
                self.line += 1;
                self.line_start = self.pos;
            }
            None => self.pos = self.src.len(),
        }
    }

    /// From a line start, skips lines holding only spaces or a comment.
    fn skip_blank_lines(&mut self) {
        while !self.at_end() {
            let line_start = self.pos;
            self.skip_spaces();
            match self.peek() {
                Some(b'\n' | b'#') => self.next_line(),
                None => {}
                Some(_) => {
                    self.pos = line_start;
                    return;
                }
            }
        }
    }

    /// The rest of the line after a node: spaces, then maybe a comment
    /// (after at least one space), then the line break; then the blank
    /// lines after it. `None` when anything else is there.
    fn end_line(&mut self) -> Option<()> {
        self.skip_spaces();
        match self.peek() {
            None | Some(b'\n') => {}
            Some(b'#') if self.src.get(self.pos.wrapping_sub(1)) == Some(&b' ') => {}
            Some(_) => return None,
        }
        self.next_line();
        self.skip_blank_lines();
        Some(())
    }

    /// The indentation of the line starting at `pos`, `None` at the end of
    /// the text or of the document (a line starting `---` or `...`).
    fn line_indent(&self) -> Option<usize> {
        let rest = &self.src[self.pos..];
        if rest.is_empty() || rest.starts_with(b"---") || rest.starts_with(b"...") {
            return None;
        }
        Some(rest.iter().take_while(|&&b| b == b' ').count())
    }

    /// Moves past a `---` line (with nothing else on it) at a line start.
    fn document_marker(&mut self) -> bool {
        let rest = &self.src[self.pos..];
        if !rest.starts_with(b"---") {
            return false;
        }
        let after = rest[3..].iter().take_while(|&&b| b == b' ').count();
        if !matches!(rest.get(3 + after), None | Some(b'\n')) {
            return false;
        }
        self.next_line();
        true
    }

    /// Whether a block list item (`-` then a blank) starts at `pos`.
    fn starts_item(&self) -> bool {
        self.peek() == Some(b'-') && self.blank_at(1)
    }

    /// Whether a mapping key (a one-line scalar, then `:` and a blank)
    /// starts at `pos`.
    fn starts_key(&self) -> bool {
        self.key_length().is_some()
    }

    /// The length of the mapping key starting at `pos`, up to its `:`.
    fn key_length(&self) -> Option<usize> {
        let rest = &self.src[self.pos..];
        let end = match *rest.first()? {
            b'[' | b'{' => return None,
            quote @ (b'\'' | b'"') => closing_quote(rest, quote)? + 1,
            _ => {
                let mut i = 0;
                loop {
                    match *rest.get(i)? {
                        b'\n' => return None,
                        b':' if matches!(rest.get(i + 1), None | Some(b' ' | b'\n')) => break i,
                        b' ' if rest.get(i + 1) == Some(&b'#') => return None,
                        _ => i += 1,
                    }
                }
            }
        };
        let colon_then_blank =
            rest.get(end) == Some(&b':') && matches!(rest.get(end + 1), None | Some(b' ' | b'\n'));
        (colon_then_blank && end <= MAX_KEY_BYTES).then_some(end)
    }

    /// A block node starting at `pos` (column `indent`) on its own line or
    /// after a `- `; ends at the start of the next content line.
    fn block_node(&mut self, indent: usize, depth: usize) -> Option<Node> {
        if self.starts_item() {
            self.block_sequence(indent, depth)
        } else if self.starts_key() {
            self.block_mapping(indent, depth)
        } else {
            let node = self.inline_node(depth)?;
            self.end_line()?;
            Some(node)
        }
    }

    /// A block mapping whose keys are at column `indent`, the first at
    /// `pos`.
    fn block_mapping(&mut self, indent: usize, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let position = self.position();
        let first = self.entries.len();
        loop {
            let key_position = self.position();
            let (text, style) = self.key_scalar()?;
            let key = key(text, style)?;
            let value = self.mapping_value(indent, depth + 1)?;
            self.entries.push(Entry {
                key,
                key_position,
                value,
            });
            match self.line_indent() {
                // The next key (`key_scalar` checks that it is one).
                Some(i) if i == indent => self.pos += i,
                Some(i) if i > indent => return None,
                _ => break,
            }
        }
        let entries: Vec<Entry> = self.entries.drain(first..).collect();
        if has_duplicate_key(&entries) {
            return None;
        }
        Some(Node {
            value: Value::Map(entries),
            position,
        })
    }

    /// The value after a key of a mapping at column `indent`.
    fn mapping_value(&mut self, indent: usize, depth: usize) -> Option<Node> {
        let spaces = self.skip_spaces();
        let own_line = match self.peek() {
            None | Some(b'\n') => true,
            Some(b'#') => spaces > 0,
            Some(_) => false,
        };
        if !own_line {
            let node = self.inline_node(depth)?;
            self.end_line()?;
            return Some(node);
        }
        self.end_line()?;
        let child = self.line_indent()?;
        self.pos += child;
        if child > indent {
            self.block_node(child, depth)
        } else if child == indent && self.starts_item() {
            // A list at its key's indentation is where granit-parser ends
            // its first `-`: after the spaces (and comment) that follow it.
            let dash = self.pos;
            self.pos += 1;
            self.skip_spaces();
            if self.peek() == Some(b'#') {
                self.pos += self.src[self.pos..]
                    .iter()
                    .take_while(|&&b| b != b'\n')
                    .count();
            }
            let position = self.position();
            self.pos = dash;
            let mut list = self.block_sequence(indent, depth)?;
            list.position = position;
            Some(list)
        } else {
            // An empty value: its position is not repeated here.
            None
        }
    }

    /// A block list whose `-` are at column `indent`, the first at `pos`.
    fn block_sequence(&mut self, indent: usize, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let position = self.position();
        let first = self.items.len();
        loop {
            self.pos += 1;
            let spaces = self.skip_spaces();
            let item = match self.peek() {
                None | Some(b'\n' | b'#') => {
                    if self.peek() == Some(b'#') && spaces == 0 {
                        return None;
                    }
                    self.end_line()?;
                    let child = self.line_indent()?;
                    if child <= indent {
                        return None;
                    }
                    self.pos += child;
                    self.block_node(child, depth + 1)?
                }
                // `- - a`: left to the full parser.
                Some(b'-') if self.starts_item() => return None,
                Some(_) => {
                    let column = self.pos - self.line_start;
                    self.block_node(column, depth + 1)?
                }
            };
            self.items.push(item);
            match self.line_indent() {
                Some(i) if i == indent => {
                    self.pos += i;
                    if !self.starts_item() {
                        // The end of a list at its key's indentation: the
                        // mapping goes on from the line start.
                        self.pos -= i;
                        break;
                    }
                }
                Some(i) if i > indent => return None,
                _ => break,
            }
        }
        Some(Node {
            value: Value::Seq(self.items.drain(first..).collect()),
            position,
        })
    }

    /// A mapping key and the `:` after it; `None` when no key starts at
    /// `pos`.
    fn key_scalar(&mut self) -> Option<(Cow<'a, str>, ScalarStyle)> {
        let length = self.key_length()?;
        let scalar = if matches!(self.peek()?, b'\'' | b'"') {
            self.quoted()?
        } else {
            let text = plain_text(self.text.get(self.pos..self.pos + length)?, false)?;
            self.pos += length;
            (text, ScalarStyle::Plain)
        };
        // The `:` (`key_length` saw it).
        self.pos += 1;
        Some(scalar)
    }

    /// A node that starts and ends on this line: a scalar or a flow
    /// collection, in block context.
    fn inline_node(&mut self, depth: usize) -> Option<Node> {
        match self.peek()? {
            b'[' | b'{' => self.flow_node(depth),
            b'\'' | b'"' => {
                let position = self.position();
                let (text, style) = self.quoted()?;
                Some(Node {
                    value: scalar(text, style)?,
                    position,
                })
            }
            _ => {
                let position = self.position();
                let start = self.pos;
                loop {
                    match self.peek() {
                        None | Some(b'\n') => break,
                        Some(b' ') if self.peek_at(1) == Some(b'#') => break,
                        // `a: b: c`, or a key where a value was due.
                        Some(b':') if self.blank_at(1) => return None,
                        Some(_) => self.pos += 1,
                    }
                }
                let text = plain_text(self.text.get(start..self.pos)?, false)?;
                Some(Node {
                    value: scalar(text, ScalarStyle::Plain)?,
                    position,
                })
            }
        }
    }

    /// A one-line flow list or mapping starting at `pos`.
    fn flow_node(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let position = self.position();
        let open = self.peek()?;
        let close = if open == b'[' { b']' } else { b'}' };
        self.pos += 1;
        self.skip_spaces();
        let mut items = Vec::new();
        let mut entries = Vec::new();
        if self.peek() == Some(close) {
            self.pos += 1;
        } else {
            loop {
                if open == b'[' {
                    items.push(self.flow_item(depth + 1)?);
                } else {
                    let key_position = self.position();
                    let key_start = self.pos;
                    let (text, style) = self.flow_scalar(true)?;
                    if self.pos - key_start > MAX_KEY_BYTES {
                        return None;
                    }
                    let key = key(text, style)?;
                    if !(self.peek() == Some(b':') && self.peek_at(1) == Some(b' ')) {
                        return None;
                    }
                    self.pos += 1;
                    self.skip_spaces();
                    let value = self.flow_item(depth + 1)?;
                    entries.push(Entry {
                        key,
                        key_position,
                        value,
                    });
                }
                self.skip_spaces();
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        self.skip_spaces();
                        // A trailing comma: left to the full parser.
                        if self.peek() == Some(close) {
                            return None;
                        }
                    }
                    c if c == close => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        let value = if open == b'[' {
            Value::Seq(items)
        } else {
            if has_duplicate_key(&entries) {
                return None;
            }
            Value::Map(entries)
        };
        Some(Node { value, position })
    }

    /// A node inside a flow collection.
    fn flow_item(&mut self, depth: usize) -> Option<Node> {
        if matches!(self.peek()?, b'[' | b'{') {
            return self.flow_node(depth);
        }
        let position = self.position();
        let (text, style) = self.flow_scalar(false)?;
        Some(Node {
            value: scalar(text, style)?,
            position,
        })
    }

    /// A scalar inside a flow collection; a key's ends at its `:`.
    fn flow_scalar(&mut self, is_key: bool) -> Option<(Cow<'a, str>, ScalarStyle)> {
        if matches!(self.peek()?, b'\'' | b'"') {
            return self.quoted();
        }
        let start = self.pos;
        loop {
            match self.peek()? {
                b',' | b']' | b'}' => break,
                b':' if is_key => break,
                // `:`, `#` and brackets inside flow scalars: left to the
                // full parser.
                b':' | b'#' | b'[' | b'{' | b'\n' => return None,
                _ => self.pos += 1,
            }
        }
        let text = plain_text(self.text.get(start..self.pos)?, true)?;
        Some((text, ScalarStyle::Plain))
    }

    /// A one-line quoted scalar starting at `pos`, with its escapes.
    fn quoted(&mut self) -> Option<(Cow<'a, str>, ScalarStyle)> {
        let quote = self.peek()?;
        let end = closing_quote(&self.src[self.pos..], quote)?;
        let body = self.text.get(self.pos + 1..self.pos + end)?;
        self.pos += end + 1;
        if quote == b'\'' {
            let text = if body.contains('\'') {
                Cow::Owned(body.replace("''", "'"))
            } else {
                Cow::Borrowed(body)
            };
            Some((text, ScalarStyle::SingleQuoted))
        } else {
            let text = if body.contains('\\') {
                Cow::Owned(unescape(body)?)
            } else {
                Cow::Borrowed(body)
            };
            Some((text, ScalarStyle::DoubleQuoted))
        }
    }
}

/// Whether `src` holds only characters this reader handles: not tabs,
/// carriage returns, other control characters, byte order marks or the
/// Unicode line and paragraph separators.
fn plain_characters(src: &[u8]) -> bool {
    // Printable ASCII, checked 64 bytes at a time without branches.
    let printable = |ok: u8, b: &u8| ok & u8::from(matches!(b, b' '..=b'~') || *b == b'\n');
    if src
        .chunks(64)
        .all(|chunk| chunk.iter().fold(1, printable) == 1)
    {
        return true;
    }
    src.iter().enumerate().all(|(i, &b)| match b {
        0xc2 => !matches!(src.get(i + 1), Some(0x80..=0x9f)),
        0xe2 => !(src.get(i + 1) == Some(&0x80) && matches!(src.get(i + 2), Some(0xa8 | 0xa9))),
        0xef => !matches!(
            (src.get(i + 1), src.get(i + 2)),
            (Some(0xbb), Some(0xbf)) | (Some(0xbf), Some(0xbe | 0xbf))
        ),
        b'\n' | b' '..=b'~' | 0x80.. => true,
        _ => false,
    })
}

/// The offset in `rest` (which starts with `quote`) of the closing quote
/// on the same line.
fn closing_quote(rest: &[u8], quote: u8) -> Option<usize> {
    let mut i = 1;
    loop {
        match *rest.get(i)? {
            b'\n' => return None,
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && rest.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return Some(i),
            _ => i += 1,
        }
    }
}

/// The text of a plain scalar, trailing spaces dropped; `None` when it
/// cannot be a plain scalar (it starts with an indicator).
fn plain_text(text: &str, in_flow: bool) -> Option<Cow<'_, str>> {
    let text = text.trim_end_matches(' ');
    let bytes = text.as_bytes();
    let first = *bytes.first()?;
    let safe_next = match bytes.get(1) {
        None | Some(b' ') => false,
        Some(b',' | b'[' | b']' | b'{' | b'}') => !in_flow,
        Some(_) => true,
    };
    match first {
        b'-' | b'?' | b':' if !safe_next => None,
        b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' => None,
        _ => Some(Cow::Borrowed(text)),
    }
}

/// The text of a one-line double-quoted scalar's body.
fn unescape(body: &str) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(backslash) = rest.find('\\') {
        out.push_str(&rest[..backslash]);
        let after = &rest[backslash + 1..];
        let escape = *after.as_bytes().first()?;
        let mut used = 1;
        let c = match escape {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' => '\t',
            b'n' => '\n',
            b'v' => '\x0b',
            b'f' => '\x0c',
            b'r' => '\r',
            b'e' => '\x1b',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            b'x' | b'u' | b'U' => {
                let len = match escape {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = after.get(1..=len)?;
                used += len;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
            }
            _ => return None,
        };
        out.push(c);
        rest = &after[used..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{full_parse, parse_documents};
    use crate::node::{Node, Value};

    /// The fast path, when it reads `source`, reads what the others read.
    fn agrees(source: &str) -> bool {
        match parse_documents(source) {
            Some(fast) => {
                let reference = full_parse(source).expect("the other paths read it");
                let (fast, reference) = (flatten(&fast), flatten(&reference));
                for (f, r) in fast.iter().zip(&reference) {
                    assert_eq!(f, r, "{source}");
                }
                assert_eq!(fast.len(), reference.len(), "{source}");
                true
            }
            None => false,
        }
    }

    /// Each node as one line: path, position and (for scalars) value.
    fn flatten(documents: &[Node]) -> Vec<String> {
        fn walk(node: &Node, path: &str, out: &mut Vec<String>) {
            match &node.value {
                Value::Map(entries) => {
                    out.push(format!("{path} map at {:?}", node.position));
                    for e in entries {
                        out.push(format!("{path}.{} key at {:?}", e.key, e.key_position));
                        walk(&e.value, &format!("{path}.{}", e.key), out);
                    }
                }
                Value::Seq(items) => {
                    out.push(format!("{path} seq at {:?}", node.position));
                    for (i, item) in items.iter().enumerate() {
                        walk(item, &format!("{path}[{i}]"), out);
                    }
                }
                other => out.push(format!("{path} {other:?} at {:?}", node.position)),
            }
        }
        let mut out = Vec::new();
        for (i, document) in documents.iter().enumerate() {
            walk(document, &format!("#{i}"), &mut out);
        }
        out
    }

    fn fixtures() -> Vec<(String, String)> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let mut files = Vec::new();
        for dir in [root.to_owned(), format!("{root}/seeds")] {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    let source = std::fs::read_to_string(&path).unwrap();
                    files.push((path.to_string_lossy().into_owned(), source));
                }
            }
        }
        assert!(files.len() > 10);
        files
    }

    #[test]
    fn every_good_fixture_takes_the_fast_path_and_reads_the_same() {
        for (name, source) in fixtures() {
            let read = agrees(&source);
            assert!(read || name.ends_with(".broken.yaml"), "{name}");
        }
    }

    #[test]
    fn fast_path_reads_what_the_event_path_reads() {
        for source in [
            "a: 1\nb: -2\nc: 0\nd: yes\ne: Off\nh: 10m\ni: '1'\nj: 18446744073709551615\nk: --port\nl: \"y\"\n",
            "a: 1.5\nb: 0644\nc: 0x1F\nd: +1\ne: 0b7c7f0e-1d2e\nf: 10.9.8.7\ng: 1e3\n",
            "# head\n---\na: b # c\n\n---\n  x:   y  \n  z: [1, 'a''b', \"c\\n\\x41\\u00e9\"]\n",
            "l:\n- a\n- b: c\n  d: e\n-   f: [ ]\n    g: {}\nm:\n  - {a: 1, \"b\": [x, y]}\n  -\n    nn: o\n",
            "'q k': v\n\"r\": 'w'\nimage: nginx:1.2\nurl: http://x/y#z\ns: a,b\nt: -x\n",
            "a:\n  b:\n    c: d\n  e: f\ng: h\n",
            // Found by the manifest_fast_path fuzz target.
            " c: \n -\n  pit\"",
            "a:\n-   \n  b\n",
            "a:\n-   # c\n  b\n",
            "a:\n-  # c\n  b: c\n",
            "a:\n- # ü\n  b: c\n",
            "# ünïcode\na: é # ß\nb: [ü, 'ö', x]\nc: \"ä\\tö\\u00e9\"\n",
        ] {
            assert!(agrees(source), "{source}");
        }
    }

    #[test]
    fn fast_path_leaves_the_rest_to_the_full_parser() {
        for source in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: 1\na: 2\n",
            "y: 1\n",
            "a: 1\n---\n",
            "[1]\n",
            "a: [\n",
            "a:\nb: 1\n",
            "a: |\n  text\n",
            "a: b\n  c\n",
            "a: b: c\n",
            "a:\n\tb: c\n",
            "- a\n",
            "a: [b,]\n",
            "a: \"b\n  c\"\n",
            "",
            "a: b\u{2028}c\n",
            "\u{feff}a: b\n",
            "a: b\r\n",
            // Keys over 1024 characters (one found by the fuzz target).
            &format!("'{}': x\n", "k".repeat(1100)),
            &format!("{}: x\n", "k".repeat(1100)),
            &format!("a: {{{}: x}}\n", "k".repeat(1100)),
        ] {
            assert!(parse_documents(source).is_none(), "{source:?}");
        }
    }
}
