//! kubectl's JSONPath dialect (`k8s.io/client-go/util/jsonpath`), for
//! `get -o jsonpath=`, `-o custom-columns=` and `--sort-by`.
//!
//! A template is text with actions in braces: `{.items[*].metadata.name}`,
//! `{range .items[*]}{.metadata.name}{"\t"}{end}`, `{"\n"}`. A path is made
//! of fields (`.name`, `['a.b']`), `*`, the recursive descent `..name`,
//! indexes and slices (`[0]`, `[-1:]`, `[1:3]`, `[0:4:2]`), unions
//! (`[0,2]`) and filters (`[?(@.name=="x")]`, `[?(@.port>80)]`,
//! `[?(@.ready)]`). The results of one action are printed separated by
//! spaces: strings as they are, objects and lists as compact JSON. As with
//! kubectl's default `--allow-missing-template-keys=true`, a missing key
//! prints nothing; an index outside a list is kubectl's error.

use std::cmp::Ordering;

use serde_json::Value;

/// A template that failed to parse or to run, in kubectl's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// One parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// Text, outside braces or quoted inside them.
    Text(String),
    /// A path whose results are printed.
    Path(Vec<Step>),
    /// `{range PATH}BODY{end}`: the body once per result.
    Range(Vec<Step>, Vec<Node>),
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Wildcard,
    /// `..`: the value and everything below it.
    Recursive,
    Slice(Slice),
    Union(Vec<Vec<Step>>),
    Filter(Box<Filter>),
}

/// `[start:end:step]` as Go's jsonpath reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slice {
    start: Option<i64>,
    end: Option<i64>,
    step: Option<i64>,
    /// `[i]`: the end is `i + 1`.
    single: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct Filter {
    left: Operand,
    /// `None`: the filter tests that the left side exists.
    compare: Option<(Op, Operand)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Path(Vec<Step>),
    Literal(Value),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Template {
    /// Parses `text`; kubectl's message for a template it would refuse.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut stack: Vec<(Vec<Step>, Vec<Node>)> = vec![];
        let mut nodes = vec![];
        let mut rest = text;
        while !rest.is_empty() {
            let Some(open) = rest.find('{') else {
                nodes.push(Node::Text(rest.to_owned()));
                break;
            };
            if open > 0 {
                nodes.push(Node::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 1..];
            let close = action_end(after)?;
            let action = after[..close].trim();
            rest = &after[close + 1..];
            if let Some(path) = action
                .strip_prefix("range")
                .filter(|p| p.starts_with([' ', '\t']))
            {
                stack.push((parse_path(path.trim())?, std::mem::take(&mut nodes)));
            } else if action == "end" {
                let Some((path, outer)) = stack.pop() else {
                    return Err(Error("not in range, nothing to end".into()));
                };
                let body = std::mem::replace(&mut nodes, outer);
                nodes.push(Node::Range(path, body));
            } else if action.starts_with(['"', '\'']) {
                nodes.push(Node::Text(unquote(action)?));
            } else {
                nodes.push(Node::Path(parse_path(action)?));
            }
        }
        if !stack.is_empty() {
            return Err(Error("unclosed range".into()));
        }
        Ok(Self { nodes })
    }

    /// kubectl's relaxed form of `--sort-by` and `custom-columns`:
    /// `.a.b`, `a.b`, `{.a.b}` and `{a.b}` are one path.
    pub fn relaxed(text: &str) -> Result<Self, Error> {
        let inner = text.strip_prefix('{').unwrap_or(text);
        let inner = inner.strip_suffix('}').unwrap_or(inner);
        if inner.contains(['{', '}']) {
            return Err(Error("unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'".into()));
        }
        let dotted = if inner.starts_with('.') {
            inner.to_owned()
        } else {
            format!(".{inner}")
        };
        Self::parse(&format!("{{{dotted}}}"))
    }

    /// The template's output for `data`.
    pub fn render(&self, data: &Value) -> Result<String, Error> {
        let mut out = String::new();
        render_nodes(&self.nodes, data, &mut out)?;
        Ok(out)
    }

    /// The values the template's paths find in `data`, in order (for
    /// columns and sorting).
    pub fn values<'a>(&self, data: &'a Value) -> Result<Vec<&'a Value>, Error> {
        let mut found = vec![];
        for node in &self.nodes {
            if let Node::Path(steps) = node {
                found.extend(eval(steps, vec![data])?);
            }
        }
        Ok(found)
    }
}

