//! The `access-entries` target: a cluster's EKS access entries, written through the EKS API.
//! Entries have no resourceVersion or ETag, so a commit plans from a full read, makes the
//! minimal calls (create, update, associate, disassociate, delete), then reads again and
//! replays the script's intents until they all hold (bounded, with backoff): a concurrent
//! writer's change to the same principal is merged, not lost. A 409 on create adopts the
//! entry EKS already has; a new entry is waited for until EKS shows it. A failed call is
//! reported with exactly the calls that had landed before it. After a write that touched
//! the caller's own principal or a ClusterAdmin, a fresh token must still be admitted;
//! otherwise the run's calls are undone.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::cluster::{backoff, MAX_ATTEMPTS};
use super::entries_model::{self, Call, Projection};
use super::entries_undo;
use super::{replay, Commit, Pending, Snapshot, Target, TargetError};
use crate::access::arn::{self, PrincipalKind};
use crate::access::entry::MASTERS;
use crate::access::intent::{Intent, Note};
use crate::access::model::{AwsAuth, MappingView, PolicyView, Protected, Refusal};
use crate::access::plan;
use crate::aws::{self, AccessEntryInfo, AuthMode, AwsError, EntriesAt, Session};
use crate::kube::{api as kube_api, Connection, KubeError};

/// How many times okscript asks EKS for an entry it just created before it stops waiting.
const VISIBILITY_POLLS: u32 = 10;

/// The pause before the last verification of a commit that wrote.
const SETTLE: Duration = Duration::from_millis(500);

/// A cluster's EKS access entries.
pub struct EntriesTarget {
    rt: Arc<tokio::runtime::Runtime>,
    session: Session,
    cluster: String,
    mode: Option<AuthMode>,
    /// The entries as last read.
    last: Option<Projection>,
    /// Real ARNs IAM gave for principals, by match key.
    real: BTreeMap<String, String>,
    /// Principals a note was already printed for.
    noted: BTreeSet<String>,
    /// The access policy catalogue (ListAccessPolicies), once read: `(name, arn)`.
    catalogue: Option<Vec<(String, String)>>,
    /// The cluster connection, for the lockout check after a write (`None`: no check).
    conn: Option<Rc<RefCell<Connection>>>,
}

impl std::fmt::Debug for EntriesTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// `now` with some principals' entries (by match key) replaced by what was just described
/// (`None`: gone).
fn refreshed(
    now: &Projection,
    fresh: impl IntoIterator<Item = (String, Option<AccessEntryInfo>)>,
) -> Projection {
    let mut entries = now.entries.clone();
    for (key, entry) in fresh {
        match entry {
            Some(e) => entries.insert(key, e),
            None => entries.remove(&key),
        };
    }
    entries_model::project(&entries.into_values().collect::<Vec<_>>())
}

