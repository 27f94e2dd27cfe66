//! Joining the chain: each mapping back to the principals that reach it (Identity Center
//! users and groups through their permission set's role, the same-account principals a role
//! trusts, IAM users themselves), with dead and shadowed mappings flagged.

use std::collections::BTreeMap;

use crate::access::arn;
use crate::access::model::MappingView;
use crate::aws::parse_sso_role_name;

use super::{
    classify, Facts, Gap, Hop, Iam, IamRole, IdentityCenter, Mapping, Policy, Report, Row, Visible,
    SCHEMA_VERSION,
};

/// What the joiner looks principals up in.
struct Lookup<'a> {
    account: &'a str,
    /// Roles by their match key (path-less, lower-cased).
    roles: Option<BTreeMap<String, &'a IamRole>>,
    /// Users by lower-cased ARN.
    users: Option<Vec<String>>,
    ic: Option<&'a IdentityCenter>,
    /// Access entries' creation times by their principal's match key.
    entries_created: BTreeMap<String, f64>,
}

/// The report of one cluster from its facts.
pub fn build(facts: &Facts) -> Report {
    let mut not_visible = facts.gaps.clone();
    let iam: Option<&Iam> = seen(&facts.iam, &mut not_visible);
    let ic = seen(&facts.identity_center, &mut not_visible);
    let look = Lookup {
        account: &facts.account,
        roles: iam.map(|i| {
            i.roles
                .iter()
                .map(|r| (arn::match_key(&r.arn), r))
                .collect()
        }),
        users: iam.map(|i| i.users.iter().map(|u| u.to_ascii_lowercase()).collect()),
        ic,
        entries_created: facts
            .entries_created
            .iter()
            .map(|(a, t)| (arn::match_key(a), *t))
            .collect(),
    };
    let api_only = facts.mode.as_deref() == Some("API");
    let mut rows = Vec::new();
    for view in &facts.mappings {
        let mapping = mapping_of(view);
        let (access, custom_groups) = classify(&mapping);
        let dead = look.dead(view);
        let shadowed = view.source == "aws-auth" && view.shadowed;
        let ignored = api_only && view.source == "aws-auth";
        let tail = mapping_hop(view);
        for (mut path, notes) in look.reaching(view) {
            path.push(tail.clone());
            let mut notes = notes;
            if shadowed {
                notes.push(
                    "shadowed: an access entry for this principal wins, EKS ignores the row".into(),
                );
            }
            if ignored {
                notes.push("authenticationMode API: EKS ignores aws-auth".into());
            }
            rows.push(Row {
                access,
                custom_groups: custom_groups.clone(),
                principal: path[0].name.clone(),
                principal_kind: path[0].kind.clone(),
                path,
                mapping: mapping.clone(),
                effective: dead.is_none() && !shadowed && !ignored,
                shadowed,
                dead: dead.clone(),
                notes,
            });
        }
    }
    rows.sort_by(|a, b| {
        (!a.effective, a.access, &a.principal, a.key()).cmp(&(
            !b.effective,
            b.access,
            &b.principal,
            b.key(),
        ))
    });
    rows.dedup_by(|a, b| a.key() == b.key() && a.mapping == b.mapping);
    Report {
        schema_version: SCHEMA_VERSION,
        cluster: facts.cluster.clone(),
        account: facts.account.clone(),
        region: facts.region.clone(),
        authentication_mode: facts.mode.clone().unwrap_or_else(|| "unknown".into()),
        partial: !not_visible.is_empty(),
        not_visible,
        identity_center: ic.map(|i| i.instance_arn.clone()),
        rows,
    }
}

fn seen<'a, T>(v: &'a Visible<T>, gaps: &mut Vec<Gap>) -> Option<&'a T> {
    match v {
        Visible::Seen(t) => Some(t),
        Visible::Hidden(g) => {
            gaps.push(g.clone());
            None
        }
    }
}

