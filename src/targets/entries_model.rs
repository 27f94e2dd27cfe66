//! EKS access entries seen through the aws-auth model, and back. A read of the entries is
//! projected into an [`AwsAuth`] (each entry a mapRoles/mapUsers row), so that intents,
//! guards, the summary and `mappings()` are the aws-auth ones; the difference between two
//! projections becomes the minimal EKS calls. Pure: no I/O.
//!
//! The projection: a STANDARD entry is a row with its username and groups, plus
//! `system:masters` when AmazonEKSClusterAdminPolicy is associated at cluster scope. Node-like
//! entries (EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, EC2, HYBRID_LINUX) carry `system:nodes`, so
//! the node guard needs `force` to touch them. Role rows hold the path-less ARN (what intents
//! and the matching rule use); the entry's real ARN is kept beside it by match key.

use std::collections::BTreeMap;

use crate::access::arn::{self, PrincipalKind};
use crate::access::entry::{Mapping, MASTERS, NODES};
use crate::access::intent::{parse_policy_item, policy_item, POLICIES_KEY};
use crate::access::model::{policy_items, AwsAuth, Refusal};
use crate::access::section::Body;
use crate::aws::{AccessEntryInfo, PolicyAssociation, PolicyScope, CLUSTER_ADMIN_POLICY};

/// The username prefixes EKS refuses in an access entry.
pub const RESERVED_USERNAME_PREFIXES: [&str; 5] = ["system:", "eks:", "aws:", "amazon:", "iam:"];

/// The entries as read, projected.
#[derive(Debug, Clone)]
pub struct Projection {
    /// The entries as aws-auth rows.
    pub auth: AwsAuth,
    /// The entries as read, by the match key of their principal.
    pub entries: BTreeMap<String, AccessEntryInfo>,
}

/// One EKS write call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// CreateAccessEntry (STANDARD).
    Create {
        /// The principal's real ARN.
        arn: String,
        /// Kubernetes groups.
        groups: Vec<String>,
        /// Username (`None`: EKS's default).
        username: Option<String>,
    },
    /// UpdateAccessEntry; `None` leaves a field as it is.
    Update {
        /// The principal's real ARN.
        arn: String,
        /// The new group list.
        groups: Option<Vec<String>>,
        /// The new username.
        username: Option<String>,
    },
    /// DeleteAccessEntry.
    Delete {
        /// The principal's real ARN.
        arn: String,
    },
    /// AssociateAccessPolicy.
    Associate {
        /// The principal's real ARN.
        arn: String,
        /// The policy and its scope.
        policy: PolicyAssociation,
    },
    /// DisassociateAccessPolicy.
    Disassociate {
        /// The principal's real ARN.
        arn: String,
        /// The policy.
        policy_arn: String,
    },
}

