//! The AWS CLI v2 config file (`~/.aws/config`) as an editor that keeps every byte it does
//! not change: comments, blank lines, other profiles, their order, nested settings such as
//! `s3 =` with indented keys below it, and CRLF line endings. Sections remember their exact
//! source lines; an edit only touches the lines of the section it names (or appends a new
//! section at the end). It reads files the way the AWS CLI's parser (Python's configparser)
//! does: `key = value` or `key: value`, `#` and `;` comment lines, continuation lines indented
//! deeper than their key, keys case-insensitive, and a duplicate section or key is an error.
//! Anything it cannot read is an error naming its 1-based line, so that a file okscript does
//! not understand is never rewritten. Pure, except for the thin [`read`] / [`write_atomic`]
//! layer at the bottom.

use std::fmt;

/// Which section a header names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SectionId {
    /// `[profile NAME]`, or `[default]` for the profile named `default`.
    Profile(String),
    /// `[sso-session NAME]`.
    SsoSession(String),
    /// Any other header (`[services NAME]`, `[plugins]`, ...), by its text inside the brackets.
    Other(String),
}

impl SectionId {
    /// The section a header's text (inside the brackets) names.
    pub fn from_header(inner: &str) -> SectionId {
        let words: Vec<&str> = inner.split_whitespace().collect();
        match words[..] {
            ["default"] => SectionId::Profile("default".into()),
            ["profile", name] => SectionId::Profile(name.into()),
            ["sso-session", name] => SectionId::SsoSession(name.into()),
            _ => SectionId::Other(inner.trim().to_string()),
        }
    }

    /// The header line's text without its line ending, as okscript writes it.
    pub fn header(&self) -> String {
        match self {
            SectionId::Profile(n) if n == "default" => "[default]".into(),
            SectionId::Profile(n) => format!("[profile {n}]"),
            SectionId::SsoSession(n) => format!("[sso-session {n}]"),
            SectionId::Other(t) => format!("[{t}]"),
        }
    }
}

impl fmt::Display for SectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.header())
    }
}

/// A line the file cannot be read past, with its 1-based number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it, as advice.
    pub message: String,
}

/// A setting, its continuation lines and everything it was written as.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// The key as written (trimmed).
    key: String,
    /// How far the key line is indented (continuation lines are indented deeper).
    indent: usize,
    /// Byte length of the key line's text up to its value (key, delimiter, spaces).
    value_at: usize,
    /// The key line, then continuation lines (and blank/comment lines among them), each
    /// with its line ending.
    lines: Vec<String>,
}

impl Entry {
    /// The value as the AWS CLI reads it: the first line's value, then each continuation line.
    fn value(&self) -> String {
        let first = content(&self.lines[0])[self.value_at..].trim().to_string();
        let more: Vec<&str> = self.lines[1..]
            .iter()
            .map(|l| content(l).trim())
            .filter(|t| !t.is_empty() && !is_comment(t))
            .collect();
        if more.is_empty() {
            first
        } else {
            let mut v = first;
            for m in more {
                v.push('\n');
                v.push_str(m);
            }
            v
        }
    }

    fn is_key(&self, key: &str) -> bool {
        self.key.eq_ignore_ascii_case(key)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum BodyLine {
    /// A blank or comment line, with its line ending.
    Other(String),
    /// A setting.
    Entry(Entry),
}

impl BodyLine {
    fn render_into(&self, out: &mut String) {
        match self {
            BodyLine::Other(l) => out.push_str(l),
            BodyLine::Entry(e) => e.lines.iter().for_each(|l| out.push_str(l)),
        }
    }

    fn last_line_mut(&mut self) -> &mut String {
        match self {
            BodyLine::Other(l) => l,
            BodyLine::Entry(e) => e.lines.last_mut().expect("an entry has its key line"),
        }
    }
}

/// One `[...]` section: its header line and the lines below it up to the next header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    id: SectionId,
    inner: String,
    header: String,
    body: Vec<BodyLine>,
}

impl Section {
    /// Which section this is.
    pub fn id(&self) -> &SectionId {
        &self.id
    }

    /// The value of `key` (keys are case-insensitive), if the section has it.
    pub fn get(&self, key: &str) -> Option<String> {
        self.entry(key).map(Entry::value)
    }

    /// The header's text inside the brackets, trimmed (`profile dev`, `default`, `dev` in a
    /// credentials file).
    pub fn name(&self) -> &str {
        &self.inner
    }

    /// Every setting as (key as written, value as the AWS CLI reads it), in file order.
    pub fn settings(&self) -> impl Iterator<Item = (&str, String)> {
        self.entries().map(|e| (e.key.as_str(), e.value()))
    }

