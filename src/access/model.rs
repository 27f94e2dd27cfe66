//! The whole aws-auth access model: three sections, the rules for applying intents
//! (duplicates collapse to the entry the authenticator uses) and the guards that stop a
//! script from locking people out. Pure: no I/O.

use super::arn::{self, PrincipalKind};
use super::entry::{union_groups, Mapping, MASTERS};
use super::intent::{parse_policy_item, policy_item, Intent, Note};
pub use super::intent::{policy_items, set_policy_items, PolicyView};
use super::section::{Body, Section, SectionError, SectionName, Slot};

/// A data key the authenticator never reads because it differs from a section's key only in
/// case (`maproles:`); okscript will not write that section beside it without force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrayKey {
    /// The key as written.
    pub key: String,
    /// The section it was probably meant to be.
    pub section: SectionName,
    /// File line of the key, when known.
    pub line: Option<usize>,
}

/// Where one mapRoles or mapUsers entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    /// mapRoles or mapUsers.
    pub section: SectionName,
    /// Index among the section's entries.
    pub index: usize,
}

/// Every entry that stands for one principal, and the one the authenticator uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookup {
    /// Entries with the principal's canonical ARN (ignoring case and role paths), mapRoles
    /// first, each section in order.
    pub found: Vec<At>,
    /// The entry the authenticator uses: it compares the caller's canonical ARN, ignoring
    /// case, with each ARN as written, in mapRoles and then in mapUsers, and the last match
    /// in a section wins (mapUsers keys by exact text, so for case variants there it is
    /// whichever its map yields; okscript collapses them anyway).
    pub used: Option<At>,
}

/// The three data sections of an aws-auth ConfigMap.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsAuth {
    /// `mapRoles`.
    pub roles: Section,
    /// `mapUsers`.
    pub users: Section,
    /// `mapAccounts`.
    pub accounts: Section,
    /// Data keys that differ from a section's key only in case.
    pub strays: Vec<StrayKey>,
}

/// A change refused by a guard; only `#{force: true}` passes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// What would have happened.
    pub message: String,
    /// What to do instead.
    pub hint: String,
}

/// What applying one intent did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Whether anything changed.
    pub changed: bool,
    /// Things worth telling the user (duplicates collapsed, nothing to revoke, ...).
    pub notes: Vec<Note>,
}

/// Principals whose own access a script may not remove without `force` (the caller).
#[derive(Debug, Clone, Default)]
pub struct Protected {
    /// Match keys of protected principals.
    pub keys: Vec<String>,
}

/// One mapping as scripts see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MappingView {
    /// `role`, `user` or `account`.
    pub kind: &'static str,
    /// The ARN as written (empty for accounts).
    pub arn: String,
    /// The username (empty when none).
    pub username: String,
    /// The groups.
    pub groups: Vec<String>,
    /// The account: the mapped account, or the ARN's account.
    pub account: String,
    /// True when EKS ignores this row because an access entry for the principal wins
    /// (API_AND_CONFIG_MAP); false when there is none or okscript could not tell.
    pub shadowed: bool,
    /// `aws-auth` for a ConfigMap row, `access-entry` for an EKS access entry.
    pub source: &'static str,
    /// An access entry's type (`STANDARD`, `EC2_LINUX`, ...); empty for aws-auth rows.
    #[serde(rename = "type")]
    pub entry_type: String,
    /// An access entry's policies with their scopes; empty for aws-auth rows.
    pub policies: Vec<PolicyView>,
}

impl AwsAuth {
    /// An aws-auth with no sections.
    pub fn empty() -> AwsAuth {
        AwsAuth {
            roles: Section::absent(SectionName::MapRoles),
            users: Section::absent(SectionName::MapUsers),
            accounts: Section::absent(SectionName::MapAccounts),
            strays: Vec::new(),
        }
    }

    /// Parses the three sections from the ConfigMap's data strings (`None` when absent).
    pub fn parse(
        roles: Option<&str>,
        users: Option<&str>,
        accounts: Option<&str>,
    ) -> Result<AwsAuth, SectionError> {
        AwsAuth::parse_owned([roles, users, accounts].map(|t| t.map(str::to_string)))
    }

