//! The interactive IAM Identity Center (SSO) login: the OAuth 2.0 device authorization flow
//! with SSO OIDC, and the token cache it fills, shared with the AWS CLI v2.
//!
//! [`sso_login`] makes sure a usable token is cached for a profile's SSO session: a valid
//! cached token is used as it is; an expired one is refreshed with its refresh token while
//! the client registration lives; otherwise the device flow runs: RegisterClient (the
//! registration is cached until it expires), StartDeviceAuthorization, the verification URL
//! and code shown through the caller's `show`, a browser opened when allowed, and CreateToken
//! polled as RFC 8628 says (`authorization_pending`, `slow_down` adds 5 s, `expired_token`,
//! `access_denied`). The token is written to `~/.aws/sso/cache/<sha1>.json`, mode 0600, byte
//! for byte as the AWS CLI v2 writes it, so `aws sso login` and okscript share one login.
//!
//! Nothing here prints: text for the person at the terminal goes through `show`. Tokens,
//! refresh tokens and client secrets never appear in `Debug`, errors or `show`.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_ssooidc::error::ProvideErrorMetadata;
use aws_sdk_ssooidc::operation::create_token::CreateTokenError;
use aws_sdk_sts::primitives::{DateTime, DateTimeFormat};
use aws_types::region::Region;

use super::context::{AwsContext, ProfileFilesView};
use super::error::{AwsError, Redactor};
use super::session::error_chain;
use super::sha1::sha1_hex;
use super::sso::{self, SsoProfile};

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

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const REFRESH_GRANT: &str = "refresh_token";

/// Waits for a while: `tokio::time::sleep` unless a test injects its own.
pub type Sleeper = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// How [`sso_login`] may behave.
#[derive(Clone, Default)]
pub struct SsoLoginOptions {
    /// Try to open the verification URL in a browser (`xdg-open`/`open`); off for
    /// `--no-browser` or without a display. The URL and code are shown either way.
    pub open_browser: bool,
    /// Run the device flow even when a cached token looks usable (the portal refused it).
    pub force: bool,
    /// Replaces `tokio::time::sleep` between polls (tests record the waits).
    pub sleeper: Option<Sleeper>,
    /// Log in with the authorization code grant and PKCE (the AWS CLI v2's default since
    /// late 2024) instead of the device code grant.
    pub authorization_code: bool,
    /// Whether a person can take part: a terminal, or a browser to open. The authorization
    /// code grant fails at once without one (the device code grant can be approved from
    /// anywhere, so it may run headless).
    pub person: bool,
    /// The browser command (`$BROWSER`), else `xdg-open`/`open`.
    pub browser: Option<String>,
}

impl fmt::Debug for SsoLoginOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoLoginOptions")
            .field("open_browser", &self.open_browser)
            .field("force", &self.force)
            .field("sleeper", &self.sleeper.as_ref().map(|_| "custom"))
            .field("authorization_code", &self.authorization_code)
            .field("person", &self.person)
            .field("browser", &self.browser)
            .finish()
    }
}

/// Where the token [`sso_login`] settled on came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// A valid token was already cached (by okscript or `aws sso login`).
    Cached,
    /// The cached token was refreshed with its refresh token.
    Refreshed,
    /// The device authorization flow ran and the person approved it.
    DeviceFlow,
    /// The authorization code flow (PKCE) ran and the person approved it.
    AuthorizationCode,
}

impl TokenSource {
    /// `cached`, `refreshed`, `device` or `authorization-code`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenSource::Cached => "cached",
            TokenSource::Refreshed => "refreshed",
            TokenSource::DeviceFlow => "device",
            TokenSource::AuthorizationCode => "authorization-code",
        }
    }
}

/// The outcome of [`sso_login`]: which login is cached, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoLogin {
    /// The profile logged in for.
    pub profile: String,
    /// The `[sso-session]` name, or `None` for a legacy profile.
    pub session_name: Option<String>,
    /// The portal start URL.
    pub start_url: String,
    /// The Identity Center region.
    pub region: String,
    /// When the access token expires, `YYYY-MM-DDTHH:MM:SSZ`.
    pub expires_at: String,
    /// The cache file holding the token.
    pub cache_file: PathBuf,
    /// Where the token came from.
    pub source: TokenSource,
}

/// One AWS account the SSO login can reach (SSO ListAccounts).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SsoAccount {
    /// The 12-digit account ID.
    pub account_id: String,
    /// The account's name.
    pub name: String,
    /// The account's root email address.
    pub email: String,
}

/// A cached token as the AWS CLI v2 stores it. `Debug` hides every secret.
#[derive(Clone, Default)]
struct CachedToken {
    start_url: String,
    region: String,
    access_token: String,
    expires_at: String,
    client_id: Option<String>,
    client_secret: Option<String>,
    registration_expires_at: Option<String>,
    refresh_token: Option<String>,
}

impl fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedToken")
            .field("start_url", &self.start_url)
            .field("region", &self.region)
            .field("access_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("registration_expires_at", &self.registration_expires_at)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl CachedToken {
    fn from_json(text: &str) -> Option<CachedToken> {
        let json: serde_json::Value = serde_json::from_str(text).ok()?;
        let field = |k: &str| {
            json.get(k)
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Some(CachedToken {
            start_url: field("startUrl").unwrap_or_default(),
            region: field("region").unwrap_or_default(),
            access_token: field("accessToken")?,
            expires_at: field("expiresAt")?,
            client_id: field("clientId"),
            client_secret: field("clientSecret"),
            registration_expires_at: field("registrationExpiresAt"),
            refresh_token: field("refreshToken"),
        })
    }

    /// The file's text, field for field and byte for byte as the AWS CLI v2 writes it.
    fn to_cli_json(&self) -> String {
        let mut m = serde_json::Map::new();
        m.insert("startUrl".into(), self.start_url.clone().into());
        m.insert("region".into(), self.region.clone().into());
        m.insert("accessToken".into(), self.access_token.clone().into());
        m.insert("expiresAt".into(), self.expires_at.clone().into());
        let optional = [
            ("clientId", &self.client_id),
            ("clientSecret", &self.client_secret),
            ("registrationExpiresAt", &self.registration_expires_at),
            ("refreshToken", &self.refresh_token),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                m.insert(k.into(), v.clone().into());
            }
        }
        python_json(&serde_json::Value::Object(m))
    }

    fn registration(&self, now: SystemTime) -> Option<Registration> {
        let expires_at = self.registration_expires_at.clone()?;
        let reg = Registration {
            client_id: self.client_id.clone()?,
            client_secret: self.client_secret.clone()?,
            expires_at,
        };
        reg.valid(now).then_some(reg)
    }
}