    /// The keys, in file order, as written.
    pub fn keys(&self) -> Vec<&str> {
        self.entries().map(|e| e.key.as_str()).collect()
    }

    /// The section's exact text, header included.
    pub fn render(&self) -> String {
        let mut out = self.header.clone();
        self.body.iter().for_each(|b| b.render_into(&mut out));
        out
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.body.iter().filter_map(|b| match b {
            BodyLine::Entry(e) => Some(e),
            BodyLine::Other(_) => None,
        })
    }

    fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries().find(|e| e.is_key(key))
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.body
            .iter()
            .position(|b| matches!(b, BodyLine::Entry(e) if e.is_key(key)))
    }
}

/// A parsed config file that renders back to exactly the text it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigFile {
    /// Blank and comment lines before the first section.
    preamble: Vec<String>,
    sections: Vec<Section>,
    /// Whether the file's lines end in `\r\n` (judged by its first line ending).
    crlf: bool,
}

/// A key whose value in the file differs from the wanted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The section, e.g. `[profile dev]`.
    pub section: SectionId,
    /// The key.
    pub key: String,
    /// The value in the file.
    pub old: String,
    /// The wanted value; `None` when the key must go.
    pub new: Option<String>,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.new {
            Some(new) => write!(
                f,
                "{} {}: {:?} in the file, {:?} wanted",
                self.section, self.key, self.old, new
            ),
            None => write!(
                f,
                "{} {}: {:?} in the file, must be removed",
                self.section, self.key, self.old
            ),
        }
    }
}

/// What an edit did (or, when refused, would have done).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Edit {
    /// The section did not exist and was appended.
    pub created: bool,
    /// Keys appended (to a new or an existing section).
    pub added: Vec<String>,
    /// Keys whose value was replaced (only with `force`).
    pub replaced: Vec<Conflict>,
    /// Keys removed (only with `force`).
    pub removed: Vec<Conflict>,
}

impl Edit {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        !self.created
            && self.added.is_empty()
            && self.replaced.is_empty()
            && self.removed.is_empty()
    }
}

/// Why an edit was refused; the file is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// Keys have other values in the file (or must be removed); `force` overrides.
    #[error("{}", conflicts_text(.0))]
    Conflicts(Vec<Conflict>),
    /// A section name okscript would not write (empty, whitespace, brackets, ...).
    #[error("{0:?} cannot be a section name: use letters, digits and - _ . @ + = , / : (no spaces or brackets)")]
    BadName(String),
    /// A key okscript would not write.
    #[error("{0:?} cannot be a key: use lowercase letters, digits and _")]
    BadKey(String),
    /// A value okscript would not write (empty, several lines, surrounding spaces).
    #[error("{key} = {value:?}: a value must be one non-empty line without surrounding spaces")]
    BadValue {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
}

fn conflicts_text(c: &[Conflict]) -> String {
    c.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The line's text without its line ending.
fn content(line: &str) -> &str {
    let l = line.strip_suffix('\n').unwrap_or(line);
    l.strip_suffix('\r').unwrap_or(l)
}

fn is_comment(trimmed: &str) -> bool {
    trimmed.starts_with('#') || trimmed.starts_with(';')
}

fn indent_of(text: &str) -> usize {
    text.len() - text.trim_start().len()
}

/// Whether okscript writes `name` in a section header.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.@+=,/:".contains(c))
}

fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_valid_value(value: &str) -> bool {
    !value.is_empty() && value.trim() == value && !value.contains(['\n', '\r'])
}

