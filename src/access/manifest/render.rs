//! Writing a manifest back: the changed sections spliced into the original text (a changed
//! literal block from its first changed line on), and the read-back check of the result.

use super::*;

/// A section's text as a render must read it back.
pub(super) enum Wanted<'a> {
    /// All of it.
    Whole(std::borrow::Cow<'a, str>),
    /// The text as read up to byte `.0` (its lines the splice kept), then `.1`.
    After(usize, String),
}

impl Wanted<'_> {
    /// True when `back` (a section read back, `None` when absent) is this text; `old` is the
    /// section as read.
    pub(super) fn is(&self, old: &str, back: Option<&str>) -> bool {
        match (self, back) {
            (Wanted::Whole(text), Some(back)) => text == back,
            (Wanted::After(shared, tail), Some(back)) => {
                back.get(..*shared) == old.get(..*shared) && back.get(*shared..) == Some(tail)
            }
            (_, None) => false,
        }
    }
}

/// A manifest's new text before its read-back check (see [`Manifest::render_unchecked`]).
pub struct Rendered<'a> {
    /// The whole new text.
    pub text: String,
    /// What the read-back must find in each section; `None` when the text is the old one.
    wanted: Option<[Option<Wanted<'a>>; 3]>,
}

impl Manifest {
    /// The manifest text with `auth`'s changed sections spliced in, checked by reading it
    /// back: the document must hold exactly each section's new text, and each entry written
    /// anew must read back as itself. (Untouched entries keep their text, which was read.)
    pub fn render(&self, auth: &AwsAuth) -> Result<String, ManifestError> {
        self.render_with(auth, true)
    }

    /// [`Manifest::render`], rewriting every changed block whole (`splice` false): the tests
    /// hold the spliced render to it.
    pub(crate) fn render_with(
        &self,
        auth: &AwsAuth,
        splice: bool,
    ) -> Result<String, ManifestError> {
        let rendered = self.build(auth, splice)?;
        self.check(auth, &rendered)?;
        Ok(rendered.text)
    }

