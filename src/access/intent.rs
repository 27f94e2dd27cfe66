//! What a script asked for: validated, canonical intents that can be replayed on any later
//! state of aws-auth (after a conflict) and give the same end state. Pure: no I/O.

use super::arn::{self, ArnError, PrincipalKind};
use super::entry::{check_name, Field, Mapping, NameError, MASTERS};

/// One change a script asked for. ARNs are canonical; names and groups are validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// Ensure one entry for the principal with at least these groups (and this username).
    Grant {
        /// Role or user.
        kind: PrincipalKind,
        /// Canonical ARN (role paths stripped).
        arn: String,
        /// Groups to have (union with what is there).
        groups: Vec<String>,
        /// Username to set; `None` keeps the existing one or uses the default for new roles.
        username: Option<String>,
        /// Whether `groups` is the whole list (extra groups are removed; none removes the
        /// entry), so that a re-run detects drift.
        exact: bool,
        /// Whether guards may be passed.
        force: bool,
    },
    /// Remove the principal's entries, or only some of its groups.
    Revoke {
        /// Role or user.
        kind: PrincipalKind,
        /// Canonical ARN.
        arn: String,
        /// `None` removes every entry for the principal; `Some` removes only these groups.
        groups: Option<Vec<String>>,
        /// Whether guards may be passed.
        force: bool,
    },
    /// A team: exactly these principals of `kind` hold `group`. Listed ones get it (new
    /// entries as a grant makes them); unlisted ones lose it, and their entry when it was
    /// their last group.
    Members {
        /// Role or user: principals of the other kind are left alone.
        kind: PrincipalKind,
        /// The team's Kubernetes group.
        group: String,
        /// Canonical ARNs of the members, without repeats.
        members: Vec<String>,
        /// Whether guards may be passed.
        force: bool,
    },
    /// Associate an access policy at a scope with the principal's access entry, or take it
    /// away (`namespaces: None`). Only access entries hold policies.
    Policy {
        /// Role or user.
        kind: PrincipalKind,
        /// Canonical ARN.
        arn: String,
        /// The policy ARN.
        policy_arn: String,
        /// `Some([])`: cluster scope; `Some(list)`: these namespaces; `None`: revoke.
        namespaces: Option<Vec<String>>,
        /// Whether guards may be passed.
        force: bool,
    },
    /// Ensure a mapAccounts entry.
    GrantAccount {
        /// Twelve-digit account id.
        account: String,
        /// Whether guards may be passed.
        force: bool,
    },
    /// Remove a mapAccounts entry.
    RevokeAccount {
        /// Twelve-digit account id.
        account: String,
        /// Whether guards may be passed.
        force: bool,
    },
}

