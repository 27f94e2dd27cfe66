//! Logging in: turning an [`AwsContext`] and a [`CredentialType`] into a verified [`Session`].

use std::fmt;
use std::time::SystemTime;

use aws_config::identity::IdentityCache;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_types::os_shim_internal::Env;
use aws_types::region::Region;
use aws_types::SdkConfig;

use super::context::{AwsContext, ProfileFilesView, FALLBACK_REGION};
use super::error::{rejection_meaning, AwsError, Redactor};
use super::identity::{
    caller_short_name, default_session_name, parse_arn, principal_arn, validate_session_name,
    CredentialType, Identity,
};
use super::sso;

/// A logged-in, verified AWS session: credentials (behind a provider), the SDK
/// configuration to build clients from, and the [`Identity`] STS confirmed.
///
/// No method returns a secret, and `Debug` shows neither keys nor tokens.
#[derive(Clone)]
pub struct Session {
    sdk_config: SdkConfig,
    identity: Identity,
    region: String,
    endpoint_sts: Option<String>,
    endpoint_iam: Option<String>,
    endpoint_eks: Option<String>,
    redactor: Redactor,
    /// The credentials type asked for (`-a`, an environment choice, `login(TYPE)`); `None`
    /// for the default chain and profile switches.
    chosen_type: Option<CredentialType>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("identity", &self.identity)
            .field("region", &self.region)
            .field("endpoint_sts", &self.endpoint_sts)
            .field("endpoint_iam", &self.endpoint_iam)
            .field("endpoint_eks", &self.endpoint_eks)
            .field("credentials", &"<redacted>")
            .finish()
    }
}

impl Session {
    /// Who this session is, as verified by STS when it was created.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The account of the session.
    pub fn account(&self) -> &str {
        &self.identity.account
    }

    /// The region STS and IAM requests are signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// How the credentials were obtained.
    pub fn credential_type(&self) -> CredentialType {
        self.identity.credential_type
    }

    /// The credentials type that was asked for, `None` when the default chain chose: what
    /// a kubeconfig passes as `-a` to log in the same way again.
    pub fn chosen_type(&self) -> Option<CredentialType> {
        self.chosen_type
    }

    /// The profile in use, if any.
    pub fn profile(&self) -> Option<&str> {
        self.identity.profile.as_deref()
    }

    /// The same credentials and identity, for the AWS APIs of another region: a fleet logs
    /// in once and reaches clusters in several regions with it (no second login, no STS call).
    pub fn in_region(&self, region: &str) -> Session {
        Session {
            sdk_config: self
                .sdk_config
                .to_builder()
                .region(Region::new(region.to_string()))
                .build(),
            region: region.to_string(),
            ..self.clone()
        }
    }

    /// An STS client using this session's credentials. Crate-only: a client leads to the
    /// credentials, and nothing public may.
    pub(crate) fn sts_client(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.sdk_config)
    }

    /// An IAM client using this session's credentials (crate-only, like `sts_client`).
    pub(crate) fn iam_client(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk_config)
    }

    /// An EKS client using this session's credentials (crate-only, like `sts_client`).
    pub(crate) fn eks_client(&self) -> aws_sdk_eks::Client {
        aws_sdk_eks::Client::new(&self.sdk_config)
    }

    /// The SDK configuration, for other AWS modules of the crate (EKS, token signing).
    /// Not public: it leads to the credentials.
    pub(crate) fn sdk_config(&self) -> &SdkConfig {
        &self.sdk_config
    }

    pub(crate) fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    pub(crate) fn endpoint_iam(&self) -> Option<String> {
        self.endpoint_iam.clone()
    }

    /// The STS endpoint override (`--endpoint-url`, `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`), if any.
    pub(crate) fn endpoint_sts(&self) -> Option<String> {
        self.endpoint_sts.clone()
    }

    /// The EKS endpoint override, if any.
    pub(crate) fn endpoint_eks(&self) -> Option<String> {
        self.endpoint_eks.clone()
    }
}

