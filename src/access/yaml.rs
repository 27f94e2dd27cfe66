//! A small YAML tree that remembers where every node stands in its source text, built on
//! saphyr's event parser. The aws-auth model needs positions to keep untouched text
//! byte-for-byte and to name the line of every problem. Pure: no I/O.

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// A position in the source: byte offset plus 1-based line and 0-based column (in chars).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Byte offset into the source text.
    pub byte: usize,
    /// 1-based line number.
    pub line: usize,
    /// 0-based column, in characters.
    pub col: usize,
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// No quotes.
    Plain,
    /// `'...'`.
    SingleQuoted,
    /// `"..."`.
    DoubleQuoted,
    /// `|` block.
    Literal,
    /// `>` block.
    Folded,
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar with its text and style; `str_tag` is true for an explicit `!!str` tag.
    Scalar {
        /// The scalar's value after unescaping.
        text: String,
        /// How it was written.
        style: Style,
        /// Whether an explicit `!!str` tag makes it a string whatever it looks like.
        str_tag: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<(Node, Node)>),
    /// An alias (`*name`); okscript refuses to edit through these.
    Alias,
}

/// A node and the source range it covers (`end` excludes trailing comments and blank lines).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The node's content.
    pub value: Value,
    /// Where the node starts (a block collection starts at its first key or item).
    pub start: Pos,
    /// Just past the node's last character of content.
    pub end: Pos,
    /// True for `[...]` and `{...}` collections.
    pub flow: bool,
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {col}: {message}")]
pub struct SyntaxError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// The parser's description.
    pub message: String,
}

/// Maps saphyr's character indexes to byte offsets.
struct Offsets {
    ascii: bool,
    bytes: Vec<usize>,
}

impl Offsets {
    fn new(text: &str) -> Offsets {
        if text.is_ascii() {
            return Offsets {
                ascii: true,
                bytes: Vec::new(),
            };
        }
        let mut bytes: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        bytes.push(text.len());
        Offsets {
            ascii: false,
            bytes,
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.ascii {
            char_index
        } else {
            self.bytes[char_index.min(self.bytes.len() - 1)]
        }
    }
}

struct Builder<'a> {
    text: &'a str,
    offsets: Offsets,
}

enum Frame {
    Seq(Vec<Node>, Pos, bool),
    Map(Vec<(Node, Node)>, Option<Node>, Pos, bool),
}

impl Builder<'_> {
    fn pos(&self, m: saphyr_parser::Marker) -> Pos {
        Pos {
            byte: self.offsets.byte(m.index()),
            line: m.line(),
            col: m.col(),
        }
    }

    /// The end of a block scalar's content: the end of its last non-blank line. saphyr's
    /// span runs on to the next token, over blank lines and comments that are not content.
    fn block_scalar_end(&self, start: Pos, span_end: Pos) -> Pos {
        let region = &self.text[start.byte..span_end.byte.max(start.byte)];
        let content = region.trim_end_matches([' ', '\t', '\n', '\r']).len();
        if content == 0 {
            return start;
        }
        // Trailing spaces of the last content line are content: end at its line break.
        let last = start.byte + content;
        let line_end = self.text[last..]
            .find('\n')
            .map_or(self.text.len(), |i| last + i);
        self.pos_after(start, line_end.trim_cr(self.text))
    }

    /// The byte after a quoted scalar's closing quote (saphyr's span may run past it).
    fn quoted_end(&self, start: Pos, span_end: Pos) -> Pos {
        let bytes = self.text.as_bytes();
        let quote = bytes[start.byte];
        let mut i = start.byte + 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if quote == b'"' => i += 2,
                b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
                c if c == quote => return self.pos_after(start, i + 1),
                _ => i += 1,
            }
        }
        span_end
    }

    /// A plain scalar ends before any trailing comment or white space.
    fn plain_end(&self, start: Pos, span_end: Pos) -> Pos {
        let region = &self.text[start.byte..span_end.byte.max(start.byte)];
        let region = region.find(" #").map_or(region, |i| &region[..i]);
        let len = region.trim_end().len();
        if start.byte + len == span_end.byte {
            span_end
        } else {
            self.pos_after(start, start.byte + len)
        }
    }

    /// The position of `byte`, counted from `from` (a known position at or before it): only
    /// the text in between is scanned, so finding a node's end never rescans the document.
    fn pos_after(&self, from: Pos, byte: usize) -> Pos {
        let between = &self.text[from.byte..byte];
        match between.rfind('\n') {
            None => Pos {
                byte,
                line: from.line,
                col: from.col + between.chars().count(),
            },
            Some(last) => Pos {
                byte,
                line: from.line + between.bytes().filter(|b| *b == b'\n').count(),
                col: between[last + 1..].chars().count(),
            },
        }
    }

    fn is_flow_start(&self, at: Pos) -> bool {
        matches!(self.text.as_bytes().get(at.byte), Some(b'[') | Some(b'{'))
    }
}

