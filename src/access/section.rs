//! One data section of aws-auth (`mapRoles`, `mapUsers` or `mapAccounts`): parsed from its
//! YAML string into entries that remember their source text, and rendered back so that every
//! entry nobody touched keeps its exact text, comments included. Pure: no I/O.

use super::arn::PrincipalKind;
use super::entry::{arn_key, Field, Mapping};
use super::simple_entries::{self, Item};
use super::simple_list;
use super::yaml::{self, Node, Pos, Value};

/// Which data key a section lives under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionName {
    /// `mapRoles`.
    MapRoles,
    /// `mapUsers`.
    MapUsers,
    /// `mapAccounts`.
    MapAccounts,
}

impl SectionName {
    /// All three, in the order the authenticator looks them up.
    pub const ALL: [SectionName; 3] = [
        SectionName::MapRoles,
        SectionName::MapUsers,
        SectionName::MapAccounts,
    ];

    /// The section stored under a data key, if it is one of the three.
    pub fn from_key(key: &str) -> Option<SectionName> {
        SectionName::ALL.into_iter().find(|n| n.key() == key)
    }

    /// The ConfigMap data key.
    pub fn key(self) -> &'static str {
        match self {
            SectionName::MapRoles => "mapRoles",
            SectionName::MapUsers => "mapUsers",
            SectionName::MapAccounts => "mapAccounts",
        }
    }

    fn kind(self) -> Option<PrincipalKind> {
        match self {
            SectionName::MapRoles => Some(PrincipalKind::Role),
            SectionName::MapUsers => Some(PrincipalKind::User),
            SectionName::MapAccounts => None,
        }
    }
}

/// A section that cannot be read as the authenticator would: okscript never writes over it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data.{section} line {line}: {message}")]
pub struct SectionError {
    /// The data key.
    pub section: &'static str,
    /// 1-based line inside the section's text.
    pub line: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// What one item of a section holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A mapRoles or mapUsers entry.
    Mapping(Mapping),
    /// A mapAccounts account id.
    Account(String),
}

impl Body {
    /// The key under which the authenticator matches this item.
    pub fn match_key(&self) -> String {
        match self {
            Body::Mapping(m) => m.match_key(),
            Body::Account(a) => a.clone(),
        }
    }

    /// The text the match key is made from: the ARN or the account.
    fn key_text(&self) -> &str {
        match self {
            Body::Mapping(m) => &m.arn,
            Body::Account(a) => a,
        }
    }

    /// The match key when it differs from [`Body::key_text`]; `None` for nearly every ARN
    /// (already canonical and lower-case) and every account, which then cost a slot no
    /// string of its own.
    fn key_if_other(&self) -> Option<String> {
        let text = self.key_text();
        let plain = matches!(self, Body::Account(_))
            || (super::arn::canonical_parts(text).is_some()
                && !text.bytes().any(|b| b.is_ascii_uppercase()));
        if plain {
            return None;
        }
        Some(self.match_key()).filter(|k| k != text)
    }
}

/// One item of a section plus where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// The item, shared: the staged copy of a large aws-auth copies pointers, not entries
    /// (a change replaces the item; nothing mutates one in place).
    pub body: std::sync::Arc<Body>,
    /// Index of the source segment it was read from; `None` for a new item.
    pub origin: Option<usize>,
    /// The item as read, kept once it is replaced: a slot whose item ends up equal to it
    /// again (a username set and set back) keeps its original text.
    original: Option<std::sync::Arc<Body>>,
    /// 1-based line inside the section's original text, for messages.
    pub line: Option<usize>,
    /// The authenticator's match key for `body` when it is not the body's own text (see
    /// [`Slot::key`]), cached: matching runs once per intent.
    key: Option<String>,
}

impl Slot {
    /// A slot for a new item.
    pub fn new(body: Body) -> Slot {
        Slot {
            key: body.key_if_other(),
            body: std::sync::Arc::new(body),
            origin: None,
            original: None,
            line: None,
        }
    }

