//! kubectl's selectors: `-l/--selector` over labels (equality `a=b`,
//! `a==b`, `a!=b`; set-based `a in (x,y)`, `a notin (x)`, `a`, `!a`; the
//! requirements of a list all hold) and `--field-selector` over a fixed set
//! of fields per kind (`status.phase=Running,metadata.name!=web`). The
//! grammar and the error texts are apimachinery's (`labels.Parse`,
//! `fields.ParseSelector`).

use std::collections::BTreeMap;

/// A parsed `-l` selector.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector(Vec<Requirement>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Exists(String),
    NotExists(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Not,
    Eq,
    DoubleEq,
    NotEq,
    Open,
    Close,
    Comma,
    End,
}

impl Token {
    /// The token as apimachinery's messages quote it.
    fn literal(&self) -> String {
        match self {
            Self::Ident(s) => s.clone(),
            Self::Not => "!".into(),
            Self::Eq => "=".into(),
            Self::DoubleEq => "==".into(),
            Self::NotEq => "!=".into(),
            Self::Open => "(".into(),
            Self::Close => ")".into(),
            Self::Comma => ",".into(),
            Self::End => String::new(),
        }
    }
}

fn tokens(text: &str) -> Vec<Token> {
    let mut out = vec![];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            '!' if chars.peek() == Some(&'=') => {
                chars.next();
                Token::NotEq
            }
            '!' => Token::Not,
            '=' if chars.peek() == Some(&'=') => {
                chars.next();
                Token::DoubleEq
            }
            '=' => Token::Eq,
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            c => {
                let mut ident = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || matches!(n, '!' | '=' | '(' | ')' | ',') {
                        break;
                    }
                    ident.push(n);
                    chars.next();
                }
                Token::Ident(ident)
            }
        };
        out.push(token);
    }
    out.push(Token::End);
    out
}

fn found(token: &Token, expected: &str) -> String {
    format!("found '{}', expected: {expected}", token.literal())
}

impl LabelSelector {
    /// Parses `text`; apimachinery's message for a bad one.
    pub fn parse(text: &str) -> Result<Self, String> {
        let tokens = tokens(text);
        let mut at = 0;
        let mut reqs = vec![];
        if tokens[0] == Token::End {
            return Ok(Self(reqs));
        }
        loop {
            let req = requirement(&tokens, &mut at)
                .map_err(|e| format!("unable to parse requirement: {e}"))?;
            reqs.push(req);
            match &tokens[at] {
                Token::End => break,
                Token::Comma => at += 1,
                other => return Err(found(other, "',' or 'end of string'")),
            }
        }
        Ok(Self(reqs))
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| match r {
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
        })
    }
}

fn requirement(tokens: &[Token], at: &mut usize) -> Result<Requirement, String> {
    let negated = tokens[*at] == Token::Not;
    if negated {
        *at += 1;
    }
    let Token::Ident(key) = &tokens[*at] else {
        return Err(found(&tokens[*at], "identifier"));
    };
    let key = key.clone();
    *at += 1;
    if negated {
        return Ok(Requirement::NotExists(key));
    }
    let op = tokens[*at].clone();
    match op {
        Token::End | Token::Comma => return Ok(Requirement::Exists(key)),
        Token::Eq | Token::DoubleEq | Token::NotEq => {
            *at += 1;
            let value = match &tokens[*at] {
                Token::Ident(v) => {
                    *at += 1;
                    v.clone()
                }
                Token::End | Token::Comma => String::new(),
                other => return Err(found(other, "identifier")),
            };
            return Ok(if op == Token::NotEq {
                Requirement::NotIn(key, vec![value])
            } else {
                Requirement::In(key, vec![value])
            });
        }
        Token::Ident(ref word) if word == "in" || word == "notin" => {
            *at += 1;
            let values = set(tokens, at)?;
            return Ok(if word == "in" {
                Requirement::In(key, values)
            } else {
                Requirement::NotIn(key, values)
            });
        }
        _ => {}
    }
    Err(found(&op, "in, notin, =, ==, !=, gt, lt"))
}

/// `(a, b, ...)` of `in`/`notin`.
fn set(tokens: &[Token], at: &mut usize) -> Result<Vec<String>, String> {
    if tokens[*at] != Token::Open {
        return Err(found(&tokens[*at], "'('"));
    }
    *at += 1;
    let mut values = vec![];
    loop {
        match &tokens[*at] {
            Token::Ident(v) => {
                values.push(v.clone());
                *at += 1;
            }
            // An empty value: `(a,)`, `()`.
            Token::Comma | Token::Close => values.push(String::new()),
            other => return Err(found(other, "',', ')' or identifier")),
        }
        match &tokens[*at] {
            Token::Comma => *at += 1,
            Token::Close => {
                *at += 1;
                return Ok(values);
            }
            other => return Err(found(other, "',' or ')'")),
        }
    }
}

