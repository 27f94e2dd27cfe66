//! Where aws-auth lives. Every target follows one protocol, kube's `entry.rs` pattern: read a
//! snapshot, let the change set stage intents against it, then commit — which re-reads,
//! replays the intents when someone else wrote in between, and writes once, conditionally.

pub mod cluster;
pub mod file;

use std::fmt;

use crate::access::intent::{Intent, Note};
use crate::access::lint::Finding;
use crate::access::manifest::ManifestError;
use crate::access::model::{AwsAuth, Protected, Refusal};
use crate::access::plan::Summary;

/// A state of aws-auth as read from a target, with what the target needs to write over it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The access model.
    pub auth: AwsAuth,
    /// Identifies this state: a file's content, a ConfigMap's resourceVersion.
    pub version: String,
    /// Things the user should know about what was read (a missing file, duplicates, ...).
    pub warnings: Vec<String>,
}

/// The result of a commit.
#[derive(Debug, Clone)]
pub struct Commit {
    /// Principals added, changed and removed by the write.
    pub summary: Summary,
    /// The unified diff of the write.
    pub diff: String,
    /// Whether anything was written.
    pub written: bool,
    /// Notes from replaying on a state that changed since the script read it.
    pub notes: Vec<Note>,
    /// The new snapshot to stage further changes against.
    pub snapshot: Snapshot,
}

