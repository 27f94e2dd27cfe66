//! The discovery documents (`/version`, `/api`, `/api/v1`, `/apis`, the two review groups)
//! and server-side printing (`Table`), shaped like a v1.31 EKS apiserver's. Static data only.

use serde_json::{json, Value};

use super::clock;

/// `/version` of an EKS 1.31 control plane.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "31",
        "gitVersion": "v1.31.4-eks-2d5f260",
        "gitCommit": "0d8ea1e1a1a2f1eb4a7c1e0b4a6f1e1a4b1c2d3e",
        "gitTreeState": "clean",
        "buildDate": "2024-12-12T21:20:52Z",
        "goVersion": "go1.22.9",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `/api`.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

const OBJECT_VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// `/api/v1`: configmaps, namespaces, pods.
pub fn core_v1() -> Value {
    json!({
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            {"name": "configmaps", "singularName": "configmap", "namespaced": true, "kind": "ConfigMap",
             "verbs": OBJECT_VERBS, "shortNames": ["cm"], "storageVersionHash": "qFsyl6wFWjQ="},
            {"name": "namespaces", "singularName": "namespace", "namespaced": false, "kind": "Namespace",
             "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
             "shortNames": ["ns"], "storageVersionHash": "Q3oi5N2YM8M="},
            {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
             "verbs": OBJECT_VERBS, "shortNames": ["po"], "categories": ["all"],
             "storageVersionHash": "xPOwRZ+Yhw8="},
        ],
    })
}

fn group(name: &str) -> Value {
    let gv = json!({"groupVersion": format!("{name}/v1"), "version": "v1"});
    json!({"name": name, "versions": [gv.clone()], "preferredVersion": gv})
}

/// `/apis`: authentication.k8s.io and authorization.k8s.io.
pub fn groups() -> Value {
    json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [group("authentication.k8s.io"), group("authorization.k8s.io")],
    })
}

fn create_only(name: &str, kind: &str, namespaced: bool) -> Value {
    json!({"name": name, "singularName": name.trim_end_matches('s'), "namespaced": namespaced,
           "kind": kind, "verbs": ["create"]})
}

/// `/apis/GROUP/v1` for the two review groups, `None` for any other group.
pub fn group_v1(group: &str) -> Option<Value> {
    let resources = match group {
        "authentication.k8s.io" => vec![
            create_only("selfsubjectreviews", "SelfSubjectReview", false),
            create_only("tokenreviews", "TokenReview", false),
        ],
        "authorization.k8s.io" => vec![
            create_only(
                "localsubjectaccessreviews",
                "LocalSubjectAccessReview",
                true,
            ),
            create_only("selfsubjectaccessreviews", "SelfSubjectAccessReview", false),
            create_only("selfsubjectrulesreviews", "SelfSubjectRulesReview", false),
            create_only("subjectaccessreviews", "SubjectAccessReview", false),
        ],
        _ => return None,
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": format!("{group}/v1"),
        "resources": resources,
    }))
}

/// `/`: the paths the fake serves.
pub fn root_paths() -> Value {
    json!({"paths": [
        "/api", "/api/v1", "/apis", "/apis/authentication.k8s.io", "/apis/authentication.k8s.io/v1",
        "/apis/authorization.k8s.io", "/apis/authorization.k8s.io/v1", "/healthz", "/livez",
        "/readyz", "/version",
    ]})
}

