//! The `cluster` target: `kube-system/aws-auth` in a live cluster. Reads once; writes with
//! the read resourceVersion as precondition; on 409 re-reads and replays the script's
//! intents (bounded retries, backoff with jitter), so concurrent writers never lose each
//! other's entries. 5xx, throttling and dropped connections are retried the same way.
//! Before each write the previous ConfigMap is saved in the backups folder, and after it
//! okscript checks with a fresh token that it can still read aws-auth.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use k8s_openapi::api::core::v1::ConfigMap;

use super::{read_warnings, replay, Commit, Pending, Snapshot, Target, TargetError};
use crate::access::manifest::MAX_DATA_BYTES;
use crate::access::model::AwsAuth;
use crate::access::plan;
use crate::access::section::SectionName;
use crate::access::transition;
use crate::aws::{self, AuthMode};
use crate::kube::api::{self, AWS_AUTH};
use crate::kube::{Connection, KubeError};

/// Backups kept per cluster unless `--keep-backups` says otherwise.
pub const DEFAULT_KEEP_BACKUPS: usize = 50;

/// Removes all but the newest `keep` backups (`aws-auth-*.json` regular files; names sort by
/// time, as `okscript restore` picks the newest) in `dir`. 0 keeps all. Best effort.
fn prune_backups(dir: &std::path::Path, keep: usize) {
    if keep == 0 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("aws-auth-") && n.ends_with(".json"))
        .collect();
    names.sort();
    let extra = names.len().saturating_sub(keep);
    for name in &names[..extra] {
        let _ = std::fs::remove_file(dir.join(name));
    }
}

/// What a restore did or, in a dry run, would do.
#[derive(Debug, Clone)]
pub struct Restored {
    /// The unified diff from the live aws-auth to the restored one.
    pub diff: String,
    /// Principals added, changed and removed.
    pub summary: plan::Summary,
    /// Whether the live data differs from the restored data at all.
    pub differs: bool,
    /// Whether anything was written.
    pub written: bool,
    /// The resourceVersion of the live aws-auth it was compared with.
    pub version: String,
    /// Things worth saying: live sections that do not parse, where the previous one was saved.
    pub notes: Vec<String>,
}

/// Write attempts before giving up.
pub const MAX_ATTEMPTS: u32 = 8;

/// How long a temporary access entry made to undo a lockout may take to show.
const ENTRY_WAIT: Duration = Duration::from_secs(120);

/// aws-auth in a live cluster.
pub struct ClusterTarget {
    rt: Arc<tokio::runtime::Runtime>,
    conn: Rc<RefCell<Connection>>,
    backups: Option<PathBuf>,
    /// How many backups to keep (0: all).
    keep: usize,
    /// The ConfigMap as last read (`None`: it does not exist).
    last: Option<ConfigMap>,
    /// The cluster's authenticationMode (`None`: unknown) and the match keys of the
    /// principals that have an access entry, whose aws-auth rows EKS ignores.
    mode: Option<AuthMode>,
    entries: BTreeSet<String>,
}

impl std::fmt::Debug for ClusterTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn version(cm: &Option<ConfigMap>) -> std::sync::Arc<str> {
    cm.as_ref()
        .and_then(|c| c.metadata.resource_version.as_deref())
        .unwrap_or_default()
        .into()
}

fn data(cm: &Option<ConfigMap>) -> BTreeMap<String, String> {
    cm.as_ref().and_then(|c| c.data.clone()).unwrap_or_default()
}

/// Delay before attempt `n` (1-based): 100 ms doubling, at most 3.2 s, with ±50% jitter so
/// that writers that collided do not collide again.
pub fn backoff(n: u32) -> Duration {
    let base = 100u64 << n.min(5);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64 ^ std::process::id() as u64)
        .unwrap_or(0);
    let jitter = base / 2 + nanos % base.max(1);
    Duration::from_millis(jitter)
}

