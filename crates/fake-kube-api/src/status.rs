//! `Status` objects: every error the fake returns, shaped and worded like the apiserver's.
//!
//! Owns the messages (`configmaps "aws-auth" not found`, the optimistic-concurrency text, the
//! RBAC denial). It must not decide *when* an error happens: the store, auth and handlers do.

use serde_json::{json, Value};

/// An apiserver error: HTTP code, `reason`, `message` and `details`, rendered as a `Status`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status code, also `Status.code`.
    pub code: u16,
    /// `Status.reason`, e.g. `NotFound`, `Conflict`.
    pub reason: &'static str,
    /// `Status.message`, worded like the real apiserver.
    pub message: String,
    /// `Status.details` (`name`, `kind`, `causes`), or `None` for no details.
    pub details: Option<Value>,
}

impl ApiError {
    /// 404: `configmaps "NAME" not found`.
    pub fn not_found(resource: &str, name: &str) -> Self {
        Self {
            code: 404,
            reason: "NotFound",
            message: format!("{resource} \"{name}\" not found"),
            details: Some(json!({"name": name, "kind": resource})),
        }
    }

    /// 404 for a path the server does not serve at all.
    pub fn no_route() -> Self {
        Self {
            code: 404,
            reason: "NotFound",
            message: "the server could not find the requested resource".into(),
            details: Some(json!({})),
        }
    }

    /// 409: `configmaps "NAME" already exists`.
    pub fn already_exists(resource: &str, name: &str) -> Self {
        Self {
            code: 409,
            reason: "AlreadyExists",
            message: format!("{resource} \"{name}\" already exists"),
            details: Some(json!({"name": name, "kind": resource})),
        }
    }

    /// 409: the optimistic-concurrency failure a stale `resourceVersion` gets.
    pub fn conflict(resource: &str, name: &str) -> Self {
        Self::conflict_because(
            resource,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 409 `Conflict` with the apiserver's prefix and a given explanation.
    pub fn conflict_because(resource: &str, name: &str, why: &str) -> Self {
        Self {
            code: 409,
            reason: "Conflict",
            message: format!("Operation cannot be fulfilled on {resource} \"{name}\": {why}"),
            details: Some(json!({"name": name, "kind": resource})),
        }
    }

    /// 422: `Kind "NAME" is invalid: FIELD: DETAIL`, with one cause.
    pub fn invalid(kind: &str, name: &str, field: &str, cause: &str, detail: &str) -> Self {
        Self {
            code: 422,
            reason: "Invalid",
            message: format!("{kind} \"{name}\" is invalid: {field}: {detail}"),
            details: Some(json!({
                "name": name,
                "kind": kind,
                "causes": [{"reason": cause, "message": detail, "field": field}],
            })),
        }
    }

    /// 422 for a JSON patch that does not apply (a failed `test`, a missing path).
    pub fn invalid_patch(why: &str) -> Self {
        Self {
            code: 422,
            reason: "Invalid",
            message: format!(
                "the server rejected our request due to an error in our request: {why}"
            ),
            details: None,
        }
    }

    /// 400 `BadRequest` with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            code: 400,
            reason: "BadRequest",
            message: message.into(),
            details: None,
        }
    }

    /// 405 `MethodNotAllowed`.
    pub fn method_not_allowed() -> Self {
        Self {
            code: 405,
            reason: "MethodNotAllowed",
            message: "the server does not allow this method on the requested resource".into(),
            details: Some(json!({})),
        }
    }

    /// 415 `UnsupportedMediaType` for a PATCH content type the server does not know.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self {
            code: 415,
            reason: "UnsupportedMediaType",
            message: format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {content_type:?})"),
            details: None,
        }
    }

    /// 401: the bare `Unauthorized` the apiserver sends for a missing or bad token.
    pub fn unauthorized() -> Self {
        Self {
            code: 401,
            reason: "Unauthorized",
            message: "Unauthorized".into(),
            details: None,
        }
    }

    /// 403 in RBAC's words: `configmaps "aws-auth" is forbidden: User "X" cannot get …`.
    pub fn forbidden(user: &str, verb: &str, attrs: &ResourceAttrs<'_>) -> Self {
        let subject = match attrs.name {
            Some(name) if !name.is_empty() => format!("{} \"{name}\"", attrs.resource),
            _ => attrs.resource.to_string(),
        };
        let scope = match attrs.namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_string(),
        };
        Self {
            code: 403,
            reason: "Forbidden",
            message: format!(
                "{subject} is forbidden: User \"{user}\" cannot {verb} resource \"{}\" in API group \"{}\" {scope}",
                attrs.resource, attrs.group
            ),
            details: Some(match attrs.name {
                Some(name) => json!({"name": name, "kind": attrs.resource}),
                None => json!({"kind": attrs.resource}),
            }),
        }
    }

    /// 500 `InternalError`, as an injected fault answers.
    pub fn internal(why: &str) -> Self {
        Self {
            code: 500,
            reason: "InternalError",
            message: format!("Internal error occurred: {why}"),
            details: Some(json!({"causes": [{"message": why}]})),
        }
    }

    /// 413 for a body over the apiserver's 3 MiB request limit.
    pub fn too_large() -> Self {
        Self {
            code: 413,
            reason: "RequestEntityTooLarge",
            message: "Request entity too large: limit is 3145728".into(),
            details: None,
        }
    }

    /// The `Status` object for this error.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

/// What an RBAC decision is about: group, resource, namespace and (optional) object name.
#[derive(Debug, Clone, Copy)]
pub struct ResourceAttrs<'a> {
    /// The API group, `""` for core.
    pub group: &'a str,
    /// The plural resource, e.g. `configmaps`.
    pub resource: &'a str,
    /// The namespace, `None` for cluster-scoped requests.
    pub namespace: Option<&'a str>,
    /// The object name, when the request names one.
    pub name: Option<&'a str>,
}

/// The `Status` a successful DELETE returns.
pub fn deleted(resource: &str, name: &str, uid: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": name, "kind": resource, "uid": uid},
    })
}