fn mapping_of(v: &MappingView) -> Mapping {
    Mapping {
        source: v.source.to_string(),
        kind: v.kind.to_string(),
        arn: if v.kind == "account" {
            v.account.clone()
        } else {
            v.arn.clone()
        },
        username: v.username.clone(),
        groups: v.groups.clone(),
        policies: v
            .policies
            .iter()
            .map(|p| Policy {
                name: p.name.clone(),
                scope: p.scope.clone(),
                namespaces: p.namespaces.clone(),
            })
            .collect(),
        entry_type: v.entry_type.clone(),
    }
}

/// The last hop: the aws-auth section or the access entry.
fn mapping_hop(v: &MappingView) -> Hop {
    match (v.source, v.kind) {
        ("access-entry", _) => Hop::new("access-entry", "access entry"),
        (_, "role") => Hop::new("aws-auth", "aws-auth mapRoles"),
        (_, "user") => Hop::new("aws-auth", "aws-auth mapUsers"),
        _ => Hop::new("aws-auth", "aws-auth mapAccounts"),
    }
}

/// `every principal of account A`, the principal of a mapAccounts row.
pub(super) fn every_principal(account: &str) -> String {
    format!("every principal of account {account}")
}

/// The ARN of a role without its path (as aws-auth and the report name roles).
fn role_name_arn(text: &str) -> String {
    arn::role_without_path(text).unwrap_or_else(|_| text.to_string())
}

fn account_of(text: &str) -> Option<String> {
    arn::split(text).ok().map(|p| p.account.to_string())
}

