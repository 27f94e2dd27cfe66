//! Who is calling and what they may do: static bearer tokens, the user they stand for, and a
//! small RBAC stand-in (`system:masters` may do anything; others what the test allowed).
//!
//! EKS tokens are verified in `eks.rs`; this file only holds the resulting [`User`]s and the
//! rules. No I/O.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::entries::PolicyGrant;
use super::status::{ApiError, ResourceAttrs};

/// The group every authenticated user is in.
pub const AUTHENTICATED: &str = "system:authenticated";
/// The group RBAC lets do anything.
pub const MASTERS: &str = "system:masters";

/// An authenticated user, as a `SelfSubjectReview` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct User {
    /// `userInfo.username`.
    pub username: String,
    /// `userInfo.uid`, empty for none.
    pub uid: String,
    /// `userInfo.groups`, in order, `system:authenticated` last.
    pub groups: Vec<String>,
    /// `userInfo.extra`.
    pub extra: BTreeMap<String, Vec<String>>,
    /// EKS access policies of the access entry that admitted the user (empty otherwise):
    /// RBAC allows what any of them allows.
    pub access_policies: Vec<PolicyGrant>,
}

impl User {
    /// A user with a name and no groups yet.
    pub fn new(username: impl Into<String>) -> Self {
        User {
            username: username.into(),
            ..User::default()
        }
    }

    /// The same user in one more group.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.groups.push(group.into());
        self
    }

    /// The same user with one more `extra` value under `key`.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.entry(key.into()).or_default().push(value.into());
        self
    }

    /// The user as the apiserver sees it after authentication: `system:authenticated` added.
    pub(crate) fn authenticated(mut self) -> Self {
        if !self.groups.iter().any(|g| g == AUTHENTICATED) {
            self.groups.push(AUTHENTICATED.into());
        }
        self
    }

    /// The `userInfo` object of reviews.
    pub fn user_info(&self) -> Value {
        let mut info = json!({"username": self.username, "groups": self.groups});
        if !self.uid.is_empty() {
            info["uid"] = self.uid.clone().into();
        }
        if !self.extra.is_empty() {
            info["extra"] = json!(self.extra);
        }
        info
    }
}

/// Whom a [`Rule`] applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A username.
    User(String),
    /// A group name.
    Group(String),
}

/// One permission: verbs on resources, optionally limited to one namespace. `*` matches any
/// verb or resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Who gets the permission.
    pub subject: Subject,
    /// Verbs: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, or `*`.
    pub verbs: Vec<String>,
    /// Plural resources (`configmaps`, `pods`), or `*`.
    pub resources: Vec<String>,
    /// `None`: every namespace (and cluster scope); `Some(ns)`: only that namespace.
    pub namespace: Option<String>,
}

impl Rule {
    /// Lets username `user` do `verbs` on `resources` everywhere.
    pub fn user(user: &str, verbs: &[&str], resources: &[&str]) -> Self {
        Self::new(Subject::User(user.into()), verbs, resources)
    }

    /// Lets members of `group` do `verbs` on `resources` everywhere.
    pub fn group(group: &str, verbs: &[&str], resources: &[&str]) -> Self {
        Self::new(Subject::Group(group.into()), verbs, resources)
    }

    fn new(subject: Subject, verbs: &[&str], resources: &[&str]) -> Self {
        Rule {
            subject,
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            resources: resources.iter().map(|s| s.to_string()).collect(),
            namespace: None,
        }
    }

    /// The same rule, limited to one namespace.
    pub fn in_namespace(mut self, ns: &str) -> Self {
        self.namespace = Some(ns.into());
        self
    }

    fn allows(&self, user: &User, verb: &str, resource: &str, ns: Option<&str>) -> bool {
        let subject = match &self.subject {
            Subject::User(name) => *name == user.username,
            Subject::Group(group) => user.groups.iter().any(|g| g == group),
        };
        let any = |list: &[String], want: &str| list.iter().any(|x| x == "*" || x == want);
        subject
            && any(&self.verbs, verb)
            && any(&self.resources, resource)
            && match (&self.namespace, ns) {
                (None, _) => true,
                (Some(rule_ns), Some(ns)) => rule_ns == ns,
                (Some(_), None) => false,
            }
    }
}