/// Why a requested change is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntentError {
    /// The ARN is unusable.
    #[error(transparent)]
    Arn(#[from] ArnError),
    /// A username or group is unusable.
    #[error(transparent)]
    Name(#[from] NameError),
    /// An access policy or scope that is not well formed.
    #[error("{0}")]
    Policy(String),
    /// The account id is not twelve digits.
    #[error("`{0}` is not an AWS account id: it must be exactly 12 digits (quote it, so that leading zeros survive)")]
    Account(String),
}

/// A note to show the user about how an input was understood.
pub type Note = String;

fn check_groups(groups: &[String]) -> Result<Vec<String>, IntentError> {
    let mut out: Vec<String> = Vec::new();
    for g in groups {
        check_name("group", g)?;
        if !out.contains(g) {
            out.push(g.clone());
        }
    }
    Ok(out)
}

/// The canonical ARN of a principal of `kind`, with a note when it was rewritten.
pub fn canonical(kind: PrincipalKind, text: &str) -> Result<(String, Option<Note>), IntentError> {
    match kind {
        PrincipalKind::Role => {
            let r = arn::role_arn(text)?;
            let note = if let Some(path) = &r.stripped_path {
                Some(format!(
                    "`{}` has the path `{path}`; EKS never matches a role ARN with a path, so okscript maps `{}`",
                    text.trim(),
                    r.arn
                ))
            } else {
                r.from_session.as_ref().map(|s| {
                    format!(
                        "`{}` is an STS session (`{s}`); okscript maps its role `{}`",
                        text.trim(),
                        r.arn
                    )
                })
            };
            Ok((r.arn, note))
        }
        PrincipalKind::User => Ok((arn::user_arn(text)?.canonical(), None)),
    }
}

impl Intent {
    /// Whether the intent may pass guards.
    pub fn force(&self) -> bool {
        match self {
            Intent::Grant { force, .. }
            | Intent::Revoke { force, .. }
            | Intent::Members { force, .. }
            | Intent::Policy { force, .. }
            | Intent::GrantAccount { force, .. }
            | Intent::RevokeAccount { force, .. } => *force,
        }
    }

    /// A grant for a role (`username` optional) or a user (`username` required by the API).
    pub fn grant(
        kind: PrincipalKind,
        arn_text: &str,
        groups: &[String],
        username: Option<&str>,
        force: bool,
    ) -> Result<(Intent, Option<Note>), IntentError> {
        Intent::grant_with(kind, arn_text, groups, username, false, force)
    }

    /// A grant that is `exact` or not: an exact one states the principal's whole group list.
    pub fn grant_with(
        kind: PrincipalKind,
        arn_text: &str,
        groups: &[String],
        username: Option<&str>,
        exact: bool,
        force: bool,
    ) -> Result<(Intent, Option<Note>), IntentError> {
        let (arn, note) = canonical(kind, arn_text)?;
        if let Some(u) = username {
            check_name("username", u)?;
        }
        Ok((
            Intent::Grant {
                kind,
                arn,
                groups: check_groups(groups)?,
                username: username.map(str::to_string),
                exact,
                force,
            },
            note,
        ))
    }

    /// The team form: exactly `members` (ARNs of `kind`) hold `group`; notes say how ARNs
    /// were made canonical.
    pub fn members(
        kind: PrincipalKind,
        group: &str,
        members: &[String],
        force: bool,
    ) -> Result<(Intent, Vec<Note>), IntentError> {
        check_name("group", group)?;
        let mut arns: Vec<String> = Vec::new();
        let mut notes = Vec::new();
        for text in members {
            let (arn, note) = canonical(kind, text)?;
            notes.extend(note);
            if !arns
                .iter()
                .any(|a| arn::match_key(a) == arn::match_key(&arn))
            {
                arns.push(arn);
            }
        }
        Ok((
            Intent::Members {
                kind,
                group: group.to_string(),
                members: arns,
                force,
            },
            notes,
        ))
    }

    /// A revoke of every entry for a principal, or of some groups only.
    pub fn revoke(
        kind: PrincipalKind,
        arn_text: &str,
        groups: Option<&[String]>,
        force: bool,
    ) -> Result<(Intent, Option<Note>), IntentError> {
        let (arn, note) = canonical(kind, arn_text)?;
        let groups = groups.map(check_groups).transpose()?;
        Ok((
            Intent::Revoke {
                kind,
                arn,
                groups,
                force,
            },
            note,
        ))
    }

    /// An access policy grant (`namespaces`: `Some([])` for cluster scope) or revoke (`None`).
    /// `policy`: a short name (`View`), a full name (`AmazonEKSViewPolicy`) or an ARN.
    pub fn policy(
        kind: PrincipalKind,
        arn_text: &str,
        policy: &str,
        namespaces: Option<Vec<String>>,
        force: bool,
    ) -> Result<(Intent, Option<Note>), IntentError> {
        let (arn, note) = canonical(kind, arn_text)?;
        let policy_arn = policy_arn(policy)?;
        if let Some(ns) = &namespaces {
            for n in ns {
                check_namespace(n)?;
            }
        }
        let namespaces = namespaces.map(|mut ns| {
            ns.sort();
            ns.dedup();
            ns
        });
        // ClusterAdmin at cluster scope is `system:masters`, the one form both mechanisms
        // know (and the one the last-admin guard counts).
        let admin = policy_arn == CLUSTER_ADMIN_POLICY;
        let intent = match namespaces {
            Some(ns) if admin && ns.is_empty() => Intent::Grant {
                kind,
                arn,
                groups: vec![MASTERS.to_string()],
                username: None,
                exact: false,
                force,
            },
            None if admin => Intent::Revoke {
                kind,
                arn,
                groups: Some(vec![MASTERS.to_string()]),
                force,
            },
            namespaces => Intent::Policy {
                kind,
                arn,
                policy_arn,
                namespaces,
                force,
            },
        };
        Ok((intent, note))
    }

    /// A mapAccounts grant or revoke.
    pub fn account(account: &str, grant: bool, force: bool) -> Result<Intent, IntentError> {
        let account = account.trim();
        if !arn::is_account_id(account) {
            return Err(IntentError::Account(account.to_string()));
        }
        let account = account.to_string();
        Ok(if grant {
            Intent::GrantAccount { account, force }
        } else {
            Intent::RevokeAccount { account, force }
        })
    }
}

/// The policy that stands for `system:masters` (cluster-admin).
pub const CLUSTER_ADMIN_POLICY: &str =
    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/// Where EKS keeps its access policies: `PREFIX` + `AmazonEKS<Short>Policy`.
pub const POLICY_ARN_PREFIX: &str = "arn:aws:eks::aws:cluster-access-policy/";

/// The key under which a projected access-entry row keeps its policies (other than
/// ClusterAdmin at cluster scope, which is `system:masters`): a list of [`policy_item`]s.
pub const POLICIES_KEY: &str = "accessPolicies";

/// The ARN a policy name stands for: `View` → `…/AmazonEKSViewPolicy`, `AmazonEKSViewPolicy`
/// → the same, an ARN as it is. Whether EKS has it is for ListAccessPolicies to say.
pub fn policy_arn(text: &str) -> Result<String, IntentError> {
    let t = text.trim();
    let ok = |c: char| c.is_ascii_alphanumeric();
    if t.starts_with("arn:") {
        return if t.contains(":cluster-access-policy/") {
            Ok(t.to_string())
        } else {
            Err(IntentError::Policy(format!("`{t}` is not an EKS access policy ARN (arn:aws:eks::aws:cluster-access-policy/NAME)")))
        };
    }
    if t.is_empty() || !t.chars().all(ok) {
        return Err(IntentError::Policy(format!(
            "`{t}` is not an access policy: use a short name (ClusterAdmin, Admin, Edit, View, AdminView), a full name (AmazonEKSViewPolicy) or an ARN"
        )));
    }
    let name = if t.starts_with("AmazonEKS") && t.ends_with("Policy") {
        t.to_string()
    } else {
        format!("AmazonEKS{t}Policy")
    };
    Ok(format!("{POLICY_ARN_PREFIX}{name}"))
}

/// Checks a namespace of a policy scope: a Kubernetes name, optionally ending in `*`.
fn check_namespace(ns: &str) -> Result<(), IntentError> {
    let body = ns.strip_suffix('*').unwrap_or(ns);
    let good = !ns.is_empty()
        && ns.len() <= 63
        && body
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !body.starts_with('-');
    if good {
        Ok(())
    } else {
        Err(IntentError::Policy(format!(
            "`{ns}` is not a namespace: lower-case letters, digits and `-`, with an optional `*` at the end (`team-*`)"
        )))
    }
}

/// How a projected row keeps one policy association: the ARN, then ` namespaces=a,b` for a
/// namespace scope.
pub fn policy_item(policy_arn: &str, namespaces: &[String]) -> String {
    if namespaces.is_empty() {
        policy_arn.to_string()
    } else {
        format!("{policy_arn} namespaces={}", namespaces.join(","))
    }
}

/// The ARN and namespaces (empty: cluster scope) of a [`policy_item`].
pub fn parse_policy_item(item: &str) -> (String, Vec<String>) {
    match item.split_once(" namespaces=") {
        Some((arn, ns)) => (
            arn.to_string(),
            ns.split(',')
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        None => (item.to_string(), Vec::new()),
    }
}

/// One access policy of an entry, as scripts see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PolicyView {
    /// The short name, e.g. `AmazonEKSViewPolicy`.
    pub name: String,
    /// The policy ARN.
    pub arn: String,
    /// `cluster` or `namespace`.
    pub scope: String,
    /// The namespaces of a namespace scope.
    pub namespaces: Vec<String>,
}

impl PolicyView {
    /// The view of a policy association.
    pub fn new(arn: &str, namespaces: Vec<String>) -> PolicyView {
        PolicyView {
            name: arn.rsplit('/').next().unwrap_or(arn).to_string(),
            arn: arn.to_string(),
            scope: if namespaces.is_empty() {
                "cluster"
            } else {
                "namespace"
            }
            .into(),
            namespaces,
        }
    }
}

/// The policy items a projected access-entry row keeps under [`POLICIES_KEY`].
pub fn policy_items(m: &Mapping) -> Vec<String> {
    m.extra
        .iter()
        .find(|(k, _)| k == POLICIES_KEY)
        .and_then(|(_, v)| serde_json::from_str(v).ok())
        .unwrap_or_default()
}

/// Sets a row's policy items; none removes the key.
pub fn set_policy_items(m: &mut Mapping, items: &[String]) {
    let at = m.extra.iter().position(|(k, _)| k == POLICIES_KEY);
    match (at, items.is_empty()) {
        (Some(i), true) => {
            m.extra.remove(i);
            m.order.retain(|f| *f != Field::Extra(i));
            for f in &mut m.order {
                if let Field::Extra(j) = f {
                    if *j > i {
                        *j -= 1;
                    }
                }
            }
        }
        (Some(i), false) => m.extra[i].1 = serde_json::to_string(items).unwrap_or_default(),
        (None, true) => {}
        (None, false) => {
            m.order.push(Field::Extra(m.extra.len()));
            m.extra.push((
                POLICIES_KEY.to_string(),
                serde_json::to_string(items).unwrap_or_default(),
            ));
        }
    }
}

#[cfg(test)]
mod policy_tests {
    use super::*;

    #[test]
    fn policy_names_become_arns_and_items_round_trip() {
        let view = format!("{POLICY_ARN_PREFIX}AmazonEKSViewPolicy");
        assert_eq!(policy_arn("View").unwrap(), view);
        assert_eq!(policy_arn("AmazonEKSViewPolicy").unwrap(), view);
        assert_eq!(policy_arn(&view).unwrap(), view);
        assert!(policy_arn("arn:aws:iam::aws:policy/ReadOnly").is_err());
        assert!(policy_arn("View Policy").is_err());
        let ns = vec!["dev".to_string(), "team-*".to_string()];
        assert_eq!(
            parse_policy_item(&policy_item(&view, &ns)),
            (view.clone(), ns)
        );
        assert_eq!(parse_policy_item(&policy_item(&view, &[])), (view, vec![]));
        assert!(check_namespace("team-*").is_ok());
        for bad in ["", "Team", "a*b", "-x", "a b"] {
            assert!(check_namespace(bad).is_err(), "{bad}");
        }
    }
}
