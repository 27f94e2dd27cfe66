//! An aws-auth ConfigMap manifest (YAML or JSON, possibly one document among several):
//! read into the access model, and written back by splicing only the data sections that
//! changed into the original text, so comments, key order, metadata and other keys survive
//! byte for byte. Every rendering is parsed again and checked before it is used. Pure.

use super::model::AwsAuth;
use super::section::{SectionError, SectionName};
use super::yaml::{self, Node, Style, TrimCr, Value};

pub use render::Rendered;

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

mod render;

#[cfg(test)]
mod tests;