/// A client registration (RegisterClient's answer). `Debug` hides the secret.
#[derive(Clone)]
struct Registration {
    client_id: String,
    client_secret: String,
    expires_at: String,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl Registration {
    fn valid(&self, now: SystemTime) -> bool {
        parse_time(&self.expires_at).is_some_and(|t| t > now + EXPIRY_MARGIN)
    }
}

/// The SSO settings of `profile` and what the login needs besides.
struct Target {
    profile: String,
    sso: SsoProfile,
    scopes: Vec<String>,
    cache_file: PathBuf,
}

fn target(ctx: &AwsContext, profile: &str) -> Result<Target, AwsError> {
    let view = ProfileFilesView::load(ctx)?;
    if !view.has_profile(profile) {
        return Err(view.not_found(profile));
    }
    let sso = sso::sso_profile(&view, profile)?.ok_or_else(|| AwsError::NotAnSsoProfile {
        name: profile.to_string(),
    })?;
    let scopes = sso
        .session_name
        .as_ref()
        .and_then(|s| view.sso_sessions.get(s))
        .and_then(|s| s.get("sso_registration_scopes"))
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| vec![SSO_DEFAULT_SCOPE.to_string()]);
    let cache_file = sso::cache_file(ctx, &sso)?;
    Ok(Target {
        profile: profile.to_string(),
        sso,
        scopes,
        cache_file,
    })
}

/// An sso-session to log in to before any profile in the config file uses it
/// (`configure-sso` lists the accounts and roles to pick from before it writes the profile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSessionSpec {
    /// The profile that will use the session (named in advice such as `okscript login`).
    pub profile: String,
    /// The sso-session name: the token cache is keyed by it, as the AWS CLI v2 does.
    pub session: String,
    /// The portal start URL.
    pub start_url: String,
    /// The Identity Center region.
    pub region: String,
}

fn session_target(ctx: &AwsContext, spec: &SsoSessionSpec) -> Result<Target, AwsError> {
    let sso = SsoProfile {
        session_name: Some(spec.session.clone()),
        start_url: spec.start_url.clone(),
        region: spec.region.clone(),
    };
    let cache_file = sso::cache_file(ctx, &sso)?;
    Ok(Target {
        profile: spec.profile.clone(),
        sso,
        scopes: vec![SSO_DEFAULT_SCOPE.to_string()],
        cache_file,
    })
}

/// Whether `profile` exists and is an SSO profile okscript can log in for (used before a
/// login, so that any other problem is left for the login itself to report).
pub fn is_sso_profile(ctx: &AwsContext, profile: &str) -> bool {
    target(ctx, profile).is_ok()
}

/// Makes sure a usable SSO token is cached for `profile`'s SSO session (see the module
/// docs), running the device authorization flow when nothing else works. `show` receives
/// the lines to show the person (the verification URL and code); `cancel` ends the wait
/// (Ctrl-C) with [`AwsError::SsoLoginCancelled`], and nothing is written then.
///
/// # Errors
/// A profile that is missing or not an SSO profile, an unreachable or refusing SSO OIDC
/// endpoint, a declined or expired authorization, cancellation, or an unwritable cache.
pub async fn sso_login<C>(
    ctx: &AwsContext,
    profile: &str,
    opts: &SsoLoginOptions,
    show: &mut dyn FnMut(&str),
    cancel: C,
) -> Result<SsoLogin, AwsError>
where
    C: Future<Output = ()>,
{
    login_to(ctx, target(ctx, profile)?, opts, show, cancel).await
}

/// [`sso_login`] for an sso-session the config file may not hold yet.
///
/// # Errors
/// As for [`sso_login`], but for the profile checks.
pub async fn sso_login_session<C>(
    ctx: &AwsContext,
    spec: &SsoSessionSpec,
    opts: &SsoLoginOptions,
    show: &mut dyn FnMut(&str),
    cancel: C,
) -> Result<SsoLogin, AwsError>
where
    C: Future<Output = ()>,
{
    login_to(ctx, session_target(ctx, spec)?, opts, show, cancel).await
}

async fn login_to<C>(
    ctx: &AwsContext,
    t: Target,
    opts: &SsoLoginOptions,
    show: &mut dyn FnMut(&str),
    cancel: C,
) -> Result<SsoLogin, AwsError>
where
    C: Future<Output = ()>,
{
    let now = SystemTime::now();
    let cached = read_token(&t.cache_file);
    let done = |token: &CachedToken, source| SsoLogin {
        profile: t.profile.clone(),
        session_name: t.sso.session_name.clone(),
        start_url: t.sso.start_url.clone(),
        region: t.sso.region.clone(),
        expires_at: token.expires_at.clone(),
        cache_file: t.cache_file.clone(),
        source,
    };
    if let Some(token) = &cached {
        if !opts.force && token_valid(token, now) {
            return Ok(done(token, TokenSource::Cached));
        }
    }
    // Fail before any client is built when only a person could help: a headless run
    // learns at once what to do instead of after the SDK's start-up.
    let refreshable = cached
        .as_ref()
        .is_some_and(|c| c.refresh_token.is_some() && c.registration(now).is_some());
    if opts.authorization_code && !opts.person && (opts.force || !refreshable) {
        return Err(AwsError::SsoLoginNeedsPerson {
            profile: t.profile.clone(),
        });
    }
    let oidc = oidc_client(ctx, &t.sso.region);
    let mut redactor = Redactor::default();
    if let Some(token) = &cached {
        redactor.add(&token.access_token);
        if let Some(s) = &token.client_secret {
            redactor.add(s);
        }
        if let Some(r) = &token.refresh_token {
            redactor.add(r);
        }
        if !opts.force {
            if let (Some(refresh), Some(reg)) = (&token.refresh_token, token.registration(now)) {
                match refresh_token(&oidc, &reg, refresh, &redactor).await {
                    Ok(out) => {
                        let new = token_from(&t, &reg, out, Some(refresh.clone()));
                        write_token(&t.cache_file, &new)?;
                        return Ok(done(&new, TokenSource::Refreshed));
                    }
                    Err(why) => show(&format!(
                        "the cached SSO token could not be refreshed ({why}): logging in again"
                    )),
                }
            }
        }
    }
    if opts.authorization_code {
        if !opts.person {
            return Err(AwsError::SsoLoginNeedsPerson {
                profile: t.profile.clone(),
            });
        }
        let new = authorization_code_flow(ctx, &t, &oidc, opts, show, cancel, redactor).await?;
        write_token(&t.cache_file, &new)?;
        return Ok(done(&new, TokenSource::AuthorizationCode));
    }
    let new = device_flow(
        ctx,
        &t,
        &oidc,
        opts,
        show,
        cancel,
        cached.as_ref(),
        redactor,
    )
    .await?;
    write_token(&t.cache_file, &new)?;
    Ok(done(&new, TokenSource::DeviceFlow))
}

