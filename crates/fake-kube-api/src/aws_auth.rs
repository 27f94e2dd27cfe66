//! From an STS caller identity to a Kubernetes user through `kube-system/aws-auth`, as
//! aws-iam-authenticator's ConfigMap mapper does it: ARN canonicalisation, mapRoles, then
//! mapUsers, then mapAccounts, last entry wins, templates expanded.
//!
//! Pure: takes the ConfigMap's `data` and an [`Identity`]; no I/O, no store access.

use std::collections::BTreeMap;

use serde_json::Value;

use super::auth::User;

/// Who STS says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The ARN STS returned, e.g. `arn:aws:sts::A:assumed-role/NAME/SESSION`.
    pub arn: String,
    /// The ARN aws-auth is matched against, e.g. `arn:aws:iam::A:role/NAME`.
    pub canonical_arn: String,
    /// The account id.
    pub account_id: String,
    /// STS's `UserId` (`AROA…:SESSION` for roles).
    pub user_id: String,
    /// The session name of an assumed role, empty otherwise.
    pub session_name: String,
    /// The access key id the token was signed with.
    pub access_key_id: String,
}

impl Identity {
    /// An identity from STS's answer; refuses ARNs the authenticator cannot canonicalise.
    pub fn from_sts(
        arn: &str,
        account_id: &str,
        user_id: &str,
        access_key_id: &str,
    ) -> Result<Self, String> {
        let (canonical_arn, session_name) = canonicalize(arn)?;
        Ok(Identity {
            arn: arn.into(),
            canonical_arn,
            account_id: account_id.into(),
            user_id: user_id.into(),
            session_name,
            access_key_id: access_key_id.into(),
        })
    }
}

/// `(canonical ARN, session name)`: `arn:P:sts::A:assumed-role/NAME/SESSION` becomes
/// `arn:P:iam::A:role/NAME` (STS never shows a role's path); IAM users, roles, root and
/// federated users stay as they are.
pub fn canonicalize(arn: &str) -> Result<(String, String), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || !parts[3].is_empty() {
        return Err(format!("arn {arn:?} is not a valid IAM or STS ARN"));
    }
    let (partition, service, account, resource) = (parts[1], parts[2], parts[4], parts[5]);
    match service {
        "sts" => {
            if let Some(rest) = resource.strip_prefix("assumed-role/") {
                let segments: Vec<&str> = rest.split('/').collect();
                if segments.len() < 2 {
                    return Err(format!("assumed-role arn {arn:?} has no session name"));
                }
                let session = segments[segments.len() - 1];
                let role = segments[segments.len() - 2];
                Ok((
                    format!("arn:{partition}:iam::{account}:role/{role}"),
                    session.to_string(),
                ))
            } else if resource.starts_with("federated-user/") {
                Ok((arn.to_string(), String::new()))
            } else {
                Err(format!("unrecognized resource {resource:?} in STS arn"))
            }
        }
        "iam" => {
            if resource == "root" || resource.starts_with("user/") || resource.starts_with("role/")
            {
                Ok((arn.to_string(), String::new()))
            } else {
                Err(format!("unrecognized resource {resource:?} in IAM arn"))
            }
        }
        other => Err(format!(
            "service {other:?} in arn {arn:?} is not iam or sts"
        )),
    }
}

/// One mapRoles or mapUsers entry after parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mapping {
    username: Option<String>,
    groups: Vec<String>,
}

/// Parses one section (`mapRoles`/`mapUsers`) keyed by lower-cased ARN under `arn_key`.
/// Unparsable YAML drops the whole section; an entry without the ARN key, or with fields of
/// the wrong type, is dropped alone. Later entries replace earlier ones for the same ARN.
fn parse_section(yaml: Option<&str>, arn_key: &str) -> BTreeMap<String, Mapping> {
    let mut out = BTreeMap::new();
    let Some(yaml) = yaml else { return out };
    let Ok(Value::Array(entries)) = serde_saphyr::from_str::<Value>(yaml) else {
        return out;
    };
    for entry in entries {
        let Value::Object(fields) = entry else {
            continue;
        };
        // Entry keys match case-insensitively, like Go's encoding/json.
        let field = |name: &str| {
            fields
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
                .next_back()
        };
        let Some(Value::String(arn)) = field(arn_key) else {
            continue;
        };
        let username = match field("username") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => continue,
        };
        let groups = match field("groups") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                let strings: Option<Vec<String>> = items
                    .iter()
                    .map(|g| g.as_str().map(str::to_string))
                    .collect();
                match strings {
                    Some(g) => g,
                    None => continue,
                }
            }
            Some(_) => continue,
        };
        out.insert(arn.to_lowercase(), Mapping { username, groups });
    }
    out
}

