//! EKS bearer tokens, checked the way aws-iam-authenticator checks them: the shape of the
//! presigned STS URL first (prefix, size, scheme, host, path, query parameters, date), then a
//! GET of that URL against STS (in tests, moto) for the caller's ARN.
//!
//! Owns the token rules and the STS round trip. Mapping the ARN to a user is `aws_auth.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use url::Url;

use super::aws_auth::Identity;
use super::clock;
use super::sigv4;

/// The token prefix.
pub const V1_PREFIX: &str = "k8s-aws-v1.";
/// The authenticator's limit on a whole token.
pub const MAX_TOKEN_BYTES: usize = 4096;
/// How long after `X-Amz-Date` a presigned URL is accepted.
pub const PRESIGNED_URL_LIFETIME_SECS: i64 = 15 * 60;
/// The header that binds a token to a cluster.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";

const ALLOWED_PARAMS: [&str; 9] = [
    "action",
    "version",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-security-token",
    "x-amz-signature",
    "x-amz-signedheaders",
];

/// How the fake verifies EKS tokens: for which cluster, and which STS endpoints it trusts.
#[derive(Debug, Clone)]
pub struct EksAuth {
    /// The cluster name, sent as `x-k8s-aws-id` to STS and, when a secret is known, checked
    /// against the signature.
    pub cluster_name: String,
    /// Base URLs (`scheme://host[:port]`) a token's URL may point at. Real EKS only accepts
    /// `https` STS hosts; tests add the AWS emulator's `http://127.0.0.1:PORT`.
    pub sts_endpoints: Vec<String>,
    /// Secret keys by access key id. When the token's key is listed, the fake checks the
    /// SigV4 signature itself (with `x-k8s-aws-id` = `cluster_name`), as STS would; moto
    /// does not check signatures.
    pub secrets: BTreeMap<String, String>,
    /// Also send `Authorization: AWS4-HMAC-SHA256 Credential=…` built from the URL's query,
    /// so moto's server routes the call to STS and finds the caller. Real STS needs no such
    /// header and the real authenticator sends none. On by default.
    pub emulator_routing: bool,
}

impl EksAuth {
    /// Tokens for `cluster_name` whose URL points at `sts_endpoint` (e.g. moto's URL).
    pub fn new(cluster_name: &str, sts_endpoint: &str) -> Self {
        EksAuth {
            cluster_name: cluster_name.into(),
            sts_endpoints: vec![sts_endpoint.trim_end_matches('/').to_string()],
            secrets: BTreeMap::new(),
            emulator_routing: true,
        }
    }

    /// The same, also checking signatures made with this access key.
    pub fn with_secret(mut self, access_key_id: &str, secret_access_key: &str) -> Self {
        self.secrets
            .insert(access_key_id.into(), secret_access_key.into());
        self
    }
}

