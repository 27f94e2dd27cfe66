//! Where aws-auth lives. Every target follows one protocol, kube's `entry.rs` pattern: read a
//! snapshot, let the change set stage intents against it, then commit — which re-reads,
//! replays the intents when someone else wrote in between, and writes once, conditionally.

pub mod cluster;
pub mod entries;
pub mod entries_model;
pub mod entries_undo;
pub mod file;

use std::fmt;

use crate::access::intent::{Intent, Note};
use crate::access::lint::Finding;
use crate::access::manifest::ManifestError;
use crate::access::model::{AwsAuth, Protected, Refusal};
use crate::access::plan::Summary;
use crate::aws::AuthMode;

/// A state of aws-auth as read from a target, with what the target needs to write over it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The access model.
    pub auth: AwsAuth,
    /// Identifies this state: a file's content, a ConfigMap's resourceVersion. Shared: a
    /// file's content is held once, by the target's cache, the manifest and this.
    pub version: std::sync::Arc<str>,
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
    /// The new snapshot to stage further changes against; `None` when the target reads
    /// itself again if the script stages more (a file: parsing what was just written is
    /// work most runs, which end after their commit, never need).
    pub snapshot: Option<Snapshot>,
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
    #[error("{target}: after the change this identity can no longer read aws-auth ({error}); {}", if *restored { format!("okscript put the previous aws-auth back{how}") } else { format!("okscript could NOT put the previous aws-auth back: {how}") })]
    LockedOut {
        /// The target.
        target: String,
        /// The error of the access check.
        error: String,
        /// Whether the previous ConfigMap was restored.
        restored: bool,
        /// How it was put back (empty: directly), or why it was not.
        how: String,
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
    #[error("unknown target `{0}`: use `file:PATH` (an aws-auth ConfigMap manifest), `cluster` (the mechanism the cluster's authenticationMode uses), `aws-auth` or `access-entries` (in the cluster of --cluster, -c or --context)")]
    Spec(String),
    /// aws-auth was asked for on a cluster whose mode makes EKS ignore it.
    #[error("refusing to write aws-auth in cluster {cluster}: EKS ignores aws-auth on this cluster (authenticationMode API), so the change would never take effect; nothing was written")]
    IgnoredByEks {
        /// The cluster.
        cluster: String,
    },
    /// An access-entry call failed; `landed` lists the calls EKS had carried out before it.
    #[error("{target}: {call} failed: {error}; {}", landed_text(landed))]
    EntriesCall {
        /// The target.
        target: String,
        /// The call (or step) that failed.
        call: String,
        /// What EKS said.
        error: String,
        /// The calls that had landed, in order.
        landed: Vec<String>,
        /// What the AWS error advises, if anything.
        hint: Option<String>,
    },
    /// After an access-entry write a fresh token was no longer admitted; `restored` lists the
    /// calls that undid the run's, `failed` why undoing stopped (if it did).
    #[error("{target}: after the change this identity is no longer admitted by the cluster ({error}); the run's calls: {}; {}", landed.join("; "), restored_text(restored, failed.as_deref()))]
    EntriesLockedOut {
        /// The target.
        target: String,
        /// The error of the access check.
        error: String,
        /// The run's calls that had landed.
        landed: Vec<String>,
        /// The calls that put the touched principals back, in order.
        restored: Vec<String>,
        /// Why undoing stopped, when it did.
        failed: Option<String>,
    },
    /// A change access entries cannot hold (found before any call was made).
    #[error("{target}: {message}; nothing was written")]
    EntriesRefused {
        /// The target.
        target: String,
        /// What cannot be done.
        message: String,
        /// What to do instead.
        hint: String,
    },
    /// Access entries were asked for on a cluster whose mode has none.
    #[error("cluster {cluster} has no access entries (authenticationMode CONFIG_MAP): EKS reads only aws-auth there; nothing was written")]
    NoEntries {
        /// The cluster.
        cluster: String,
    },
    /// Access entries were asked for, but the connection does not know the EKS cluster.
    #[error("access entries of {cluster} are written through the EKS API, and okscript does not know which EKS cluster this is; nothing was written")]
    EntriesNeedEks {
        /// The connection's name.
        cluster: String,
    },
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
                "ask another cluster admin to run `okscript restore --cluster NAME` with the backup listed above, or go round aws-auth through the EKS API yourself with `okscript rescue --cluster NAME`".into(),
            ),
            TargetError::LockedOut { restored: true, .. } => Some(
                "keep a mapping for the identity you run okscript as (check whoami() and mappings())".into(),
            ),
            TargetError::IgnoredByEks { .. } => Some(
                "write the cluster's access entries instead: `--target cluster` (or `--target access-entries`) runs the same script against them".into(),
            ),
            TargetError::EntriesCall { hint, .. } => Some(match hint {
                Some(h) => format!("{h}; then run the script again: okscript reads the entries afresh and makes only the calls still missing"),
                None => "run the script again: okscript reads the entries afresh and makes only the calls still missing".into(),
            }),
            TargetError::NoEntries { cluster } => Some(format!(
                "use `--target cluster` (aws-auth on this cluster), or step the cluster to access entries first: `aws eks update-cluster-config --name {cluster} --access-config authenticationMode=API_AND_CONFIG_MAP` (one way: it cannot be undone)"
            )),
            TargetError::EntriesLockedOut { failed: None, .. } => Some(
                "keep an access entry (or, on API_AND_CONFIG_MAP, an aws-auth row) for the identity you run okscript as; check whoami() and mappings()".into(),
            ),
            TargetError::EntriesLockedOut { failed: Some(_), .. } => Some(
                "the EKS API still admits you where the cluster does not: run the script that undoes the change, or `aws eks create-access-entry` + `aws eks associate-access-policy` for your own principal".into(),
            ),
            TargetError::EntriesRefused { hint, .. } => Some(hint.clone()),
            TargetError::EntriesNeedEks { .. } => Some(
                "pass --cluster NAME (with --context, too) so that okscript can call EKS for that cluster".into(),
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

/// What a commit is asked to write: the state the script read, what it staged against that
/// state, and the intents to replay (under the same guards) when the target changed since.
#[derive(Debug, Clone, Copy)]
pub struct Pending<'a> {
    /// The state the script read.
    pub base: &'a Snapshot,
    /// The state the script wants.
    pub staged: &'a AwsAuth,
    /// The script's changes, in order, for a replay on a newer state.
    pub intents: &'a [Intent],
    /// Principals the script may not lock out without force.
    pub protected: &'a Protected,
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
    fn commit(&mut self, pending: Pending<'_>) -> Result<Commit, TargetError>;

    /// What is written, for the run's summary line (a cluster names its mechanism and mode).
    fn mechanism(&self) -> String {
        self.describe()
    }

    /// Whether EKS ignores the aws-auth row of this principal because an access entry wins.
    fn shadowed(&self, _arn: &str) -> bool {
        false
    }

    /// Checks an intent against what the mechanism can hold, before it is staged (so that
    /// `--dry-run` refuses it too); the notes say how an input was understood.
    fn vet(&mut self, _intent: &Intent) -> Result<Vec<Note>, Refusal> {
        Ok(Vec::new())
    }

    /// The diff `--dry-run` and `plan()` print between two states.
    fn diff(&self, before: &AwsAuth, after: &AwsAuth) -> String {
        crate::access::plan::diff(before, after)
    }

    /// Whether a lint finding about the staged state applies to this mechanism.
    fn keeps_finding(&self, _finding: &Finding) -> bool {
        true
    }

    /// Fills in what only the target knows about a `mappings()` row (its source, an entry's
    /// type and policies).
    fn annotate(&self, _view: &mut crate::access::model::MappingView) {}

    /// True when the mechanism keys principals by their real ARN (role paths kept), so
    /// aws-auth's notes about stripping paths do not apply.
    fn uses_real_arns(&self) -> bool {
        false
    }
}

/// How an access-entry failure reads: which calls had landed.
fn restored_text(restored: &[String], failed: Option<&str>) -> String {
    let done = if restored.is_empty() {
        "no call was needed to undo them".to_string()
    } else {
        format!("okscript undid them with: {}", restored.join("; "))
    };
    match failed {
        None => format!("{done}; the entries are as before the run"),
        Some(why) => format!("okscript could NOT undo them all ({why}); {done}"),
    }
}

fn landed_text(landed: &[String]) -> String {
    if landed.is_empty() {
        "no call had landed, so nothing was written".into()
    } else {
        format!(
            "these calls had landed before it: {} (nothing else was written)",
            landed.join("; ")
        )
    }
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
    crate::access::lint::read_findings(auth)
        .into_iter()
        .map(|f| format!("{}: {}", place(&f), f.message))
        .collect()
}

/// What a `--target` value names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// `file:PATH`: a manifest file.
    File(std::path::PathBuf),
    /// `cluster`: the mechanism the cluster's authenticationMode uses.
    Cluster,
    /// `aws-auth`: the aws-auth ConfigMap of the cluster, whatever its mode says.
    AwsAuth,
    /// `access-entries`: the cluster's EKS access entries.
    AccessEntries,
}

