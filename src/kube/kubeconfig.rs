//! Adding an EKS cluster to a kubeconfig, the way `aws eks update-kubeconfig` does, but
//! with `okscript token` as the exec plugin.
//!
//! Pure functions over text ([`merge_kubeconfig`], [`to_yaml`]) plus a thin file layer
//! ([`update_kubeconfig_file`]). Everything in the file that okscript does not own survives:
//! other clusters, users and contexts, preferences, extensions and unknown fields, in their
//! order. What does not survive, as with `kubectl config set-*`: comments, anchors and the
//! original quoting and layout, since the file is written out again from its data.
//!
//! The output is deterministic (same data, same bytes), so running twice with the same
//! inputs leaves the file byte-for-byte unchanged, and the second run does not write at all.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::aws::ClusterInfo;

/// The `apiVersion` of the exec plugin's `ExecCredential`.
pub const EXEC_API_VERSION: &str = "client.authentication.k8s.io/v1beta1";

/// The command the exec plugin runs unless told otherwise.
pub const DEFAULT_COMMAND: &str = "okscript";

/// Everything that can go wrong while reading or writing a kubeconfig.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KubeconfigError {
    /// The existing kubeconfig is not valid YAML; it was left as it is.
    #[error("{}is not valid YAML at line {line}, column {column}: {detail}; it was left unchanged", in_file(.file))]
    Malformed {
        /// The file, when the text came from one.
        file: Option<PathBuf>,
        /// 1-based line of the problem.
        line: u64,
        /// 1-based column of the problem.
        column: u64,
        /// The parser's message.
        detail: String,
    },

    /// The existing kubeconfig is YAML, but not shaped like a kubeconfig; it was left as it is.
    #[error("{}is not a usable kubeconfig: {reason}; it was left unchanged", in_file(.file))]
    NotAKubeconfig {
        /// The file, when the text came from one.
        file: Option<PathBuf>,
        /// What is wrong, naming the field.
        reason: String,
    },

    /// What was asked to be written is not valid (empty name, server not a URL, CA not base64).
    #[error("cannot add `{field}` to a kubeconfig: {reason}")]
    InvalidEntry {
        /// The field of [`KubeconfigEntry`].
        field: &'static str,
        /// What is wrong.
        reason: String,
    },

    /// The context exists for another cluster; repointing it needs force.
    #[error("{}already has a context `{context}` for the cluster `{cluster}`; okscript would repoint it at `{wanted}`; it was left unchanged", in_file(.file))]
    Repoint {
        /// The file, when the text came from one.
        file: Option<PathBuf>,
        /// The context's name.
        context: String,
        /// The cluster entry it names now.
        cluster: String,
        /// The cluster entry okscript would point it at.
        wanted: String,
    },

    /// The kubeconfig file exists but could not be read.
    #[error("cannot read the kubeconfig {path}: {detail}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why (the I/O error).
        detail: String,
    },

    /// The kubeconfig could not be written (the old file, if any, is untouched).
    #[error("cannot write the kubeconfig {path}: {detail}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why (the I/O error).
        detail: String,
    },
}

fn in_file(file: &Option<PathBuf>) -> String {
    match file {
        Some(p) => format!("the kubeconfig {} ", p.display()),
        None => "the kubeconfig ".into(),
    }
}

impl KubeconfigError {
    /// Advice for the person at the terminal, printed after the error as `hint: ...`.
    pub fn hint(&self) -> Option<String> {
        use KubeconfigError::*;
        Some(match self {
            Malformed { line, .. } => format!(
                "fix line {line} of the file (or move the file away to start a new one); okscript never overwrites a kubeconfig it cannot read"
            ),
            NotAKubeconfig { .. } => {
                "fix the field named, or point KUBECONFIG / --kubeconfig at another file".into()
            }
            InvalidEntry { .. } => return None,
            Repoint { .. } => {
                "pass --force to repoint it (its namespace is dropped), or give this cluster another name with --alias".into()
            }
            Read { .. } | Write { .. } => {
                "check the file's and its directory's permissions, or point KUBECONFIG / --kubeconfig elsewhere".into()
            }
        })
    }