impl ConfigFile {
    /// Parses a config file; an error names the first line it cannot read.
    pub fn parse(text: &str) -> Result<ConfigFile, ParseError> {
        let mut file = ConfigFile {
            crlf: text.find('\n').is_some_and(|i| text[..i].ends_with('\r')),
            ..ConfigFile::default()
        };
        let mut seen_sections: Vec<(String, usize)> = Vec::new();
        // Line of each key of the current section, lowercased.
        let mut seen_keys: Vec<(String, usize)> = Vec::new();
        for (i, raw) in text.split_inclusive('\n').enumerate() {
            let n = i + 1;
            let mut text = content(raw);
            if i == 0 {
                text = text.strip_prefix('\u{feff}').unwrap_or(text);
            }
            let trimmed = text.trim();
            let indent = indent_of(text);
            let current = file.sections.last_mut();
            // A line indented deeper than the last setting continues it (nested settings).
            if let Some(section) = current {
                let last_entry = section
                    .body
                    .iter()
                    .rposition(|b| matches!(b, BodyLine::Entry(_)));
                if let Some(at) = last_entry {
                    let BodyLine::Entry(e) = &section.body[at] else {
                        unreachable!("found as an entry")
                    };
                    if !trimmed.is_empty() && !is_comment(trimmed) && indent > e.indent {
                        let between: Vec<BodyLine> = section.body.drain(at + 1..).collect();
                        let BodyLine::Entry(e) = &mut section.body[at] else {
                            unreachable!("found as an entry")
                        };
                        for b in between {
                            let BodyLine::Other(l) = b else {
                                unreachable!("only blank and comment lines follow the last entry")
                            };
                            e.lines.push(l);
                        }
                        e.lines.push(raw.to_string());
                        continue;
                    }
                }
            }
            if trimmed.is_empty() || is_comment(trimmed) {
                match file.sections.last_mut() {
                    Some(s) => s.body.push(BodyLine::Other(raw.to_string())),
                    None => file.preamble.push(raw.to_string()),
                }
                continue;
            }
            if trimmed.starts_with('[') {
                let Some(close) = trimmed.rfind(']') else {
                    return Err(ParseError {
                        line: n,
                        message: format!(
                            "section header `{trimmed}` has no closing `]`: write it as [profile NAME]"
                        ),
                    });
                };
                let rest = trimmed[close + 1..].trim();
                if !rest.is_empty() && !is_comment(rest) {
                    return Err(ParseError {
                        line: n,
                        message: format!("unexpected `{rest}` after the section header"),
                    });
                }
                let inner = trimmed[1..close].trim().to_string();
                if inner.is_empty() {
                    return Err(ParseError {
                        line: n,
                        message: "a section header without a name: write it as [profile NAME]"
                            .into(),
                    });
                }
                if let Some((_, first)) = seen_sections.iter().find(|(s, _)| *s == inner) {
                    return Err(ParseError {
                        line: n,
                        message: format!(
                            "section [{inner}] appears twice (first on line {first}): the AWS CLI refuses such a file; merge them"
                        ),
                    });
                }
                seen_sections.push((inner.clone(), n));
                seen_keys.clear();
                file.sections.push(Section {
                    id: SectionId::from_header(&inner),
                    inner,
                    header: raw.to_string(),
                    body: Vec::new(),
                });
                continue;
            }
            let Some(section) = file.sections.last_mut() else {
                return Err(ParseError {
                    line: n,
                    message: format!(
                        "`{trimmed}` is outside any section: settings go below a header such as [default] or [profile NAME]"
                    ),
                });
            };
            let Some(delim) = text.find(['=', ':']) else {
                return Err(ParseError {
                    line: n,
                    message: format!("`{trimmed}` is not a `key = value` setting"),
                });
            };
            let key = text[..delim].trim();
            if key.is_empty() {
                return Err(ParseError {
                    line: n,
                    message: format!("`{trimmed}` has no key before `{}`", &text[delim..=delim]),
                });
            }
            let lower = key.to_ascii_lowercase();
            if let Some((_, first)) = seen_keys.iter().find(|(k, _)| *k == lower) {
                return Err(ParseError {
                    line: n,
                    message: format!(
                        "`{key}` is set twice in [{}] (first on line {first}): the AWS CLI refuses such a file; keep one",
                        section.inner
                    ),
                });
            }
            seen_keys.push((lower, n));
            let after = &text[delim + 1..];
            let value_at = delim + 1 + (after.len() - after.trim_start().len());
            // Offsets are into `text`; the BOM (first line only) is not part of the entry.
            let value_at = value_at + (content(raw).len() - text.len());
            section.body.push(BodyLine::Entry(Entry {
                key: key.to_string(),
                indent,
                value_at,
                lines: vec![raw.to_string()],
            }));
        }
        Ok(file)
    }

