//! IAM lookups: IAM Identity Center roles by permission set, roles and users by name.

use aws_sdk_iam::error::ProvideErrorMetadata;
use serde::Serialize;

use super::error::AwsError;
use super::identity::{invalid_arn, parse_arn, principal_arn};
use super::session::{sdk_error, Session};

/// The IAM path under which IAM Identity Center creates its roles (followed by the region).
pub const SSO_ROLE_PATH_PREFIX: &str = "/aws-reserved/sso.amazonaws.com/";

/// The name prefix of IAM Identity Center roles: `AWSReservedSSO_<PermissionSet>_<hex>`.
pub const SSO_ROLE_NAME_PREFIX: &str = "AWSReservedSSO_";

/// An IAM role, as plain data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleInfo {
    /// The role's ARN as IAM reports it, path included.
    pub arn: String,
    /// The ARN without the path: what aws-auth `rolearn` must hold.
    pub principal_arn: String,
    /// The role name.
    pub name: String,
    /// The IAM path, `/` when none.
    pub path: String,
    /// The account ID.
    pub account: String,
    /// IAM's unique ID (`AROA...`).
    pub id: String,
    /// Creation time, RFC 3339.
    pub created: String,
}

/// An IAM user, as plain data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    /// The user's ARN, path included (aws-auth `userarn` must match it exactly).
    pub arn: String,
    /// The user name.
    pub name: String,
    /// The IAM path, `/` when none.
    pub path: String,
    /// The account ID.
    pub account: String,
    /// IAM's unique ID (`AIDA...`).
    pub id: String,
    /// Creation time, RFC 3339.
    pub created: String,
}

/// Splits `AWSReservedSSO_<PermissionSet>_<hex>` into the permission set and the suffix.
/// Permission set names may themselves contain `_`; the suffix is the last part.
pub fn parse_sso_role_name(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix(SSO_ROLE_NAME_PREFIX)?;
    let (ps, suffix) = rest.rsplit_once('_')?;
    (!ps.is_empty() && !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some((ps, suffix))
}

/// The path-less ARN of the IAM Identity Center role for `permission_set` in the session's
/// account, e.g. `arn:aws:iam::123456789012:role/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef`.
///
/// Lists every role under `/aws-reserved/sso.amazonaws.com/` (all pages).
///
/// # Errors
/// [`AwsError::SsoRoleNotFound`] (listing the permission sets that exist),
/// [`AwsError::SsoRoleAmbiguous`], or an IAM error (e.g. AccessDenied for iam:ListRoles).
pub async fn sso_role_arn(session: &Session, permission_set: &str) -> Result<String, AwsError> {
    let wanted = permission_set.trim();
    let iam = session.iam_client();
    let mut pages = iam
        .list_roles()
        .path_prefix(SSO_ROLE_PATH_PREFIX)
        .into_paginator()
        .send();
    let mut matching = Vec::new();
    let mut available = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            sdk_error(
                e,
                "iam:ListRoles",
                session.endpoint_iam(),
                session.redactor(),
            )
        })?;
        for role in page.roles() {
            let Some((ps, _)) = parse_sso_role_name(role.role_name()) else {
                continue;
            };
            if ps == wanted {
                matching.push(role.arn().to_string());
            }
            available.push(ps.to_string());
        }
    }
    available.sort();
    available.dedup();
    match matching.len() {
        0 => Err(AwsError::SsoRoleNotFound {
            permission_set: wanted.to_string(),
            account: session.account().to_string(),
            available,
        }),
        1 => strip_role_path(&matching[0]),
        _ => {
            matching.sort();
            Err(AwsError::SsoRoleAmbiguous {
                permission_set: wanted.to_string(),
                account: session.account().to_string(),
                roles: matching,
            })
        }
    }
}

/// `arn:P:iam::A:role/some/path/NAME` → `arn:P:iam::A:role/NAME` (the rule is
/// [`crate::access::arn::role_without_path`]'s).
pub fn strip_role_path(arn: &str) -> Result<String, AwsError> {
    crate::access::arn::role_without_path(arn).map_err(|e| invalid_arn(arn, &e))
}

/// The last path element of a name or ARN (`role/x/NAME`, `NAME`).
fn plain_name(name_or_arn: &str) -> &str {
    let s = name_or_arn.trim();
    if s.starts_with("arn:") {
        s.rsplit(['/', ':']).next().unwrap_or(s)
    } else {
        s
    }
}

fn account_of(arn: &str) -> String {
    parse_arn(arn)
        .map(|a| a.account.to_string())
        .unwrap_or_default()
}

