//! The object store: namespaces, ConfigMaps and seeded Pods, with the apiserver's write rules.
//!
//! Owns `resourceVersion` (one global counter, bumped on every write), `uid` and
//! `creationTimestamp`, preconditions, validation (ConfigMap keys, the 1 MiB limit) and the
//! three PATCH formats. Pure and synchronous: no HTTP, no auth, no faults.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::clock;
use super::status::ApiError;

/// The apiserver's limit on a ConfigMap's `data` + `binaryData` (keys and values), in bytes.
pub const MAX_CONFIG_MAP_BYTES: usize = 1_048_576;
/// The apiserver's limit on an object's annotations (keys and values), in bytes. Client-side
/// `kubectl apply` copies the object into an annotation, so it meets this limit first.
pub const MAX_ANNOTATIONS_BYTES: usize = 262_144;

/// How a PATCH body is to be read, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`; for a ConfigMap it merges like RFC 7386,
    /// `$`-directives are dropped.
    Strategic,
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/apply-patch+yaml` (server-side apply, approximated as a merge that may
    /// create the object).
    Apply,
}

impl PatchKind {
    /// The patch kind for a `Content-Type` header value, if the apiserver accepts it.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        match content_type.split(';').next().unwrap_or("").trim() {
            "application/merge-patch+json" => Some(Self::Merge),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/json-patch+json" => Some(Self::Json),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// Namespaces, ConfigMaps and Pods, plus the global resourceVersion counter.
#[derive(Debug, Clone)]
pub struct Store {
    revision: u64,
    namespaces: BTreeMap<String, Value>,
    config_maps: BTreeMap<(String, String), Value>,
    pods: BTreeMap<(String, String), Value>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    /// A store with the namespaces every cluster has: default, kube-system, kube-public,
    /// kube-node-lease.
    pub fn new() -> Self {
        let mut store = Store {
            revision: 1000,
            namespaces: BTreeMap::new(),
            config_maps: BTreeMap::new(),
            pods: BTreeMap::new(),
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            store.ensure_namespace(ns);
        }
        store
    }

    /// The current global resourceVersion (what a LIST reports).
    pub fn revision(&self) -> String {
        self.revision.to_string()
    }

    fn next_revision(&mut self) -> String {
        self.revision += 1;
        self.revision.to_string()
    }

    /// Creates namespace `name` if it does not exist yet.
    pub fn ensure_namespace(&mut self, name: &str) {
        if self.namespaces.contains_key(name) {
            return;
        }
        let rv = self.next_revision();
        let ns = json!({
            "kind": "Namespace",
            "apiVersion": "v1",
            "metadata": fresh_metadata(name, None, &rv),
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        });
        self.namespaces.insert(name.to_string(), ns);
    }

    /// One namespace.
    pub fn namespace(&self, name: &str) -> Result<Value, ApiError> {
        self.namespaces
            .get(name)
            .cloned()
            .ok_or_else(|| ApiError::not_found("namespaces", name))
    }

    /// Every namespace as a `NamespaceList`.
    pub fn namespace_list(&self) -> Value {
        self.list("NamespaceList", self.namespaces.values())
    }

    fn require_namespace(&self, ns: &str) -> Result<(), ApiError> {
        self.namespace(ns).map(|_| ())
    }

    /// Adds (or replaces) a Pod named `name` in `ns`, creating the namespace if needed.
    pub fn seed_pod(&mut self, ns: &str, name: &str) {
        self.ensure_namespace(ns);
        let rv = self.next_revision();
        let pod = json!({
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": fresh_metadata(name, Some(ns), &rv),
            "spec": {"containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10"}]},
            "status": {"phase": "Running"},
        });
        self.pods.insert((ns.to_string(), name.to_string()), pod);
    }

    /// One Pod.
    pub fn pod(&self, ns: &str, name: &str) -> Result<Value, ApiError> {
        self.pods
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| ApiError::not_found("pods", name))
    }

    /// The Pods of one namespace (or all, with `None`) as a `PodList`.
    pub fn pod_list(&self, ns: Option<&str>) -> Value {
        self.list(
            "PodList",
            self.pods
                .iter()
                .filter(|((n, _), _)| ns.is_none_or(|want| want == n))
                .map(|(_, v)| v),
        )
    }

    /// One ConfigMap, or 404 `configmaps "NAME" not found`.
    pub fn get(&self, ns: &str, name: &str) -> Result<Value, ApiError> {
        self.config_maps
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| ApiError::not_found("configmaps", name))
    }

    /// The ConfigMaps of one namespace (or all, with `None`) as a `ConfigMapList`, filtered
    /// by an equality-only label selector (`a=b,c=d`) when given.
    pub fn list_config_maps(&self, ns: Option<&str>, label_selector: Option<&str>) -> Value {
        let wanted: Vec<(&str, &str)> = label_selector
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.split_once('='))
            .map(|(k, v)| (k.trim(), v.trim_start_matches('=').trim()))
            .collect();
        self.list(
            "ConfigMapList",
            self.config_maps
                .iter()
                .filter(|((n, _), _)| ns.is_none_or(|want| want == n))
                .filter(|(_, v)| {
                    wanted
                        .iter()
                        .all(|(k, val)| v["metadata"]["labels"][*k].as_str() == Some(*val))
                })
                .map(|(_, v)| v),
        )
    }

    fn list<'a>(&self, kind: &str, items: impl Iterator<Item = &'a Value>) -> Value {
        let items: Vec<Value> = items
            .map(|v| {
                let mut v = v.clone();
                if let Some(obj) = v.as_object_mut() {
                    obj.remove("kind");
                    obj.remove("apiVersion");
                }
                v
            })
            .collect();
        json!({
            "kind": kind,
            "apiVersion": "v1",
            "metadata": {"resourceVersion": self.revision()},
            "items": items,
        })
    }

    /// POST: creates a ConfigMap in `ns`. 409 AlreadyExists, 404 for a missing namespace,
    /// 422 for an invalid object. Server-set fields in the body are replaced.
    pub fn create(&mut self, ns: &str, mut body: Value) -> Result<Value, ApiError> {
        let name = body_name(&body);
        check_kind(&body, &name)?;
        if name.is_empty() {
            return Err(ApiError::invalid(
                "ConfigMap",
                "",
                "metadata.name",
                "FieldValueRequired",
                "Required value: name or generateName is required",
            ));
        }
        check_namespace(&body, ns)?;
        self.require_namespace(ns)?;
        if self
            .config_maps
            .contains_key(&(ns.to_string(), name.clone()))
        {
            return Err(ApiError::already_exists("configmaps", &name));
        }
        validate(&body, &name)?;
        let rv = self.next_revision();
        let meta = body["metadata"].as_object_mut().expect("checked: metadata");
        let fresh = fresh_metadata(&name, Some(ns), &rv);
        for key in ["uid", "creationTimestamp", "resourceVersion", "namespace"] {
            meta.insert(key.into(), fresh[key].clone());
        }
        meta.remove("generation");
        meta.remove("deletionTimestamp");
        body["kind"] = "ConfigMap".into();
        body["apiVersion"] = "v1".into();
        self.config_maps
            .insert((ns.to_string(), name), body.clone());
        Ok(body)
    }

    /// PUT: replaces ConfigMap `name`. A body `metadata.resourceVersion` that differs from the
    /// stored one is a 409 Conflict; an empty one is an unconditional update.
    pub fn replace(&mut self, ns: &str, name: &str, mut body: Value) -> Result<Value, ApiError> {
        let body_name = body_name(&body);
        check_kind(&body, name)?;
        if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        check_namespace(&body, ns)?;
        let current = self.get(ns, name)?;
        let wanted_rv = body["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if !wanted_rv.is_empty() && current["metadata"]["resourceVersion"] != wanted_rv.as_str() {
            return Err(ApiError::conflict("configmaps", name));
        }
        validate(&body, name)?;
        keep_server_fields(&current, &mut body);
        Ok(self.commit(ns, name, body))
    }

    /// PATCH in one of the four formats. A `metadata.resourceVersion` in the patched result
    /// that differs from the stored one is a 409 Conflict, as on the real server. Apply on a
    /// missing object creates it; the other kinds answer 404.
    pub fn patch(
        &mut self,
        ns: &str,
        name: &str,
        kind: PatchKind,
        patch: &Value,
    ) -> Result<Value, ApiError> {
        let current = match self.get(ns, name) {
            Ok(current) => current,
            Err(_) if kind == PatchKind::Apply => {
                let mut body = patch.clone();
                if body["metadata"]["name"].is_null() {
                    body["metadata"]["name"] = name.into();
                }
                return self.create(ns, body);
            }
            Err(e) => return Err(e),
        };
        let mut next = current.clone();
        match kind {
            PatchKind::Merge | PatchKind::Apply => merge_patch(&mut next, patch),
            PatchKind::Strategic => merge_patch(&mut next, &strip_directives(patch)),
            PatchKind::Json => {
                next = json_patch(next, patch).map_err(|why| ApiError::invalid_patch(&why))?;
            }
        }
        if kind == PatchKind::Apply
            && patch["metadata"]["resourceVersion"].is_null()
            && next["metadata"].is_object()
        {
            next["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
        }
        if body_name(&next) != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                body_name(&next)
            )));
        }
        check_namespace(&next, ns)?;
        let rv = next["metadata"]["resourceVersion"].as_str().unwrap_or("");
        if !rv.is_empty() && current["metadata"]["resourceVersion"] != rv {
            return Err(ApiError::conflict("configmaps", name));
        }
        validate(&next, name)?;
        keep_server_fields(&current, &mut next);
        Ok(self.commit(ns, name, next))
    }

    /// DELETE, honouring `preconditions.resourceVersion` / `preconditions.uid` of a
    /// DeleteOptions body. Returns the deleted object.
    pub fn delete(
        &mut self,
        ns: &str,
        name: &str,
        options: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let current = self.get(ns, name)?;
        if let Some(pre) = options.map(|o| &o["preconditions"]) {
            for (field, meta) in [("resourceVersion", "ResourceVersion"), ("uid", "UID")] {
                if let Some(want) = pre[field].as_str() {
                    let have = current["metadata"][field].as_str().unwrap_or("");
                    if want != have {
                        return Err(ApiError::conflict_because(
                            "configmaps",
                            name,
                            &format!("Precondition failed: {meta} in precondition: {want}, {meta} in object meta: {have}"),
                        ));
                    }
                }
            }
        }
        self.next_revision();
        self.config_maps.remove(&(ns.to_string(), name.to_string()));
        Ok(current)
    }

    /// Puts a ConfigMap in place as a test fixture: no validation, fresh metadata, any
    /// resourceVersion/uid in `object` replaced. Creates the namespace if needed.
    pub fn seed_config_map(&mut self, object: Value) -> Value {
        let name = body_name(&object);
        let ns = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        self.ensure_namespace(&ns);
        let rv = self.next_revision();
        let mut object = object;
        object["kind"] = "ConfigMap".into();
        object["apiVersion"] = "v1".into();
        let fresh = fresh_metadata(&name, Some(&ns), &rv);
        let meta = object["metadata"]
            .as_object_mut()
            .expect("a ConfigMap fixture has metadata");
        for key in ["uid", "creationTimestamp", "resourceVersion", "namespace"] {
            meta.insert(key.into(), fresh[key].clone());
        }
        self.config_maps.insert((ns, name), object.clone());
        object
    }

    fn commit(&mut self, ns: &str, name: &str, mut body: Value) -> Value {
        body["metadata"]["resourceVersion"] = self.next_revision().into();
        body["kind"] = "ConfigMap".into();
        body["apiVersion"] = "v1".into();
        self.config_maps
            .insert((ns.to_string(), name.to_string()), body.clone());
        body
    }
}

fn body_name(body: &Value) -> String {
    body["metadata"]["name"].as_str().unwrap_or("").to_string()
}

fn check_kind(body: &Value, name: &str) -> Result<(), ApiError> {
    if !body.is_object() || !body["metadata"].is_object() {
        return Err(ApiError::bad_request(
            "the object provided is unrecognized (must be of type ConfigMap): missing metadata",
        ));
    }
    match body["kind"].as_str() {
        None | Some("ConfigMap") => Ok(()),
        Some(other) => Err(ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type ConfigMap): {other} {name:?}"
        ))),
    }
}

fn check_namespace(body: &Value, ns: &str) -> Result<(), ApiError> {
    match body["metadata"]["namespace"].as_str() {
        Some(body_ns) if !body_ns.is_empty() && body_ns != ns => Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        _ => Ok(()),
    }
}

/// The apiserver's ConfigMap validation: string values, key syntax and the 1 MiB limit.
fn validate(body: &Value, name: &str) -> Result<(), ApiError> {
    let mut total = 0usize;
    for field in ["data", "binaryData"] {
        match &body[field] {
            Value::Null => {}
            Value::Object(map) => {
                for (key, value) in map {
                    if key.is_empty()
                        || key.len() > 253
                        || key == "."
                        || key == ".."
                        || !key
                            .bytes()
                            .all(|c| c.is_ascii_alphanumeric() || b"-._".contains(&c))
                    {
                        return Err(ApiError::invalid(
                            "ConfigMap",
                            name,
                            &format!("{field}[{key}]"),
                            "FieldValueInvalid",
                            &format!("Invalid value: {key:?}: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"),
                        ));
                    }
                    let Some(text) = value.as_str() else {
                        return Err(ApiError::bad_request(format!(
                            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal {} into Go struct field ConfigMap.{field} of type string",
                            json_type(value)
                        )));
                    };
                    total += key.len() + text.len();
                }
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal {} into Go struct field ConfigMap.{field} of type map[string]string",
                    json_type(other)
                )))
            }
        }
    }
    let annotations: usize = body["metadata"]["annotations"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
                .sum()
        })
        .unwrap_or(0);
    if annotations > MAX_ANNOTATIONS_BYTES {
        return Err(ApiError::invalid(
            "ConfigMap",
            name,
            "metadata.annotations",
            "FieldValueTooLong",
            &format!("Too long: must have at most {MAX_ANNOTATIONS_BYTES} bytes"),
        ));
    }
    if total > MAX_CONFIG_MAP_BYTES {
        return Err(ApiError::invalid(
            "ConfigMap",
            name,
            "[]",
            "FieldValueTooLong",
            &format!("Too long: must have at most {MAX_CONFIG_MAP_BYTES} bytes"),
        ));
    }
    Ok(())
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn fresh_metadata(name: &str, ns: Option<&str>, rv: &str) -> Value {
    let mut meta = json!({
        "name": name,
        "uid": new_uid(),
        "resourceVersion": rv,
        "creationTimestamp": clock::rfc3339(clock::now_secs()),
    });
    if let Some(ns) = ns {
        meta["namespace"] = ns.into();
    }
    meta
}

/// The fields a client cannot change on update: uid, creationTimestamp, namespace.
fn keep_server_fields(current: &Value, next: &mut Value) {
    for key in ["uid", "creationTimestamp", "namespace"] {
        next["metadata"][key] = current["metadata"][key].clone();
    }
}

/// A random RFC 4122 version-4 UUID.
pub fn new_uid() -> String {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).expect("system randomness");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// RFC 7386 JSON merge patch: objects merge, `null` deletes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let target = target.as_object_mut().expect("made an object");
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Drops strategic-merge directives (`$patch`, `$setElementOrder/…`, `$retainKeys`, …):
/// a ConfigMap has no lists they could act on.
fn strip_directives(patch: &Value) -> Value {
    match patch {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// RFC 6902 JSON patch: add, remove, replace, move, copy, test.
pub fn json_patch(mut doc: Value, patch: &Value) -> Result<Value, String> {
    let ops = patch
        .as_array()
        .ok_or("a JSON patch must be an array of operations")?;
    for op in ops {
        let kind = op["op"].as_str().ok_or("an operation needs \"op\"")?;
        let path = op["path"].as_str().ok_or("an operation needs \"path\"")?;
        match kind {
            "add" => pointer_add(&mut doc, path, op["value"].clone())?,
            "remove" => {
                pointer_remove(&mut doc, path)?;
            }
            "replace" => {
                pointer_remove(&mut doc, path)?;
                pointer_add(&mut doc, path, op["value"].clone())?;
            }
            "move" | "copy" => {
                let from = op["from"].as_str().ok_or("move/copy needs \"from\"")?;
                let value = if kind == "move" {
                    pointer_remove(&mut doc, from)?
                } else {
                    doc.pointer(from)
                        .cloned()
                        .ok_or_else(|| format!("missing value at {from}"))?
                };
                pointer_add(&mut doc, path, value)?;
            }
            "test" => {
                if doc.pointer(path) != Some(&op["value"]) {
                    return Err(format!("testing value {path} failed"));
                }
            }
            other => return Err(format!("unexpected kind: {other}")),
        }
    }
    Ok(doc)
}

fn split_pointer(path: &str) -> Result<(String, String), String> {
    let (parent, last) = path
        .rsplit_once('/')
        .ok_or_else(|| format!("invalid JSON pointer {path:?}"))?;
    Ok((
        parent.to_string(),
        last.replace("~1", "/").replace("~0", "~"),
    ))
}

fn pointer_add(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, key) = split_pointer(path)?;
    let target = doc
        .pointer_mut(&parent)
        .ok_or_else(|| format!("add operation does not apply: doc is missing path: {path:?}"))?;
    match target {
        Value::Object(map) => {
            map.insert(key, value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if key == "-" {
                items.len()
            } else {
                key.parse::<usize>()
                    .map_err(|_| format!("bad index {key:?}"))?
            };
            if index > items.len() {
                return Err(format!("index {index} out of range"));
            }
            items.insert(index, value);
            Ok(())
        }
        _ => Err(format!("add operation does not apply: {path:?}")),
    }
}

fn pointer_remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, key) = split_pointer(path)?;
    let missing = || format!("remove operation does not apply: doc is missing path: {path:?}");
    match doc.pointer_mut(&parent).ok_or_else(missing)? {
        Value::Object(map) => map.remove(&key).ok_or_else(missing),
        Value::Array(items) => {
            let index: usize = key.parse().map_err(|_| missing())?;
            if index >= items.len() {
                return Err(missing());
            }
            Ok(items.remove(index))
        }
        _ => Err(missing()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(name: &str, data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
    }

    #[test]
    fn create_sets_server_fields_and_refuses_duplicates() {
        let mut s = Store::new();
        let created = s
            .create("kube-system", cm("aws-auth", json!({"a": "1"})))
            .unwrap();
        assert_eq!(created["metadata"]["namespace"], "kube-system");
        assert_eq!(created["metadata"]["uid"].as_str().unwrap().len(), 36);
        assert!(created["metadata"]["creationTimestamp"]
            .as_str()
            .unwrap()
            .ends_with('Z'));
        let err = s
            .create("kube-system", cm("aws-auth", json!({})))
            .unwrap_err();
        assert_eq!((err.code, err.reason), (409, "AlreadyExists"));
        assert_eq!(err.message, "configmaps \"aws-auth\" already exists");
        let err = s.create("nope", cm("x", json!({}))).unwrap_err();
        assert_eq!(err.message, "namespaces \"nope\" not found");
    }

    #[test]
    fn resource_version_increases_on_every_write() {
        let mut s = Store::new();
        let a = s.create("default", cm("a", json!({}))).unwrap();
        let b = s.create("default", cm("b", json!({}))).unwrap();
        let rv = |v: &Value| {
            v["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        };
        assert!(rv(&b) > rv(&a));
        let b2 = s
            .patch(
                "default",
                "b",
                PatchKind::Merge,
                &json!({"data": {"k": "v"}}),
            )
            .unwrap();
        assert!(rv(&b2) > rv(&b));
        assert_eq!(
            s.revision(),
            b2["metadata"]["resourceVersion"].as_str().unwrap()
        );
    }

    #[test]
    fn stale_resource_version_is_a_conflict() {
        let mut s = Store::new();
        let first = s
            .create("kube-system", cm("aws-auth", json!({"mapRoles": "[]"})))
            .unwrap();
        let mut edit = first.clone();
        edit["data"]["mapRoles"] = "- rolearn: x".into();
        let second = s.replace("kube-system", "aws-auth", edit.clone()).unwrap();
        assert_ne!(
            second["metadata"]["resourceVersion"],
            first["metadata"]["resourceVersion"]
        );
        // Writing again with the old resourceVersion fails, and changes nothing.
        let err = s.replace("kube-system", "aws-auth", edit).unwrap_err();
        assert_eq!((err.code, err.reason), (409, "Conflict"));
        assert_eq!(
            err.message,
            "Operation cannot be fulfilled on configmaps \"aws-auth\": the object has been modified; please apply your changes to the latest version and try again"
        );
        assert_eq!(
            err.to_status()["details"],
            json!({"name": "aws-auth", "kind": "configmaps"})
        );
        assert_eq!(s.get("kube-system", "aws-auth").unwrap(), second);
        // Without a resourceVersion the update is unconditional.
        let mut blind = second.clone();
        blind["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("resourceVersion");
        blind["data"]["x"] = "y".into();
        assert!(s.replace("kube-system", "aws-auth", blind).is_ok());
        // A merge patch carrying a stale resourceVersion is a conflict too.
        let err = s
            .patch(
                "kube-system",
                "aws-auth",
                PatchKind::Merge,
                &json!({"metadata": {"resourceVersion": first["metadata"]["resourceVersion"]}}),
            )
            .unwrap_err();
        assert_eq!(err.reason, "Conflict");
    }

    #[test]
    fn replace_of_missing_object_is_not_found() {
        let mut s = Store::new();
        let err = s
            .replace("kube-system", "aws-auth", cm("aws-auth", json!({})))
            .unwrap_err();
        assert_eq!(err.message, "configmaps \"aws-auth\" not found");
        assert_eq!(err.code, 404);
    }

    #[test]
    fn one_mebibyte_is_the_limit() {
        let mut s = Store::new();
        // key "k" (1 byte) + value: exactly 1 MiB in total is allowed.
        let exact = "x".repeat(MAX_CONFIG_MAP_BYTES - 1);
        s.create("default", cm("exact", json!({ "k": exact })))
            .unwrap();
        let over = "x".repeat(MAX_CONFIG_MAP_BYTES);
        let err = s
            .create("default", cm("over", json!({ "k": over })))
            .unwrap_err();
        assert_eq!((err.code, err.reason), (422, "Invalid"));
        assert_eq!(
            err.message,
            "ConfigMap \"over\" is invalid: []: Too long: must have at most 1048576 bytes"
        );
        // The limit also holds on update, and a refused update changes nothing.
        let err = s
            .patch(
                "default",
                "exact",
                PatchKind::Merge,
                &json!({"data": {"k2": "yy"}}),
            )
            .unwrap_err();
        assert_eq!(err.reason, "Invalid");
        assert!(s.get("default", "exact").unwrap()["data"]["k2"].is_null());
        // Annotations have their own, smaller limit.
        let mut big = cm("annotated", json!({}));
        big["metadata"]["annotations"] = json!({ "a": "x".repeat(MAX_ANNOTATIONS_BYTES) });
        let err = s.create("default", big).unwrap_err();
        assert_eq!(
            err.message,
            "ConfigMap \"annotated\" is invalid: metadata.annotations: Too long: must have at most 262144 bytes"
        );
    }

    #[test]
    fn patches_in_three_formats() {
        let mut s = Store::new();
        s.create("default", cm("c", json!({"a": "1", "b": "2"})))
            .unwrap();
        let v = s
            .patch(
                "default",
                "c",
                PatchKind::Merge,
                &json!({"data": {"a": null, "c": "3"}}),
            )
            .unwrap();
        assert_eq!(v["data"], json!({"b": "2", "c": "3"}));
        let v = s
            .patch(
                "default",
                "c",
                PatchKind::Strategic,
                &json!({"$setElementOrder/x": [], "data": {"d": "4"}}),
            )
            .unwrap();
        assert_eq!(v["data"], json!({"b": "2", "c": "3", "d": "4"}));
        let v = s
            .patch(
                "default",
                "c",
                PatchKind::Json,
                &json!([
                    {"op": "test", "path": "/data/b", "value": "2"},
                    {"op": "replace", "path": "/data/b", "value": "two"},
                    {"op": "remove", "path": "/data/c"},
                    {"op": "add", "path": "/data/e", "value": "5"}
                ]),
            )
            .unwrap();
        assert_eq!(v["data"], json!({"b": "two", "d": "4", "e": "5"}));
        // `~1` is `/` in a pointer, and `/` is no valid ConfigMap key.
        let err = s
            .patch(
                "default",
                "c",
                PatchKind::Json,
                &json!([{"op": "add", "path": "/data/e~1f", "value": "5"}]),
            )
            .unwrap_err();
        assert!(err.message.contains("data[e/f]"), "{err}");
        let err = s
            .patch(
                "default",
                "c",
                PatchKind::Json,
                &json!([{"op": "test", "path": "/data/b", "value": "2"}]),
            )
            .unwrap_err();
        assert_eq!(err.code, 422);
        let err = s
            .patch("default", "missing", PatchKind::Merge, &json!({}))
            .unwrap_err();
        assert_eq!(err.code, 404);
    }

    #[test]
    fn delete_honours_preconditions() {
        let mut s = Store::new();
        let c = s.create("default", cm("c", json!({}))).unwrap();
        let err = s
            .delete(
                "default",
                "c",
                Some(&json!({"preconditions": {"resourceVersion": "1"}})),
            )
            .unwrap_err();
        assert_eq!(err.reason, "Conflict");
        let rv = c["metadata"]["resourceVersion"].clone();
        s.delete(
            "default",
            "c",
            Some(&json!({"preconditions": {"resourceVersion": rv}})),
        )
        .unwrap();
        assert_eq!(s.get("default", "c").unwrap_err().code, 404);
    }

    #[test]
    fn bad_keys_and_non_string_values_are_refused() {
        let mut s = Store::new();
        assert_eq!(
            s.create("default", cm("c", json!({"a b": "1"})))
                .unwrap_err()
                .code,
            422
        );
        assert_eq!(
            s.create("default", cm("c", json!({"a": 1})))
                .unwrap_err()
                .code,
            400
        );
    }
}
