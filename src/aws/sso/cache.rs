//! The AWS CLI v2's SSO cache (`~/.aws/sso/cache/`): the token file of a session, read in
//! one place, and okscript's client registrations beside it, written byte for byte as the
//! CLI writes them (Python's `json.dumps`, mode 0600).

use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::profile::{SsoProfile, Target};
use super::{EXPIRY_MARGIN, SSO_CLIENT_NAME};
use crate::aws::context::AwsContext;
use crate::aws::error::AwsError;
use crate::aws::sha1::sha1_hex;

/// A cached token as the AWS CLI v2 stores it; the secrets are [`SecretString`]s, so
/// `Debug` never shows them.
#[derive(Clone, Default, Debug)]
pub(super) struct CachedToken {
    pub(super) start_url: String,
    pub(super) region: String,
    pub(super) access_token: SecretString,
    pub(super) expires_at: String,
    pub(super) client_id: Option<String>,
    pub(super) client_secret: Option<SecretString>,
    pub(super) registration_expires_at: Option<String>,
    pub(super) refresh_token: Option<SecretString>,
}

impl CachedToken {
    pub(super) fn from_json(json: &serde_json::Value) -> Option<CachedToken> {
        let field = |k: &str| {
            json.get(k)
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Some(CachedToken {
            start_url: field("startUrl").unwrap_or_default(),
            region: field("region").unwrap_or_default(),
            access_token: field("accessToken")?.into(),
            expires_at: field("expiresAt")?,
            client_id: field("clientId"),
            client_secret: field("clientSecret").map(SecretString::from),
            registration_expires_at: field("registrationExpiresAt"),
            refresh_token: field("refreshToken").map(SecretString::from),
        })
    }

    /// The file's text, field for field and byte for byte as the AWS CLI v2 writes it.
    pub(super) fn to_cli_json(&self) -> String {
        let mut m = serde_json::Map::new();
        m.insert("startUrl".into(), self.start_url.clone().into());
        m.insert("region".into(), self.region.clone().into());
        m.insert(
            "accessToken".into(),
            self.access_token.expose_secret().into(),
        );
        m.insert("expiresAt".into(), self.expires_at.clone().into());
        let secret = |s: &Option<SecretString>| s.as_ref().map(|s| s.expose_secret().to_string());
        let optional = [
            ("clientId", self.client_id.clone()),
            ("clientSecret", secret(&self.client_secret)),
            (
                "registrationExpiresAt",
                self.registration_expires_at.clone(),
            ),
            ("refreshToken", secret(&self.refresh_token)),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                m.insert(k.into(), v.into());
            }
        }
        python_json(&serde_json::Value::Object(m))
    }

    pub(super) fn registration(&self, now: SystemTime) -> Option<Registration> {
        let expires_at = self.registration_expires_at.clone()?;
        let reg = Registration {
            client_id: self.client_id.clone()?,
            client_secret: self.client_secret.clone()?,
            expires_at,
        };
        reg.valid(now).then_some(reg)
    }
}

/// A client registration (RegisterClient's answer); `Debug` never shows the secret.
#[derive(Clone, Debug)]
pub(super) struct Registration {
    pub(super) client_id: String,
    pub(super) client_secret: SecretString,
    pub(super) expires_at: String,
}

impl Registration {
    pub(super) fn valid(&self, now: SystemTime) -> bool {
        parse_time(&self.expires_at).is_some_and(|t| t > now + EXPIRY_MARGIN)
    }
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
    let json = read_cache_file(&path).map_err(|e| {
        login(match e {
            CacheRead::Missing => format!(
                "there is no cached token ({} does not exist)",
                path.display()
            ),
            CacheRead::Unreadable(e) => format!("the cached token cannot be read: {e}"),
            CacheRead::NotJson(e) => format!("the cached token file is not valid JSON ({e})"),
        })
    })?;
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

pub(super) fn expired(
    profile: &str,
    sso: &SsoProfile,
    expired_at: &str,
    cache_file: PathBuf,
) -> AwsError {
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
    let expires_at = read_cache_file(&cache_file)
        .ok()
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

/// okscript's registration cache beside the tokens, keyed like the AWS CLI v2's (SHA-1 of
/// the sorted JSON of start URL, region, scopes and session name) but with its own tool name,
/// so each tool keeps the registration whose name it shows on the approval page.
pub(super) fn registration_file(ctx: &AwsContext, t: &Target) -> Option<PathBuf> {
    registration_file_for(ctx, t, None)
}

/// [`registration_file`], with the grant types in the key when they are not the device one's.
pub(super) fn registration_file_for(
    ctx: &AwsContext,
    t: &Target,
    grants: Option<&[&str]>,
) -> Option<PathBuf> {
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

pub(super) fn read_registration(path: &Path) -> Option<Registration> {
    let json: serde_json::Value = read_cache_file(path).ok()?;
    let field = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_string);
    Some(Registration {
        client_id: field("clientId")?,
        client_secret: field("clientSecret")?.into(),
        expires_at: field("expiresAt")?,
    })
}

/// Why a token file could not be read.
pub(super) enum CacheRead {
    /// There is no such file: nobody logged in.
    Missing,
    /// The file is there but cannot be read.
    Unreadable(String),
    /// The file is not JSON.
    NotJson(String),
}

/// The token file as it is on disk, every field present or not: the one place the token
/// cache is read (the checks before a login, the login, the portal).
pub(super) fn read_cache_file(path: &Path) -> Result<serde_json::Value, CacheRead> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => CacheRead::Missing,
        _ => CacheRead::Unreadable(e.to_string()),
    })?;
    serde_json::from_str(&text).map_err(|e| CacheRead::NotJson(e.to_string()))
}

/// A usable token from the file (an access token and an expiry at least).
pub(super) fn read_token(path: &Path) -> Option<CachedToken> {
    CachedToken::from_json(&read_cache_file(path).ok()?)
}

pub(super) fn write_token(path: &Path, token: &CachedToken) -> Result<(), AwsError> {
    write_private(path, &token.to_cli_json()).map_err(|e| AwsError::SsoCacheWrite {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

/// Writes `text` to `path` with mode 0600, atomically (see [`crate::fsio::write`]).
pub(super) fn write_private(path: &Path, text: &str) -> Result<(), crate::fsio::FsError> {
    crate::fsio::write(path, text.as_bytes(), crate::fsio::NewFile::PRIVATE).map(|_| ())
}

/// JSON exactly as Python's `json.dumps` writes it by default (the AWS CLI v2's cache):
/// `", "` and `": "` separators, insertion order, non-ASCII escaped as `\uXXXX`.
pub(super) fn python_json(v: &serde_json::Value) -> String {
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

pub(super) fn python_string(s: &str) -> String {
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

pub(super) use crate::aws::time::{parse as parse_time, rfc3339 as format_time};

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
}
