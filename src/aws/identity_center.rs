//! IAM Identity Center, read for the access report: the instance (ListInstances, or the one
//! named), the permission sets assigned on an account (ListPermissionSets,
//! DescribePermissionSet, ListAccountAssignments), and the users and groups behind the
//! assignments (identitystore DescribeUser, DescribeGroup, ListGroupMemberships).
//!
//! Identity Center lives in the management (or delegated admin) account and its home
//! region, so the clients take their own region; `AWS_ENDPOINT_URL_SSO_ADMIN`,
//! `AWS_ENDPOINT_URL_IDENTITYSTORE` and `AWS_ENDPOINT_URL` apply as to every client.

use std::collections::{BTreeMap, BTreeSet};

use aws_types::region::Region;

use super::error::AwsError;
use super::session::{sdk_error, Session};
use crate::report::{Assignment, IdentityCenter};

/// Which Identity Center to read, when the caller says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityCenterSpec {
    /// Its home region [default: the session's].
    pub region: Option<String>,
    /// The instance ARN [default: the one ListInstances gives].
    pub instance_arn: Option<String>,
    /// The identity store ID [default: the instance's].
    pub identity_store_id: Option<String>,
}

/// Why Identity Center could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IdentityCenterError {
    /// ListInstances gave no instance (none in that account and region).
    #[error("no IAM Identity Center instance is visible in region {region} to this login")]
    NoInstance {
        /// The region asked.
        region: String,
    },
    /// `--sso-instance-arn` names an instance ListInstances does not show.
    #[error(
        "Identity Center instance {arn} is not among the instances in region {region} ({found})"
    )]
    UnknownInstance {
        /// The ARN asked for.
        arn: String,
        /// The region asked.
        region: String,
        /// The instances there.
        found: String,
    },
    /// An AWS call failed (AccessDenied, ...).
    #[error(transparent)]
    Aws(#[from] AwsError),
}

impl IdentityCenterError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            IdentityCenterError::NoInstance { .. } | IdentityCenterError::UnknownInstance { .. } => {
                "Identity Center lives in the management (or delegated admin) account and its home region: pass --sso-profile and --sso-region for them (or --sso-instance-arn and --identity-store-id)".into()
            }
            IdentityCenterError::Aws(_) => "read it with a login allowed sso:ListInstances, sso:ListPermissionSets, sso:DescribePermissionSet, sso:ListAccountAssignments and identitystore:DescribeUser, DescribeGroup, ListGroupMemberships (--sso-profile), in its home region (--sso-region)".into(),
        }
    }
}

/// An AWS error of `operation`, redacted as every other.
fn failed<E>(
    session: &Session,
    operation: &'static str,
    e: aws_sdk_ssoadmin::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> IdentityCenterError
where
    E: aws_sdk_ssoadmin::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    IdentityCenterError::Aws(sdk_error(e, operation, None, session.redactor()))
}

