//! The usual section shape (see `simple_list`) read straight into entries: no positioned
//! node tree, no string per key, one pass over the lines. This is the read every grant into a
//! large aws-auth pays for. It takes only what it can read exactly as the authenticator does
//! — known keys, each once, with non-null values — and gives `None` for anything else
//! (unknown keys, nulls, wrong types, other shapes), which then goes to the node readers that
//! hold the rules and the error messages. Property tests compare it with the general parser.
//! Pure: no I/O.

use std::sync::Arc;

use super::arn::PrincipalKind;
use super::entry::{arn_key, Field, Mapping};
use super::section::Body;
use super::simple_list::{self, Line};
use super::yaml::{self, Pos, Style};

/// One item read: its body and where its text starts and ends.
pub(super) struct Item {
    /// The entry or account, already shared as a slot holds it (a 5,000-entry section's
    /// entries are not moved once more from a list into their slots).
    pub body: Arc<Body>,
    /// The first character of the item after its dash.
    pub start: Pos,
    /// Just past its last value.
    pub end: Pos,
    /// Where its dash line starts.
    pub dash: usize,
    /// Where the comment lines just above its dash start (`dash` when there are none).
    pub lead: usize,
}

/// The content lines of a text (blank and comment-only lines skipped), one at a time, with
/// one line of look-ahead: no vector of every line of a large section.
struct Lines<'a> {
    text: &'a str,
    at: usize,
    no: usize,
    ahead: Option<Line<'a>>,
    /// Where the comment lines read since the last blank or content line start.
    run: Option<usize>,
    /// Where the comments just above the look-ahead line start (its own start when none).
    lead: usize,
}

impl<'a> Lines<'a> {
    fn peek(&mut self) -> Option<Line<'a>> {
        if self.ahead.is_none() {
            self.ahead = self.read();
        }
        self.ahead
    }

    /// Where the comments just above the look-ahead line start (its own start when none).
    fn lead(&self) -> usize {
        self.lead
    }

    fn bump(&mut self) {
        self.ahead = None;
    }

    fn read(&mut self) -> Option<Line<'a>> {
        while self.at <= self.text.len() {
            let start = self.at;
            self.no += 1;
            let line = Line::at(self.text, start, self.no);
            self.at = line.end() + 1;
            if !line.is_skipped() {
                self.lead = self.run.take().unwrap_or(start);
                return Some(line);
            }
            // A blank line parts comments from the item below (the layout's rule).
            self.run = match self.run {
                _ if line.indent == line.text.len() => None,
                Some(run) => Some(run),
                None => Some(start),
            };
        }
        None
    }
}

/// The items of a block-list section in the usual shape, or `None` (see the module comment).
/// `kind` is the section's principal kind; `None` reads mapAccounts.
/// Returns the column of the dashes and the items.
pub(super) fn read(text: &str, kind: Option<PrincipalKind>) -> Option<(usize, Vec<Item>)> {
    if !simple_list::plain_ascii(text) {
        return None;
    }
    let mut lines = Lines {
        text,
        at: 0,
        no: 0,
        ahead: None,
        run: None,
        lead: 0,
    };
    let root_col = lines.peek()?.indent;
    // A guess from the text's size keeps the list from growing a dozen times.
    let mut items = Vec::with_capacity(text.len() / 96 + 1);
    while let Some(line) = lines.peek() {
        if line.indent != root_col {
            return None;
        }
        let col = line.dash_item()?;
        let item = match kind {
            Some(kind) => mapping(&mut lines, kind, col, root_col)?,
            None => {
                if simple_list::key_at(&line, col).is_some() {
                    return None;
                }
                let (text, end) = string(&line, col, false)?;
                let lead = lines.lead();
                lines.bump();
                Item {
                    body: Arc::new(Body::Account(text.to_string())),
                    start: line.pos(col),
                    end: line.pos(end),
                    dash: line.start,
                    lead,
                }
            }
        };
        items.push(item);
    }
    Some((root_col, items))
}

