//! EKS access entries as the authenticator sees them: the cluster's authentication mode, the
//! entry (if any) for a caller, and what its access policies let it do in the fake RBAC.
//!
//! The fake apiserver does not own entries: a test attaches a source ([`AccessEntries`],
//! implemented by the EKS fake in `eks_api`) and this file decides, per mode,
//! whether the entry or aws-auth maps the caller. Without a source nothing changes. No I/O.

use std::fmt;

use super::auth::User;
use super::aws_auth::{self, Identity};

/// `accessConfig.authenticationMode` of an EKS cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Only the aws-auth ConfigMap counts.
    ConfigMap,
    /// An access entry wins; aws-auth for principals without one.
    ApiAndConfigMap,
    /// Only access entries count.
    Api,
}

impl AuthMode {
    /// The name EKS uses (`CONFIG_MAP`, `API_AND_CONFIG_MAP`, `API`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::ConfigMap => "CONFIG_MAP",
            AuthMode::ApiAndConfigMap => "API_AND_CONFIG_MAP",
            AuthMode::Api => "API",
        }
    }

    /// The mode named by EKS's string, if it is one.
    pub fn parse(s: &str) -> Option<AuthMode> {
        match s {
            "CONFIG_MAP" => Some(AuthMode::ConfigMap),
            "API_AND_CONFIG_MAP" => Some(AuthMode::ApiAndConfigMap),
            "API" => Some(AuthMode::Api),
            _ => None,
        }
    }
}

/// One access policy association as RBAC input: the policy's name and its namespaces
/// (`None`: cluster scope; names may end in `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyGrant {
    /// The policy's short name, e.g. `AmazonEKSViewPolicy`.
    pub policy: String,
    /// `None` for cluster scope, else the namespaces (`dev-*` patterns allowed).
    pub namespaces: Option<Vec<String>>,
}

impl PolicyGrant {
    fn covers(&self, ns: Option<&str>) -> bool {
        match (&self.namespaces, ns) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(list), Some(ns)) => list.iter().any(|p| match p.strip_suffix('*') {
                Some(prefix) => ns.starts_with(prefix),
                None => p == ns,
            }),
        }
    }

    /// Whether this policy lets its holder `verb` on `resource` in `ns` (`None`: cluster
    /// scope). A coarse model of the real ClusterRoles: ClusterAdmin and Admin everything,
    /// Edit every write but RBAC objects, View and AdminView reads (View without secrets).
    pub fn allows(&self, verb: &str, resource: &str, ns: Option<&str>) -> bool {
        let read = matches!(verb, "get" | "list" | "watch");
        let allowed = match self.policy.as_str() {
            "AmazonEKSClusterAdminPolicy" | "AmazonEKSAdminPolicy" => true,
            "AmazonEKSEditPolicy" => !matches!(resource, "roles" | "rolebindings"),
            "AmazonEKSAdminViewPolicy" => read,
            "AmazonEKSViewPolicy" => read && resource != "secrets",
            _ => false,
        };
        allowed && self.covers(ns)
    }
}

/// An access entry that matched a caller: what the Kubernetes user becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryGrant {
    /// The principal ARN of the entry (with its path).
    pub principal_arn: String,
    /// The username template (`{{SessionName}}` etc. still unexpanded).
    pub username: String,
    /// `kubernetesGroups`.
    pub groups: Vec<String>,
    /// The entry's `type` (`STANDARD`, `EC2_LINUX`, …).
    pub kind: String,
    /// Its access policy associations.
    pub policies: Vec<PolicyGrant>,
}

/// Where the apiserver looks up a cluster's mode and access entries (the EKS fake's state).
pub trait AccessEntries: Send + Sync + fmt::Debug {
    /// The cluster's authentication mode; `None` when the source does not know the cluster
    /// (the apiserver then behaves as without a source: aws-auth only).
    fn mode(&self, cluster: &str) -> Option<AuthMode>;
    /// The entry that matches `identity` on `cluster`, as EKS matches: by the principal's
    /// unique ID when the entry stored one, so a recreated role finds nothing.
    fn entry(&self, cluster: &str, identity: &Identity) -> Option<EntryGrant>;
}

/// Why a caller got no user from an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryError {
    /// API mode and no entry matches.
    NoEntry(String),
    /// The entry is a node type whose username needs EC2 (not faked).
    NeedsEc2(String),
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryError::NoEntry(arn) => {
                write!(f, "no access entry for {arn} (authentication mode API)")
            }
            EntryError::NeedsEc2(arn) => {
                write!(
                    f,
                    "access entry for {arn} is a node entry the fake cannot resolve"
                )
            }
        }
    }
}

/// The user an entry makes of `identity`: its username template expanded, its groups, EKS's
/// `extra`, and its access policies.
pub fn user_from_entry(entry: &EntryGrant, identity: &Identity) -> Result<User, EntryError> {
    if entry.username.contains("{{EC2PrivateDNSName}}") {
        return Err(EntryError::NeedsEc2(identity.arn.clone()));
    }
    let mut user = User::new(aws_auth::render(&entry.username, identity));
    user.groups = entry
        .groups
        .iter()
        .map(|g| aws_auth::render(g, identity))
        .collect();
    user.access_policies = entry.policies.clone();
    Ok(aws_auth::with_eks_extra(user, identity).authenticated())
}

/// The default username EKS gives an entry: for a role
/// `arn:aws:sts::ACCOUNT:assumed-role/NAME/{{SessionName}}`, for anything else its ARN.
pub fn default_username(principal_arn: &str) -> String {
    let parts: Vec<&str> = principal_arn.splitn(6, ':').collect();
    if parts.len() == 6 && parts[2] == "iam" {
        if let Some(role) = parts[5].strip_prefix("role/") {
            let name = role.rsplit('/').next().unwrap_or(role);
            return format!(
                "arn:{}:sts::{}:assumed-role/{name}/{{{{SessionName}}}}",
                parts[1], parts[4]
            );
        }
    }
    principal_arn.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_and_scopes() {
        let view = PolicyGrant {
            policy: "AmazonEKSViewPolicy".into(),
            namespaces: Some(vec!["dev-*".into(), "prod".into()]),
        };
        assert!(view.allows("get", "pods", Some("dev-a")));
        assert!(view.allows("list", "configmaps", Some("prod")));
        assert!(!view.allows("get", "secrets", Some("prod")));
        assert!(!view.allows("update", "configmaps", Some("prod")));
        assert!(!view.allows("get", "pods", Some("staging")));
        assert!(!view.allows("list", "namespaces", None));
        let admin = PolicyGrant {
            policy: "AmazonEKSClusterAdminPolicy".into(),
            namespaces: None,
        };
        assert!(admin.allows("delete", "configmaps", Some("kube-system")));
        assert!(admin.allows("list", "namespaces", None));
    }

    #[test]
    fn default_usernames() {
        assert_eq!(
            default_username(
                "arn:aws:iam::1:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_A_0"
            ),
            "arn:aws:sts::1:assumed-role/AWSReservedSSO_A_0/{{SessionName}}"
        );
        assert_eq!(
            default_username("arn:aws:iam::1:user/ops/bob"),
            "arn:aws:iam::1:user/ops/bob"
        );
    }
}