    fn with_file(self, path: &Path) -> Self {
        match self {
            KubeconfigError::Malformed {
                line,
                column,
                detail,
                ..
            } => KubeconfigError::Malformed {
                file: Some(path.to_path_buf()),
                line,
                column,
                detail,
            },
            KubeconfigError::NotAKubeconfig { reason, .. } => KubeconfigError::NotAKubeconfig {
                file: Some(path.to_path_buf()),
                reason,
            },
            KubeconfigError::Repoint {
                context,
                cluster,
                wanted,
                ..
            } => KubeconfigError::Repoint {
                file: Some(path.to_path_buf()),
                context,
                cluster,
                wanted,
            },
            other => other,
        }
    }
}

/// One EKS cluster as a kubeconfig cluster + user + context, the user's exec plugin being
/// `okscript token --cluster NAME [--region R] [--role-arn ARN]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeconfigEntry {
    /// The EKS cluster name (what `okscript token --cluster` gets).
    pub cluster: String,
    /// The name of the `clusters[]` and `users[]` entries; the cluster ARN by default, as
    /// `aws eks update-kubeconfig` does.
    pub entry_name: String,
    /// The name of the `contexts[]` entry (and `current-context`): the alias, else `entry_name`.
    pub context_name: String,
    /// The API server URL.
    pub server: String,
    /// The cluster CA, base64 (as EKS returns it).
    pub certificate_authority_data: String,
    /// `--region` for the token command.
    pub region: Option<String>,
    /// `--role-arn` for the token command.
    pub role_arn: Option<String>,
    /// `AWS_PROFILE` for the token command's environment.
    pub profile: Option<String>,
    /// `-a` for the token command: the credentials type the login was made with, if chosen.
    pub credentials_type: Option<String>,
    /// The command to run, [`DEFAULT_COMMAND`] unless set.
    pub command: String,
}

impl KubeconfigEntry {
    /// An entry for an EKS cluster: entries named by its ARN, `--region` its region.
    pub fn for_cluster(info: &ClusterInfo) -> Self {
        let entry_name = if info.arn.is_empty() {
            info.name.clone()
        } else {
            info.arn.clone()
        };
        KubeconfigEntry {
            cluster: info.name.clone(),
            context_name: entry_name.clone(),
            entry_name,
            server: info.endpoint.clone(),
            certificate_authority_data: info.certificate_authority_data.clone(),
            region: Some(info.region.clone()),
            role_arn: None,
            profile: None,
            credentials_type: None,
            command: DEFAULT_COMMAND.to_string(),
        }
    }

    /// Names the context `alias` instead of the cluster ARN.
    #[must_use]
    pub fn with_alias(mut self, alias: impl Into<String>) -> Self {
        self.context_name = alias.into();
        self
    }

    /// Adds `--role-arn` to the token command.
    #[must_use]
    pub fn with_role_arn(mut self, role_arn: impl Into<String>) -> Self {
        self.role_arn = Some(role_arn.into());
        self
    }

    /// Adds `-a TYPE` to the token command, so that it logs in as the entry's maker did.
    #[must_use]
    pub fn with_credentials_type(mut self, credentials_type: impl Into<String>) -> Self {
        self.credentials_type = Some(credentials_type.into());
        self
    }

