//! EKS clusters: what okscript needs to connect to one (endpoint, CA, region, mode).

use aws_sdk_eks::types::Cluster;
use base64::Engine as _;
use serde::Serialize;

use super::error::AwsError;
use super::identity::parse_arn;
use super::session::{sdk_error, Session};

/// An EKS cluster, as plain data: everything needed to reach its API server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterInfo {
    /// The cluster name.
    pub name: String,
    /// The cluster ARN, `arn:aws:eks:REGION:ACCOUNT:cluster/NAME`.
    pub arn: String,
    /// The region the cluster lives in (from the ARN, else the session's).
    pub region: String,
    /// The API server URL, `https://....eks.amazonaws.com`.
    pub endpoint: String,
    /// The cluster CA exactly as EKS returns it: base64 of a PEM bundle. This is what a
    /// kubeconfig's `certificate-authority-data` holds.
    pub certificate_authority_data: String,
    /// The decoded CA bundle when it is PEM text (`-----BEGIN CERTIFICATE-----`); `None`
    /// when the data is valid base64 of something else (moto returns random bytes).
    pub certificate_authority_pem: Option<String>,
    /// `ACTIVE` or `UPDATING` (other states are errors).
    pub status: String,
    /// `accessConfig.authenticationMode`: `CONFIG_MAP`, `API_AND_CONFIG_MAP` or `API`;
    /// `None` when EKS does not say (older clusters, and moto).
    pub authentication_mode: Option<String>,
    /// The Kubernetes version, e.g. `1.31`.
    pub version: Option<String>,
}

/// `accessConfig.authenticationMode`: which mechanism EKS authenticates through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AuthMode {
    /// Only the aws-auth ConfigMap (also what a cluster that reports no mode uses).
    ConfigMap,
    /// Access entries first; aws-auth for principals that have no entry.
    ApiAndConfigMap,
    /// Only access entries: EKS ignores aws-auth.
    Api,
}

impl AuthMode {
    /// The name EKS uses, e.g. `API_AND_CONFIG_MAP`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::ConfigMap => "CONFIG_MAP",
            AuthMode::ApiAndConfigMap => "API_AND_CONFIG_MAP",
            AuthMode::Api => "API",
        }
    }

    /// The mode named by EKS's string; `None` for a name okscript does not know.
    pub fn parse(text: &str) -> Option<AuthMode> {
        [
            AuthMode::ConfigMap,
            AuthMode::ApiAndConfigMap,
            AuthMode::Api,
        ]
        .into_iter()
        .find(|m| m.as_str() == text)
    }

    /// Whether EKS reads aws-auth at all in this mode.
    pub fn reads_aws_auth(self) -> bool {
        self != AuthMode::Api
    }
}

impl std::fmt::Display for AuthMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ClusterInfo {
    /// The mode EKS authenticates through. A cluster that reports no `accessConfig` predates
    /// access entries (and moto reports none): it reads aws-auth only, so CONFIG_MAP. A mode
    /// okscript does not know is treated as API, the safe side: aws-auth writes are refused.
    pub fn auth_mode(&self) -> AuthMode {
        match self.authentication_mode.as_deref() {
            None => AuthMode::ConfigMap,
            Some(m) => AuthMode::parse(m).unwrap_or(AuthMode::Api),
        }
    }
}

/// The principal ARNs that have an access entry on `cluster` (EKS ListAccessEntries, all
/// pages).
///
/// # Errors
/// An AWS error (e.g. AccessDenied for eks:ListAccessEntries).
pub async fn list_access_entries(
    session: &Session,
    cluster: &str,
) -> Result<Vec<String>, AwsError> {
    let mut pages = session
        .eks_client()
        .list_access_entries()
        .cluster_name(cluster)
        .into_paginator()
        .send();
    let mut arns = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            sdk_error(
                e,
                "eks:ListAccessEntries",
                session.endpoint_eks(),
                session.redactor(),
            )
        })?;
        arns.extend(page.access_entries().iter().cloned());
    }
    Ok(arns)
}

pub use crate::access::intent::CLUSTER_ADMIN_POLICY;

