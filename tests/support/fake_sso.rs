//! Stand-ins for IAM Identity Center, which moto does not have: an SSO OIDC server
//! (RegisterClient, StartDeviceAuthorization, CreateToken) and an SSO portal
//! (GetRoleCredentials, ListAccounts, ListAccountRoles), each a small HTTP/1.1 server on
//! loopback speaking the REST-JSON protocol the way aws-sdk-ssooidc and aws-sdk-sso call it:
//!
//! * OIDC: `POST /client/register`, `POST /device_authorization`, `POST /token` with JSON
//!   bodies; errors are HTTP 400 with `x-amzn-errortype: AuthorizationPendingException` (and
//!   `SlowDownException`, `ExpiredTokenException`, `AccessDeniedException`,
//!   `InvalidGrantException`) and an RFC 8628 body `{"error": "authorization_pending", ...}`.
//! * Portal: `GET /federation/credentials?role_name=&account_id=`,
//!   `GET /assignment/accounts?next_token=&max_result=`,
//!   `GET /assignment/roles?account_id=&next_token=&max_result=`, each with the token in
//!   `x-amz-sso_bearer_token`; an unknown token gets 401 `UnauthorizedException`.
//!
//! CreateToken answers follow a script ([`Step`]s, then success), and every request is
//! recorded with the time it arrived, so tests can check the polling.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The client secret the fake OIDC hands out (tests scan output for it).
pub const CLIENT_SECRET: &str = "FAKE-CLIENT-SECRET-7f3a9c1e5b2d4f60a8e1";
/// The user code of every device authorization.
pub const USER_CODE: &str = "QWER-TYUI";
/// The device code of every device authorization (a secret of the flow).
pub const DEVICE_CODE: &str = "FAKE-DEVICE-CODE-0b1c2d3e4f5a6b7c8d9e";
/// The verification URL without the code.
pub const VERIFICATION_URI: &str = "https://device.sso.eu-west-1.amazonaws.com/";

/// One scripted answer of CreateToken (device-code grant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `authorization_pending`: the person has not approved yet.
    Pending,
    /// `slow_down`: poll less often.
    SlowDown,
    /// `expired_token`: the device code expired.
    Expired,
    /// `access_denied`: the person declined.
    Denied,
    /// A token.
    Success,
}

/// One request either server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    /// When it arrived.
    pub at: Instant,
    /// `POST`, `GET`.
    pub method: String,
    /// The path without the query.
    pub path: String,
    /// The query parameters.
    pub query: BTreeMap<String, String>,
    /// `x-amz-sso_bearer_token`, if sent.
    pub bearer: Option<String>,
    /// The JSON body (`null` when none).
    pub body: serde_json::Value,
}

#[derive(Default)]
struct Inner {
    steps: VecDeque<Step>,
    interval: i64,
    device_expires_in: i64,
    token_expires_in: i64,
    refresh_ok: bool,
    issued: u32,
    valid_tokens: Vec<String>,
    accounts: Vec<(String, String, String)>,
    roles: BTreeMap<String, Vec<String>>,
    role_credentials: Option<(String, String, String)>,
    page_size: usize,
    seen: Vec<Seen>,
    /// The `code_challenge` and `redirect_uri` of the last authorize request.
    authorize: Option<(String, String)>,
    /// Send a `state` other than the one received (a forged redirect).
    forge_state: bool,
}

/// The authorization code the fake's authorize page hands out.
pub const AUTH_CODE: &str = "FAKE-AUTH-CODE-5e6f7a8b9c0d";