    /// Sets `AWS_PROFILE` in the token command's environment.
    #[must_use]
    pub fn with_profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    fn validate(&self) -> Result<(), KubeconfigError> {
        let bad = |field: &'static str, reason: &str| {
            Err(KubeconfigError::InvalidEntry {
                field,
                reason: reason.to_string(),
            })
        };
        if let Err(e) = crate::aws::validate_cluster_name(&self.cluster) {
            return bad("cluster", &e.to_string());
        }
        for (field, value) in [
            ("entry_name", &self.entry_name),
            ("context_name", &self.context_name),
            ("command", &self.command),
        ] {
            if value.trim().is_empty() {
                return bad(field, "it is empty");
            }
        }
        let host = self
            .server
            .strip_prefix("https://")
            .or_else(|| self.server.strip_prefix("http://"));
        if !host.is_some_and(|h| !h.is_empty() && !h.starts_with('/')) {
            return bad("server", "it must be an https:// URL with a host");
        }
        if self.certificate_authority_data.is_empty()
            || base64::engine::general_purpose::STANDARD
                .decode(&self.certificate_authority_data)
                .is_err()
        {
            return bad("certificate_authority_data", "it must be non-empty base64");
        }
        for (field, value) in [
            ("region", &self.region),
            ("role_arn", &self.role_arn),
            ("profile", &self.profile),
            ("credentials_type", &self.credentials_type),
        ] {
            if value
                .as_deref()
                .is_some_and(|v| v.trim().is_empty() || v.chars().any(char::is_control))
            {
                return bad(field, "it is empty or holds control characters");
            }
        }
        Ok(())
    }
}

/// The exec plugin's arguments: `token --cluster NAME [--region R] [--role-arn ARN] [-a TYPE]`.
pub fn exec_args(entry: &KubeconfigEntry) -> Vec<String> {
    let mut args = vec![
        "token".to_string(),
        "--cluster".to_string(),
        entry.cluster.clone(),
    ];
    if let Some(r) = &entry.region {
        args.extend(["--region".to_string(), r.clone()]);
    }
    if let Some(r) = &entry.role_arn {
        args.extend(["--role-arn".to_string(), r.clone()]);
    }
    if let Some(t) = &entry.credentials_type {
        args.extend(["-a".to_string(), t.clone()]);
    }
    args
}

/// The `user.exec` stanza, keys in kubectl's (alphabetical) order.
fn exec_stanza(entry: &KubeconfigEntry) -> Value {
    let mut exec = Map::new();
    exec.insert("apiVersion".into(), EXEC_API_VERSION.into());
    exec.insert("args".into(), exec_args(entry).into());
    exec.insert("command".into(), entry.command.clone().into());
    if let Some(p) = &entry.profile {
        exec.insert(
            "env".into(),
            serde_json::json!([{ "name": "AWS_PROFILE", "value": p }]),
        );
    }
    exec.insert("interactiveMode".into(), "Never".into());
    exec.insert("provideClusterInfo".into(), false.into());
    Value::Object(exec)
}

/// User fields that choose an authentication method: they would compete with `exec`.
const OTHER_AUTH_FIELDS: [&str; 9] = [
    "token",
    "tokenFile",
    "client-certificate",
    "client-certificate-data",
    "client-key",
    "client-key-data",
    "username",
    "password",
    "auth-provider",
];

/// Cluster fields that contradict `certificate-authority-data`.
const OTHER_CA_FIELDS: [&str; 2] = ["certificate-authority", "insecure-skip-tls-verify"];

/// `existing` (a kubeconfig's text; empty for none) with `entry` added or updated and
/// `current-context` set to it, as YAML text (JSON when `existing` is JSON). An existing
/// context of the same name is repointed at this cluster (see [`merge_into_kubeconfig`] to refuse that).
///
/// # Errors
/// [`KubeconfigError::Malformed`] naming the line when `existing` is not YAML,
/// [`KubeconfigError::NotAKubeconfig`] when it is not shaped like a kubeconfig (a list at
/// the top, `clusters` not a list, ...), [`KubeconfigError::InvalidEntry`].
pub fn merge_kubeconfig(
    existing: &str,
    entry: &KubeconfigEntry,
) -> Result<String, KubeconfigError> {
    merge_into_kubeconfig(existing, entry, true).map(|m| m.text)
}

