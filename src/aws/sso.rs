//! SSO profiles and the AWS CLI v2 token cache (`~/.aws/sso/cache/<sha1>.json`).
//!
//! okscript only reads the cache here, to give a clear "log in first" error before
//! aws-config would fail with a vaguer one; aws-config reads (and refreshes) it for real.

use std::path::PathBuf;
use std::time::SystemTime;

use aws_sdk_sts::primitives::{DateTime, DateTimeFormat};

use super::context::{AwsContext, ProfileFilesView};
use super::error::AwsError;
use super::sha1::sha1_hex;

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

/// The cache file the AWS CLI v2 would use for this profile.
pub(crate) fn cache_file(ctx: &AwsContext, sso: &SsoProfile) -> Result<PathBuf, AwsError> {
    let dir = ctx.sso_cache_dir().ok_or(AwsError::NoHome)?;
    Ok(dir.join(format!("{}.json", sha1_hex(sso.cache_key().as_bytes()))))
}

/// Checks that a usable token is cached for the profile: not expired, or expired but
/// refreshable (sso-session profiles with a live client registration and a refresh token).
pub(crate) fn check_cached_token(
    ctx: &AwsContext,
    profile: &str,
    sso: &SsoProfile,
    now: SystemTime,
) -> Result<(), AwsError> {
    let path = cache_file(ctx, sso)?;
    let login = |reason: String| AwsError::SsoLoginRequired {
        profile: profile.to_string(),
        reason,
        cache_file: path.clone(),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(login(format!(
                "there is no cached token ({} does not exist)",
                path.display()
            )))
        }
        Err(e) => return Err(login(format!("the cached token cannot be read: {e}"))),
    };
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| login(format!("the cached token file is not valid JSON ({e})")))?;
    let field = |k: &str| {
        json.get(k)
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
    };
    if field("accessToken").is_none() {
        return Err(login("the cached token file has no accessToken".into()));
    }
    let expires_at =
        field("expiresAt").ok_or_else(|| login("the cached token file has no expiresAt".into()))?;
    let expiry = parse_time(expires_at).ok_or_else(|| {
        login(format!(
            "the cached token's expiresAt `{expires_at}` is not a date"
        ))
    })?;
    if expiry > now {
        return Ok(());
    }
    let refreshable = sso.session_name.is_some()
        && field("refreshToken").is_some()
        && field("clientId").is_some()
        && field("clientSecret").is_some()
        && field("registrationExpiresAt")
            .and_then(parse_time)
            .is_some_and(|t| t > now);
    if refreshable {
        return Ok(());
    }
    Err(expired(profile, sso, expires_at, path))
}

fn expired(profile: &str, sso: &SsoProfile, expired_at: &str, cache_file: PathBuf) -> AwsError {
    AwsError::SsoLoginExpired {
        session: sso.cache_key().to_string(),
        expired_at: expired_at.to_string(),
        profile: profile.to_string(),
        cache_file,
    }
}

/// The error for a cached token the SSO portal refused: when the token had expired (its
/// refresh failed on the way) that is what the person is told, else it was revoked.
pub(crate) fn refused_token(ctx: &AwsContext, profile: &str, sso: &SsoProfile) -> AwsError {
    let cache_file = cache_file(ctx, sso).unwrap_or_default();
    let expires_at = std::fs::read_to_string(&cache_file)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|j| j.get("expiresAt")?.as_str().map(str::to_string));
    if let Some(at) = expires_at {
        if parse_time(&at).is_some_and(|e| e <= SystemTime::now()) {
            return expired(profile, sso, &at, cache_file);
        }
    }
    AwsError::SsoLoginRequired {
        profile: profile.to_string(),
        reason: "the SSO portal refused the cached token (it was revoked)".into(),
        cache_file,
    }
}

fn parse_time(s: &str) -> Option<SystemTime> {
    let normalised = normalise_offset(s);
    DateTime::from_str(&normalised, DateTimeFormat::DateTime)
        .ok()
        .and_then(|d| SystemTime::try_from(d).ok())
}

/// The CLI v1 wrote `+0000`/`UTC` suffixes; the parser wants `Z`.
fn normalise_offset(s: &str) -> String {
    for suffix in ["+0000", "+00:00", "UTC"] {
        if let Some(base) = s.strip_suffix(suffix) {
            return format!("{}Z", base.trim_end());
        }
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times() {
        let t = parse_time("2026-01-02T03:04:05Z").unwrap();
        let u = parse_time("2026-01-02T03:04:05+0000").unwrap();
        assert_eq!(t, u);
        assert!(parse_time("2026-01-02T03:04:05.123Z").is_some());
        assert!(parse_time("tomorrow").is_none());
        assert!(t > SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    }
}