/// Reads who holds which permission set on `account`.
///
/// # Errors
/// [`IdentityCenterError`]: no instance, or an AWS error such as AccessDeniedException.
pub async fn identity_center(
    session: &Session,
    spec: &IdentityCenterSpec,
    account: &str,
) -> Result<IdentityCenter, IdentityCenterError> {
    let region = spec
        .region
        .clone()
        .unwrap_or_else(|| session.region().to_string());
    let admin = aws_sdk_ssoadmin::Client::from_conf(
        aws_sdk_ssoadmin::config::Builder::from(session.sdk_config())
            .region(Region::new(region.clone()))
            .build(),
    );
    let store = aws_sdk_identitystore::Client::from_conf(
        aws_sdk_identitystore::config::Builder::from(session.sdk_config())
            .region(Region::new(region.clone()))
            .build(),
    );
    let (instance_arn, identity_store_id) = match (&spec.instance_arn, &spec.identity_store_id) {
        (Some(i), Some(s)) => (i.clone(), s.clone()),
        _ => instance(&admin, session, spec, &region).await?,
    };

    let mut assignments = Vec::new();
    let mut sets = admin
        .list_permission_sets()
        .instance_arn(&instance_arn)
        .into_paginator()
        .items()
        .send();
    while let Some(set_arn) = sets.next().await {
        let set_arn = set_arn.map_err(|e| failed(session, "sso:ListPermissionSets", e))?;
        let described = admin
            .describe_permission_set()
            .instance_arn(&instance_arn)
            .permission_set_arn(&set_arn)
            .send()
            .await
            .map_err(|e| failed(session, "sso:DescribePermissionSet", e))?;
        let name = described
            .permission_set()
            .and_then(|p| p.name())
            .unwrap_or(&set_arn)
            .to_string();
        let mut pages = admin
            .list_account_assignments()
            .instance_arn(&instance_arn)
            .account_id(account)
            .permission_set_arn(&set_arn)
            .into_paginator()
            .items()
            .send();
        while let Some(a) = pages.next().await {
            let a = a.map_err(|e| failed(session, "sso:ListAccountAssignments", e))?;
            assignments.push(Assignment {
                permission_set: name.clone(),
                principal_type: a
                    .principal_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                principal_id: a.principal_id().unwrap_or_default().to_string(),
            });
        }
    }

    let mut user_ids: BTreeSet<String> = BTreeSet::new();
    let mut groups = Vec::new();
    let group_ids: BTreeSet<&str> = assignments
        .iter()
        .filter(|a| a.principal_type == "GROUP")
        .map(|a| a.principal_id.as_str())
        .collect();
    for id in group_ids {
        let g = store
            .describe_group()
            .identity_store_id(&identity_store_id)
            .group_id(id)
            .send()
            .await
            .map_err(|e| failed(session, "identitystore:DescribeGroup", e))?;
        let mut members = Vec::new();
        let mut pages = store
            .list_group_memberships()
            .identity_store_id(&identity_store_id)
            .group_id(id)
            .into_paginator()
            .items()
            .send();
        while let Some(m) = pages.next().await {
            let m = m.map_err(|e| failed(session, "identitystore:ListGroupMemberships", e))?;
            if let Some(aws_sdk_identitystore::types::MemberId::UserId(u)) = m.member_id() {
                members.push(u.clone());
                user_ids.insert(u.clone());
            }
        }
        groups.push((
            id.to_string(),
            g.display_name().unwrap_or(id).to_string(),
            members,
        ));
    }
    user_ids.extend(
        assignments
            .iter()
            .filter(|a| a.principal_type == "USER")
            .map(|a| a.principal_id.clone()),
    );
    let mut users = BTreeMap::new();
    for id in user_ids {
        let u = store
            .describe_user()
            .identity_store_id(&identity_store_id)
            .user_id(&id)
            .send()
            .await
            .map_err(|e| failed(session, "identitystore:DescribeUser", e))?;
        let name = u
            .user_name()
            .or(u.display_name())
            .unwrap_or(&id)
            .to_string();
        users.insert(id, name);
    }
    Ok(IdentityCenter {
        instance_arn,
        identity_store_id,
        region,
        assignments,
        users: users.into_iter().collect(),
        groups,
    })
}

/// The instance to read: the one named, else the only (or first) ListInstances gives.
async fn instance(
    admin: &aws_sdk_ssoadmin::Client,
    session: &Session,
    spec: &IdentityCenterSpec,
    region: &str,
) -> Result<(String, String), IdentityCenterError> {
    let mut found = Vec::new();
    let mut pages = admin.list_instances().into_paginator().items().send();
    while let Some(i) = pages.next().await {
        let i = i.map_err(|e| failed(session, "sso:ListInstances", e))?;
        if let (Some(arn), Some(store)) = (i.instance_arn(), i.identity_store_id()) {
            found.push((arn.to_string(), store.to_string()));
        }
    }
    let chosen = match &spec.instance_arn {
        Some(want) => found
            .iter()
            .find(|(a, _)| a == want)
            .cloned()
            .ok_or_else(|| IdentityCenterError::UnknownInstance {
                arn: want.clone(),
                region: region.to_string(),
                found: if found.is_empty() {
                    "none".into()
                } else {
                    found
                        .iter()
                        .map(|f| f.0.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            })?,
        None => found
            .first()
            .cloned()
            .ok_or_else(|| IdentityCenterError::NoInstance {
                region: region.to_string(),
            })?,
    };
    match &spec.identity_store_id {
        Some(s) => Ok((chosen.0, s.clone())),
        None => Ok(chosen),
    }
}