/// A merged kubeconfig and what the merge changed that people should be told about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The new text: JSON when the old text was JSON, else YAML.
    pub text: String,
    /// `current-context` before the merge, when the merge changed it (`""` when unset).
    pub previous_context: Option<String>,
    /// The cluster entry the context named before it was repointed (only with `force`).
    pub repointed_from: Option<String>,
    /// The namespace the repointed context had (it belonged to the other cluster).
    pub dropped_namespace: Option<String>,
}

/// Like [`merge_kubeconfig`], but says what changed, and without `force` refuses to repoint
/// an existing context of the entry's name at another cluster
/// ([`KubeconfigError::Repoint`]): kubectl users would silently talk to another cluster.
///
/// # Errors
/// Those of [`merge_kubeconfig`], and [`KubeconfigError::Repoint`].
pub fn merge_into_kubeconfig(
    existing: &str,
    entry: &KubeconfigEntry,
    force: bool,
) -> Result<Merged, KubeconfigError> {
    entry.validate()?;
    let parsed: Value = serde_saphyr::from_str(existing).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        let detail = e.to_string();
        let first = detail.lines().next().unwrap_or_default();
        let first = first.strip_prefix("error: ").unwrap_or(first);
        // the message starts with "line L column C: " itself
        let detail = match first.split_once(": ") {
            Some((pos, rest)) if pos.starts_with("line ") => rest.to_string(),
            _ => first.to_string(),
        };
        KubeconfigError::Malformed {
            file: None,
            line,
            column,
            detail,
        }
    })?;
    let not = |reason: String| KubeconfigError::NotAKubeconfig { file: None, reason };
    let mut doc = match parsed {
        Value::Null => new_kubeconfig(),
        Value::Object(m) => m,
        other => {
            return Err(not(format!(
                "the top level is {}, not a mapping",
                kind_of(&other)
            )))
        }
    };
    if let Some(kind) = doc.get("kind").filter(|k| !k.is_null()) {
        if kind.as_str() != Some("Config") {
            return Err(not(format!("`kind` is {kind}, not Config")));
        }
    }

    let cluster = upsert(&mut doc, "clusters", "cluster", &entry.entry_name).map_err(not)?;
    for f in OTHER_CA_FIELDS {
        cluster.remove(f);
    }
    cluster.insert(
        "certificate-authority-data".into(),
        entry.certificate_authority_data.clone().into(),
    );
    cluster.insert("server".into(), entry.server.clone().into());

    let user = upsert(&mut doc, "users", "user", &entry.entry_name).map_err(not)?;
    for f in OTHER_AUTH_FIELDS {
        user.remove(f);
    }
    user.insert("exec".into(), exec_stanza(entry));

    let pointed_at = existing_context_cluster(&doc, &entry.context_name);
    let repointed_from = pointed_at.filter(|c| *c != entry.entry_name);
    if let (Some(cluster), false) = (&repointed_from, force) {
        return Err(KubeconfigError::Repoint {
            file: None,
            context: entry.context_name.clone(),
            cluster: cluster.clone(),
            wanted: entry.entry_name.clone(),
        });
    }
    let context = upsert(&mut doc, "contexts", "context", &entry.context_name).map_err(not)?;
    let dropped_namespace = match repointed_from {
        Some(_) => context.remove("namespace").map(|n| match n {
            Value::String(s) => s,
            other => other.to_string(),
        }),
        None => None,
    };
    context.insert("cluster".into(), entry.entry_name.clone().into());
    context.insert("user".into(), entry.entry_name.clone().into());

    let previous = doc
        .get("current-context")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    doc.insert("current-context".into(), entry.context_name.clone().into());
    let doc = Value::Object(doc);
    let text = if existing.trim_start().starts_with('{') {
        // A JSON kubeconfig (kubectl reads either) stays JSON.
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    } else {
        to_yaml(&doc)
    };
    Ok(Merged {
        text,
        previous_context: (previous != entry.context_name).then_some(previous),
        repointed_from,
        dropped_namespace,
    })
}

