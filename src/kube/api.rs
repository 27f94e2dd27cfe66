//! The few Kubernetes API calls okscript makes: the aws-auth ConfigMap, who am I
//! (SelfSubjectReview), may I (SelfSubjectAccessReview), and pod names.

use std::collections::BTreeMap;

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{ListParams, PostParams};
use kube::Api;

use super::error::KubeError;

/// The namespace and name of aws-auth.
pub const AWS_AUTH: (&str, &str) = ("kube-system", "aws-auth");

/// A ConfigMap, or `None` when it does not exist.
pub async fn get_config_map(
    client: &kube::Client,
    ns: &str,
    name: &str,
) -> Result<Option<ConfigMap>, KubeError> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    match api.get(name).await {
        Ok(cm) => Ok(Some(cm)),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
        Err(e) => Err(KubeError::from_kube(
            &format!("reading configmap {ns}/{name}"),
            e,
        )),
    }
}

/// Replaces a ConfigMap; its `metadata.resourceVersion` is the precondition (409 if stale).
pub async fn replace_config_map(
    client: &kube::Client,
    cm: &ConfigMap,
) -> Result<ConfigMap, KubeError> {
    let (api, what) = config_map_api(client, cm, "replacing");
    let name = cm.metadata.name.as_deref().unwrap_or_default();
    api.replace(name, &PostParams::default(), cm)
        .await
        .map_err(|e| KubeError::from_kube(&what, e))
}

/// Creates a ConfigMap (409 AlreadyExists when someone was first).
pub async fn create_config_map(
    client: &kube::Client,
    cm: &ConfigMap,
) -> Result<ConfigMap, KubeError> {
    let (api, what) = config_map_api(client, cm, "creating");
    api.create(&PostParams::default(), cm)
        .await
        .map_err(|e| KubeError::from_kube(&what, e))
}

/// The API of a ConfigMap's namespace, and `VERB configmap NS/NAME` for errors.
fn config_map_api(client: &kube::Client, cm: &ConfigMap, verb: &str) -> (Api<ConfigMap>, String) {
    let ns = cm.metadata.namespace.as_deref().unwrap_or_default();
    let name = cm.metadata.name.as_deref().unwrap_or_default();
    (
        Api::namespaced(client.clone(), ns),
        format!("{verb} configmap {ns}/{name}"),
    )
}

/// Who the API server says the caller is.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct WhoAmI {
    /// The Kubernetes username.
    pub username: String,
    /// The groups.
    pub groups: Vec<String>,
    /// The IAM ARN EKS attached (`extra.arn`), when there is one.
    pub arn: String,
    /// Every extra field.
    pub extra: BTreeMap<String, Vec<String>>,
}

/// SelfSubjectReview: the caller as the cluster sees it.
pub async fn whoami(client: &kube::Client) -> Result<WhoAmI, KubeError> {
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    let review = api
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .map_err(|e| KubeError::from_kube("asking who you are (SelfSubjectReview)", e))?;
    let info = review.status.and_then(|s| s.user_info).unwrap_or_default();
    let extra: BTreeMap<String, Vec<String>> = info.extra.unwrap_or_default().into_iter().collect();
    let arn = extra
        .get("arn")
        .or_else(|| extra.get("canonicalArn"))
        .and_then(|v| v.first().cloned())
        .unwrap_or_default();
    Ok(WhoAmI {
        username: info.username.unwrap_or_default(),
        groups: info.groups.unwrap_or_default(),
        arn,
        extra,
    })
}

/// SelfSubjectAccessReview: may the caller `verb` `resource` (in `namespace`)?
pub async fn can_i(
    client: &kube::Client,
    verb: &str,
    resource: &str,
    namespace: Option<&str>,
) -> Result<bool, KubeError> {
    let (resource, group) = match resource.split_once('.') {
        Some((r, g)) => (r.to_string(), Some(g.to_string())),
        None => (resource.to_string(), None),
    };
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.to_string()),
                resource: Some(resource),
                group,
                namespace: namespace.map(str::to_string),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let out = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| KubeError::from_kube("asking what you may do (SelfSubjectAccessReview)", e))?;
    Ok(out.status.is_some_and(|s| s.allowed))
}

/// The names of the pods in a namespace.
pub async fn pod_names(client: &kube::Client, namespace: &str) -> Result<Vec<String>, KubeError> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let pods = api
        .list(&ListParams::default())
        .await
        .map_err(|e| KubeError::from_kube(&format!("listing pods in {namespace}"), e))?;
    Ok(pods
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect())
}