impl Call {
    /// The principal the call is about.
    pub fn arn(&self) -> &str {
        match self {
            Call::Create { arn, .. }
            | Call::Update { arn, .. }
            | Call::Delete { arn }
            | Call::Associate { arn, .. }
            | Call::Disassociate { arn, .. } => arn,
        }
    }
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Call::Create {
                arn,
                groups,
                username,
            } => write!(
                f,
                "CreateAccessEntry {arn} (groups [{}]{})",
                groups.join(", "),
                username
                    .as_ref()
                    .map_or(String::new(), |u| format!(", username {u}"))
            ),
            Call::Update {
                arn,
                groups,
                username,
            } => write!(
                f,
                "UpdateAccessEntry {arn} ({})",
                [
                    groups
                        .as_ref()
                        .map(|g| format!("groups [{}]", g.join(", "))),
                    username.as_ref().map(|u| format!("username {u}")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ")
            ),
            Call::Delete { arn } => write!(f, "DeleteAccessEntry {arn}"),
            Call::Associate { arn, policy } => write!(
                f,
                "AssociateAccessPolicy {arn} {} ({})",
                policy.name(),
                policy.scope
            ),
            Call::Disassociate { arn, policy_arn } => write!(
                f,
                "DisassociateAccessPolicy {arn} {}",
                policy_arn.rsplit('/').next().unwrap_or(policy_arn)
            ),
        }
    }
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// The path-less ARN aws-auth rows and intents use for a principal's real ARN.
fn row_arn(kind: PrincipalKind, real: &str) -> String {
    match kind {
        PrincipalKind::Role => arn::role_arn(real).map_or_else(|_| real.to_string(), |r| r.arn),
        PrincipalKind::User => real.to_string(),
    }
}

fn namespaces(scope: &PolicyScope) -> Vec<String> {
    match scope {
        PolicyScope::Cluster => Vec::new(),
        PolicyScope::Namespaces(ns) => ns.clone(),
    }
}

/// The association a projected row's policy item stands for.
fn association(item: &str) -> PolicyAssociation {
    let (policy_arn, ns) = parse_policy_item(item);
    PolicyAssociation {
        policy_arn,
        scope: if ns.is_empty() {
            PolicyScope::Cluster
        } else {
            PolicyScope::Namespaces(ns)
        },
    }
}

/// The calls that make `arn`'s policies (other than ClusterAdmin at cluster scope) go from
/// the items `old` to `new`: associate what is new or rescoped, disassociate what went.
fn policy_calls(arn: &str, old: &[String], new: &[String]) -> Vec<Call> {
    let mut out = Vec::new();
    for item in new.iter().filter(|i| !old.contains(i)) {
        out.push(Call::Associate {
            arn: arn.to_string(),
            policy: association(item),
        });
    }
    let kept: Vec<String> = new.iter().map(|i| parse_policy_item(i).0).collect();
    for item in old {
        let policy_arn = parse_policy_item(item).0;
        if !kept.contains(&policy_arn) {
            out.push(Call::Disassociate {
                arn: arn.to_string(),
                policy_arn,
            });
        }
    }
    out
}

fn is_cluster_admin(p: &PolicyAssociation) -> bool {
    p.policy_arn == CLUSTER_ADMIN_POLICY && p.scope == PolicyScope::Cluster
}

/// Projects entries into aws-auth rows (see the module docs).
pub fn project(entries: &[AccessEntryInfo]) -> Projection {
    let mut sorted: Vec<&AccessEntryInfo> = entries.iter().collect();
    sorted.sort_by(|a, b| a.principal_arn.cmp(&b.principal_arn));
    let (mut roles, mut users) = (String::new(), String::new());
    let mut by_key = BTreeMap::new();
    for e in sorted {
        let Ok(p) = arn::parse_principal(&e.principal_arn) else {
            continue;
        };
        let mut groups = e.groups.clone();
        let username = e.username.clone();
        let items: Vec<String> = e
            .policies
            .iter()
            .filter(|p| e.kind == "STANDARD" && !is_cluster_admin(p))
            .map(|p| policy_item(&p.policy_arn, &namespaces(&p.scope)))
            .collect();
        if e.kind == "STANDARD" {
            if e.policies.iter().any(is_cluster_admin) && !groups.iter().any(|g| g == MASTERS) {
                groups.push(MASTERS.into());
            }
        } else if !groups.iter().any(|g| g == NODES) {
            groups.push(NODES.into());
        }
        let (out, key) = match p.kind {
            PrincipalKind::Role => (&mut roles, "rolearn"),
            PrincipalKind::User => (&mut users, "userarn"),
        };
        let row = row_arn(p.kind, &e.principal_arn);
        out.push_str(&format!("- {key}: {}\n", quoted(&row)));
        if let Some(u) = &username {
            out.push_str(&format!("  username: {}\n", quoted(u)));
        }
        out.push_str("  groups:");
        if groups.is_empty() {
            out.push_str(" []\n");
        } else {
            out.push('\n');
            for g in &groups {
                out.push_str(&format!("  - {}\n", quoted(g)));
            }
        }
        if !items.is_empty() {
            let list = serde_json::to_string(&items).unwrap_or_default();
            out.push_str(&format!("  {POLICIES_KEY}: {list}\n"));
        }
        by_key.insert(arn::match_key(&row), e.clone());
    }
    let text = |s: &String| (!s.is_empty()).then(|| s.clone());
    let auth = AwsAuth::parse(text(&roles).as_deref(), text(&users).as_deref(), None)
        .unwrap_or_else(|_| AwsAuth::empty());
    Projection {
        auth,
        entries: by_key,
    }
}

/// Refuses groups EKS does not take in an access entry: every `system:` group but
/// `system:masters` (which becomes the ClusterAdmin policy).
pub fn check_groups(arn: &str, groups: &[String]) -> Result<(), Refusal> {
    let Some(g) = groups
        .iter()
        .find(|g| g.starts_with("system:") && *g != MASTERS)
    else {
        return Ok(());
    };
    let why = match g.as_str() {
        NODES | "system:bootstrappers" => "node roles are access entries of type EC2_LINUX or EC2_WINDOWS, which EKS creates for managed node groups (`aws eks create-access-entry --type EC2_LINUX`)",
        "system:node-proxier" => "Fargate pod execution roles are access entries of type FARGATE_LINUX, which EKS creates with the Fargate profile",
        _ => "grant a group of your own and bind it with RBAC, or an access policy",
    };
    Err(Refusal {
        message: format!(
            "cannot grant `{g}` to {arn} in an access entry: EKS refuses Kubernetes groups that start with `system:`"
        ),
        hint: format!(
            "{why}; `system:masters` is the one okscript translates (to the AmazonEKSClusterAdminPolicy association at cluster scope)"
        ),
    })
}

/// Refuses a username EKS does not take in an access entry.
pub fn check_username(arn: &str, username: &str) -> Result<(), Refusal> {
    match RESERVED_USERNAME_PREFIXES
        .iter()
        .find(|p| username.starts_with(**p))
    {
        Some(p) => Err(Refusal {
            message: format!(
                "cannot give {arn} the username `{username}` in an access entry: EKS refuses usernames that start with `{p}`"
            ),
            hint: "choose a username without the system:, eks:, aws:, amazon: or iam: prefix".into(),
        }),
        None => Ok(()),
    }
}

/// A note for a username whose `{{SessionName}}` differs from `{{SessionNameRaw}}`: IAM
/// Identity Center session names are e-mail addresses.
pub fn session_name_note(arn: &str, username: &str) -> Option<String> {
    let sso = arn.contains(crate::aws::SSO_ROLE_NAME_PREFIX);
    (sso && username.contains("{{SessionName}}")).then(|| {
        format!(
            "the username `{username}` of {arn} uses {{{{SessionName}}}}, which EKS writes with `@` turned into `-` (alice@example.com → alice-example.com); use {{{{SessionNameRaw}}}} to keep the e-mail address as it is"
        )
    })
}

pub(super) fn rows(auth: &AwsAuth) -> BTreeMap<String, &Mapping> {
    let mut out = BTreeMap::new();
    for body in auth.roles.bodies().chain(auth.users.bodies()) {
        if let Body::Mapping(m) = body {
            out.insert(m.match_key(), m);
        }
    }
    out
}

fn k8s_groups(m: &Mapping) -> Vec<String> {
    m.groups.iter().filter(|g| *g != MASTERS).cloned().collect()
}

fn same_set(a: &[String], b: &[String]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort();
    b.sort();
    a == b
}

fn cluster_admin() -> PolicyAssociation {
    PolicyAssociation {
        policy_arn: CLUSTER_ADMIN_POLICY.into(),
        scope: PolicyScope::Cluster,
    }
}

/// The calls that turn `before` into `after`, per principal (by match key, in order).
/// `real` gives the real ARN of a principal that has no entry yet (IAM's answer).
///
/// # Errors
/// A row EKS cannot hold (a `system:` group, a reserved username, a node entry given
/// groups) or a new principal IAM was not asked about.
pub fn calls(
    before: &Projection,
    after: &AwsAuth,
    real: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, Vec<Call>)>, Refusal> {
    let old = rows(&before.auth);
    let new = rows(after);
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        let mut todo = Vec::new();
        match (old.get(key), new.get(key)) {
            (None, None) => {}
            (Some(_), None) => {
                let arn = before.entries[key].principal_arn.clone();
                todo.push(Call::Delete { arn });
            }
            (None, Some(m)) => {
                let arn = real(key).ok_or_else(|| Refusal {
                    message: format!("okscript did not find the real ARN of {} in IAM", m.arn),
                    hint: "run the script again; if it persists, report it".into(),
                })?;
                check_groups(&m.arn, &m.groups)?;
                if let Some(u) = &m.username {
                    check_username(&m.arn, u)?;
                }
                todo.push(Call::Create {
                    arn: arn.clone(),
                    groups: k8s_groups(m),
                    username: m.username.clone(),
                });
                if m.is_admin() {
                    todo.push(Call::Associate {
                        arn: arn.clone(),
                        policy: cluster_admin(),
                    });
                }
                todo.extend(policy_calls(&arn, &[], &policy_items(m)));
            }
            (Some(b), Some(m)) => {
                if b == m {
                    continue;
                }
                let entry = &before.entries[key];
                let arn = entry.principal_arn.clone();
                if entry.kind != "STANDARD" {
                    return Err(Refusal {
                        message: format!(
                            "cannot change the groups or username of {arn}: it is an access entry of type {}, which EKS gives no groups, username or policies",
                            entry.kind
                        ),
                        hint: "leave node entries to EKS and the node-group tools; revoking one (with #{force: true}) deletes it".into(),
                    });
                }
                check_groups(&m.arn, &m.groups)?;
                let groups = k8s_groups(m);
                let groups = (!same_set(&groups, &entry.groups)).then_some(groups);
                let username = match &m.username {
                    Some(u) if Some(u) != entry.username.as_ref() => {
                        check_username(&m.arn, u)?;
                        Some(u.clone())
                    }
                    _ => None,
                };
                if groups.is_some() || username.is_some() {
                    todo.push(Call::Update {
                        arn: arn.clone(),
                        groups,
                        username,
                    });
                }
                match (entry.policies.iter().any(is_cluster_admin), m.is_admin()) {
                    (false, true) => todo.push(Call::Associate {
                        arn: arn.clone(),
                        policy: cluster_admin(),
                    }),
                    (true, false) => todo.push(Call::Disassociate {
                        arn: arn.clone(),
                        policy_arn: CLUSTER_ADMIN_POLICY.into(),
                    }),
                    _ => {}
                }
                todo.extend(policy_calls(&arn, &policy_items(b), &policy_items(m)));
            }
        }
        if !todo.is_empty() {
            out.push((key.clone(), todo));
        }
    }
    Ok(out)
}

