//! The login itself: a cached token used as it is, refreshed, or a new one from a login
//! flow; and the logout that removes it.

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_types::region::Region;
use secrecy::ExposeSecret;

use super::auth_code::authorization_code_flow;
use super::cache::{parse_time, read_token, write_token, CachedToken};
use super::device_flow::{device_flow, refresh_token, token_from};
use super::portal::service_endpoint;
use super::profile::{session_target, target, SsoSessionSpec, Target};
use super::EXPIRY_MARGIN;
use crate::aws::context::AwsContext;
use crate::aws::error::{AwsError, Redactor};

/// What both login flows (device code, authorization code) work with.
pub(super) struct Flow<'a> {
    pub(super) ctx: &'a AwsContext,
    pub(super) t: &'a Target,
    pub(super) oidc: &'a aws_sdk_ssooidc::Client,
    pub(super) opts: &'a SsoLoginOptions,
    /// The SSO OIDC endpoint override, named in errors.
    pub(super) endpoint: Option<String>,
}

impl Flow<'_> {
    /// The error of one step of the login.
    pub(super) fn failed(&self, operation: &'static str, detail: String) -> AwsError {
        AwsError::SsoLoginFailed {
            profile: self.t.profile.clone(),
            operation,
            endpoint: self.endpoint.clone(),
            detail,
        }
    }

    /// The session in words: `session `corp`` or the start URL of a legacy profile.
    pub(super) fn session_words(&self) -> String {
        let sso = &self.t.sso;
        sso.session_name
            .as_deref()
            .map_or_else(|| sso.start_url.clone(), |s| format!("session `{s}`"))
    }

    /// Opens a browser at `url` when allowed, and says what the login waits for:
    /// `opened` after a browser started, `waiting` when none was tried.
    pub(super) fn offer_browser(
        &self,
        show: &mut dyn FnMut(&str),
        url: &str,
        opened: &str,
        waiting: &str,
    ) {
        if !self.opts.open_browser || url.is_empty() {
            show(&format!("{waiting} (Ctrl-C cancels)"));
        } else if open_browser(self.opts.browser.as_deref(), url) {
            show(&format!(
                "a browser was opened at that URL; {opened} (Ctrl-C cancels)"
            ));
        } else {
            show("could not open a browser: open the URL yourself; waiting (Ctrl-C cancels)");
        }
    }
}

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

/// Whose SSO session a login is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFor<'a> {
    /// A profile of the config file (its `[sso-session]` or legacy keys).
    Profile(&'a str),
    /// An sso-session the config file may not hold yet (`configure-sso` logs in before it
    /// writes the profile).
    Session(&'a SsoSessionSpec),
}

impl<'a> From<&'a str> for LoginFor<'a> {
    fn from(profile: &'a str) -> Self {
        LoginFor::Profile(profile)
    }
}

impl<'a> From<&'a SsoSessionSpec> for LoginFor<'a> {
    fn from(spec: &'a SsoSessionSpec) -> Self {
        LoginFor::Session(spec)
    }
}

/// Makes sure a usable SSO token is cached for a profile's (or a session's) SSO session
/// (see the module docs), running a login flow when nothing else works. `show` receives
/// the lines to show the person (the verification URL and code); `cancel` ends the wait
/// (Ctrl-C) with [`AwsError::SsoLoginCancelled`], and nothing is written then.
///
/// # Errors
/// A profile that is missing or not an SSO profile, an unreachable or refusing SSO OIDC
/// endpoint, a declined or expired authorization, cancellation, or an unwritable cache.
pub async fn sso_login<'a, C>(
    ctx: &AwsContext,
    who: impl Into<LoginFor<'a>>,
    opts: &SsoLoginOptions,
    show: &mut dyn FnMut(&str),
    cancel: C,
) -> Result<SsoLogin, AwsError>
where
    C: Future<Output = ()>,
{
    let t = match who.into() {
        LoginFor::Profile(profile) => target(ctx, profile)?,
        LoginFor::Session(spec) => session_target(ctx, spec)?,
    };
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
    let flow = Flow {
        ctx,
        t: &t,
        oidc: &oidc,
        opts,
        endpoint: service_endpoint(ctx, "SSO_OIDC"),
    };
    let mut redactor = Redactor::default();
    if let Some(token) = &cached {
        redactor.add(token.access_token.expose_secret());
        if let Some(s) = &token.client_secret {
            redactor.add(s.expose_secret());
        }
        if let Some(r) = &token.refresh_token {
            redactor.add(r.expose_secret());
        }
        if !opts.force {
            if let (Some(refresh), Some(reg)) = (&token.refresh_token, token.registration(now)) {
                match refresh_token(&oidc, &reg, refresh.expose_secret(), &redactor).await {
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
        let new = authorization_code_flow(&flow, show, cancel, redactor).await?;
        write_token(&t.cache_file, &new)?;
        return Ok(done(&new, TokenSource::AuthorizationCode));
    }
    let new = device_flow(&flow, show, cancel, cached.as_ref(), redactor).await?;
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

pub(super) fn oidc_client(ctx: &AwsContext, region: &str) -> aws_sdk_ssooidc::Client {
    let mut conf = aws_sdk_ssooidc::Config::builder()
        .behavior_version(aws_sdk_ssooidc::config::BehaviorVersion::latest())
        .region(Region::new(region.to_string()));
    if let Some(e) = service_endpoint(ctx, "SSO_OIDC") {
        conf = conf.endpoint_url(e);
    }
    aws_sdk_ssooidc::Client::from_conf(conf.build())
}

pub(super) fn token_valid(token: &CachedToken, now: SystemTime) -> bool {
    parse_time(&token.expires_at).is_some_and(|t| t > now + EXPIRY_MARGIN)
}

/// Tries `$BROWSER` (its first command; `%s` stands for the URL), else `xdg-open` (or
/// `open` on macOS), on `url`; whether it started.
pub(super) fn open_browser(browser: Option<&str>, url: &str) -> bool {
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