    /// The authenticator's match key for the item.
    pub fn key(&self) -> &str {
        self.key.as_deref().unwrap_or_else(|| self.body.key_text())
    }

    /// True when the item differs from what was read (new items always do).
    pub fn is_dirty(&self) -> bool {
        match (&self.origin, &self.original) {
            (None, _) => true,
            (Some(_), Some(orig)) => **orig != *self.body,
            (Some(_), None) => false,
        }
    }

    /// Replaces the item, marking the slot changed.
    pub fn set(&mut self, body: Body) {
        self.key = body.key_if_other();
        let old = std::mem::replace(&mut self.body, std::sync::Arc::new(body));
        if self.original.is_none() {
            self.original = Some(old);
        }
    }
}

/// How the original text was laid out, to splice changes into it.
#[derive(Debug, Clone, PartialEq)]
enum Layout {
    /// No items (absent, empty, null or only comments).
    Empty,
    /// A flow sequence (`[...]`): stays one when changed; untouched items keep their text.
    Flow {
        /// Just past the `[`.
        open_end: usize,
        /// Where the `]` stands.
        close_start: usize,
        /// Byte ranges of each item's text.
        items: Vec<(usize, usize)>,
    },
    /// A block sequence whose dashes stand at `indent`.
    Block {
        indent: usize,
        /// Byte ranges of each item's text, leading comments included.
        segments: Vec<(usize, usize)>,
        /// Where each segment's own lines start (after its leading comments).
        dash_starts: Vec<usize>,
        prefix_end: usize,
        suffix_start: usize,
    },
}

/// A parsed section: the original text, its layout and its (possibly changed) items.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Which data key.
    pub name: SectionName,
    /// The original text; `None` when the ConfigMap had no such key.
    pub source: Option<std::sync::Arc<String>>,
    layout: Layout,
    original_len: usize,
    /// The items as staged.
    pub slots: Vec<Slot>,
}

fn line_starts(text: &str) -> Vec<usize> {
    let mut v = vec![0];
    // memchr: a `char` pattern costs a searcher call per line of a large section.
    v.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
    v
}

fn line_end_after(text: &str, byte: usize) -> usize {
    text[byte..].find('\n').map_or(text.len(), |i| byte + i + 1)
}

impl Section {
    /// A section the ConfigMap does not have.
    pub fn absent(name: SectionName) -> Section {
        Section {
            name,
            source: None,
            layout: Layout::Empty,
            original_len: 0,
            slots: Vec::new(),
        }
    }

    /// A section read from `text`, before its items are filled in.
    fn of_text(name: SectionName, text: &std::sync::Arc<String>) -> Section {
        Section {
            name,
            source: Some(text.clone()),
            layout: Layout::Empty,
            original_len: 0,
            slots: Vec::new(),
        }
    }

    /// Parses a section's text, refusing anything the authenticator would not read.
    pub fn parse(name: SectionName, text: &str) -> Result<Section, SectionError> {
        Section::parse_with(name, text, false)
    }

    /// [`Section::parse`] of a text the section keeps as its source: moved, not copied (a
    /// large aws-auth's section is most of the file).
    pub fn parse_owned(name: SectionName, text: String) -> Result<Section, SectionError> {
        Section::read(name, std::sync::Arc::new(text), false)
    }

    /// [`Section::parse`], optionally skipping the line-by-line readers of the usual shape
    /// (the tests compare them with the general parser).
    pub(crate) fn parse_with(
        name: SectionName,
        text: &str,
        general_only: bool,
    ) -> Result<Section, SectionError> {
        Section::read(name, std::sync::Arc::new(text.to_string()), general_only)
    }