/// An IAM lookup's error: NoSuchEntity is `missing()`, anything else the SDK's error.
fn lookup_error<E>(
    e: aws_sdk_iam::error::SdkError<E, aws_sdk_iam::config::http::HttpResponse>,
    operation: &'static str,
    session: &Session,
    missing: impl FnOnce() -> AwsError,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if e.code() == Some("NoSuchEntity") {
        missing()
    } else {
        sdk_error(e, operation, session.endpoint_iam(), session.redactor())
    }
}

/// Looks up an IAM role by name (an ARN is accepted too: its last element is used).
///
/// # Errors
/// [`AwsError::NoSuchRole`], or an IAM error.
pub async fn iam_role(session: &Session, name: &str) -> Result<RoleInfo, AwsError> {
    let name = plain_name(name);
    let missing = || AwsError::NoSuchRole {
        name: name.to_string(),
        account: session.account().to_string(),
    };
    let out = session.iam_client().get_role().role_name(name).send().await;
    let out = out.map_err(|e| lookup_error(e, "iam:GetRole", session, missing))?;
    let role = out.role().ok_or_else(missing)?;
    Ok(RoleInfo {
        principal_arn: strip_role_path(role.arn())?,
        arn: role.arn().to_string(),
        name: role.role_name().to_string(),
        path: role.path().to_string(),
        account: account_of(role.arn()),
        id: role.role_id().to_string(),
        created: super::time::date(role.create_date()),
    })
}

/// Looks up an IAM user by name (an ARN is accepted too: its last element is used).
///
/// # Errors
/// [`AwsError::NoSuchUser`], or an IAM error.
pub async fn iam_user(session: &Session, name: &str) -> Result<UserInfo, AwsError> {
    let name = plain_name(name);
    let missing = || AwsError::NoSuchUser {
        name: name.to_string(),
        account: session.account().to_string(),
    };
    let out = session.iam_client().get_user().user_name(name).send().await;
    let out = out.map_err(|e| lookup_error(e, "iam:GetUser", session, missing))?;
    let user = out.user().ok_or_else(missing)?;
    Ok(UserInfo {
        arn: user.arn().to_string(),
        name: user.user_name().to_string(),
        path: user.path().to_string(),
        account: account_of(user.arn()),
        id: user.user_id().to_string(),
        created: super::time::date(user.create_date()),
    })
}

/// Whether the principal an aws-auth entry names exists *and* that ARN would match it:
/// a role by name (with or without its path), a user by name with the exact path,
/// assumed-role ARNs via their role, the account root always.
///
/// # Errors
/// An ARN that names no principal, a principal in another account
/// ([`AwsError::OtherAccount`]), or an IAM error other than NoSuchEntity.
pub async fn principal_exists(session: &Session, arn: &str) -> Result<bool, AwsError> {
    let canonical = principal_arn(arn.trim())?;
    let a = parse_arn(&canonical)?;
    if a.account != session.account() {
        return Err(AwsError::OtherAccount {
            arn: arn.to_string(),
            arn_account: a.account.to_string(),
            account: session.account().to_string(),
        });
    }
    if a.resource == "root" {
        return Ok(true);
    }
    if a.resource.starts_with("role/") {
        return match iam_role(session, &canonical).await {
            Ok(r) => Ok(r.arn.eq_ignore_ascii_case(&canonical)
                || r.principal_arn.eq_ignore_ascii_case(&canonical)),
            Err(AwsError::NoSuchRole { .. }) => Ok(false),
            Err(e) => Err(e),
        };
    }
    if a.resource.starts_with("user/") {
        return match iam_user(session, &canonical).await {
            Ok(u) => Ok(u.arn.eq_ignore_ascii_case(&canonical)),
            Err(AwsError::NoSuchUser { .. }) => Ok(false),
            Err(e) => Err(e),
        };
    }
    Err(AwsError::InvalidArn {
        arn: arn.to_string(),
        reason: "only roles, users and the account root can be looked up".into(),
    })
}

/// Every role (ARN with its path, creation time in seconds since the epoch) and user ARN of
/// the session's account: two paginated calls (ListRoles, ListUsers).
async fn list_principals(session: &Session) -> Result<(Vec<(String, f64)>, Vec<String>), AwsError> {
    let iam = session.iam_client();
    let (endpoint, redactor) = (session.endpoint_iam(), session.redactor());
    let mut roles = Vec::new();
    let mut pages = iam.list_roles().into_paginator().items().send();
    while let Some(role) = pages.next().await {
        let role = role.map_err(|e| sdk_error(e, "iam:ListRoles", endpoint.clone(), redactor))?;
        roles.push((role.arn().to_string(), role.create_date().as_secs_f64()));
    }
    let mut users = Vec::new();
    let mut pages = iam.list_users().into_paginator().items().send();
    while let Some(user) = pages.next().await {
        let user = user.map_err(|e| sdk_error(e, "iam:ListUsers", endpoint.clone(), redactor))?;
        users.push(user.arn().to_string());
    }
    Ok((roles, users))
}