/// Logs in with the given credentials type and verifies the result with STS GetCallerIdentity.
///
/// * `access-key`: only `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optional
///   `AWS_SESSION_TOKEN` from `ctx.env`; never a profile.
/// * `aws-profile`: `AWS_PROFILE` (or `default`) from the shared files: static keys,
///   `credential_process`, `role_arn` + `source_profile`, SSO with a cached login.
/// * `sso`: like `aws-profile`, but the profile must be an SSO profile.
///
/// # Errors
/// A missing variable or profile, no cached SSO login, a failing credential provider,
/// credentials AWS rejects, or an unreachable endpoint: see [`AwsError`].
pub async fn login(ctx: &AwsContext, credential_type: CredentialType) -> Result<Session, AwsError> {
    let session = match credential_type {
        CredentialType::AccessKey => login_access_key(ctx).await,
        CredentialType::AwsProfile => {
            login_profile(ctx, &ctx.profile_name(), Some(CredentialType::AwsProfile)).await
        }
        CredentialType::Sso => {
            login_profile(ctx, &ctx.profile_name(), Some(CredentialType::Sso)).await
        }
        CredentialType::WebIdentity => login_chain(ctx, CredentialType::WebIdentity).await,
        CredentialType::DefaultChain => login_chain(ctx, CredentialType::DefaultChain).await,
    }?;
    Ok(Session {
        chosen_type: Some(credential_type),
        ..session
    })
}

/// Where the default chain will find credentials, decided the way the AWS SDKs decide it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultSource {
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are set (and no `--profile` was given).
    EnvironmentKeys,
    /// A profile: the one `--profile` or `AWS_PROFILE` names, or a `default` profile that
    /// holds credentials.
    Profile(String),
    /// Web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`).
    WebIdentity,
    /// What is left of the chain: container credentials, then EC2 instance metadata.
    Platform,
}

/// Picks the default chain's source without calling AWS: environment keys, then the chosen
/// profile (or a `default` profile with credentials), then web identity, then the container
/// and instance metadata. `--profile` skips environment keys, as in the AWS CLI.
///
/// # Errors
/// A profile file that cannot be read or parsed (named with its line).
pub fn default_source(ctx: &AwsContext) -> Result<DefaultSource, AwsError> {
    if ctx.profile.is_none()
        && ctx.var("AWS_ACCESS_KEY_ID").is_some()
        && ctx.var("AWS_SECRET_ACCESS_KEY").is_some()
    {
        return Ok(DefaultSource::EnvironmentKeys);
    }
    if let Some(p) = ctx.chosen_profile() {
        return Ok(DefaultSource::Profile(p.to_string()));
    }
    let view = match ProfileFilesView::load(ctx) {
        Ok(v) => Some(v),
        Err(AwsError::NoHome) => None,
        Err(e) => return Err(e),
    };
    if view
        .as_ref()
        .is_some_and(|v| v.has_profile("default") && v.has_credential_source("default"))
    {
        return Ok(DefaultSource::Profile("default".into()));
    }
    if ctx.var("AWS_WEB_IDENTITY_TOKEN_FILE").is_some() || ctx.var("AWS_ROLE_ARN").is_some() {
        return Ok(DefaultSource::WebIdentity);
    }
    Ok(DefaultSource::Platform)
}

/// Logs in the way every AWS SDK does when nothing is chosen (the default credential chain,
/// see [`default_source`]) and verifies the result with STS GetCallerIdentity. The
/// session's type says which source answered.
///
/// # Errors
/// As for [`login`]; [`AwsError::NoCredentials`] when no source has credentials.
pub async fn login_default(ctx: &AwsContext) -> Result<Session, AwsError> {
    match default_source(ctx)? {
        DefaultSource::EnvironmentKeys => login_access_key(ctx).await,
        DefaultSource::Profile(name) => login_profile(ctx, &name, None).await,
        DefaultSource::WebIdentity => {
            for (var, other) in [
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"),
                ("AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"),
            ] {
                if ctx.var(var).is_none() {
                    return Err(AwsError::NoCredentials {
                        looked: format!(
                            "{other} is set but {var} is not, and web identity needs both"
                        ),
                    });
                }
            }
            login_chain(ctx, CredentialType::WebIdentity).await
        }
        DefaultSource::Platform => login_chain(ctx, CredentialType::DefaultChain).await,
    }
}

