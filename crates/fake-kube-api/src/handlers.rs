//! Request handling: faults first, then authentication (static or EKS token), then routing
//! to discovery, ConfigMaps, Pods, Namespaces and the review APIs, each with RBAC checked,
//! and finally the request log. Every error leaves as a `Status`.
//!
//! Owns HTTP concerns (paths, verbs, query parameters, content types, status codes). Object
//! rules live in `store.rs`, users and rules in `auth.rs`, tokens in `eks.rs`.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, RwLock};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::auth::{Policy, User, AUTHENTICATED, MASTERS};
use super::aws_auth;
use super::clock;
use super::discovery;
use super::eks::{self, EksAuth};
use super::entries::{self, AccessEntries, AuthMode};
use super::faults::{Faults, LoggedRequest, RequestLog};
use super::status::{self, ApiError, ResourceAttrs};
use super::store::{PatchKind, Store};

/// The apiserver's limit on a request body.
const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Everything the handlers share: the store, the auth configuration, faults and the log.
pub(crate) struct State {
    pub(crate) store: Mutex<Store>,
    pub(crate) policy: RwLock<Policy>,
    pub(crate) eks: RwLock<Option<EksAuth>>,
    pub(crate) entries: RwLock<Option<Arc<dyn AccessEntries>>>,
    pub(crate) faults: Arc<Faults>,
    pub(crate) log: Arc<RequestLog>,
    pub(crate) server_address: String,
}

/// What a route answers: a JSON object, or plain text (`/healthz`).
enum Reply {
    Json(u16, Value),
    Text(u16, String),
}

/// Handles one request; `kill` closes the connection (the drop fault).
pub(crate) async fn handle(
    state: Arc<State>,
    kill: Arc<Notify>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let mut entry = LoggedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        content_type: header("content-type"),
        body: String::new(),
        user: None,
        status: 0,
        note: String::new(),
    };
    let delay = state.faults.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(finish(&state, entry, Reply::from(ApiError::too_large()))),
    };
    entry.body = String::from_utf8_lossy(&body).into_owned();
    // Faults hit API calls, never discovery: kubectl (and its version dispatcher) probe
    // /version, /api, /apis and /openapi first, and a test means the call after those.
    let faultable = !discovery_path(parts.uri.path());
    if faultable && state.faults.take_drop() {
        entry.note = "dropped the connection (fault)".into();
        state.log.push(entry);
        kill.notify_one();
        let never: Infallible = std::future::pending().await;
        match never {}
    }
    if faultable && state.faults.take_error() {
        entry.note = "injected 500 (fault)".into();
        let reply = ApiError::internal("injected fault");
        return Ok(finish(&state, entry, Reply::from(reply)));
    }
    let user = match authenticate(&state, &header("authorization")).await {
        Ok(user) => user,
        Err(why) => {
            entry.note = why;
            return Ok(finish(&state, entry, Reply::from(ApiError::unauthorized())));
        }
    };
    entry.user = Some(user.username.clone());
    let accept = header("accept");
    let request = Req {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parse_query(parts.uri.query().unwrap_or("")),
        content_type: &entry.content_type,
        accept: &accept,
        body: &body,
        user: &user,
    };
    let reply = match route(&state, &request) {
        Ok(reply) => reply,
        Err(e) => Reply::from(e),
    };
    Ok(finish(&state, entry, reply))
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Self {
        Reply::Json(e.code, e.to_status())
    }
}

fn finish(state: &State, mut entry: LoggedRequest, reply: Reply) -> Response<Full<Bytes>> {
    let (code, content_type, bytes) = match reply {
        Reply::Json(code, value) => (
            code,
            "application/json",
            serde_json::to_vec(&value).expect("JSON values serialize"),
        ),
        Reply::Text(code, text) => (code, "text/plain; charset=utf-8", text.into_bytes()),
    };
    entry.status = code;
    state.log.push(entry);
    Response::builder()
        .status(code)
        .header("content-type", content_type)
        .header("cache-control", "no-cache, private")
        .body(Full::new(Bytes::from(bytes)))
        .expect("a valid response")
}

