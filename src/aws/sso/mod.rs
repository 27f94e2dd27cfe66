//! IAM Identity Center (SSO): the profiles that use it, the token cache shared with the AWS
//! CLI v2, the interactive login (device code or authorization code grant) and the portal
//! it opens (accounts and roles).
//!
//! [`sso_login`] makes sure a usable token is cached for a profile's SSO session: a valid
//! cached token is used as it is; an expired one is refreshed with its refresh token while
//! the client registration lives; otherwise a login flow runs ([`device_flow`] or
//! [`auth_code`]). The token is written to `~/.aws/sso/cache/<sha1>.json`, mode 0600, byte
//! for byte as the AWS CLI v2 writes it, so `aws sso login` and okscript share one login.
//!
//! Nothing here prints: text for the person at the terminal goes through `show`. Tokens,
//! refresh tokens and client secrets never appear in `Debug`, errors or `show`.

mod auth_code;
pub(crate) mod cache;
pub mod configure;
mod device_flow;
mod login;
mod portal;
pub(crate) mod profile;
mod spinner;

use std::time::Duration;

pub(crate) use cache::{check_cached_token, refused_token};
pub use login::{sso_login, sso_logout, LoginFor, Sleeper, SsoLogin, SsoLoginOptions, TokenSource};
pub use portal::{sso_accounts, sso_roles, sso_session_accounts, sso_session_roles, SsoAccount};
pub(crate) use profile::sso_profile;
pub use profile::{is_sso_profile, SsoSessionSpec};

/// The client name okscript registers with SSO OIDC (shown on the approval page).
pub const SSO_CLIENT_NAME: &str = "okscript";
/// The client type of the registration.
pub const SSO_CLIENT_TYPE: &str = "public";
/// The scope registered when the sso-session does not set `sso_registration_scopes`.
pub const SSO_DEFAULT_SCOPE: &str = "sso:account:access";
/// What RFC 8628 adds to the polling interval on `slow_down`.
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// The polling interval when the server names none (RFC 8628).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// A cached token with less time left than this is refreshed or replaced (the SDK's margin).
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(5 * 60);
