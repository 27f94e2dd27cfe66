//! An aws-auth ConfigMap manifest (YAML or JSON, possibly one document among several):
//! read into the access model, and written back by splicing only the data sections that
//! changed into the original text, so comments, key order, metadata and other keys survive
//! byte for byte. Every rendering is parsed again and checked before it is returned. Pure.

use super::model::AwsAuth;
use super::section::{SectionError, SectionName};
use super::yaml::{self, Node, Style, TrimCr, Value};

/// Kubernetes refuses ConfigMaps whose data exceeds this many bytes.
pub const MAX_DATA_BYTES: usize = 1024 * 1024;

/// The manifest written for a target file that does not exist yet.
pub const FRESH: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\n";

/// Why a manifest cannot be used; each message names the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The file is not valid YAML or JSON.
    #[error("line {line}: not valid YAML: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// What the parser said.
        message: String,
    },
    /// The document is not the aws-auth ConfigMap (or no document in the file is).
    #[error("{}{message}", .line.map_or_else(String::new, |l| format!("line {l}: ")))]
    NotAwsAuth {
        /// The line of the offending field, when there is one.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// The shape around the data sections is wrong.
    #[error("line {line}: {message}")]
    Shape {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A data section does not parse the way the authenticator needs.
    #[error("line {}: {source}", .file_line.map_or_else(|| "?".to_string(), |l| l.to_string()))]
    Section {
        /// The file line of the problem, when it can be known.
        file_line: Option<usize>,
        /// The section-level error.
        source: SectionError,
    },
    /// The data would not fit in a ConfigMap.
    #[error("aws-auth data would be {0} bytes, but Kubernetes stores at most {MAX_DATA_BYTES} bytes in a ConfigMap")]
    TooLarge(usize),
    /// Splicing produced text that does not read back as intended (a bug; nothing is written).
    #[error("internal error: the rewritten manifest does not read back as intended ({0}); nothing was written, please report this")]
    Verify(String),
}

impl ManifestError {
    /// The file line the error is about, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ManifestError::Syntax { line, .. } | ManifestError::Shape { line, .. } => Some(*line),
            ManifestError::NotAwsAuth { line, .. } => *line,
            ManifestError::Section { file_line, .. } => *file_line,
            ManifestError::TooLarge(_) | ManifestError::Verify(_) => None,
        }
    }

    /// `PATH:LINE: message` (or `PATH: message`), as compilers print it.
    pub fn located(&self, path: &str) -> String {
        let text = self.to_string();
        match self.line() {
            Some(l) => {
                let bare = text.strip_prefix(&format!("line {l}: ")).unwrap_or(&text);
                format!("{path}:{l}: {bare}")
            }
            None => format!("{path}: {text}"),
        }
    }
}

/// Where one section's value stands in the text.
#[derive(Debug, Clone, PartialEq)]
struct SectionLoc {
    /// Byte just after the key (the replacement starts here, over `: value`).
    key_end: usize,
    /// Byte just after the value's content.
    value_end: usize,
    style: Style,
    /// Column of the key.
    key_col: usize,
    /// Column of a block scalar's content.
    content_col: Option<usize>,
    /// File line of the first content line (block scalars) or of the key.
    first_line: usize,
    block_content: bool,
    /// Line breaks that ended the original value: a `|+` block keeps its own.
    trailing_breaks: usize,
    /// Whether the original value was empty (`""`, `''` or nothing).
    was_empty: bool,
}

/// Where the `data` mapping stands, to add sections to it.
#[derive(Debug, Clone, PartialEq)]
enum DataLoc {
    /// A mapping: insert new keys after `end` (block) or before its closing brace (flow).
    Map {
        end: usize,
        indent: usize,
        flow: bool,
        empty: bool,
        one_line: bool,
    },
    /// No `data` key: add one after the document's last value.
    Absent {
        end: usize,
        indent: usize,
        flow: bool,
    },
    /// `data:` with nothing (or null): replace from the key's end to the line's end.
    Null {
        key_end: usize,
        value_end: usize,
        indent: usize,
        flow: bool,
    },
}