/// The user behind an `Authorization: Bearer …` header, or why there is none.
async fn authenticate(state: &State, authorization: &str) -> Result<User, String> {
    let token = authorization
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or("no bearer token")?;
    if let Some(user) = state.policy.read().expect("policy lock").static_user(token) {
        return Ok(user);
    }
    if !token.starts_with(eks::V1_PREFIX) {
        return Err("unknown static token".into());
    }
    let eks = state
        .eks
        .read()
        .expect("eks lock")
        .clone()
        .ok_or("EKS tokens are not configured")?;
    let checked = eks::check_token(token, &eks, clock::now_secs()).map_err(|e| e.to_string())?;
    let identity = eks::call_sts(&checked, &eks)
        .await
        .map_err(|e| e.to_string())?;
    let source = state.entries.read().expect("entries lock").clone();
    let mode = source
        .as_ref()
        .and_then(|s| s.mode(&eks.cluster_name))
        .unwrap_or(AuthMode::ConfigMap);
    if mode != AuthMode::ConfigMap {
        let entry = source
            .as_ref()
            .and_then(|s| s.entry(&eks.cluster_name, &identity));
        match (entry, mode) {
            (Some(entry), _) => {
                return entries::user_from_entry(&entry, &identity).map_err(|e| e.to_string())
            }
            (None, AuthMode::Api) => {
                return Err(entries::EntryError::NoEntry(identity.arn.clone()).to_string())
            }
            (None, _) => {}
        }
    }
    let data: BTreeMap<String, String> = state
        .store
        .lock()
        .expect("store lock")
        .get("kube-system", "aws-auth")
        .ok()
        .and_then(|cm| serde_json::from_value(cm["data"].clone()).ok())
        .unwrap_or_default();
    aws_auth::map_identity(&data, &identity).map_err(|e| e.to_string())
}

fn parse_query(query: &str) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

struct Req<'a> {
    method: &'a str,
    path: &'a str,
    query: BTreeMap<String, String>,
    content_type: &'a str,
    accept: &'a str,
    body: &'a [u8],
    user: &'a User,
}

impl Req<'_> {
    fn json_body(&self) -> Result<Value, ApiError> {
        let media = self.content_type.split(';').next().unwrap_or("").trim();
        match media {
            "application/yaml" | "application/apply-patch+yaml" => {
                serde_saphyr::from_str::<Value>(&String::from_utf8_lossy(self.body))
                    .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
            }
            _ => serde_json::from_slice(self.body).map_err(|e| {
                ApiError::bad_request(format!(
                    "Object 'Kind' is missing in '{}': {e}",
                    String::from_utf8_lossy(self.body)
                ))
            }),
        }
    }

    /// The body, refused with the apiserver's strict-decoding error when
    /// `fieldValidation=Strict` and a ConfigMap field is unknown.
    fn config_map_body(&self) -> Result<Value, ApiError> {
        let body = self.json_body()?;
        if self.query.get("fieldValidation").map(String::as_str) == Some("Strict") {
            let unknown = unknown_config_map_fields(&body);
            if !unknown.is_empty() {
                let list: Vec<String> = unknown
                    .iter()
                    .map(|f| format!("unknown field \"{f}\""))
                    .collect();
                return Err(ApiError::bad_request(format!(
                    "strict decoding error: {}",
                    list.join(", ")
                )));
            }
        }
        Ok(body)
    }

    fn wants_table(&self) -> bool {
        self.accept.contains("as=Table")
    }

    fn dry_run(&self) -> bool {
        self.query.get("dryRun").is_some_and(|v| v == "All")
    }

    fn is_watch(&self) -> bool {
        self.query
            .get("watch")
            .is_some_and(|v| v == "true" || v == "1")
    }
}

