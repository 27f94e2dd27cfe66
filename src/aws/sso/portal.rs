//! The AWS access portal a login opens (SSO ListAccounts, ListAccountRoles), with the
//! cached token; a refused token becomes "log in again".

use std::time::SystemTime;

use aws_sdk_ssooidc::error::ProvideErrorMetadata;
use aws_types::region::Region;
use secrecy::ExposeSecret;

use super::cache::{parse_time, read_token, refused_token};
use super::profile::{session_target, target, SsoSessionSpec, Target};
use crate::aws::context::AwsContext;
use crate::aws::error::{AwsError, Redactor};

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

pub(super) async fn accounts_of(ctx: &AwsContext, t: &Target) -> Result<Vec<SsoAccount>, AwsError> {
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

pub(super) async fn roles_of(
    ctx: &AwsContext,
    t: &Target,
    account_id: &str,
) -> Result<Vec<String>, AwsError> {
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

pub(super) type Portal = (aws_sdk_sso::Client, String, Redactor, Option<String>);

pub(super) fn portal(ctx: &AwsContext, t: &Target) -> Result<Portal, AwsError> {
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
    redactor.add(token.access_token.expose_secret());
    let endpoint = service_endpoint(ctx, "SSO");
    let mut conf = aws_sdk_sso::Config::builder()
        .behavior_version(aws_sdk_sso::config::BehaviorVersion::latest())
        .region(Region::new(t.sso.region.clone()));
    if let Some(e) = &endpoint {
        conf = conf.endpoint_url(e);
    }
    Ok((
        aws_sdk_sso::Client::from_conf(conf.build()),
        token.access_token.expose_secret().to_string(),
        redactor,
        endpoint,
    ))
}

pub(super) fn portal_error<E>(
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
        return refused_token(ctx, &t.profile, &t.sso);
    }
    crate::aws::session::sdk_error(e, operation, endpoint, redactor)
}

/// `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, from the snapshot (the override
/// wins; `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` drops the variables, as in the SDK).
pub(super) fn service_endpoint(ctx: &AwsContext, service: &str) -> Option<String> {
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
