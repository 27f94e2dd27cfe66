//! The access report: who can reach a cluster, and through what. Pure: the facts come in as
//! plain data ([`Facts`], gathered by `crate::audit`), and out come the report's rows
//! (person → group → permission set → role → mapping or entry → access), the diff of two
//! reports and their renderings. No I/O, no async.
//!
//! The JSON form of [`Report`] is a stable interface (`schema_version`); a change to a field's
//! name or meaning bumps [`SCHEMA_VERSION`].

mod access;
mod diff;
mod join;
mod mermaid;
mod render;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use access::{classify, Access};
pub use diff::{diff, DiffError, Drift, ReportDiff};
pub use join::build;
pub use mermaid::{flowchart, label};
pub use render::{diff_text, markdown, text};

use crate::access::model::MappingView;

/// The version of the report's JSON schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// What the report is built from: the cluster, its mappings (both mechanisms, as
/// `mappings()` reads them), the account's IAM principals and Identity Center, each of the
/// last two possibly out of sight.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The cluster's name.
    pub cluster: String,
    /// The cluster's account.
    pub account: String,
    /// The cluster's region.
    pub region: String,
    /// The cluster's `authenticationMode`, when known.
    pub mode: Option<String>,
    /// Every aws-auth row and access entry, as `mappings()` yields them.
    pub mappings: Vec<MappingView>,
    /// The account's IAM roles and users, or why they could not be read.
    pub iam: Visible<Iam>,
    /// Identity Center, or why it could not be read.
    pub identity_center: Visible<IdentityCenter>,
    /// Parts of the cluster's own access that could not be read (aws-auth, entries).
    pub gaps: Vec<Gap>,
    /// When each role's access entry was created (by the entry's principal ARN), in
    /// seconds since the epoch: a role created after its entry is a recreated one.
    pub entries_created: Vec<(String, f64)>,
}

/// Something the report needed and may or may not have seen.
#[derive(Debug, Clone)]
pub enum Visible<T> {
    /// Read.
    Seen(T),
    /// Not read, and why (AccessDenied, no instance, ...).
    Hidden(Gap),
}

impl<T> Default for Visible<T> {
    fn default() -> Self {
        Visible::Hidden(Gap {
            part: "unknown".into(),
            reason: "not read".into(),
        })
    }
}

/// A part of the picture the caller could not see, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// What is missing: `identity-center`, `iam`, `aws-auth`, `access-entries`.
    pub part: String,
    /// Why, in words (the AWS error, with its code).
    pub reason: String,
}

/// The IAM principals of the cluster's account.
#[derive(Debug, Clone, Default)]
pub struct Iam {
    /// Every role (ListRoles), with the trust policy of the mapped ones.
    pub roles: Vec<IamRole>,
    /// Every user (ListUsers).
    pub users: Vec<String>,
}

/// One IAM role.
#[derive(Debug, Clone, Default)]
pub struct IamRole {
    /// Its ARN with its path.
    pub arn: String,
    /// The principals its trust policy lets assume it (ARNs, account IDs, `*`, services).
    pub trusted: Vec<String>,
    /// When it was created, in seconds since the epoch.
    pub created: Option<f64>,
}

/// What Identity Center says about the cluster's account.
#[derive(Debug, Clone, Default)]
pub struct IdentityCenter {
    /// The instance read.
    pub instance_arn: String,
    /// Its identity store.
    pub identity_store_id: String,
    /// Its region.
    pub region: String,
    /// Each permission set assigned on the account, with its assignees.
    pub assignments: Vec<Assignment>,
    /// User IDs and their user names.
    pub users: Vec<(String, String)>,
    /// Group IDs, display names and member user IDs.
    pub groups: Vec<(String, String, Vec<String>)>,
}

/// One account assignment of a permission set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The permission set's name.
    pub permission_set: String,
    /// `USER` or `GROUP`.
    pub principal_type: String,
    /// The user's or group's ID.
    pub principal_id: String,
}

/// One step of a path from a person to the cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hop {
    /// `sso-user`, `sso-group`, `permission-set`, `iam-user`, `iam-role`, `account`,
    /// `aws-auth` or `access-entry`.
    pub kind: String,
    /// The name or ARN at that step.
    pub name: String,
}

impl Hop {
    /// A hop of `kind` named `name`.
    pub fn new(kind: &str, name: impl Into<String>) -> Hop {
        Hop {
            kind: kind.to_string(),
            name: name.into(),
        }
    }
}

/// An access policy of an entry, with its scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// The short name (`AmazonEKSViewPolicy`).
    pub name: String,
    /// `cluster` or `namespace`.
    pub scope: String,
    /// The namespaces of a namespace scope.
    pub namespaces: Vec<String>,
}

/// The mapping or entry a path ends in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// `aws-auth` or `access-entry`.
    pub source: String,
    /// `role`, `user` or `account`.
    pub kind: String,
    /// The ARN as written (the account ID for `account`).
    pub arn: String,
    /// The Kubernetes username (empty: the default).
    pub username: String,
    /// The Kubernetes groups.
    pub groups: Vec<String>,
    /// An entry's access policies.
    pub policies: Vec<Policy>,
    /// An entry's type (empty for aws-auth).
    #[serde(rename = "type")]
    pub entry_type: String,
}

/// One path from a principal to the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// The effective access class of the mapping (see [`Access`]).
    pub access: Access,
    /// The groups that are no access policy's and no well-known class's: named, because
    /// what they grant is the cluster's RBAC.
    pub custom_groups: Vec<String>,
    /// Who: a user name, an IAM ARN, or `every principal of account A`.
    pub principal: String,
    /// `sso-user`, `sso-group`, `iam-user`, `iam-role` or `account`.
    pub principal_kind: String,
    /// The steps from the principal to the mapping, the principal first.
    pub path: Vec<Hop>,
    /// The aws-auth row or access entry at the end of the path.
    pub mapping: Mapping,
    /// False when EKS does not use this path (shadowed, dead).
    pub effective: bool,
    /// Set when an access entry for the principal wins over this aws-auth row.
    pub shadowed: bool,
    /// Why the mapping admits nobody (principal gone, role path), when it does not.
    pub dead: Option<String>,
    /// Things worth knowing about this path.
    pub notes: Vec<String>,
}

impl Row {
    /// The path as one line: `alice → admins → AdminAccess → role/... → aws-auth`.
    pub fn path_text(&self) -> String {
        self.path
            .iter()
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>()
            .join(" → ")
    }

    /// What identifies this path across reports: principal and every hop.
    pub fn key(&self) -> String {
        let hops: Vec<String> = self
            .path
            .iter()
            .map(|h| format!("{}:{}", h.kind, h.name))
            .collect();
        format!("{} | {}", self.principal, hops.join(" > "))
    }
}

/// The access report of one cluster (the JSON document of `okscript report --output json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The cluster's name.
    pub cluster: String,
    /// The cluster's account.
    pub account: String,
    /// The cluster's region.
    pub region: String,
    /// The cluster's `authenticationMode` (`unknown` when not known).
    pub authentication_mode: String,
    /// True when part of the picture could not be read (see `not_visible`).
    pub partial: bool,
    /// What could not be read, and why.
    pub not_visible: Vec<Gap>,
    /// The Identity Center instance read, when one was.
    pub identity_center: Option<String>,
    /// Every path, most powerful access first.
    pub rows: Vec<Row>,
}
