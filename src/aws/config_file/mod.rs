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

mod edit;
mod io;
#[cfg(test)]
mod tests;

pub use io::{lock, read, write_atomic, FileError};

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
}