/// The cluster entry an existing context of this name points at (the first such context,
/// the one kubectl uses).
fn existing_context_cluster(doc: &Map<String, Value>, name: &str) -> Option<String> {
    doc.get("contexts")?
        .as_array()?
        .iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(name))?
        .get("context")?
        .get("cluster")?
        .as_str()
        .map(str::to_string)
}

/// A new kubeconfig's top level, in kubectl's key order.
fn new_kubeconfig() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("apiVersion".into(), "v1".into());
    m.insert("clusters".into(), Value::Array(vec![]));
    m.insert("contexts".into(), Value::Array(vec![]));
    m.insert("current-context".into(), "".into());
    m.insert("kind".into(), "Config".into());
    m.insert("preferences".into(), Value::Object(Map::new()));
    m.insert("users".into(), Value::Array(vec![]));
    m
}

/// Finds (or appends) the entry `name` of `doc[list]` and returns its `field` mapping.
/// Later entries with the same name are dropped (kubectl would only use one of them).
fn upsert<'a>(
    doc: &'a mut Map<String, Value>,
    list: &str,
    field: &str,
    name: &str,
) -> Result<&'a mut Map<String, Value>, String> {
    let slot = doc.entry(list.to_string()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Array(vec![]);
    }
    let Value::Array(items) = slot else {
        return Err(format!("`{list}` is {}, not a list", kind_of(slot)));
    };
    let is_ours = |v: &Value| v.get("name").and_then(Value::as_str) == Some(name);
    let index = match items.iter().position(is_ours) {
        Some(i) => {
            let mut n = 0;
            items.retain(|v| {
                let keep = !is_ours(v) || n == 0;
                if is_ours(v) {
                    n += 1;
                }
                keep
            });
            i
        }
        None => {
            // kubectl's order inside an entry: `cluster`/`context` before `name`, `name` before `user`
            let mut item = Map::new();
            if field == "user" {
                item.insert("name".into(), name.into());
                item.insert(field.into(), Value::Object(Map::new()));
            } else {
                item.insert(field.into(), Value::Object(Map::new()));
                item.insert("name".into(), name.into());
            }
            items.push(Value::Object(item));
            items.len() - 1
        }
    };
    let Value::Object(item) = &mut items[index] else {
        unreachable!("only mappings have a name")
    };
    let inner = item.entry(field.to_string()).or_insert(Value::Null);
    if !inner.is_object() {
        if !inner.is_null() {
            return Err(format!(
                "`{list}` entry `{name}` has a `{field}` that is {}, not a mapping",
                kind_of(inner)
            ));
        }
        *inner = Value::Object(Map::new());
    }
    Ok(inner.as_object_mut().expect("just made a mapping"))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// What [`update_kubeconfig_file`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOutcome {
    /// There was no file; it was created with mode 0600.
    Created,
    /// The file was rewritten (same mode as before).
    Updated,
    /// The file already said exactly this; it was not written.
    Unchanged,
}

/// Adds or updates `entry` in the kubeconfig at `path` (see [`merge_kubeconfig`]); an
/// existing context of the same name is repointed (see [`update_kubeconfig`]).
///
/// # Errors
/// Those of [`update_kubeconfig`].
pub fn update_kubeconfig_file(
    path: &Path,
    entry: &KubeconfigEntry,
) -> Result<FileOutcome, KubeconfigError> {
    update_kubeconfig(path, entry, true).map(|u| u.outcome)
}

/// What [`update_kubeconfig`] did, and what it changed that people should be told about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeconfigUpdate {
    /// Created, updated or unchanged.
    pub outcome: FileOutcome,
    /// See [`Merged::previous_context`].
    pub previous_context: Option<String>,
    /// See [`Merged::repointed_from`].
    pub repointed_from: Option<String>,
    /// See [`Merged::dropped_namespace`].
    pub dropped_namespace: Option<String>,
}