/// The two fake services and their shared state.
#[derive(Clone)]
pub struct FakeSso {
    /// `http://127.0.0.1:PORT` of SSO OIDC (for `AWS_ENDPOINT_URL_SSO_OIDC`).
    pub oidc_endpoint: String,
    /// `http://127.0.0.1:PORT` of the portal (for `AWS_ENDPOINT_URL_SSO`).
    pub portal_endpoint: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeSso {
    /// Both servers: interval 1 s, device codes valid 600 s, tokens 8 h, refresh allowed,
    /// CreateToken succeeding at once unless [`FakeSso::steps`] says otherwise.
    pub fn start() -> FakeSso {
        let inner = Arc::new(Mutex::new(Inner {
            interval: 1,
            device_expires_in: 600,
            token_expires_in: 8 * 3600,
            refresh_ok: true,
            page_size: 1,
            ..Inner::default()
        }));
        let oidc_endpoint = serve(inner.clone(), handle_oidc);
        let portal_endpoint = serve(inner.clone(), handle_portal);
        FakeSso {
            oidc_endpoint,
            portal_endpoint,
            inner,
        }
    }

    /// Makes the authorize page redirect with a `state` that is not the one it was given.
    pub fn forge_state(&self) -> &Self {
        self.inner.lock().unwrap().forge_state = true;
        self
    }

    /// The CreateToken answers before the final success.
    pub fn steps(&self, steps: &[Step]) -> &Self {
        self.inner.lock().unwrap().steps = steps.iter().copied().collect();
        self
    }

    /// The polling interval StartDeviceAuthorization announces.
    pub fn interval(&self, secs: i64) -> &Self {
        self.inner.lock().unwrap().interval = secs;
        self
    }

    /// How long device codes live (`expiresIn`).
    pub fn device_expires_in(&self, secs: i64) -> &Self {
        self.inner.lock().unwrap().device_expires_in = secs;
        self
    }

    /// Whether the refresh-token grant succeeds (else `invalid_grant`).
    pub fn refresh_ok(&self, ok: bool) -> &Self {
        self.inner.lock().unwrap().refresh_ok = ok;
        self
    }

    /// Makes the portal accept an access token it did not issue (one `aws sso login` got).
    pub fn accept_token(&self, token: &str) -> &Self {
        self.inner
            .lock()
            .unwrap()
            .valid_tokens
            .push(token.to_string());
        self
    }

    /// What GetRoleCredentials hands out (keys moto issued).
    pub fn role_credentials(&self, key: &str, secret: &str, token: &str) -> &Self {
        self.inner.lock().unwrap().role_credentials =
            Some((key.to_string(), secret.to_string(), token.to_string()));
        self
    }

    /// An account ListAccounts lists, with its roles for ListAccountRoles.
    pub fn account(&self, id: &str, name: &str, email: &str, roles: &[&str]) -> &Self {
        let mut i = self.inner.lock().unwrap();
        i.accounts
            .push((id.to_string(), name.to_string(), email.to_string()));
        i.roles.insert(
            id.to_string(),
            roles.iter().map(|r| r.to_string()).collect(),
        );
        self
    }

    /// Every request so far, both servers, in order.
    pub fn requests(&self) -> Vec<Seen> {
        self.inner.lock().unwrap().seen.clone()
    }

    /// The requests to one path.
    pub fn requests_to(&self, path: &str) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Every access token this fake issued, in order.
    pub fn issued_tokens(&self) -> Vec<String> {
        let i = self.inner.lock().unwrap();
        (1..=i.issued).map(access_token).collect()
    }
}

fn access_token(n: u32) -> String {
    format!("fake-access-token-{n:04}-a1b2c3d4e5f6")
}

fn refresh_token(n: u32) -> String {
    format!("fake-refresh-token-{n:04}-f6e5d4c3b2a1")
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

type Handler = fn(&Mutex<Inner>, &Seen) -> (u16, Option<&'static str>, serde_json::Value);

fn serve(inner: Arc<Mutex<Inner>>, handler: Handler) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        // Serves until the test process ends; every FakeSso has its own listeners.
        for stream in listener.incoming().flatten() {
            let inner = inner.clone();
            std::thread::spawn(move || {
                let _ = answer(stream, &inner, handler);
            });
        }
    });
    endpoint
}