/// The rest of the SDK's default chain (web identity, container, instance metadata), with
/// the environment snapshot standing in for the process environment and no profile files
/// (okscript looked at the profiles already, and the chain must not find them again).
#[allow(deprecated)] // ProfileFiles/ProfileFileKind are aliases of aws-runtime types
async fn login_chain(
    ctx: &AwsContext,
    credential_type: CredentialType,
) -> Result<Session, AwsError> {
    use aws_config::profile::profile_file::{ProfileFileKind, ProfileFiles};

    let region = ctx
        .explicit_region()
        .unwrap_or_else(|| FALLBACK_REGION.to_string());
    let files = ProfileFiles::builder()
        .include_default_config_file(false)
        .include_default_credentials_file(false)
        .with_contents(ProfileFileKind::Config, "")
        .with_contents(ProfileFileKind::Credentials, "")
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(super::http::client())
        .env(Env::from(ctx.sdk_env_chain(Some(&region))))
        .profile_files(files)
        .region(Region::new(region.clone()));
    if let Some(e) = ctx.endpoint_url.as_deref().filter(|e| !e.is_empty()) {
        loader = loader.endpoint_url(e);
    }
    let sdk_config = loader.load().await;
    finish(ctx, sdk_config, region, credential_type, None)
        .await
        .map_err(|e| match e {
            AwsError::CredentialsUnavailable { detail, .. } => AwsError::NoCredentials {
                looked: if credential_type == CredentialType::WebIdentity {
                    format!("the web identity login (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN) failed: {detail}")
                } else {
                    format!("no keys in the environment, no AWS_PROFILE, no `default` profile with credentials, no web identity, and neither container credentials nor instance metadata answered: {detail}")
                },
            },
            other => other,
        })
}

/// Switches to the named profile (whatever `AWS_PROFILE` says) and verifies it.
/// The session's type is `sso` for SSO profiles and `aws-profile` otherwise.
///
/// # Errors
/// As for [`login`] with `aws-profile`.
pub async fn assume_profile(ctx: &AwsContext, name: &str) -> Result<Session, AwsError> {
    login_profile(ctx, name, None).await
}

/// Asks STS again who the session is.
///
/// # Errors
/// Rejected or expired credentials, or an unreachable endpoint.
pub async fn whoami(session: &Session) -> Result<Identity, AwsError> {
    caller_identity(
        &session.sdk_config,
        session.identity.credential_type,
        session.identity.profile.clone(),
        session.endpoint_sts.clone(),
        &session.redactor,
    )
    .await
}

/// Assumes `role_arn` with the session's credentials (STS AssumeRole) and returns the new,
/// verified session. The session name defaults to `okscript-<caller>` (the caller's role
/// session name, user name or `root`), made valid for STS.
///
/// The new credentials are not refreshed: they last for the role's default duration (1 h).
///
/// # Errors
/// An invalid ARN or session name, AccessDenied when the role's trust policy does not allow
/// the caller, or any error of [`whoami`].
pub async fn assume_role(
    session: &Session,
    role_arn: &str,
    session_name: Option<&str>,
) -> Result<Session, AwsError> {
    let arn = parse_arn(role_arn)?;
    if arn.service != "iam" || !arn.resource.starts_with("role/") {
        return Err(AwsError::InvalidArn {
            arn: role_arn.to_string(),
            reason: "AssumeRole needs an IAM role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME)"
                .into(),
        });
    }
    let name = match session_name {
        Some(n) => {
            validate_session_name(n)?;
            n.to_string()
        }
        None => default_session_name(&caller_short_name(&session.identity.arn)),
    };
    let out = session
        .sts_client()
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(&name)
        .send()
        .await
        .map_err(|e| {
            sdk_error(
                e,
                "sts:AssumeRole",
                session.endpoint_sts.clone(),
                &session.redactor,
            )
        })?;
    let c = out.credentials().ok_or_else(|| AwsError::Api {
        operation: "sts:AssumeRole",
        code: "NoCredentials".into(),
        message: "the response held no credentials".into(),
    })?;
    let mut redactor = session.redactor.clone();
    redactor.add(c.secret_access_key());
    redactor.add(c.session_token());
    let expiry = SystemTime::try_from(*c.expiration()).ok();
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        expiry,
        "okscript-assume-role",
    );
    let sdk_config = session
        .sdk_config
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .identity_cache(IdentityCache::lazy().build())
        .build();
    let identity = caller_identity(
        &sdk_config,
        session.identity.credential_type,
        session.identity.profile.clone(),
        session.endpoint_sts.clone(),
        &redactor,
    )
    .await?;
    Ok(Session {
        sdk_config,
        identity,
        region: session.region.clone(),
        endpoint_sts: session.endpoint_sts.clone(),
        endpoint_iam: session.endpoint_iam.clone(),
        endpoint_eks: session.endpoint_eks.clone(),
        redactor,
        chosen_type: session.chosen_type,
    })
}