/// A fingerprint of a state, for [`Snapshot::version`]: entries have no resourceVersion.
fn fingerprint(entries: &BTreeMap<String, AccessEntryInfo>) -> String {
    let text = format!("{entries:?}");
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

impl EntriesTarget {
    /// The entries of `cluster`, called through `session`.
    pub fn new(
        rt: Arc<tokio::runtime::Runtime>,
        session: Session,
        cluster: String,
        mode: Option<AuthMode>,
    ) -> EntriesTarget {
        EntriesTarget {
            rt,
            session,
            cluster,
            mode,
            last: None,
            real: BTreeMap::new(),
            noted: BTreeSet::new(),
            catalogue: None,
            conn: None,
        }
    }

    /// Checks after a sensitive write that the caller still reaches the cluster through `conn`.
    pub fn with_connection(mut self, conn: Rc<RefCell<Connection>>) -> EntriesTarget {
        self.conn = Some(conn);
        self
    }

    /// After a write: is a token made just now still admitted? Asked as a SelfSubjectReview,
    /// which EKS answers for any principal it authenticates (through its entry in API mode).
    /// `Ok(None)` when there is nothing to ask with (no EKS token).
    fn still_admitted(&self) -> Result<Option<String>, KubeError> {
        let Some(conn) = &self.conn else {
            return Ok(None);
        };
        let conn = conn.borrow();
        if !conn.uses_eks_token() {
            return Ok(None);
        }
        let client = self.rt.block_on(conn.fresh_client())?;
        let me = self.rt.block_on(kube_api::whoami(&client))?;
        Ok(Some(me.username))
    }

    /// The lockout check of a commit that wrote: when the caller is no longer admitted, the
    /// touched principals are put back as `original` had them, and the error says exactly
    /// which calls did that.
    fn check_lockout(
        &self,
        original: &Projection,
        touched: &BTreeSet<String>,
        landed: &[String],
    ) -> Result<(), TargetError> {
        let error =
            match self.still_admitted() {
                Ok(_) => return Ok(()),
                Err(e) if matches!(e.code(), Some(401 | 403)) => e.to_string(),
                // Not a verdict on access (a dropped connection): say so, undo nothing.
                Err(e) => return Err(TargetError::EntriesCall {
                    target: self.describe(),
                    call:
                        "checking with a fresh token that this identity still reaches the cluster"
                            .into(),
                    error: e.to_string(),
                    landed: landed.to_vec(),
                    hint: e.hint(),
                }),
            };
        let keys: BTreeSet<String> = touched.iter().map(|a| arn::match_key(a)).collect();
        let mut restored = Vec::new();
        let outcome = self.fetch(landed).and_then(|now| {
            let undo = entries_undo::undo_calls(original, &now, &keys)
                .map_err(|r| self.refused(r, landed))?;
            for call in &undo {
                match self.send(call) {
                    Ok(()) => {
                        restored.push(call.to_string());
                        if let Call::Create { arn, .. } = call {
                            self.wait_visible(arn);
                        }
                    }
                    Err(e) => return Err(self.failed(call.to_string(), &e, landed)),
                }
            }
            Ok(())
        });
        Err(TargetError::EntriesLockedOut {
            target: self.describe(),
            error,
            landed: landed.to_vec(),
            restored,
            failed: outcome.err().map(|e| e.to_string()),
        })
    }

    /// Refuses a policy EKS does not have (asked once per run: the catalogue grows).
    fn check_policy(&mut self, policy_arn: &str) -> Result<(), Refusal> {
        if self.catalogue.is_none() {
            let listed = self
                .rt
                .block_on(self.at().policies())
                .map_err(|e| Refusal {
                    message: format!(
                        "could not list EKS's access policies to check `{policy_arn}`: {e}"
                    ),
                    hint: e
                        .hint()
                        .unwrap_or_else(|| "the identity needs eks:ListAccessPolicies".into()),
                })?;
            self.catalogue = Some(listed);
        }
        let known = self.catalogue.as_deref().unwrap_or_default();
        if known.iter().any(|(_, arn)| arn == policy_arn) {
            return Ok(());
        }
        let names: Vec<&str> = known.iter().map(|(n, _)| n.as_str()).collect();
        Err(Refusal {
            message: format!(
                "EKS has no access policy `{}`",
                policy_arn.rsplit('/').next().unwrap_or(policy_arn)
            ),
            hint: format!(
                "the policies EKS lists (ListAccessPolicies): {}; short names drop AmazonEKS and Policy (View, Edit, Admin, ClusterAdmin, AdminView)",
                names.join(", ")
            ),
        })
    }

    fn at(&self) -> EntriesAt<'_> {
        EntriesAt {
            session: &self.session,
            cluster: &self.cluster,
        }
    }

    fn failed(&self, call: String, e: &AwsError, landed: &[String]) -> TargetError {
        TargetError::EntriesCall {
            target: self.describe(),
            call,
            error: e.to_string(),
            landed: landed.to_vec(),
            hint: e.hint(),
        }
    }

    /// Reads every entry, retrying transient failures.
    fn fetch(&self, landed: &[String]) -> Result<Projection, TargetError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.rt.block_on(self.at().read_all()) {
                Ok(entries) => return Ok(entries_model::project(&entries)),
                Err(e) if aws::is_transient(&e) && attempt < MAX_ATTEMPTS => {
                    std::thread::sleep(backoff(attempt))
                }
                Err(e) => return Err(self.failed("reading the access entries".into(), &e, landed)),
            }
        }
    }

    /// The real ARN of the principal `arn` (canonical, path-less) names: the entry's when it
    /// has one, else IAM's (GetRole/GetUser), with a note when it differs from `arn`.
    fn resolve(&mut self, arn: &str, notes: &mut Vec<Note>) -> Result<String, Refusal> {
        let key = arn::match_key(arn);
        if let Some(e) = self.last.as_ref().and_then(|p| p.entries.get(&key)) {
            return Ok(e.principal_arn.clone());
        }
        if let Some(real) = self.real.get(&key) {
            return Ok(real.clone());
        }
        let found = self
            .rt
            .block_on(aws::entry_principal_arn(&self.session, arn));
        let real = found.map_err(|e| {
            let missing = matches!(e, AwsError::NoSuchRole { .. } | AwsError::NoSuchUser { .. });
            Refusal {
                message: if missing {
                    format!("{arn} cannot have an access entry: {e} (EKS only creates entries for principals IAM has)")
                } else {
                    format!("could not look {arn} up in IAM, which an access entry needs: {e}")
                },
                hint: if missing {
                    "check the ARN (`aws iam get-role --role-name NAME` / `aws iam get-user --user-name NAME`); for an SSO permission set, `sso_role_arn(NAME)` finds its role".into()
                } else {
                    e.hint().unwrap_or_else(|| "the identity needs iam:GetRole and iam:GetUser".into())
                },
            }
        })?;
        if !real.eq_ignore_ascii_case(arn) && self.noted.insert(key.clone()) {
            notes.push(format!(
                "access entries need the principal's real ARN, path included (the opposite of aws-auth): okscript writes the entry for `{real}`"
            ));
        }
        self.real.insert(key, real.clone());
        Ok(real)
    }

    fn real_of(&self, key: &str) -> Option<String> {
        self.real.get(key).cloned().or_else(|| {
            self.last
                .as_ref()
                .and_then(|p| p.entries.get(key))
                .map(|e| e.principal_arn.clone())
        })
    }

    fn send(&self, call: &Call) -> Result<(), AwsError> {
        let at = self.at();
        self.rt.block_on(async {
            match call {
                Call::Create {
                    arn,
                    groups,
                    username,
                } => at.create(arn, groups, username.as_deref()).await,
                Call::Update {
                    arn,
                    groups,
                    username,
                } => at.update(arn, groups.as_deref(), username.as_deref()).await,
                Call::Delete { arn } => at.delete(arn).await,
                Call::Associate { arn, policy } => at.associate(arn, policy).await,
                Call::Disassociate { arn, policy_arn } => at.disassociate(arn, policy_arn).await,
            }
        })
    }

    /// Waits (bounded) until EKS shows the entry of `arn`: its writes are eventually
    /// consistent, and an association made before the entry shows fails with 404.
    fn wait_visible(&self, arn: &str) {
        for n in 1..=VISIBILITY_POLLS {
            if let Ok(Some(_)) = self.rt.block_on(self.at().describe(arn)) {
                return;
            }
            std::thread::sleep(backoff(n).min(Duration::from_secs(1)));
        }
    }

    /// Makes the calls of one plan; returns whether a principal needs another look (an
    /// adopted entry, one not visible yet, one a concurrent writer deleted).
    fn execute(
        &self,
        now: &Projection,
        plan: &[(String, Vec<Call>)],
        replaying: (&[Intent], &Protected),
        landed: &mut Vec<String>,
        notes: &mut Vec<Note>,
    ) -> Result<bool, TargetError> {
        let mut again = false;
        for (key, calls) in plan {
            let calls = self.fresh_calls(now, key, calls, replaying, landed)?;
            for (i, call) in calls.iter().enumerate() {
                match self.send(call) {
                    Ok(()) => {
                        landed.push(call.to_string());
                        // Only a call that follows needs the new entry visible; the
                        // verifying read waits out the rest.
                        if let (Call::Create { arn, .. }, true) = (call, i + 1 < calls.len()) {
                            self.wait_visible(arn);
                        }
                    }
                    Err(e) if matches!(call, Call::Create { .. }) && aws::is_in_use(&e) => {
                        // Our own create that EKS does not show yet is no adoption.
                        let ours = format!("CreateAccessEntry {} ", call.arn());
                        if landed.iter().any(|l| l.starts_with(&ours)) {
                            self.wait_visible(call.arn());
                            again = true;
                            break;
                        }
                        notes.push(format!(
                            "{} already had an access entry (EKS makes some itself: the cluster creator, node groups, Fargate profiles); okscript adopted it and changed only what the script asked for",
                            call.arn()
                        ));
                        self.wait_visible(call.arn());
                        again = true;
                        break;
                    }
                    Err(e)
                        if matches!(call, Call::Delete { .. } | Call::Disassociate { .. })
                            && aws::is_not_found(&e) => {}
                    Err(e) if aws::is_not_found(&e) => {
                        again = true;
                        break;
                    }
                    Err(e) => return Err(self.failed(call.to_string(), &e, landed)),
                }
            }
        }
        Ok(again)
    }

    /// One principal's calls, planned again from a describe made just now when it changed
    /// since the full read: entries have no precondition, so the shorter the gap between
    /// reading a principal and writing it, the less a concurrent writer's change is at risk.
    /// (A create needs none: a 409 says someone was first.)
    fn fresh_calls(
        &self,
        now: &Projection,
        key: &str,
        calls: &[Call],
        (intents, protected): (&[Intent], &Protected),
        landed: &[String],
    ) -> Result<Vec<Call>, TargetError> {
        let Some(first) = calls.first().filter(|c| !matches!(c, Call::Create { .. })) else {
            return Ok(calls.to_vec());
        };
        let Ok(fresh) = self.rt.block_on(self.at().describe(first.arn())) else {
            return Ok(calls.to_vec());
        };
        if fresh.as_ref() == now.entries.get(key) {
            return Ok(calls.to_vec());
        }
        let p = refreshed(now, [(key.to_string(), fresh)]);
        let planned = self.plan_on(&p, (intents, protected), landed)?;
        Ok(planned
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, c)| c)
            .unwrap_or_default())
    }

    /// The calls that make the intents hold on `p`.
    fn plan_on(
        &self,
        p: &Projection,
        (intents, protected): (&[Intent], &Protected),
        landed: &[String],
    ) -> Result<Vec<(String, Vec<Call>)>, TargetError> {
        let (after, _) = replay(&self.describe(), "", &p.auth, intents, protected)?;
        entries_model::calls(p, &after, &|k| self.real_of(k)).map_err(|r| self.refused(r, landed))
    }

    /// The last check of a commit that wrote, after a pause: the principals it touched,
    /// described again (two calls each, not a full read), still hold what the script asked
    /// for. Returns the state to keep when they do.
    fn recheck(
        &self,
        now: &Projection,
        touched: &BTreeSet<String>,
        replaying: (&[Intent], &Protected),
        landed: &[String],
    ) -> Result<Option<Projection>, TargetError> {
        let mut fresh = Vec::new();
        for arn in touched {
            let described = self
                .rt
                .block_on(self.at().describe(arn))
                .map_err(|e| self.failed("verifying the entries".into(), &e, landed))?;
            fresh.push((arn::match_key(arn), described));
        }
        let p = refreshed(now, fresh);
        Ok(self.plan_on(&p, replaying, landed)?.is_empty().then_some(p))
    }

    fn refused(&self, r: Refusal, landed: &[String]) -> TargetError {
        if landed.is_empty() {
            TargetError::EntriesRefused {
                target: self.describe(),
                message: r.message,
                hint: r.hint,
            }
        } else {
            TargetError::EntriesCall {
                target: self.describe(),
                call: "planning the next calls".into(),
                error: r.message,
                landed: landed.to_vec(),
                hint: Some(r.hint),
            }
        }
    }
}

