//! A YAML document tree that remembers where each node is (1-based line and column),
//! built from yaml-rust2's event parser, so every Kubernetes finding can point at the
//! line that causes it.
//!
//! Aliases are expanded by copying the anchored node; the total number of nodes is
//! capped so an alias bomb ("billion laughs") fails the file instead of the machine.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Most nodes one file may expand to.
const MAX_NODES: usize = 500_000;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: u32,
    pub column: u32,
}

impl Node {
    /// The value under `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Self> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The key node of `key` (for locating a finding on the key itself).
    pub fn key(&self, key: &str) -> Option<&Self> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, _)| k),
            _ => None,
        }
    }

    /// Follows a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Self> {
        keys.iter().try_fold(self, |node, k| node.get(k))
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match &self.value {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> &[Self] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn entries(&self) -> &[(Self, Self)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// A scalar as text, whatever its type (`80`, `true`, `x`).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Float(f) => Some(f.to_string()),
            _ => None,
        }
    }

    /// Strings of a sequence of scalars (verbs, resources, capabilities).
    pub fn str_list(&self) -> Vec<String> {
        self.as_seq().iter().filter_map(Self::scalar_text).collect()
    }
}

/// A parse error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Parses every document of a multi-document stream.
pub fn parse(text: &str) -> Result<Vec<Node>, ParseError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| ParseError {
        line: to_u32(e.marker().line()),
        column: to_u32(e.marker().col() + 1),
        message: e.info().to_owned(),
    })?;
    if let Some(message) = builder.error {
        return Err(ParseError {
            line: builder.error_line,
            column: 1,
            message,
        });
    }
    Ok(builder.docs)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

enum Frame {
    Seq(Node),
    /// A mapping under construction and the key waiting for its value.
    Map(Node, Option<Node>),
}

#[derive(Default)]
struct Builder {
    docs: Vec<Node>,
    stack: Vec<(Frame, usize)>,
    /// Anchored nodes with their size in nodes.
    anchors: std::collections::HashMap<usize, (Node, usize)>,
    nodes: usize,
    error: Option<String>,
    error_line: u32,
}

fn count(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| count(k) + count(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

/// Plain scalars resolve by the YAML 1.2 core schema, as Kubernetes reads them;
/// quoted ones stay strings (`"true"` is text).
fn resolve(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    if style != TScalarStyle::Plain || tag.is_some_and(|t| t.suffix == "str") {
        return Value::Str(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::Int(i);
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Value::Int(i);
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Value::Int(i);
        }
    }
    if text.chars().any(|c| c.is_ascii_digit()) {
        if let Ok(f) = text.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(text)
}

impl Builder {
    /// Adds a finished node to its parent; `weight` is how many nodes it adds to the
    /// file's total (1, except for an alias, which copies a whole subtree).
    fn insert(&mut self, node: Node, weight: usize) {
        if self.error.is_some() {
            return;
        }
        self.nodes = self.nodes.saturating_add(weight);
        if self.nodes > MAX_NODES {
            self.error = Some(format!(
                "document expands to more than {MAX_NODES} nodes (alias bomb?)"
            ));
            self.error_line = node.line;
            return;
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some((Frame::Seq(seq), _)) => {
                if let Value::Seq(items) = &mut seq.value {
                    items.push(node);
                }
            }
            Some((Frame::Map(map, pending), _)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    if let Value::Map(entries) = &mut map.value {
                        entries.push((key, node));
                    }
                }
            },
        }
    }

    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor > 0 && self.error.is_none() {
            let size = count(&node);
            self.anchors.insert(anchor, (node.clone(), size));
        }
        self.insert(node, 1);
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let (line, column) = (to_u32(mark.line()), to_u32(mark.col() + 1));
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let node = Node {
                    value: resolve(text, style, tag.as_ref()),
                    line,
                    column,
                };
                self.finish(node, anchor);
            }
            Event::SequenceStart(anchor, _) => self.stack.push((
                Frame::Seq(Node {
                    value: Value::Seq(Vec::new()),
                    line,
                    column,
                }),
                anchor,
            )),
            Event::MappingStart(anchor, _) => self.stack.push((
                Frame::Map(
                    Node {
                        value: Value::Map(Vec::new()),
                        line,
                        column,
                    },
                    None,
                ),
                anchor,
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((frame, anchor)) = self.stack.pop() {
                    let node = match frame {
                        Frame::Seq(n) | Frame::Map(n, _) => n,
                    };
                    self.finish(node, anchor);
                }
            }
            Event::Alias(id) => {
                let size = self.anchors.get(&id).map_or(1, |(_, n)| *n);
                if self.error.is_some() || self.nodes.saturating_add(size) > MAX_NODES {
                    // Record the error without copying the subtree.
                    self.insert(
                        Node {
                            value: Value::Null,
                            line,
                            column,
                        },
                        size,
                    );
                    return;
                }
                let node = self.anchors.get(&id).map_or(
                    Node {
                        value: Value::Null,
                        line,
                        column,
                    },
                    |(n, _)| n.clone(),
                );
                self.insert(node, size);
            }
            Event::DocumentEnd => {
                // An empty document (`---` followed by nothing) yields nothing.
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_types() {
        let docs = parse("a: 1\nb:\n  c: true\n  d: \"true\"\n---\n- x\n- ~\n").expect("parses");
        assert_eq!(docs.len(), 2);
        let c = docs[0].path(&["b", "c"]).expect("c");
        assert_eq!((c.line, c.column), (3, 6));
        assert_eq!(c.as_bool(), Some(true));
        assert_eq!(
            docs[0].path(&["b", "d"]).and_then(Node::as_str),
            Some("true")
        );
        assert_eq!(docs[0].key("b").map(|k| k.line), Some(2));
        assert_eq!(docs[1].as_seq().len(), 2);
        assert_eq!(docs[1].as_seq()[1].value, Value::Null);
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("a: [1, 2\nb: c\n").expect_err("malformed");
        assert!(e.line >= 1, "{e:?}");
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse(&text).is_err());
    }
}