/// A section's text as a render must read it back.
enum Wanted<'a> {
    /// All of it.
    Whole(std::borrow::Cow<'a, str>),
    /// The text as read up to byte `.0` (its lines the splice kept), then `.1`.
    After(usize, String),
}

impl Wanted<'_> {
    /// True when `back` (a section read back, `None` when absent) is this text; `old` is the
    /// section as read.
    fn is(&self, old: &str, back: Option<&str>) -> bool {
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

/// A parsed aws-auth manifest: its text, where the data sections stand, and the model.
#[derive(Debug, Clone)]
pub struct Manifest {
    text: std::sync::Arc<str>,
    data: DataLoc,
    locs: [Option<SectionLoc>; 3],
    in_flow: bool,
    other_data_bytes: usize,
    /// Each section's text as read (shared with the model's sections), to rewrite only the
    /// lines of a block that changed.
    sources: [Option<std::sync::Arc<String>>; 3],
    /// The access model read from the data sections.
    pub auth: AwsAuth,
}

fn index(name: SectionName) -> usize {
    SectionName::ALL
        .iter()
        .position(|n| *n == name)
        .unwrap_or(0)
}

fn line_end(text: &str, byte: usize) -> usize {
    text[byte..].find('\n').map_or(text.len(), |i| byte + i)
}

/// What the document around the sections says: where they stand and their texts, before the
/// entries in them are read.
struct Document {
    data: DataLoc,
    locs: [Option<SectionLoc>; 3],
    in_flow: bool,
    other_data_bytes: usize,
    texts: [Option<String>; 3],
    data_keys: Vec<(String, Option<usize>)>,
}

/// Reads the manifest document: the aws-auth ConfigMap among its documents, where `data` and
/// each section stand, and each section's text (entries not parsed).
fn read_document(text: &str) -> Result<Document, ManifestError> {
    if let Some(line) = lone_cr_line(text) {
        return Err(ManifestError::Shape {
            line,
            message: "a carriage return (\\r) without a line feed ends a line here; save the file with \\n (or \\r\\n) line ends".into(),
        });
    }
    // The usual shape is read line by line; anything else goes to the general parser.
    let docs = match super::simple_doc::parse(text) {
        Some(docs) => docs,
        None => yaml::parse_documents(text).map_err(|e| ManifestError::Syntax {
            line: e.line,
            message: format!("column {}: {}", e.col, e.message),
        })?,
    };
    let non_empty: Vec<&Node> = docs.iter().filter(|d| !d.is_null()).collect();
    let root = match non_empty.as_slice() {
        [] => {
            return Err(ManifestError::NotAwsAuth {
                line: None,
                message: "the file holds no document; delete it to have okscript create a fresh aws-auth manifest".into(),
            })
        }
        [one] => *one,
        many => many
            .iter()
            .find(|d| is_aws_auth(d))
            .copied()
            .ok_or_else(|| {
                ManifestError::NotAwsAuth {
                    line: None,
                    message: format!(
                        "none of the {} documents in the file is a ConfigMap named aws-auth",
                        many.len()
                    ),
                }
            })?,
    };
    check_identity(root)?;
    let Value::Map(pairs) = &root.value else {
        unreachable!("check_identity accepts only mappings")
    };
    let root_indent = root.start.col;
    let data_pair = pairs.iter().find(|(k, _)| k.as_scalar() == Some("data"));
    let mut locs: [Option<SectionLoc>; 3] = [None, None, None];
    let mut texts: [Option<String>; 3] = [None, None, None];
    let mut other_data_bytes = 0;
    let mut data_keys: Vec<(String, Option<usize>)> = Vec::new();
    let data = match data_pair {
        None => DataLoc::Absent {
            end: root.end.byte,
            indent: root_indent,
            flow: root.flow,
        },
        Some((k, v)) if v.is_null() => DataLoc::Null {
            key_end: k.end.byte,
            value_end: if root.flow {
                replace_end(text, k.end.byte, v.end.byte, true)
            } else {
                line_end(text, v.end.byte.max(k.end.byte)).trim_cr(text)
            },
            indent: k.start.col,
            flow: root.flow,
        },
        Some((k, v)) => {
            let Value::Map(items) = &v.value else {
                return Err(ManifestError::Shape {
                    line: v.start.line,
                    message: format!(
                        "`data` must be a mapping of keys to strings, but it is {}",
                        v.type_name()
                    ),
                });
            };
            for (dk, dv) in items {
                let key = dk.as_scalar().unwrap_or_default();
                data_keys.push((key.to_string(), Some(dk.start.line)));
                let Some(name) = SectionName::from_key(key) else {
                    other_data_bytes += key.len() + dv.as_scalar().map_or(0, str::len);
                    continue;
                };
                let Value::Scalar {
                    text: value, style, ..
                } = &dv.value
                else {
                    return Err(ManifestError::Shape {
                        line: dv.start.line,
                        message: format!("`data.{key}` must be a string holding YAML (write it as `{key}: |` followed by the list), but it is {}", dv.type_name()),
                    });
                };
                let block = matches!(style, Style::Literal | Style::Folded);
                locs[index(name)] = Some(SectionLoc {
                    key_end: dk.end.byte,
                    value_end: dv.end.byte,
                    style: *style,
                    key_col: dk.start.col,
                    content_col: block.then_some(dv.start.col),
                    first_line: if block { dv.start.line } else { dk.start.line },
                    block_content: block,
                    trailing_breaks: value.len() - value.trim_end_matches('\n').len(),
                    was_empty: dv.is_null() || value.is_empty(),
                });
                texts[index(name)] = Some(if dv.is_null() {
                    String::new()
                } else {
                    value.clone()
                });
            }
            DataLoc::Map {
                // After the last value (inside a flow mapping's braces), or the closing
                // brace of an empty flow mapping.
                end: items.last().map_or(v.end.byte, |(_, last)| last.end.byte),
                indent: items
                    .first()
                    .map_or(k.start.col + 2, |(fk, _)| fk.start.col),
                flow: v.flow,
                empty: items.is_empty(),
                one_line: v.start.line == v.end.line,
            }
        }
    };
    Ok(Document {
        data,
        locs,
        in_flow: root.flow,
        other_data_bytes,
        texts,
        data_keys,
    })
}

impl Manifest {
    /// The manifest for a file that does not exist yet: an aws-auth ConfigMap with no data.
    pub fn fresh() -> Manifest {
        Manifest::parse(FRESH).expect("the built-in manifest parses")
    }

    /// The original text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Reads a manifest; refuses files whose aws-auth cannot be fully understood.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse_shared(text.into())
    }

    /// [`Manifest::parse`] of a text the caller keeps too: shared, not copied.
    pub fn parse_shared(text: std::sync::Arc<str>) -> Result<Manifest, ManifestError> {
        let Document {
            data,
            locs,
            in_flow,
            other_data_bytes,
            texts,
            data_keys,
        } = read_document(&text)?;
        let mut auth = AwsAuth::parse_owned(texts).map_err(|source| {
            let loc = &locs[SectionName::from_key(source.section).map_or(0, index)];
            let file_line = loc.as_ref().map(|l| {
                if l.block_content {
                    l.first_line + source.line - 1
                } else {
                    l.first_line
                }
            });
            ManifestError::Section { file_line, source }
        })?;
        auth.note_data_keys(data_keys.iter().map(|(k, l)| (k.as_str(), *l)));
        let sources = SectionName::ALL.map(|name| auth.section(name).source.clone());
        Ok(Manifest {
            text,
            data,
            locs,
            in_flow,
            other_data_bytes,
            sources,
            auth,
        })
    }

    /// The file line of a line inside a section, when the section is a block scalar.
    pub fn file_line(&self, name: SectionName, line: usize) -> Option<usize> {
        let loc = self.locs[index(name)].as_ref()?;
        Some(if loc.block_content {
            loc.first_line + line - 1
        } else {
            loc.first_line
        })
    }

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
    fn splice_literal(
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
        let same = super::plan::common_prefix(old_content.as_bytes(), content.as_bytes());
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

/// Where the replacement of a value must end: its end, or for an empty value (which ends
/// at its key) past the `:` — and in block context to the end of the line.
fn replace_end(text: &str, key_end: usize, value_end: usize, flow: bool) -> usize {
    if value_end > key_end {
        return value_end;
    }
    let bytes = text.as_bytes();
    let mut i = key_end;
    while matches!(bytes.get(i), Some(b' ') | Some(b'\t')) {
        i += 1;
    }
    if bytes.get(i) == Some(&b':') {
        i += 1;
    }
    if flow {
        i
    } else {
        line_end(text, i).trim_cr(text)
    }
}

/// The 1-based line of the first `\r` that is not followed by `\n`, if any: YAML reads it as
/// a line break, but the byte positions okscript keeps count only `\n`.
pub fn lone_cr_line(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    // memchr to each `\r` (there are none in most files) instead of testing every byte.
    let at = memchr::memchr_iter(b'\r', bytes).find(|&i| bytes.get(i + 1) != Some(&b'\n'))?;
    Some(memchr::memchr_iter(b'\n', &bytes[..at]).count() + 1)
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

fn is_aws_auth(doc: &Node) -> bool {
    doc.get("kind").and_then(Node::as_scalar) == Some("ConfigMap")
        && doc
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Node::as_scalar)
            == Some("aws-auth")
}

/// Accepts a ConfigMap named aws-auth in kube-system; a field that is missing is tolerated
/// (kustomize and GitOps tools fill them in), a field with another value is not.
/// Refuses a mapping that has a key twice: YAML readers disagree on which one counts
/// (kubectl refuses the file), so okscript will not guess.
fn check_unique_keys(node: &Node, what: &str) -> Result<(), ManifestError> {
    let Value::Map(pairs) = &node.value else {
        return Ok(());
    };
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in pairs {
        let Some(key) = k.as_scalar() else { continue };
        if seen.contains(&key) {
            return Err(ManifestError::Shape {
                line: k.start.line,
                message: format!(
                    "`{key}` appears twice in {what}; keep one (kubectl refuses such a file too)"
                ),
            });
        }
        seen.push(key);
    }
    Ok(())
}

fn check_identity(doc: &Node) -> Result<(), ManifestError> {
    check_unique_keys(doc, "the document")?;
    if let Some(meta) = doc.get("metadata") {
        check_unique_keys(meta, "metadata")?;
    }
    if let Some(data) = doc.get("data") {
        check_unique_keys(data, "data")?;
    }
    if !matches!(doc.value, Value::Map(_)) {
        return Err(ManifestError::NotAwsAuth {
            line: Some(doc.start.line),
            message: format!("the document is {}, not a ConfigMap", doc.type_name()),
        });
    }
    let want = |node: Option<&Node>, field: &str, expected: &str| -> Result<(), ManifestError> {
        match node {
            Some(n) if n.as_scalar() != Some(expected) => Err(ManifestError::NotAwsAuth {
                line: Some(n.start.line),
                message: format!(
                    "`{field}` is `{}`, but okscript edits only the aws-auth ConfigMap (`{field}: {expected}`)",
                    n.as_scalar().unwrap_or("?")
                ),
            }),
            _ => Ok(()),
        }
    };
    want(doc.get("kind"), "kind", "ConfigMap")?;
    want(doc.get("apiVersion"), "apiVersion", "v1")?;
    let meta = doc.get("metadata");
    want(
        meta.and_then(|m| m.get("name")),
        "metadata.name",
        "aws-auth",
    )?;
    want(
        meta.and_then(|m| m.get("namespace")),
        "metadata.namespace",
        "kube-system",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::arn::PrincipalKind;
    use crate::access::intent::Intent;
    use crate::access::model::Protected;

    /// A manifest of `n` role entries under `mapRoles: HEADER`.
    fn roles(n: usize, header: &str) -> String {
        let mut text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: {header}\n");
        for i in 0..n {
            text.push_str(&format!("    - rolearn: arn:aws:iam::123456789012:role/r{i}\n      username: r{i}\n      groups:\n      - g\n"));
        }
        text
    }

    fn grant_new(m: &Manifest) -> AwsAuth {
        let groups = ["new".to_string()];
        let arn = "arn:aws:iam::123456789012:role/new";
        let intent = Intent::grant(PrincipalKind::Role, arn, &groups, None, false)
            .unwrap()
            .0;
        let mut auth = m.auth.clone();
        auth.apply(&intent, &Protected::default()).unwrap();
        auth
    }

    #[test]
    fn a_grant_rewrites_only_the_end_of_a_literal_block() {
        for header in ["|", "|-", "|+", "|  "] {
            let m = Manifest::parse(&roles(50, header)).unwrap();
            let auth = grant_new(&m);
            let loc = m.locs[0].as_ref().unwrap();
            let value = auth.roles.render().unwrap();
            let ((from, to, with), _) = m
                .splice_literal(loc, SectionName::MapRoles, &value)
                .unwrap();
            // The last entry's last line and the new entry: not the 200 lines before.
            let new = "\n    - rolearn: arn:aws:iam::123456789012:role/new\n      username: new:{{SessionName}}\n      groups:\n      - new";
            assert_eq!(with, format!("\n      - g{new}"), "{header:?}");
            assert!(
                from > m.text.len() - 100 && to == loc.value_end,
                "{header:?}"
            );
            let (spliced, whole) = (
                m.render(&auth).unwrap(),
                m.render_with(&auth, false).unwrap(),
            );
            // The same texts, and the same file but where a whole rewrite picks the header
            // (`|` for `|+` over one final line break, no trailing spaces): a splice keeps
            // the one written.
            let texts = |t: &str| read_document(t).unwrap().texts;
            assert_eq!(texts(&spliced), texts(&whole), "{header:?}");
            if header == "|" || header == "|-" {
                assert_eq!(spliced, whole, "{header:?}");
            }
        }
    }

    #[test]
    fn a_spliced_section_must_read_back_as_the_kept_lines_then_the_new_ones() {
        let want = Wanted::After(3, "x\n".into());
        assert!(want.is("ab\nold\n", Some("ab\nx\n")));
        for back in [
            Some("ac\nx\n"),
            Some("ab\ny\n"),
            Some("ab\nx\n\n"),
            Some("ab"),
            None,
        ] {
            assert!(!want.is("ab\nold\n", back), "{back:?}");
        }
        assert!(Wanted::Whole("a\n".into()).is("", Some("a\n")));
        assert!(!Wanted::Whole("a\n".into()).is("", None));
    }

    #[test]
    fn blocks_a_splice_cannot_keep_are_written_whole() {
        // A comment on the header, a folded block, an indentation indicator, CRLF.
        let texts = [
            roles(3, "| # roles"),
            roles(3, "|2"),
            roles(3, "|").replace('\n', "\r\n"),
        ];
        for text in &texts {
            let m = Manifest::parse(text).unwrap();
            let auth = grant_new(&m);
            let loc = m.locs[0].as_ref().unwrap();
            let value = auth.roles.render().unwrap();
            assert_eq!(
                m.splice_literal(loc, SectionName::MapRoles, &value),
                None,
                "{text:?}"
            );
            assert!(Manifest::parse(&m.render(&auth).unwrap()).is_ok());
        }
    }
}