/// Removes the cached SSO token of `profile`'s session; returns the file when there was
/// one, `None` when there was nothing to remove. (The CLI's `aws sso logout` also removes
/// it: the login is shared.)
///
/// # Errors
/// A profile that is missing or not an SSO profile, or a file that cannot be removed.
pub fn sso_logout(ctx: &AwsContext, profile: &str) -> Result<Option<PathBuf>, AwsError> {
    let t = target(ctx, profile)?;
    match std::fs::remove_file(&t.cache_file) {
        Ok(()) => Ok(Some(t.cache_file)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AwsError::SsoCacheWrite {
            path: t.cache_file,
            detail: e.to_string(),
        }),
    }
}

/// The accounts the cached SSO login of `profile` can reach (SSO ListAccounts, every page).
///
/// # Errors
/// No usable cached token ([`AwsError::SsoLoginRequired`]), or the portal's refusal.
pub async fn sso_accounts(ctx: &AwsContext, profile: &str) -> Result<Vec<SsoAccount>, AwsError> {
    accounts_of(ctx, &target(ctx, profile)?).await
}

/// [`sso_accounts`] for an sso-session the config file may not hold yet.
///
/// # Errors
/// As for [`sso_accounts`].
pub async fn sso_session_accounts(
    ctx: &AwsContext,
    spec: &SsoSessionSpec,
) -> Result<Vec<SsoAccount>, AwsError> {
    accounts_of(ctx, &session_target(ctx, spec)?).await
}

async fn accounts_of(ctx: &AwsContext, t: &Target) -> Result<Vec<SsoAccount>, AwsError> {
    let (client, token, redactor, endpoint) = portal(ctx, t)?;
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = client
            .list_accounts()
            .access_token(&token)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| {
                portal_error(e, "sso:ListAccounts", t, ctx, endpoint.clone(), &redactor)
            })?;
        for a in page.account_list() {
            out.push(SsoAccount {
                account_id: a.account_id().unwrap_or_default().to_string(),
                name: a.account_name().unwrap_or_default().to_string(),
                email: a.email_address().unwrap_or_default().to_string(),
            });
        }
        match page.next_token().filter(|t| !t.is_empty()) {
            Some(t) => next = Some(t.to_string()),
            None => return Ok(out),
        }
    }
}

/// The role (permission set) names the cached SSO login of `profile` may use in
/// `account_id` (SSO ListAccountRoles, every page).
///
/// # Errors
/// As for [`sso_accounts`].
pub async fn sso_roles(
    ctx: &AwsContext,
    profile: &str,
    account_id: &str,
) -> Result<Vec<String>, AwsError> {
    roles_of(ctx, &target(ctx, profile)?, account_id).await
}

/// [`sso_roles`] for an sso-session the config file may not hold yet.
///
/// # Errors
/// As for [`sso_accounts`].
pub async fn sso_session_roles(
    ctx: &AwsContext,
    spec: &SsoSessionSpec,
    account_id: &str,
) -> Result<Vec<String>, AwsError> {
    roles_of(ctx, &session_target(ctx, spec)?, account_id).await
}

async fn roles_of(ctx: &AwsContext, t: &Target, account_id: &str) -> Result<Vec<String>, AwsError> {
    let (client, token, redactor, endpoint) = portal(ctx, t)?;
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = client
            .list_account_roles()
            .access_token(&token)
            .account_id(account_id)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| {
                portal_error(
                    e,
                    "sso:ListAccountRoles",
                    t,
                    ctx,
                    endpoint.clone(),
                    &redactor,
                )
            })?;
        out.extend(
            page.role_list()
                .iter()
                .filter_map(|r| r.role_name().map(str::to_string)),
        );
        match page.next_token().filter(|t| !t.is_empty()) {
            Some(t) => next = Some(t.to_string()),
            None => return Ok(out),
        }
    }
}

type Portal = (aws_sdk_sso::Client, String, Redactor, Option<String>);

fn portal(ctx: &AwsContext, t: &Target) -> Result<Portal, AwsError> {
    let login = |reason: String| AwsError::SsoLoginRequired {
        profile: t.profile.clone(),
        reason,
        cache_file: t.cache_file.clone(),
    };
    let token =
        read_token(&t.cache_file).ok_or_else(|| login("there is no cached token".into()))?;
    if parse_time(&token.expires_at).is_none_or(|e| e <= SystemTime::now()) {
        return Err(login(format!(
            "the cached token expired at {}",
            token.expires_at
        )));
    }
    let mut redactor = Redactor::default();
    redactor.add(&token.access_token);
    let endpoint = service_endpoint(ctx, "SSO");
    let mut conf = aws_sdk_sso::Config::builder()
        .behavior_version(aws_sdk_sso::config::BehaviorVersion::latest())
        .region(Region::new(t.sso.region.clone()));
    if let Some(e) = &endpoint {
        conf = conf.endpoint_url(e);
    }
    Ok((
        aws_sdk_sso::Client::from_conf(conf.build()),
        token.access_token,
        redactor,
        endpoint,
    ))
}