/// Every principal of the session's account, for checking many at once: role ARNs without
/// their path and user ARNs with theirs, lower-cased as the authenticator compares them.
/// Two paginated calls (ListRoles, ListUsers) instead of one GetRole/GetUser per principal.
///
/// # Errors
/// An IAM error (e.g. AccessDenied for iam:ListRoles).
pub async fn account_principals(
    session: &Session,
) -> Result<std::collections::BTreeSet<String>, AwsError> {
    let (roles, users) = list_principals(session).await?;
    let roles = roles
        .iter()
        .map(|(arn, _)| strip_role_path(arn).unwrap_or_else(|_| arn.clone()));
    Ok(roles
        .chain(users)
        .map(|arn| arn.to_ascii_lowercase())
        .collect())
}

/// The account's roles and users for the access report, with the trust policy (GetRole) of
/// each role `mapped` names (any form; matched by name).
///
/// # Errors
/// An IAM error (e.g. AccessDenied for iam:ListRoles or iam:GetRole).
pub async fn report_principals(
    session: &Session,
    mapped: &[String],
) -> Result<crate::report::Iam, AwsError> {
    let (roles, users) = list_principals(session).await?;
    let wanted: std::collections::BTreeSet<String> = mapped
        .iter()
        .map(|a| crate::access::arn::match_key(a))
        .collect();
    let mut out = Vec::new();
    for (arn, created) in roles {
        let mut trusted = Vec::new();
        if wanted.contains(&crate::access::arn::match_key(&arn)) {
            let name = plain_name(&arn);
            let got = session.iam_client().get_role().role_name(name).send().await;
            let got = got.map_err(|e| {
                sdk_error(e, "iam:GetRole", session.endpoint_iam(), session.redactor())
            })?;
            if let Some(doc) = got.role().and_then(|r| r.assume_role_policy_document()) {
                trusted = super::trust::trusted_principals(doc);
            }
        }
        out.push(crate::report::IamRole {
            arn,
            trusted,
            created: Some(created),
        });
    }
    Ok(crate::report::Iam { roles: out, users })
}

/// The ARN an EKS access entry needs for the principal `arn` names (any form: path-less,
/// with a path, an STS assumed-role session): a role's real ARN with its path (IAM GetRole
/// by name), a user's ARN as IAM has it (GetUser). The opposite of aws-auth's rule.
///
/// # Errors
/// [`AwsError::NoSuchRole`] / [`AwsError::NoSuchUser`] when IAM has no such principal,
/// [`AwsError::OtherAccount`], an ARN that names neither a role nor a user, or an IAM error.
pub async fn entry_principal_arn(session: &Session, arn: &str) -> Result<String, AwsError> {
    let canonical = principal_arn(arn.trim())?;
    let resource = parse_arn(&canonical)?.resource;
    let found = if resource.starts_with("role/") {
        iam_role(session, &canonical).await?.arn
    } else if resource.starts_with("user/") {
        iam_user(session, &canonical).await?.arn
    } else {
        return Err(AwsError::InvalidArn {
            arn: arn.to_string(),
            reason: "an access entry is for an IAM role or user".into(),
        });
    };
    // IAM looks names up in the session's account only.
    if account_of(&found) != account_of(&canonical) {
        return Err(AwsError::OtherAccount {
            arn: arn.to_string(),
            arn_account: account_of(&canonical),
            account: session.account().to_string(),
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sso_role_names() {
        assert_eq!(
            parse_sso_role_name("AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef"),
            Some(("AWSAdministratorAccess", "0123456789abcdef"))
        );
        assert_eq!(
            parse_sso_role_name("AWSReservedSSO_Read_Only_abcdef0123456789"),
            Some(("Read_Only", "abcdef0123456789"))
        );
        assert_eq!(parse_sso_role_name("AWSReservedSSO_Admin"), None);
        assert_eq!(parse_sso_role_name("AWSReservedSSO_Admin_xyz"), None);
        assert_eq!(parse_sso_role_name("Admin_0123"), None);
    }

    #[test]
    fn strips_paths() {
        assert_eq!(
            strip_role_path(
                "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef"
            )
            .unwrap(),
            "arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0123456789abcdef"
        );
        assert!(strip_role_path("arn:aws:iam::123456789012:user/x").is_err());
        assert_eq!(
            plain_name("arn:aws:iam::123456789012:role/a/b/Name"),
            "Name"
        );
        assert_eq!(plain_name(" Name "), "Name");
    }
}
