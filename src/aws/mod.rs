//! The AWS identity layer: logging in the way users already do (access keys, profiles, SSO),
//! verifying who they are with STS, switching roles and profiles, and finding the IAM
//! principals EKS access is granted to; describing EKS clusters and making their bearer tokens.
//!
//! Hermetic by construction: nothing here reads the process environment. The caller passes
//! an [`AwsContext`] holding a snapshot of the relevant variables, and aws-config is handed
//! a fake environment built from it, so `AWS_PROFILE`, `AWS_ENDPOINT_URL`, `HOME` and the
//! rest come from the snapshot, never from `std::env`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), okscript::aws::AwsError> {
//! use okscript::aws::{login, sso_role_arn, AwsContext, CredentialType};
//! let ctx = AwsContext::new(std::env::vars()); // the caller takes the snapshot
//! let session = login(&ctx, "sso".parse()?).await?;
//! println!("{}", session.identity().principal_arn);
//! let role = sso_role_arn(&session, "AWSAdministratorAccess").await?;
//! # let _ = (role, CredentialType::Sso); Ok(()) }
//! ```

mod admin_entry;
mod cluster;
pub mod config_file;
mod context;
mod eks;
mod eks_mode;
mod error;
mod http;
mod iam;
mod identity;
mod identity_center;
mod session;
mod sha1;
pub mod sso;
mod time;
mod token;
mod trust;

pub use admin_entry::enter_as_cluster_admin;
pub use cluster::{parse_cluster_declaration, ClusterDeclaration, OKCTL_API_VERSION, OKCTL_KIND};
pub use context::{AwsContext, CHAIN_ENV_VARS, FALLBACK_REGION, RELEVANT_ENV_VARS};
pub use eks::{
    describe_cluster, is_in_use, is_not_found, is_transient, list_access_entries, list_clusters,
    validate_cluster_name, AccessEntryInfo, AuthMode, ClusterInfo, EntriesAt, PolicyAssociation,
    PolicyScope, CLUSTER_ADMIN_POLICY, SERVING_STATUSES,
};
pub use eks_mode::{
    describe_update, refused_step, update_auth_mode, wait_for_update, ClusterUpdate,
};
pub use error::AwsError;
pub use iam::{
    account_principals, entry_principal_arn, iam_role, iam_user, parse_sso_role_name,
    principal_exists, report_principals, sso_role_arn, strip_role_path, RoleInfo, UserInfo,
    SSO_ROLE_NAME_PREFIX, SSO_ROLE_PATH_PREFIX,
};
pub use identity::{default_session_name, principal_arn, CredentialType, Identity};
pub use identity_center::{identity_center, IdentityCenterError, IdentityCenterSpec};
pub use session::{
    assume_profile, assume_role, default_source, login, login_default, whoami, DefaultSource,
    Session,
};
pub use sso::{
    is_sso_profile, sso_accounts, sso_login, sso_logout, sso_roles, sso_session_accounts,
    sso_session_roles, LoginFor, Sleeper, SsoAccount, SsoLogin, SsoLoginOptions, SsoSessionSpec,
    TokenSource, DEFAULT_POLL_INTERVAL, EXPIRY_MARGIN, SLOW_DOWN_STEP, SSO_CLIENT_NAME,
    SSO_CLIENT_TYPE, SSO_DEFAULT_SCOPE,
};
pub use token::{
    eks_token, sts_endpoint, EksToken, TokenOptions, CLUSTER_ID_HEADER,
    EXEC_CREDENTIAL_API_VERSION, MAX_TOKEN_LEN, PRESIGN_EXPIRES, TOKEN_LIFETIME, TOKEN_PREFIX,
};
pub use trust::trusted_principals;

/// The one-worker async runtime okscript blocks on (Rhai and the CLI are synchronous).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
}

/// Now as RFC 3339 in UTC with whole seconds and `Z` (for backup names and logs).
pub fn rfc3339_now() -> String {
    time::rfc3339(std::time::SystemTime::now())
}

/// The AWS CLI v2 SSO cache file name for a session name (or, for legacy profiles, a start
/// URL): `<sha1 hex>.json`. Exposed for tests and for okscript's own SSO login later.
pub fn sso_cache_file_name(session_name_or_start_url: &str) -> String {
    format!(
        "{}.json",
        sha1::sha1_hex(session_name_or_start_url.as_bytes())
    )
}
