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
    let lines = simple_list::lines(text);
    let mut at = next_content(&lines, 0);
    let first = lines.get(at)?;
    if first.indent != 0 {
        return None;
    }
    let root = mapping(&lines, &mut at, 0)?;
    (at >= lines.len()).then(|| vec![root])
}

/// The index of the first line from `i` on that is not blank or a comment.
fn next_content(lines: &[Line], mut i: usize) -> usize {
    while lines.get(i).is_some_and(Line::is_skipped) {
        i += 1;
    }
    i
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

/// A block mapping whose keys stand at `indent`, from `lines[*at]`; leaves `*at` at the first
/// content line after it.
fn mapping(lines: &[Line], at: &mut usize, indent: usize) -> Option<Node> {
    let mut pairs: Vec<(Node, Node)> = Vec::new();
    while let Some(line) = lines.get(*at) {
        if line.indent < indent {
            break;
        }
        if line.indent > indent {
            return None;
        }
        let (key_end, after_colon) = key(line)?;
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
            *at = next_content(lines, *at + 1);
            match lines.get(*at) {
                Some(next) if next.indent > indent => {
                    if next.text[next.indent..].starts_with('-') {
                        return None;
                    }
                    mapping(lines, at, next.indent)?
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
            literal(lines, at, indent, value_col)?
        } else {
            let v = simple_list::scalar(line, value_col, false)?;
            *at = next_content(lines, *at + 1);
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

/// A literal block scalar whose header (`|`, `|-` or `|+`) stands at `col` of `lines[*at]`,
/// under a key at `parent` indent.
fn literal(lines: &[Line], at: &mut usize, parent: usize, col: usize) -> Option<Node> {
    let header = lines[*at];
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
    let first = lines.get(*at + 1)?;
    if first.indent <= parent || first.indent == first.text.len() {
        return None;
    }
    let indent = first.indent;
    let mut i = *at + 1;
    let mut last_content = i;
    while let Some(line) = lines.get(i) {
        let blank = line.indent == line.text.len();
        if blank {
            // A line of spaces deeper than the content would hold spaces: not this shape.
            if line.text.len() > indent {
                return None;
            }
        } else if line.indent < indent {
            break;
        } else {
            last_content = i;
        }
        i += 1;
    }
    // A last line without a line break: YAML's rules for it are not worth a special case.
    if last_content + 1 == lines.len() {
        return None;
    }
    let mut text = String::with_capacity(lines[last_content].start - first.start + 8);
    for line in &lines[*at + 1..=last_content] {
        if line.indent < indent {
            text.push('\n');
        } else {
            text.push_str(&line.text[indent..]);
            text.push('\n');
        }
    }
    // Trailing blank lines belong to the scalar; a text's final line break makes one more
    // `split` item that is not a line.
    let trailing = lines[last_content + 1..i].len()
        - usize::from(i == lines.len() && lines.last().is_some_and(|l| l.text.is_empty()));
    match chomp {
        Chomp::Strip => {
            text.pop();
        }
        Chomp::Clip => {}
        Chomp::Keep => text.extend(std::iter::repeat_n('\n', trailing)),
    }
    let end_line = lines[last_content];
    *at = next_content(lines, i);
    Some(Node {
        value: Value::Scalar {
            text,
            style: Style::Literal,
            str_tag: false,
        },
        start: first.pos(indent),
        end: end_line.pos(end_line.text.len()),
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