/// The byte offset of the `}` that closes an action starting at `text`
/// (braces inside quotes do not count).
fn action_end(text: &str) -> Result<usize, Error> {
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (_, '\n' | '\r') => break,
            (Some(_), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '}') => return Ok(i),
            _ => {}
        }
        escaped = false;
    }
    Err(Error("unclosed action".into()))
}

/// A quoted literal with Go's escapes (`"\t"`, `'\n'`).
fn unquote(text: &str) -> Result<String, Error> {
    let quote = text.chars().next().unwrap_or('"');
    let Some(inner) = text.strip_prefix(quote).and_then(|t| t.strip_suffix(quote)) else {
        return Err(Error("unterminated quoted string".into()));
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some(c @ ('\\' | '"' | '\'')) => out.push(c),
            _ => return Err(Error(format!("unquote string {text} error invalid syntax"))),
        }
    }
    Ok(out)
}

/// Characters that end a field name.
fn ends_field(c: char) -> bool {
    matches!(
        c,
        '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}' | ' ' | '\t' | '\n' | '\r'
    )
}

/// Parses the path of one action (`.items[*].metadata.name`, `@.name`).
fn parse_path(text: &str) -> Result<Vec<Step>, Error> {
    let mut steps = vec![];
    let mut rest = text.trim();
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("..") {
            if steps.last() == Some(&Step::Recursive) {
                return Err(Error("invalid multiple recursive descent".into()));
            }
            steps.push(Step::Recursive);
            rest = after;
            if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                rest = field(rest, &mut steps);
            }
            continue;
        }
        match c {
            '@' | '$' | ' ' => rest = &rest[1..],
            '.' => rest = field(&rest[1..], &mut steps),
            '[' if rest.starts_with("[?(") => rest = filter(&rest[3..], &mut steps)?,
            '[' => {
                let Some(close) = rest.find(']') else {
                    return Err(Error("unterminated array".into()));
                };
                steps.extend(bracket(&rest[1..close])?);
                rest = &rest[close + 1..];
            }
            c if c.is_alphanumeric() || c == '_' => rest = field(rest, &mut steps),
            other => {
                return Err(Error(format!(
                    "unrecognized character in action: U+{:04X} '{other}'",
                    u32::from(other)
                )));
            }
        }
    }
    Ok(steps)
}

/// A field name at the start of `text` (`*` is the wildcard); the rest.
fn field<'a>(text: &'a str, steps: &mut Vec<Step>) -> &'a str {
    let mut name = String::new();
    let mut chars = text.char_indices().peekable();
    let mut end = text.len();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            if let Some((_, next)) = chars.next() {
                name.push(next);
            }
            continue;
        }
        if ends_field(c) {
            end = i;
            break;
        }
        name.push(c);
    }
    steps.push(if name == "*" {
        Step::Wildcard
    } else {
        Step::Field(name)
    });
    &text[end..]
}

/// What is inside `[...]`: `*`, an index or slice, `'key'`, a union.
fn bracket(inner: &str) -> Result<Vec<Step>, Error> {
    let inner = inner.trim();
    if inner.contains(',') {
        let parts = inner
            .split(',')
            .map(|p| bracket(p.trim()))
            .collect::<Result<_, _>>()?;
        return Ok(vec![Step::Union(parts)]);
    }
    if inner == "*" {
        return Ok(vec![Step::Wildcard]);
    }
    if let Some(key) = inner.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')) {
        return Ok(vec![Step::Field(key.to_owned())]);
    }
    let number = |s: &str| -> Result<Option<i64>, Error> {
        if s.is_empty() {
            return Ok(None);
        }
        s.parse()
            .map(Some)
            .map_err(|_| Error(format!("invalid array index {inner}")))
    };
    let parts: Vec<&str> = inner.split(':').collect();
    if parts.len() > 3 {
        return Err(Error(format!("invalid array index {inner}")));
    }
    let start = number(parts[0])?;
    Ok(vec![Step::Slice(Slice {
        start,
        end: parts.get(1).map(|s| number(s)).transpose()?.flatten(),
        step: parts.get(2).map(|s| number(s)).transpose()?.flatten(),
        single: parts.len() == 1,
    })])
}

