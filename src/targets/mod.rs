//! Where aws-auth lives. Every target follows one protocol, kube's `entry.rs` pattern: read a
//! snapshot, let the change set stage intents against it, then commit — which re-reads,
//! replays the intents when someone else wrote in between, and writes once, conditionally.

pub mod file;

use std::fmt;

use crate::access::intent::{Intent, Note};
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
    /// The folder that should hold the file does not exist.
    #[error("cannot create {path}: its folder {folder} does not exist; nothing was written")]
    NoFolder {
        /// The file.
        path: String,
        /// The missing folder.
        folder: String,
    },
    /// A target spec that okscript does not understand.
    #[error("unknown target `{0}`: use `file:PATH` (an aws-auth ConfigMap manifest)")]
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
            TargetError::NoFolder { folder, .. } => Some(format!(
                "create the folder first (`mkdir -p {folder}`), or fix the --target path"
            )),
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

/// Replays `intents` on `current`, for a commit whose base went stale.
pub fn replay(
    current: &AwsAuth,
    intents: &[Intent],
    protected: &Protected,
) -> Result<(AwsAuth, Vec<Note>), Refusal> {
    let mut auth = current.clone();
    let mut notes = Vec::new();
    for intent in intents {
        notes.extend(auth.apply(intent, protected)?.notes);
    }
    Ok((auth, notes))
}

/// Opens the target a `--target` value names.
pub fn open(spec: &str) -> Result<Box<dyn Target>, TargetError> {
    match spec.split_once(':') {
        Some(("file", path)) if !path.is_empty() => Ok(Box::new(file::FileTarget::new(path))),
        _ => Err(TargetError::Spec(spec.to_string())),
    }
}