/// Where an access policy applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum PolicyScope {
    /// The whole cluster.
    Cluster,
    /// These namespaces (`team-*` wildcards allowed), sorted.
    Namespaces(Vec<String>),
}

impl std::fmt::Display for PolicyScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyScope::Cluster => f.write_str("cluster"),
            PolicyScope::Namespaces(ns) => write!(f, "namespaces {}", ns.join(",")),
        }
    }
}

/// One access policy associated with an entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PolicyAssociation {
    /// The policy ARN, `arn:aws:eks::aws:cluster-access-policy/NAME`.
    pub policy_arn: String,
    /// Where it applies.
    pub scope: PolicyScope,
}

impl PolicyAssociation {
    /// The policy's short name (`AmazonEKSViewPolicy`).
    pub fn name(&self) -> &str {
        self.policy_arn
            .rsplit('/')
            .next()
            .unwrap_or(&self.policy_arn)
    }
}

/// One EKS access entry with its policy associations, as plain data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessEntryInfo {
    /// The principal's IAM ARN (a role's with its path).
    pub principal_arn: String,
    /// `STANDARD`, `EC2_LINUX`, `EC2_WINDOWS`, `FARGATE_LINUX`, `EC2` or `HYBRID_LINUX`.
    pub kind: String,
    /// The Kubernetes username, when EKS reports one.
    pub username: Option<String>,
    /// The Kubernetes groups.
    pub groups: Vec<String>,
    /// The associated access policies, sorted.
    pub policies: Vec<PolicyAssociation>,
}

/// How many entries a full read describes at once.
const READ_CONCURRENCY: usize = 8;

/// What an access-entry write call needs: the cluster and the session to call EKS with.
#[derive(Clone, Copy)]
pub struct EntriesAt<'a> {
    /// The session.
    pub session: &'a Session,
    /// The cluster name.
    pub cluster: &'a str,
}

/// True for AWS errors worth retrying later: throttling, server errors, no answer.
pub fn is_transient(e: &AwsError) -> bool {
    match e {
        AwsError::Unreachable { .. } => true,
        AwsError::Api { code, .. } => {
            code.contains("Throttl")
                || code.contains("ServerException")
                || code.contains("ServiceUnavailable")
                || code.starts_with("HTTP 5")
        }
        _ => false,
    }
}

/// True when EKS answered that the entry (or association) does not exist.
pub fn is_not_found(e: &AwsError) -> bool {
    matches!(e, AwsError::Api { code, .. } if code.contains("ResourceNotFound"))
}

/// True when EKS answered 409 ResourceInUse: the entry exists already.
pub fn is_in_use(e: &AwsError) -> bool {
    matches!(e, AwsError::Api { code, .. } if code.contains("ResourceInUse"))
}

fn scope_of(s: Option<&aws_sdk_eks::types::AccessScope>) -> PolicyScope {
    match s {
        Some(s) if s.r#type() == Some(&aws_sdk_eks::types::AccessScopeType::Namespace) => {
            let mut ns = s.namespaces().to_vec();
            ns.sort();
            PolicyScope::Namespaces(ns)
        }
        _ => PolicyScope::Cluster,
    }
}

