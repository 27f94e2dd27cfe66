//! The errors of the AWS layer: each says what went wrong and what to do.
//!
//! No variant holds a source error from the SDK: the text of SDK and credential-provider
//! errors is copied in after every known secret value has been cut out of it (see
//! [`Redactor`]), so that no `Display`, `Debug` or source chain can leak a key or a token.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong while logging in to AWS or asking STS and IAM about principals.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AwsError {
    /// The credentials type is not one of the three okscript knows.
    #[error(
        "unknown AWS credentials type `{given}`: expected one of access-key, aws-profile, sso"
    )]
    InvalidCredentialType {
        /// What was given.
        given: String,
    },

    /// `access-key` login needs an environment variable that is not set (or is empty).
    #[error("{name} is not set, and the `access-key` credentials type needs it")]
    MissingEnvVar {
        /// The variable's name.
        name: &'static str,
    },

    /// Neither HOME nor AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE is set, so there is nowhere to look for profiles.
    #[error(
        "cannot find the AWS config files: HOME is not set, and neither AWS_CONFIG_FILE nor AWS_SHARED_CREDENTIALS_FILE is"
    )]
    NoHome,

    /// An AWS config or credentials file exists but could not be read.
    #[error("cannot read the AWS {kind} file {path}: {detail}")]
    ProfileFileUnreadable {
        /// `config` or `credentials`.
        kind: &'static str,
        /// The file.
        path: PathBuf,
        /// Why (the I/O error).
        detail: String,
    },

    /// An AWS config or credentials file does not parse; the line is 1-based.
    #[error("{}:{line}: the AWS {kind} file cannot be read: {message}", .path.display())]
    ProfileFileMalformed {
        /// `config` or `credentials`.
        kind: &'static str,
        /// The file.
        path: PathBuf,
        /// The first line that cannot be read.
        line: usize,
        /// What is wrong with it.
        message: String,
    },

    /// The default chain found no credentials anywhere it looks.
    #[error("no AWS credentials found: {looked}")]
    NoCredentials {
        /// Where the chain looked, in order, and what each source said.
        looked: String,
    },

    /// The named profile is in neither the config nor the credentials file.
    #[error("{}", profile_not_found(.name, .available, .files))]
    ProfileNotFound {
        /// The profile asked for.
        name: String,
        /// The profiles that do exist, sorted.
        available: Vec<String>,
        /// The files that were searched.
        files: Vec<PathBuf>,
    },

    /// `sso` login was asked for, but the profile has neither `sso_session` nor `sso_start_url`.
    #[error(
        "profile `{name}` is not an SSO profile: it has neither `sso_session` nor `sso_start_url`"
    )]
    NotAnSsoProfile {
        /// The profile.
        name: String,
    },

    /// A profile is incomplete or inconsistent (for example it names an `[sso-session]` that does not exist).
    #[error("profile `{profile}` is not usable: {reason}")]
    InvalidProfile {
        /// The profile.
        profile: String,
        /// What is wrong with it.
        reason: String,
    },

    /// There is no valid cached SSO token for this profile, so a browser login is needed first.
    #[error("no valid SSO login for profile `{profile}`: {reason}")]
    SsoLoginRequired {
        /// The profile.
        profile: String,
        /// Why no token could be used (no cache file, expired, unreadable).
        reason: String,
        /// The cache file that was looked at.
        cache_file: PathBuf,
    },

    /// The cached SSO token expired and its refresh was refused (or impossible), so only a new login helps.
    #[error("your SSO login for {session} expired and could not be refreshed; run `okscript login --profile {profile}` (it expired at {expired_at})")]
    SsoLoginExpired {
        /// The sso-session name (the start URL for a legacy profile, as the cache is keyed).
        session: String,
        /// When the token expired (`expiresAt` of the cache file).
        expired_at: String,
        /// The profile.
        profile: String,
        /// The cache file that holds the expired token.
        cache_file: PathBuf,
    },

    /// The credential provider (profile, credential_process, SSO, role chain) could not produce credentials.
    #[error("could not get AWS credentials{}: {detail}", from_profile(.profile))]
    CredentialsUnavailable {
        /// The profile in use, if any.
        profile: Option<String>,
        /// The provider's own explanation, with secrets removed.
        detail: String,
    },

    /// AWS looked at the credentials and refused them (unknown key, wrong secret, expired token, access denied).
    #[error("AWS rejected the credentials in {operation}: {code}: {meaning}")]
    Rejected {
        /// The API call, e.g. `sts:GetCallerIdentity`.
        operation: &'static str,
        /// The AWS error code, e.g. `InvalidClientTokenId`.
        code: String,
        /// One sentence on what this code usually means.
        meaning: String,
        /// AWS's own message, with secrets removed.
        message: String,
    },

    /// The AWS endpoint could not be reached at all (DNS, connection refused, TLS, timeout).
    #[error("could not reach AWS for {operation}{}: {detail}", at_endpoint(.endpoint))]
    Unreachable {
        /// The API call.
        operation: &'static str,
        /// The endpoint override in use, if any.
        endpoint: Option<String>,
        /// What failed, with secrets removed.
        detail: String,
    },

    /// AWS answered an API call with an error that is not about the credentials.
    #[error("{operation} failed: {code}: {message}")]
    Api {
        /// The API call.
        operation: &'static str,
        /// The AWS error code (or `unknown`).
        code: String,
        /// AWS's message, with secrets removed.
        message: String,
    },

    /// No IAM Identity Center role for this permission set exists in the account.
    #[error("{}", sso_role_not_found(.permission_set, .account, .available))]
    SsoRoleNotFound {
        /// The permission set asked for.
        permission_set: String,
        /// The account searched.
        account: String,
        /// The permission sets whose roles do exist in the account.
        available: Vec<String>,
    },

    /// More than one IAM Identity Center role matches the permission set.
    #[error(
        "permission set `{permission_set}` matches {} roles in account {account}: {}",
        roles.len(),
        roles.join(", ")
    )]
    SsoRoleAmbiguous {
        /// The permission set asked for.
        permission_set: String,
        /// The account searched.
        account: String,
        /// The ARNs (with path) of the matching roles.
        roles: Vec<String>,
    },

    /// There is no IAM role with this name in the account.
    #[error("no such role {name} in account {account}")]
    NoSuchRole {
        /// The role name.
        name: String,
        /// The account searched.
        account: String,
    },

    /// There is no IAM user with this name in the account.
    #[error("no such user {name} in account {account}")]
    NoSuchUser {
        /// The user name.
        name: String,
        /// The account searched.
        account: String,
    },

    /// The principal lives in another account, which the current credentials cannot look into.
    #[error("{arn} is in account {arn_account}, but the current credentials are for account {account}: IAM cannot be asked about it from here")]
    OtherAccount {
        /// The principal.
        arn: String,
        /// The account of the principal.
        arn_account: String,
        /// The account of the current credentials.
        account: String,
    },

    /// A string that should be an IAM or STS ARN is not one okscript understands.
    #[error("`{arn}` is not a usable IAM ARN: {reason}")]
    InvalidArn {
        /// The text given.
        arn: String,
        /// What is wrong.
        reason: String,
    },

    /// A role session name (for AssumeRole) is not valid.
    #[error("invalid role session name `{name}`: {reason}")]
    InvalidSessionName {
        /// The name given.
        name: String,
        /// What is wrong.
        reason: String,
    },

    /// The okctl cluster declaration is not valid YAML.
    #[error("the cluster declaration is not valid YAML: {detail}")]
    ClusterYaml {
        /// The parser's message, with line and column.
        detail: String,
    },

    /// There is no EKS cluster with this name in the region.
    #[error("{}", cluster_not_found(.name, .region, .available))]
    ClusterNotFound {
        /// The cluster name asked for.
        name: String,
        /// The region searched.
        region: String,
        /// The clusters that do exist in the region, sorted; `None` when they could not be
        /// listed (no eks:ListClusters permission).
        available: Option<Vec<String>>,
    },

    /// The EKS cluster exists but is not serving (CREATING, DELETING, FAILED, PENDING).
    #[error("EKS cluster `{name}` is {status}, not ACTIVE: it cannot be connected to yet")]
    ClusterNotActive {
        /// The cluster.
        name: String,
        /// Its status as EKS reports it.
        status: String,
    },

    /// EKS described the cluster without something okscript needs to connect (endpoint, CA).
    #[error("EKS cluster `{name}` has no usable {what}: {problem}")]
    ClusterIncomplete {
        /// The cluster.
        name: String,
        /// What is missing, e.g. `endpoint` or `certificate authority`.
        what: &'static str,
        /// Why it cannot be used.
        problem: String,
    },

    /// An EKS cluster name that EKS would never accept (and that must not go into a header).
    #[error("`{name}` is not a valid EKS cluster name: {reason}")]
    InvalidClusterName {
        /// The name given.
        name: String,
        /// What is wrong.
        reason: String,
    },

    /// A region name that cannot be part of an endpoint host name.
    #[error("`{region}` is not a valid AWS region name")]
    InvalidRegion {
        /// The region given.
        region: String,
    },

    /// An endpoint override that cannot be used to build the token's URL.
    #[error("the STS endpoint `{url}` cannot be used for an EKS token: {reason}")]
    InvalidEndpoint {
        /// The endpoint.
        url: String,
        /// What is wrong.
        reason: String,
    },

    /// The EKS token could not be signed or is not one EKS would accept.
    #[error("cannot create the EKS token: {detail}")]
    TokenSigning {
        /// What went wrong, with secrets removed.
        detail: String,
    },

    /// A field of the okctl cluster declaration is missing or wrong.
    #[error("the cluster declaration has a bad `{field}`: {problem}")]
    ClusterField {
        /// The field path, e.g. `metadata.accountID`.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },

    /// The SSO device login was not approved before its code expired (`expired_token`).
    #[error("the SSO login for profile `{profile}` timed out: the code expired before the login was approved in the browser")]
    SsoDeviceCodeExpired {
        /// The profile.
        profile: String,
        /// How many minutes the code was valid for.
        minutes: u64,
    },

    /// The person declined the SSO device login in the browser (`access_denied`).
    #[error("the SSO login for profile `{profile}` was declined in the browser")]
    SsoLoginDeclined {
        /// The profile.
        profile: String,
    },

    /// The authorization code login needs a person at a browser, and there is no terminal or browser here.
    #[error("the SSO login for profile `{profile}` needs a person to approve it in a browser, and there is no terminal or browser here")]
    SsoLoginNeedsPerson {
        /// The profile.
        profile: String,
    },

    /// The browser came back to the login listener with a `state` this login did not send.
    #[error("the SSO login for profile `{profile}` was refused: the browser came back with a state this login did not send (a login started elsewhere, or a forged redirect); no token was cached")]
    SsoLoginStateMismatch {
        /// The profile.
        profile: String,
    },

    /// The SSO device login was cancelled (Ctrl-C) before it was approved; nothing was cached.
    #[error("the SSO login for profile `{profile}` was cancelled; no token was cached")]
    SsoLoginCancelled {
        /// The profile.
        profile: String,
    },

    /// SSO OIDC refused or failed a step of the device login (RegisterClient, StartDeviceAuthorization, CreateToken).
    #[error("the SSO login for profile `{profile}` failed in {operation}{}: {detail}", at_endpoint(.endpoint))]
    SsoLoginFailed {
        /// The profile.
        profile: String,
        /// The API call.
        operation: &'static str,
        /// The SSO OIDC endpoint override in use, if any.
        endpoint: Option<String>,
        /// What failed, with secrets removed.
        detail: String,
    },

    /// The SSO token cache file could not be written or removed.
    #[error("cannot write the SSO token cache file {path}: {detail}")]
    SsoCacheWrite {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        detail: String,
    },
}