    fn read(
        name: SectionName,
        source: std::sync::Arc<String>,
        general_only: bool,
    ) -> Result<Section, SectionError> {
        let text: &str = &source;
        let err = |line: usize, message: String| SectionError {
            section: name.key(),
            line,
            message,
        };
        if let Some(line) = super::manifest::lone_cr_line(text) {
            return Err(err(
                line,
                "a carriage return (\\r) without a line feed ends a line here; okscript keeps the text of entries exactly and cannot do that with such line ends: use \\n".into(),
            ));
        }
        let mut bodies: Vec<Body> = Vec::new();
        // Items are consumed: their strings move into the entries instead of being copied.
        let mut convert = |item: Node| -> Result<(), SectionError> {
            bodies.push(match name.kind() {
                Some(kind) => Body::Mapping(parse_mapping(name, kind, item)?),
                None => Body::Account(parse_account(name, &item)?),
            });
            Ok(())
        };
        // The usual shape is read straight into entries; next, line by line into nodes;
        // anything else goes to the general parser.
        if !general_only {
            if let Some((col, items)) = simple_entries::read(text, name.kind()) {
                return Ok(Section::from_items(name, &source, col, items));
            }
        }
        let simple = if general_only {
            None
        } else {
            simple_list::parse(text)
        };
        let is_simple = simple.is_some();
        let docs = match simple {
            // Converted below, once the layout has taken the items' positions.
            Some(root) => vec![root],
            // Entries are converted as the parser completes them (see `yaml::parse_streaming`).
            None => yaml::parse_streaming(text, |item| convert(item.clone()))
        .map_err(|e| match e {
            yaml::StreamError::Item(e) => e,
            yaml::StreamError::Syntax(e) => err(
                e.line,
                format!(
                    "not valid YAML (column {}): {}; the authenticator drops the whole section when it cannot parse it",
                    e.col, e.message
                ),
            ),
        })?,
        };
        if docs.len() > 1 {
            return Err(err(
                docs[1].start.line,
                "holds more than one YAML document (`---`); the authenticator reads only a single list".into(),
            ));
        }
        let mut section = Section::of_text(name, &source);
        let Some(root) = docs.into_iter().next() else {
            return Ok(section);
        };
        if root.is_null() {
            return Ok(section);
        }
        if !matches!(root.value, Value::Seq(_)) {
            let example = match name.kind() {
                Some(k) => format!("`- {}: ...`", arn_key(k)),
                None => "`- \"123456789012\"`".to_string(),
            };
            return Err(err(
                root.start.line,
                format!(
                    "must be a list of entries ({example}), but it is {}; the authenticator ignores the whole section",
                    root.type_name()
                ),
            ));
        }
        let (flow, col) = (root.flow, root.start.col);
        let root_span = (root.start.byte, root.end.byte);
        let Value::Seq(items) = root.value else {
            unreachable!("checked above")
        };
        let spans: Vec<(Pos, Pos)> = items.iter().map(|i| (i.start, i.end)).collect();
        if is_simple {
            items.into_iter().try_for_each(&mut convert)?;
        }
        if flow {
            section.layout = flow_layout(text, &root_span, &spans);
            section.fill(bodies, spans.iter().map(|s| s.0.line).collect());
        } else {
            section.fill_block(text, col, &spans, bodies);
        }
        Ok(section)
    }