/// Why a token was refused. The fake answers 401 for every variant, like the apiserver; the
/// reason shows in the request log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Over 4,096 bytes.
    TooLarge,
    /// Not `k8s-aws-v1.`.
    MissingPrefix,
    /// Not base64url without padding.
    BadBase64,
    /// The decoded text is not a URL.
    BadUrl,
    /// Not `https` (nor a configured emulator endpoint's scheme).
    UnexpectedScheme(String),
    /// A host that is not an accepted STS endpoint.
    UnexpectedHost(String),
    /// A path other than `/`.
    UnexpectedPath,
    /// A query parameter outside the authenticator's allow-list.
    UnknownParameter(String),
    /// A query parameter given more than once.
    DuplicateParameter(String),
    /// A required parameter is missing.
    MissingParameter(&'static str),
    /// `Action` is not `GetCallerIdentity`.
    UnexpectedAction,
    /// `Version` is not `2011-06-15`.
    UnexpectedVersion,
    /// `x-k8s-aws-id` is not in `X-Amz-SignedHeaders`.
    ClusterHeaderNotSigned,
    /// `X-Amz-Expires` is not 0–900.
    BadExpires,
    /// `X-Amz-Date` is not `YYYYMMDDTHHMMSSZ`.
    BadDate,
    /// More than 15 minutes past `X-Amz-Date`.
    Expired,
    /// The signature does not match (wrong secret, or signed for another cluster).
    BadSignature,
    /// STS refused the URL or could not be reached.
    Sts(String),
    /// STS answered, but not with a caller identity.
    BadStsResponse(String),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::TooLarge => write!(f, "token is too large"),
            TokenError::MissingPrefix => {
                write!(f, "token is missing expected {V1_PREFIX:?} prefix")
            }
            TokenError::BadBase64 => write!(f, "token is not base64url without padding"),
            TokenError::BadUrl => write!(f, "token does not hold a URL"),
            TokenError::UnexpectedScheme(s) => {
                write!(f, "unexpected scheme {s:?} in pre-signed URL")
            }
            TokenError::UnexpectedHost(h) => {
                write!(f, "unexpected hostname {h:?} in pre-signed URL")
            }
            TokenError::UnexpectedPath => write!(f, "unexpected path in pre-signed URL"),
            TokenError::UnknownParameter(p) => write!(f, "non-whitelisted query parameter {p:?}"),
            TokenError::DuplicateParameter(p) => {
                write!(
                    f,
                    "query parameter with multiple values not supported: {p:?}"
                )
            }
            TokenError::MissingParameter(p) => {
                write!(f, "{p} parameter must be present in pre-signed URL")
            }
            TokenError::UnexpectedAction => {
                write!(f, "unexpected action parameter in pre-signed URL")
            }
            TokenError::UnexpectedVersion => {
                write!(f, "unexpected version parameter in pre-signed URL")
            }
            TokenError::ClusterHeaderNotSigned => write!(
                f,
                "client did not sign the {CLUSTER_ID_HEADER} header in the pre-signed URL"
            ),
            TokenError::BadExpires => {
                write!(f, "invalid X-Amz-Expires parameter in pre-signed URL")
            }
            TokenError::BadDate => write!(f, "error parsing X-Amz-Date parameter"),
            TokenError::Expired => {
                write!(f, "X-Amz-Date parameter is expired (15 minute expiration)")
            }
            TokenError::BadSignature => write!(
                f,
                "the request signature does not match (SignatureDoesNotMatch)"
            ),
            TokenError::Sts(e) => write!(f, "error from AWS: {e}"),
            TokenError::BadStsResponse(e) => write!(f, "unexpected STS response: {e}"),
        }
    }
}

impl std::error::Error for TokenError {}

/// A token whose shape passed: the URL to call and what it says about the caller.
#[derive(Debug, Clone)]
pub struct CheckedToken {
    /// The presigned URL.
    pub url: Url,
    /// The access key id from `X-Amz-Credential`.
    pub access_key_id: String,
    /// `X-Amz-Credential`, decoded (`AKID/DATE/REGION/sts/aws4_request`).
    pub credential: String,
}

