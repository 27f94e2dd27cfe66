//! The shape nearly every aws-auth manifest has — one document of nested block mappings whose
//! values are one-line scalars or literal (`|`, `|-`, `|+`) blocks — read line by line into
//! the same positioned nodes the general parser (`yaml`) builds. The data sections are big
//! literal blocks, and this reader takes their text as whole lines instead of character by
//! character. Anything else (`---`, flow collections, lists, folded blocks, tabs, non-ASCII
//! text, ...) gives `None` and goes to the general parser; tests check both agree. Pure.

use super::simple_list::{self, Line};
use super::yaml::{Node, Style, Value};

/// The single document of `text` in the simple shape, or `None`.
pub fn parse(text: &str) -> Option<Vec<Node>> {
    if !simple_list::plain_ascii(text) {
        return None;
    }
    let mut lines = Raw::new(text);
    lines.skip_blank();
    if lines.get()?.indent != 0 {
        return None;
    }
    let root = mapping(&mut lines, 0)?;
    lines.get().is_none().then(|| vec![root])
}

/// The lines of a text, read as they are reached: no table of every line of a large
/// manifest (it is read twice per write: once to edit, once to check what was written).
struct Raw<'a> {
    text: &'a str,
    /// Where the line after the current one starts.
    next: usize,
    no: usize,
    current: Option<Line<'a>>,
}

impl<'a> Raw<'a> {
    fn new(text: &'a str) -> Raw<'a> {
        let mut raw = Raw {
            text,
            next: 0,
            no: 0,
            current: None,
        };
        raw.advance();
        raw
    }

    /// The current line; `None` past the last (the empty one after a final line break
    /// counts as a line).
    fn get(&self) -> Option<Line<'a>> {
        self.current
    }

    fn advance(&mut self) {
        if self.next > self.text.len() {
            self.current = None;
            return;
        }
        self.no += 1;
        let line = Line::at(self.text, self.next, self.no);
        self.next = line.end() + 1;
        self.current = Some(line);
    }

    /// Moves to the first line from here on that is not blank or a comment.
    fn skip_blank(&mut self) {
        while self.current.is_some_and(|l| l.is_skipped()) {
            self.advance();
        }
    }
}

/// `key:` at the line's indent: the key's end column and the column past the colon.
fn key(line: &Line) -> Option<(usize, usize)> {
    let rest = &line.text[line.indent..];
    let len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || b"_-./".contains(b))
        .count();
    if len == 0 || !rest.as_bytes()[0].is_ascii_alphanumeric() {
        return None;
    }
    let colon = rest[len..].strip_prefix(':')?;
    (colon.is_empty() || colon.starts_with(' '))
        .then_some((line.indent + len, line.indent + len + 1))
}

/// A block mapping whose keys stand at `indent`, from the current line; leaves `lines` at
/// the first content line after it.
fn mapping(lines: &mut Raw, indent: usize) -> Option<Node> {
    let mut pairs: Vec<(Node, Node)> = Vec::new();
    while let Some(line) = lines.get() {
        if line.indent < indent {
            break;
        }
        if line.indent > indent {
            return None;
        }
        let (key_end, after_colon) = key(&line)?;
        let k = Node {
            value: Value::Scalar {
                text: line.text[indent..key_end].to_string(),
                style: Style::Plain,
                str_tag: false,
            },
            start: line.pos(indent),
            end: line.pos(key_end),
            flow: false,
        };
        let rest = &line.text[after_colon..];
        let value_col = after_colon + rest.len() - rest.trim_start_matches(' ').len();
        let rest = &line.text[value_col..];
        let value = if rest.is_empty() || rest.starts_with('#') {
            lines.advance();
            lines.skip_blank();
            match lines.get() {
                Some(next) if next.indent > indent => {
                    if next.text[next.indent..].starts_with('-') {
                        return None;
                    }
                    mapping(lines, next.indent)?
                }
                _ => Node {
                    value: Value::Scalar {
                        text: String::new(),
                        style: Style::Plain,
                        str_tag: false,
                    },
                    start: k.end,
                    end: k.end,
                    flow: false,
                },
            }
        } else if rest.starts_with('|') {
            literal(lines, indent, value_col)?
        } else {
            let v = simple_list::scalar(&line, value_col, false)?;
            lines.advance();
            lines.skip_blank();
            v
        };
        pairs.push((k, value));
    }
    let start = pairs.first()?.0.start;
    let end = pairs.last()?.1.end;
    Some(Node {
        value: Value::Map(pairs),
        start,
        end,
        flow: false,
    })
}

/// A literal block scalar whose header (`|`, `|-` or `|+`) stands at `col` of the current
/// line, under a key at `parent` indent.
fn literal(lines: &mut Raw, parent: usize, col: usize) -> Option<Node> {
    let header = lines.get()?;
    let indicator = &header.text[col + 1..];
    let (chomp, after) = match indicator.as_bytes().first() {
        Some(b'-') => (Chomp::Strip, &indicator[1..]),
        Some(b'+') => (Chomp::Keep, &indicator[1..]),
        _ => (Chomp::Clip, indicator),
    };
    if !simple_list::ends_line(after) {
        return None;
    }
    // Content: from the next line, indented past the parent; the first line sets the indent.
    lines.advance();
    let first = lines.get()?;
    if first.indent <= parent || first.indent == first.text.len() {
        return None;
    }
    let indent = first.indent;
    // At most the rest of the text: one allocation, not a dozen as a large section grows.
    let mut text = String::with_capacity(lines.text.len() - first.start);
    let mut last = first;
    // Blank lines since the last content line: inside the scalar if more content follows.
    let mut blanks = 0;
    while let Some(line) = lines.get() {
        if line.indent == line.text.len() {
            // A line of spaces deeper than the content would hold spaces: not this shape.
            if line.text.len() > indent {
                return None;
            }
            blanks += 1;
        } else if line.indent < indent {
            break;
        } else {
            if blanks > 0 {
                text.extend(std::iter::repeat_n('\n', blanks));
                blanks = 0;
            }
            // The line with its line break in one copy (a last line without one: see below).
            let end = (line.end() + 1).min(lines.text.len());
            text.push_str(&lines.text[line.start + indent..end]);
            last = line;
        }
        lines.advance();
    }
    let at_end = lines.get().is_none();
    // A last line without a line break (content, or spaces that parsers count differently):
    // YAML's rules for it are not worth a special case.
    if at_end && !lines.text.ends_with('\n') {
        return None;
    }
    // Trailing blank lines belong to the scalar; a text's final line break makes one more
    // line that is not one.
    let trailing = blanks - usize::from(at_end);
    match chomp {
        Chomp::Strip => {
            text.pop();
        }
        Chomp::Clip => {}
        Chomp::Keep => text.extend(std::iter::repeat_n('\n', trailing)),
    }
    lines.skip_blank();
    Some(Node {
        value: Value::Scalar {
            text,
            style: Style::Literal,
            str_tag: false,
        },
        start: first.pos(indent),
        end: last.pos(last.text.len()),
        flow: false,
    })
}

/// A block scalar's chomping indicator.
enum Chomp {
    /// `-`: no final line break.
    Strip,
    /// none: one final line break.
    Clip,
    /// `+`: every final line break.
    Keep,
}