fn route(state: &State, req: &Req<'_>) -> Result<Reply, ApiError> {
    let segments: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    let get = req.method == "GET";
    match (req.method, segments.as_slice()) {
        ("GET", []) => Ok(Reply::Json(200, discovery::root_paths())),
        ("GET", ["version"]) => Ok(Reply::Json(200, discovery::version())),
        ("GET", ["healthz" | "livez" | "readyz"]) => Ok(Reply::Text(200, "ok".into())),
        ("GET", ["api"]) => Ok(Reply::Json(
            200,
            discovery::core_versions(&state.server_address),
        )),
        ("GET", ["api", "v1"]) => Ok(Reply::Json(200, discovery::core_v1())),
        ("GET", ["apis"]) => Ok(Reply::Json(200, discovery::groups())),
        ("GET", ["openapi", "v3"]) => Ok(Reply::Json(200, discovery::openapi_v3_index())),
        ("GET", ["openapi", "v3", rest @ ..]) => discovery::openapi_v3_document(&rest.join("/"))
            .map(|doc| Reply::Json(200, doc))
            .ok_or_else(ApiError::no_route),
        ("GET", ["apis", group]) => discovery::groups()["groups"]
            .as_array()
            .and_then(|g| g.iter().find(|g| g["name"] == *group).cloned())
            .map(|mut g| {
                g["kind"] = "APIGroup".into();
                g["apiVersion"] = "v1".into();
                Reply::Json(200, g)
            })
            .ok_or_else(ApiError::no_route),
        ("GET", ["apis", group, "v1"]) => discovery::group_v1(group)
            .map(|v| Reply::Json(200, v))
            .ok_or_else(ApiError::no_route),
        ("POST", ["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"]) => {
            Ok(Reply::Json(201, self_subject_review(req.user)))
        }
        ("POST", ["apis", "authorization.k8s.io", "v1", "selfsubjectaccessreviews"]) => {
            let body = req.json_body()?;
            Ok(Reply::Json(
                201,
                self_subject_access_review(state, req.user, body),
            ))
        }
        (_, ["api", "v1", "namespaces"]) if get => {
            authorize(state, req, "list", "namespaces", None, None)?;
            Ok(Reply::Json(
                200,
                state.store.lock().expect("store").namespace_list(),
            ))
        }
        (_, ["api", "v1", "namespaces", ns]) if get => {
            authorize(state, req, "get", "namespaces", None, Some(ns))?;
            Ok(Reply::Json(
                200,
                state.store.lock().expect("store").namespace(ns)?,
            ))
        }
        (_, ["api", "v1", "configmaps"]) if get => config_maps(state, req, None, None),
        (_, ["api", "v1", "namespaces", ns, "configmaps"]) => {
            config_maps(state, req, Some(ns), None)
        }
        (_, ["api", "v1", "namespaces", ns, "configmaps", name]) => {
            config_maps(state, req, Some(ns), Some(name))
        }
        (_, ["api", "v1", "pods"]) if get => pods(state, req, None, None),
        (_, ["api", "v1", "namespaces", ns, "pods"]) if get => pods(state, req, Some(ns), None),
        (_, ["api", "v1", "namespaces", ns, "pods", name]) if get => {
            pods(state, req, Some(ns), Some(name))
        }
        (_, ["api", "v1", ..]) if !get => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::no_route()),
    }
}