/// Checks a token's shape as the authenticator does, at Unix time `now`, without calling STS.
pub fn check_token(token: &str, auth: &EksAuth, now: i64) -> Result<CheckedToken, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge);
    }
    let encoded = token
        .strip_prefix(V1_PREFIX)
        .ok_or(TokenError::MissingPrefix)?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| TokenError::BadBase64)?;
    let text = String::from_utf8(raw).map_err(|_| TokenError::BadUrl)?;
    let url = Url::parse(&text).map_err(|_| TokenError::BadUrl)?;
    let base = match url.port() {
        Some(port) => format!("{}://{}:{port}", url.scheme(), url.host_str().unwrap_or("")),
        None => format!("{}://{}", url.scheme(), url.host_str().unwrap_or("")),
    };
    let endpoint_ok = auth
        .sts_endpoints
        .iter()
        .any(|e| e.eq_ignore_ascii_case(&base));
    if !endpoint_ok {
        if url.scheme() != "https" {
            return Err(TokenError::UnexpectedScheme(url.scheme().into()));
        }
        return Err(TokenError::UnexpectedHost(
            url.host_str().unwrap_or("").to_string(),
        ));
    }
    if url.path() != "/" {
        return Err(TokenError::UnexpectedPath);
    }
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    for (key, value) in url.query_pairs() {
        let lower = key.to_ascii_lowercase();
        if !ALLOWED_PARAMS.contains(&lower.as_str()) {
            return Err(TokenError::UnknownParameter(key.into_owned()));
        }
        if params.insert(lower, value.into_owned()).is_some() {
            return Err(TokenError::DuplicateParameter(key.into_owned()));
        }
    }
    let get = |name: &'static str| {
        params
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
            .ok_or(TokenError::MissingParameter(name))
    };
    if get("Action")? != "GetCallerIdentity" {
        return Err(TokenError::UnexpectedAction);
    }
    if get("Version")? != "2011-06-15" {
        return Err(TokenError::UnexpectedVersion);
    }
    get("X-Amz-Algorithm")?;
    let credential = get("X-Amz-Credential")?.to_string();
    get("X-Amz-Signature")?;
    let signed = get("X-Amz-SignedHeaders")?;
    if !signed
        .split(';')
        .any(|h| h.eq_ignore_ascii_case(CLUSTER_ID_HEADER))
    {
        return Err(TokenError::ClusterHeaderNotSigned);
    }
    let expires: i64 = get("X-Amz-Expires")?
        .parse()
        .map_err(|_| TokenError::BadExpires)?;
    if !(0..=900).contains(&expires) {
        return Err(TokenError::BadExpires);
    }
    let date = clock::parse_amz_date(get("X-Amz-Date")?).ok_or(TokenError::BadDate)?;
    if now > date + PRESIGNED_URL_LIFETIME_SECS {
        return Err(TokenError::Expired);
    }
    let access_key_id = credential.split('/').next().unwrap_or("").to_string();
    if let Some(secret) = auth.secrets.get(&access_key_id) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or("")),
            None => url.host_str().unwrap_or("").to_string(),
        };
        if !sigv4::verify(secret, &pairs, &host, &auth.cluster_name) {
            return Err(TokenError::BadSignature);
        }
    }
    Ok(CheckedToken {
        url,
        access_key_id,
        credential,
    })
}

/// Calls the presigned URL like the authenticator (GET, `x-k8s-aws-id`, `Accept:
/// application/json`) and reads the caller from the JSON or XML answer. Plain `http` only:
/// the fake reaches the AWS emulator, never real STS.
pub async fn call_sts(checked: &CheckedToken, auth: &EksAuth) -> Result<Identity, TokenError> {
    let url = &checked.url;
    if url.scheme() != "http" {
        return Err(TokenError::Sts(format!(
            "the fake only reaches plain-http STS emulators, not {}",
            url.scheme()
        )));
    }
    let host = url.host_str().unwrap_or("127.0.0.1").to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let sts = |e: &dyn fmt::Display| TokenError::Sts(e.to_string());
    let fetch = async {
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| sts(&e))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| sts(&e))?;
        tokio::spawn(conn);
        let host_header = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let path_and_query = format!("{}?{}", url.path(), url.query().unwrap_or(""));
        let mut request = hyper::Request::get(path_and_query)
            .header("host", host_header)
            .header(CLUSTER_ID_HEADER, &auth.cluster_name)
            .header("accept", "application/json");
        if auth.emulator_routing {
            let signed = url
                .query_pairs()
                .find(|(k, _)| k.eq_ignore_ascii_case("X-Amz-SignedHeaders"))
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            request = request.header(
                "authorization",
                format!(
                    "{} Credential={}, SignedHeaders={signed}, Signature=presigned",
                    sigv4::ALGORITHM,
                    checked.credential
                ),
            );
        }
        let request = request.body(Empty::<Bytes>::new()).map_err(|e| sts(&e))?;
        let response = sender.send_request(request).await.map_err(|e| sts(&e))?;
        let code = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| sts(&e))?
            .to_bytes();
        Ok::<_, TokenError>((code, String::from_utf8_lossy(&body).into_owned()))
    };
    let (code, body) = tokio::time::timeout(Duration::from_secs(10), fetch)
        .await
        .map_err(|_| TokenError::Sts("timed out".into()))??;
    if code != 200 {
        return Err(TokenError::Sts(format!(
            "expected 200, got {code}. Body: {body}"
        )));
    }
    let (arn, account, user_id) = parse_caller_identity(&body)?;
    Identity::from_sts(&arn, &account, &user_id, &checked.access_key_id)
        .map_err(TokenError::BadStsResponse)
}