impl Lookup<'_> {
    /// Why a mapping admits nobody, when it does not.
    fn dead(&self, v: &MappingView) -> Option<String> {
        if v.kind == "account" || v.arn.is_empty() {
            return None;
        }
        if v.source == "aws-auth" && v.kind == "role" {
            if let Ok(p) = arn::parse_principal(&v.arn) {
                if p.has_role_path() {
                    return Some(format!(
                        "the rolearn has a path, which the authenticator never matches (STS shows none): map {} instead",
                        role_name_arn(&v.arn)
                    ));
                }
            }
        }
        if account_of(&v.arn).as_deref() != Some(self.account) {
            return None;
        }
        match v.kind {
            "role" => {
                let roles = self.roles.as_ref()?;
                let key = arn::match_key(&v.arn);
                if let Some(role) = roles.get(&key) {
                    let entry = self
                        .entries_created
                        .get(&key)
                        .filter(|_| v.source == "access-entry");
                    return match (role.created, entry) {
                        (Some(role_made), Some(entry_made)) if role_made > *entry_made => Some(format!(
                            "role {} was created after its access entry (deleted and recreated?): the entry holds the old role's unique ID and admits nobody; delete the entry and create it again",
                            role_name_arn(&v.arn)
                        )),
                        _ => None,
                    };
                }
                let name = role_name_arn(&v.arn);
                let short = name.rsplit('/').next().unwrap_or(&name).to_string();
                Some(match parse_sso_role_name(&short) {
                    Some((set, _)) => {
                        let now = roles.values().find(|r| {
                            let n = r.arn.rsplit('/').next().unwrap_or("");
                            parse_sso_role_name(n).is_some_and(|(s, _)| s == set)
                        });
                        let mut why = format!(
                            "role {short} does not exist in IAM: permission set {set} is no longer provisioned in account {}, or was re-provisioned with a new suffix",
                            self.account
                        );
                        if let Some(r) = now {
                            why.push_str(&format!("; its role is now {}", role_name_arn(&r.arn)));
                        }
                        why
                    }
                    None => format!("role {short} does not exist in IAM (deleted?)"),
                })
            }
            "user" => {
                let users = self.users.as_ref()?;
                let key = v.arn.to_ascii_lowercase();
                (!users.contains(&key))
                    .then(|| format!("IAM user {} does not exist (deleted?)", v.arn))
            }
            _ => None,
        }
    }

    /// Every path that reaches the mapping's principal, each without the mapping's own hop,
    /// with notes about it.
    fn reaching(&self, v: &MappingView) -> Vec<(Vec<Hop>, Vec<String>)> {
        match v.kind {
            "account" => vec![(
                vec![Hop::new("account", every_principal(&v.account))],
                vec![],
            )],
            "user" => vec![(vec![Hop::new("iam-user", v.arn.clone())], vec![])],
            _ => self.reaching_role(&role_name_arn(&v.arn)),
        }
    }

    fn reaching_role(&self, role: &str) -> Vec<(Vec<Hop>, Vec<String>)> {
        let hop = Hop::new("iam-role", role.to_string());
        let short = role.rsplit('/').next().unwrap_or(role);
        if let Some((set, _)) = parse_sso_role_name(short) {
            return self.reaching_sso(set, hop);
        }
        let Some(found) = self
            .roles
            .as_ref()
            .and_then(|r| r.get(&arn::match_key(role)))
        else {
            return vec![(vec![hop], vec![])];
        };
        let mut out = Vec::new();
        let mut others = Vec::new();
        for t in &found.trusted {
            let same = account_of(t).as_deref() == Some(self.account);
            if t == self.account || (same && t.ends_with(":root")) {
                out.push((
                    vec![
                        Hop::new(
                            "account",
                            format!(
                                "{} that IAM allows to assume it",
                                every_principal(self.account)
                            ),
                        ),
                        hop.clone(),
                    ],
                    vec![],
                ));
            } else if same && t.contains(":user/") {
                out.push((vec![Hop::new("iam-user", t.clone()), hop.clone()], vec![]));
            } else if same && t.contains(":role/") {
                out.push((
                    vec![Hop::new("iam-role", role_name_arn(t)), hop.clone()],
                    vec![],
                ));
            } else {
                others.push(t.clone());
            }
        }
        if out.is_empty() {
            let notes = others.iter().map(|o| format!("assumable by {o}")).collect();
            out.push((vec![hop], notes));
        }
        out
    }

    fn reaching_sso(&self, set: &str, role: Hop) -> Vec<(Vec<Hop>, Vec<String>)> {
        let ps = Hop::new("permission-set", set.to_string());
        let Some(ic) = self.ic else {
            return vec![(
                vec![ps, role],
                vec![format!(
                    "who holds permission set {set} is not visible: Identity Center could not be read"
                )],
            )];
        };
        let user_name = |id: &str| {
            ic.users
                .iter()
                .find(|(i, _)| i == id)
                .map(|(_, n)| n.clone())
                .unwrap_or_else(|| format!("user {id}"))
        };
        let mut out = Vec::new();
        for a in ic.assignments.iter().filter(|a| a.permission_set == set) {
            if a.principal_type == "USER" {
                let who = Hop::new("sso-user", user_name(&a.principal_id));
                out.push((vec![who, ps.clone(), role.clone()], vec![]));
                continue;
            }
            let Some((_, group, members)) = ic.groups.iter().find(|g| g.0 == a.principal_id) else {
                let g = Hop::new("sso-group", format!("group {}", a.principal_id));
                out.push((vec![g, ps.clone(), role.clone()], vec![]));
                continue;
            };
            let g = Hop::new("sso-group", group.clone());
            if members.is_empty() {
                out.push((
                    vec![g.clone(), ps.clone(), role.clone()],
                    vec!["the group has no members".into()],
                ));
            }
            for m in members {
                let who = Hop::new("sso-user", user_name(m));
                out.push((vec![who, g.clone(), ps.clone(), role.clone()], vec![]));
            }
        }
        if out.is_empty() {
            out.push((
                vec![ps, role],
                vec![format!(
                    "permission set {set} has no assignment on this account in Identity Center"
                )],
            ));
        }
        out
    }
}