impl Target for EntriesTarget {
    fn describe(&self) -> String {
        format!("access-entries:{}", self.cluster)
    }

    fn mechanism(&self) -> String {
        let mode = self.mode.map_or("unknown", AuthMode::as_str);
        format!(
            "access entries of cluster {} (authenticationMode {mode})",
            self.cluster
        )
    }

    fn uses_real_arns(&self) -> bool {
        true
    }

    /// An entry with no groups is normal here: its policies give it its access.
    fn keeps_finding(&self, finding: &crate::access::lint::Finding) -> bool {
        finding.code != "empty-groups"
    }

    fn annotate(&self, view: &mut MappingView) {
        view.source = "access-entry";
        let key = arn::match_key(&view.arn);
        view.entry_type = self
            .last
            .as_ref()
            .and_then(|p| p.entries.get(&key))
            .map_or("STANDARD", |e| e.kind.as_str())
            .to_string();
        if view.entry_type == "STANDARD" && view.groups.iter().any(|g| g == MASTERS) {
            view.policies
                .insert(0, PolicyView::new(aws::CLUSTER_ADMIN_POLICY, Vec::new()));
        }
    }

    fn read(&mut self) -> Result<Snapshot, TargetError> {
        let p = self.fetch(&[])?;
        let snapshot = Snapshot {
            auth: p.auth.clone(),
            version: fingerprint(&p.entries).into(),
            warnings: Vec::new(),
        };
        self.last = Some(p);
        Ok(snapshot)
    }