/// `[?(LEFT OP RIGHT)]` or `[?(PATH)]`, after `[?(`; the rest.
fn filter<'a>(text: &'a str, steps: &mut Vec<Step>) -> Result<&'a str, Error> {
    let mut quote = None;
    let mut close = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, ')') => {
                close = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(close) = close else {
        return Err(Error("unterminated filter".into()));
    };
    let Some(rest) = text[close + 1..].strip_prefix(']') else {
        return Err(Error("unclosed array expect ]".into()));
    };
    let body = &text[..close];
    let op_at = body
        .char_indices()
        .find(|&(i, c)| matches!(c, '!' | '<' | '>' | '=') && !in_quotes(body, i));
    let filter = match op_at {
        None => Filter {
            left: operand(body)?,
            compare: None,
        },
        Some((i, _)) => {
            let op_len = body[i..]
                .find(|c: char| !matches!(c, '!' | '<' | '>' | '='))
                .unwrap_or(body.len() - i);
            let op = match &body[i..i + op_len] {
                "==" | "=" => Op::Eq,
                "!=" => Op::Ne,
                "<" => Op::Lt,
                "<=" => Op::Le,
                ">" => Op::Gt,
                ">=" => Op::Ge,
                other => return Err(Error(format!("unrecognized filter operator {other}"))),
            };
            Filter {
                left: operand(&body[..i])?,
                compare: Some((op, operand(&body[i + op_len..])?)),
            }
        }
    };
    steps.push(Step::Filter(Box::new(filter)));
    Ok(rest)
}

fn in_quotes(text: &str, at: usize) -> bool {
    let mut quote = None;
    for (i, c) in text.char_indices() {
        if i == at {
            return quote.is_some();
        }
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            _ => {}
        }
    }
    false
}

/// One side of a filter: a quoted string, a number, `true`/`false`, or a
/// path from the element (`@.name`).
fn operand(text: &str) -> Result<Operand, Error> {
    let text = text.trim();
    if text.starts_with(['"', '\'']) {
        return Ok(Operand::Literal(Value::String(unquote(text)?)));
    }
    if let Ok(n) = text.parse::<i64>() {
        return Ok(Operand::Literal(Value::from(n)));
    }
    if let Ok(n) = text.parse::<f64>() {
        return Ok(Operand::Literal(Value::from(n)));
    }
    match text {
        "true" => Ok(Operand::Literal(Value::Bool(true))),
        "false" => Ok(Operand::Literal(Value::Bool(false))),
        _ => Ok(Operand::Path(parse_path(text)?)),
    }
}

fn render_nodes(nodes: &[Node], data: &Value, out: &mut String) -> Result<(), Error> {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Path(steps) => {
                let found = eval(steps, vec![data])?;
                for (i, v) in found.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(&text_of(v));
                }
            }
            Node::Range(steps, body) => {
                for v in eval(steps, vec![data])? {
                    render_nodes(body, v, out)?;
                }
            }
        }
    }
    Ok(())
}

/// A value as kubectl prints it: a string as is, the rest as compact JSON.
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn eval<'a>(steps: &[Step], start: Vec<&'a Value>) -> Result<Vec<&'a Value>, Error> {
    let mut current = start;
    for step in steps {
        let mut next = vec![];
        for v in current {
            apply(step, v, &mut next)?;
        }
        current = next;
    }
    Ok(current)
}

fn apply<'a>(step: &Step, v: &'a Value, next: &mut Vec<&'a Value>) -> Result<(), Error> {
    match step {
        Step::Field(name) => {
            if let Some(found) = v.get(name.as_str()) {
                next.push(found);
            }
        }
        Step::Wildcard => match v {
            Value::Object(map) => next.extend(map.values()),
            Value::Array(items) => next.extend(items),
            _ => {}
        },
        Step::Recursive => descend(v, next),
        Step::Slice(slice) => {
            if let Value::Array(items) = v {
                next.extend(slice.select(items)?);
            }
        }
        Step::Union(parts) => {
            for part in parts {
                next.extend(eval(part, vec![v])?);
            }
        }
        Step::Filter(filter) => {
            let items: Vec<&Value> = match v {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for item in items {
                if filter.holds(item)? {
                    next.push(item);
                }
            }
        }
    }
    Ok(())
}

/// `v` and every value below it, parents first.
fn descend<'a>(v: &'a Value, into: &mut Vec<&'a Value>) {
    into.push(v);
    match v {
        Value::Object(map) => map.values().for_each(|c| descend(c, into)),
        Value::Array(items) => items.iter().for_each(|c| descend(c, into)),
        _ => {}
    }
}