fn portal_error<E>(
    e: aws_sdk_sso::error::SdkError<E, aws_sdk_sso::config::http::HttpResponse>,
    operation: &'static str,
    t: &Target,
    ctx: &AwsContext,
    endpoint: Option<String>,
    redactor: &Redactor,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if e.code() == Some("UnauthorizedException") {
        return sso::refused_token(ctx, &t.profile, &t.sso);
    }
    super::session::sdk_error(e, operation, endpoint, redactor)
}

/// `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, from the snapshot (the override
/// wins; `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` drops the variables, as in the SDK).
fn service_endpoint(ctx: &AwsContext, service: &str) -> Option<String> {
    if let Some(e) = ctx.endpoint_url.as_deref().filter(|e| !e.trim().is_empty()) {
        return Some(e.to_string());
    }
    if ctx
        .var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    {
        return None;
    }
    ctx.endpoint_for(service)
}

fn oidc_client(ctx: &AwsContext, region: &str) -> aws_sdk_ssooidc::Client {
    let mut conf = aws_sdk_ssooidc::Config::builder()
        .behavior_version(aws_sdk_ssooidc::config::BehaviorVersion::latest())
        .region(Region::new(region.to_string()));
    if let Some(e) = service_endpoint(ctx, "SSO_OIDC") {
        conf = conf.endpoint_url(e);
    }
    aws_sdk_ssooidc::Client::from_conf(conf.build())
}

fn token_valid(token: &CachedToken, now: SystemTime) -> bool {
    parse_time(&token.expires_at).is_some_and(|t| t > now + EXPIRY_MARGIN)
}

/// What CreateToken answered (secrets inside: never Debug-printed).
struct TokenOut {
    access_token: String,
    expires_in: i32,
    refresh_token: Option<String>,
}

async fn refresh_token(
    oidc: &aws_sdk_ssooidc::Client,
    reg: &Registration,
    refresh: &str,
    redactor: &Redactor,
) -> Result<TokenOut, String> {
    let out = oidc
        .create_token()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .grant_type(REFRESH_GRANT)
        .refresh_token(refresh)
        .send()
        .await
        .map_err(|e| redactor.clean(&e.code().map_or_else(|| error_chain(&e), str::to_string)))?;
    let access_token = out
        .access_token()
        .filter(|t| !t.is_empty())
        .ok_or("the answer held no access token")?
        .to_string();
    Ok(TokenOut {
        access_token,
        expires_in: out.expires_in(),
        refresh_token: out.refresh_token().map(str::to_string),
    })
}

/// The token a successful CreateToken answered (device or authorization code grant); an
/// answer without an access token is an error, never an empty cache entry.
fn created_token(
    t: &Target,
    reg: &Registration,
    out: &aws_sdk_ssooidc::operation::create_token::CreateTokenOutput,
) -> Result<CachedToken, String> {
    let access_token = out
        .access_token()
        .filter(|t| !t.is_empty())
        .ok_or("the answer held no access token")?
        .to_string();
    let token_out = TokenOut {
        access_token,
        expires_in: out.expires_in(),
        refresh_token: out.refresh_token().map(str::to_string),
    };
    Ok(token_from(t, reg, token_out, None))
}

fn token_from(
    t: &Target,
    reg: &Registration,
    out: TokenOut,
    old_refresh: Option<String>,
) -> CachedToken {
    let expires =
        SystemTime::now() + Duration::from_secs(u64::try_from(out.expires_in).unwrap_or(0));
    CachedToken {
        start_url: t.sso.start_url.clone(),
        region: t.sso.region.clone(),
        access_token: out.access_token,
        expires_at: format_time(expires),
        client_id: Some(reg.client_id.clone()),
        client_secret: Some(reg.client_secret.clone()),
        registration_expires_at: Some(reg.expires_at.clone()),
        refresh_token: out.refresh_token.or(old_refresh),
    }
}