    fn vet(&mut self, intent: &Intent) -> Result<Vec<Note>, Refusal> {
        let mut notes = Vec::new();
        match intent {
            Intent::Grant {
                kind,
                arn,
                groups,
                username,
                ..
            } => {
                entries_model::check_groups(arn, groups)?;
                if let Some(u) = username {
                    entries_model::check_username(arn, u)?;
                }
                let key = arn::match_key(arn);
                let is_new = !self.last.as_ref().is_some_and(|p| p.entries.contains_key(&key));
                let real = self.resolve(arn, &mut notes)?;
                // A new role gets the aws-auth default, ROLENAME:{{SessionName}}.
                let effective = username.clone().or_else(|| {
                    (is_new && *kind == PrincipalKind::Role)
                        .then(|| arn::parse_principal(arn).ok())
                        .flatten()
                        .map(|p| format!("{}:{{{{SessionName}}}}", p.name))
                });
                if let Some(n) = effective
                    .as_deref()
                    .and_then(|u| entries_model::session_name_note(&real, u))
                {
                    notes.push(n);
                }
            }
            Intent::Members { group, members, .. } => {
                entries_model::check_groups("the team's members", std::slice::from_ref(group))?;
                for m in members {
                    self.resolve(m, &mut notes)?;
                }
            }
            Intent::Revoke { .. } => {}
            Intent::Policy {
                arn, policy_arn, ..
            } => {
                self.check_policy(policy_arn)?;
                self.resolve(arn, &mut notes)?;
            }
            Intent::GrantAccount { account, .. } | Intent::RevokeAccount { account, .. } => {
                return Err(Refusal {
                    message: format!(
                        "cannot map account {account} in access entries: they have no mapAccounts; each principal needs its own entry"
                    ),
                    hint: "grant the account's roles and users one by one (grant_role, grant_user), or pass `--target aws-auth` where EKS still reads aws-auth".into(),
                })
            }
        }
        Ok(notes)
    }