    /// [`AwsAuth::parse`] of the mapRoles, mapUsers and mapAccounts texts, which the
    /// sections keep (moved, not copied).
    pub fn parse_owned(texts: [Option<String>; 3]) -> Result<AwsAuth, SectionError> {
        let one = |name, text: Option<String>| match text {
            Some(t) => Section::parse_owned(name, t),
            None => Ok(Section::absent(name)),
        };
        let [roles, users, accounts] = texts;
        Ok(AwsAuth {
            roles: one(SectionName::MapRoles, roles)?,
            users: one(SectionName::MapUsers, users)?,
            accounts: one(SectionName::MapAccounts, accounts)?,
            strays: Vec::new(),
        })
    }

    /// Records the data keys (with their file lines, when known) that the authenticator
    /// skips because they differ from a section's key only in case.
    pub fn note_data_keys<'a>(&mut self, keys: impl IntoIterator<Item = (&'a str, Option<usize>)>) {
        self.strays = keys
            .into_iter()
            .filter_map(|(key, line)| {
                stray_section(key).map(|section| StrayKey {
                    key: key.to_string(),
                    section,
                    line,
                })
            })
            .collect();
    }

    /// A copy to stage changes on, with room for a few more entries in each section: a
    /// copy's lists are exactly full, and the first grant would otherwise double the list of
    /// a large section.
    pub fn staging_copy(&self) -> AwsAuth {
        AwsAuth {
            roles: self.roles.clone_with_room(8),
            users: self.users.clone_with_room(8),
            accounts: self.accounts.clone_with_room(8),
            strays: self.strays.clone(),
        }
    }

    /// The section under `name`.
    pub fn section(&self, name: SectionName) -> &Section {
        match name {
            SectionName::MapRoles => &self.roles,
            SectionName::MapUsers => &self.users,
            SectionName::MapAccounts => &self.accounts,
        }
    }

    fn mapping_section(&mut self, kind: PrincipalKind) -> &mut Section {
        match kind {
            PrincipalKind::Role => &mut self.roles,
            PrincipalKind::User => &mut self.users,
        }
    }

    /// True when no section changed since it was read.
    pub fn is_unchanged(&self) -> bool {
        SectionName::ALL
            .iter()
            .all(|n| self.section(*n).is_unchanged())
    }

    /// Every mapping, roles then users then accounts, as staged.
    pub fn mappings(&self) -> Vec<MappingView> {
        let mut out = Vec::new();
        for section in [&self.roles, &self.users, &self.accounts] {
            for body in section.bodies() {
                out.push(match body {
                    Body::Mapping(m) => view(m),
                    Body::Account(a) => MappingView {
                        kind: "account",
                        arn: String::new(),
                        username: String::new(),
                        groups: Vec::new(),
                        account: a.clone(),
                        shadowed: false,
                        source: "aws-auth",
                        entry_type: String::new(),
                        policies: Vec::new(),
                    },
                });
            }
        }
        out
    }

    /// The entry the authenticator uses for a principal, else the one a change would build on.
    pub fn find(&self, kind: PrincipalKind, arn: &str) -> Option<MappingView> {
        let look = self.lookup(arn);
        look.base(kind).map(|at| view(self.mapping(at)))
    }

    fn admin_count(&self) -> usize {
        [&self.roles, &self.users]
            .iter()
            .flat_map(|s| s.bodies())
            .filter(|b| matches!(b, Body::Mapping(m) if m.is_admin()))
            .count()
    }

    /// Applies one intent, or refuses it when a guard stands in the way.
    pub fn apply(&mut self, intent: &Intent, protected: &Protected) -> Result<Applied, Refusal> {
        if self.strays.is_empty() || intent.force() {
            return self.apply_unchecked(intent, protected);
        }
        let before = self.clone();
        let applied = self.apply_unchecked(intent, protected)?;
        let written = self
            .strays
            .iter()
            .find(|k| self.section(k.section) != before.section(k.section))
            .cloned();
        if let Some(stray) = written {
            *self = before;
            return Err(stray_refusal(&stray));
        }
        Ok(applied)
    }

    fn apply_unchecked(
        &mut self,
        intent: &Intent,
        protected: &Protected,
    ) -> Result<Applied, Refusal> {
        match intent {
            Intent::Grant {
                kind,
                arn,
                groups,
                username,
                exact,
                force,
            } => self.grant(
                *kind,
                arn,
                groups,
                username.as_deref(),
                *exact,
                *force,
                protected,
            ),
            Intent::Revoke {
                kind,
                arn,
                groups,
                force,
            } => self.revoke(*kind, arn, groups.as_deref(), *force, protected),
            Intent::Members {
                kind,
                group,
                members,
                force,
            } => self.members(*kind, group, members, *force, protected),
            Intent::Policy {
                kind,
                arn,
                policy_arn,
                namespaces,
                force,
            } => self.policy(
                *kind,
                arn,
                policy_arn,
                namespaces.as_deref(),
                *force,
                protected,
            ),
            Intent::GrantAccount { account, .. } => {
                let s = &mut self.accounts;
                if s.bodies()
                    .any(|b| matches!(b, Body::Account(a) if a == account))
                {
                    return Ok(Applied::default());
                }
                s.slots.push(Slot::new(Body::Account(account.clone())));
                Ok(Applied {
                    changed: true,
                    notes: Vec::new(),
                })
            }
            Intent::RevokeAccount { account, .. } => {
                let s = &mut self.accounts;
                let before = s.slots.len();
                s.slots
                    .retain(|slot| !matches!(&*slot.body, Body::Account(a) if a == account));
                let changed = s.slots.len() != before;
                Ok(Applied {
                    changed,
                    notes: if changed {
                        Vec::new()
                    } else {
                        vec![format!(
                            "account {account} is not in mapAccounts; nothing to revoke"
                        )]
                    },
                })
            }
        }
    }

    /// The one matching rule, used by grants, revokes, teams and lint: every mapRoles and
    /// mapUsers entry that stands for the principal `arn`, and the one the authenticator uses.
    pub fn lookup(&self, arn: &str) -> Lookup {
        let key = arn::match_key(arn);
        let mut out = Lookup::default();
        for name in [SectionName::MapRoles, SectionName::MapUsers] {
            let mut used_here = None;
            for (index, slot) in self.section(name).slots.iter().enumerate() {
                if slot.key() != key {
                    continue;
                }
                let at = At {
                    section: name,
                    index,
                };
                out.found.push(at);
                if matches!(&*slot.body, Body::Mapping(m) if arn::authenticator_matches(&m.arn, &key))
                {
                    used_here = Some(at);
                }
            }
            if out.used.is_none() {
                out.used = used_here;
            }
        }
        out
    }

    /// Where an entry stands, for messages: `mapUsers line 7`.
    pub fn place(&self, at: At) -> String {
        match self.section(at.section).slots[at.index].line {
            Some(l) => format!("{} line {l}", at.section.key()),
            None => format!("{} (an entry added by this script)", at.section.key()),
        }
    }

    fn places(&self, found: &[At]) -> String {
        found
            .iter()
            .map(|a| self.place(*a))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn mapping(&self, at: At) -> &Mapping {
        match &*self.section(at.section).slots[at.index].body {
            Body::Mapping(m) => m,
            Body::Account(_) => unreachable!("mapping sections hold mappings"),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn grant(
        &mut self,
        kind: PrincipalKind,
        arn: &str,
        groups: &[String],
        username: Option<&str>,
        exact: bool,
        force: bool,
        protected: &Protected,
    ) -> Result<Applied, Refusal> {
        let look = self.lookup(arn);
        let Some(base) = look.base(kind) else {
            if exact && groups.is_empty() {
                return Ok(Applied::default());
            }
            let username = username
                .map(str::to_string)
                .or_else(|| default_username(kind, arn));
            let mapping = Mapping::new(kind, arn, username.as_deref(), groups);
            return Ok(self.push_new(kind, mapping));
        };
        let old = self.mapping(base).clone();
        if exact && groups.is_empty() {
            let note = format!(
                "removed the entry for {arn}: it is to have no groups, and an entry with none still lets it authenticate (as `system:authenticated`)"
            );
            return self.remove_last(arn, &look, base, (force, protected), "remove", note);
        }
        let mut new = old.clone();
        if exact {
            new.groups = groups.to_vec();
        } else {
            union_groups(&mut new.groups, groups);
        }
        if !new.groups.is_empty() {
            new.has_groups_key = true;
        }
        if let Some(u) = username {
            new.username = Some(u.to_string());
        }
        if look.used != Some(base) {
            new.arn = arn.to_string();
        }
        let verb = ["grant to", "set the groups of"][usize::from(exact)];
        self.put(arn, &look, base, Some(new), force, protected, verb, None)
    }

    fn revoke(
        &mut self,
        kind: PrincipalKind,
        arn: &str,
        groups: Option<&[String]>,
        force: bool,
        protected: &Protected,
    ) -> Result<Applied, Refusal> {
        let look = self.lookup(arn);
        let Some(base) = look.base(kind) else {
            return Ok(Applied {
                changed: false,
                notes: vec![format!(
                    "{arn} is in neither mapRoles nor mapUsers; nothing to revoke"
                )],
            });
        };
        let Some(gs) = groups else {
            return self.put(arn, &look, base, None, force, protected, "remove", None);
        };
        let old = self.mapping(base).clone();
        let mut new = old.clone();
        new.groups.retain(|g| !gs.contains(g));
        if new.groups.is_empty() && !old.groups.is_empty() {
            let note = format!(
                "removed the entry for {arn} ({}): its last group went, and an entry with no groups still lets it authenticate (as `system:authenticated`)",
                self.place(base)
            );
            let how = (force, protected);
            return self.remove_last(arn, &look, base, how, "revoke groups of", note);
        }
        self.put(
            arn,
            &look,
            base,
            Some(new),
            force,
            protected,
            "revoke groups of",
            None,
        )
    }

    /// Adds a new entry at the end of its section.
    fn push_new(&mut self, kind: PrincipalKind, mapping: Mapping) -> Applied {
        self.mapping_section(kind)
            .slots
            .push(Slot::new(Body::Mapping(mapping)));
        Applied {
            changed: true,
            notes: Vec::new(),
        }
    }

    /// An access policy at a scope for a principal (`None`: take it away); see
    /// [`Intent::Policy`]. A new principal gets a row as a grant makes it, with no groups.
    fn policy(
        &mut self,
        kind: PrincipalKind,
        arn: &str,
        policy_arn: &str,
        namespaces: Option<&[String]>,
        force: bool,
        protected: &Protected,
    ) -> Result<Applied, Refusal> {
        let look = self.lookup(arn);
        let Some(base) = look.base(kind) else {
            let Some(ns) = namespaces else {
                return Ok(Applied {
                    changed: false,
                    notes: vec![format!("{arn} has no access entry; nothing to revoke")],
                });
            };
            let username = default_username(kind, arn);
            let mut mapping = Mapping::new(kind, arn, username.as_deref(), &[]);
            set_policy_items(&mut mapping, &[policy_item(policy_arn, ns)]);
            return Ok(self.push_new(kind, mapping));
        };
        let old = self.mapping(base).clone();
        let mut items = policy_items(&old);
        items.retain(|i| parse_policy_item(i).0 != policy_arn);
        if let Some(ns) = namespaces {
            items.push(policy_item(policy_arn, ns));
            items.sort();
        } else if !force
            && items.len() != policy_items(&old).len()
            && protected.keys.contains(&arn::match_key(arn))
        {
            return Err(Refusal {
                message: format!("refusing to take an access policy from {arn}: that is who this script is logged in as, so it could lock itself out"),
                hint: "pass #{force: true} as the last argument if another admin can still reach the cluster".into(),
            });
        }
        let mut new = old.clone();
        set_policy_items(&mut new, &items);
        let verb = ["revoke a policy of", "grant a policy to"][usize::from(namespaces.is_some())];
        self.put(arn, &look, base, Some(new), force, protected, verb, None)
    }

    /// The team form: `group` held by exactly `members` among principals of `kind`. All or
    /// nothing: a refusal for one principal leaves every entry as it was.
    fn members(
        &mut self,
        kind: PrincipalKind,
        group: &str,
        members: &[String],
        force: bool,
        protected: &Protected,
    ) -> Result<Applied, Refusal> {
        let mut next = self.clone();
        let mut out = Applied::default();
        let group = [group.to_string()];
        for arn in members {
            let done = next.grant(kind, arn, &group, None, false, force, protected)?;
            out.changed |= done.changed;
            out.notes.extend(done.notes);
        }
        let listed: Vec<String> = members.iter().map(|a| arn::match_key(a)).collect();
        let mut extra: Vec<(String, String)> = Vec::new();
        for name in [SectionName::MapRoles, SectionName::MapUsers] {
            for slot in &next.section(name).slots {
                let Body::Mapping(m) = &*slot.body else {
                    continue;
                };
                let its_kind = arn::parse_folded(&m.arn).map_or(m.kind, |p| p.kind);
                if m.arn.is_empty()
                    || its_kind != kind
                    || !m.groups.contains(&group[0])
                    || listed.iter().any(|l| l == slot.key())
                    || extra.iter().any(|(k, _)| k == slot.key())
                {
                    continue;
                }
                extra.push((slot.key().to_string(), m.arn.clone()));
            }
        }
        for (_, arn) in extra {
            let done = next.revoke(kind, &arn, Some(&group), force, protected)?;
            if done.changed {
                out.changed = true;
                out.notes.push(format!(
                    "took `{}` from {arn}: it is not a listed member",
                    group[0]
                ));
            }
            out.notes.extend(done.notes);
        }
        *self = next;
        Ok(out)
    }

    /// Removes the entry at `base` whose last group goes, saying why in `note`: an entry
    /// without groups would still let the principal authenticate.
    fn remove_last(
        &mut self,
        arn: &str,
        look: &Lookup,
        base: At,
        (force, protected): (bool, &Protected),
        verb: &str,
        note: Note,
    ) -> Result<Applied, Refusal> {
        self.put(arn, look, base, None, force, protected, verb, Some(note))
    }

    /// Replaces every entry for a principal with `new`, standing where `base` stood, or
    /// removes them all (`None`); guards first.
    #[allow(clippy::too_many_arguments)]
    fn put(
        &mut self,
        arn: &str,
        look: &Lookup,
        base: At,
        new: Option<Mapping>,
        force: bool,
        protected: &Protected,
        verb: &str,
        note: Option<Note>,
    ) -> Result<Applied, Refusal> {
        let old = self.mapping(base).clone();
        let collapse = look.found.len() > 1;
        if !collapse && new.as_ref() == Some(&old) {
            return Ok(Applied::default());
        }
        if !force {
            let loses = new
                .as_ref()
                .is_none_or(|n| old.groups.iter().any(|g| !n.groups.contains(g)));
            if loses && protected.keys.contains(&arn::match_key(arn)) {
                return Err(Refusal {
                    message: format!("refusing to revoke access of {arn}: that is who this script is logged in as, so it would lock itself out"),
                    hint: "pass #{force: true} as the last argument if another admin can still reach the cluster".into(),
                });
            }
            let entries: Vec<&Mapping> = look.found.iter().map(|a| self.mapping(*a)).collect();
            if let Some(node) = entries.iter().find(|m| m.is_node_role()) {
                return Err(node_refusal(verb, node));
            }
            let admins_removed = entries.iter().filter(|m| m.is_admin()).count();
            let added = usize::from(new.as_ref().is_some_and(Mapping::is_admin));
            self.check_last_admin(admins_removed, added, arn)?;
        }
        let mut notes = Vec::new();
        let cross = look.found.iter().any(|a| a.section != base.section);
        match &new {
            Some(n) if collapse => {
                let used = match look.used {
                    Some(u) => format!("only {}", self.place(u)),
                    None => "none of them as written".to_string(),
                };
                let order = if cross {
                    " (it looks in mapRoles, then mapUsers, and takes the last match)"
                } else {
                    ""
                };
                notes.push(format!(
                    "{} had {} entries ({}); the authenticator uses {used}{order}, so okscript kept {} and removed the others",
                    n.arn,
                    look.found.len(),
                    self.places(&look.found),
                    self.place(base),
                ));
            }
            None if note.is_none()
                && (collapse
                    || arn::parse_folded(arn).is_ok_and(|p| home(p.kind) != base.section)) =>
            {
                notes.push(format!(
                    "removed {arn} from {}: the authenticator looks a caller up in mapRoles, then mapUsers, so every one of them could let it in",
                    self.places(&look.found)
                ));
            }
            _ => {}
        }
        if let Some(n) = &new {
            if n.arn != old.arn {
                notes.push(format!(
                    "rewrote `{}` as `{}`, so that the authenticator can match it",
                    old.arn, n.arn
                ));
            }
        }
        notes.extend(note);
        let keep_base = new.is_some();
        if let Some(n) = new {
            if n != old {
                self.section_mut(base.section).slots[base.index].set(Body::Mapping(n));
            }
        }
        for at in look.found.iter().rev() {
            if !(keep_base && *at == base) {
                self.section_mut(at.section).slots.remove(at.index);
            }
        }
        Ok(Applied {
            changed: true,
            notes,
        })
    }
    fn section_mut(&mut self, name: SectionName) -> &mut Section {
        match name {
            SectionName::MapRoles => &mut self.roles,
            SectionName::MapUsers => &mut self.users,
            SectionName::MapAccounts => &mut self.accounts,
        }
    }

    fn check_last_admin(&self, removed: usize, added: usize, arn: &str) -> Result<(), Refusal> {
        let before = self.admin_count();
        if before > 0 && before + added - removed.min(before + added) == 0 {
            return Err(Refusal {
                message: format!("refusing to change {arn}: it holds the last `{MASTERS}` mapping in aws-auth, and without it nobody can administer the cluster through aws-auth"),
                hint: "grant `system:masters` to another principal first, or pass #{force: true} as the last argument if the cluster creator or an access entry still has admin access".into(),
            });
        }
        Ok(())
    }
}

impl Lookup {
    /// The entry a change builds on: the one the authenticator uses, else the last in the
    /// principal's own section (a dead path entry to repair), else the last found.
    pub fn base(&self, kind: PrincipalKind) -> Option<At> {
        self.used
            .or_else(|| {
                self.found
                    .iter()
                    .rev()
                    .find(|a| a.section == home(kind))
                    .copied()
            })
            .or_else(|| self.found.last().copied())
    }
}

/// The section a principal of `kind` belongs in.
pub fn home(kind: PrincipalKind) -> SectionName {
    match kind {
        PrincipalKind::Role => SectionName::MapRoles,
        PrincipalKind::User => SectionName::MapUsers,
    }
}

/// The section a data key was probably meant to be when it differs from one only in case.
pub fn stray_section(key: &str) -> Option<SectionName> {
    SectionName::ALL
        .into_iter()
        .find(|n| n.key() != key && n.key().eq_ignore_ascii_case(key))
}

fn default_username(kind: PrincipalKind, arn: &str) -> Option<String> {
    let p = arn::parse_principal(arn).ok()?;
    Some(match kind {
        PrincipalKind::Role => format!("{}:{{{{SessionName}}}}", p.name),
        PrincipalKind::User => p.name,
    })
}

fn stray_refusal(stray: &StrayKey) -> Refusal {
    let key = stray.section.key();
    Refusal {
        message: format!(
            "refusing to write `{key}`: the data key `{}`{} differs from it only in case; the authenticator reads data keys case-sensitively and never reads `{}`, and writing `{key}` beside it would leave two lists that look like one",
            stray.key,
            stray.line.map_or(String::new(), |l| format!(" (line {l})")),
            stray.key
        ),
        hint: format!(
            "did you mean {key}? rename `{}` to `{key}` (merging the lists by hand), or pass #{{force: true}} to write `{key}` beside it anyway",
            stray.key
        ),
    }
}

fn view(m: &Mapping) -> MappingView {
    MappingView {
        kind: m.kind.word(),
        arn: m.arn.clone(),
        username: m.username.clone().unwrap_or_default(),
        groups: m.groups.clone(),
        account: match arn::canonical_parts(&m.arn) {
            Some((_, account)) => account.to_string(),
            None => arn::parse_principal(&m.arn)
                .map(|p| p.account)
                .unwrap_or_default(),
        },
        shadowed: false,
        source: "aws-auth",
        entry_type: String::new(),
        policies: policy_items(m)
            .iter()
            .map(|i| {
                let (arn, ns) = parse_policy_item(i);
                PolicyView::new(&arn, ns)
            })
            .collect(),
    }
}

fn node_refusal(verb: &str, node: &Mapping) -> Refusal {
    Refusal {
        message: format!(
            "refusing to {verb} {}: it is a node or Fargate role (groups include `system:nodes`), and changing it takes the cluster's nodes down",
            node.arn
        ),
        hint: "node roles belong to EKS and node-group tools; pass #{force: true} as the last argument only if you are replacing the node group".into(),
    }
}
