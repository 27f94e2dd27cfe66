//! HTTP for the EKS fake: restJson1 routes from botocore's service model (`eks/2017-11-01`),
//! percent-decoded path labels (a principal ARN is one label), injected faults, IAM lookups,
//! and the request log. Every error leaves as EKS sends it: status, `x-amzn-ErrorType` and
//! `{"message": …}`.
//!
//! Rules live in `model.rs`; this file only turns requests into model calls.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::{json, Value};

use super::errors::EksError;
use super::iam::Iam;
use super::model::{self, Model};
use super::rules::{self, Principal, PrincipalRef};
use super::{EksFaults, EksRequest};

/// What the server and the test share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) model: Arc<Mutex<Model>>,
    pub(crate) iam: Option<Iam>,
    pub(crate) faults: EksFaults,
    pub(crate) log: Mutex<Vec<EksRequest>>,
}

impl Shared {
    pub(crate) fn model(&self) -> std::sync::MutexGuard<'_, Model> {
        let mut model = self.model.lock().expect("EKS model lock");
        model.tick(Instant::now());
        model
    }
}

/// Percent-decodes one path label.
fn decode(label: &str) -> String {
    let bytes = label.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A request matched to an operation, with its decoded labels.
struct Call {
    operation: &'static str,
    cluster: Option<String>,
    principal: Option<String>,
    extra: Option<String>,
}

fn route(method: &str, path: &str) -> Option<Call> {
    let labels: Vec<String> = path.trim_matches('/').split('/').map(decode).collect();
    let l: Vec<&str> = labels.iter().map(String::as_str).collect();
    let call = |operation, cluster: Option<&str>, principal: Option<&str>, extra: Option<&str>| {
        Some(Call {
            operation,
            cluster: cluster.map(str::to_string),
            principal: principal.map(str::to_string),
            extra: extra.map(str::to_string),
        })
    };
    match (method, l.as_slice()) {
        ("POST", ["clusters"]) => call("CreateCluster", None, None, None),
        ("GET", ["clusters"]) => call("ListClusters", None, None, None),
        ("GET", ["clusters", c]) => call("DescribeCluster", Some(c), None, None),
        ("DELETE", ["clusters", c]) => call("DeleteCluster", Some(c), None, None),
        ("POST", ["clusters", c, "update-config"]) => {
            call("UpdateClusterConfig", Some(c), None, None)
        }
        ("GET", ["clusters", c, "updates", id]) => call("DescribeUpdate", Some(c), None, Some(id)),
        ("POST", ["clusters", c, "access-entries"]) => {
            call("CreateAccessEntry", Some(c), None, None)
        }
        ("GET", ["clusters", c, "access-entries"]) => {
            call("ListAccessEntries", Some(c), None, None)
        }
        ("GET", ["clusters", c, "access-entries", p]) => {
            call("DescribeAccessEntry", Some(c), Some(p), None)
        }
        ("POST", ["clusters", c, "access-entries", p]) => {
            call("UpdateAccessEntry", Some(c), Some(p), None)
        }
        ("DELETE", ["clusters", c, "access-entries", p]) => {
            call("DeleteAccessEntry", Some(c), Some(p), None)
        }
        ("POST", ["clusters", c, "access-entries", p, "access-policies"]) => {
            call("AssociateAccessPolicy", Some(c), Some(p), None)
        }
        ("GET", ["clusters", c, "access-entries", p, "access-policies"]) => {
            call("ListAssociatedAccessPolicies", Some(c), Some(p), None)
        }
        ("DELETE", ["clusters", c, "access-entries", p, "access-policies", pol]) => {
            call("DisassociateAccessPolicy", Some(c), Some(p), Some(pol))
        }
        ("GET", ["access-policies"]) => call("ListAccessPolicies", None, None, None),
        _ => None,
    }
}

/// The access key id of a SigV4 `Authorization` header.
fn access_key(authorization: &str) -> Option<String> {
    let start = authorization.find("Credential=")? + "Credential=".len();
    let key = authorization[start..].split('/').next()?;
    (!key.is_empty()).then(|| key.to_string())
}

/// Resolves a principal ARN through IAM the way EKS does: the exact ARN (path included) must
/// be the role's or user's real ARN.
async fn resolve(iam: Option<&Iam>, arn: &str) -> Result<Principal, EksError> {
    let reference = rules::parse_principal(arn)?;
    let Some(iam) = iam else {
        return Ok(Principal {
            arn: arn.into(),
            unique_id: None,
        });
    };
    let (kind, name) = match &reference {
        PrincipalRef::Role { name } => ("role", name),
        PrincipalRef::User { name } => ("user", name),
    };
    match iam.get(kind, name).await {
        Ok(Some(found)) if found.arn == arn => Ok(Principal {
            arn: arn.into(),
            unique_id: Some(found.unique_id),
        }),
        Ok(_) => Err(EksError::invalid_principal()),
        Err(e) => Err(EksError::server(format!("the fake could not ask IAM: {e}"))),
    }
}

/// The IAM principal behind the caller's access key (an assumed role becomes its role).
async fn creator(iam: Option<&Iam>, key: Option<&str>) -> Option<Principal> {
    let (iam, key) = (iam?, key?);
    let (arn, _) = iam.caller(key).await.ok()?;
    let (kind, name) = if let Some(rest) = arn.split_once(":assumed-role/").map(|(_, r)| r) {
        ("role", rest.split('/').next()?.to_string())
    } else {
        let resource = arn.splitn(6, ':').nth(5)?;
        let (kind, rest) = resource.split_once('/')?;
        (
            if kind == "user" { "user" } else { return None },
            rest.rsplit('/').next()?.to_string(),
        )
    };
    let found = iam.get(kind, &name).await.ok()??;
    Some(Principal {
        arn: found.arn,
        unique_id: Some(found.unique_id),
    })
}

/// Handles one request.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let query: BTreeMap<String, String> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let key = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(access_key);
    let body = match Limited::new(body, 1 << 20).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let json_body: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let Some(call) = route(&method, &path) else {
        let err = EksError {
            status: 404,
            kind: "UnknownOperationException",
            message: format!("The fake EKS has no operation for {method} {path}"),
        };
        return Ok(respond(&shared, "Unknown", None, None, key, Err(err)));
    };
    let principal = call
        .principal
        .clone()
        .or_else(|| json_body["principalArn"].as_str().map(str::to_string));
    let result = if let Some(fault) = shared.faults.take(call.operation) {
        Err(fault)
    } else if json_body.is_null() {
        Err(EksError {
            status: 400,
            kind: "SerializationException",
            message: "The request body is not JSON".into(),
        })
    } else {
        dispatch(&shared, &call, &query, &json_body, key.as_deref()).await
    };
    Ok(respond(
        &shared,
        call.operation,
        call.cluster,
        principal,
        key,
        result,
    ))
}

