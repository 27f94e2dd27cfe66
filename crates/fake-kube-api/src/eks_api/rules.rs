//! The request rules that need no state: which principal ARNs EKS takes (before IAM is
//! asked), reserved group and username prefixes, entry types and their node defaults, and
//! `maxResults`/`nextToken` pagination. No I/O.

use serde_json::Value;

use super::errors::EksError;

/// A principal after IAM resolved it: its exact ARN and unique ID (`AROA…`/`AIDA…`), `None`
/// when the fake runs without IAM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The ARN, path included.
    pub arn: String,
    /// IAM's RoleId or UserId.
    pub unique_id: Option<String>,
}

/// What a principal ARN names, before IAM is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalRef {
    /// `role/PATH/NAME`.
    Role {
        /// The role name.
        name: String,
    },
    /// `user/PATH/NAME`.
    User {
        /// The user name.
        name: String,
    },
}

/// Checks a principal ARN's shape as EKS does before any lookup: IAM roles and users only;
/// STS ARNs and service-linked roles refused.
pub fn parse_principal(arn: &str) -> Result<PrincipalRef, EksError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6
        || parts[0] != "arn"
        || parts[2] != "iam"
        || !parts[3].is_empty()
        || parts[4].len() != 12
        || !parts[4].bytes().all(|b| b.is_ascii_digit())
    {
        return Err(EksError::invalid_principal());
    }
    let resource = parts[5];
    let (kind, rest) = resource
        .split_once('/')
        .ok_or_else(EksError::invalid_principal)?;
    let name = rest.rsplit('/').next().unwrap_or_default().to_string();
    if name.is_empty() {
        return Err(EksError::invalid_principal());
    }
    match kind {
        "role" if rest.starts_with("aws-service-role/") => Err(EksError::invalid_parameter(
            "The caller is not allowed to modify access entries with a principalArn value of a Service Linked Role",
        )),
        "role" => Ok(PrincipalRef::Role { name }),
        "user" => Ok(PrincipalRef::User { name }),
        _ => Err(EksError::invalid_principal()),
    }
}

/// The access entry types EKS knows.
pub const ENTRY_TYPES: [&str; 6] = [
    "STANDARD",
    "EC2_LINUX",
    "EC2_WINDOWS",
    "FARGATE_LINUX",
    "EC2",
    "HYBRID_LINUX",
];

const RESERVED_USERNAME_PREFIXES: [&str; 5] = ["system:", "eks:", "aws:", "amazon:", "iam:"];

/// One page of `items`: `maxResults` 1–100 (default 100) and an opaque `nextToken`.
pub fn page<T: Clone>(
    items: &[T],
    max_results: Option<&str>,
    next_token: Option<&str>,
) -> Result<(Vec<T>, Option<String>), EksError> {
    let max = match max_results {
        None => 100,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                return Err(EksError::invalid_parameter(format!(
                    "1 validation error detected: Value '{text}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100"
                )))
            }
        },
    };
    let start = match next_token {
        None => 0,
        Some(token) => token
            .strip_prefix("fake-eks-page-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| EksError::invalid_parameter("The nextToken is invalid."))?,
    };
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| format!("fake-eks-page-{end}"));
    Ok((items[start..end].to_vec(), next))
}

pub(crate) fn strings(value: &Value, field: &str) -> Result<Option<Vec<String>>, EksError> {
    match &value[field] {
        Value::Null => Ok(None),
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    EksError::invalid_parameter(format!("{field} must be a list of strings"))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        _ => Err(EksError::invalid_parameter(format!(
            "{field} must be a list of strings"
        ))),
    }
}

pub(crate) fn check_groups(groups: &[String]) -> Result<(), EksError> {
    match groups.iter().find(|g| g.starts_with("system:")) {
        Some(g) => Err(EksError::invalid_parameter(format!(
            "The kubernetes group name {g} is invalid, it cannot start with system:"
        ))),
        None => Ok(()),
    }
}

pub(crate) fn check_username(username: &str) -> Result<(), EksError> {
    match RESERVED_USERNAME_PREFIXES
        .iter()
        .find(|p| username.starts_with(**p))
    {
        Some(p) => Err(EksError::invalid_parameter(format!(
            "The username {username} is invalid, it cannot start with {p}"
        ))),
        None => Ok(()),
    }
}

/// What a node-type entry gets instead of a chosen username and groups.
pub(crate) fn node_defaults(kind: &str) -> (String, Vec<String>) {
    match kind {
        "FARGATE_LINUX" => (
            "system:node:{{SessionName}}".into(),
            vec!["system:node-proxier".into(), "system:nodes".into()],
        ),
        "EC2" => ("system:node:{{EC2PrivateDNSName}}".into(), Vec::new()),
        _ => (
            "system:node:{{EC2PrivateDNSName}}".into(),
            vec!["system:nodes".into()],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_are_checked_before_iam() {
        assert_eq!(
            parse_principal("arn:aws:iam::123456789012:role/a/b/name").unwrap(),
            PrincipalRef::Role {
                name: "name".into()
            }
        );
        assert_eq!(
            parse_principal("arn:aws:sts::123456789012:assumed-role/name/s").unwrap_err(),
            EksError::invalid_principal()
        );
        assert!(parse_principal(
            "arn:aws:iam::123456789012:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS"
        )
        .unwrap_err()
        .message
        .contains("Service Linked Role"));
    }

    #[test]
    fn pages() {
        let items: Vec<u32> = (0..5).collect();
        let (first, next) = page(&items, Some("2"), None).unwrap();
        assert_eq!(first, vec![0, 1]);
        let (second, next) = page(&items, Some("2"), next.as_deref()).unwrap();
        assert_eq!(second, vec![2, 3]);
        let (last, next) = page(&items, Some("2"), next.as_deref()).unwrap();
        assert_eq!((last, next), (vec![4], None));
        assert_eq!(
            page(&items, Some("101"), None).unwrap_err().kind,
            "InvalidParameterException"
        );
        assert_eq!(
            page(&items, None, Some("x")).unwrap_err().kind,
            "InvalidParameterException"
        );
    }
}