/// One line per principal, for the diff: real ARN, type, username, groups and policies.
fn lines(
    p: &AwsAuth,
    entries: &BTreeMap<String, AccessEntryInfo>,
    real: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut out = String::new();
    for (key, m) in rows(p) {
        let entry = entries.get(&key);
        let arn = entry
            .map(|e| e.principal_arn.clone())
            .or_else(|| real(&key))
            .unwrap_or_else(|| m.arn.clone());
        let kind = entry.map_or("STANDARD", |e| e.kind.as_str());
        let mut policies: Vec<String> = policy_items(m)
            .iter()
            .map(|i| {
                let a = association(i);
                format!("{} ({})", a.name(), a.scope)
            })
            .collect();
        if m.is_admin() && kind == "STANDARD" {
            policies.insert(0, "AmazonEKSClusterAdminPolicy (cluster)".into());
        }
        let groups: Vec<String> = if kind == "STANDARD" {
            k8s_groups(m)
        } else {
            entry.map(|e| e.groups.clone()).unwrap_or_default()
        };
        out.push_str(&format!(
            "{arn} type={kind} username={} groups=[{}] policies=[{}]\n",
            m.username.as_deref().unwrap_or("-"),
            groups.join(","),
            policies.join(", ")
        ));
    }
    out
}

