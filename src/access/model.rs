//! The whole aws-auth access model: three sections, the rules for applying intents
//! (duplicates collapse to the entry the authenticator uses) and the guards that stop a
//! script from locking people out. Pure: no I/O.

use super::arn::{self, PrincipalKind};
use super::entry::{union_groups, Mapping, MASTERS};
use super::intent::{Intent, Note};
use super::section::{Body, Section, SectionError, SectionName, Slot};

/// The three data sections of an aws-auth ConfigMap.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsAuth {
    /// `mapRoles`.
    pub roles: Section,
    /// `mapUsers`.
    pub users: Section,
    /// `mapAccounts`.
    pub accounts: Section,
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
}

impl AwsAuth {
    /// An aws-auth with no sections.
    pub fn empty() -> AwsAuth {
        AwsAuth {
            roles: Section::absent(SectionName::MapRoles),
            users: Section::absent(SectionName::MapUsers),
            accounts: Section::absent(SectionName::MapAccounts),
        }
    }

    /// Parses the three sections from the ConfigMap's data strings (`None` when absent).
    pub fn parse(
        roles: Option<&str>,
        users: Option<&str>,
        accounts: Option<&str>,
    ) -> Result<AwsAuth, SectionError> {
        let one = |name, text: Option<&str>| match text {
            Some(t) => Section::parse(name, t),
            None => Ok(Section::absent(name)),
        };
        Ok(AwsAuth {
            roles: one(SectionName::MapRoles, roles)?,
            users: one(SectionName::MapUsers, users)?,
            accounts: one(SectionName::MapAccounts, accounts)?,
        })
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
                    },
                });
            }
        }
        out
    }

    /// The entry the authenticator uses for a principal (the last that matches), if any.
    pub fn find(&self, kind: PrincipalKind, arn: &str) -> Option<MappingView> {
        let key = arn::match_key(arn);
        let section = match kind {
            PrincipalKind::Role => &self.roles,
            PrincipalKind::User => &self.users,
        };
        section
            .slots
            .iter()
            .rev()
            .find(|s| s.key == key)
            .and_then(|s| match &s.body {
                Body::Mapping(m) => Some(view(m)),
                Body::Account(_) => None,
            })
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
        match intent {
            Intent::Grant {
                kind,
                arn,
                groups,
                username,
                force,
            } => self.grant(*kind, arn, groups, username.as_deref(), *force),
            Intent::Revoke {
                kind,
                arn,
                groups,
                force,
            } => self.revoke(*kind, arn, groups.as_deref(), *force, protected),
            Intent::GrantAccount { account } => {
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
            Intent::RevokeAccount { account } => {
                let s = &mut self.accounts;
                let before = s.slots.len();
                s.slots
                    .retain(|slot| !matches!(&slot.body, Body::Account(a) if a == account));
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

    /// Indexes of every entry the authenticator would treat as this principal, and the one
    /// it actually uses: the last whose ARN it can match (one without a role path).
    fn matches(&mut self, kind: PrincipalKind, arn: &str) -> (Vec<usize>, Option<usize>) {
        let key = arn::match_key(arn);
        let section = self.mapping_section(kind);
        let found: Vec<usize> = section
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.key == key)
            .map(|(i, _)| i)
            .collect();
        let effective = found
            .iter()
            .rev()
            .find(|i| matches!(&section.slots[**i].body, Body::Mapping(m) if !m.has_role_path()))
            .or(found.last())
            .copied();
        (found, effective)
    }

    fn grant(
        &mut self,
        kind: PrincipalKind,
        arn: &str,
        groups: &[String],
        username: Option<&str>,
        force: bool,
    ) -> Result<Applied, Refusal> {
        let (found, effective) = self.matches(kind, arn);
        let Some(eff) = effective else {
            let default_user = match kind {
                PrincipalKind::Role => arn::parse_principal(arn)
                    .ok()
                    .map(|p| format!("{}:{{{{SessionName}}}}", p.name)),
                PrincipalKind::User => None,
            };
            let username = username.map(str::to_string).or(default_user);
            let mapping = Mapping::new(kind, arn, username.as_deref(), groups);
            self.mapping_section(kind)
                .slots
                .push(Slot::new(Body::Mapping(mapping)));
            return Ok(Applied {
                changed: true,
                notes: Vec::new(),
            });
        };
        let old = self.mapping_at(kind, eff).clone();
        let mut new = old.clone();
        union_groups(&mut new.groups, groups);
        if !new.groups.is_empty() {
            new.has_groups_key = true;
        }
        if let Some(u) = username {
            new.username = Some(u.to_string());
        }
        if old.has_role_path() {
            new.arn = arn.to_string();
        }
        self.rewrite(kind, &found, eff, old, new, force, "grant to")
    }

    fn revoke(
        &mut self,
        kind: PrincipalKind,
        arn: &str,
        groups: Option<&[String]>,
        force: bool,
        protected: &Protected,
    ) -> Result<Applied, Refusal> {
        let (found, effective) = self.matches(kind, arn);
        let Some(eff) = effective else {
            return Ok(Applied {
                changed: false,
                notes: vec![format!(
                    "{arn} is not in map{}s; nothing to revoke",
                    capitalised(kind.word())
                )],
            });
        };
        let old = self.mapping_at(kind, eff).clone();
        if !force && protected.keys.contains(&arn::match_key(arn)) {
            let would_change = match groups {
                None => true,
                Some(gs) => old.groups.iter().any(|g| gs.contains(g)),
            };
            if would_change {
                return Err(Refusal {
                    message: format!("refusing to revoke access of {arn}: that is who this script is logged in as, so it would lock itself out"),
                    hint: "pass #{force: true} as the last argument if another admin can still reach the cluster".into(),
                });
            }
        }
        match groups {
            Some(gs) => {
                let mut new = old.clone();
                new.groups.retain(|g| !gs.contains(g));
                self.rewrite(kind, &found, eff, old, new, force, "revoke groups of")
            }
            None => {
                let entries: Vec<Mapping> = found
                    .iter()
                    .map(|i| self.mapping_at(kind, *i).clone())
                    .collect();
                if !force {
                    if let Some(node) = entries.iter().find(|m| m.is_node_role()) {
                        return Err(node_refusal("remove", node));
                    }
                    let admins_removed = entries.iter().filter(|m| m.is_admin()).count();
                    self.check_last_admin(admins_removed, 0, arn)?;
                }
                let section = self.mapping_section(kind);
                for i in found.iter().rev() {
                    section.slots.remove(*i);
                }
                let mut notes = Vec::new();
                if found.len() > 1 {
                    notes.push(format!("removed all {} entries for {arn}", found.len()));
                }
                Ok(Applied {
                    changed: true,
                    notes,
                })
            }
        }
    }

    fn mapping_at(&mut self, kind: PrincipalKind, i: usize) -> &Mapping {
        match &self.mapping_section(kind).slots[i].body {
            Body::Mapping(m) => m,
            Body::Account(_) => unreachable!("mapping sections hold mappings"),
        }
    }

    /// Replaces every entry for a principal with `new`, standing where the used one stood.
    #[allow(clippy::too_many_arguments)]
    fn rewrite(
        &mut self,
        kind: PrincipalKind,
        found: &[usize],
        eff: usize,
        old: Mapping,
        new: Mapping,
        force: bool,
        verb: &str,
    ) -> Result<Applied, Refusal> {
        let collapse = found.len() > 1;
        if !collapse && new == old {
            return Ok(Applied::default());
        }
        let entries: Vec<Mapping> = found
            .iter()
            .map(|i| self.mapping_at(kind, *i).clone())
            .collect();
        if !force {
            if let Some(node) = entries.iter().find(|m| m.is_node_role()) {
                return Err(node_refusal(verb, node));
            }
            let admins_removed = entries.iter().filter(|m| m.is_admin()).count();
            self.check_last_admin(admins_removed, usize::from(new.is_admin()), &new.arn)?;
        }
        let section = self.mapping_section(kind);
        let mut notes = Vec::new();
        if collapse {
            let lines: Vec<String> = found
                .iter()
                .filter_map(|i| section.slots[*i].line.map(|l| l.to_string()))
                .collect();
            notes.push(format!(
                "{} had {} entries for {} (lines {}); the authenticator uses only the last, so okscript kept that one and removed the others",
                section.name.key(),
                found.len(),
                new.arn,
                lines.join(", ")
            ));
        }
        if old.has_role_path() && !new.has_role_path() {
            notes.push(format!(
                "rewrote `{}` without its path, so that the authenticator can match it",
                old.arn
            ));
        }
        let slot = &mut section.slots[eff];
        if new != old {
            slot.set(Body::Mapping(new));
        }
        for i in found.iter().rev() {
            if *i != eff {
                section.slots.remove(*i);
            }
        }
        Ok(Applied {
            changed: true,
            notes,
        })
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

fn view(m: &Mapping) -> MappingView {
    MappingView {
        kind: m.kind.word(),
        arn: m.arn.clone(),
        username: m.username.clone().unwrap_or_default(),
        groups: m.groups.clone(),
        account: arn::parse_principal(&m.arn)
            .map(|p| p.account)
            .unwrap_or_default(),
        shadowed: false,
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

fn capitalised(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}
