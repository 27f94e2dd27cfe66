//! The shape nearly every aws-auth section has — a block list of flat mappings whose values
//! are one-line scalars or lists of them (or a list of account ids) — read line by line into
//! the same positioned nodes the general parser (`yaml`) builds, without its per-character
//! scanner. Anything outside that shape (tabs, escapes, anchors, flow mappings, multi-line
//! scalars, non-ASCII text, ...) gives `None`, and the section goes to the general parser;
//! a unit test checks both agree on every fixture. Pure: no I/O.

use super::yaml::{Node, Pos, Style, Value};

/// One line of the text, without its line break.
#[derive(Clone, Copy)]
pub(super) struct Line<'a> {
    /// Byte offset of its first character.
    pub start: usize,
    /// 1-based line number.
    pub no: usize,
    /// The text, without the line break.
    pub text: &'a str,
    /// Leading spaces.
    pub indent: usize,
}

/// Every line of `text`, with offsets and indents.
pub(super) fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::with_capacity(memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1);
    let mut start = 0;
    while start <= text.len() {
        let line = Line::at(text, start, out.len() + 1);
        start = line.end() + 1;
        out.push(line);
    }
    out
}

impl<'a> Line<'a> {
    /// The `no`-th line of `text` (1-based), which starts at byte `start`: up to the next
    /// line break or the end of the text. The one way the line readers cut lines.
    pub(super) fn at(text: &'a str, start: usize, no: usize) -> Line<'a> {
        let end = next_break(text.as_bytes(), start).unwrap_or(text.len());
        let raw = &text[start..end];
        Line {
            start,
            no,
            text: raw,
            indent: raw.bytes().take_while(|b| *b == b' ').count(),
        }
    }

    /// Where the line ends: the byte of its line break, or the text's end.
    pub(super) fn end(&self) -> usize {
        self.start + self.text.len()
    }
}

impl Line<'_> {
    /// The position of a column of this line (ASCII text: columns are bytes).
    pub fn pos(&self, col: usize) -> Pos {
        Pos {
            byte: self.start + col,
            line: self.no,
            col,
        }
    }

    /// True for a line YAML skips: blank, or only a comment.
    pub fn is_skipped(&self) -> bool {
        let rest = &self.text[self.indent..];
        rest.is_empty() || rest.starts_with('#')
    }

    /// For `- rest` at this line's indent: the column where `rest` starts.
    pub(super) fn dash_item(&self) -> Option<usize> {
        let rest = &self.text[self.indent..];
        let after = rest.strip_prefix('-')?;
        let spaces = after.len() - after.trim_start_matches(' ').len();
        (spaces > 0 && spaces < after.len()).then_some(self.indent + 1 + spaces)
    }
}

/// The root list of a section in the simple shape, with each item fully built; `None` when
/// the text is empty or has any other shape.
pub fn parse(text: &str) -> Option<Node> {
    if !plain_ascii(text) {
        return None;
    }
    let mut lines = lines(text);
    lines.retain(|l| !l.is_skipped());
    let first = lines.first()?;
    let root_col = first.indent;
    let root_start = first.pos(root_col);
    let mut items = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let line = lines[at];
        if line.indent != root_col {
            return None;
        }
        let rest_col = line.dash_item()?;
        let (item, next) = match key_at(&line, rest_col) {
            Some(_) => mapping(&lines, at, rest_col, root_col)?,
            None => {
                let node = scalar(&line, rest_col, false)?;
                (node, at + 1)
            }
        };
        items.push(item);
        at = next;
    }
    let end = items.last()?.end;
    Some(Node {
        value: Value::Seq(items),
        start: root_start,
        end,
        flow: false,
    })
}

/// `key:` at `col`: the key's end column and the column just past the colon.
pub(super) fn key_at(line: &Line, col: usize) -> Option<(usize, usize)> {
    let rest = &line.text[col..];
    let len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
        .count();
    if len == 0 || !rest.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    let after = &rest[len..];
    let colon = after.strip_prefix(':')?;
    (colon.is_empty() || colon.starts_with(' ')).then_some((col + len, col + len + 1))
}