/// Static tokens and rules: the fake's authentication and authorization configuration.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Bearer token → user.
    pub tokens: BTreeMap<String, User>,
    /// Permissions beyond `system:masters`.
    pub rules: Vec<Rule>,
}

impl Policy {
    /// The user a static token stands for, `system:authenticated` included.
    pub fn static_user(&self, token: &str) -> Option<User> {
        self.tokens.get(token).cloned().map(User::authenticated)
    }

    /// Whether `user` may `verb` the resource in `attrs` (RBAC's answer).
    pub fn allowed(&self, user: &User, verb: &str, attrs: &ResourceAttrs<'_>) -> bool {
        user.groups.iter().any(|g| g == MASTERS)
            || user
                .access_policies
                .iter()
                .any(|p| p.allows(verb, attrs.resource, attrs.namespace))
            || self
                .rules
                .iter()
                .any(|r| r.allows(user, verb, attrs.resource, attrs.namespace))
    }

    /// `Ok` if allowed, else the 403 `Forbidden` Status in RBAC's words.
    pub fn authorize(
        &self,
        user: &User,
        verb: &str,
        attrs: &ResourceAttrs<'_>,
    ) -> Result<(), ApiError> {
        if self.allowed(user, verb, attrs) {
            Ok(())
        } else {
            Err(ApiError::forbidden(&user.username, verb, attrs))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs<'a>(ns: Option<&'a str>, name: Option<&'a str>) -> ResourceAttrs<'a> {
        ResourceAttrs {
            group: "",
            resource: "configmaps",
            namespace: ns,
            name,
        }
    }

    #[test]
    fn masters_may_do_anything_others_what_rules_say() {
        let mut policy = Policy::default();
        policy
            .rules
            .push(Rule::user("bob", &["get", "list"], &["configmaps"]).in_namespace("kube-system"));
        policy.rules.push(Rule::group("viewers", &["list"], &["*"]));
        let admin = User::new("admin").group(MASTERS).authenticated();
        let bob = User::new("bob").authenticated();
        let viewer = User::new("carol").group("viewers").authenticated();
        assert!(policy.allowed(&admin, "delete", &attrs(Some("x"), Some("y"))));
        assert!(policy.allowed(&bob, "get", &attrs(Some("kube-system"), Some("aws-auth"))));
        assert!(!policy.allowed(&bob, "get", &attrs(Some("default"), Some("aws-auth"))));
        assert!(!policy.allowed(
            &bob,
            "update",
            &attrs(Some("kube-system"), Some("aws-auth"))
        ));
        assert!(policy.allowed(&viewer, "list", &attrs(None, None)));
        let err = policy
            .authorize(
                &bob,
                "update",
                &attrs(Some("kube-system"), Some("aws-auth")),
            )
            .unwrap_err();
        assert_eq!(err.code, 403);
        assert_eq!(
            err.message,
            "configmaps \"aws-auth\" is forbidden: User \"bob\" cannot update resource \"configmaps\" in API group \"\" in the namespace \"kube-system\""
        );
        let err = policy
            .authorize(&bob, "list", &attrs(None, None))
            .unwrap_err();
        assert_eq!(
            err.message,
            "configmaps is forbidden: User \"bob\" cannot list resource \"configmaps\" in API group \"\" at the cluster scope"
        );
    }

    #[test]
    fn static_users_are_authenticated() {
        let mut policy = Policy::default();
        policy.tokens.insert("t".into(), User::new("u").group("g"));
        let user = policy.static_user("t").unwrap();
        assert_eq!(user.groups, vec!["g", AUTHENTICATED]);
        assert!(policy.static_user("nope").is_none());
    }
}