    /// A block-list section from the items the line-by-line entry reader took.
    fn from_items(
        name: SectionName,
        source: &std::sync::Arc<String>,
        col: usize,
        items: Vec<Item>,
    ) -> Section {
        let text: &str = source;
        let mut section = Section::of_text(name, source);
        // The reader found each item's dash and leading comments: the layout `block_layout`
        // would find, without a table of every line's start.
        let last_end = items.last().map_or(0, |i| i.end.byte);
        let suffix_start = line_end_after(text, last_end);
        let mut segments = Vec::with_capacity(items.len());
        let mut dash_starts = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let end = items.get(i + 1).map_or(suffix_start, |next| next.lead);
            segments.push((item.lead, end));
            dash_starts.push(item.dash);
        }
        section.layout = Layout::Block {
            indent: col,
            prefix_end: segments.first().map_or(0, |s| s.0),
            segments,
            dash_starts,
            suffix_start,
        };
        section.slots.reserve_exact(items.len());
        for item in items {
            section.push_read(item.body, item.start.line);
        }
        section.original_len = section.slots.len();
        section
    }

    /// Lays out a block list whose dashes stand at `col` and fills its slots.
    fn fill_block(&mut self, text: &str, col: usize, spans: &[(Pos, Pos)], bodies: Vec<Body>) {
        if spans.is_empty() {
            return self.fill(bodies, Vec::new());
        }
        let starts = line_starts(text);
        self.layout = block_layout(text, &starts, col, spans);
        let Layout::Block { dash_starts, .. } = &self.layout else {
            unreachable!("block_layout lays out a block")
        };
        let dash_lines = dash_starts
            .iter()
            .map(|d| starts.partition_point(|s| s <= d))
            .collect();
        self.fill(bodies, dash_lines);
    }

    /// The slots for the items as read, each at its (1-based) line.
    fn fill(&mut self, bodies: Vec<Body>, lines: Vec<usize>) {
        self.slots.reserve_exact(bodies.len());
        for (body, line) in bodies.into_iter().zip(lines) {
            self.push_read(std::sync::Arc::new(body), line);
        }
        self.original_len = self.slots.len();
    }

    /// The slot of the next item as read, at its (1-based) line.
    fn push_read(&mut self, body: std::sync::Arc<Body>, line: usize) {
        self.slots.push(Slot {
            key: body.key_if_other(),
            origin: Some(self.slots.len()),
            body,
            original: None,
            line: Some(line),
        });
    }

    /// A copy whose list has room for `extra` more items without growing.
    pub fn clone_with_room(&self, extra: usize) -> Section {
        let mut slots = Vec::with_capacity(self.slots.len() + extra);
        slots.extend_from_slice(&self.slots);
        Section {
            name: self.name,
            source: self.source.clone(),
            layout: self.layout.clone(),
            original_len: self.original_len,
            slots,
        }
    }

    /// True when nothing was added, removed or changed since the section was read.
    pub fn is_unchanged(&self) -> bool {
        self.slots.len() == self.original_len
            && self
                .slots
                .iter()
                .enumerate()
                .all(|(i, s)| s.origin == Some(i) && !s.is_dirty())
    }

    /// The section's text after the staged changes; `None` when it was absent and still is.
    pub fn render(&self) -> Option<String> {
        self.text().map(std::borrow::Cow::into_owned)
    }

    /// [`Section::render`], borrowing the text as read when nothing changed (a diff of a
    /// large aws-auth then copies only the section that did).
    pub fn text(&self) -> Option<std::borrow::Cow<'_, str>> {
        if self.source.is_none() && self.slots.is_empty() {
            return None;
        }
        if self.is_unchanged() {
            return self
                .source
                .as_deref()
                .map(|s| std::borrow::Cow::Borrowed(s.as_str()));
        }
        let source = self.source.as_deref().map_or("", String::as_str);
        let mut out = self.render_changed(source);
        // A section written without a final line break (`|-`, `"..."`) stays so: its
        // manifest keeps the same scalar style only if the text keeps that shape.
        if !source.is_empty() && !source.ends_with('\n') && out.ends_with('\n') {
            out.pop();
        }
        Some(std::borrow::Cow::Owned(out))
    }

    fn render_changed(&self, source: &str) -> String {
        match &self.layout {
            Layout::Block {
                indent,
                segments,
                dash_starts,
                prefix_end,
                suffix_start,
            } => {
                let mut out = String::with_capacity(source.len() + 256);
                out.push_str(&source[..*prefix_end]);
                for slot in &self.slots {
                    match slot.origin {
                        Some(i) if !slot.is_dirty() => {
                            push_piece(&mut out, &source[segments[i].0..segments[i].1])
                        }
                        Some(i) => {
                            push_piece(&mut out, &source[segments[i].0..dash_starts[i]]);
                            out.push_str(&render_body(&slot.body, *indent));
                        }
                        None => push_piece(&mut out, &render_body(&slot.body, *indent)),
                    }
                }
                if self.slots.is_empty() {
                    push_piece(&mut out, &format!("{}[]\n", " ".repeat(*indent)));
                }
                let suffix = &source[*suffix_start..];
                if !suffix.is_empty() {
                    push_piece(&mut out, suffix);
                }
                out
            }
            Layout::Flow {
                open_end,
                close_start,
                items,
            } => {
                // What stood before the first item (a line break after `[`) when it is
                // still first.
                let head = match self.slots.first().and_then(|s| s.origin) {
                    Some(0) => items[0].0,
                    _ => *open_end,
                };
                let mut out = source[..head].to_string();
                let mut prev: Option<Option<usize>> = None;
                for slot in &self.slots {
                    // Between two items that stood next to each other, their own separator
                    // (line breaks and comments included); otherwise a plain `, `.
                    match (prev, slot.origin) {
                        (None, _) => {}
                        (Some(Some(p)), Some(i)) if i == p + 1 => {
                            out.push_str(&source[items[p].1..items[i].0])
                        }
                        _ => out.push_str(", "),
                    }
                    match slot.origin {
                        Some(i) if !slot.is_dirty() => {
                            out.push_str(&source[items[i].0..items[i].1])
                        }
                        _ => out.push_str(&render_flow_body(&slot.body)),
                    }
                    prev = Some(slot.origin);
                }
                // What followed the last item (`]`, or a line break and `]`) when it is
                // still last; else just the closing bracket and what comes after it.
                let tail = match self.slots.last().and_then(|s| s.origin) {
                    Some(i) if i + 1 == items.len() => items[i].1,
                    _ => *close_start,
                };
                out.push_str(&source[tail..]);
                out
            }
            Layout::Empty => {
                if self.slots.is_empty() {
                    return "[]\n".to_string();
                }
                let mut out = String::new();
                for slot in &self.slots {
                    out.push_str(&render_body(&slot.body, 0));
                }
                out
            }
        }
    }

    /// Checks that each item written anew (added or changed) reads back as itself in the
    /// form `render` writes it; the message says which item did not.
    pub fn check_rewritten(&self) -> Result<(), String> {
        let flow = matches!(self.layout, Layout::Flow { .. });
        let indent = match self.layout {
            Layout::Block { indent, .. } => indent,
            _ => 0,
        };
        for slot in self.slots.iter().filter(|s| s.is_dirty()) {
            let text = if flow {
                format!("[{}]\n", render_flow_body(&slot.body))
            } else {
                render_body(&slot.body, indent)
            };
            let back = Section::parse(self.name, &text).map_err(|e| e.message)?;
            if back.slots.len() != 1 || back.slots[0].body != slot.body {
                return Err(format!(
                    "the entry for {} does not read back as written",
                    slot.body.match_key()
                ));
            }
        }
        Ok(())
    }

    /// The items as they stand now.
    pub fn bodies(&self) -> impl Iterator<Item = &Body> {
        self.slots.iter().map(|s| &*s.body)
    }
}