/// Steps a line-end offset back over a `\r`.
pub trait TrimCr {
    /// The offset, one less when the byte before it is `\r`.
    fn trim_cr(self, text: &str) -> usize;
}

impl TrimCr for usize {
    /// Steps back over a `\r` so that CRLF line ends stay whole.
    fn trim_cr(self, text: &str) -> usize {
        if self > 0 && text.as_bytes().get(self - 1) == Some(&b'\r') {
            self - 1
        } else {
            self
        }
    }
}

fn style_of(s: ScalarStyle) -> Style {
    match s {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::SingleQuoted,
        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        ScalarStyle::Literal => Style::Literal,
        ScalarStyle::Folded => Style::Folded,
    }
}

/// Parses every document in `text` into a tree of positioned nodes.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, SyntaxError> {
    parse_streaming(text, |_: &Node| Ok::<(), SyntaxError>(())).map_err(|e| match e {
        StreamError::Syntax(s) | StreamError::Item(s) => s,
    })
}

/// Why a streaming parse stopped.
#[derive(Debug)]
pub enum StreamError<E> {
    /// The YAML is malformed.
    Syntax(SyntaxError),
    /// The item callback refused an item.
    Item(E),
}

/// Parses like [`parse_documents`], but hands each item of a top-level sequence to
/// `on_item` as soon as it is complete and keeps only an empty placeholder with its
/// position: a section of thousands of entries never exists as a whole tree.
pub fn parse_streaming<E>(
    text: &str,
    mut on_item: impl FnMut(&Node) -> Result<(), E>,
) -> Result<Vec<Node>, StreamError<E>> {
    let b = Builder {
        text,
        offsets: Offsets::new(text),
    };
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut current: Option<Node> = None;
    while let Some(next) = parser.next_event() {
        let (event, span): (Event, Span) = next.map_err(|e| {
            StreamError::Syntax(SyntaxError {
                line: e.marker().line(),
                col: e.marker().col() + 1,
                message: e.info().to_string(),
            })
        })?;
        let start = b.pos(span.start);
        let end = b.pos(span.end);
        let finished: Option<Node> = match event {
            Event::Scalar(value, style, _, tag) => {
                let style = style_of(style);
                let end = match style {
                    Style::Literal | Style::Folded => b.block_scalar_end(start, end),
                    Style::DoubleQuoted | Style::SingleQuoted => b.quoted_end(start, end),
                    Style::Plain => b.plain_end(start, end),
                };
                let str_tag = tag.is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "str");
                Some(Node {
                    value: Value::Scalar {
                        text: value.into_owned(),
                        style,
                        str_tag,
                    },
                    start,
                    end,
                    flow: false,
                })
            }
            Event::Alias(_) => Some(Node {
                value: Value::Alias,
                start,
                end,
                flow: false,
            }),
            Event::SequenceStart(..) => {
                stack.push(Frame::Seq(Vec::new(), start, b.is_flow_start(start)));
                None
            }
            Event::MappingStart(..) => {
                stack.push(Frame::Map(Vec::new(), None, start, b.is_flow_start(start)));
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(items, s, flow)) => {
                    let e = if flow {
                        end
                    } else {
                        items.last().map_or(s, |n| n.end)
                    };
                    Some(Node {
                        value: Value::Seq(items),
                        start: s,
                        end: e,
                        flow,
                    })
                }
                _ => unreachable!("saphyr balances sequence events"),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(pairs, _, s, flow)) => {
                    let e = if flow {
                        end
                    } else {
                        pairs.last().map_or(s, |(_, v)| v.end)
                    };
                    Some(Node {
                        value: Value::Map(pairs),
                        start: s,
                        end: e,
                        flow,
                    })
                }
                _ => unreachable!("saphyr balances mapping events"),
            },
            Event::DocumentEnd => {
                docs.push(current.take().unwrap_or(Node {
                    value: Value::Scalar {
                        text: String::new(),
                        style: Style::Plain,
                        str_tag: false,
                    },
                    start,
                    end: start,
                    flow: false,
                }));
                None
            }
            _ => None,
        };
        if let Some(node) = finished {
            let root_item = stack.len() == 1;
            match stack.last_mut() {
                Some(Frame::Seq(items, ..)) if root_item => {
                    on_item(&node).map_err(StreamError::Item)?;
                    items.push(Node {
                        value: Value::Seq(Vec::new()),
                        ..node
                    });
                }
                Some(Frame::Seq(items, ..)) => items.push(node),
                Some(Frame::Map(pairs, key, ..)) => match key.take() {
                    Some(k) => {
                        let mut node = node;
                        // An implicit null (`key:` or `{"key"}`) has no text; saphyr spans it
                        // over whatever token follows (even a `}`). It stands after its key.
                        if node.is_null() && node.as_scalar() == Some("") {
                            node.start = k.end;
                            node.end = k.end;
                        }
                        pairs.push((k, node))
                    }
                    None => *key = Some(node),
                },
                None => current = Some(node),
            }
        }
    }
    Ok(docs)
}