fn profile_not_found(name: &str, available: &[String], files: &[PathBuf]) -> String {
    let searched = files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if available.is_empty() {
        format!("AWS profile `{name}` does not exist: no profiles are defined in {searched}")
    } else {
        format!(
            "AWS profile `{name}` does not exist in {searched}; the profiles that do: {}",
            available.join(", ")
        )
    }
}

fn sso_role_not_found(permission_set: &str, account: &str, available: &[String]) -> String {
    if available.is_empty() {
        format!(
            "no IAM Identity Center role for permission set `{permission_set}` in account {account}: the account has no AWSReservedSSO_* roles at all"
        )
    } else {
        format!(
            "no IAM Identity Center role for permission set `{permission_set}` in account {account}; permission sets provisioned there: {}",
            available.join(", ")
        )
    }
}

fn cluster_not_found(name: &str, region: &str, available: &Option<Vec<String>>) -> String {
    match available.as_deref() {
        None => format!("EKS cluster `{name}` does not exist in {region} (the clusters there could not be listed)"),
        Some([]) => format!("EKS cluster `{name}` does not exist in {region}: the region has no EKS clusters"),
        Some(list) => format!(
            "EKS cluster `{name}` does not exist in {region}; the clusters there: {}",
            list.join(", ")
        ),
    }
}