impl ClusterTarget {
    /// A target for aws-auth through `conn`; backups go to `backups` when given.
    pub fn new(
        rt: Arc<tokio::runtime::Runtime>,
        conn: Rc<RefCell<Connection>>,
        backups: Option<PathBuf>,
    ) -> ClusterTarget {
        let mode = conn.borrow().auth_mode();
        ClusterTarget {
            rt,
            conn,
            backups,
            keep: DEFAULT_KEEP_BACKUPS,
            last: None,
            mode,
            entries: BTreeSet::new(),
        }
    }

    /// Records the principals that have an access entry (ListAccessEntries), so that their
    /// rows can be reported as shadowed.
    pub fn with_access_entries(mut self, principal_arns: &[String]) -> ClusterTarget {
        self.entries = principal_arns
            .iter()
            .map(|a| crate::access::arn::match_key(a))
            .collect();
        self
    }

    /// Refuses a write EKS would ignore: aws-auth on an API cluster (also guards the
    /// lockout check's rollback, which writes through the same commit).
    fn check_mode(&self) -> Result<(), TargetError> {
        match self.mode {
            Some(AuthMode::Api) => Err(TargetError::IgnoredByEks {
                cluster: self.conn.borrow().spec().name(),
            }),
            _ => Ok(()),
        }
    }

    fn kube_err(&self, e: KubeError, written: bool) -> TargetError {
        TargetError::Kube {
            target: self.describe(),
            hint: e.hint(),
            error: e.to_string(),
            written,
        }
    }

    /// GETs aws-auth once.
    fn fetch_once(&self) -> Result<Option<ConfigMap>, KubeError> {
        self.client().and_then(|client| {
            self.rt
                .block_on(api::get_config_map(&client, AWS_AUTH.0, AWS_AUTH.1))
        })
    }