fn parse_accounts(yaml: Option<&str>) -> Vec<String> {
    let Some(yaml) = yaml else { return Vec::new() };
    match serde_saphyr::from_str::<Value>(yaml) {
        Ok(Value::Array(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Why a caller got no user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapError {
    /// No entry in mapRoles, mapUsers or mapAccounts matches.
    NotMapped(String),
    /// The matching entry uses `{{EC2PrivateDNSName}}`, which needs EC2 (not faked).
    NeedsEc2(String),
}

impl std::fmt::Display for MapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MapError::NotMapped(arn) => write!(f, "ARN is not mapped: {arn}"),
            MapError::NeedsEc2(arn) => {
                write!(
                    f,
                    "{arn} maps to {{{{EC2PrivateDNSName}}}}, which the fake cannot resolve"
                )
            }
        }
    }
}

impl std::error::Error for MapError {}

/// Maps `identity` through aws-auth `data` (`mapRoles`, `mapUsers`, `mapAccounts`) to a
/// user with `system:authenticated` and EKS's `extra` (`arn`, `canonicalArn`,
/// `sessionName`, `accessKeyId`, `principalId`).
pub fn map_identity(
    data: &BTreeMap<String, String>,
    identity: &Identity,
) -> Result<User, MapError> {
    let key = identity.canonical_arn.to_lowercase();
    let roles = parse_section(data.get("mapRoles").map(String::as_str), "rolearn");
    let users = parse_section(data.get("mapUsers").map(String::as_str), "userarn");
    let (username, groups) = if let Some(m) = roles.get(&key).or_else(|| users.get(&key)) {
        let template = m
            .username
            .clone()
            .unwrap_or_else(|| identity.canonical_arn.clone());
        if template.contains("{{EC2PrivateDNSName}}")
            || m.groups.iter().any(|g| g.contains("{{EC2PrivateDNSName}}"))
        {
            return Err(MapError::NeedsEc2(identity.arn.clone()));
        }
        (
            render(&template, identity),
            m.groups.iter().map(|g| render(g, identity)).collect(),
        )
    } else if parse_accounts(data.get("mapAccounts").map(String::as_str))
        .iter()
        .any(|a| a == &identity.account_id)
    {
        (identity.canonical_arn.clone(), Vec::new())
    } else {
        return Err(MapError::NotMapped(identity.arn.clone()));
    };
    let mut user = User::new(username);
    user.groups = groups;
    Ok(with_eks_extra(user, identity).authenticated())
}

/// `user` with the uid and `extra` values EKS's authenticator adds for `identity`.
pub(crate) fn with_eks_extra(mut user: User, identity: &Identity) -> User {
    user.uid = format!(
        "aws-iam-authenticator:{}:{}",
        identity.account_id, identity.user_id
    );
    let principal = identity.user_id.split(':').next().unwrap_or("").to_string();
    user.extra("accessKeyId", &identity.access_key_id)
        .extra("arn", &identity.arn)
        .extra("canonicalArn", &identity.canonical_arn)
        .extra("principalId", &principal)
        .extra("sessionName", &identity.session_name)
        .extra("sigs.k8s.io/aws-iam-authenticator/principalId", &principal)
}

/// Expands `{{AccountID}}`, `{{SessionName}}` (`@` → `-`), `{{SessionNameRaw}}` and
/// `{{AccessKeyID}}`; other `{{…}}` stay as written, as in the authenticator.
pub(crate) fn render(template: &str, id: &Identity) -> String {
    template
        .replace("{{AccountID}}", &id.account_id)
        .replace("{{SessionNameRaw}}", &id.session_name)
        .replace("{{SessionName}}", &id.session_name.replace('@', "-"))
        .replace("{{AccessKeyID}}", &id.access_key_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Identity {
        Identity::from_sts(
            "arn:aws:sts::123456789012:assumed-role/eks-admin/alice@example.com",
            "123456789012",
            "AROAEXAMPLE:alice@example.com",
            "ASIAEXAMPLE",
        )
        .unwrap()
    }

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn canonicalisation() {
        let id = alice();
        assert_eq!(id.canonical_arn, "arn:aws:iam::123456789012:role/eks-admin");
        assert_eq!(id.session_name, "alice@example.com");
        assert_eq!(
            canonicalize("arn:aws:iam::1:user/path/bob").unwrap().0,
            "arn:aws:iam::1:user/path/bob"
        );
        assert!(canonicalize("arn:aws:s3:::bucket").is_err());
    }

    #[test]
    fn templates_are_expanded() {
        let d = data(&[(
            "mapRoles",
            "- rolearn: arn:aws:iam::123456789012:role/eks-admin\n  username: admin:{{SessionName}}\n  groups:\n  - system:masters\n  - acct-{{AccountID}}\n  - raw-{{SessionNameRaw}}\n  - key-{{AccessKeyID}}\n  - keep-{{Unknown}}\n",
        )]);
        let user = map_identity(&d, &alice()).unwrap();
        assert_eq!(user.username, "admin:alice-example.com");
        assert_eq!(
            user.groups,
            vec![
                "system:masters",
                "acct-123456789012",
                "raw-alice@example.com",
                "key-ASIAEXAMPLE",
                "keep-{{Unknown}}",
                "system:authenticated"
            ]
        );
        assert_eq!(user.extra["arn"], vec![alice().arn]);
        assert_eq!(user.extra["canonicalArn"], vec![alice().canonical_arn]);
        assert_eq!(user.extra["sessionName"], vec!["alice@example.com"]);
    }

    #[test]
    fn last_entry_wins_completely() {
        let d = data(&[(
            "mapRoles",
            "- rolearn: arn:aws:iam::123456789012:role/eks-admin\n  username: admin\n  groups: [system:masters]\n- rolearn: arn:aws:iam::123456789012:role/eks-admin\n  username: viewer\n  groups: [view]\n",
        )]);
        let user = map_identity(&d, &alice()).unwrap();
        assert_eq!(user.username, "viewer");
        assert_eq!(user.groups, vec!["view", "system:authenticated"]);
    }

    #[test]
    fn arns_and_keys_match_case_insensitively() {
        let d = data(&[(
            "mapRoles",
            "- rOlEaRn: ARN:AWS:IAM::123456789012:ROLE/EKS-ADMIN\n  UserName: admin\n  GROUPS: [system:masters]\n",
        )]);
        let user = map_identity(&d, &alice()).unwrap();
        assert_eq!(user.username, "admin");
    }

    #[test]
    fn a_role_arn_with_a_path_never_matches() {
        let d = data(&[(
            "mapRoles",
            "- rolearn: arn:aws:iam::123456789012:role/some/path/eks-admin\n  username: admin\n  groups: [system:masters]\n",
        )]);
        assert_eq!(
            map_identity(&d, &alice()).unwrap_err(),
            MapError::NotMapped(alice().arn)
        );
    }

    #[test]
    fn a_broken_section_is_ignored_and_others_still_work() {
        let broken_roles = "- rolearn: arn:aws:iam::123456789012:role/eks-admin\n  username: admin\n groups:\n  - system:masters\n";
        let users =
            "- userarn: arn:aws:iam::123456789012:user/bob\n  username: bob\n  groups: [devs]\n";
        let d = data(&[
            ("mapRoles", broken_roles),
            ("mapUsers", users),
            ("mapAccounts", "- \"123456789012\"\n"),
        ]);
        // The role mapping is gone: alice falls through to mapAccounts.
        let user = map_identity(&d, &alice()).unwrap();
        assert_eq!(user.username, "arn:aws:iam::123456789012:role/eks-admin");
        assert_eq!(user.groups, vec!["system:authenticated"]);
        let bob = Identity::from_sts(
            "arn:aws:iam::123456789012:user/bob",
            "123456789012",
            "AIDA",
            "AKIA",
        )
        .unwrap();
        assert_eq!(map_identity(&d, &bob).unwrap().username, "bob");
        // Without mapAccounts nobody from the broken section gets in.
        let d = data(&[("mapRoles", broken_roles)]);
        assert!(matches!(
            map_identity(&d, &alice()),
            Err(MapError::NotMapped(_))
        ));
    }

    #[test]
    fn roles_before_users_before_accounts_and_numeric_accounts() {
        let d = data(&[
            (
                "mapRoles",
                "- rolearn: arn:aws:iam::123456789012:role/eks-admin\n  username: from-roles\n",
            ),
            (
                "mapUsers",
                "- userarn: arn:aws:iam::123456789012:role/eks-admin\n  username: from-users\n",
            ),
            ("mapAccounts", "- 123456789012\n"),
        ]);
        assert_eq!(map_identity(&d, &alice()).unwrap().username, "from-roles");
        let d = data(&[("mapAccounts", "- 123456789012\n")]);
        assert_eq!(
            map_identity(&d, &alice()).unwrap().username,
            "arn:aws:iam::123456789012:role/eks-admin"
        );
    }

    #[test]
    fn node_roles_need_ec2_and_bad_entries_are_dropped_alone() {
        let d = data(&[(
            "mapRoles",
            "- rolearn: arn:aws:iam::123456789012:role/eks-admin\n  username: system:node:{{EC2PrivateDNSName}}\n- groups: [x]\n- rolearn: arn:aws:iam::123456789012:role/other\n  groups: system:masters\n",
        )]);
        assert!(matches!(
            map_identity(&d, &alice()),
            Err(MapError::NeedsEc2(_))
        ));
    }
}