    /// The file's text: byte for byte what was parsed, plus the edits made since.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.preamble.iter().for_each(|l| out.push_str(l));
        for s in &self.sections {
            out.push_str(&s.header);
            s.body.iter().for_each(|b| b.render_into(&mut out));
        }
        out
    }

    /// The sections in file order.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The section `id` names. `Profile("default")` finds `[default]` (or `[profile default]`).
    pub fn section(&self, id: &SectionId) -> Option<&Section> {
        self.index(id).map(|i| &self.sections[i])
    }

    /// Whether the file has a profile of this name.
    pub fn has_profile(&self, name: &str) -> bool {
        self.section(&SectionId::Profile(name.to_string()))
            .is_some()
    }

    fn index(&self, id: &SectionId) -> Option<usize> {
        self.sections.iter().position(|s| s.id == *id)
    }

    fn newline(&self) -> &'static str {
        if self.crlf {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// Makes section `id` hold `set` (key, value) and none of the keys in `absent`.
    ///
    /// Nothing changes when it already does (the text stays byte-identical). A key with
    /// another value, or an `absent` key that is present, is a conflict: all of them are
    /// returned and nothing changes, unless `force` replaces (or removes) them in place.
    /// Missing keys are appended after the section's last setting (so before its trailing
    /// blank and comment lines); a missing section is appended at the end of the file after
    /// one blank line. No other line changes.
    pub fn upsert(
        &mut self,
        id: &SectionId,
        set: &[(&str, &str)],
        absent: &[&str],
        force: bool,
    ) -> Result<Edit, EditError> {
        match id {
            SectionId::Profile(n) | SectionId::SsoSession(n) if !is_valid_name(n) => {
                return Err(EditError::BadName(n.clone()))
            }
            SectionId::Other(t) if t.trim().is_empty() || t.contains(['[', ']', '\n', '\r']) => {
                return Err(EditError::BadName(t.clone()))
            }
            _ => {}
        }
        for (k, v) in set {
            if !is_valid_key(k) {
                return Err(EditError::BadKey(k.to_string()));
            }
            if !is_valid_value(v) {
                return Err(EditError::BadValue {
                    key: k.to_string(),
                    value: v.to_string(),
                });
            }
        }
        let nl = self.newline();
        let mut edit = Edit::default();
        let Some(at) = self.index(id) else {
            edit.created = true;
            edit.added = set.iter().map(|(k, _)| k.to_string()).collect();
            self.append_section(id, set);
            return Ok(edit);
        };
        let section = &self.sections[at];
        let mut missing = Vec::new();
        for (k, v) in set {
            match section.entry(k) {
                Some(e) if e.value() == *v => {}
                Some(e) => edit.replaced.push(Conflict {
                    section: id.clone(),
                    key: e.key.clone(),
                    old: e.value(),
                    new: Some(v.to_string()),
                }),
                None => missing.push((*k, *v)),
            }
        }
        for k in absent {
            if let Some(e) = section.entry(k) {
                edit.removed.push(Conflict {
                    section: id.clone(),
                    key: e.key.clone(),
                    old: e.value(),
                    new: None,
                });
            }
        }
        if !force && (!edit.replaced.is_empty() || !edit.removed.is_empty()) {
            let mut all = edit.replaced;
            all.extend(edit.removed);
            return Err(EditError::Conflicts(all));
        }
        let section = &mut self.sections[at];
        for c in &edit.replaced {
            let i = section.position(&c.key).expect("found above");
            let BodyLine::Entry(e) = &mut section.body[i] else {
                unreachable!("position finds entries")
            };
            let first = &e.lines[0];
            let ending = &first[content(first).len()..];
            let mut prefix = content(first)[..e.value_at].to_string();
            if !prefix.ends_with([' ', '\t']) {
                prefix.push(' ');
            }
            let new = c.new.as_deref().expect("replacements have a value");
            // Continuation lines belonged to the old value; the last one's ending is kept.
            let ending = if e.lines.len() > 1 {
                let last = e.lines.last().expect("several lines");
                last[content(last).len()..].to_string()
            } else {
                ending.to_string()
            };
            e.lines = vec![format!("{prefix}{new}{ending}")];
        }
        for c in &edit.removed {
            let i = section.position(&c.key).expect("found above");
            let removed = section.body.remove(i);
            // A file whose last line had no line ending keeps having none.
            let unterminated = {
                let mut s = String::new();
                removed.render_into(&mut s);
                !s.ends_with('\n')
            };
            if unterminated && i == section.body.len() {
                let last = match section.body.last_mut() {
                    Some(b) => b.last_line_mut(),
                    None => &mut section.header,
                };
                let len = content(last).len();
                last.truncate(len);
            }
        }
        if !missing.is_empty() {
            let pos = section
                .body
                .iter()
                .rposition(|b| matches!(b, BodyLine::Entry(_)))
                .map_or(0, |i| i + 1);
            {
                let before = match pos {
                    0 => &mut section.header,
                    p => section.body[p - 1].last_line_mut(),
                };
                if !before.ends_with('\n') {
                    before.push_str(nl);
                }
            }
            for (offset, (k, v)) in missing.iter().enumerate() {
                section
                    .body
                    .insert(pos + offset, BodyLine::Entry(new_entry(k, v, nl)));
                edit.added.push(k.to_string());
            }
        }
        Ok(edit)
    }

    fn append_section(&mut self, id: &SectionId, set: &[(&str, &str)]) {
        let nl = self.newline();
        let empty = self.preamble.is_empty() && self.sections.is_empty();
        let last: Option<&mut String> = match self.sections.last_mut() {
            Some(s) => Some(match s.body.last_mut() {
                Some(b) => b.last_line_mut(),
                None => &mut s.header,
            }),
            None => self.preamble.last_mut(),
        };
        let mut blank_before = !empty;
        if let Some(last) = last {
            if !last.ends_with('\n') {
                last.push_str(nl);
            }
            if content(last).trim().is_empty() {
                blank_before = false;
            }
        }
        if blank_before {
            match self.sections.last_mut() {
                Some(s) => s.body.push(BodyLine::Other(nl.to_string())),
                None => self.preamble.push(nl.to_string()),
            }
        }
        let inner = id.header();
        let inner = inner[1..inner.len() - 1].to_string();
        self.sections.push(Section {
            id: id.clone(),
            header: format!("{}{nl}", id.header()),
            inner,
            body: set
                .iter()
                .map(|(k, v)| BodyLine::Entry(new_entry(k, v, nl)))
                .collect(),
        });
    }
}