#[allow(clippy::too_many_arguments)]
async fn device_flow<C: Future<Output = ()>>(
    ctx: &AwsContext,
    t: &Target,
    oidc: &aws_sdk_ssooidc::Client,
    opts: &SsoLoginOptions,
    show: &mut dyn FnMut(&str),
    cancel: C,
    cached: Option<&CachedToken>,
    mut redactor: Redactor,
) -> Result<CachedToken, AwsError> {
    let endpoint = service_endpoint(ctx, "SSO_OIDC");
    let failed = |operation: &'static str, detail: String| AwsError::SsoLoginFailed {
        profile: t.profile.clone(),
        operation,
        endpoint: endpoint.clone(),
        detail,
    };
    let now = SystemTime::now();
    let reg = match registration(ctx, t, oidc, cached, now, &redactor).await {
        Ok(r) => r,
        Err(detail) => return Err(failed("sso-oidc:RegisterClient", detail)),
    };
    redactor.add(&reg.client_secret);
    let auth = oidc
        .start_device_authorization()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .start_url(&t.sso.start_url)
        .send()
        .await
        .map_err(|e| failed("sso-oidc:StartDeviceAuthorization", sdk_text(&e, &redactor)))?;
    let device_code = auth.device_code().unwrap_or_default().to_string();
    redactor.add(&device_code);
    let user_code = auth.user_code().unwrap_or_default().to_string();
    let url = auth
        .verification_uri_complete()
        .or(auth.verification_uri())
        .unwrap_or_default()
        .to_string();
    let lifetime = Duration::from_secs(u64::try_from(auth.expires_in()).unwrap_or(0).max(1));
    let mut interval = match auth.interval() {
        i if i > 0 => Duration::from_secs(u64::try_from(i).unwrap_or(5)),
        _ => DEFAULT_POLL_INTERVAL,
    };
    let session = t
        .sso
        .session_name
        .as_deref()
        .map_or_else(|| t.sso.start_url.clone(), |s| format!("session `{s}`"));
    show(&format!(
        "to log in to AWS SSO ({session}) for profile `{}`, open this URL in a browser:\n\n    {url}\n\nand check that it shows the code {user_code}",
        t.profile
    ));
    if opts.open_browser && !url.is_empty() {
        if open_browser(opts.browser.as_deref(), &url) {
            show("a browser was opened at that URL; waiting for the login to be approved (Ctrl-C cancels)");
        } else {
            show("could not open a browser: open the URL yourself; waiting (Ctrl-C cancels)");
        }
    } else {
        show("waiting for the login to be approved (Ctrl-C cancels)");
    }

    let started = Instant::now();
    let mut waited = Duration::ZERO;
    let sleeper = opts.sleeper.clone();
    let mut spinner = Spinner::for_stderr(opts, lifetime);
    let mut cancel = std::pin::pin!(cancel);
    let cancelled = || AwsError::SsoLoginCancelled {
        profile: t.profile.clone(),
    };
    let expired = || AwsError::SsoDeviceCodeExpired {
        profile: t.profile.clone(),
        minutes: lifetime.as_secs().div_ceil(60),
    };
    loop {
        // Wait first: RFC 8628 asks clients to wait `interval` before the first poll too.
        let nap: Pin<Box<dyn Future<Output = ()> + Send>> = match &sleeper {
            Some(s) => s(interval),
            None => Box::pin(tokio::time::sleep(interval)),
        };
        let waiting = async {
            tokio::select! {
                _ = nap => false,
                _ = &mut cancel => true,
            }
        };
        if spinner.wait(waiting).await {
            return Err(cancelled());
        }
        waited += interval;
        if started.elapsed().max(waited) > lifetime {
            return Err(expired());
        }
        let call = oidc
            .create_token()
            .client_id(&reg.client_id)
            .client_secret(&reg.client_secret)
            .grant_type(DEVICE_GRANT)
            .device_code(&device_code)
            .send();
        let answer = tokio::select! {
            a = call => a,
            _ = &mut cancel => return Err(cancelled()),
        };
        match answer {
            Ok(out) => {
                return created_token(t, &reg, &out)
                    .map_err(|detail| failed("sso-oidc:CreateToken", detail));
            }
            Err(e) => match e.as_service_error() {
                Some(CreateTokenError::AuthorizationPendingException(_)) => {}
                Some(CreateTokenError::SlowDownException(_)) => interval += SLOW_DOWN_STEP,
                Some(CreateTokenError::ExpiredTokenException(_)) => return Err(expired()),
                Some(CreateTokenError::AccessDeniedException(_)) => {
                    return Err(AwsError::SsoLoginDeclined {
                        profile: t.profile.clone(),
                    })
                }
                _ => return Err(failed("sso-oidc:CreateToken", sdk_text(&e, &redactor))),
            },
        }
    }
}

/// The grant types of a registration for the authorization code flow.
const AUTH_CODE_GRANTS: [&str; 2] = ["authorization_code", "refresh_token"];
/// The redirect URI registered; the port is chosen per login (RFC 8252 loopback redirects).
const REDIRECT_REGISTERED: &str = "http://127.0.0.1/oauth/callback";
/// How long the authorization code flow waits for the browser to come back.
const CALLBACK_WAIT: Duration = Duration::from_secs(10 * 60);

/// The OAuth authorization code grant with PKCE, as the AWS CLI v2 runs it: RegisterClient
/// with `authorization_code` and a loopback redirect URI, the browser opened on the
/// authorize URL, a one-shot callback listener on 127.0.0.1 that checks `state`, then
/// CreateToken with the code verifier. Unlike the device code grant, the code only ever
/// reaches the machine that started the login, which is what defeats device-code phishing.
async fn authorization_code_flow<C: Future<Output = ()>>(
    ctx: &AwsContext,
    t: &Target,
    oidc: &aws_sdk_ssooidc::Client,
    opts: &SsoLoginOptions,
    show: &mut dyn FnMut(&str),
    cancel: C,
    mut redactor: Redactor,
) -> Result<CachedToken, AwsError> {
    let endpoint = service_endpoint(ctx, "SSO_OIDC");
    let failed = |operation: &'static str, detail: String| AwsError::SsoLoginFailed {
        profile: t.profile.clone(),
        operation,
        endpoint: endpoint.clone(),
        detail,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| failed("the login callback listener on 127.0.0.1", e.to_string()))?;
    let port = listener
        .local_addr()
        .map_err(|e| failed("the login callback listener on 127.0.0.1", e.to_string()))?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}/oauth/callback");
    let reg = auth_code_registration(ctx, t, oidc, &redactor)
        .await
        .map_err(|d| failed("sso-oidc:RegisterClient", d))?;
    redactor.add(&reg.client_secret);
    let verifier = random_url_safe(64);
    redactor.add(&verifier);
    let challenge = base64_url(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref(),
    );
    let state = random_url_safe(32);
    let base = endpoint
        .clone()
        .unwrap_or_else(|| format!("https://oidc.{}.amazonaws.com", t.sso.region));
    let url = format!(
        "{}/authorize?response_type=code&client_id={}&redirect_uri={}&state={}&code_challenge_method=S256&scopes={}&code_challenge={}",
        base.trim_end_matches('/'),
        percent(&reg.client_id),
        percent(&redirect_uri),
        percent(&state),
        percent(&t.scopes.join(" ")),
        percent(&challenge),
    );
    let session = t
        .sso
        .session_name
        .as_deref()
        .map_or_else(|| t.sso.start_url.clone(), |s| format!("session `{s}`"));
    show(&format!(
        "to log in to AWS SSO ({session}) for profile `{}`, approve the login in your browser; if none opens, open this URL on this machine:\n\n    {url}\n",
        t.profile
    ));
    if opts.open_browser {
        if open_browser(opts.browser.as_deref(), &url) {
            show("a browser was opened at that URL; waiting for it to come back (Ctrl-C cancels)");
        } else {
            show("could not open a browser: open the URL yourself; waiting (Ctrl-C cancels)");
        }
    } else {
        show("waiting for the browser to come back (Ctrl-C cancels)");
    }
    let mut cancel = std::pin::pin!(cancel);
    let callback = tokio::time::timeout(CALLBACK_WAIT, wait_for_callback(&listener, &state));
    let mut spinner = Spinner::for_stderr(opts, CALLBACK_WAIT);
    let waited = spinner
        .wait(async {
            tokio::select! {
                r = callback => Some(r),
                _ = &mut cancel => None,
            }
        })
        .await;
    drop(spinner);
    let code = match waited {
        Some(Err(_)) => {
            return Err(AwsError::SsoDeviceCodeExpired {
                profile: t.profile.clone(),
                minutes: CALLBACK_WAIT.as_secs() / 60,
            })
        }
        Some(Ok(r)) => r,
        None => {
            return Err(AwsError::SsoLoginCancelled {
                profile: t.profile.clone(),
            })
        }
    };
    let code = match code {
        Callback::Code(c) => c,
        Callback::Denied(why) if why == "access_denied" => {
            return Err(AwsError::SsoLoginDeclined {
                profile: t.profile.clone(),
            })
        }
        Callback::Denied(why) => return Err(failed("the authorize step", why)),
        Callback::WrongState => {
            return Err(AwsError::SsoLoginStateMismatch {
                profile: t.profile.clone(),
            })
        }
    };
    redactor.add(&code);
    let out = oidc
        .create_token()
        .client_id(&reg.client_id)
        .client_secret(&reg.client_secret)
        .grant_type("authorization_code")
        .code(&code)
        .code_verifier(&verifier)
        .redirect_uri(&redirect_uri)
        .send()
        .await
        .map_err(|e| failed("sso-oidc:CreateToken", sdk_text(&e, &redactor)))?;
    created_token(t, &reg, &out).map_err(|detail| failed("sso-oidc:CreateToken", detail))
}