/// A scalar that is a string for every field it can fill: not a plain null.
fn string<'a>(line: &Line<'a>, col: usize, in_flow: bool) -> Option<(&'a str, usize)> {
    let (text, style, end) = simple_list::scalar_span(line, col, in_flow)?;
    (style != Style::Plain || !yaml::is_null_word(text)).then_some((text, end))
}

/// An entry whose first key stands at `col` of the next line.
fn mapping(lines: &mut Lines, kind: PrincipalKind, col: usize, root_col: usize) -> Option<Item> {
    let fields = [arn_key(kind), "username", "groups"];
    let mut m = Mapping::empty(kind, 3);
    let first = lines.peek()?;
    let lead = lines.lead();
    let start = first.pos(col);
    let mut end: Pos;
    loop {
        let line = lines.peek()?;
        let (key_end, after_colon) = simple_list::key_at(&line, col)?;
        let key = &line.text[col..key_end];
        let field = fields.iter().position(|f| f.eq_ignore_ascii_case(key))?;
        let field = [Field::Arn, Field::Username, Field::Groups][field];
        if m.order.contains(&field) {
            return None;
        }
        m.order.push(field);
        let rest = &line.text[after_colon..];
        let value_col = after_colon + rest.len() - rest.trim_start_matches(' ').len();
        let value = &line.text[value_col..];
        lines.bump();
        match field {
            Field::Groups => {
                m.has_groups_key = true;
                end = if value.starts_with('[') {
                    flow_groups(&line, value_col, &mut m.groups)?
                } else if value.is_empty() || value.starts_with('#') {
                    block_groups(lines, col, &mut m.groups)?
                } else {
                    return None;
                };
            }
            _ => {
                let (text, value_end) = string(&line, value_col, false)?;
                end = line.pos(value_end);
                match field {
                    Field::Arn => m.arn = text.to_string(),
                    _ => m.username = Some(text.to_string()),
                }
            }
        }
        match lines.peek() {
            None => break,
            Some(next) if next.indent == root_col && next.dash_item().is_some() => break,
            Some(next) if next.indent == col => {}
            Some(_) => return None,
        }
    }
    if !m.order.contains(&Field::Arn) {
        return None;
    }
    Some(Item {
        body: Arc::new(Body::Mapping(m)),
        start,
        end,
        dash: first.start,
        lead,
    })
}

/// The block list under `groups:`, at least as deep as the key; returns where it ends.
fn block_groups(lines: &mut Lines, key_col: usize, groups: &mut Vec<String>) -> Option<Pos> {
    let first = lines.peek()?;
    if first.indent < key_col || first.dash_item().is_none() {
        // `groups:` with nothing under it is null: the node reader holds that rule.
        return None;
    }
    let indent = first.indent;
    let mut end = None;
    // Gathered first, so the list is allocated once at its size.
    let mut found: smallvec::SmallVec<[&str; 4]> = smallvec::SmallVec::new();
    while let Some(line) = lines.peek() {
        if line.indent != indent {
            break;
        }
        let Some(col) = line.dash_item() else { break };
        if simple_list::key_at(&line, col).is_some() {
            return None;
        }
        let (text, value_end) = string(&line, col, false)?;
        found.push(text);
        end = Some(line.pos(value_end));
        lines.bump();
    }
    *groups = found.iter().map(|g| g.to_string()).collect();
    end
}

/// `[a, "b"]` on one line from `col`, nothing but a comment after it; returns where it ends.
fn flow_groups(line: &Line, col: usize, groups: &mut Vec<String>) -> Option<Pos> {
    let bytes = line.text.as_bytes();
    let skip = |mut i: usize| {
        while bytes.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    };
    let mut i = skip(col + 1);
    let mut found: smallvec::SmallVec<[&str; 4]> = smallvec::SmallVec::new();
    if bytes.get(i) != Some(&b']') {
        loop {
            let (text, value_end) = string(line, i, true)?;
            found.push(text);
            i = skip(value_end);
            match bytes.get(i) {
                Some(b',') => i = skip(i + 1),
                Some(b']') => break,
                _ => return None,
            }
        }
    }
    let end = i + 1;
    *groups = found.iter().map(|g| g.to_string()).collect();
    simple_list::ends_line(&line.text[end..]).then(|| line.pos(end))
}