fn new_entry(key: &str, value: &str, nl: &str) -> Entry {
    Entry {
        key: key.to_string(),
        indent: 0,
        value_at: key.len() + 3,
        lines: vec![format!("{key} = {value}{nl}")],
    }
}

// ---- the thin I/O layer ---------------------------------------------------------------------

use std::path::{Path, PathBuf};

use crate::fsio::{self, FolderLock, FsError, NewFile};

/// A file operation that failed, with the path.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file cannot be read or replaced safely (see [`FsError`]).
    #[error("{0}; nothing was written")]
    Fs(#[from] FsError),
    /// The file is not UTF-8 text.
    #[error("{} is not UTF-8 text", .0.display())]
    NotText(PathBuf),
    /// Someone else changed the file between okscript reading and writing it.
    #[error("{} changed while okscript was editing it; nothing was written", .0.display())]
    ChangedMeanwhile(PathBuf),
}

impl FileError {
    /// Advice to print after the error.
    pub fn hint(&self) -> String {
        match self {
            FileError::Fs(e) => e.hint(),
            FileError::NotText(_) => None,
            FileError::ChangedMeanwhile(_) => {
                Some("another program edited the file at the same time; run again".into())
            }
        }
        .unwrap_or_else(|| "check the file's and its folder's permissions, then run again".into())
    }
}

/// The file's text, or `None` when it does not exist. A FIFO or device is refused unopened.
pub fn read(path: &Path) -> Result<Option<String>, FileError> {
    match fsio::read(path)? {
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| FileError::NotText(path.to_path_buf())),
        None => Ok(None),
    }
}

/// Takes okscript's lock on the folder of the config file (created 0700 when missing), so
/// okscript processes editing it take turns: hold it from reading the file to writing it.
pub fn lock(path: &Path) -> Result<FolderLock, FileError> {
    let folder = fsio::folder_of(&fsio::resolve(path)?);
    fsio::create_private_folder(&folder)?;
    Ok(FolderLock::take(&folder)?)
}