fn age(created: &Value) -> String {
    let Some(created) = created.as_str() else {
        return "<unknown>".into();
    };
    let parsed = created
        .replace(['-', ':'], "")
        .strip_suffix('Z')
        .map(|s| format!("{s}Z"))
        .and_then(|s| clock::parse_amz_date(&s));
    let Some(t) = parsed else {
        return "<unknown>".into();
    };
    let secs = (clock::now_secs() - t).max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 3 * 3600 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn column(name: &str, kind: &str, format: &str) -> Value {
    json!({"name": name, "type": kind, "format": format, "description": name, "priority": 0})
}

/// Turns an object into its Table cells.
type CellsFn = Box<dyn Fn(&Value) -> Vec<Value>>;

/// A `meta.k8s.io/v1` `Table` of ConfigMaps or Pods, as `kubectl get` asks for it.
pub fn table(kind: &str, items: &[Value], resource_version: &str) -> Value {
    let (columns, cells): (Vec<Value>, CellsFn) = match kind {
        "Pod" => (
            vec![
                column("Name", "string", "name"),
                column("Ready", "string", ""),
                column("Status", "string", ""),
                column("Restarts", "string", ""),
                column("Age", "string", ""),
            ],
            Box::new(|o: &Value| {
                vec![
                    o["metadata"]["name"].clone(),
                    json!("1/1"),
                    o["status"]["phase"].clone(),
                    json!("0"),
                    json!(age(&o["metadata"]["creationTimestamp"])),
                ]
            }),
        ),
        _ => (
            vec![
                column("Name", "string", "name"),
                column("Data", "string", ""),
                column("Age", "string", ""),
            ],
            Box::new(|o: &Value| {
                let n = o["data"].as_object().map_or(0, |m| m.len())
                    + o["binaryData"].as_object().map_or(0, |m| m.len());
                vec![
                    o["metadata"]["name"].clone(),
                    json!(n),
                    json!(age(&o["metadata"]["creationTimestamp"])),
                ]
            }),
        ),
    };
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            json!({
                "cells": cells(o),
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                           "metadata": o["metadata"]},
            })
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": columns,
        "rows": rows,
    })
}

/// The group-versions `/openapi/v3` lists.
const OPENAPI_GROUP_VERSIONS: [&str; 3] = [
    "api/v1",
    "apis/authentication.k8s.io/v1",
    "apis/authorization.k8s.io/v1",
];

/// `/openapi/v3`: the index of per-group-version documents.
pub fn openapi_v3_index() -> Value {
    let paths: serde_json::Map<String, Value> = OPENAPI_GROUP_VERSIONS
        .iter()
        .map(|gv| {
            (
                gv.to_string(),
                json!({"serverRelativeURL": format!("/openapi/v3/{gv}?hash=KUBEFAKE0001")}),
            )
        })
        .collect();
    json!({"paths": paths})
}

fn patch_operation(kind: &str, group: &str, namespaced: bool) -> Value {
    let mut parameters = vec![
        json!({"name": "dryRun", "in": "query", "schema": {"type": "string"}, "uniqueItems": true}),
        json!({"name": "fieldManager", "in": "query", "schema": {"type": "string"}, "uniqueItems": true}),
        json!({"name": "fieldValidation", "in": "query", "schema": {"type": "string"}, "uniqueItems": true}),
        json!({"name": "force", "in": "query", "schema": {"type": "boolean"}, "uniqueItems": true}),
        json!({"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}),
    ];
    if namespaced {
        parameters.push(
            json!({"name": "namespace", "in": "path", "required": true, "schema": {"type": "string"}}),
        );
    }
    json!({
        "patch": {
            "operationId": format!("patchCoreV1{}{kind}", if namespaced { "Namespaced" } else { "" }),
            "parameters": parameters,
            "responses": {"200": {"description": "OK"}},
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": {"group": group, "kind": kind, "version": "v1"},
        }
    })
}

/// `/openapi/v3/GROUPVERSION`: only the PATCH operations, so `kubectl` sees that the server
/// validates fields itself (`fieldValidation`) and builds strategic merge patches from its
/// compiled-in types. Schemas are left out on purpose.
pub fn openapi_v3_document(group_version: &str) -> Option<Value> {
    let paths = match group_version {
        "api/v1" => json!({
            "/api/v1/namespaces/{namespace}/configmaps/{name}": patch_operation("ConfigMap", "", true),
            "/api/v1/namespaces/{namespace}/pods/{name}": patch_operation("Pod", "", true),
            "/api/v1/namespaces/{name}": patch_operation("Namespace", "", false),
        }),
        "apis/authentication.k8s.io/v1" | "apis/authorization.k8s.io/v1" => json!({}),
        _ => return None,
    };
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.31.4-eks-2d5f260"},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}