impl EntriesAt<'_> {
    fn err<E>(
        &self,
        op: &'static str,
    ) -> impl Fn(aws_sdk_eks::error::SdkError<E, aws_sdk_eks::config::http::HttpResponse>) -> AwsError + '_
    where
        E: aws_sdk_eks::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        move |e| sdk_error(e, op, self.session.endpoint_eks(), self.session.redactor())
    }

    /// Every access entry with its policies: ListAccessEntries, then DescribeAccessEntry and
    /// ListAssociatedAccessPolicies per entry (an entry deleted meanwhile is skipped).
    ///
    /// # Errors
    /// An AWS error.
    pub async fn read_all(&self) -> Result<Vec<AccessEntryInfo>, AwsError> {
        let arns = list_access_entries(self.session, self.cluster).await?;
        let mut out = Vec::new();
        // Two calls per entry: a few at a time, or a cluster of hundreds takes minutes.
        for chunk in arns.chunks(READ_CONCURRENCY) {
            let mut set = tokio::task::JoinSet::new();
            for (i, arn) in chunk.iter().enumerate() {
                let (session, cluster, arn) =
                    (self.session.clone(), self.cluster.to_string(), arn.clone());
                set.spawn(async move {
                    let at = EntriesAt {
                        session: &session,
                        cluster: &cluster,
                    };
                    (i, at.describe(&arn).await)
                });
            }
            let mut got = vec![None; chunk.len()];
            while let Some(joined) = set.join_next().await {
                let (i, described) = joined.map_err(|e| AwsError::Api {
                    operation: "eks:DescribeAccessEntry",
                    code: "TaskFailed".into(),
                    message: e.to_string(),
                })?;
                got[i] = described?;
            }
            out.extend(got.into_iter().flatten());
        }
        Ok(out)
    }

    /// When the principal's entry was created (DescribeAccessEntry), in seconds since the
    /// epoch; `None` when it has none. An entry holds the unique ID its role had then, so a
    /// role created later is a recreated one the entry no longer admits.
    ///
    /// # Errors
    /// An EKS error other than not-found.
    pub async fn created_at(&self, arn: &str) -> Result<Option<f64>, AwsError> {
        Ok(self
            .describe_entry(arn)
            .await?
            .and_then(|e| e.created_at().map(|t| t.as_secs_f64())))
    }

    /// DescribeAccessEntry as EKS answers it; `None` when EKS does not have the entry.
    async fn describe_entry(
        &self,
        arn: &str,
    ) -> Result<Option<aws_sdk_eks::types::AccessEntry>, AwsError> {
        let out = self
            .session
            .eks_client()
            .describe_access_entry()
            .cluster_name(self.cluster)
            .principal_arn(arn)
            .send()
            .await
            .map_err(self.err("eks:DescribeAccessEntry"));
        match out {
            Err(e) if is_not_found(&e) => Ok(None),
            other => Ok(other?.access_entry),
        }
    }

    /// One entry with its policies; `None` when EKS does not have it (or not visibly yet).
    ///
    /// # Errors
    /// An AWS error other than not found.
    pub async fn describe(&self, arn: &str) -> Result<Option<AccessEntryInfo>, AwsError> {
        let eks = self.session.eks_client();
        let Some(entry) = self.describe_entry(arn).await? else {
            return Ok(None);
        };
        let mut policies = Vec::new();
        let mut pages = eks
            .list_associated_access_policies()
            .cluster_name(self.cluster)
            .principal_arn(arn)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page.map_err(self.err("eks:ListAssociatedAccessPolicies")) {
                Err(e) if is_not_found(&e) => return Ok(None),
                other => other?,
            };
            for p in page.associated_access_policies() {
                policies.push(PolicyAssociation {
                    policy_arn: p.policy_arn().unwrap_or_default().to_string(),
                    scope: scope_of(p.access_scope()),
                });
            }
        }
        policies.sort();
        Ok(Some(AccessEntryInfo {
            principal_arn: entry.principal_arn().unwrap_or(arn).to_string(),
            kind: entry.r#type().unwrap_or("STANDARD").to_string(),
            username: entry.username().map(str::to_string),
            groups: entry.kubernetes_groups().to_vec(),
            policies,
        }))
    }

    /// CreateAccessEntry (type STANDARD).
    ///
    /// # Errors
    /// An AWS error; [`is_in_use`] tells a 409 apart.
    pub async fn create(
        &self,
        arn: &str,
        groups: &[String],
        username: Option<&str>,
    ) -> Result<(), AwsError> {
        self.session
            .eks_client()
            .create_access_entry()
            .cluster_name(self.cluster)
            .principal_arn(arn)
            .set_kubernetes_groups(Some(groups.to_vec()))
            .set_username(username.map(str::to_string))
            .send()
            .await
            .map(|_| ())
            .map_err(self.err("eks:CreateAccessEntry"))
    }

    /// UpdateAccessEntry: `groups` replaces the list; `None` leaves a field as it is.
    ///
    /// # Errors
    /// An AWS error.
    pub async fn update(
        &self,
        arn: &str,
        groups: Option<&[String]>,
        username: Option<&str>,
    ) -> Result<(), AwsError> {
        self.session
            .eks_client()
            .update_access_entry()
            .cluster_name(self.cluster)
            .principal_arn(arn)
            .set_kubernetes_groups(groups.map(<[String]>::to_vec))
            .set_username(username.map(str::to_string))
            .send()
            .await
            .map(|_| ())
            .map_err(self.err("eks:UpdateAccessEntry"))
    }

    /// DeleteAccessEntry (its associations go with it).
    ///
    /// # Errors
    /// An AWS error.
    pub async fn delete(&self, arn: &str) -> Result<(), AwsError> {
        self.session
            .eks_client()
            .delete_access_entry()
            .cluster_name(self.cluster)
            .principal_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(self.err("eks:DeleteAccessEntry"))
    }

    /// AssociateAccessPolicy (again with another scope replaces the scope).
    ///
    /// # Errors
    /// An AWS error.
    pub async fn associate(&self, arn: &str, policy: &PolicyAssociation) -> Result<(), AwsError> {
        use aws_sdk_eks::types::{AccessScope, AccessScopeType};
        let scope = match &policy.scope {
            PolicyScope::Cluster => AccessScope::builder().r#type(AccessScopeType::Cluster),
            PolicyScope::Namespaces(ns) => AccessScope::builder()
                .r#type(AccessScopeType::Namespace)
                .set_namespaces(Some(ns.clone())),
        };
        self.session
            .eks_client()
            .associate_access_policy()
            .cluster_name(self.cluster)
            .principal_arn(arn)
            .policy_arn(&policy.policy_arn)
            .access_scope(scope.build())
            .send()
            .await
            .map(|_| ())
            .map_err(self.err("eks:AssociateAccessPolicy"))
    }

    /// DisassociateAccessPolicy.
    ///
    /// # Errors
    /// An AWS error.
    pub async fn disassociate(&self, arn: &str, policy_arn: &str) -> Result<(), AwsError> {
        self.session
            .eks_client()
            .disassociate_access_policy()
            .cluster_name(self.cluster)
            .principal_arn(arn)
            .policy_arn(policy_arn)
            .send()
            .await
            .map(|_| ())
            .map_err(self.err("eks:DisassociateAccessPolicy"))
    }

    /// The access policy catalogue (ListAccessPolicies, all pages): `(name, arn)` pairs.
    ///
    /// # Errors
    /// An AWS error.
    pub async fn policies(&self) -> Result<Vec<(String, String)>, AwsError> {
        let mut pages = self
            .session
            .eks_client()
            .list_access_policies()
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(self.err("eks:ListAccessPolicies"))?;
            for p in page.access_policies() {
                out.push((
                    p.name().unwrap_or_default().to_string(),
                    p.arn().unwrap_or_default().to_string(),
                ));
            }
        }
        Ok(out)
    }
}