/// Replaces the file at `path` with `text` atomically (see [`crate::fsio::write`]), when it
/// still holds `expected` (`None`: when it still does not exist). A new file gets mode 0600
/// (its folder, created if missing, 0700); an existing one keeps its mode. A symbolic link
/// is kept: the file it points to is replaced. Call it under [`lock`] so that the check
/// and the replace are one step for okscript processes.
pub fn write_atomic(path: &Path, text: &str, expected: Option<&str>) -> Result<(), FileError> {
    if read(path)?.as_deref() != expected {
        return Err(FileError::ChangedMeanwhile(path.to_path_buf()));
    }
    fsio::write(path, text.as_bytes(), NewFile::PRIVATE)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn profile(n: &str) -> SectionId {
        SectionId::Profile(n.into())
    }

    fn session(n: &str) -> SectionId {
        SectionId::SsoSession(n.into())
    }

    const MESSY: &str = "# my AWS config\n; managed by hand\n\n[default]\nregion = eu-north-1\noutput=json\n\n# work\n[profile work]\nrole_arn: arn:aws:iam::123456789012:role/admin\nsource_profile = default\ns3 =\n  max_concurrent_requests = 20\n\n  # tuned\n  multipart_threshold = 64MB\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n  [services x]\n[services local]\ndynamodb =\n  endpoint_url = http://localhost:8000\n";

    #[test]
    fn a_messy_file_round_trips_and_reads_like_the_aws_cli() {
        let f = ConfigFile::parse(MESSY).unwrap();
        assert_eq!(f.render(), MESSY);
        let ids: Vec<_> = f.sections().iter().map(|s| s.id().clone()).collect();
        assert_eq!(
            ids,
            [
                profile("default"),
                profile("work"),
                session("corp"),
                SectionId::Other("services local".into())
            ]
        );
        let work = f.section(&profile("work")).unwrap();
        assert_eq!(
            work.get("role_arn").as_deref(),
            Some("arn:aws:iam::123456789012:role/admin")
        );
        assert_eq!(
            work.get("S3").as_deref(),
            Some("\nmax_concurrent_requests = 20\nmultipart_threshold = 64MB")
        );
        assert_eq!(work.keys(), ["role_arn", "source_profile", "s3"]);
        // The indented header continues sso_start_url, as configparser reads it.
        let corp = f.section(&session("corp")).unwrap();
        assert_eq!(
            corp.get("sso_start_url").as_deref(),
            Some("https://corp.awsapps.com/start\n[services x]")
        );
        assert!(f.has_profile("default") && f.has_profile("work") && !f.has_profile("corp"));
    }

    #[test]
    fn malformed_lines_are_errors_naming_the_line() {
        let cases = [
            ("region = x\n", 1, "outside any section"),
            ("# c\n\n[default\nregion = x\n", 3, "no closing `]`"),
            ("[default]\nregion\n", 2, "not a `key = value`"),
            ("[default]\n= x\n", 2, "no key"),
            ("[]\n", 1, "without a name"),
            ("[default] junk\n", 1, "unexpected `junk`"),
            ("[a]\n[b]\n[a]\n", 3, "appears twice (first on line 1)"),
            (
                "[a]\nregion = x\nRegion = y\n",
                3,
                "set twice in [a] (first on line 2)",
            ),
            ("  indented = outside\n", 1, "outside any section"),
        ];
        for (text, line, needle) in cases {
            let e = ConfigFile::parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.to_string().contains(needle), "{text:?}: {e}");
        }
        // A comment after a header is fine, as are `key: value` and an empty value.
        let ok = "[default] # the default\nregion: eu-west-1\nempty =\n";
        assert_eq!(ConfigFile::parse(ok).unwrap().render(), ok);
    }

    #[test]
    fn upserting_what_is_there_changes_nothing() {
        let mut f = ConfigFile::parse(MESSY).unwrap();
        let edit = f
            .upsert(
                &profile("default"),
                &[("region", "eu-north-1"), ("output", "json")],
                &[],
                false,
            )
            .unwrap();
        assert!(edit.is_empty());
        assert_eq!(f.render(), MESSY);
    }

    #[test]
    fn missing_keys_go_after_the_last_setting_of_their_section() {
        let mut f = ConfigFile::parse(MESSY).unwrap();
        let edit = f
            .upsert(
                &profile("default"),
                &[("region", "eu-north-1"), ("cli_pager", "less")],
                &[],
                false,
            )
            .unwrap();
        assert_eq!(edit.added, ["cli_pager"]);
        assert_eq!(
            f.render(),
            MESSY.replace("output=json\n", "output=json\ncli_pager = less\n")
        );
        // After nested settings (and not between them and their blank/comment lines).
        let mut f = ConfigFile::parse(MESSY).unwrap();
        f.upsert(&profile("work"), &[("region", "eu-west-1")], &[], false)
            .unwrap();
        assert_eq!(
            f.render(),
            MESSY.replace("64MB\n", "64MB\nregion = eu-west-1\n")
        );
    }

    #[test]
    fn a_missing_section_is_appended_after_one_blank_line() {
        let mut f = ConfigFile::parse(MESSY).unwrap();
        let edit = f
            .upsert(&profile("new"), &[("region", "eu-west-1")], &[], false)
            .unwrap();
        assert!(edit.created);
        assert_eq!(
            f.render(),
            format!("{MESSY}\n[profile new]\nregion = eu-west-1\n")
        );
        // No second blank line, and a missing final newline is added first.
        for (before, after) in [
            ("[a]\nk = v\n\n", "[a]\nk = v\n\n[b]\nx = y\n"),
            ("[a]\nk = v", "[a]\nk = v\n\n[b]\nx = y\n"),
            ("", "[b]\nx = y\n"),
            ("# only a comment", "# only a comment\n\n[b]\nx = y\n"),
        ] {
            let mut f = ConfigFile::parse(before).unwrap();
            f.upsert(&SectionId::Other("b".into()), &[("x", "y")], &[], false)
                .unwrap();
            assert_eq!(f.render(), after, "{before:?}");
        }
    }

    #[test]
    fn conflicts_are_refused_unless_forced() {
        let mut f = ConfigFile::parse(MESSY).unwrap();
        let err = f
            .upsert(
                &profile("work"),
                &[("source_profile", "other"), ("region", "x")],
                &["role_arn"],
                false,
            )
            .unwrap_err();
        let EditError::Conflicts(c) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].old, "default");
        assert_eq!(c[0].new.as_deref(), Some("other"));
        assert_eq!(c[1].key, "role_arn");
        assert_eq!(c[1].new, None);
        assert!(err
            .to_string()
            .contains("source_profile: \"default\" in the file, \"other\" wanted"));
        assert_eq!(f.render(), MESSY);

        let edit = f
            .upsert(
                &profile("work"),
                &[("source_profile", "other"), ("s3", "none"), ("region", "x")],
                &["role_arn"],
                true,
            )
            .unwrap();
        assert_eq!(edit.replaced.len(), 2);
        assert_eq!(edit.removed.len(), 1);
        assert_eq!(
            f.render(),
            MESSY
                .replace("role_arn: arn:aws:iam::123456789012:role/admin\n", "")
                .replace("source_profile = default", "source_profile = other")
                .replace(
                    "s3 =\n  max_concurrent_requests = 20\n\n  # tuned\n  multipart_threshold = 64MB\n",
                    "s3 = none\nregion = x\n"
                )
        );
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let text = "[default]\r\nregion = eu-north-1\r\n\r\n[profile a]\r\noutput = json\r\n";
        let mut f = ConfigFile::parse(text).unwrap();
        assert_eq!(f.render(), text);
        f.upsert(&profile("a"), &[("region", "x")], &[], false)
            .unwrap();
        f.upsert(&session("s"), &[("sso_region", "eu-west-1")], &[], false)
            .unwrap();
        assert_eq!(
            f.render(),
            "[default]\r\nregion = eu-north-1\r\n\r\n[profile a]\r\noutput = json\r\nregion = x\r\n\r\n[sso-session s]\r\nsso_region = eu-west-1\r\n"
        );
        assert_eq!(
            f.section(&profile("a")).unwrap().get("region").as_deref(),
            Some("x")
        );
    }

    #[test]
    fn bad_names_keys_and_values_are_refused() {
        let mut f = ConfigFile::default();
        for name in ["", "a b", "a]", "[a"] {
            assert!(matches!(
                f.upsert(&profile(name), &[], &[], false),
                Err(EditError::BadName(_))
            ));
        }
        assert!(matches!(
            f.upsert(&profile("a"), &[("Bad Key", "v")], &[], false),
            Err(EditError::BadKey(_))
        ));
        for v in ["", " v", "a\nb"] {
            assert!(matches!(
                f.upsert(&profile("a"), &[("k", v)], &[], false),
                Err(EditError::BadValue { .. })
            ));
        }
        assert_eq!(f.render(), "");
    }

    #[test]
    fn the_default_profile_is_found_either_way_and_written_as_default() {
        let f = ConfigFile::parse("[profile default]\nregion = x\n").unwrap();
        assert!(f.has_profile("default"));
        let mut f = ConfigFile::default();
        f.upsert(&profile("default"), &[("region", "x")], &[], false)
            .unwrap();
        assert_eq!(f.render(), "[default]\nregion = x\n");
    }

    #[test]
    fn a_bom_is_kept_and_ignored() {
        let text = "\u{feff}[default]\nregion = x\n";
        let f = ConfigFile::parse(text).unwrap();
        assert_eq!(f.render(), text);
        assert!(f.has_profile("default"));
    }

    #[test]
    fn write_atomic_creates_0600_keeps_modes_and_notices_concurrent_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/.aws/config");
        write_atomic(&path, "[a]\n", None).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, "[b]\n", Some("[a]\n")).unwrap();
        assert_eq!(read(&path).unwrap().as_deref(), Some("[b]\n"));
        assert_eq!(mode(&path), 0o640);
        let err = write_atomic(&path, "[c]\n", Some("[a]\n")).unwrap_err();
        assert!(matches!(err, FileError::ChangedMeanwhile(_)), "{err}");
        assert_eq!(read(&path).unwrap().as_deref(), Some("[b]\n"));
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["config"], "temporary files left behind");
        assert_eq!(read(&dir.path().join("missing")).unwrap(), None);
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    /// A generated body line: a setting (possibly nested), a blank or a comment.
    fn body_line(i: usize) -> impl Strategy<Value = String> {
        let key = format!("key_{i}");
        prop_oneof![
            4 => (
                prop_oneof![Just(" = "), Just("="), Just(" =\t"), Just(": "), Just(" : ")],
                "[a-zA-Z0-9:/._-]{0,12}",
                prop_oneof![Just(""), Just("  ")],
            )
                .prop_map({
                    let key = key.clone();
                    move |(d, v, pre)| format!("{pre}{key}{d}{v}")
                }),
            1 => proptest::collection::vec("[a-z_]{1,8} = [a-z0-9]{1,6}", 1..3).prop_map({
                let key = key.clone();
                move |subs| {
                    let mut s = format!("{key} =");
                    for sub in subs {
                        s.push_str("\n  ");
                        s.push_str(&sub);
                    }
                    s
                }
            }),
            1 => Just(String::new()),
            1 => "[#;][ -~]{0,20}".prop_map(|c| c),
            1 => "  [#;][ a-z]{0,10}".prop_map(|c| c),
        ]
    }

    fn header(i: usize) -> impl Strategy<Value = String> {
        prop_oneof![
            Just(format!("[profile p{i}]")),
            Just(format!("[ profile  p{i} ]")),
            Just(format!("[sso-session s{i}]")),
            Just(format!("[services svc{i}]")),
            Just(format!("[profile p{i}] # note")),
            Just(if i == 0 {
                "[default]".to_string()
            } else {
                format!("[plain{i}]")
            }),
        ]
    }

    fn section(i: usize) -> impl Strategy<Value = Vec<String>> {
        (header(i), proptest::collection::vec(0usize..1, 0..6)).prop_flat_map(move |(h, n)| {
            let lines: Vec<_> = (0..n.len()).map(body_line).collect();
            (Just(h), lines).prop_map(|(h, body)| {
                let mut v = vec![h];
                v.extend(body);
                v
            })
        })
    }

    /// A valid config file, its line ending and whether the last line has one.
    fn file() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(prop_oneof![Just(String::new()), "# [ -~]{0,15}"], 0..3),
            (0usize..5).prop_flat_map(|n| (0..n).map(section).collect::<Vec<_>>()),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(pre, sections, crlf, final_nl)| {
                let nl = if crlf { "\r\n" } else { "\n" };
                let mut lines = pre;
                sections.into_iter().for_each(|s| lines.extend(s));
                let mut text = lines.join("\n").replace('\n', nl);
                if final_nl && !text.is_empty() {
                    text.push_str(nl);
                }
                text
            })
    }

    fn target() -> impl Strategy<Value = SectionId> {
        prop_oneof![
            (0usize..6).prop_map(|i| SectionId::Profile(if i == 0 {
                "default".into()
            } else {
                format!("p{i}")
            })),
            (0usize..6).prop_map(|i| SectionId::SsoSession(format!("s{i}"))),
        ]
    }

    fn wants() -> impl Strategy<Value = Vec<(String, String)>> {
        proptest::collection::btree_map("key_[0-7]|region|output", "[a-z0-9:/.-]{1,10}", 0..5)
            .prop_map(|m| m.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn parse_then_render_is_the_identity(text in file()) {
            let f = ConfigFile::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text:?}")))?;
            prop_assert_eq!(f.render(), text.clone());
            prop_assert_eq!(ConfigFile::parse(&f.render()).unwrap(), f);
        }

        #[test]
        fn upsert_changes_only_its_section_and_is_idempotent(
            text in file(), id in target(), set in wants(), force in any::<bool>(),
        ) {
            let before = ConfigFile::parse(&text).unwrap();
            let mut after = before.clone();
            let pairs: Vec<(&str, &str)> = set.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            match after.upsert(&id, &pairs, &[], force) {
                Err(EditError::Conflicts(c)) => {
                    prop_assert!(!force && !c.is_empty());
                    prop_assert_eq!(after.render(), text);
                    return Ok(());
                }
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
                Ok(_) => {}
            }
            let rendered = after.render();
            let reparsed = ConfigFile::parse(&rendered)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{rendered:?}")))?;
            // The section holds every wanted value.
            let s = reparsed.section(&id).expect("the section exists");
            for (k, v) in &set {
                prop_assert_eq!(s.get(k), Some(v.clone()));
            }
            // Every other section is as it was (the last may gain a line ending and a blank).
            let n = before.sections.len();
            let (o, w) = (before.preamble.concat(), reparsed.preamble.concat());
            if n == 0 {
                prop_assert!(w.starts_with(&o) && w[o.len()..].trim().is_empty(), "{:?} -> {:?}", o, w);
            } else {
                prop_assert_eq!(o, w);
            }
            for (i, old) in before.sections.iter().enumerate() {
                if old.id == id {
                    continue;
                }
                let new = reparsed.section(&old.id).expect("other sections stay");
                if i + 1 == n {
                    let (o, w) = (old.render(), new.render());
                    prop_assert!(w.starts_with(&o) && w[o.len()..].trim().is_empty(), "{:?} -> {:?}", o, w);
                } else {
                    prop_assert_eq!(old.render(), new.render());
                }
            }
            // A second time changes nothing.
            let mut again = reparsed.clone();
            let edit = again.upsert(&id, &pairs, &[], false).unwrap();
            prop_assert!(edit.is_empty());
            prop_assert_eq!(again.render(), rendered);
        }
    }
}