fn authorize(
    state: &State,
    req: &Req<'_>,
    verb: &str,
    resource: &str,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Result<(), ApiError> {
    let attrs = ResourceAttrs {
        group: "",
        resource,
        namespace,
        name,
    };
    state
        .policy
        .read()
        .expect("policy lock")
        .authorize(req.user, verb, &attrs)
}

fn pods(
    state: &State,
    req: &Req<'_>,
    ns: Option<&str>,
    name: Option<&str>,
) -> Result<Reply, ApiError> {
    if req.is_watch() {
        return Err(ApiError::bad_request(
            "watch is not supported by the fake apiserver",
        ));
    }
    let verb = if name.is_some() { "get" } else { "list" };
    authorize(state, req, verb, "pods", ns, name)?;
    let store = state.store.lock().expect("store lock");
    let value = match (ns, name) {
        (Some(ns), Some(name)) => store.pod(ns, name)?,
        _ => store.pod_list(ns),
    };
    Ok(Reply::Json(
        200,
        maybe_table(req, "Pod", value, &store.revision()),
    ))
}

fn maybe_table(req: &Req<'_>, kind: &str, value: Value, rv: &str) -> Value {
    if !req.wants_table() {
        return value;
    }
    match value["items"].as_array() {
        Some(items) => discovery::table(kind, items, rv),
        None => discovery::table(kind, std::slice::from_ref(&value), rv),
    }
}

fn config_maps(
    state: &State,
    req: &Req<'_>,
    ns: Option<&str>,
    name: Option<&str>,
) -> Result<Reply, ApiError> {
    const R: &str = "configmaps";
    if req.is_watch() {
        return Err(ApiError::bad_request(
            "watch is not supported by the fake apiserver",
        ));
    }
    let verb = match (req.method, name) {
        ("GET", None) => "list",
        ("GET", Some(_)) => "get",
        ("POST", None) => "create",
        ("PUT", Some(_)) => "update",
        ("PATCH", Some(_)) => "patch",
        ("DELETE", Some(_)) => "delete",
        _ => return Err(ApiError::method_not_allowed()),
    };
    authorize(state, req, verb, R, ns, name)?;
    if verb != "get" && verb != "list" && state.faults.take_conflict() {
        let conflict_name = name
            .map(str::to_string)
            .or_else(|| {
                req.json_body()
                    .ok()
                    .and_then(|b| b["metadata"]["name"].as_str().map(str::to_string))
            })
            .unwrap_or_default();
        return Err(ApiError::conflict(R, &conflict_name));
    }
    let mut guard = state.store.lock().expect("store lock");
    // A dry run works on a copy and throws it away, as `dryRun=All` persists nothing.
    let mut scratch;
    let store: &mut Store = if req.dry_run() {
        scratch = guard.clone();
        &mut scratch
    } else {
        &mut guard
    };
    let ns_str = ns.unwrap_or("");
    match (verb, name) {
        ("list", _) => {
            let list =
                store.list_config_maps(ns, req.query.get("labelSelector").map(String::as_str));
            let rv = store.revision();
            Ok(Reply::Json(200, maybe_table(req, "ConfigMap", list, &rv)))
        }
        ("get", Some(name)) => {
            let rv = store.revision();
            let object = store.get(ns_str, name)?;
            Ok(Reply::Json(200, maybe_table(req, "ConfigMap", object, &rv)))
        }
        ("create", _) => Ok(Reply::Json(
            201,
            store.create(ns_str, req.config_map_body()?)?,
        )),
        ("update", Some(name)) => Ok(Reply::Json(
            200,
            store.replace(ns_str, name, req.config_map_body()?)?,
        )),
        ("patch", Some(name)) => {
            let kind = PatchKind::from_content_type(req.content_type)
                .ok_or_else(|| ApiError::unsupported_media_type(req.content_type))?;
            if kind == PatchKind::Apply
                && req.query.get("fieldManager").is_none_or(|m| m.is_empty())
            {
                return Err(ApiError::invalid(
                    "ConfigMap",
                    name,
                    "fieldManager",
                    "FieldValueRequired",
                    "Required value: is required for apply patch",
                ));
            }
            let existed = store.get(ns_str, name).is_ok();
            let body = if kind == PatchKind::Json {
                req.json_body()?
            } else {
                req.config_map_body()?
            };
            let patched = store.patch(ns_str, name, kind, &body)?;
            Ok(Reply::Json(if existed { 200 } else { 201 }, patched))
        }
        ("delete", Some(name)) => {
            let options = if req.body.is_empty() {
                None
            } else {
                Some(req.json_body()?)
            };
            let deleted = store.delete(ns_str, name, options.as_ref())?;
            let uid = deleted["metadata"]["uid"].as_str().unwrap_or("");
            Ok(Reply::Json(200, status::deleted(R, name, uid)))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// Fields of a ConfigMap body (top level and `metadata`) that the ConfigMap type lacks, as
/// `metadata.foo`; `$`-directives of strategic merge patches are not fields.
fn unknown_config_map_fields(body: &Value) -> Vec<String> {
    const TOP: [&str; 6] = [
        "apiVersion",
        "kind",
        "metadata",
        "data",
        "binaryData",
        "immutable",
    ];
    const META: [&str; 15] = [
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    ];
    let mut unknown = Vec::new();
    if let Some(top) = body.as_object() {
        for key in top
            .keys()
            .filter(|k| !k.starts_with('$') && !TOP.contains(&k.as_str()))
        {
            unknown.push(key.clone());
        }
    }
    if let Some(meta) = body["metadata"].as_object() {
        for key in meta
            .keys()
            .filter(|k| !k.starts_with('$') && !META.contains(&k.as_str()))
        {
            unknown.push(format!("metadata.{key}"));
        }
    }
    unknown
}

fn self_subject_review(user: &User) -> Value {
    json!({
        "kind": "SelfSubjectReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": clock::rfc3339(clock::now_secs())},
        "status": {"userInfo": user.user_info()},
    })
}

/// Non-resource paths every authenticated user may GET (RBAC's `system:discovery` and
/// `system:public-info-viewer`).
fn discovery_path(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    matches!(
        segments.as_slice(),
        [] | ["version" | "healthz" | "livez" | "readyz" | "openapi", ..]
            | ["api"]
            | ["api", _]
            | ["apis"]
            | ["apis", _]
            | ["apis", _, _]
    )
}

fn self_subject_access_review(state: &State, user: &User, mut body: Value) -> Value {
    let spec = body["spec"].clone();
    let (allowed, reason) = if let Some(attrs) = spec["resourceAttributes"].as_object() {
        let text = |k: &str| attrs.get(k).and_then(Value::as_str).unwrap_or("");
        let ns = text("namespace");
        let name = text("name");
        let resource_attrs = ResourceAttrs {
            group: text("group"),
            resource: text("resource"),
            namespace: (!ns.is_empty()).then_some(ns),
            name: (!name.is_empty()).then_some(name),
        };
        let allowed =
            state
                .policy
                .read()
                .expect("policy lock")
                .allowed(user, text("verb"), &resource_attrs);
        (allowed, allowed_reason(user, allowed))
    } else {
        let path = spec["nonResourceAttributes"]["path"].as_str().unwrap_or("");
        let verb = spec["nonResourceAttributes"]["verb"].as_str().unwrap_or("");
        let masters = user.groups.iter().any(|g| g == MASTERS);
        let allowed = masters
            || (verb == "get"
                && user.groups.iter().any(|g| g == AUTHENTICATED)
                && discovery_path(path));
        (allowed, allowed_reason(user, allowed))
    };
    body["kind"] = "SelfSubjectAccessReview".into();
    body["apiVersion"] = "authorization.k8s.io/v1".into();
    body["metadata"] = json!({"creationTimestamp": null});
    body["status"] = json!({"allowed": allowed});
    if let Some(reason) = reason {
        body["status"]["reason"] = reason.into();
    }
    body
}

fn allowed_reason(user: &User, allowed: bool) -> Option<String> {
    if !allowed {
        return None;
    }
    if user.groups.iter().any(|g| g == MASTERS) {
        Some("RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\" to Group \"system:masters\"".into())
    } else if !user.access_policies.is_empty() {
        Some("EKS access policy: allowed by an access entry's policy association".into())
    } else {
        Some("RBAC: allowed by a rule the test configured".into())
    }
}