/// What came back to the loopback listener.
enum Callback {
    /// The authorization code, `state` matching.
    Code(String),
    /// The authorize step answered `error=...`.
    Denied(String),
    /// A `state` that is not the one this login sent: someone else's redirect, refused.
    WrongState,
}

/// Serves the loopback redirect once: other paths get 404 and the wait goes on; the
/// callback gets a short page and ends it.
async fn wait_for_callback(listener: &tokio::net::TcpListener, state: &str) -> Callback {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let head = read_head(&stream).await;
        let text = String::from_utf8_lossy(&head);
        let target = text
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or_default()
            .to_string();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let reply = |status: &str, body: &str| {
            format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        };
        if path != "/oauth/callback" {
            write_all(&stream, reply("404 Not Found", "not found").as_bytes()).await;
            continue;
        }
        let params = parse_query(query);
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let (status, body, outcome) = if get("state").as_deref() != Some(state) {
            (
                "400 Bad Request",
                "<p>This login did not come from okscript: it was refused. You can close this window.</p>",
                Callback::WrongState,
            )
        } else if let Some(e) = get("error") {
            (
                "200 OK",
                "<p>The login was not approved. You can close this window.</p>",
                Callback::Denied(e),
            )
        } else if let Some(c) = get("code").filter(|c| !c.is_empty()) {
            (
                "200 OK",
                "<p>okscript is logged in. You can close this window.</p>",
                Callback::Code(c),
            )
        } else {
            (
                "400 Bad Request",
                "<p>The login came back without a code.</p>",
                Callback::Denied("the redirect held no code".into()),
            )
        };
        write_all(&stream, reply(status, body).as_bytes()).await;
        return outcome;
    }
}

/// The request line and headers of one HTTP request (at most 16 KiB, 5 s).
async fn read_head(stream: &tokio::net::TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + Duration::from_secs(5);
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let left = deadline.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, stream.readable()).await.is_err() {
            break;
        }
        match stream.try_read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => break,
        }
    }
    head
}

/// Writes all of `bytes` (a small reply; errors only mean the browser went away).
async fn write_all(stream: &tokio::net::TcpStream, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        if stream.writable().await.is_err() {
            return;
        }
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
}

/// A registration for the authorization code grant: cached like the device one, under a
/// key that names the grant types, so the two never replace each other.
async fn auth_code_registration(
    ctx: &AwsContext,
    t: &Target,
    oidc: &aws_sdk_ssooidc::Client,
    redactor: &Redactor,
) -> Result<Registration, String> {
    let path = registration_file_for(ctx, t, Some(&AUTH_CODE_GRANTS));
    if let Some(reg) = path.as_deref().and_then(read_registration) {
        if reg.valid(SystemTime::now()) {
            return Ok(reg);
        }
    }
    register(t, oidc, path, true, redactor).await
}