/// A block mapping whose first key stands at `col` of `lines[at]` (an item's line); returns
/// it and the index of the first line after it.
fn mapping(lines: &[Line], at: usize, col: usize, root_col: usize) -> Option<(Node, usize)> {
    let mut pairs = Vec::new();
    let mut i = at;
    let mut key_col = col;
    loop {
        let line = lines[i];
        let (key_end, after_colon) = key_at(&line, key_col)?;
        let key = Node {
            value: Value::Scalar {
                text: line.text[key_col..key_end].to_string(),
                style: Style::Plain,
                str_tag: false,
            },
            start: line.pos(key_col),
            end: line.pos(key_end),
            flow: false,
        };
        let value_col = after_colon + (line.text.len() - after_colon)
            - line.text[after_colon..].trim_start_matches(' ').len();
        let rest = &line.text[value_col..];
        i += 1;
        let value = if rest.is_empty() || rest.starts_with('#') {
            match lines.get(i) {
                Some(next) if next.indent >= key_col && next.dash_item().is_some() => {
                    let (seq, after) = block_seq(lines, i)?;
                    i = after;
                    seq
                }
                _ => Node {
                    value: Value::Scalar {
                        text: String::new(),
                        style: Style::Plain,
                        str_tag: false,
                    },
                    start: key.end,
                    end: key.end,
                    flow: false,
                },
            }
        } else if rest.starts_with('[') {
            flow_seq(&line, value_col)?
        } else {
            scalar(&line, value_col, false)?
        };
        pairs.push((key, value));
        match lines.get(i) {
            None => break,
            Some(next) if next.indent == root_col && next.dash_item().is_some() => break,
            Some(next) if next.indent == col => key_col = col,
            Some(_) => return None,
        }
    }
    let start = pairs[0].0.start;
    let end = pairs.last()?.1.end;
    let node = Node {
        value: Value::Map(pairs),
        start,
        end,
        flow: false,
    };
    Some((node, i))
}

/// A block list of one-line scalars starting at `lines[at]`.
fn block_seq(lines: &[Line], at: usize) -> Option<(Node, usize)> {
    let indent = lines[at].indent;
    let mut items = Vec::new();
    let mut i = at;
    while let Some(line) = lines.get(i) {
        if line.indent != indent {
            break;
        }
        let Some(col) = line.dash_item() else { break };
        if key_at(line, col).is_some() {
            return None;
        }
        items.push(scalar(line, col, false)?);
        i += 1;
    }
    let node = Node {
        start: lines[at].pos(indent),
        end: items.last()?.end,
        value: Value::Seq(items),
        flow: false,
    };
    Some((node, i))
}

/// `[a, "b"]` on one line, starting at `col`; nothing but a comment may follow it.
fn flow_seq(line: &Line, col: usize) -> Option<Node> {
    let bytes = line.text.as_bytes();
    let mut items = Vec::new();
    let mut i = col + 1;
    let skip = |mut i: usize| {
        while bytes.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    };
    i = skip(i);
    if bytes.get(i) != Some(&b']') {
        loop {
            let item = scalar(line, i, true)?;
            i = skip(item.end.col);
            items.push(item);
            match bytes.get(i) {
                Some(b',') => i = skip(i + 1),
                Some(b']') => break,
                _ => return None,
            }
        }
    }
    let end = i + 1;
    if !ends_line(&line.text[end..]) {
        return None;
    }
    Some(Node {
        value: Value::Seq(items),
        start: line.pos(col),
        end: line.pos(end),
        flow: true,
    })
}

/// Where the next line break at or after `from` stands: eight bytes at a time. The lines of
/// an aws-auth are some 30 bytes long, shorter than a vectorised search takes to set up (and
/// the readers look for one per line of a large manifest, three times per write).
pub(super) fn next_break(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const BREAKS: u64 = ONES * b'\n' as u64;
    let mut at = from;
    while let Some(word) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(word.try_into().expect("eight bytes")) ^ BREAKS;
        // A byte that was `\n` is zero now; the lowest flagged byte is always a real one.
        let zero = word.wrapping_sub(ONES) & !word & HIGHS;
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at.min(bytes.len())..]
        .iter()
        .position(|b| *b == b'\n')
        .map(|i| at + i)
}