impl Node {
    /// The scalar's text, if this is a scalar.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The scalar's text when YAML (1.1, as Go's parser reads it, or 1.2) types it as a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar {
                text,
                style,
                str_tag,
            } if *str_tag || *style != Style::Plain || plain_is_string(text) => Some(text),
            _ => None,
        }
    }

    /// True for a plain scalar that YAML reads as null (`~`, `null`, or nothing).
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, style: Style::Plain, str_tag: false } if is_null_word(text))
    }

    /// The value of `key` in a mapping, comparing keys exactly.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| k.as_scalar() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// A short name for the node's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar { .. } if self.is_null() => "nothing (null)",
            Value::Scalar { .. } if self.as_str().is_none() => "a number or boolean",
            Value::Scalar { .. } => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
            Value::Alias => "an alias",
        }
    }
}

/// True for the plain scalars YAML reads as null.
pub(super) fn is_null_word(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// True when a plain scalar is a string under both YAML 1.1 (Go's yaml.v2, which the EKS
/// authenticator uses) and YAML 1.2: not null, boolean, integer or float.
pub fn plain_is_string(text: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    if is_null_word(text) || WORDS.contains(&text) {
        return false;
    }
    !looks_numeric(text)
}

fn looks_numeric(text: &str) -> bool {
    let t = text.strip_prefix(['+', '-']).unwrap_or(text);
    let lower = t.to_ascii_lowercase();
    if matches!(lower.as_str(), ".inf" | ".nan") {
        return true;
    }
    if let Some(hex) = lower.strip_prefix("0x") {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit() || c == '_');
    }
    if let Some(rest) = lower
        .strip_prefix("0o")
        .or_else(|| lower.strip_prefix("0b"))
    {
        return !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    }
    // Decimal and float forms, with YAML 1.1's `_` separators and `:` sexagesimals.
    let digits = lower.replace(['_', ':'], "");
    !digits.is_empty()
        && lower.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && digits.parse::<f64>().is_ok()
}