async fn login_access_key(ctx: &AwsContext) -> Result<Session, AwsError> {
    let key_id = ctx.var("AWS_ACCESS_KEY_ID");
    let secret = ctx.var("AWS_SECRET_ACCESS_KEY");
    let (key_id, secret) = match (key_id, secret) {
        (Some(k), Some(s)) => (k, s),
        (None, _) => {
            return Err(AwsError::MissingEnvVar {
                name: "AWS_ACCESS_KEY_ID",
            })
        }
        (_, None) => {
            return Err(AwsError::MissingEnvVar {
                name: "AWS_SECRET_ACCESS_KEY",
            })
        }
    };
    let token = ctx.var("AWS_SESSION_TOKEN").map(str::to_string);
    let creds = Credentials::new(
        key_id.trim(),
        secret.trim(),
        token,
        None,
        "okscript-access-key",
    );
    let region = ctx
        .explicit_region()
        .unwrap_or_else(|| FALLBACK_REGION.to_string());
    let sdk_config = load_sdk_config(
        ctx,
        &region,
        None,
        Some(SharedCredentialsProvider::new(creds)),
    )
    .await;
    finish(ctx, sdk_config, region, CredentialType::AccessKey, None).await
}

/// `requested` is the type asked for, `None` when switching profiles (then an SSO profile
/// gives an `sso` session).
async fn login_profile(
    ctx: &AwsContext,
    name: &str,
    requested: Option<CredentialType>,
) -> Result<Session, AwsError> {
    let view = ProfileFilesView::load(ctx)?;
    if !view.has_profile(name) {
        return Err(view.not_found(name));
    }
    let sso_profile = sso::sso_profile(&view, name)?;
    let credential_type = match (&sso_profile, requested) {
        (None, Some(CredentialType::Sso)) => {
            return Err(AwsError::NotAnSsoProfile {
                name: name.to_string(),
            })
        }
        (None, _) => CredentialType::AwsProfile,
        (Some(_), Some(t)) => t,
        (Some(_), None) => CredentialType::Sso,
    };
    if let Some(p) = &sso_profile {
        sso::check_cached_token(ctx, name, p, SystemTime::now())?;
    } else if !view.has_credential_source(name) {
        return Err(AwsError::InvalidProfile {
            profile: name.to_string(),
            reason: "it holds no credentials: it needs aws_access_key_id and aws_secret_access_key, credential_process, role_arn with source_profile or credential_source, web_identity_token_file, or sso_session".into(),
        });
    }
    let region = ctx
        .explicit_region()
        .or_else(|| {
            view.config(name)
                .and_then(|p| p.get("region"))
                .filter(|r| !r.is_empty())
                .cloned()
        })
        .unwrap_or_else(|| FALLBACK_REGION.to_string());
    let sdk_config = load_sdk_config(ctx, &region, Some(name), None).await;
    finish(
        ctx,
        sdk_config,
        region,
        credential_type,
        Some(name.to_string()),
    )
    .await
    .map_err(|e| match (e, &sso_profile) {
        (AwsError::CredentialsUnavailable { detail, .. }, Some(p))
            if detail.contains("UnauthorizedException") =>
        {
            sso::refused_token(ctx, name, p)
        }
        (e, _) => e,
    })
}

/// Builds the SDK configuration from `ctx` alone: a fake environment made from the
/// snapshot replaces the process environment for every aws-config provider.
#[allow(deprecated)] // ProfileFiles/ProfileFileKind are aliases of aws-runtime types
async fn load_sdk_config(
    ctx: &AwsContext,
    region: &str,
    profile: Option<&str>,
    credentials: Option<SharedCredentialsProvider>,
) -> SdkConfig {
    let env = ctx.sdk_env(Some(region));
    load_sdk_config_with(ctx, region, profile, credentials, env).await
}

