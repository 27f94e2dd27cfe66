//! Which SSO session a profile logs in to: its settings in `~/.aws/config` (an
//! `[sso-session]` or the legacy keys), and what a login needs besides.

use std::path::PathBuf;

use super::cache::cache_file;
use super::SSO_DEFAULT_SCOPE;
use crate::aws::context::{AwsContext, ProfileFilesView};
use crate::aws::error::AwsError;

/// The SSO settings of a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SsoProfile {
    /// `sso_session` (new style), or `None` for a legacy profile.
    pub session_name: Option<String>,
    /// The portal start URL.
    pub start_url: String,
    /// The Identity Center region.
    pub region: String,
}

impl SsoProfile {
    /// What the cache file name is the SHA-1 of: the session name, or the start URL for legacy profiles.
    pub fn cache_key(&self) -> &str {
        self.session_name.as_deref().unwrap_or(&self.start_url)
    }
}

/// The SSO settings of profile `name`, `Ok(None)` when it is not an SSO profile.
pub(crate) fn sso_profile(
    view: &ProfileFilesView,
    name: &str,
) -> Result<Option<SsoProfile>, AwsError> {
    let Some(p) = view.config(name) else {
        return Ok(None);
    };
    let invalid = |reason: String| AwsError::InvalidProfile {
        profile: name.to_string(),
        reason,
    };
    let profile = if let Some(session) = p.get("sso_session") {
        let s = view.sso_sessions.get(session).ok_or_else(|| {
            invalid(format!(
                "it names sso_session `{session}`, but there is no [sso-session {session}] section"
            ))
        })?;
        let start_url = s
            .get("sso_start_url")
            .ok_or_else(|| invalid(format!("[sso-session {session}] has no sso_start_url")))?;
        let region = s
            .get("sso_region")
            .ok_or_else(|| invalid(format!("[sso-session {session}] has no sso_region")))?;
        SsoProfile {
            session_name: Some(session.clone()),
            start_url: start_url.clone(),
            region: region.clone(),
        }
    } else if let Some(start_url) = p.get("sso_start_url") {
        let region = p
            .get("sso_region")
            .ok_or_else(|| invalid("it has sso_start_url but no sso_region".into()))?;
        SsoProfile {
            session_name: None,
            start_url: start_url.clone(),
            region: region.clone(),
        }
    } else {
        return Ok(None);
    };
    for key in ["sso_account_id", "sso_role_name"] {
        if !p.contains_key(key) {
            return Err(invalid(format!("it is an SSO profile without {key}")));
        }
    }
    Ok(Some(profile))
}

/// The SSO settings of `profile` and what the login needs besides.
pub(super) struct Target {
    pub(super) profile: String,
    pub(super) sso: SsoProfile,
    pub(super) scopes: Vec<String>,
    pub(super) cache_file: PathBuf,
}

pub(super) fn target(ctx: &AwsContext, profile: &str) -> Result<Target, AwsError> {
    let view = ProfileFilesView::load(ctx)?;
    if !view.has_profile(profile) {
        return Err(view.not_found(profile));
    }
    let sso = sso_profile(&view, profile)?.ok_or_else(|| AwsError::NotAnSsoProfile {
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
    let cache_file = cache_file(ctx, &sso)?;
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

pub(super) fn session_target(ctx: &AwsContext, spec: &SsoSessionSpec) -> Result<Target, AwsError> {
    let sso = SsoProfile {
        session_name: Some(spec.session.clone()),
        start_url: spec.start_url.clone(),
        region: spec.region.clone(),
    };
    let cache_file = cache_file(ctx, &sso)?;
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