/// Renders `text` as a YAML scalar that every YAML reader takes for this exact string:
/// plain when that is unambiguous, double-quoted (JSON escapes, valid YAML) otherwise.
pub fn scalar(text: &str) -> String {
    if plain_is_safe(text) {
        text.to_string()
    } else {
        double_quoted(text)
    }
}

/// Renders `text` as a double-quoted scalar; JSON string syntax is valid YAML.
pub fn double_quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serializes")
}

fn plain_is_safe(text: &str) -> bool {
    let first = match text.chars().next() {
        Some(c) => c,
        None => return false,
    };
    first.is_ascii_alphabetic()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./@:+=-{}".contains(c))
        && !text.ends_with(':')
        && plain_is_string(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Node {
        parse_documents(text).unwrap().remove(0)
    }

    #[test]
    fn positions_cover_scalars_exactly() {
        let text = "a: b\nkey: \"quoted\" # c\n";
        let d = doc(text);
        let v = d.get("key").unwrap();
        assert_eq!(&text[v.start.byte..v.end.byte], "\"quoted\"");
        assert_eq!(v.start.line, 2);
    }

    #[test]
    fn block_scalars_end_at_their_last_content_line() {
        let text = "y: |-\n  abc  \n\n\n# tail\nz: 1\n";
        let d = doc(text);
        let v = d.get("y").unwrap();
        assert_eq!(v.as_scalar(), Some("abc  "));
        assert_eq!(&text[v.end.byte..], "\n\n\n# tail\nz: 1\n");
        let text = "y: |\n  - a\n  - b\n";
        let v = doc(text).get("y").unwrap().clone();
        assert_eq!(&text[v.end.byte..], "\n");
    }

    #[test]
    fn non_ascii_text_keeps_byte_offsets() {
        let text = "a: \"é\"\nb: \"ø\"\n";
        let d = doc(text);
        let v = d.get("b").unwrap();
        assert_eq!(&text[v.start.byte..v.end.byte], "\"ø\"");
    }

    #[test]
    fn flow_collections_are_marked() {
        let d = doc("{\"a\": [1, 2], \"b\": {}}");
        assert!(d.flow);
        assert!(d.get("a").unwrap().flow);
        let d = doc("a:\n  - 1\n");
        assert!(!d.flow);
        assert!(!d.get("a").unwrap().flow);
    }

    #[test]
    fn syntax_errors_carry_their_line() {
        let e = parse_documents("- groups:\n\t- x\n").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn yaml_11_non_strings_are_recognised() {
        for t in [
            "",
            "~",
            "null",
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "123",
            "-1",
            "0x1F",
            "0o17",
            "1_000",
            "1.5",
            "1e3",
            ".inf",
            "-.Inf",
            ".NaN",
            "190:20:30",
            "012345678901",
        ] {
            assert!(!plain_is_string(t), "{t:?}");
        }
        for t in [
            "admin",
            "system:masters",
            "1a",
            "e1",
            "no-way",
            "yes-please",
            "-",
        ] {
            assert!(plain_is_string(t), "{t:?}");
        }
    }

    #[test]
    fn rendered_scalars_read_back_as_the_same_string() {
        for t in [
            "admin",
            "admin:{{SessionName}}",
            "{{SessionName}}",
            "system:masters",
            "123456789012",
            "yes",
            "a b",
            "a: b",
            "# x",
            "-x",
            "x:",
            "ünï",
            "\"q\"",
            "",
            "on",
            "arn:aws:iam::123456789012:role/x",
        ] {
            let y = format!("k: {}\n", scalar(t));
            let d = doc(&y);
            assert_eq!(d.get("k").unwrap().as_str(), Some(t), "{y}");
        }
    }
}