    /// [`Manifest::render`] without the read-back check, which [`Manifest::check`] then
    /// makes: a caller can write the text to disk while the check runs. Nothing may use the
    /// text before the check passes.
    pub fn render_unchecked<'a>(&self, auth: &'a AwsAuth) -> Result<Rendered<'a>, ManifestError> {
        self.build(auth, true)
    }

    /// The read-back check of a text [`Manifest::render_unchecked`] built from `auth`: the
    /// text is read as a document again and each data section must be exactly the staged
    /// one.
    pub fn check(&self, auth: &AwsAuth, rendered: &Rendered) -> Result<(), ManifestError> {
        let Some(wanted) = &rendered.wanted else {
            return Ok(());
        };
        let back =
            read_document(&rendered.text).map_err(|e| ManifestError::Verify(e.to_string()))?;
        for name in SectionName::ALL {
            let old = self.sources[index(name)]
                .as_deref()
                .map_or("", String::as_str);
            let back_text = back.texts[index(name)].as_deref();
            if !wanted[index(name)]
                .as_ref()
                .map_or(back_text.is_none(), |w| w.is(old, back_text))
            {
                return Err(ManifestError::Verify(format!(
                    "data.{} differs",
                    name.key()
                )));
            }
            auth.section(name)
                .check_rewritten()
                .map_err(|e| ManifestError::Verify(format!("data.{}: {e}", name.key())))?;
        }
        Ok(())
    }

    /// The new text of the manifest for `auth`, and what its read-back must find.
    fn build<'a>(&self, auth: &'a AwsAuth, splice: bool) -> Result<Rendered<'a>, ManifestError> {
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        let mut new_keys: Vec<(SectionName, String)> = Vec::new();
        let mut data_bytes = self.other_data_bytes;
        let mut wanted: [Option<Wanted>; 3] = [None, None, None];
        for name in SectionName::ALL {
            let section = auth.section(name);
            let rendered = section.text();
            data_bytes += rendered.as_ref().map_or(0, |r| r.len() + name.key().len());
            let mut want = rendered.map(Wanted::Whole);
            if let (false, Some(Wanted::Whole(value))) = (section.is_unchanged(), &want) {
                match &self.locs[index(name)] {
                    Some(loc) => {
                        match splice
                            .then(|| self.splice_literal(loc, name, value))
                            .flatten()
                        {
                            // Only the new lines are kept to check the read-back: the whole
                            // text of a large section is freed before the file is built.
                            Some((edit, shared)) => {
                                want = Some(Wanted::After(shared, value[shared..].to_string()));
                                edits.push(edit);
                            }
                            None => edits.push((
                                loc.key_end,
                                self.replace_end(loc.key_end, loc.value_end),
                                self.value_text(loc, value),
                            )),
                        }
                    }
                    None => new_keys.push((name, value.to_string())),
                }
            }
            wanted[index(name)] = want;
        }
        if data_bytes > MAX_DATA_BYTES {
            return Err(ManifestError::TooLarge(data_bytes));
        }
        if !new_keys.is_empty() {
            edits.push(self.insertion(&new_keys));
        }
        if edits.is_empty() {
            return Ok(Rendered {
                text: self.text.to_string(),
                wanted: None,
            });
        }
        // A CRLF file stays CRLF: YAML hands scalars over with plain line feeds.
        if self.text.contains("\r\n") {
            for e in &mut edits {
                e.2 = e.2.replace('\n', "\r\n");
            }
        }
        // Splice front to back in one pass: the edits do not overlap.
        edits.sort_by_key(|e| e.0);
        let size = edits.iter().fold(self.text.len(), |n, (start, end, with)| {
            n - (end - start) + with.len()
        });
        let mut out = String::with_capacity(size);
        let mut at = 0;
        for (start, end, with) in &edits {
            out.push_str(&self.text[at..*start]);
            out.push_str(with);
            at = *end;
        }
        out.push_str(&self.text[at..]);
        Ok(Rendered {
            text: out,
            wanted: Some(wanted),
        })
    }

    fn replace_end(&self, key_end: usize, value_end: usize) -> usize {
        replace_end(&self.text, key_end, value_end, self.in_flow)
    }

    /// The edit that rewrites a literal (`|`, `|-`, `|+`) block from its first changed line
    /// on, keeping the header and the lines before it as they stand in the file: a grant into
    /// a large section then writes a few lines, not the whole block. `None` when the block
    /// does not take such an edit (another style or header, other trailing line breaks,
    /// text a literal block cannot hold, CRLF files); the whole value is written then.
    pub(super) fn splice_literal(
        &self,
        loc: &SectionLoc,
        name: SectionName,
        value: &str,
    ) -> Option<((usize, usize, String), usize)> {
        let old = self.sources[index(name)].as_deref()?;
        let indent = loc.content_col?;
        if self.in_flow || loc.was_empty || loc.style != Style::Literal || self.text.contains('\r')
        {
            return None;
        }
        let header = &self.text[loc.key_end..line_end(&self.text, loc.key_end)];
        let header = header.trim_end_matches(' ').trim_start_matches(':');
        if !matches!(header.trim_start_matches(' '), "|" | "|-" | "|+") {
            return None;
        }
        let (old_content, content) = (old.trim_end_matches('\n'), value.trim_end_matches('\n'));
        if old.len() - old_content.len() != value.len() - content.len() {
            return None;
        }
        let same = crate::access::plan::common_prefix(old_content.as_bytes(), content.as_bytes());
        // The lines both share whole; the first of the others is rewritten with all after it.
        let shared = memchr::memrchr(b'\n', &content.as_bytes()[..same])? + 1;
        let lines = memchr::memchr_iter(b'\n', &content.as_bytes()[..shared]).count();
        // The file's line break before that line: the header's, then one per shared line.
        let from = memchr::memchr_iter(b'\n', &self.text.as_bytes()[loc.key_end..])
            .nth(lines)
            .map(|i| loc.key_end + i)
            .filter(|from| *from < loc.value_end)?;
        let rest = more_lines("", &content[shared..], indent)?;
        Some(((from, loc.value_end, rest), shared))
    }

    /// `: value` for an existing key, in the style it was written in where that style can
    /// hold the new text exactly: `|`, `|-`, `|+`, `>` and its chompings, `"..."`, `'...'`.
    fn value_text(&self, loc: &SectionLoc, value: &str) -> String {
        let quoted = || format!(": {}", yaml::double_quoted(value));
        if self.in_flow {
            return quoted();
        }
        let indent = loc
            .content_col
            .unwrap_or(loc.key_col + 2)
            .max(loc.key_col + 1);
        let block = |folded: bool| block_scalar(": ", value, indent, folded, loc.trailing_breaks);
        let kept = match loc.style {
            // An empty `""` (or `''`, or nothing) held no entries; once it holds some it is a
            // `|` block, the only style that shows entries line by line as they are written.
            _ if loc.was_empty => block(false),
            Style::DoubleQuoted => Some(quoted()),
            Style::SingleQuoted => single_quoted(value).map(|q| format!(": {q}")),
            Style::Folded => block(true),
            Style::Literal | Style::Plain => block(false),
        };
        kept.or_else(|| block(false)).unwrap_or_else(quoted)
    }

    /// The edit that adds new data keys.
    fn insertion(&self, keys: &[(SectionName, String)]) -> (usize, usize, String) {
        let flow_pairs = || {
            keys.iter()
                .map(|(n, v)| format!("\"{}\": {}", n.key(), yaml::double_quoted(v)))
                .collect::<Vec<_>>()
        };
        let block_pairs = |indent: usize| {
            keys.iter()
                .map(|(n, v)| {
                    let value = block_scalar("", v, indent + 2, false, 1)
                        .unwrap_or_else(|| yaml::double_quoted(v));
                    format!("{}{}: {value}", " ".repeat(indent), n.key())
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        match &self.data {
            DataLoc::Map {
                end,
                indent,
                flow: true,
                empty,
                one_line,
            } => {
                let pairs = flow_pairs();
                if *empty {
                    // `end` is just past the closing brace.
                    (end - 1, end - 1, pairs.join(", "))
                } else {
                    let sep = if *one_line {
                        ", ".to_string()
                    } else {
                        format!(",\n{}", " ".repeat(*indent))
                    };
                    (*end, *end, format!("{sep}{}", pairs.join(&sep)))
                }
            }
            DataLoc::Map {
                end,
                indent,
                flow: false,
                ..
            } => {
                // After the whole line the last value ends on: an empty value ends at its
                // key, a plain one may have a comment after it.
                let at = line_end(&self.text, *end).trim_cr(&self.text);
                (at, at, format!("\n{}", block_pairs(*indent)))
            }
            DataLoc::Absent {
                end, flow: true, ..
            } => (
                *end - 1,
                *end - 1,
                format!(", \"data\": {{{}}}", flow_pairs().join(", ")),
            ),
            DataLoc::Absent {
                end,
                indent,
                flow: false,
            } => {
                let at = line_end(&self.text, *end).trim_cr(&self.text);
                let lead = if at == 0 { "" } else { "\n" };
                (
                    at,
                    at,
                    format!(
                        "{lead}{}data:\n{}",
                        " ".repeat(*indent),
                        block_pairs(indent + 2)
                    ),
                )
            }
            DataLoc::Null {
                key_end,
                value_end,
                flow: true,
                ..
            } => (
                *key_end,
                *value_end,
                format!(": {{{}}}", flow_pairs().join(", ")),
            ),
            DataLoc::Null {
                key_end,
                value_end,
                indent,
                flow: false,
            } => (
                *key_end,
                *value_end,
                format!(":\n{}", block_pairs(indent + 2)),
            ),
        }
    }
}

/// `'...'` when the value is one line a single-quoted scalar holds exactly.
fn single_quoted(value: &str) -> Option<String> {
    let printable = value.chars().all(|c| c == '\t' || !c.is_control());
    if !printable
        || value.is_empty()
        || value.starts_with([' ', '\t'])
        || value.ends_with([' ', '\t'])
    {
        return None;
    }
    Some(format!("'{}'", value.replace('\'', "''")))
}

/// A block scalar holding `value` exactly, content indented by `indent`: literal (`|`) or
/// folded (`>`), with the chomping its final line breaks need. The breaks after a kept
/// (`+`) block's content stay in the file after it, so `+` is chosen only when the value
/// ends with as many breaks as the original did (`kept`). The text starts with `head`: the
/// block of a large section is written once, not copied behind a prefix.
fn block_scalar(
    head: &str,
    value: &str,
    indent: usize,
    folded: bool,
    kept: usize,
) -> Option<String> {
    let content = value.trim_end_matches('\n');
    let chomp = match value.len() - content.len() {
        0 => "-",
        1 => "",
        n if n == kept => "+",
        _ => return None,
    };
    if !folded {
        return literal_lines(&format!("{head}|{chomp}"), content, indent);
    }
    // A folded block holds only what a literal one can.
    literal_lines("", content, indent)?;
    let text = folded_lines(content, indent);
    // Folding rules are subtle (spaced lines, blank lines around them): the candidate is
    // read back, and a literal block is used when it does not give the text exactly.
    let probe = format!("k: >-{text}\n");
    let back = yaml::parse_documents(&probe).ok()?;
    let same = back
        .first()
        .and_then(|d| d.get("k"))
        .and_then(Node::as_scalar)
        == Some(content);
    same.then(|| format!("{head}>{chomp}{text}"))
}

/// `head`, then each line of `content` on its own line, indented; `None` when a literal
/// block cannot hold the text exactly (a first line starting with a space, a carriage
/// return, control characters, leading empty lines).
fn literal_lines(head: &str, content: &str, indent: usize) -> Option<String> {
    // The first line sets the block's indentation: it cannot start with white space.
    let first = content.lines().find(|l| !l.is_empty())?;
    if first.starts_with([' ', '\t']) || content.starts_with('\n') {
        return None;
    }
    more_lines(head, content, indent)
}

/// [`literal_lines`] for lines that follow a block's first line, which may start with white
/// space or be empty; `None` for a carriage return or control characters.
fn more_lines(head: &str, content: &str, indent: usize) -> Option<String> {
    // ASCII text (nearly every aws-auth) is checked byte by byte, which vectorises; only
    // other text pays for decoding characters.
    let printable = if content.is_ascii() {
        // Without the early exit of `all`, each chunk's test compiles to vector code: an
        // eighth of the instructions for the 780 KiB section of a 5,000-entry aws-auth.
        let ok = |b: u8| (b >= 0x20 && b != 0x7f) | (b == b'\n') | (b == b'\t');
        content
            .as_bytes()
            .chunks(256)
            .all(|c| c.iter().fold(true, |all, &b| all & ok(b)))
    } else {
        content
            .chars()
            .all(|c| c == '\n' || c == '\t' || !c.is_control())
    };
    if content.contains('\r') || !printable {
        return None;
    }
    let pad = " ".repeat(indent);
    // Exactly the size written: a guess that falls short doubles a 1 MiB buffer.
    let lines = memchr::memchr_iter(b'\n', content.as_bytes()).count() + 1;
    let mut out = String::with_capacity(head.len() + content.len() + lines * (indent + 1));
    out.push_str(head);
    for line in lines_of(content) {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    Some(out)
}

/// `content.split('\n')` through memchr: a `char` pattern costs a searcher call per line,
/// and this runs for every line of the section written.
fn lines_of(content: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', content.as_bytes())
        .chain(std::iter::once(content.len()))
        .map(move |end| {
            let line = &content[start..end];
            start = end + 1;
            line
        })
}

/// Like [`literal_lines`] for a folded block: a folded block joins two unindented lines
/// with a space, so one more empty line goes between them to keep each line break.
fn folded_lines(content: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::with_capacity(content.len() + content.len() / 4);
    let mut prev_plain = false;
    let mut empties = 0;
    for line in lines_of(content) {
        if line.is_empty() {
            empties += 1;
            continue;
        }
        let plain = !line.starts_with([' ', '\t']);
        if !out.is_empty() {
            let extra = usize::from(prev_plain && plain);
            for _ in 0..empties + extra {
                out.push('\n');
            }
        }
        out.push('\n');
        out.push_str(&pad);
        out.push_str(line);
        prev_plain = plain;
        empties = 0;
    }
    out
}