impl Slice {
    /// The items selected, as Go's jsonpath does (its errors included).
    fn select<'a>(&self, items: &'a [Value]) -> Result<Vec<&'a Value>, Error> {
        let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
        let raw_start = self.start.unwrap_or(0);
        let mut end = match (self.end, self.single) {
            (Some(e), _) => e,
            (None, true) => raw_start + 1,
            (None, false) => len,
        };
        let start = if raw_start < 0 {
            raw_start + len
        } else {
            raw_start
        };
        if end < 0 || (self.single && end == 0) {
            end += len;
        }
        if start == end {
            return Ok(vec![]);
        }
        if start >= len || start < 0 {
            return Err(Error(format!(
                "array index out of bounds: index {start}, length {len}"
            )));
        }
        if end > len || end < 0 {
            return Err(Error(format!(
                "array index out of bounds: index {}, length {len}",
                end - 1
            )));
        }
        if start > end {
            return Err(Error(format!(
                "starting index {start} is greater than ending index {end}"
            )));
        }
        let step = usize::try_from(self.step.unwrap_or(1).max(1)).unwrap_or(1);
        let (s, e) = (
            usize::try_from(start).unwrap_or(0),
            usize::try_from(end).unwrap_or(0),
        );
        Ok(items[s..e].iter().step_by(step).collect())
    }
}