/// [`load_sdk_config`] with the environment aws-config sees given.
#[allow(deprecated)] // ProfileFiles/ProfileFileKind are aliases of aws-runtime types
async fn load_sdk_config_with(
    ctx: &AwsContext,
    region: &str,
    profile: Option<&str>,
    credentials: Option<SharedCredentialsProvider>,
    env: std::collections::HashMap<String, String>,
) -> SdkConfig {
    use aws_config::profile::profile_file::{ProfileFileKind, ProfileFiles};

    let env = Env::from(env);
    let mut files = ProfileFiles::builder()
        .include_default_config_file(false)
        .include_default_credentials_file(false);
    // aws-config tolerates a missing file only at the default locations: an explicit path
    // that does not exist fails the whole provider ("could not read file"), and an empty
    // file set panics. The AWS CLI treats a missing file as empty, so that is what a
    // missing file becomes here.
    for (kind, path) in [
        (ProfileFileKind::Config, ctx.config_file()),
        (ProfileFileKind::Credentials, ctx.credentials_file()),
    ] {
        files = match path.filter(|p| p.exists()) {
            Some(p) => files.with_file(kind, p),
            None => files.with_contents(kind, ""),
        };
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(super::http::client())
        .env(env)
        .profile_files(files.build())
        .profile_name(profile.unwrap_or("default"))
        .region(Region::new(region.to_string()));
    if let Some(e) = ctx.endpoint_url.as_deref().filter(|e| !e.is_empty()) {
        loader = loader.endpoint_url(e);
    }
    if let Some(c) = credentials {
        loader = loader.credentials_provider(c);
    }
    loader.load().await
}

/// The credentials an SDK config's provider gives now, or why there are none (secrets cut
/// out of the text); `profile` is named in the error.
pub(crate) async fn credentials(
    sdk_config: &SdkConfig,
    profile: Option<String>,
    redactor: &Redactor,
) -> Result<Credentials, AwsError> {
    let unavailable = |detail: String| AwsError::CredentialsUnavailable {
        profile: profile.clone(),
        detail,
    };
    let provider = sdk_config
        .credentials_provider()
        .ok_or_else(|| unavailable("no credentials provider is configured".into()))?;
    provider
        .provide_credentials()
        .await
        .map_err(|e| unavailable(redactor.clean(&error_chain(&e))))
}

async fn finish(
    ctx: &AwsContext,
    sdk_config: SdkConfig,
    region: String,
    credential_type: CredentialType,
    profile: Option<String>,
) -> Result<Session, AwsError> {
    let mut redactor = Redactor::default();
    for s in ctx.secret_values() {
        redactor.add(s);
    }
    let creds = credentials(&sdk_config, profile.clone(), &redactor).await?;
    redactor.add(creds.secret_access_key());
    if let Some(t) = creds.session_token() {
        redactor.add(t);
    }
    drop(creds);
    let endpoint_sts = ctx.endpoint_for("STS");
    let identity = caller_identity(
        &sdk_config,
        credential_type,
        profile,
        endpoint_sts.clone(),
        &redactor,
    )
    .await?;
    Ok(Session {
        sdk_config,
        identity,
        region,
        endpoint_sts,
        endpoint_iam: ctx.endpoint_for("IAM"),
        endpoint_eks: ctx.endpoint_for("EKS"),
        redactor,
        chosen_type: None,
    })
}

async fn caller_identity(
    sdk_config: &SdkConfig,
    credential_type: CredentialType,
    profile: Option<String>,
    endpoint: Option<String>,
    redactor: &Redactor,
) -> Result<Identity, AwsError> {
    let out = aws_sdk_sts::Client::new(sdk_config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| sdk_error(e, "sts:GetCallerIdentity", endpoint, redactor))?;
    let missing = |what: &str| AwsError::Api {
        operation: "sts:GetCallerIdentity",
        code: "IncompleteResponse".into(),
        message: format!("the response has no {what}"),
    };
    let arn = out.arn().ok_or_else(|| missing("Arn"))?.to_string();
    Ok(Identity {
        account: out.account().ok_or_else(|| missing("Account"))?.to_string(),
        user_id: out.user_id().ok_or_else(|| missing("UserId"))?.to_string(),
        // Lenient on purpose: an ARN shape okscript does not know (moto answers unknown
        // keys with `arn:aws:sts::A:user/moto`) is kept as it is rather than failing login.
        principal_arn: principal_arn(&arn).unwrap_or_else(|_| arn.clone()),
        arn,
        credential_type,
        profile,
    })
}

/// Turns an SDK error into an [`AwsError`]: credential rejections get their meaning,
/// connection failures become [`AwsError::Unreachable`], and every text is redacted.
pub(crate) fn sdk_error<E>(
    err: SdkError<E, HttpResponse>,
    operation: &'static str,
    endpoint: Option<String>,
    redactor: &Redactor,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let detail = || redactor.clean(&error_chain(&err));
    if let SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) = &err {
        return AwsError::Unreachable {
            operation,
            endpoint,
            detail: detail(),
        };
    }
    // The SDK parses the standard error shapes; an error body it could not parse (moto's
    // auth errors use the EC2-style `<Errors><Error>` wrapper, proxies send their own) still
    // names the code in `<Code>`, so look there before giving up.
    let body = err
        .raw_response()
        .and_then(|r| r.body().bytes())
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let code = err
        .code()
        .map(str::to_string)
        .or_else(|| xml_element(&body, "Code"))
        .unwrap_or_else(|| match err.raw_response().map(|r| r.status().as_u16()) {
            Some(status) => format!("HTTP {status}"),
            None => "unknown".to_string(),
        });
    let message = err
        .message()
        .map(str::to_string)
        .or_else(|| xml_element(&body, "Message"))
        .map(|m| redactor.clean(&m))
        .unwrap_or_else(detail);
    match rejection_meaning(&code) {
        Some(meaning) => AwsError::Rejected {
            operation,
            code,
            meaning: meaning.to_string(),
            message,
        },
        None => AwsError::Api {
            operation,
            code,
            message,
        },
    }
}