/// `n` random bytes as unpadded base64url (PKCE verifiers, `state`).
fn random_url_safe(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    // The system's random source failing is not something a login can work around.
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
    base64_url(&bytes)
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `a=1&b=x%20y` as pairs, percent- and `+`-decoded.
fn parse_query(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(v) => {
                            out.push(v);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// A live client registration: okscript's cached one, else the one cached beside the
/// token, else a new one (RegisterClient), cached until it expires.
async fn registration(
    ctx: &AwsContext,
    t: &Target,
    oidc: &aws_sdk_ssooidc::Client,
    cached: Option<&CachedToken>,
    now: SystemTime,
    redactor: &Redactor,
) -> Result<Registration, String> {
    let path = registration_file(ctx, t);
    if let Some(reg) = path.as_deref().and_then(read_registration) {
        if reg.valid(now) {
            return Ok(reg);
        }
    }
    if let Some(reg) = cached.and_then(|c| c.registration(now)) {
        return Ok(reg);
    }
    register(t, oidc, path, false, redactor).await
}

/// RegisterClient, for the device flow or (`auth_code`) the authorization code grant with
/// its loopback redirect, and the registration cached at `path` until it expires.
async fn register(
    t: &Target,
    oidc: &aws_sdk_ssooidc::Client,
    path: Option<PathBuf>,
    auth_code: bool,
    redactor: &Redactor,
) -> Result<Registration, String> {
    let mut request = oidc
        .register_client()
        .client_name(SSO_CLIENT_NAME)
        .client_type(SSO_CLIENT_TYPE)
        .set_scopes(Some(t.scopes.clone()));
    if auth_code {
        request = request
            .set_grant_types(Some(
                AUTH_CODE_GRANTS.iter().map(|g| g.to_string()).collect(),
            ))
            .redirect_uris(REDIRECT_REGISTERED)
            .issuer_url(&t.sso.start_url);
    }
    let out = request.send().await.map_err(|e| sdk_text(&e, redactor))?;
    let reg = Registration {
        client_id: out.client_id().unwrap_or_default().to_string(),
        client_secret: out.client_secret().unwrap_or_default().to_string(),
        expires_at: DateTime::from_secs(out.client_secret_expires_at())
            .fmt(DateTimeFormat::DateTime)
            .unwrap_or_default(),
    };
    if reg.client_id.is_empty() || reg.client_secret.is_empty() {
        return Err("the answer held no client ID or secret".into());
    }
    if let Some(p) = path {
        let mut m = serde_json::Map::new();
        m.insert("clientId".into(), reg.client_id.clone().into());
        m.insert("clientSecret".into(), reg.client_secret.clone().into());
        m.insert("expiresAt".into(), reg.expires_at.clone().into());
        m.insert("scopes".into(), t.scopes.clone().into());
        if auth_code {
            m.insert("grantTypes".into(), AUTH_CODE_GRANTS.to_vec().into());
        }
        // A registration that cannot be cached is only registered again next time.
        let _ = write_private(&p, &python_json(&serde_json::Value::Object(m)));
    }
    Ok(reg)
}

/// okscript's registration cache beside the tokens, keyed like the AWS CLI v2's (SHA-1 of
/// the sorted JSON of start URL, region, scopes and session name) but with its own tool name,
/// so each tool keeps the registration whose name it shows on the approval page.
fn registration_file(ctx: &AwsContext, t: &Target) -> Option<PathBuf> {
    registration_file_for(ctx, t, None)
}

/// [`registration_file`], with the grant types in the key when they are not the device one's.
fn registration_file_for(ctx: &AwsContext, t: &Target, grants: Option<&[&str]>) -> Option<PathBuf> {
    let mut m = serde_json::Map::new();
    if let Some(g) = grants {
        m.insert("grantTypes".into(), g.to_vec().into());
    }
    m.insert("region".into(), t.sso.region.clone().into());
    m.insert("scopes".into(), t.scopes.clone().into());
    m.insert(
        "session_name".into(),
        t.sso
            .session_name
            .clone()
            .map_or(serde_json::Value::Null, Into::into),
    );
    m.insert("startUrl".into(), t.sso.start_url.clone().into());
    m.insert("tool".into(), SSO_CLIENT_NAME.into());
    let key = sha1_hex(python_json(&serde_json::Value::Object(m)).as_bytes());
    ctx.sso_cache_dir().map(|d| d.join(format!("{key}.json")))
}

fn read_registration(path: &Path) -> Option<Registration> {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let field = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_string);
    Some(Registration {
        client_id: field("clientId")?,
        client_secret: field("clientSecret")?,
        expires_at: field("expiresAt")?,
    })
}

fn sdk_text<E>(
    e: &aws_sdk_ssooidc::error::SdkError<E, aws_sdk_ssooidc::config::http::HttpResponse>,
    redactor: &Redactor,
) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let text = match (e.code(), e.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => match e.raw_response().map(|r| r.status().as_u16()) {
            Some(s) => format!("{c} (HTTP {s})"),
            None => c.to_string(),
        },
        _ => match e.raw_response().map(|r| r.status().as_u16()) {
            Some(s) => format!("HTTP {s}: {}", error_chain(e)),
            None => error_chain(e),
        },
    };
    redactor.clean(&text)
}

fn read_token(path: &Path) -> Option<CachedToken> {
    CachedToken::from_json(&std::fs::read_to_string(path).ok()?)
}

fn write_token(path: &Path, token: &CachedToken) -> Result<(), AwsError> {
    write_private(path, &token.to_cli_json()).map_err(|e| AwsError::SsoCacheWrite {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

/// Writes `text` to `path` with mode 0600, atomically (see [`crate::fsio::write`]).
fn write_private(path: &Path, text: &str) -> Result<(), crate::fsio::FsError> {
    crate::fsio::write(path, text.as_bytes(), crate::fsio::NewFile::PRIVATE).map(|_| ())
}

/// Tries `$BROWSER` (its first command; `%s` stands for the URL), else `xdg-open` (or
/// `open` on macOS), on `url`; whether it started.
fn open_browser(browser: Option<&str>, url: &str) -> bool {
    let default = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let command = browser
        .and_then(|b| b.split(':').map(str::trim).find(|c| !c.is_empty()))
        .unwrap_or(default);
    let mut words: Vec<String> = command.split_whitespace().map(str::to_string).collect();
    if words.is_empty() {
        return false;
    }
    if words.iter().any(|w| w.contains("%s")) {
        words = words.into_iter().map(|w| w.replace("%s", url)).collect();
    } else {
        words.push(url.to_string());
    }
    std::process::Command::new(&words[0])
        .args(&words[1..])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|mut child| {
            // Reap it in the background so no zombie is left behind.
            std::thread::spawn(move || {
                let _ = child.wait();
            });
        })
        .is_ok()
}

/// JSON exactly as Python's `json.dumps` writes it by default (the AWS CLI v2's cache):
/// `", "` and `": "` separators, insertion order, non-ASCII escaped as `\uXXXX`.
fn python_json(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", python_string(k), python_json(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(python_json).collect();
            format!("[{}]", items.join(", "))
        }
        Value::String(s) => python_string(s),
        other => other.to_string(),
    }
}

fn python_string(s: &str) -> String {
    let json = serde_json::Value::String(s.to_string()).to_string();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// `YYYY-MM-DDTHH:MM:SSZ` (whole seconds, UTC), as the AWS CLI v2 writes cache dates.
fn format_time(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    DateTime::from_secs(i64::try_from(secs).unwrap_or(i64::MAX))
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default()
}

fn parse_time(s: &str) -> Option<SystemTime> {
    let mut text = s.trim().to_string();
    for suffix in ["+0000", "+00:00", "UTC"] {
        if let Some(base) = text.strip_suffix(suffix) {
            text = format!("{}Z", base.trim_end());
            break;
        }
    }
    DateTime::from_str(&text, DateTimeFormat::DateTime)
        .ok()
        .and_then(|d| SystemTime::try_from(d).ok())
}

/// How often the spinner moves.
const SPIN_TICK: Duration = Duration::from_millis(120);
/// The spinner's frames (plain ASCII: readable on any terminal).
const SPIN_FRAMES: [char; 4] = ['|', '/', '-', '\\'];

/// A spinner with the time left, shown on stderr while a login waits for the person; only
/// when stderr is a terminal (never in CI logs or pipes) and never with a test's sleeper.
/// It shows no token: only the frame and the time left.
struct Spinner {
    out: Option<Box<dyn std::io::Write + Send>>,
    deadline: Instant,
    frame: usize,
}

/// Whether a waiting login shows the spinner.
fn spinner_on(stderr_is_terminal: bool, sleeper_injected: bool) -> bool {
    stderr_is_terminal && !sleeper_injected
}

impl Spinner {
    fn for_stderr(opts: &SsoLoginOptions, left: Duration) -> Spinner {
        use std::io::IsTerminal;
        let on = spinner_on(std::io::stderr().is_terminal(), opts.sleeper.is_some());
        Spinner::new(on.then(|| Box::new(std::io::stderr()) as _), left)
    }

    fn new(out: Option<Box<dyn std::io::Write + Send>>, left: Duration) -> Spinner {
        Spinner {
            out,
            deadline: Instant::now() + left,
            frame: 0,
        }
    }

    fn tick(&mut self) {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let line = spinner_line(self.frame, left);
        self.frame += 1;
        if let Some(out) = &mut self.out {
            let _ = write!(out, "\r{line}");
            let _ = out.flush();
        }
    }

    /// Waits for `until`, moving the spinner meanwhile.
    async fn wait<F: Future>(&mut self, until: F) -> F::Output {
        let mut until = std::pin::pin!(until);
        if self.out.is_none() {
            return until.await;
        }
        loop {
            self.tick();
            tokio::select! {
                v = &mut until => return v,
                _ = tokio::time::sleep(SPIN_TICK) => {}
            }
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(out) = &mut self.out {
            // Erase the line so the next message starts clean.
            let _ = write!(out, "\r\x1b[2K");
            let _ = out.flush();
        }
    }
}

/// One spinner line: `| waiting for the login: 9:58 left (Ctrl-C cancels)`.
fn spinner_line(frame: usize, left: Duration) -> String {
    format!(
        "{} waiting for the login: {} left (Ctrl-C cancels)",
        SPIN_FRAMES[frame % SPIN_FRAMES.len()],
        remaining(left)
    )
}

/// `m:ss`, or `h:mm:ss` from an hour on.
fn remaining(left: Duration) -> String {
    let s = left.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_json_matches_json_dumps() {
        let mut m = serde_json::Map::new();
        m.insert("startUrl".into(), "https://x/start".into());
        m.insert("n".into(), 3.into());
        m.insert("scopes".into(), vec!["a", "b"].into());
        m.insert("é".into(), "\u{1F600}\n".into());
        assert_eq!(
            python_json(&serde_json::Value::Object(m)),
            r#"{"startUrl": "https://x/start", "n": 3, "scopes": ["a", "b"], "\u00e9": "\ud83d\ude00\n"}"#
        );
    }

    #[test]
    fn token_debug_hides_secrets() {
        let t = CachedToken {
            access_token: "ACCESS-SECRET-1".into(),
            client_secret: Some("CLIENT-SECRET-1".into()),
            refresh_token: Some("REFRESH-SECRET-1".into()),
            ..CachedToken::default()
        };
        let shown = format!("{t:?}");
        for s in ["ACCESS-SECRET-1", "CLIENT-SECRET-1", "REFRESH-SECRET-1"] {
            assert!(!shown.contains(s), "{shown}");
        }
    }

    #[test]
    fn dates_round_trip() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_323_045);
        assert_eq!(format_time(t), "2026-01-02T03:04:05Z");
        assert_eq!(parse_time("2026-01-02T03:04:05Z"), Some(t));
        assert_eq!(parse_time("2026-01-02T03:04:05UTC"), Some(t));
    }

    #[test]
    fn the_spinner_shows_the_time_left_and_moves() {
        assert_eq!(remaining(Duration::from_secs(598)), "9:58");
        assert_eq!(remaining(Duration::from_secs(5)), "0:05");
        assert_eq!(remaining(Duration::from_secs(3 * 3600 + 62)), "3:01:02");
        assert_eq!(remaining(Duration::ZERO), "0:00");
        assert_eq!(
            spinner_line(0, Duration::from_secs(600)),
            "| waiting for the login: 10:00 left (Ctrl-C cancels)"
        );
        assert!(spinner_line(1, Duration::from_secs(1)).starts_with("/ "));
        assert!(spinner_line(4, Duration::from_secs(1)).starts_with("| "));
    }

    #[test]
    fn the_spinner_is_off_without_a_terminal_or_with_a_test_sleeper() {
        assert!(spinner_on(true, false));
        assert!(!spinner_on(false, false));
        assert!(!spinner_on(true, true));
        // Off: ticking writes nothing anywhere and waiting still returns the value.
        let mut off = Spinner::new(None, Duration::from_secs(60));
        off.tick();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(off.wait(async { 7 })), 7);
        // Here (cargo test) stderr is whatever the runner gave: the spinner follows it.
        use std::io::IsTerminal;
        let opts = SsoLoginOptions::default();
        let s = Spinner::for_stderr(&opts, Duration::from_secs(60));
        assert_eq!(s.out.is_some(), std::io::stderr().is_terminal());
    }

    #[test]
    fn the_spinner_writes_one_line_and_erases_it() {
        #[derive(Clone, Default)]
        struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let mut s = Spinner::new(Some(Box::new(buf.clone())), Duration::from_secs(125));
        s.tick();
        drop(s);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.starts_with("\r| waiting for the login: 2:0"),
            "{text:?}"
        );
        assert!(
            text.ends_with(" left (Ctrl-C cancels)\r\x1b[2K"),
            "{text:?}"
        );
    }
}