/// A unified diff of the access entries, one line per principal.
pub fn diff(
    before: &AwsAuth,
    after: &AwsAuth,
    entries: &BTreeMap<String, AccessEntryInfo>,
    real: &dyn Fn(&str) -> Option<String>,
) -> String {
    let a = lines(before, entries, real);
    let b = lines(after, entries, real);
    if a == b {
        return String::new();
    }
    let mut text = similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .missing_newline_hint(false)
        .header("a/access-entries", "b/access-entries")
        .to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::access::intent::Intent;
    use crate::access::model::Protected;

    pub(crate) const SSO: &str = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef";
    const SSO_ROW: &str = "arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0123456789abcdef";
    pub(crate) const NODE: &str = "arn:aws:iam::123456789012:role/nodes";

    /// An entry as DescribeAccessEntry gives it (with ClusterAdmin when `admin`).
    pub(crate) fn entry(arn: &str, kind: &str, groups: &[&str], admin: bool) -> AccessEntryInfo {
        AccessEntryInfo {
            principal_arn: arn.into(),
            kind: kind.into(),
            username: Some("u".into()),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            policies: if admin {
                vec![cluster_admin()]
            } else {
                Vec::new()
            },
        }
    }

    /// An admin SSO role, a node role and a user without groups.
    pub(crate) fn world() -> Projection {
        project(&[
            entry(SSO, "STANDARD", &["devs"], true),
            entry(NODE, "EC2_LINUX", &["system:nodes"], false),
            entry("arn:aws:iam::123456789012:user/bob", "STANDARD", &[], false),
        ])
    }

    fn apply(p: &Projection, intent: Intent) -> Result<AwsAuth, Refusal> {
        let mut auth = p.auth.clone();
        auth.apply(&intent, &Protected::default())?;
        Ok(auth)
    }

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn entries_project_into_rows_with_masters_and_node_groups() {
        let p = world();
        let views = p.auth.mappings();
        let sso = views
            .iter()
            .find(|v| v.arn == SSO_ROW)
            .expect("path-less row");
        assert_eq!(sso.groups, ["devs", MASTERS]);
        let node = views.iter().find(|v| v.arn == NODE).unwrap();
        assert!(node.groups.contains(&NODES.to_string()));
        assert_eq!(p.entries[&arn::match_key(SSO_ROW)].principal_arn, SSO);
        assert!(
            calls(&p, &p.auth, &none).unwrap().is_empty(),
            "unchanged: no calls"
        );
    }

    #[test]
    fn a_grant_becomes_one_create_and_masters_the_cluster_admin_association() {
        let p = world();
        let (i, _) = Intent::grant(
            PrincipalKind::Role,
            "arn:aws:iam::123456789012:role/dev",
            &["devs".into(), MASTERS.into()],
            None,
            false,
        )
        .unwrap();
        let after = apply(&p, i).unwrap();
        let real = |k: &str| {
            (k == arn::match_key("arn:aws:iam::123456789012:role/dev"))
                .then(|| "arn:aws:iam::123456789012:role/team/dev".to_string())
        };
        let c = calls(&p, &after, &real).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(
            c[0].1,
            vec![
                Call::Create {
                    arn: "arn:aws:iam::123456789012:role/team/dev".into(),
                    groups: vec!["devs".into()],
                    username: Some("dev:{{SessionName}}".into())
                },
                Call::Associate {
                    arn: "arn:aws:iam::123456789012:role/team/dev".into(),
                    policy: cluster_admin()
                }
            ]
        );
        let d = diff(&p.auth, &after, &p.entries, &real);
        assert!(d.contains("+arn:aws:iam::123456789012:role/team/dev type=STANDARD username=dev:{{SessionName}} groups=[devs] policies=[AmazonEKSClusterAdminPolicy (cluster)]"), "{d}");
    }

    #[test]
    fn group_and_admin_changes_become_update_and_disassociate() {
        let p = world();
        let (i, _) =
            Intent::grant_with(PrincipalKind::Role, SSO, &["ops".into()], None, true, true)
                .unwrap();
        let after = apply(&p, i).unwrap();
        let c = calls(&p, &after, &none).unwrap();
        assert_eq!(
            c[0].1,
            vec![
                Call::Update {
                    arn: SSO.into(),
                    groups: Some(vec!["ops".into()]),
                    username: None
                },
                Call::Disassociate {
                    arn: SSO.into(),
                    policy_arn: CLUSTER_ADMIN_POLICY.into()
                }
            ]
        );
        let (i, _) = Intent::revoke(
            PrincipalKind::User,
            "arn:aws:iam::123456789012:user/bob",
            None,
            false,
        )
        .unwrap();
        let after = apply(&p, i).unwrap();
        assert_eq!(
            calls(&p, &after, &none).unwrap()[0].1,
            vec![Call::Delete {
                arn: "arn:aws:iam::123456789012:user/bob".into()
            }]
        );
    }

    #[test]
    fn node_entries_need_force_and_take_no_groups() {
        let p = world();
        let (i, _) = Intent::revoke(PrincipalKind::Role, NODE, None, false).unwrap();
        let refused = apply(&p, i).unwrap_err();
        assert!(
            refused.message.contains("node or Fargate role"),
            "{refused}"
        );
        let (i, _) =
            Intent::grant(PrincipalKind::Role, NODE, &["devs".into()], None, true).unwrap();
        let after = apply(&p, i).unwrap();
        let err = calls(&p, &after, &none).unwrap_err();
        assert!(err.message.contains("type EC2_LINUX"), "{err}");
    }

    #[test]
    fn system_groups_and_reserved_usernames_are_refused_with_the_reason() {
        let err = check_groups("x", &["system:nodes".into()]).unwrap_err();
        assert!(err.hint.contains("EC2_LINUX"), "{err:?}");
        let err = check_groups("x", &["system:node-proxier".into()]).unwrap_err();
        assert!(err.hint.contains("FARGATE_LINUX"), "{err:?}");
        assert!(check_groups("x", &[MASTERS.into(), "devs".into()]).is_ok());
        for bad in ["system:x", "eks:x", "aws:x", "amazon:x", "iam:x"] {
            assert!(check_username("x", bad).is_err(), "{bad}");
        }
        assert!(check_username("x", "admin:{{SessionName}}").is_ok());
        assert!(session_name_note(SSO, "a:{{SessionName}}").is_some());
        assert!(session_name_note(SSO, "a:{{SessionNameRaw}}").is_none());
        assert!(session_name_note(NODE, "a:{{SessionName}}").is_none());
    }
}