    fn diff(&self, before: &AwsAuth, after: &AwsAuth) -> String {
        let empty = BTreeMap::new();
        let entries = self.last.as_ref().map_or(&empty, |p| &p.entries);
        entries_model::diff(before, after, entries, &|k| self.real_of(k))
    }

    fn commit(&mut self, pending: Pending<'_>) -> Result<Commit, TargetError> {
        let mut landed: Vec<String> = Vec::new();
        let mut notes: Vec<Note> = Vec::new();
        let mut first: Option<(plan::Summary, String)> = None;
        // Set when the last calls left work for the next read (an adopted entry): no news.
        let mut expected = false;
        // Whether the state was verified once more after a pause: a writer that read before
        // okscript wrote may still land a change planned from that read.
        let mut settled = false;
        let mut touched: BTreeSet<String> = BTreeSet::new();
        let mut original: Option<Projection> = None;
        // Whether the caller was admitted before a sensitive write (asked once, just before
        // it): a caller the cluster did not admit anyway is not locked out by the run.
        let mut admitted_before: Option<bool> = None;
        for attempt in 1..=MAX_ATTEMPTS {
            let now = self.fetch(&landed)?;
            if original.is_none() {
                original = Some(now.clone());
            }
            let version = fingerprint(&now.entries);
            let after = if attempt == 1 && *version == *pending.base.version {
                pending.staged.clone()
            } else {
                let (auth, replayed) = replay(
                    &self.describe(),
                    "",
                    &now.auth,
                    pending.intents,
                    pending.protected,
                )?;
                if attempt == 1 {
                    notes.extend(replayed);
                }
                auth
            };
            let real = |k: &str| self.real_of(k);
            let planned =
                entries_model::calls(&now, &after, &real).map_err(|r| self.refused(r, &landed))?;
            let mut now = now;
            if planned.is_empty() && !landed.is_empty() && !settled {
                settled = true;
                std::thread::sleep(SETTLE);
                match self.recheck(
                    &now,
                    &touched,
                    (pending.intents, pending.protected),
                    &landed,
                )? {
                    Some(p) => now = p,
                    None => continue,
                }
            }
            if planned.is_empty() {
                let (summary, diff) = first.unwrap_or_default();
                if !landed.is_empty() {
                    notes.push(format!("EKS calls made: {}", landed.join("; ")));
                }
                if let (Some(original), Some(true)) = (&original, admitted_before) {
                    self.check_lockout(original, &touched, &landed)?;
                }
                let snapshot = Snapshot {
                    auth: now.auth.clone(),
                    version: fingerprint(&now.entries).into(),
                    warnings: Vec::new(),
                };
                self.last = Some(now);
                return Ok(Commit {
                    summary,
                    diff,
                    written: !landed.is_empty(),
                    notes,
                    snapshot: Some(snapshot),
                });
            }
            if first.is_none() {
                self.last = Some(now.clone());
                first = Some((
                    plan::summarize(&now.auth, &after),
                    self.diff(&now.auth, &after),
                ));
            } else if !expected {
                notes.push(format!(
                    "the access entries of {} changed under okscript's writes (another writer, or EKS still settling); okscript replayed the script's changes (attempt {attempt})",
                    planned.iter().map(|(k, _)| self.real_of(k).unwrap_or_else(|| k.clone())).collect::<Vec<_>>().join(", ")
                ));
                std::thread::sleep(backoff(attempt));
            }
            touched.extend(
                planned
                    .iter()
                    .flat_map(|(_, c)| c.iter().map(|c| c.arn().to_string())),
            );
            if admitted_before.is_none() {
                let original = original.as_ref().expect("set at the first read");
                if entries_undo::sensitive(original, &touched, &pending.protected.keys) {
                    admitted_before = Some(matches!(self.still_admitted(), Ok(Some(_))));
                }
            }
            expected = self.execute(
                &now,
                &planned,
                (pending.intents, pending.protected),
                &mut landed,
                &mut notes,
            )?;
            self.last = Some(now);
        }
        Err(TargetError::EntriesCall {
            target: self.describe(),
            call: "verifying the entries".into(),
            error: format!("they still differed from what the script asked for after {MAX_ATTEMPTS} attempts (other writers kept changing them)"),
            landed,
            hint: None,
        })
    }
}
