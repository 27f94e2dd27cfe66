//! The device code grant (RFC 8628) with SSO OIDC, the refresh of a cached token, and the
//! client registration both login flows share.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_ssooidc::error::ProvideErrorMetadata;
use aws_sdk_ssooidc::operation::create_token::CreateTokenError;
use secrecy::{ExposeSecret, SecretString};

use super::auth_code::{AUTH_CODE_GRANTS, REDIRECT_REGISTERED};
use super::cache::{
    format_time, python_json, read_registration, registration_file, write_private, CachedToken,
    Registration,
};
use super::login::Flow;
use super::profile::Target;
use super::spinner::Spinner;
use super::{DEFAULT_POLL_INTERVAL, SLOW_DOWN_STEP, SSO_CLIENT_NAME, SSO_CLIENT_TYPE};
use crate::aws::context::AwsContext;
use crate::aws::error::{AwsError, Redactor};
use crate::aws::session::error_chain;

pub(super) const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub(super) const REFRESH_GRANT: &str = "refresh_token";

/// What CreateToken answered (secrets inside: never Debug-printed).
pub(super) struct TokenOut {
    pub(super) access_token: String,
    pub(super) expires_in: i32,
    pub(super) refresh_token: Option<String>,
}

pub(super) async fn refresh_token(
    oidc: &aws_sdk_ssooidc::Client,
    reg: &Registration,
    refresh: &str,
    redactor: &Redactor,
) -> Result<TokenOut, String> {
    let out = oidc
        .create_token()
        .client_id(&reg.client_id)
        .client_secret(reg.client_secret.expose_secret())
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
pub(super) fn created_token(
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

pub(super) fn token_from(
    t: &Target,
    reg: &Registration,
    out: TokenOut,
    old_refresh: Option<SecretString>,
) -> CachedToken {
    let expires =
        SystemTime::now() + Duration::from_secs(u64::try_from(out.expires_in).unwrap_or(0));
    CachedToken {
        start_url: t.sso.start_url.clone(),
        region: t.sso.region.clone(),
        access_token: out.access_token.into(),
        expires_at: format_time(expires),
        client_id: Some(reg.client_id.clone()),
        client_secret: Some(reg.client_secret.clone()),
        registration_expires_at: Some(reg.expires_at.clone()),
        refresh_token: out.refresh_token.map(SecretString::from).or(old_refresh),
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn device_flow<C: Future<Output = ()>>(
    flow: &Flow<'_>,
    show: &mut dyn FnMut(&str),
    cancel: C,
    cached: Option<&CachedToken>,
    mut redactor: Redactor,
) -> Result<CachedToken, AwsError> {
    let Flow {
        ctx, t, oidc, opts, ..
    } = *flow;
    let now = SystemTime::now();
    let reg = match registration(ctx, t, oidc, cached, now, &redactor).await {
        Ok(r) => r,
        Err(detail) => return Err(flow.failed("sso-oidc:RegisterClient", detail)),
    };
    redactor.add(reg.client_secret.expose_secret());
    let auth = oidc
        .start_device_authorization()
        .client_id(&reg.client_id)
        .client_secret(reg.client_secret.expose_secret())
        .start_url(&t.sso.start_url)
        .send()
        .await
        .map_err(|e| flow.failed("sso-oidc:StartDeviceAuthorization", sdk_text(&e, &redactor)))?;
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
    show(&format!(
        "to log in to AWS SSO ({}) for profile `{}`, open this URL in a browser:\n\n    {url}\n\nand check that it shows the code {user_code}",
        flow.session_words(),
        t.profile
    ));
    let waiting = "waiting for the login to be approved";
    flow.offer_browser(show, &url, waiting, waiting);

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
            .client_secret(reg.client_secret.expose_secret())
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
                    .map_err(|detail| flow.failed("sso-oidc:CreateToken", detail));
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
                _ => return Err(flow.failed("sso-oidc:CreateToken", sdk_text(&e, &redactor))),
            },
        }
    }
}

/// A live client registration: okscript's cached one, else the one cached beside the
/// token, else a new one (RegisterClient), cached until it expires.
pub(super) async fn registration(
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
pub(super) async fn register(
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
        client_secret: out.client_secret().unwrap_or_default().into(),
        expires_at: crate::aws::time::rfc3339_secs(out.client_secret_expires_at()),
    };
    if reg.client_id.is_empty() || reg.client_secret.expose_secret().is_empty() {
        return Err("the answer held no client ID or secret".into());
    }
    if let Some(p) = path {
        let mut m = serde_json::Map::new();
        m.insert("clientId".into(), reg.client_id.clone().into());
        m.insert(
            "clientSecret".into(),
            reg.client_secret.expose_secret().into(),
        );
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

pub(super) fn sdk_text<E>(
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