async fn dispatch(
    shared: &Shared,
    call: &Call,
    query: &BTreeMap<String, String>,
    body: &Value,
    key: Option<&str>,
) -> Result<Value, EksError> {
    let q = |name: &str| query.get(name).map(String::as_str);
    let cluster = call.cluster.as_deref().unwrap_or_default();
    let principal = call.principal.as_deref().unwrap_or_default();
    let now = Instant::now();
    match call.operation {
        "CreateCluster" => {
            let creator = creator(shared.iam.as_ref(), key).await;
            shared.model().create_cluster(body, creator, now)
        }
        "ListClusters" => shared
            .model()
            .list_clusters(q("maxResults"), q("nextToken")),
        "DescribeCluster" => shared.model().describe_cluster(cluster),
        "DeleteCluster" => shared.model().delete_cluster(cluster),
        "UpdateClusterConfig" => shared.model().update_cluster_config(cluster, body, now),
        "DescribeUpdate" => shared
            .model()
            .describe_update(cluster, call.extra.as_deref().unwrap_or_default()),
        "CreateAccessEntry" => {
            shared.model().check_entries_allowed(cluster)?;
            let arn = body["principalArn"]
                .as_str()
                .ok_or_else(|| EksError::invalid_parameter("principalArn is required"))?;
            let resolved = resolve(shared.iam.as_ref(), arn).await?;
            shared
                .model()
                .create_entry(cluster, body, resolved, Instant::now())
        }
        "ListAccessEntries" => shared.model().list_entries(
            cluster,
            q("associatedPolicyArn"),
            q("maxResults"),
            q("nextToken"),
            now,
        ),
        "DescribeAccessEntry" => shared.model().describe_entry(cluster, principal, now),
        "UpdateAccessEntry" => shared.model().update_entry(cluster, principal, body, now),
        "DeleteAccessEntry" => shared.model().delete_entry(cluster, principal, now),
        "AssociateAccessPolicy" => shared.model().associate(cluster, principal, body, now),
        "DisassociateAccessPolicy" => shared.model().disassociate(
            cluster,
            principal,
            call.extra.as_deref().unwrap_or_default(),
            now,
        ),
        "ListAssociatedAccessPolicies" => {
            shared
                .model()
                .list_associated(cluster, principal, q("maxResults"), q("nextToken"), now)
        }
        "ListAccessPolicies" => model::list_access_policies(q("maxResults"), q("nextToken")),
        other => Err(EksError::server(format!(
            "{other} is routed but not handled"
        ))),
    }
}

fn respond(
    shared: &Shared,
    operation: &'static str,
    cluster: Option<String>,
    principal: Option<String>,
    access_key: Option<String>,
    result: Result<Value, EksError>,
) -> Response<Full<Bytes>> {
    let (status, error, body) = match result {
        Ok(mut value) => {
            // restJson1 omits absent members; botocore and the SDK expect no nulls.
            if let Some(map) = value.as_object_mut() {
                map.retain(|_, v| !v.is_null());
            }
            (200, None, value)
        }
        Err(e) => (e.status, Some(e.kind), json!({"message": e.message})),
    };
    shared.log.lock().expect("log lock").push(EksRequest {
        operation,
        cluster,
        principal,
        access_key,
        status,
        error: error.map(str::to_string),
    });
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-amzn-requestid", "00000000-0000-4000-8000-000000000000");
    if let Some(kind) = error {
        response = response.header("x-amzn-errortype", kind);
    }
    response
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a valid response")
}
