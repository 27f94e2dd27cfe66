//! Stepping a cluster's authentication mode (EKS UpdateClusterConfig): one way, one step at
//! a time, CONFIG_MAP → API_AND_CONFIG_MAP → API. The step is checked before the call, and
//! the asynchronous update is read back with DescribeUpdate.

use super::eks::AuthMode;
use super::error::AwsError;
use super::session::{sdk_error, Session};

/// Why stepping `from` → `to` is not allowed, as EKS would refuse it; `None` when it is (or
/// when there is nothing to do, `from == to`).
pub fn refused_step(from: AuthMode, to: AuthMode) -> Option<String> {
    let rank = |m: AuthMode| match m {
        AuthMode::ConfigMap => 0,
        AuthMode::ApiAndConfigMap => 1,
        AuthMode::Api => 2,
    };
    match rank(to) - rank(from) {
        0 | 1 => None,
        d if d < 0 => Some(format!(
            "the authentication mode cannot go back from {from} to {to}: EKS changes it one way only (CONFIG_MAP → API_AND_CONFIG_MAP → API)"
        )),
        _ => Some(format!(
            "the authentication mode steps one at a time: {from} → API_AND_CONFIG_MAP first, then API"
        )),
    }
}

/// An update EKS runs: its id and status (`InProgress`, `Successful`, `Failed`,
/// `Cancelled`) with the errors it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterUpdate {
    /// The update id (poll it with [`describe_update`]).
    pub id: String,
    /// The status as EKS names it.
    pub status: String,
    /// The error messages of a failed update.
    pub errors: Vec<String>,
}

fn update_of(u: Option<&aws_sdk_eks::types::Update>) -> ClusterUpdate {
    ClusterUpdate {
        id: u.and_then(|u| u.id()).unwrap_or_default().to_string(),
        status: u
            .and_then(|u| u.status())
            .map_or("InProgress", |s| s.as_str())
            .to_string(),
        errors: u
            .map(|u| u.errors())
            .unwrap_or_default()
            .iter()
            .map(|e| e.error_message().unwrap_or_default().to_string())
            .collect(),
    }
}

/// Starts the step of `cluster` to `to` (UpdateClusterConfig `accessConfig`).
///
/// # Errors
/// An AWS error (InvalidParameterException for a step EKS does not allow, AccessDenied).
pub async fn update_auth_mode(
    session: &Session,
    cluster: &str,
    to: AuthMode,
) -> Result<ClusterUpdate, AwsError> {
    let access = aws_sdk_eks::types::UpdateAccessConfigRequest::builder()
        .authentication_mode(aws_sdk_eks::types::AuthenticationMode::from(to.as_str()))
        .build();
    let out = session
        .eks_client()
        .update_cluster_config()
        .name(cluster)
        .access_config(access)
        .send()
        .await
        .map_err(|e| {
            sdk_error(
                e,
                "eks:UpdateClusterConfig",
                session.endpoint_eks(),
                session.redactor(),
            )
        })?;
    Ok(update_of(out.update()))
}

/// The state of an update of `cluster` (DescribeUpdate).
///
/// # Errors
/// An AWS error.
pub async fn describe_update(
    session: &Session,
    cluster: &str,
    id: &str,
) -> Result<ClusterUpdate, AwsError> {
    let out = session
        .eks_client()
        .describe_update()
        .name(cluster)
        .update_id(id)
        .send()
        .await
        .map_err(|e| {
            sdk_error(
                e,
                "eks:DescribeUpdate",
                session.endpoint_eks(),
                session.redactor(),
            )
        })?;
    Ok(update_of(out.update()))
}

/// Polls `update` (DescribeUpdate, backing off from 200 ms to 10 s) until EKS no longer
/// reports it InProgress or `limit` has passed; returns its last state, which the caller
/// judges (still InProgress after `limit`, Successful, or Failed with its errors).
///
/// # Errors
/// An AWS error of a DescribeUpdate call.
pub async fn wait_for_update(
    session: &Session,
    cluster: &str,
    mut update: ClusterUpdate,
    limit: std::time::Duration,
) -> Result<ClusterUpdate, AwsError> {
    let began = std::time::Instant::now();
    let mut wait = std::time::Duration::from_millis(200);
    while update.status == "InProgress" && began.elapsed() <= limit {
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(std::time::Duration::from_secs(10));
        update = describe_update(session, cluster, &update.id).await?;
    }
    Ok(update)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AuthMode::*;

    #[test]
    fn modes_step_one_way_one_at_a_time() {
        for (from, to) in [
            (ConfigMap, ApiAndConfigMap),
            (ApiAndConfigMap, Api),
            (Api, Api),
        ] {
            assert_eq!(refused_step(from, to), None, "{from} -> {to}");
        }
        assert!(refused_step(ConfigMap, Api)
            .unwrap()
            .contains("one at a time"));
        assert!(refused_step(Api, ApiAndConfigMap)
            .unwrap()
            .contains("one way only"));
        assert!(refused_step(ApiAndConfigMap, ConfigMap)
            .unwrap()
            .contains("cannot go back"));
    }
}