fn push_piece(out: &mut String, piece: &str) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(piece);
}

/// An item inside a flow sequence: a flow mapping (or a quoted account id). Every value is
/// double-quoted, since `{`, `}` and `,` in a plain scalar would end it inside `[...]`.
fn render_flow_body(body: &Body) -> String {
    match body {
        Body::Mapping(m) => m.render_flow(),
        Body::Account(a) => yaml::double_quoted(a),
    }
}

/// The flow layout of a `[...]` section, or an empty layout (rewritten as a block) when its
/// brackets are not where the parser says.
fn flow_layout(text: &str, (start, end): &(usize, usize), items: &[(Pos, Pos)]) -> Layout {
    let bytes = text.as_bytes();
    if bytes.get(*start) != Some(&b'[') || *end == 0 || bytes.get(end - 1) != Some(&b']') {
        return Layout::Empty;
    }
    Layout::Flow {
        open_end: start + 1,
        close_start: end - 1,
        items: items.iter().map(|(s, e)| (s.byte, e.byte)).collect(),
    }
}

fn render_body(body: &Body, indent: usize) -> String {
    match body {
        Body::Mapping(m) => m.render(indent),
        Body::Account(a) => format!("{}- {}\n", " ".repeat(indent), yaml::double_quoted(a)),
    }
}