/// `(Arn, Account, UserId)` from a GetCallerIdentity answer in JSON or XML.
pub fn parse_caller_identity(body: &str) -> Result<(String, String, String), TokenError> {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(body) {
        let result = &json["GetCallerIdentityResponse"]["GetCallerIdentityResult"];
        let field = |name: &str| result[name].as_str().map(str::to_string);
        if let (Some(arn), Some(account)) = (field("Arn"), field("Account")) {
            return Ok((arn, account, field("UserId").unwrap_or_default()));
        }
        return Err(TokenError::BadStsResponse(body.chars().take(200).collect()));
    }
    let tag = |name: &str| -> Option<String> {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find(&format!("</{name}>"))? + start;
        Some(xml_unescape(body[start..end].trim()))
    };
    match (tag("Arn"), tag("Account")) {
        (Some(arn), Some(account)) => Ok((arn, account, tag("UserId").unwrap_or_default())),
        _ => Err(TokenError::BadStsResponse(body.chars().take(200).collect())),
    }
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// An EKS token for a presigned URL: `k8s-aws-v1.` + base64url without padding.
pub fn token_for_url(url: &str) -> String {
    format!(
        "{V1_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000;
    const STS: &str = "http://127.0.0.1:5000";

    fn auth() -> EksAuth {
        EksAuth::new("my-cluster", STS)
    }

    fn good_url() -> String {
        let creds = sigv4::Credentials {
            access_key_id: "ASIAEXAMPLEEXAMPLE01".into(),
            secret_access_key: "secret".into(),
            session_token: Some("session".into()),
        };
        sigv4::presign_get_caller_identity(STS, "us-east-1", "my-cluster", &creds, NOW)
    }

    fn with_query(edit: impl Fn(&mut Vec<(String, String)>)) -> String {
        let url = Url::parse(&good_url()).unwrap();
        let mut pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        edit(&mut pairs);
        let mut out = url.clone();
        out.query_pairs_mut().clear().extend_pairs(pairs);
        token_for_url(out.as_str())
    }

    fn check(token: &str) -> Result<CheckedToken, TokenError> {
        check_token(token, &auth(), NOW + 60)
    }

    #[test]
    fn a_good_token_passes() {
        let checked = check(&token_for_url(&good_url())).unwrap();
        assert_eq!(checked.access_key_id, "ASIAEXAMPLEEXAMPLE01");
        // ... also with the signature checked, and not for another cluster.
        let signed = auth().with_secret("ASIAEXAMPLEEXAMPLE01", "secret");
        assert!(check_token(&token_for_url(&good_url()), &signed, NOW).is_ok());
        let mut other = signed.clone();
        other.cluster_name = "other-cluster".into();
        assert_eq!(
            check_token(&token_for_url(&good_url()), &other, NOW).unwrap_err(),
            TokenError::BadSignature
        );
        let wrong = auth().with_secret("ASIAEXAMPLEEXAMPLE01", "not-the-secret");
        assert_eq!(
            check_token(&token_for_url(&good_url()), &wrong, NOW).unwrap_err(),
            TokenError::BadSignature
        );
    }

    #[test]
    fn encoding_and_size() {
        let good = token_for_url(&good_url());
        assert_eq!(
            check(&good.replace(V1_PREFIX, "k8s-aws-v2.")).unwrap_err(),
            TokenError::MissingPrefix
        );
        assert_eq!(
            check(&format!("{good}=")).unwrap_err(),
            TokenError::BadBase64
        );
        let padded = format!(
            "{V1_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE.encode(good_url() + "x")
        );
        assert_eq!(check(&padded).unwrap_err(), TokenError::BadBase64);
        let std_alphabet = format!(
            "{V1_PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(good_url())
        );
        assert!(matches!(
            check(&std_alphabet),
            Err(TokenError::BadBase64) | Ok(_)
        ));
        let big = with_query(|q| q.push(("X-Amz-Security-Token".into(), "x".repeat(4000))));
        assert_eq!(check(&big).unwrap_err(), TokenError::TooLarge);
    }

    #[test]
    fn url_must_be_an_accepted_sts_endpoint() {
        let url = good_url();
        let https = token_for_url(&url.replace("http://127.0.0.1:5000", "https://127.0.0.1:5000"));
        assert_eq!(
            check(&https).unwrap_err(),
            TokenError::UnexpectedHost("127.0.0.1".into())
        );
        let other_port = token_for_url(&url.replace(":5000", ":5001"));
        assert_eq!(
            check(&other_port).unwrap_err(),
            TokenError::UnexpectedScheme("http".into())
        );
        let evil = token_for_url(&url.replace("http://127.0.0.1:5000", "https://sts.evil.example"));
        assert_eq!(
            check(&evil).unwrap_err(),
            TokenError::UnexpectedHost("sts.evil.example".into())
        );
        let path = token_for_url(&url.replace(":5000/?", ":5000/x?"));
        assert_eq!(check(&path).unwrap_err(), TokenError::UnexpectedPath);
    }

    #[test]
    fn each_bad_query_is_refused() {
        type Edit = Box<dyn Fn(&mut Vec<(String, String)>)>;
        let cases: Vec<(Edit, TokenError)> = vec![
            (
                Box::new(|q| q.push(("Foo".into(), "1".into()))),
                TokenError::UnknownParameter("Foo".into()),
            ),
            (
                Box::new(|q| q.push(("action".into(), "GetCallerIdentity".into()))),
                TokenError::DuplicateParameter("action".into()),
            ),
            (
                Box::new(|q| q[0].1 = "AssumeRole".into()),
                TokenError::UnexpectedAction,
            ),
            (
                Box::new(|q| q[1].1 = "2010-01-01".into()),
                TokenError::UnexpectedVersion,
            ),
            (
                Box::new(|q| q.retain(|(k, _)| k != "X-Amz-Algorithm")),
                TokenError::MissingParameter("X-Amz-Algorithm"),
            ),
            (
                Box::new(|q| q.retain(|(k, _)| k != "X-Amz-Credential")),
                TokenError::MissingParameter("X-Amz-Credential"),
            ),
            (
                Box::new(|q| q.retain(|(k, _)| k != "X-Amz-Signature")),
                TokenError::MissingParameter("X-Amz-Signature"),
            ),
            (
                Box::new(|q| q.retain(|(k, _)| k != "X-Amz-Date")),
                TokenError::MissingParameter("X-Amz-Date"),
            ),
            (
                Box::new(|q| q.retain(|(k, _)| k != "X-Amz-Expires")),
                TokenError::MissingParameter("X-Amz-Expires"),
            ),
            (
                Box::new(|q| set(q, "X-Amz-SignedHeaders", "host")),
                TokenError::ClusterHeaderNotSigned,
            ),
            (
                Box::new(|q| set(q, "X-Amz-Expires", "901")),
                TokenError::BadExpires,
            ),
            (
                Box::new(|q| set(q, "X-Amz-Expires", "soon")),
                TokenError::BadExpires,
            ),
            (
                Box::new(|q| set(q, "X-Amz-Date", "2026-01-01T00:00:00Z")),
                TokenError::BadDate,
            ),
        ];
        for (i, (edit, want)) in cases.into_iter().enumerate() {
            assert_eq!(check(&with_query(edit)).unwrap_err(), want, "case {i}");
        }
    }

    fn set(q: &mut [(String, String)], key: &str, value: &str) {
        q.iter_mut().find(|(k, _)| k == key).unwrap().1 = value.into();
    }

    #[test]
    fn fifteen_minutes_after_the_date_it_expires() {
        let token = token_for_url(&good_url());
        assert!(check_token(&token, &auth(), NOW + PRESIGNED_URL_LIFETIME_SECS).is_ok());
        assert_eq!(
            check_token(&token, &auth(), NOW + PRESIGNED_URL_LIFETIME_SECS + 1).unwrap_err(),
            TokenError::Expired
        );
    }

    #[test]
    fn caller_identity_in_json_and_xml() {
        let json = r#"{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Account":"123456789012","Arn":"arn:aws:sts::123456789012:assumed-role/admin/alice","UserId":"AROA:alice"}}}"#;
        let xml = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><UserId>AROA:alice</UserId><Account>123456789012</Account><Arn>arn:aws:sts::123456789012:assumed-role/admin/alice</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>"#;
        let want = (
            "arn:aws:sts::123456789012:assumed-role/admin/alice".to_string(),
            "123456789012".to_string(),
            "AROA:alice".to_string(),
        );
        assert_eq!(parse_caller_identity(json).unwrap(), want);
        assert_eq!(parse_caller_identity(xml).unwrap(), want);
        assert!(parse_caller_identity("<Error/>").is_err());
    }
}