/// Reads one request, records it, answers it and closes the connection.
fn answer(stream: TcpStream, inner: &Mutex<Inner>, handler: Handler) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let (mut length, mut bearer) = (0usize, None);
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                length = v.parse().unwrap_or(0);
            } else if k.eq_ignore_ascii_case("x-amz-sso_bearer_token") {
                bearer = Some(v.to_string());
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let seen = Seen {
        at: Instant::now(),
        method,
        path: path.to_string(),
        query: crate::support::query_params(&format!("?{query}"))
            .into_iter()
            .collect(),
        bearer,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    };
    inner.lock().unwrap().seen.push(seen.clone());
    let (status, error_type, json) = handler(inner, &seen);
    if status == 302 {
        // The authorize page: send the browser back to the loopback redirect.
        let location = json["location"].as_str().unwrap_or_default();
        let mut s = stream;
        write!(
            s,
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        return s.flush();
    }
    let text = json.to_string();
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        _ => "Not Found",
    };
    let error_header = error_type
        .map(|t| format!("x-amzn-errortype: {t}\r\n"))
        .unwrap_or_default();
    let mut s = stream;
    write!(
        s,
        "HTTP/1.1 {status} {reason}\r\n{error_header}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )?;
    s.flush()
}

fn oidc_error(kind: &'static str, error: &str) -> (u16, Option<&'static str>, serde_json::Value) {
    (
        400,
        Some(kind),
        serde_json::json!({"error": error, "error_description": format!("fake: {error}")}),
    )
}

fn handle_oidc(inner: &Mutex<Inner>, req: &Seen) -> (u16, Option<&'static str>, serde_json::Value) {
    let mut i = inner.lock().unwrap();
    let field = |k: &str| req.body.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/client/register") => (
            200,
            None,
            serde_json::json!({
                "clientId": "fake-client-id-okscript",
                "clientSecret": CLIENT_SECRET,
                "clientIdIssuedAt": now_secs(),
                "clientSecretExpiresAt": now_secs() + 90 * 24 * 3600,
            }),
        ),
        ("GET", "/authorize") => {
            let q = |k: &str| req.query.get(k).cloned().unwrap_or_default();
            let ok = q("response_type") == "code"
                && q("client_id") == "fake-client-id-okscript"
                && q("code_challenge_method") == "S256"
                && !q("code_challenge").is_empty()
                && q("redirect_uri").starts_with("http://127.0.0.1:")
                && !q("state").is_empty();
            if !ok {
                return (400, None, serde_json::json!({"error": "invalid_request"}));
            }
            i.authorize = Some((q("code_challenge"), q("redirect_uri")));
            let state = if i.forge_state {
                "forged-state".to_string()
            } else {
                q("state")
            };
            let location = format!(
                "{}?code={AUTH_CODE}&state={}",
                q("redirect_uri"),
                crate::support::fake_sso::url_encode(&state)
            );
            (302, None, serde_json::json!({ "location": location }))
        }
        ("POST", "/device_authorization") => {
            if field("clientSecret") != CLIENT_SECRET {
                return oidc_error("InvalidClientException", "invalid_client");
            }
            (
                200,
                None,
                serde_json::json!({
                    "deviceCode": DEVICE_CODE,
                    "userCode": USER_CODE,
                    "verificationUri": VERIFICATION_URI,
                    "verificationUriComplete": format!("{VERIFICATION_URI}?user_code={USER_CODE}"),
                    "expiresIn": i.device_expires_in,
                    "interval": i.interval,
                }),
            )
        }
        ("POST", "/token") => {
            if field("clientSecret") != CLIENT_SECRET {
                return oidc_error("InvalidClientException", "invalid_client");
            }
            let step = match field("grantType") {
                "refresh_token" => {
                    let known = (1..=i.issued)
                        .map(refresh_token)
                        .any(|t| t == field("refreshToken"));
                    if !(i.refresh_ok && known) {
                        return oidc_error("InvalidGrantException", "invalid_grant");
                    }
                    Step::Success
                }
                "authorization_code" => {
                    let Some((challenge, redirect)) = i.authorize.clone() else {
                        return oidc_error("InvalidGrantException", "invalid_grant");
                    };
                    let digest = aws_lc_rs::digest::digest(
                        &aws_lc_rs::digest::SHA256,
                        field("codeVerifier").as_bytes(),
                    );
                    use base64::Engine;
                    let computed =
                        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
                    if field("code") != AUTH_CODE
                        || computed != challenge
                        || field("redirectUri") != redirect
                    {
                        return oidc_error("InvalidGrantException", "invalid_grant");
                    }
                    Step::Success
                }
                "urn:ietf:params:oauth:grant-type:device_code" => {
                    if field("deviceCode") != DEVICE_CODE {
                        return oidc_error("InvalidGrantException", "invalid_grant");
                    }
                    i.steps.pop_front().unwrap_or(Step::Success)
                }
                _ => return oidc_error("UnsupportedGrantTypeException", "unsupported_grant_type"),
            };
            match step {
                Step::Pending => {
                    oidc_error("AuthorizationPendingException", "authorization_pending")
                }
                Step::SlowDown => oidc_error("SlowDownException", "slow_down"),
                Step::Expired => oidc_error("ExpiredTokenException", "expired_token"),
                Step::Denied => oidc_error("AccessDeniedException", "access_denied"),
                Step::Success => {
                    i.issued += 1;
                    let n = i.issued;
                    i.valid_tokens.push(access_token(n));
                    (
                        200,
                        None,
                        serde_json::json!({
                            "accessToken": access_token(n),
                            "tokenType": "Bearer",
                            "expiresIn": i.token_expires_in,
                            "refreshToken": refresh_token(n),
                        }),
                    )
                }
            }
        }
        _ => (
            404,
            None,
            serde_json::json!({"message": "no such operation"}),
        ),
    }
}