/// Finds each item's text: from the comments just above its dash to the line before the
/// next item's comments; the last item ends with its last content line.
fn block_layout(text: &str, starts: &[usize], indent: usize, items: &[(Pos, Pos)]) -> Layout {
    let line_text = |l: usize| -> &str {
        let s = starts[l - 1];
        let e = starts.get(l).copied().unwrap_or(text.len());
        &text[s..e]
    };
    let is_dash_line = |l: usize| {
        let t = line_text(l);
        t.len() > indent && t[..indent].bytes().all(|b| b == b' ') && t.as_bytes()[indent] == b'-'
    };
    let mut seg_starts = Vec::new();
    let mut dash_starts = Vec::new();
    let mut prev_end_line = 0;
    for (start, end) in items {
        let mut dash = start.line;
        while dash > prev_end_line + 1 && !is_dash_line(dash) {
            dash -= 1;
        }
        let mut lead = dash;
        while lead > prev_end_line + 1 && line_text(lead - 1).trim_start().starts_with('#') {
            lead -= 1;
        }
        seg_starts.push(starts[lead - 1]);
        dash_starts.push(starts[dash - 1]);
        let end_line = if end.col == 0 && end.line > start.line {
            end.line - 1
        } else {
            end.line
        };
        prev_end_line = end_line;
    }
    let (last_start, last_end) = items.last().expect("items is not empty");
    let suffix_start = line_end_after(
        text,
        last_end.byte.saturating_sub(usize::from(
            last_end.col == 0 && last_end.byte > last_start.byte,
        )),
    );
    let mut segments = Vec::new();
    for (i, s) in seg_starts.iter().enumerate() {
        let e = seg_starts.get(i + 1).copied().unwrap_or(suffix_start);
        segments.push((*s, e));
    }
    Layout::Block {
        indent,
        prefix_end: seg_starts[0],
        segments,
        dash_starts,
        suffix_start,
    }
}

fn scalar_text(node: &Node) -> Option<&str> {
    // The authenticator reads YAML numbers and booleans into string fields as their text.
    node.as_scalar()
}