/// Adds or updates `entry` in the kubeconfig at `path` (see [`merge_into_kubeconfig`]; without `force` an
/// existing context of the same name for another cluster is refused and the file left as it
/// is).
///
/// A missing file is created with mode 0600 (and its directory with 0700); an existing
/// file keeps its mode. The new text goes to a temporary file in the same directory that
/// is then renamed over the old one, so readers see the old file or the new one, never a
/// half-written one. A symlinked kubeconfig is followed and its target replaced. When the
/// text would not change, nothing is written.
///
/// # Errors
/// The errors of [`merge_into_kubeconfig`] (the file is then left untouched), or I/O errors.
pub fn update_kubeconfig(
    path: &Path,
    entry: &KubeconfigEntry,
    force: bool,
) -> Result<KubeconfigUpdate, KubeconfigError> {
    let target = resolve_symlinks(path);
    let existing = match crate::fsio::read(&target) {
        Ok(Some(bytes)) => Some(String::from_utf8(bytes).map_err(|_| KubeconfigError::Read {
            path: target.clone(),
            detail: "it is not UTF-8 text".into(),
        })?),
        Ok(None) => None,
        Err(e) => {
            return Err(KubeconfigError::Read {
                path: target,
                detail: e.to_string(),
            })
        }
    };
    let Merged {
        text: merged,
        previous_context,
        repointed_from,
        dropped_namespace,
    } = merge_into_kubeconfig(existing.as_deref().unwrap_or(""), entry, force)
        .map_err(|e| e.with_file(&target))?;
    let update = |outcome| KubeconfigUpdate {
        outcome,
        previous_context,
        repointed_from,
        dropped_namespace,
    };
    if existing.as_deref() == Some(merged.as_str()) {
        return Ok(update(FileOutcome::Unchanged));
    }
    write_atomically(&target, merged.as_bytes())?;
    Ok(update(if existing.is_some() {
        FileOutcome::Updated
    } else {
        FileOutcome::Created
    }))
}

/// The file a symlink chain ends at (which may not exist yet); `path` itself otherwise.
fn resolve_symlinks(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match fs::read_link(&p) {
            Ok(next) => {
                p = match p.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                }
            }
            Err(_) => break,
        }
    }
    p
}

/// Replaces the kubeconfig through [`crate::fsio::write`] (a new one is private: 0600).
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), KubeconfigError> {
    crate::fsio::write(path, bytes, crate::fsio::NewFile::PRIVATE)
        .map(|_| ())
        .map_err(|e| KubeconfigError::Write {
            path: path.to_path_buf(),
            detail: match e.hint() {
                Some(hint) => format!("{e} ({hint})"),
                None => e.to_string(),
            },
        })
}

/// The kubeconfig kubectl would write to: the first entry of `KUBECONFIG` (a `:`-separated
/// list), else `$HOME/.kube/config`. `None` when neither is set.
pub fn default_kubeconfig_path(kubeconfig: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    if let Some(first) = kubeconfig
        .unwrap_or_default()
        .split(':')
        .find(|p| !p.trim().is_empty())
    {
        return Some(PathBuf::from(first));
    }
    home.filter(|h| !h.is_empty())
        .map(|h| Path::new(h).join(".kube").join("config"))
}

// ---------------------------------------------------------------------------------------
/// `value` as block-style YAML in kubectl's layout (two-space indent, list items at their
/// key's indentation), written by serde-saphyr's serializer, which quotes every string a
/// YAML 1.1 reader (kubectl's) or 1.2 reader would read as something else.
pub fn to_yaml(value: &Value) -> String {
    // A JSON value (string keys, finite numbers) always serializes; the fallback is JSON,
    // which YAML readers read too, so a file is never emptied.
    serde_saphyr::to_string(value)
        .unwrap_or_else(|_| serde_json::to_string_pretty(value).unwrap_or_default() + "\n")
}

#[cfg(test)]
mod tests;
