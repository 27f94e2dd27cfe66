//! Who the caller is: [`Identity`], and the pure ARN rules the EKS authenticator applies.

use std::fmt;

use serde::Serialize;

use super::error::AwsError;
use crate::access::arn::{self, ArnError, ArnParts};

/// How a session got its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialType {
    /// `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`) from the environment.
    AccessKey,
    /// A profile of the shared config/credentials files (`AWS_PROFILE`, else `default`).
    AwsProfile,
    /// An IAM Identity Center (SSO) profile with a cached login.
    Sso,
    /// The default chain's web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`), as
    /// CI on Kubernetes (IRSA) and GitHub OIDC provide it; never asked for with `-a`.
    WebIdentity,
    /// The default chain's last sources (ECS/EKS container credentials, EC2 instance
    /// metadata); never asked for with `-a`.
    DefaultChain,
}

impl CredentialType {
    /// Every type `-a` accepts, in the order okctl lists them.
    pub const ALL: [CredentialType; 3] = [
        CredentialType::AccessKey,
        CredentialType::AwsProfile,
        CredentialType::Sso,
    ];

    /// The name used on the command line and in scripts.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialType::AccessKey => "access-key",
            CredentialType::AwsProfile => "aws-profile",
            CredentialType::Sso => "sso",
            CredentialType::WebIdentity => "web-identity",
            CredentialType::DefaultChain => "default-chain",
        }
    }
}

impl fmt::Display for CredentialType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CredentialType {
    type Err = AwsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        CredentialType::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| AwsError::InvalidCredentialType {
                given: s.to_string(),
            })
    }
}

/// The verified caller, from STS GetCallerIdentity. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// The 12-digit account ID.
    pub account: String,
    /// The ARN STS reports (`arn:aws:sts::A:assumed-role/NAME/SESSION` for roles).
    pub arn: String,
    /// STS's UserId (`AIDA...` for users, `AROA...:SESSION` for roles).
    pub user_id: String,
    /// The ARN the EKS authenticator matches: assumed-role ARNs become `arn:aws:iam::A:role/NAME`.
    pub principal_arn: String,
    /// How the credentials were obtained.
    pub credential_type: CredentialType,
    /// The profile used, for the profile and SSO types.
    pub profile: Option<String>,
}

/// The parts of an ARN (see [`crate::access::arn::split`]), or the AWS layer's error.
pub(crate) fn parse_arn(arn: &str) -> Result<ArnParts<'_>, AwsError> {
    arn::split(arn).map_err(|e| invalid_arn(arn, &e))
}

/// An [`ArnError`] as the AWS layer reports it: [`AwsError::InvalidArn`] with the reason.
pub(crate) fn invalid_arn(text: &str, e: &ArnError) -> AwsError {
    let reason = match e {
        ArnError::Shape { .. } => {
            "an ARN has six `:`-separated parts: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE"
                .to_string()
        }
        ArnError::Partition { .. } => "the partition must be aws, aws-cn, aws-us-gov, ...".into(),
        ArnError::Account { .. } => "the account must be 12 digits".into(),
        ArnError::NotPrincipal { .. } => {
            "an IAM principal ARN is root, user/NAME or role/NAME, an STS one assumed-role/ROLE/SESSION or federated-user/NAME".into()
        }
        ArnError::WrongKind { wanted, .. } => format!("not an IAM {wanted} ARN"),
        other => other.to_string(),
    };
    AwsError::InvalidArn {
        arn: text.to_string(),
        reason,
    }
}

/// The ARN the EKS authenticator (aws-iam-authenticator) matches for a caller ARN; see
/// [`crate::access::arn::caller_principal`], which owns the rule.
///
/// ```
/// use okscript::aws::principal_arn;
/// assert_eq!(
///     principal_arn("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com").unwrap(),
///     "arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0123456789abcdef",
/// );
/// ```
pub fn principal_arn(arn: &str) -> Result<String, AwsError> {
    arn::caller_principal(arn).map_err(|e| invalid_arn(arn, &e))
}

/// The last path element of an IAM or STS principal, used to name sessions:
/// the session of an assumed role, the user's name, or `root`.
pub(crate) fn caller_short_name(arn: &str) -> String {
    let Ok(a) = parse_arn(arn) else {
        return "caller".into();
    };
    if let Some(rest) = a.resource.strip_prefix("assumed-role/") {
        return rest
            .split_once('/')
            .map(|(role, session)| if session.is_empty() { role } else { session })
            .unwrap_or(rest)
            .to_string();
    }
    a.resource
        .rsplit('/')
        .next()
        .unwrap_or(a.resource)
        .to_string()
}

/// A valid role session name from any text: characters outside `[\w+=,.@-]` become `-`,
/// the result has the `okscript-` prefix and is cut to 64 characters.
pub fn default_session_name(caller: &str) -> String {
    let cleaned: String = caller
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut name = format!("okscript-{cleaned}");
    name.truncate(64);
    name
}

/// Checks a caller-supplied role session name: 2–64 characters of `[\w+=,.@-]`.
pub(crate) fn validate_session_name(name: &str) -> Result<(), AwsError> {
    let bad = |reason: &str| AwsError::InvalidSessionName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if name.len() < 2 || name.len() > 64 {
        return Err(bad("it must be 2 to 64 characters long"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c)))
    {
        return Err(bad(&format!("`{c}` is not allowed")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_type_parses() {
        assert_eq!(
            "sso".parse::<CredentialType>().unwrap(),
            CredentialType::Sso
        );
        assert_eq!(
            "access-key".parse::<CredentialType>().unwrap(),
            CredentialType::AccessKey
        );
        assert_eq!(
            "aws-profile".parse::<CredentialType>().unwrap(),
            CredentialType::AwsProfile
        );
        let err = "profile".parse::<CredentialType>().unwrap_err().to_string();
        assert!(err.contains("access-key, aws-profile, sso"), "{err}");
    }

    #[test]
    fn principal_arns() {
        assert_eq!(
            principal_arn("arn:aws:sts::123456789012:assumed-role/Admin/alice").unwrap(),
            "arn:aws:iam::123456789012:role/Admin"
        );
        assert_eq!(
            principal_arn("arn:aws-cn:sts::123456789012:assumed-role/Admin/i-0abc").unwrap(),
            "arn:aws-cn:iam::123456789012:role/Admin"
        );
        for same in [
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:iam::123456789012:user/dev/team/alice",
            "arn:aws:iam::123456789012:root",
        ] {
            assert_eq!(principal_arn(same).unwrap(), same);
        }
        assert!(principal_arn("arn:aws:sts::123456789012:assumed-role/Admin").is_err());
        assert!(principal_arn("arn:aws:s3:::bucket").is_err());
        assert!(principal_arn("arn:aws:iam::1234:user/x").is_err());
        assert!(principal_arn("not an arn").is_err());
    }

    #[test]
    fn session_names() {
        assert_eq!(
            caller_short_name("arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com"),
            "alice@example.com"
        );
        assert_eq!(
            caller_short_name("arn:aws:iam::123456789012:user/dev/bob"),
            "bob"
        );
        assert_eq!(caller_short_name("arn:aws:iam::123456789012:root"), "root");
        assert_eq!(default_session_name("a b/c!d"), "okscript-a-b-c-d");
        let long = default_session_name(&"x".repeat(100));
        assert_eq!(long.len(), 64);
        assert!(validate_session_name(&long).is_ok());
        assert!(validate_session_name("a").is_err());
        assert!(validate_session_name("a b").is_err());
    }
}