fn parse_mapping(
    name: SectionName,
    kind: PrincipalKind,
    item: Node,
) -> Result<Mapping, SectionError> {
    let err = |line: usize, message: String| SectionError {
        section: name.key(),
        line,
        message,
    };
    let line = item.start.line;
    let pairs = match item.value {
        Value::Map(pairs) => pairs,
        _ => {
            return Err(err(
                line,
                format!(
                    "each entry must be a mapping with `{}`, `username` and `groups`, but this one is {}",
                    arn_key(kind),
                    item.type_name()
                ),
            ))
        }
    };
    // Keys first, borrowed and compared ignoring case (this runs for every entry read);
    // the values are then moved into the entry rather than copied.
    let mut keys: Vec<&str> = Vec::with_capacity(pairs.len());
    for (k, v) in &pairs {
        let Some(key) = k.as_scalar() else {
            return Err(err(k.start.line, "entry keys must be plain words".into()));
        };
        if keys.iter().any(|s| s.eq_ignore_ascii_case(key)) {
            return Err(err(
                k.start.line,
                format!("the key `{key}` appears twice in one entry (keys are compared ignoring case); keep one"),
            ));
        }
        keys.push(key);
        if matches!(v.value, Value::Alias) {
            return Err(err(
                v.start.line,
                "YAML aliases (`*name`) are not supported in aws-auth entries; write the value out"
                    .into(),
            ));
        }
    }
    let sso = kind == PrincipalKind::Role && keys.iter().any(|k| k.eq_ignore_ascii_case("sso"));
    let mut m = Mapping::empty(kind, pairs.len());
    let mut has_arn = false;
    for (k, v) in pairs {
        let key = k.as_scalar().expect("checked above");
        let field = [arn_key(kind), "username", "groups"]
            .into_iter()
            .position(|f| f.eq_ignore_ascii_case(key));
        match field {
            Some(0) => {
                // The type's name (a YAML 1.1 number check) only when it is an error.
                let null = v.is_null();
                match v.value {
                    Value::Scalar { text, .. } if !null => m.arn = text,
                    _ => {
                        return Err(err(
                            v.start.line,
                            format!("`{key}` must be an ARN, but it is {}", v.type_name()),
                        ))
                    }
                }
                has_arn = true;
                m.order.push(Field::Arn);
            }
            Some(1) => {
                if !v.is_null() {
                    match v.value {
                        Value::Scalar { text, .. } => m.username = Some(text),
                        _ => {
                            return Err(err(
                                v.start.line,
                                format!("`username` must be a string, but it is {}", v.type_name()),
                            ))
                        }
                    }
                }
                m.order.push(Field::Username);
            }
            Some(_) => {
                m.has_groups_key = true;
                m.order.push(Field::Groups);
                if v.is_null() {
                    continue;
                }
                let gs = match v.value {
                    Value::Seq(gs) => gs,
                    _ => {
                        return Err(err(
                            v.start.line,
                            format!("`groups` must be a list, but it is {}", v.type_name()),
                        ))
                    }
                };
                m.groups.reserve_exact(gs.len());
                for g in gs {
                    let null = g.is_null();
                    match g.value {
                        Value::Scalar { text, .. } if !null => m.groups.push(text),
                        _ => {
                            return Err(err(
                                g.start.line,
                                format!(
                                    "each group must be a string, but this one is {}",
                                    g.type_name()
                                ),
                            ))
                        }
                    }
                }
            }
            None => {
                m.order.push(Field::Extra(m.extra.len()));
                m.extra.push((key.to_string(), to_json(&v).to_string()));
            }
        }
    }
    if !has_arn && !sso {
        return Err(err(
            line,
            format!(
                "this entry has no `{}`, so the authenticator rejects the section",
                arn_key(kind)
            ),
        ));
    }
    Ok(m)
}

fn parse_account(name: SectionName, item: &Node) -> Result<String, SectionError> {
    match scalar_text(item).filter(|_| !item.is_null()) {
        Some(a) => Ok(a.to_string()),
        None => Err(SectionError {
            section: name.key(),
            line: item.start.line,
            message: format!(
                "each account must be a 12-digit string, but this one is {}",
                item.type_name()
            ),
        }),
    }
}

/// A YAML node as JSON, which is also valid YAML flow syntax; used to re-render fields
/// okscript does not know.
fn to_json(node: &Node) -> serde_json::Value {
    match &node.value {
        Value::Scalar { text, .. } if node.as_str().is_some() => {
            serde_json::Value::String(text.clone())
        }
        Value::Scalar { text, .. } => {
            if node.is_null() {
                serde_json::Value::Null
            } else if let Ok(n) = text.parse::<i64>() {
                n.into()
            } else if let Ok(f) = text.parse::<f64>() {
                serde_json::Number::from_f64(f).map_or(
                    serde_json::Value::String(text.clone()),
                    serde_json::Value::Number,
                )
            } else {
                match text.to_ascii_lowercase().as_str() {
                    "true" | "yes" | "on" | "y" => true.into(),
                    "false" | "no" | "off" | "n" => false.into(),
                    _ => serde_json::Value::String(text.clone()),
                }
            }
        }
        Value::Seq(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Map(pairs) => serde_json::Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.as_scalar().unwrap_or_default().to_string(), to_json(v)))
                .collect(),
        ),
        Value::Alias => serde_json::Value::Null,
    }
}

#[cfg(test)]
mod tests;