/// True for ASCII text without tabs or carriage returns: the only text these readers take.
pub(super) fn plain_ascii(text: &str) -> bool {
    // One pass without an early exit inside each chunk, which compiles to vector code: a
    // third of the three scans (is_ascii, then two searches) it replaced.
    let plain = |b: u8| (b < 0x80) & (b != b'\t') & (b != b'\r');
    text.as_bytes()
        .chunks(256)
        .all(|c| c.iter().fold(true, |all, &b| all & plain(b)))
}

/// Where the two-byte sequence `first second` starts in `text`: `str::find` with a string
/// pattern builds a searcher per call, and this runs for every scalar read.
fn find_pair(text: &str, first: u8, second: u8) -> Option<usize> {
    // Scalars are short: a plain loop beats restarting a searcher at every `:` of an ARN.
    let bytes = text.as_bytes();
    (1..bytes.len())
        .find(|&i| bytes[i - 1] == first && bytes[i] == second)
        .map(|i| i - 1)
}

/// Where a plain scalar outside flow lists ends: at a comment (` #`) or the line's end;
/// `None` when `: ` comes first (a mapping, not a scalar). One pass over an ARN's bytes
/// instead of two: this runs for every value of every entry read.
fn plain_end(bytes: &[u8]) -> Option<usize> {
    // Both marks hold a space: a value without one (nearly every ARN, name and group) ends
    // with its line, found by one vectorised search.
    let Some(space) = memchr::memchr(b' ', bytes) else {
        return Some(bytes.len());
    };
    for i in space.max(1)..bytes.len() {
        match (bytes[i - 1], bytes[i]) {
            (b' ', b'#') => return Some(i - 1),
            (b':', b' ') => return None,
            _ => {}
        }
    }
    Some(bytes.len())
}

/// True when only spaces, or spaces and a comment, follow.
pub(super) fn ends_line(rest: &str) -> bool {
    let t = rest.trim_start_matches(' ');
    t.is_empty() || (t.starts_with('#') && t.len() < rest.len())
}

/// A one-line scalar starting at `col`: quoted without escapes, or plain. In a flow list
/// (`in_flow`) it ends at `,` or `]`; otherwise only a comment may follow it.
pub(super) fn scalar(line: &Line, col: usize, in_flow: bool) -> Option<Node> {
    let (text, style, end) = scalar_span(line, col, in_flow)?;
    Some(Node {
        value: Value::Scalar {
            text: text.to_string(),
            style,
            str_tag: false,
        },
        start: line.pos(col),
        end: line.pos(end),
        flow: false,
    })
}

/// [`scalar`] without building a node: the scalar's text (borrowed), style and end column.
pub(super) fn scalar_span<'a>(
    line: &Line<'a>,
    col: usize,
    in_flow: bool,
) -> Option<(&'a str, Style, usize)> {
    let rest = &line.text[col..];
    let first = *rest.as_bytes().first()?;
    let (text, style, end) = if first == b'"' || first == b'\'' {
        let close = memchr::memchr(first, &rest.as_bytes()[1..])? + 1;
        let inner = &rest[1..close];
        if memchr::memchr(b'\\', inner.as_bytes()).is_some()
            || rest[close + 1..].starts_with(first as char)
        {
            return None;
        }
        let style = if first == b'"' {
            Style::DoubleQuoted
        } else {
            Style::SingleQuoted
        };
        (inner, style, col + close + 1)
    } else {
        let plain_start = first.is_ascii_alphanumeric()
            || b"/._~$(+=".contains(&first)
            || (first == b'-' && rest.len() > 1 && rest.as_bytes()[1] != b' ');
        if !plain_start {
            return None;
        }
        let stop = if in_flow {
            rest.find([',', ']', '[', '{', '}', '"', '\'', '#'])
                .unwrap_or(rest.len())
        } else {
            plain_end(rest.as_bytes())?
        };
        let text = rest[..stop].trim_end_matches(' ');
        let flow_breaks = in_flow
            && (find_pair(text, b' ', b'#').is_some() || find_pair(text, b':', b' ').is_some());
        if flow_breaks || text.ends_with(':') {
            return None;
        }
        (text, Style::Plain, col + text.len())
    };
    if !in_flow && !ends_line(&line.text[end..]) {
        return None;
    }
    Some((text, style, end))
}
