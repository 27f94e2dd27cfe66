//! A temporary cluster-admin access entry: the way back in that AWS documents when aws-auth no
//! longer admits the identity that wrote it. `okscript rescue` and the aws-auth target's
//! lockout rollback both go through it.

use std::time::{Duration, Instant};

use super::eks::{EntriesAt, PolicyAssociation, PolicyScope, CLUSTER_ADMIN_POLICY};

/// Creates the entry of `arn` (its real ARN, path included) with AmazonEKSClusterAdminPolicy
/// at cluster scope, then waits (at most `wait`) until EKS shows it with that association:
/// entries are eventually consistent, and the apiserver admits only through one EKS shows.
///
/// On an error the entry may exist (the create landed, a later call failed): the caller
/// checks with `describe` before reporting what to clean up.
pub async fn enter_as_cluster_admin(
    at: EntriesAt<'_>,
    arn: &str,
    wait: Duration,
) -> Result<(), String> {
    at.create(arn, &[], None).await.map_err(|e| e.to_string())?;
    let admin = PolicyAssociation {
        policy_arn: CLUSTER_ADMIN_POLICY.to_string(),
        scope: PolicyScope::Cluster,
    };
    at.associate(arn, &admin).await.map_err(|e| e.to_string())?;
    let began = Instant::now();
    while at
        .describe(arn)
        .await
        .map_err(|e| e.to_string())?
        .is_none_or(|e| !e.policies.contains(&admin))
    {
        if began.elapsed() > wait {
            return Err("EKS did not show the new entry in time".into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}