impl Filter {
    fn holds(&self, item: &Value) -> Result<bool, Error> {
        let left = self.left.values(item)?;
        let Some((op, right)) = &self.compare else {
            return Ok(!left.is_empty());
        };
        let right = right.values(item)?;
        for l in &left {
            for r in &right {
                if op.holds(l, r) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}

impl Operand {
    fn values<'a>(&'a self, item: &'a Value) -> Result<Vec<&'a Value>, Error> {
        match self {
            Self::Literal(v) => Ok(vec![v]),
            Self::Path(steps) => eval(steps, vec![item]),
        }
    }
}

impl Op {
    fn holds(self, l: &Value, r: &Value) -> bool {
        let order = match (l, r) {
            (Value::Number(a), Value::Number(b)) => a
                .as_f64()
                .zip(b.as_f64())
                .and_then(|(a, b)| a.partial_cmp(&b)),
            (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
            (a, b) if a == b => Some(Ordering::Equal),
            _ => None,
        };
        match (self, order) {
            (Self::Eq, o) => o == Some(Ordering::Equal),
            (Self::Ne, o) => o != Some(Ordering::Equal),
            (_, None) => false,
            (Self::Lt, Some(o)) => o == Ordering::Less,
            (Self::Le, Some(o)) => o != Ordering::Greater,
            (Self::Gt, Some(o)) => o == Ordering::Greater,
            (Self::Ge, Some(o)) => o != Ordering::Less,
        }
    }
}

/// Orders two values as `--sort-by` does: numbers by value, strings
/// (RFC 3339 times included) by text, a missing value first.
pub fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .zip(y.as_f64())
            .and_then(|(x, y)| x.partial_cmp(&y))
            .unwrap_or(Ordering::Equal),
        (Some(x), Some(y)) => text_of(x).cmp(&text_of(y)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list() -> Value {
        json!({
            "kind": "List",
            "items": [
                {"metadata": {"name": "web", "labels": {"app": "web", "app.kubernetes.io/name": "x"}},
                 "spec": {"containers": [{"name": "nginx", "ports": [{"containerPort": 80}]},
                                         {"name": "side", "ports": [{"containerPort": 9000}]}]},
                 "status": {"phase": "Running", "podIP": "10.88.0.2"}},
                {"metadata": {"name": "db"},
                 "spec": {"containers": [{"name": "pg"}]},
                 "status": {"phase": "Pending"}},
            ],
        })
    }

    fn run(template: &str) -> String {
        Template::parse(template)
            .expect("parsed")
            .render(&list())
            .expect("rendered")
    }

    fn parse_error(template: &str) -> String {
        Template::parse(template).expect_err("refused").to_string()
    }

    #[test]
    fn fields_wildcards_and_literals() {
        assert_eq!(run("{.items[*].metadata.name}"), "web db");
        assert_eq!(run("{.items[0].status.podIP}"), "10.88.0.2");
        assert_eq!(
            run("name: {.items[1].metadata.name}{\"\\n\"}"),
            "name: db\n"
        );
        assert_eq!(
            run("{.items[*].status.podIP}"),
            "10.88.0.2",
            "missing: nothing"
        );
        assert_eq!(run("{.kind}{'\\t'}x"), "List\tx");
        assert_eq!(run("{$.kind}"), "List");
        assert_eq!(
            run("{.items[0].metadata.labels['app.kubernetes.io/name']}"),
            "x"
        );
        assert_eq!(
            run("{.items[0].metadata.labels.app\\.kubernetes\\.io/name}"),
            "x"
        );
    }

    #[test]
    fn objects_and_lists_print_as_compact_json() {
        assert_eq!(
            run("{.items[0].metadata.labels}"),
            r#"{"app":"web","app.kubernetes.io/name":"x"}"#
        );
        assert_eq!(
            run("{.items[0].spec.containers[1].ports}"),
            r#"[{"containerPort":9000}]"#
        );
    }

    #[test]
    fn indexes_and_slices_as_go_reads_them() {
        assert_eq!(run("{.items[-1:].metadata.name}"), "db");
        assert_eq!(run("{.items[-1].metadata.name}"), "db");
        assert_eq!(run("{.items[0:1].metadata.name}"), "web");
        assert_eq!(run("{.items[:].metadata.name}"), "web db");
        assert_eq!(run("{.items[0,1].metadata.name}"), "web db");
        assert_eq!(run("{.items[::2].metadata.name}"), "web");
        let err = Template::parse("{.items[5].metadata.name}")
            .expect("parsed")
            .render(&list())
            .expect_err("out of bounds")
            .to_string();
        assert_eq!(err, "array index out of bounds: index 5, length 2");
    }

    #[test]
    fn range_repeats_its_body_per_result() {
        assert_eq!(
            run("{range .items[*]}{.metadata.name}{\"\\t\"}{.status.phase}{\"\\n\"}{end}"),
            "web\tRunning\ndb\tPending\n"
        );
        assert_eq!(
            run("{range .items[*]}[{range .spec.containers[*]}{.name},{end}]{end}"),
            "[nginx,side,][pg,]"
        );
    }

    #[test]
    fn filters_compare_strings_numbers_and_test_presence() {
        assert_eq!(
            run(r#"{.items[?(@.metadata.name=="db")].status.phase}"#),
            "Pending"
        );
        assert_eq!(
            run("{.items[?(@.status.phase!='Running')].metadata.name}"),
            "db"
        );
        assert_eq!(
            run("{.items[*].spec.containers[?(@.ports[0].containerPort>80)].name}"),
            "side"
        );
        assert_eq!(run("{.items[?(@.status.podIP)].metadata.name}"), "web");
    }

    #[test]
    fn recursive_descent_finds_every_field_of_the_name() {
        assert_eq!(run("{..containerPort}"), "80 9000");
        assert_eq!(run("{.items[1]..name}"), "db pg");
    }

    #[test]
    fn bad_templates_get_kubectls_messages() {
        assert_eq!(parse_error("{.items[0]"), "unclosed action");
        assert_eq!(parse_error("{.items[0}"), "unterminated array");
        assert_eq!(parse_error("{.items[x]}"), "invalid array index x");
        assert_eq!(parse_error("{end}"), "not in range, nothing to end");
        assert_eq!(parse_error("{range .items[*]}{.a}"), "unclosed range");
        assert_eq!(parse_error("{.a[?(@.b==1}"), "unterminated filter");
        assert_eq!(parse_error("{.a[?(@.b==1)}"), "unclosed array expect ]");
        assert_eq!(parse_error("{....a}"), "invalid multiple recursive descent");
        assert_eq!(
            parse_error("{#}"),
            "unrecognized character in action: U+0023 '#'"
        );
    }

    #[test]
    fn relaxed_paths_take_every_kubectl_spelling() {
        for spelling in [
            ".metadata.name",
            "metadata.name",
            "{.metadata.name}",
            "{metadata.name}",
        ] {
            let t = Template::relaxed(spelling).expect("parsed");
            assert_eq!(
                t.render(&list()["items"][0]).expect("rendered"),
                "web",
                "{spelling}"
            );
        }
        assert!(
            Template::relaxed("{.a}{.b}")
                .expect_err("refused")
                .to_string()
                .starts_with("unexpected path string")
        );
    }

    #[test]
    fn sorting_orders_numbers_by_value_and_missing_first() {
        let (two, ten) = (json!(2), json!(10));
        assert_eq!(compare(Some(&two), Some(&ten)), Ordering::Less);
        assert_eq!(
            compare(Some(&json!("b")), Some(&json!("a"))),
            Ordering::Greater
        );
        assert_eq!(compare(None, Some(&two)), Ordering::Less);
    }
}