impl TargetSpec {
    /// Parses a `--target` value.
    pub fn parse(spec: &str) -> Result<TargetSpec, TargetError> {
        match spec.split_once(':') {
            Some(("file", path)) if !path.is_empty() => Ok(TargetSpec::File(path.into())),
            None if spec == "cluster" => Ok(TargetSpec::Cluster),
            None if spec == "aws-auth" => Ok(TargetSpec::AwsAuth),
            None if spec == "access-entries" => Ok(TargetSpec::AccessEntries),
            _ => Err(TargetError::Spec(spec.to_string())),
        }
    }

    /// True for the targets that live in a cluster (everything but `file:`).
    pub fn is_cluster(&self) -> bool {
        !matches!(self, TargetSpec::File(_))
    }
}

impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetSpec::File(p) => write!(f, "file:{}", p.display()),
            TargetSpec::Cluster => f.write_str("cluster"),
            TargetSpec::AwsAuth => f.write_str("aws-auth"),
            TargetSpec::AccessEntries => f.write_str("access-entries"),
        }
    }
}

/// The access mechanism a cluster target writes, once the cluster's mode is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    /// The aws-auth ConfigMap; `warning` when EKS may let an access entry override a row,
    /// or when the mode could not be checked.
    AwsAuth {
        /// Something the user should know before writing.
        warning: Option<String>,
    },
    /// EKS access entries (`mode`: the cluster's, when known).
    AccessEntries {
        /// The cluster's authenticationMode.
        mode: Option<AuthMode>,
    },
}