/// A parsed `--field-selector`: `field op value` terms, all holding.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parses `text`, accepting only the `supported` fields of the kind.
    pub fn parse(text: &str, supported: &[&str]) -> Result<Self, String> {
        let mut terms = vec![];
        for term in text.split(',').filter(|t| !t.is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = term.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = term.split_once('=') {
                (f, true, v)
            } else {
                return Err(format!(
                    "invalid selector: '{text}'; can't understand '{term}'"
                ));
            };
            let field = field.trim();
            if !supported.contains(&field) {
                return Err(format!("field label not supported: {field}"));
            }
            terms.push((field.to_owned(), equal, value.trim().to_owned()));
        }
        Ok(Self(terms))
    }

    /// Whether `object` (as JSON) satisfies every term; a missing field
    /// reads as the empty string, as the API server's field sets have it.
    pub fn matches(&self, object: &serde_json::Value) -> bool {
        self.0.iter().all(|(field, equal, value)| {
            let actual = field
                .split('.')
                .try_fold(object, |v, part| v.get(part))
                .map(crate::jsonpath::text_of)
                .unwrap_or_default();
            (actual == *value) == *equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn matches(selector: &str, pairs: &[(&str, &str)]) -> bool {
        LabelSelector::parse(selector)
            .expect("parsed")
            .matches(&labels(pairs))
    }

    #[test]
    fn equality_requirements() {
        assert!(matches("app=web", &[("app", "web")]));
        assert!(matches("app==web", &[("app", "web"), ("x", "y")]));
        assert!(!matches("app=web", &[("app", "db")]));
        assert!(matches("app!=web", &[("app", "db")]));
        assert!(matches("app!=web", &[]), "!= holds without the key");
        assert!(matches(
            "app=web, tier = front",
            &[("app", "web"), ("tier", "front")]
        ));
        assert!(!matches("app=web,tier=front", &[("app", "web")]));
        assert!(matches("", &[]), "the empty selector matches all");
        assert!(matches("app=", &[("app", "")]));
    }

    #[test]
    fn set_based_requirements() {
        assert!(matches("env in (prod, qa)", &[("env", "qa")]));
        assert!(!matches("env in (prod,qa)", &[("env", "dev")]));
        assert!(!matches("env in (prod)", &[]));
        assert!(matches("env notin (prod)", &[("env", "dev")]));
        assert!(matches("env notin (prod)", &[]));
        assert!(matches("env", &[("env", "x")]));
        assert!(!matches("env", &[]));
        assert!(matches("!env", &[]));
        assert!(!matches("!env", &[("env", "x")]));
        assert!(matches(
            "app=web,!canary,env in (a,b)",
            &[("app", "web"), ("env", "b")]
        ));
    }

    #[test]
    fn bad_selectors_get_apimachinerys_messages() {
        let err = |s: &str| LabelSelector::parse(s).expect_err("refused");
        assert_eq!(
            err("env in prod"),
            "unable to parse requirement: found 'prod', expected: '('"
        );
        assert_eq!(
            err("env in (prod"),
            "unable to parse requirement: found '', expected: ',' or ')'"
        );
        assert_eq!(
            err("=web"),
            "unable to parse requirement: found '=', expected: identifier"
        );
        assert_eq!(
            err("app web"),
            "unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt"
        );
        assert_eq!(
            err("app=web=x"),
            "found '=', expected: ',' or 'end of string'"
        );
    }

    #[test]
    fn field_selectors_compare_fields_and_refuse_unknown_ones() {
        let pod = serde_json::json!({
            "metadata": {"name": "web", "namespace": "default"},
            "status": {"phase": "Running"},
        });
        let supported = ["metadata.name", "status.phase", "spec.nodeName"];
        let sel = |s: &str| FieldSelector::parse(s, &supported);
        assert!(sel("status.phase=Running").expect("ok").matches(&pod));
        assert!(
            sel("status.phase==Running,metadata.name!=db")
                .expect("ok")
                .matches(&pod)
        );
        assert!(!sel("status.phase!=Running").expect("ok").matches(&pod));
        assert!(sel("spec.nodeName=").expect("ok").matches(&pod));
        assert_eq!(
            sel("status.phas=Running").expect_err("refused"),
            "field label not supported: status.phas"
        );
        assert_eq!(
            sel("status.phase").expect_err("refused"),
            "invalid selector: 'status.phase'; can't understand 'status.phase'"
        );
    }
}