fn handle_portal(
    inner: &Mutex<Inner>,
    req: &Seen,
) -> (u16, Option<&'static str>, serde_json::Value) {
    let i = inner.lock().unwrap();
    let authorised = req
        .bearer
        .as_ref()
        .is_some_and(|b| i.valid_tokens.contains(b));
    if !authorised {
        return (
            401,
            Some("UnauthorizedException"),
            serde_json::json!({"message": "Session token not found or invalid"}),
        );
    }
    let q = |k: &str| req.query.get(k).cloned().unwrap_or_default();
    let page = |total: usize| -> (usize, usize, Option<String>) {
        let start: usize = q("next_token").parse().unwrap_or(0);
        let end = (start + i.page_size).min(total);
        let next = (end < total).then(|| end.to_string());
        (start, end, next)
    };
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/federation/credentials") => match &i.role_credentials {
            Some((key, secret, token)) => (
                200,
                None,
                serde_json::json!({"roleCredentials": {
                    "accessKeyId": key, "secretAccessKey": secret, "sessionToken": token,
                    "expiration": (now_secs() + 3600) * 1000,
                }}),
            ),
            None => (
                404,
                Some("ResourceNotFoundException"),
                serde_json::json!({"message": "No access"}),
            ),
        },
        ("GET", "/assignment/accounts") => {
            let (start, end, next) = page(i.accounts.len());
            let list: Vec<_> = i.accounts[start..end]
                .iter()
                .map(|(id, name, email)| {
                    serde_json::json!({"accountId": id, "accountName": name, "emailAddress": email})
                })
                .collect();
            (
                200,
                None,
                serde_json::json!({"accountList": list, "nextToken": next}),
            )
        }
        ("GET", "/assignment/roles") => {
            let account = q("account_id");
            let roles = i.roles.get(&account).cloned().unwrap_or_default();
            let (start, end, next) = page(roles.len());
            let list: Vec<_> = roles[start..end]
                .iter()
                .map(|r| serde_json::json!({"roleName": r, "accountId": account}))
                .collect();
            (
                200,
                None,
                serde_json::json!({"roleList": list, "nextToken": next}),
            )
        }
        _ => (
            404,
            None,
            serde_json::json!({"message": "no such operation"}),
        ),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
