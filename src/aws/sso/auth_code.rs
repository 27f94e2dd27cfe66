//! The authorization code grant with PKCE (the AWS CLI v2's default login): a browser on
//! the SSO authorize page, and a one-shot listener on 127.0.0.1 for its redirect.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use secrecy::ExposeSecret;

use super::cache::{read_registration, registration_file_for, CachedToken, Registration};
use super::device_flow::{created_token, register, sdk_text};
use super::login::Flow;
use super::profile::Target;
use super::spinner::Spinner;
use crate::aws::context::AwsContext;
use crate::aws::error::{AwsError, Redactor};

/// The grant types of a registration for the authorization code flow.
pub(super) const AUTH_CODE_GRANTS: [&str; 2] = ["authorization_code", "refresh_token"];
/// The redirect URI registered; the port is chosen per login (RFC 8252 loopback redirects).
pub(super) const REDIRECT_REGISTERED: &str = "http://127.0.0.1/oauth/callback";
/// How long the authorization code flow waits for the browser to come back.
pub(super) const CALLBACK_WAIT: Duration = Duration::from_secs(10 * 60);

/// The OAuth authorization code grant with PKCE, as the AWS CLI v2 runs it: RegisterClient
/// with `authorization_code` and a loopback redirect URI, the browser opened on the
/// authorize URL, a one-shot callback listener on 127.0.0.1 that checks `state`, then
/// CreateToken with the code verifier. Unlike the device code grant, the code only ever
/// reaches the machine that started the login, which is what defeats device-code phishing.
pub(super) async fn authorization_code_flow<C: Future<Output = ()>>(
    flow: &Flow<'_>,
    show: &mut dyn FnMut(&str),
    cancel: C,
    mut redactor: Redactor,
) -> Result<CachedToken, AwsError> {
    let Flow {
        ctx, t, oidc, opts, ..
    } = *flow;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| flow.failed("the login callback listener on 127.0.0.1", e.to_string()))?;
    let port = listener
        .local_addr()
        .map_err(|e| flow.failed("the login callback listener on 127.0.0.1", e.to_string()))?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}/oauth/callback");
    let reg = auth_code_registration(ctx, t, oidc, &redactor)
        .await
        .map_err(|d| flow.failed("sso-oidc:RegisterClient", d))?;
    redactor.add(reg.client_secret.expose_secret());
    let verifier = random_url_safe(64);
    redactor.add(&verifier);
    let challenge = base64_url(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref(),
    );
    let state = random_url_safe(32);
    let base = flow
        .endpoint
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
    show(&format!(
        "to log in to AWS SSO ({}) for profile `{}`, approve the login in your browser; if none opens, open this URL on this machine:\n\n    {url}\n",
        flow.session_words(),
        t.profile
    ));
    flow.offer_browser(
        show,
        &url,
        "waiting for it to come back",
        "waiting for the browser to come back",
    );
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
        Callback::Denied(why) => return Err(flow.failed("the authorize step", why)),
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
        .client_secret(reg.client_secret.expose_secret())
        .grant_type("authorization_code")
        .code(&code)
        .code_verifier(&verifier)
        .redirect_uri(&redirect_uri)
        .send()
        .await
        .map_err(|e| flow.failed("sso-oidc:CreateToken", sdk_text(&e, &redactor)))?;
    created_token(t, &reg, &out).map_err(|detail| flow.failed("sso-oidc:CreateToken", detail))
}

/// What came back to the loopback listener.
pub(super) enum Callback {
    /// The authorization code, `state` matching.
    Code(String),
    /// The authorize step answered `error=...`.
    Denied(String),
    /// A `state` that is not the one this login sent: someone else's redirect, refused.
    WrongState,
}

/// Serves the loopback redirect once: other paths get 404 and the wait goes on; the
/// callback gets a short page and ends it.
pub(super) async fn wait_for_callback(listener: &tokio::net::TcpListener, state: &str) -> Callback {
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
pub(super) async fn read_head(stream: &tokio::net::TcpStream) -> Vec<u8> {
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
pub(super) async fn write_all(stream: &tokio::net::TcpStream, mut bytes: &[u8]) {
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
pub(super) async fn auth_code_registration(
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
pub(super) fn random_url_safe(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    // The system's random source failing is not something a login can work around.
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
    base64_url(&bytes)
}

pub(super) fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(super) fn percent(s: &str) -> String {
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
pub(super) fn parse_query(query: &str) -> Vec<(String, String)> {
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
