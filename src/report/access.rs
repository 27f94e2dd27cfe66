//! Effective access classes: what a mapping's groups and access policies amount to, ranked
//! from cluster-admin down to none.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Mapping;

/// What a path lets its principal do, most powerful first (the order of the variants is the
/// order of the report).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Everything: `system:masters`, or AmazonEKSClusterAdminPolicy at cluster scope.
    ClusterAdmin,
    /// Admin within a scope: AmazonEKSAdminPolicy, or ClusterAdmin on namespaces.
    Admin,
    /// AmazonEKSEditPolicy.
    Edit,
    /// AmazonEKSViewPolicy or AmazonEKSAdminViewPolicy.
    View,
    /// Only groups whose power is the cluster's RBAC (named in `custom_groups`), or a node
    /// or Fargate identity.
    Custom,
    /// Authenticated, with no group and no policy.
    #[default]
    None,
}

impl Access {
    /// Every class, most powerful first.
    pub const ALL: [Access; 6] = [
        Access::ClusterAdmin,
        Access::Admin,
        Access::Edit,
        Access::View,
        Access::Custom,
        Access::None,
    ];

    /// The class's name as the JSON and the table write it.
    pub fn word(self) -> &'static str {
        match self {
            Access::ClusterAdmin => "cluster-admin",
            Access::Admin => "admin",
            Access::Edit => "edit",
            Access::View => "view",
            Access::Custom => "custom",
            Access::None => "none",
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// The class one access policy gives (by its short name), `None` for a policy the report
/// does not rank (counted as custom, by name).
fn policy_class(name: &str, cluster_scope: bool) -> Option<Access> {
    match name {
        "AmazonEKSClusterAdminPolicy" if cluster_scope => Some(Access::ClusterAdmin),
        "AmazonEKSClusterAdminPolicy" | "AmazonEKSAdminPolicy" => Some(Access::Admin),
        "AmazonEKSEditPolicy" => Some(Access::Edit),
        "AmazonEKSViewPolicy" | "AmazonEKSAdminViewPolicy" => Some(Access::View),
        _ => None,
    }
}

/// The most powerful class a mapping gives, and the groups (and unranked policies) whose
/// power only the cluster's RBAC knows, named for the report.
pub fn classify(m: &Mapping) -> (Access, Vec<String>) {
    let mut best = Access::None;
    let mut custom = Vec::new();
    if !m.entry_type.is_empty() && m.entry_type != "STANDARD" {
        // Node, Fargate and Auto Mode entries: EKS gives them the node groups itself.
        custom.push(format!("{} node identity", m.entry_type));
    }
    for g in &m.groups {
        if g == "system:masters" {
            best = best.min(Access::ClusterAdmin);
        } else if !custom.contains(g) {
            custom.push(g.clone());
        }
    }
    for p in &m.policies {
        match policy_class(&p.name, p.scope == "cluster") {
            Some(class) => best = best.min(class),
            None => custom.push(format!("policy {}", p.name)),
        }
    }
    if !custom.is_empty() {
        best = best.min(Access::Custom);
    }
    (best, custom)
}