    /// GETs aws-auth, retrying transient failures.
    fn fetch(&self) -> Result<Option<ConfigMap>, TargetError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.fetch_once() {
                Ok(cm) => return Ok(cm),
                Err(e) if e.is_transient() && attempt < MAX_ATTEMPTS => {
                    std::thread::sleep(backoff(attempt))
                }
                Err(e) => return Err(self.kube_err(e, false)),
            }
        }
    }

    fn parse(&self, cm: &Option<ConfigMap>) -> Result<AwsAuth, TargetError> {
        let d = data(cm);
        AwsAuth::parse(
            d.get("mapRoles").map(String::as_str),
            d.get("mapUsers").map(String::as_str),
            d.get("mapAccounts").map(String::as_str),
        )
        .map(|mut auth| {
            auth.note_data_keys(d.keys().map(|k| (k.as_str(), None)));
            auth
        })
        .map_err(|error| TargetError::Section {
            target: self.describe(),
            error,
        })
    }

    /// How many backups of this cluster to keep (the newest); 0 keeps them all.
    pub fn keep_backups(mut self, keep: usize) -> ClusterTarget {
        self.keep = keep;
        self
    }

    /// Saves `cm` in the backups folder (0700) as a new private file (0600, created with
    /// O_EXCL, so never through a planted symlink nor over another file), then prunes the
    /// folder to the newest backups; returns the file.
    fn backup(&self, cm: &ConfigMap) -> Result<Option<PathBuf>, TargetError> {
        let Some(dir) = &self.backups else {
            return Ok(None);
        };
        crate::fsio::create_private_folder(dir)?;
        // A folder an older okscript made 0755: backups hold every mapping, keep them private.
        if let Ok(m) = std::fs::symlink_metadata(dir) {
            if m.is_dir() && m.permissions().mode() & 0o077 != 0 {
                let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
            }
        }
        let mut clean = cm.clone();
        clean.metadata.managed_fields = None;
        let stamp = crate::aws::rfc3339_now().replace([':', '-'], "");
        let name = format!("aws-auth-{stamp}-rv{}", version(&Some(cm.clone())));
        let text = serde_json::to_string_pretty(&clean).unwrap_or_default() + "\n";
        let mut file = dir.join(format!("{name}.json"));
        for n in 2.. {
            match crate::fsio::create_new_private(&file, text.as_bytes()) {
                Ok(()) => break,
                Err(crate::fsio::FsError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::AlreadyExists && n < 100 =>
                {
                    file = dir.join(format!("{name}-{n}.json"));
                }
                Err(e) => return Err(e.into()),
            }
        }
        prune_backups(dir, self.keep);
        Ok(Some(file))
    }

    /// The ConfigMap to write: `current` (or a new aws-auth) with the sections of `auth`.
    fn desired(current: &Option<ConfigMap>, auth: &AwsAuth) -> ConfigMap {
        let mut cm = current.clone().unwrap_or_else(|| ConfigMap {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(AWS_AUTH.1.to_string()),
                namespace: Some(AWS_AUTH.0.to_string()),
                ..Default::default()
            },
            ..Default::default()
        });
        cm.metadata.managed_fields = None;
        let mut d = cm.data.take().unwrap_or_default();
        for name in SectionName::ALL {
            match auth.section(name).render() {
                Some(text) => {
                    d.insert(name.key().to_string(), text);
                }
                None => {
                    d.remove(name.key());
                }
            }
        }
        cm.data = Some(d);
        cm
    }

    /// The live aws-auth, its resourceVersion, and notes about sections that do not parse
    /// (read as absent, as the authenticator drops them): what a restore compares against.
    pub fn live(&mut self) -> Result<(AwsAuth, String, Vec<String>), TargetError> {
        let current = self.fetch()?;
        let (auth, notes) = transition::parse_lenient(&data(&current));
        let notes = notes
            .into_iter()
            .map(|n| format!("{}: {n}", self.describe()))
            .collect();
        let rv = version(&current);
        self.last = current;
        Ok((auth, rv.to_string(), notes))
    }

    /// Puts `wanted` back as aws-auth's data through the same conditional write. On every
    /// attempt `approve` sees the live state and the state `wanted` holds, and may refuse
    /// (the guards); with `dry_run` nothing is written and the diff says what would be.
    pub fn restore<E: From<TargetError>>(
        &mut self,
        wanted: &BTreeMap<String, String>,
        dry_run: bool,
        mut approve: impl FnMut(&AwsAuth, &AwsAuth) -> Result<(), E>,
    ) -> Result<Restored, E> {
        let size: usize = wanted.iter().map(|(k, v)| k.len() + v.len()).sum();
        if size > MAX_DATA_BYTES {
            return Err(TargetError::TooLarge {
                target: self.describe(),
                bytes: size,
            }
            .into());
        }
        let (after, _) = transition::parse_lenient(wanted);
        for attempt in 1..=MAX_ATTEMPTS {
            let current = self.fetch()?;
            let (before, mut notes) = transition::parse_lenient(&data(&current));
            notes
                .iter_mut()
                .for_each(|n| *n = format!("{}: {n}", self.describe()));
            let mut done = Restored {
                diff: plan::diff(&before, &after),
                summary: plan::summarize(&before, &after),
                differs: data(&current) != *wanted,
                written: false,
                version: version(&current).to_string(),
                notes,
            };
            if !done.differs {
                return Ok(done);
            }
            approve(&before, &after)?;
            if dry_run {
                return Ok(done);
            }
            let mut cm = current.clone().unwrap_or_default();
            if current.is_none() {
                cm.metadata.name = Some(AWS_AUTH.1.into());
                cm.metadata.namespace = Some(AWS_AUTH.0.into());
            }
            cm.metadata.managed_fields = None;
            cm.data = Some(wanted.clone());
            if let Some(c) = &current {
                if let Some(file) = self.backup(c)? {
                    done.notes
                        .push(format!("saved the previous aws-auth in {}", file.display()));
                }
            }
            let result = self.client().and_then(|client| {
                self.rt.block_on(async {
                    match &current {
                        Some(_) => api::replace_config_map(&client, &cm).await,
                        None => api::create_config_map(&client, &cm).await,
                    }
                })
            });
            match result {
                Ok(_) => {
                    done.written = true;
                    return Ok(done);
                }
                Err(e) if e.is_transient() && attempt < MAX_ATTEMPTS => {
                    std::thread::sleep(backoff(attempt))
                }
                Err(e) => return Err(self.kube_err(e, false).into()),
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// The connection's client (a new token when the old one is about to expire).
    fn client(&self) -> Result<kube::Client, KubeError> {
        let mut conn = self.conn.borrow_mut();
        self.rt.block_on(conn.client())
    }

    /// After a write: may this identity, with a token made just now, still read aws-auth?
    /// Asked as a SelfSubjectAccessReview, so the check itself reads nothing: a 401 means
    /// the cluster no longer knows the identity, `false` that RBAC no longer lets it read.
    fn still_has_access(&self) -> Result<(), KubeError> {
        let client = {
            let conn = self.conn.borrow();
            self.rt.block_on(conn.fresh_client())?
        };
        let allowed =
            self.rt
                .block_on(api::can_i(&client, "get", "configmaps", Some(AWS_AUTH.0)))?;
        if allowed {
            Ok(())
        } else {
            Err(KubeError::Api {
                what: "reading aws-auth".into(),
                code: 403,
                reason: "Forbidden".into(),
                message: "RBAC no longer lets this identity get configmaps in kube-system".into(),
            })
        }
    }
}

impl Target for ClusterTarget {
    fn describe(&self) -> String {
        format!(
            "cluster:{}/{}/{}",
            self.conn.borrow().spec().name(),
            AWS_AUTH.0,
            AWS_AUTH.1
        )
    }

    fn mechanism(&self) -> String {
        let cluster = self.conn.borrow().spec().name();
        let mode = self.mode.map_or("unknown", AuthMode::as_str);
        format!(
            "aws-auth ConfigMap {}/{} in cluster {cluster} (authenticationMode {mode})",
            AWS_AUTH.0, AWS_AUTH.1
        )
    }

    fn shadowed(&self, arn: &str) -> bool {
        self.entries.contains(&crate::access::arn::match_key(arn))
    }

    fn read(&mut self) -> Result<Snapshot, TargetError> {
        let cm = self.fetch()?;
        let auth = self.parse(&cm)?;
        let mut warnings = Vec::new();
        if cm.is_none() {
            warnings.push(format!(
                "{} does not exist: okscript will create it; it holds no node roles, so nodes that join later must be added (EKS managed node groups add theirs)",
                self.describe()
            ));
        }
        warnings.extend(read_warnings(&auth, |f| {
            let line = f.line.map_or(String::new(), |l| format!(" line {l}"));
            format!("{}: data.{}{line}", self.describe(), f.section)
        }));
        let snapshot = Snapshot {
            auth,
            version: version(&cm),
            warnings,
        };
        self.last = cm;
        Ok(snapshot)
    }

    fn commit(&mut self, pending: Pending<'_>) -> Result<Commit, TargetError> {
        self.check_mode()?;
        let mut notes = Vec::new();
        let mut sent: Option<BTreeMap<String, String>> = None;
        let mut last_error = String::new();
        for attempt in 1..=MAX_ATTEMPTS {
            let current = if attempt == 1 && version(&self.last) == pending.base.version {
                self.last.clone()
            } else {
                // One read per attempt: the attempts are the retries (no retries inside them).
                match self.fetch_once() {
                    Ok(cm) => cm,
                    Err(e) if e.is_transient() => {
                        last_error = e.to_string();
                        if attempt < MAX_ATTEMPTS {
                            std::thread::sleep(backoff(attempt));
                        }
                        continue;
                    }
                    Err(e) => return Err(self.kube_err(e, false)),
                }
            };
            // A write whose answer was lost may have landed: then the data is ours.
            if let Some(d) = &sent {
                if data(&current) == *d {
                    notes.push("the last write's answer was lost, but the cluster holds what okscript sent".into());
                    return Ok(self.committed(pending.base, pending.staged, current, true, notes));
                }
            }
            let replayed;
            let (before, after): (&AwsAuth, &AwsAuth) = if version(&current) == pending.base.version
            {
                (&pending.base.auth, pending.staged)
            } else {
                let now = self.parse(&current)?;
                let how = format!(
                    " (resourceVersion {} -> {})",
                    if pending.base.version.is_empty() {
                        "none"
                    } else {
                        &pending.base.version
                    },
                    version(&current)
                );
                let (auth, replay_notes) = replay(
                    &self.describe(),
                    &how,
                    &now,
                    pending.intents,
                    pending.protected,
                )?;
                // Only the last replay's notes matter: earlier attempts were not written.
                notes.retain(|n: &String| n.starts_with("saved the previous"));
                notes.extend(replay_notes);
                replayed = (now, auth);
                (&replayed.0, &replayed.1)
            };
            if after.is_unchanged() {
                self.last = current.clone();
                return Ok(Commit {
                    summary: plan::Summary::default(),
                    diff: String::new(),
                    written: false,
                    notes,
                    snapshot: Some(Snapshot {
                        auth: before.clone(),
                        version: version(&current),
                        warnings: Vec::new(),
                    }),
                });
            }
            let desired = Self::desired(&current, after);
            let size: usize = desired
                .data
                .iter()
                .flatten()
                .map(|(k, v)| k.len() + v.len())
                .sum();
            if size > MAX_DATA_BYTES {
                return Err(TargetError::TooLarge {
                    target: self.describe(),
                    bytes: size,
                });
            }
            let summary = plan::summarize(before, after);
            let diff = plan::diff(before, after);
            let caller_mapped = pending.protected.keys.iter().any(|k| {
                [&before.roles, &before.users]
                    .iter()
                    .any(|s| s.slots.iter().any(|slot| slot.key() == k))
            });
            if let Some(c) = &current {
                if let Some(file) = self.backup(c)? {
                    notes.retain(|n: &String| !n.starts_with("saved the previous"));
                    notes.push(format!("saved the previous aws-auth in {}", file.display()));
                }
            }
            sent = desired.data.clone();
            let result = self.client().and_then(|client| {
                self.rt.block_on(async {
                    match &current {
                        Some(_) => api::replace_config_map(&client, &desired).await,
                        None => api::create_config_map(&client, &desired).await,
                    }
                })
            });
            match result {
                Ok(written) => {
                    if caller_mapped && self.conn.borrow().uses_eks_token() {
                        if let Err(e) = self.still_has_access() {
                            if matches!(e.code(), Some(401) | Some(403)) {
                                let undone = match &current {
                                    Some(c) => {
                                        self.undo_lockout(&c.data.clone().unwrap_or_default())
                                    }
                                    None => Err("there was no aws-auth before".into()),
                                };
                                return Err(TargetError::LockedOut {
                                    target: self.describe(),
                                    error: e.to_string(),
                                    restored: undone.is_ok(),
                                    how: match undone {
                                        Ok(how) | Err(how) => how,
                                    },
                                });
                            }
                        }
                    }
                    let mut commit =
                        self.committed(pending.base, pending.staged, Some(written), true, notes);
                    commit.summary = summary;
                    commit.diff = diff;
                    return Ok(commit);
                }
                Err(e) if e.is_transient() => {
                    last_error = e.to_string();
                    if e.code() != Some(409) {
                        // No answer or a server error: keep `sent` to recognise our write.
                    } else {
                        sent = None;
                    }
                    if attempt < MAX_ATTEMPTS {
                        std::thread::sleep(backoff(attempt));
                    }
                }
                Err(e) => return Err(self.kube_err(e, false)),
            }
        }
        Err(TargetError::GaveUp {
            target: self.describe(),
            attempts: MAX_ATTEMPTS,
            last: last_error,
        })
    }
}

impl ClusterTarget {
    /// Puts `previous` back after a write that locked the caller out; returns what happened
    /// in words, as an error when aws-auth stayed as written. The caller's token is refused by
    /// then, so where the mode has access entries (API_AND_CONFIG_MAP) okscript goes round
    /// aws-auth as `okscript rescue` does: a temporary ClusterAdmin entry for the token's
    /// principal, the restore, the entry deleted. On CONFIG_MAP that would need a one-way mode
    /// step, which is the user's call, so only the way to take it is named.
    fn undo_lockout(&mut self, previous: &BTreeMap<String, String>) -> Result<String, String> {
        // The safety net puts back what was there: no guards.
        let direct = self.restore(previous, false, |_, _| Ok::<(), TargetError>(()));
        let refused = match direct {
            Ok(_) => return Ok(String::new()),
            Err(e) => e.to_string(),
        };
        let eks = {
            let conn = self.conn.borrow();
            conn.eks_cluster()
                .map(|(c, s)| (c.to_string(), s.clone()))
                .zip(conn.token_principal())
        };
        let Some(((cluster, session), principal)) = eks else {
            return Err(format!("putting it back failed too ({refused})"));
        };
        if self.mode != Some(AuthMode::ApiAndConfigMap) {
            return Err(format!(
                "putting it back failed too ({refused}); `okscript rescue --cluster {cluster}` goes round aws-auth through the EKS API (it steps the cluster to API_AND_CONFIG_MAP, one way)"
            ));
        }
        let at = aws::EntriesAt {
            session: &session,
            cluster: &cluster,
        };
        let arn = self
            .rt
            .block_on(aws::entry_principal_arn(&session, &principal))
            .map_err(|e| format!("putting it back failed ({refused}), and IAM did not say which principal to give a temporary access entry: {e}"))?;
        let entered = self
            .rt
            .block_on(aws::enter_as_cluster_admin(at, &arn, ENTRY_WAIT));
        let cleanup =
            format!("`aws eks delete-access-entry --cluster-name {cluster} --principal-arn {arn}`");
        if let Err(e) = entered {
            let left = matches!(self.rt.block_on(at.describe(&arn)), Ok(Some(_)));
            return Err(format!(
                "putting it back failed ({refused}), and so did a temporary access entry for {arn}: {e}{}",
                if left { format!("; the entry exists: restore aws-auth with it (`okscript restore --cluster {cluster}`), then delete it: {cleanup}") } else { String::new() }
            ));
        }
        // The apiserver may take a moment to admit through a new entry: retry the refusals.
        let mut restored = Err(refused);
        for attempt in 1..=MAX_ATTEMPTS {
            restored = self
                .restore(previous, false, |_, _| Ok::<(), TargetError>(()))
                .map(drop)
                .map_err(|e| e.to_string());
            if restored.is_ok() || attempt == MAX_ATTEMPTS {
                break;
            }
            std::thread::sleep(backoff(attempt));
        }
        let deleted = self.rt.block_on(at.delete(&arn));
        match (restored, deleted) {
            (Ok(()), Ok(())) => Ok(format!(
                " through a temporary access entry for {arn} (AmazonEKSClusterAdminPolicy), deleted again"
            )),
            (Ok(()), Err(e)) => Ok(format!(
                " through a temporary access entry for {arn}, which could NOT be deleted ({e}): delete it with {cleanup}"
            )),
            (Err(r), _) => Err(format!(
                "putting it back failed even through a temporary access entry for {arn} ({r}){}",
                if matches!(self.rt.block_on(at.describe(&arn)), Ok(Some(_))) { format!("; the entry still exists: delete it with {cleanup} once aws-auth is fixed") } else { String::new() }
            )),
        }
    }

    fn committed(
        &mut self,
        base: &Snapshot,
        staged: &AwsAuth,
        now: Option<ConfigMap>,
        written: bool,
        notes: Vec<String>,
    ) -> Commit {
        let auth = self.parse(&now).unwrap_or_else(|_| staged.clone());
        let commit = Commit {
            summary: plan::summarize(&base.auth, &auth),
            diff: plan::diff(&base.auth, &auth),
            written,
            notes,
            snapshot: Some(Snapshot {
                auth,
                version: version(&now),
                warnings: Vec::new(),
            }),
        };
        self.last = now;
        commit
    }
}