fn from_profile(profile: &Option<String>) -> String {
    profile
        .as_deref()
        .map(|p| format!(" from profile `{p}`"))
        .unwrap_or_default()
}

fn at_endpoint(endpoint: &Option<String>) -> String {
    endpoint
        .as_deref()
        .map(|e| format!(" at {e}"))
        .unwrap_or_default()
}

impl AwsError {
    /// Advice for the person at the terminal, printed after the error as `hint: ...`.
    pub fn hint(&self) -> Option<String> {
        use AwsError::*;
        Some(match self {
            InvalidCredentialType { .. } => {
                "pass `-a access-key`, `-a aws-profile` or `-a sso`, or set OKSCRIPT_AWS_CREDENTIALS_TYPE".into()
            }
            MissingEnvVar { .. } => {
                "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), or use `-a aws-profile`".into()
            }
            NoHome => "set HOME, or point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at your files".into(),
            ProfileFileUnreadable { .. } => "check the file's permissions".into(),
            ProfileFileMalformed { path, line, .. } => format!(
                "fix line {line} of {} (settings are `key = value` lines below a [profile NAME] header)",
                path.display()
            ),
            NoCredentials { .. } => "log in with `okscript login` (SSO), set AWS_PROFILE or pass --profile NAME, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
            ProfileNotFound { .. } => {
                "set AWS_PROFILE to one of the profiles listed, or create it with `aws configure --profile NAME` (or `aws configure sso`)".into()
            }
            NotAnSsoProfile { name } => format!(
                "use `-a aws-profile` for profile `{name}`, or create an SSO profile with `aws configure sso`"
            ),
            InvalidProfile { .. } => "fix the profile in your AWS config file; `aws configure list` shows what the AWS CLI sees".into(),
            SsoLoginExpired { profile, .. } => format!("log in again: `okscript login --profile {profile}` (the same cached login as `aws sso login`)"),
            SsoLoginRequired { profile, .. } => format!("log in first: `okscript login --profile {profile}` (the same cached login as `aws sso login`)"),
            CredentialsUnavailable { profile: Some(p), .. } => format!(
                "check profile `{p}` with `aws sts get-caller-identity --profile {p}`"
            ),
            CredentialsUnavailable { profile: None, .. } => return None,
            Rejected { code, .. } => match code.as_str() {
                "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
                    "get fresh credentials (`aws sso login`, or new keys) and try again".into()
                }
                "SignatureDoesNotMatch" => {
                    "check AWS_SECRET_ACCESS_KEY (or aws_secret_access_key in the profile) for a copy-paste mistake".into()
                }
                "AccessDenied" | "AccessDeniedException" => {
                    "ask an administrator for the permission, or log in as a principal that has it".into()
                }
                _ => "check which keys are in use with `aws configure list`; create new ones in the IAM console if needed".into(),
            },
            Unreachable { endpoint: Some(e), .. } => {
                format!("is the endpoint {e} (AWS_ENDPOINT_URL) up and reachable?")
            }
            Unreachable { endpoint: None, .. } => "check the network connection and the region".into(),
            Api { .. } => return None,
            SsoRoleNotFound { .. } => {
                "check the permission set's exact name (case matters) and that it is assigned to this account in IAM Identity Center".into()
            }
            SsoRoleAmbiguous { .. } => {
                "remove the stale role, or pass the full role ARN instead of the permission set name".into()
            }
            NoSuchRole { .. } | NoSuchUser { .. } => {
                "check the name (IAM names are unique per account) and that you are logged in to the right account".into()
            }
            OtherAccount { .. } => "log in to that account to check the principal there".into(),
            InvalidArn { .. } => {
                "an IAM ARN looks like arn:aws:iam::123456789012:role/NAME or arn:aws:iam::123456789012:user/NAME".into()
            }
            InvalidSessionName { .. } => {
                "use 2 to 64 characters from letters, digits and + = , . @ _ -".into()
            }
            ClusterNotFound { region, .. } => format!(
                "check the cluster name and the region (--region, AWS_REGION or metadata.region); `aws eks list-clusters --region {region}` lists them"
            ),
            ClusterNotActive { name, status } => match status.as_str() {
                "CREATING" | "PENDING" => format!(
                    "wait until it is ACTIVE (`aws eks wait cluster-active --name {name}`) and try again"
                ),
                "DELETING" => "the cluster is being deleted: pick another cluster".into(),
                _ => "look at the cluster in the EKS console to see what failed".into(),
            },
            ClusterIncomplete { .. } => {
                "check the cluster in the EKS console or with `aws eks describe-cluster`".into()
            }
            InvalidClusterName { .. } => {
                "an EKS cluster name is 1 to 100 letters, digits, - and _, starting with a letter or digit".into()
            }
            InvalidRegion { .. } => {
                "a region looks like eu-north-1; set it with --region or AWS_REGION".into()
            }
            InvalidEndpoint { .. } => {
                "set AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL to a plain http(s)://host[:port] URL, or unset it to use AWS".into()
            }
            TokenSigning { .. } => {
                "check the credentials with `aws sts get-caller-identity`; temporary credentials with a very long session token cannot be used for EKS".into()
            }
            ClusterYaml { .. } => "fix the YAML at the line shown".into(),
            SsoDeviceCodeExpired { minutes, .. } => format!(
                "run it again and approve the login in the browser within {minutes} minutes"
            ),
            SsoLoginDeclined { profile } => format!(
                "run it again and choose Allow; if you did not start this login, tell your administrator (profile `{profile}`)"
            ),
            SsoLoginCancelled { .. } => "run it again when you can approve the login in the browser".into(),
            SsoLoginNeedsPerson { profile } => format!(
                "run `okscript login --profile {profile}` in a terminal first, or `okscript login --profile {profile} --use-device-code` to get a URL and code to approve from any browser"
            ),
            SsoLoginStateMismatch { profile } => format!(
                "run `okscript login --profile {profile}` again and use only the browser tab it opens"
            ),
            SsoLoginFailed { profile, .. } => format!(
                "check sso_start_url and sso_region of profile `{profile}` (or its [sso-session]), then run `okscript login --profile {profile}` again"
            ),
            SsoCacheWrite { .. } => "check the permissions of ~/.aws/sso/cache (it should be yours, mode 0700)".into(),
            ClusterField { field, .. } => match *field {
                "metadata.accountID" => {
                    "write the account ID as a quoted string of exactly 12 digits, e.g. accountID: \"123456789012\"".into()
                }
                _ => "see an okctl cluster.yaml: apiVersion okctl.io/v1alpha1, kind Cluster, metadata.{name,region,accountID}".into(),
            },
        })
    }
}