/// The statuses in which a cluster's API server answers. `UPDATING` is one: a version
/// upgrade or a config change keeps the endpoint up (the AWS CLI's `update-kubeconfig`
/// accepts it too).
pub const SERVING_STATUSES: [&str; 2] = ["ACTIVE", "UPDATING"];

/// Describes the EKS cluster `name` in the session's region (EKS DescribeCluster).
///
/// # Errors
/// [`AwsError::ClusterNotFound`] listing the clusters that exist in the region (EKS
/// ListClusters, when allowed), [`AwsError::ClusterNotActive`] naming the status of a cluster that is
/// CREATING, DELETING, FAILED or PENDING, [`AwsError::ClusterIncomplete`] when the endpoint
/// or CA is missing or not base64, [`AwsError::InvalidClusterName`], or an AWS error.
pub async fn describe_cluster(session: &Session, name: &str) -> Result<ClusterInfo, AwsError> {
    validate_cluster_name(name)?;
    let eks = session.eks_client();
    let out = eks.describe_cluster().name(name).send().await;
    let out = match out {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Err(AwsError::ClusterNotFound {
                name: name.to_string(),
                region: session.region().to_string(),
                // a caller allowed DescribeCluster but not ListClusters still learns the
                // cluster is missing
                available: list_clusters(session).await.ok(),
            });
        }
        Err(e) => {
            return Err(sdk_error(
                e,
                "eks:DescribeCluster",
                session.endpoint_eks(),
                session.redactor(),
            ))
        }
    };
    let cluster = out.cluster().ok_or_else(|| AwsError::Api {
        operation: "eks:DescribeCluster",
        code: "IncompleteResponse".into(),
        message: "the response has no cluster".into(),
    })?;
    cluster_info(cluster, name, session.region())
}