/// Chooses the mechanism a cluster target writes: the one place where `--target` meets the
/// cluster's `authenticationMode` (`None`: unknown, a kubeconfig context). Pure.
///
/// # Errors
/// [`TargetError::IgnoredByEks`] for aws-auth on an API cluster, before anything is read
/// or written.
pub fn choose(
    spec: &TargetSpec,
    mode: Option<AuthMode>,
    cluster: &str,
) -> Result<Mechanism, TargetError> {
    match (spec, mode) {
        (TargetSpec::File(_), _) => Ok(Mechanism::AwsAuth { warning: None }),
        (TargetSpec::AccessEntries, Some(AuthMode::ConfigMap)) => Err(TargetError::NoEntries {
            cluster: cluster.to_string(),
        }),
        (TargetSpec::AccessEntries, _)
        | (TargetSpec::Cluster, Some(AuthMode::Api | AuthMode::ApiAndConfigMap)) => {
            Ok(Mechanism::AccessEntries { mode })
        }
        (TargetSpec::AwsAuth, Some(AuthMode::Api)) => Err(TargetError::IgnoredByEks {
            cluster: cluster.to_string(),
        }),
        (TargetSpec::Cluster | TargetSpec::AwsAuth, Some(AuthMode::ConfigMap)) => {
            Ok(Mechanism::AwsAuth { warning: None })
        }
        (TargetSpec::AwsAuth, Some(AuthMode::ApiAndConfigMap)) => Ok(Mechanism::AwsAuth {
            warning: Some(format!(
                "cluster {cluster} authenticates through access entries first (authenticationMode API_AND_CONFIG_MAP): for a principal that also has an access entry, EKS uses the entry and ignores its aws-auth row"
            )),
        }),
        (TargetSpec::Cluster | TargetSpec::AwsAuth, None) => Ok(Mechanism::AwsAuth {
            warning: Some(format!(
                "the authentication mode of {cluster} is unknown (a kubeconfig context): if the cluster uses EKS access entries, EKS may ignore this aws-auth; add --cluster NAME so okscript can check"
            )),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_specs_parse_and_print_back() {
        for text in ["cluster", "aws-auth", "access-entries", "file:a/b.yaml"] {
            assert_eq!(TargetSpec::parse(text).unwrap().to_string(), text);
        }
        for bad in ["", "file:", "clusters", "aws_auth", "cluster:x"] {
            let e = TargetSpec::parse(bad).unwrap_err().to_string();
            assert!(e.contains("access-entries"), "{bad}: {e}");
        }
        assert!(!TargetSpec::File("x".into()).is_cluster());
        assert!(TargetSpec::AwsAuth.is_cluster());
    }

    #[test]
    fn the_cluster_mode_chooses_the_mechanism() {
        use AuthMode::*;
        let ok = |spec, mode| choose(&spec, mode, "prod");
        assert!(matches!(
            ok(TargetSpec::Cluster, Some(ConfigMap)),
            Ok(Mechanism::AwsAuth { warning: None })
        ));
        assert!(matches!(
            ok(TargetSpec::AwsAuth, Some(ConfigMap)),
            Ok(Mechanism::AwsAuth { warning: None })
        ));
        for mode in [Api, ApiAndConfigMap] {
            assert_eq!(
                ok(TargetSpec::Cluster, Some(mode)).unwrap(),
                Mechanism::AccessEntries { mode: Some(mode) }
            );
        }
        let e = TargetError::EntriesCall {
            target: "access-entries:prod".into(),
            call: "AssociateAccessPolicy x".into(),
            error: "boom".into(),
            landed: vec!["CreateAccessEntry x".into()],
            hint: None,
        };
        assert!(
            e.to_string().ends_with(
                "these calls had landed before it: CreateAccessEntry x (nothing else was written)"
            ),
            "{e}"
        );
        assert!(e.hint().unwrap().contains("run the script again"));
        let e = ok(TargetSpec::AwsAuth, Some(Api)).unwrap_err();
        assert!(
            e.to_string()
                .contains("EKS ignores aws-auth on this cluster (authenticationMode API)"),
            "{e}"
        );
        let Ok(Mechanism::AwsAuth { warning: Some(w) }) =
            ok(TargetSpec::AwsAuth, Some(ApiAndConfigMap))
        else {
            panic!("aws-auth is allowed on API_AND_CONFIG_MAP, with a warning");
        };
        assert!(w.contains("ignores its aws-auth row"), "{w}");
        let Ok(Mechanism::AwsAuth { warning: Some(w) }) = ok(TargetSpec::Cluster, None) else {
            panic!("an unknown mode writes aws-auth with a note");
        };
        assert!(w.contains("unknown"), "{w}");
        let e = ok(TargetSpec::AccessEntries, Some(ConfigMap)).unwrap_err();
        assert!(
            e.to_string().contains("authenticationMode CONFIG_MAP"),
            "{e}"
        );
        assert!(e.hint().unwrap().contains("update-cluster-config"), "{e}");
        for mode in [None, Some(ConfigMap), Some(ApiAndConfigMap), Some(Api)] {
            if mode != Some(ConfigMap) {
                assert_eq!(
                    ok(TargetSpec::AccessEntries, mode).unwrap(),
                    Mechanism::AccessEntries { mode }
                );
            }
            assert!(matches!(
                ok(TargetSpec::File("a.yaml".into()), mode),
                Ok(Mechanism::AwsAuth { warning: None })
            ));
        }
    }

    #[test]
    fn an_entry_with_a_role_path_shadows_the_path_less_row() {
        let entry = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef";
        let row = "arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0123456789abcdef";
        assert_eq!(
            crate::access::arn::match_key(entry),
            crate::access::arn::match_key(row)
        );
    }
}