/// The one sentence okscript says about an AWS error code that rejects credentials, or
/// `None` when the code is not about credentials.
pub(crate) fn rejection_meaning(code: &str) -> Option<&'static str> {
    Some(match code {
        "InvalidClientTokenId" => "the access key does not exist or was deleted",
        "SignatureDoesNotMatch" => "the secret access key is wrong",
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
            "the session token expired: log in again"
        }
        "AccessDenied" | "AccessDeniedException" => {
            "the credentials are valid but not allowed to make this call"
        }
        "UnrecognizedClientException" => {
            "the security token is not valid: the key is unknown or belongs to another partition or region"
        }
        "InvalidAccessKeyId" => "the access key does not exist",
        "IncompleteSignature" => "the request signature is incomplete: the secret key or session token is malformed",
        "MissingAuthenticationToken" => "no credentials were sent",
        _ => return None,
    })
}

/// Cuts known secret values out of text that came from the SDK or a credential provider.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    secrets: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// Remember a secret (ignored when too short to be one, to avoid mangling text).
    pub(crate) fn add(&mut self, secret: &str) {
        if secret.len() >= 8 && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_string());
        }
    }

    /// `text` with every known secret replaced by `<redacted>`.
    pub(crate) fn clean(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "<redacted>");
            }
        }
        out
    }
}