/// An error and its sources on one line, `a: b: c`, skipping a source whose text the
/// previous one already shows.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// The text of the first `<name>...</name>` in `xml`, if any.
fn xml_element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&close)?;
    let text = xml[start..start + len].trim();
    (!text.is_empty()).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::xml_element;

    #[test]
    fn xml_code() {
        let body = "<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code><Message>bad</Message></Error></Errors></ErrorResponse>";
        assert_eq!(
            xml_element(body, "Code").as_deref(),
            Some("InvalidClientTokenId")
        );
        assert_eq!(xml_element(body, "Message").as_deref(), Some("bad"));
        assert_eq!(xml_element("<html>", "Code"), None);
    }
}

#[cfg(test)]
mod default_chain_tests {
    use super::{default_source, DefaultSource};
    use crate::aws::AwsContext;

    fn ctx(vars: &[(&str, &str)]) -> AwsContext {
        let mut env: Vec<(String, String)> = vec![("HOME".into(), "/nonexistent-okscript".into())];
        env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        AwsContext::new(env)
    }

    #[test]
    fn the_chain_picks_keys_then_profile_then_web_identity_then_the_platform() {
        let keys = [
            ("AWS_ACCESS_KEY_ID", "AKIA1"),
            ("AWS_SECRET_ACCESS_KEY", "s3cr3t-value"),
        ];
        assert_eq!(
            default_source(&ctx(&keys)).unwrap(),
            DefaultSource::EnvironmentKeys
        );
        let mut with_profile = keys.to_vec();
        with_profile.push(("AWS_PROFILE", "dev"));
        // Keys win over AWS_PROFILE, as in every AWS SDK; --profile wins over keys.
        assert_eq!(
            default_source(&ctx(&with_profile)).unwrap(),
            DefaultSource::EnvironmentKeys
        );
        assert_eq!(
            default_source(&ctx(&keys).with_profile("ops")).unwrap(),
            DefaultSource::Profile("ops".into())
        );
        assert_eq!(
            default_source(&ctx(&[("AWS_PROFILE", "dev")])).unwrap(),
            DefaultSource::Profile("dev".into())
        );
        // Half a key pair is no key pair.
        assert_eq!(
            default_source(&ctx(&[
                ("AWS_ACCESS_KEY_ID", "AKIA1"),
                ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r")
            ]))
            .unwrap(),
            DefaultSource::WebIdentity
        );
        assert_eq!(default_source(&ctx(&[])).unwrap(), DefaultSource::Platform);
    }
}