/// A target failure; every variant says whether anything was written (nothing, for all).
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Reading or writing failed at the OS level.
    #[error("{what} {path}: {source}")]
    Io {
        /// What okscript was doing.
        what: &'static str,
        /// The path.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The aws-auth found there cannot be safely edited.
    #[error("{}; nothing was written", error.located(path))]
    Manifest {
        /// Where it was read from.
        path: String,
        /// What is wrong with it.
        error: ManifestError,
    },
    /// Replaying the script's intents on a newer state hit a guard.
    #[error("{target} changed while the script ran, and replaying the script's changes on the new content was refused: {refusal}; nothing was written")]
    Replay {
        /// The target.
        target: String,
        /// The guard's refusal.
        refusal: Refusal,
    },
    /// The cluster refused or failed a request that is not worth retrying.
    #[error("{target}: {error}; {}", if *written { "the change was written" } else { "nothing was written" })]
    Kube {
        /// The target.
        target: String,
        /// What the API server said.
        error: String,
        /// Advice.
        hint: Option<String>,
        /// Whether the change was written before the failure.
        written: bool,
    },
    /// A section of the live aws-auth does not parse as the authenticator needs.
    #[error("{target}: {error}; nothing was written")]
    Section {
        /// The target.
        target: String,
        /// The section error.
        error: crate::access::section::SectionError,
    },
    /// The new aws-auth would exceed the ConfigMap size limit.
    #[error("{target}: aws-auth would be {bytes} bytes, over Kubernetes' 1 MiB ConfigMap limit; nothing was written")]
    TooLarge {
        /// The target.
        target: String,
        /// The size it would have.
        bytes: usize,
    },
    /// Every write attempt hit a conflict or a transient failure.
    #[error("{target}: gave up after {attempts} attempts (last: {last}); nothing was written")]
    GaveUp {
        /// The target.
        target: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// After the write, okscript could no longer read aws-auth with a fresh token.
    #[error("{target}: after the change this identity can no longer read aws-auth ({error}); {}", if *restored { "okscript put the previous aws-auth back" } else { "okscript could NOT put the previous aws-auth back" })]
    LockedOut {
        /// The target.
        target: String,
        /// The error of the access check.
        error: String,
        /// Whether the previous ConfigMap was restored.
        restored: bool,
    },
    /// The folder that should hold the file does not exist.
    #[error("cannot create {path}: its folder {folder} does not exist; nothing was written")]
    NoFolder {
        /// The file.
        path: String,
        /// The missing folder.
        folder: String,
    },
    /// The file cannot be read or replaced safely (not a regular file, read-only, ...).
    #[error("{0}; nothing was written")]
    File(#[from] crate::fsio::FsError),
    /// The file existed when the script read it and was gone when okscript came to write.
    #[error("{path} was deleted while the script ran; nothing was written")]
    Deleted {
        /// The file.
        path: String,
    },
    /// A target spec that okscript does not understand.
    #[error("unknown target `{0}`: use `file:PATH` (an aws-auth ConfigMap manifest) or `cluster` (aws-auth in the cluster of --cluster, -c or --context)")]
    Spec(String),
}

impl TargetError {
    /// Advice to print after the error.
    pub fn hint(&self) -> Option<String> {
        match self {
            TargetError::Manifest { .. } => Some(
                "fix that line by hand (or restore the file from version control), then run the script again; okscript never writes over an aws-auth it cannot fully read".into(),
            ),
            TargetError::Replay { refusal, .. } => Some(refusal.hint.clone()),
            TargetError::Kube { hint, .. } => hint.clone(),
            TargetError::Section { .. } => Some(
                "fix that line (`kubectl edit configmap -n kube-system aws-auth`, carefully) or restore a backup with `okscript restore`; okscript never writes over an aws-auth it cannot fully read".into(),
            ),
            TargetError::GaveUp { .. } => Some("other writers or the API server kept failing; run the script again".into()),
            TargetError::LockedOut { restored: false, .. } => Some(
                "ask another cluster admin to run `okscript restore --cluster NAME` with the backup listed above".into(),
            ),
            TargetError::LockedOut { restored: true, .. } => Some(
                "keep a mapping for the identity you run okscript as (check whoami() and mappings())".into(),
            ),
            TargetError::NoFolder { folder, .. } => Some(format!(
                "create the folder first (`mkdir -p {folder}`), or fix the --target path"
            )),
            TargetError::File(e) => e.hint(),
            TargetError::Deleted { .. } => Some(
                "run the script again: a file recreated now would lack the entries (node roles included) the script saw".into(),
            ),
            TargetError::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => {
                Some("check the file's and its folder's permissions".into())
            }
            _ => None,
        }
    }
}

/// Where access lives; see the module docs for the protocol.
pub trait Target {
    /// A short description such as `file:aws-auth.yaml`, for messages.
    fn describe(&self) -> String;

    /// Reads the current state.
    fn read(&mut self) -> Result<Snapshot, TargetError>;

    /// Writes `staged` if `base` is still current; otherwise replays `intents` on the current
    /// state and writes that. Writes nothing when the result equals what is there.
    ///
    /// # Errors
    /// A guard refusing the replay, a state that no longer parses, or an I/O failure; in
    /// every case nothing was written.
    fn commit(
        &mut self,
        base: &Snapshot,
        staged: &AwsAuth,
        intents: &[Intent],
        protected: &Protected,
    ) -> Result<Commit, TargetError>;
}

impl fmt::Debug for dyn Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Replays `intents` on `current` for a commit whose base went stale; the notes start with
/// one saying so (`how` tells how the target noticed).
pub fn replay(
    target: &str,
    how: &str,
    current: &AwsAuth,
    intents: &[Intent],
    protected: &Protected,
) -> Result<(AwsAuth, Vec<Note>), TargetError> {
    let mut auth = current.clone();
    let mut notes = vec![format!(
        "{target} changed while the script ran{how}; okscript replayed the script's changes on the new content"
    )];
    for intent in intents {
        let applied = auth
            .apply(intent, protected)
            .map_err(|refusal| TargetError::Replay {
                target: target.to_string(),
                refusal,
            })?;
        notes.extend(applied.notes);
    }
    Ok((auth, notes))
}

/// Warnings worth showing when aws-auth is read: entries the authenticator silently uses
/// differently than written (duplicates, role paths). `place` says where a finding is.
pub fn read_warnings(auth: &AwsAuth, place: impl Fn(&Finding) -> String) -> Vec<String> {
    crate::access::lint::findings(auth)
        .into_iter()
        .filter(|f| f.code == "duplicate" || f.code == "role-path")
        .map(|f| format!("{}: {}", place(&f), f.message))
        .collect()
}

/// What a `--target` value names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// `file:PATH`: a manifest file.
    File(std::path::PathBuf),
    /// `cluster`: aws-auth in the cluster given with --cluster, -c or --context.
    Cluster,
}

impl TargetSpec {
    /// Parses a `--target` value.
    pub fn parse(spec: &str) -> Result<TargetSpec, TargetError> {
        match spec.split_once(':') {
            Some(("file", path)) if !path.is_empty() => Ok(TargetSpec::File(path.into())),
            None if spec == "cluster" => Ok(TargetSpec::Cluster),
            _ => Err(TargetError::Spec(spec.to_string())),
        }
    }
}