/// The names of the EKS clusters in the session's region, sorted (EKS ListClusters, all pages).
///
/// # Errors
/// An AWS error (e.g. AccessDenied for eks:ListClusters).
pub async fn list_clusters(session: &Session) -> Result<Vec<String>, AwsError> {
    let mut pages = session.eks_client().list_clusters().into_paginator().send();
    let mut names = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            sdk_error(
                e,
                "eks:ListClusters",
                session.endpoint_eks(),
                session.redactor(),
            )
        })?;
        names.extend(page.clusters().iter().cloned());
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// Checks an EKS cluster name: 1–100 characters, letters, digits, `-` and `_`, starting
/// with a letter or digit (EKS's own rule). Names are also sent as a header value in the
/// token, so nothing else may pass.
///
/// # Errors
/// [`AwsError::InvalidClusterName`].
pub fn validate_cluster_name(name: &str) -> Result<(), AwsError> {
    let bad = |reason: &str| AwsError::InvalidClusterName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if name.is_empty() || name.len() > 100 {
        return Err(bad("it must be 1 to 100 characters long"));
    }
    if !name.as_bytes()[0].is_ascii_alphanumeric() {
        return Err(bad("it must start with a letter or a digit"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(bad(&format!("`{c}` is not allowed")));
    }
    Ok(())
}

/// Turns EKS's description into a [`ClusterInfo`], refusing a cluster that does not serve.
pub(crate) fn cluster_info(
    cluster: &Cluster,
    asked: &str,
    session_region: &str,
) -> Result<ClusterInfo, AwsError> {
    let name = cluster.name().unwrap_or(asked).to_string();
    let status = cluster
        .status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|| "UNKNOWN".into());
    if !SERVING_STATUSES.contains(&status.as_str()) {
        return Err(AwsError::ClusterNotActive { name, status });
    }
    let incomplete = |what: &'static str, problem: &str| AwsError::ClusterIncomplete {
        name: name.clone(),
        what,
        problem: problem.to_string(),
    };
    let arn = cluster.arn().unwrap_or_default().to_string();
    let region = parse_arn(&arn)
        .ok()
        .and_then(|_| arn.split(':').nth(3).map(str::to_string))
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| session_region.to_string());
    let endpoint = cluster
        .endpoint()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| incomplete("endpoint", "EKS reported none"))?;
    if !endpoint.starts_with("https://") {
        return Err(incomplete(
            "endpoint",
            &format!("`{endpoint}` is not an https:// URL"),
        ));
    }
    let ca_data: String = cluster
        .certificate_authority()
        .and_then(|c| c.data())
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if ca_data.is_empty() {
        return Err(incomplete("certificate authority", "EKS reported none"));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&ca_data)
        .map_err(|e| incomplete("certificate authority", &format!("it is not base64 ({e})")))?;
    let pem = String::from_utf8(decoded)
        .ok()
        .filter(|t| t.contains("-----BEGIN CERTIFICATE-----"));
    Ok(ClusterInfo {
        name,
        arn,
        region,
        endpoint: endpoint.to_string(),
        certificate_authority_data: ca_data,
        certificate_authority_pem: pem,
        status,
        authentication_mode: cluster
            .access_config()
            .and_then(|a| a.authentication_mode())
            .map(|m| m.as_str().to_string()),
        version: cluster.version().map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_eks::types::{
        AccessConfigResponse, AuthenticationMode, Certificate, ClusterStatus,
    };

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    fn cluster(status: ClusterStatus) -> Cluster {
        Cluster::builder()
            .name("prod")
            .arn("arn:aws:eks:eu-north-1:123456789012:cluster/prod")
            .endpoint("https://ABC.gr7.eu-north-1.eks.amazonaws.com")
            .certificate_authority(
                Certificate::builder()
                    .data(base64::engine::general_purpose::STANDARD.encode(PEM))
                    .build(),
            )
            .status(status)
            .version("1.31")
            .access_config(
                AccessConfigResponse::builder()
                    .authentication_mode(AuthenticationMode::ApiAndConfigMap)
                    .build(),
            )
            .build()
    }

    #[test]
    fn active_cluster() {
        let info = cluster_info(&cluster(ClusterStatus::Active), "prod", "eu-west-1").unwrap();
        assert_eq!(info.region, "eu-north-1", "the ARN's region wins");
        assert_eq!(info.certificate_authority_pem.as_deref(), Some(PEM));
        assert_eq!(
            info.authentication_mode.as_deref(),
            Some("API_AND_CONFIG_MAP")
        );
        assert_eq!(info.version.as_deref(), Some("1.31"));
        assert_eq!(info.status, "ACTIVE");
        assert_eq!(info.auth_mode(), AuthMode::ApiAndConfigMap);
        assert!(cluster_info(&cluster(ClusterStatus::Updating), "prod", "x").is_ok());
    }

    #[test]
    fn auth_modes() {
        let mut c = cluster(ClusterStatus::Active);
        c.access_config = None;
        let info = cluster_info(&c, "prod", "x").unwrap();
        assert_eq!(
            info.auth_mode(),
            AuthMode::ConfigMap,
            "no accessConfig: aws-auth only"
        );
        for m in ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"] {
            assert_eq!(AuthMode::parse(m).unwrap().as_str(), m);
        }
        let unknown = ClusterInfo {
            authentication_mode: Some("SOMETHING_NEW".into()),
            ..info
        };
        assert_eq!(
            unknown.auth_mode(),
            AuthMode::Api,
            "unknown modes refuse aws-auth"
        );
        assert!(!AuthMode::Api.reads_aws_auth());
        assert!(AuthMode::ApiAndConfigMap.reads_aws_auth());
    }

    #[test]
    fn not_serving_names_status() {
        for (s, word) in [
            (ClusterStatus::Creating, "CREATING"),
            (ClusterStatus::Deleting, "DELETING"),
            (ClusterStatus::Failed, "FAILED"),
            (ClusterStatus::Pending, "PENDING"),
        ] {
            let err = cluster_info(&cluster(s), "prod", "eu-north-1").unwrap_err();
            assert!(
                matches!(&err, AwsError::ClusterNotActive { status, .. } if status == word),
                "{err:?}"
            );
            assert!(err.to_string().contains(word), "{err}");
            assert!(err.hint().is_some());
        }
    }

    #[test]
    fn bad_ca_and_endpoint() {
        let mut c = cluster(ClusterStatus::Active);
        c.certificate_authority = Some(Certificate::builder().data("not base64!").build());
        let err = cluster_info(&c, "prod", "eu-north-1").unwrap_err();
        assert!(err.to_string().contains("not base64"), "{err}");
        let mut c = cluster(ClusterStatus::Active);
        c.endpoint = None;
        let err = cluster_info(&c, "prod", "eu-north-1").unwrap_err();
        assert!(err.to_string().contains("endpoint"), "{err}");
    }

    #[test]
    fn not_found_messages() {
        let err = |available| AwsError::ClusterNotFound {
            name: "staging".into(),
            region: "eu-north-1".into(),
            available,
        };
        assert_eq!(
            err(None).to_string(),
            "EKS cluster `staging` does not exist in eu-north-1 (the clusters there could not be listed)"
        );
        assert!(err(Some(vec![]))
            .to_string()
            .contains("has no EKS clusters"));
        assert!(err(Some(vec!["a".into(), "b".into()]))
            .to_string()
            .ends_with("the clusters there: a, b"));
    }

    #[test]
    fn cluster_names() {
        for ok in ["prod", "a", "my-cluster_2", "0abc"] {
            assert!(validate_cluster_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-x", "a b", "a\r\nx-evil: 1", &"x".repeat(101), "ü"] {
            assert!(validate_cluster_name(bad).is_err(), "{bad:?}");
        }
    }
}
