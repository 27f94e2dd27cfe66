//! The EKS bearer token, made in-process like `aws eks get-token`: a presigned STS
//! `GetCallerIdentity` URL (SigV4 in the query string, header `x-k8s-aws-id` signed), sent
//! to the API server as `k8s-aws-v1.` + base64url without padding.

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use base64::Engine as _;

use super::eks::validate_cluster_name;
use super::error::AwsError;
use super::session::{assume_role, credentials, Session};
use super::time::rfc3339;

/// The prefix of every EKS token.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";

/// The header that binds a token to one cluster; it is signed, so a token for one cluster
/// is refused by every other.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";

/// The `apiVersion` of the `ExecCredential` a kubeconfig exec plugin prints.
pub const EXEC_CREDENTIAL_API_VERSION: &str = "client.authentication.k8s.io/v1beta1";

/// EKS refuses tokens longer than this many bytes.
pub const MAX_TOKEN_LEN: usize = 4096;

/// How long the presigned URL says it is valid (`X-Amz-Expires`; EKS ignores it and
/// accepts the URL for 15 minutes after `X-Amz-Date`).
pub const PRESIGN_EXPIRES: Duration = Duration::from_secs(60);

/// How long clients may use a token: 14 minutes, one less than EKS accepts it.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(14 * 60);

/// Choices for [`eks_token`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenOptions {
    /// The cluster's region (the STS region the URL is signed for); default: the session's.
    pub region: Option<String>,
    /// A role to assume first (STS AssumeRole); the token then names that role.
    pub role_arn: Option<String>,
    /// The role session name for `role_arn` (default `okscript-<caller>`).
    pub session_name: Option<String>,
}

/// An EKS bearer token and when clients should stop using it.
///
/// The token is a credential for 15 minutes (and carries the session token of temporary
/// credentials): `Debug` hides it, and only [`EksToken::token`] and
/// [`EksToken::exec_credential_json`] show it, for the exec plugin's stdout.
#[derive(Clone, PartialEq, Eq)]
pub struct EksToken {
    token: String,
    expiration: SystemTime,
    cluster: String,
    region: String,
}

impl fmt::Debug for EksToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EksToken")
            .field("cluster", &self.cluster)
            .field("region", &self.region)
            .field("expiration", &self.expiration_timestamp())
            .field("token", &"<redacted>")
            .finish()
    }
}

impl EksToken {
    /// The bearer token, `k8s-aws-v1.…`. A credential: never log it.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The cluster the token is for.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// The region the URL was signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// When clients should get a new token (signing time + 14 minutes).
    pub fn expiration(&self) -> SystemTime {
        self.expiration
    }

    /// [`EksToken::expiration`] as RFC 3339 in UTC, whole seconds: `2026-11-29T00:13:24Z`.
    pub fn expiration_timestamp(&self) -> String {
        rfc3339(self.expiration)
    }

    /// The `ExecCredential` the AWS CLI prints, with the same keys in the same order:
    /// `kind`, `apiVersion`, `spec: {}`, `status: {expirationTimestamp, token}`.
    pub fn exec_credential(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": "ExecCredential",
            "apiVersion": EXEC_CREDENTIAL_API_VERSION,
            "spec": {},
            "status": {
                "expirationTimestamp": self.expiration_timestamp(),
                "token": self.token,
            }
        })
    }

    /// [`EksToken::exec_credential`] as pretty JSON with a final newline, for stdout.
    pub fn exec_credential_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.exec_credential())
            .expect("a JSON value always serializes");
        s.push('\n');
        s
    }
}

/// Makes an EKS token for `cluster` with the session's credentials (resolved once, now),
/// or with those of `options.role_arn` after assuming it.
///
/// The URL is signed for the cluster's region (`options.region`, else the session's) and
/// points at that region's STS endpoint, `https://sts.REGION.amazonaws.com/` (with the
/// partition's DNS suffix: `amazonaws.com.cn` for `cn-*`, …), or at the STS endpoint
/// override of the session (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, `--endpoint-url`).
///
/// # Errors
/// An invalid cluster name or region, credentials that cannot be resolved, an AssumeRole
/// failure, or a token over [`MAX_TOKEN_LEN`] bytes.
pub async fn eks_token(
    session: &Session,
    cluster: &str,
    options: &TokenOptions,
) -> Result<EksToken, AwsError> {
    validate_cluster_name(cluster)?;
    let region = options
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or(session.region())
        .to_string();
    validate_region(&region)?;
    let endpoint = match session.endpoint_sts() {
        Some(e) => endpoint_base(&e)?,
        None => sts_endpoint(&region)?,
    };
    let assumed;
    let signer = match options.role_arn.as_deref().filter(|r| !r.trim().is_empty()) {
        Some(role) => {
            assumed = assume_role(session, role.trim(), options.session_name.as_deref()).await?;
            &assumed
        }
        None => session,
    };
    let creds = credentials(
        signer.sdk_config(),
        signer.profile().map(str::to_string),
        signer.redactor(),
    )
    .await?;
    let now = SystemTime::now();
    let url = presign_url(&creds, cluster, &region, &endpoint, now).map_err(|detail| {
        AwsError::TokenSigning {
            detail: signer.redactor().clean(&detail),
        }
    })?;
    drop(creds);
    let token = token_from_url(&url);
    if token.len() > MAX_TOKEN_LEN {
        return Err(AwsError::TokenSigning {
            detail: format!(
                "the token is {} bytes long, and EKS accepts at most {MAX_TOKEN_LEN}",
                token.len()
            ),
        });
    }
    Ok(EksToken {
        token,
        expiration: now + TOKEN_LIFETIME,
        cluster: cluster.to_string(),
        region,
    })
}

/// The regional STS endpoint EKS tokens must point at: `https://sts.REGION.SUFFIX/`.
///
/// ```
/// use okscript::aws::sts_endpoint;
/// assert_eq!(sts_endpoint("eu-north-1").unwrap(), "https://sts.eu-north-1.amazonaws.com/");
/// assert_eq!(sts_endpoint("cn-north-1").unwrap(), "https://sts.cn-north-1.amazonaws.com.cn/");
/// ```
///
/// # Errors
/// [`AwsError::InvalidRegion`] for anything that is not a plausible region name.
pub fn sts_endpoint(region: &str) -> Result<String, AwsError> {
    validate_region(region)?;
    Ok(format!("https://sts.{region}.{}/", dns_suffix(region)))
}

/// A region name is lowercase letters, digits and `-` (it becomes part of a host name and
/// of the signature's scope).
fn validate_region(region: &str) -> Result<(), AwsError> {
    let valid = !region.is_empty()
        && region.len() <= 50
        && region.starts_with(|c: char| c.is_ascii_lowercase())
        && !region.ends_with('-')
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return Err(AwsError::InvalidRegion {
            region: region.to_string(),
        });
    }
    Ok(())
}

/// The DNS suffix of a region's partition (the SDK's partition table, by region prefix).
fn dns_suffix(region: &str) -> &'static str {
    const SUFFIXES: [(&str, &str); 6] = [
        ("cn-", "amazonaws.com.cn"),
        ("us-isob-", "sc2s.sgov.gov"),
        ("us-isof-", "csp.hci.ic.gov"),
        ("us-iso-", "c2s.ic.gov"),
        ("eu-isoe-", "cloud.adc-e.uk"),
        ("eusc-", "amazonaws.eu"),
    ];
    SUFFIXES
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("amazonaws.com", |(_, suffix)| suffix)
}

/// An endpoint override as the base of the token URL: `scheme://host[:port][/path]/`.
fn endpoint_base(url: &str) -> Result<String, AwsError> {
    let bad = |reason: &str| AwsError::InvalidEndpoint {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = url.trim();
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| bad("it must start with https:// or http://"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(bad("it has no host"));
    }
    if trimmed.contains(['?', '#']) || trimmed.contains(char::is_whitespace) {
        return Err(bad("it may not hold a query, a fragment or spaces"));
    }
    Ok(format!("{}/", trimmed.trim_end_matches('/')))
}

/// The presigned GetCallerIdentity URL, its query parameters in the AWS CLI's order:
/// `Action`, `Version`, algorithm, credential, date, expires, signed headers, security
/// token, signature. `Err` holds a message for the user; it never contains the secret key.
pub(crate) fn presign_url(
    creds: &Credentials,
    cluster: &str,
    region: &str,
    endpoint_base: &str,
    time: SystemTime,
) -> Result<String, String> {
    const BASE_QUERY: [(&str, &str); 2] =
        [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")];
    let query = BASE_QUERY
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("{endpoint_base}?{query}");

    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(PRESIGN_EXPIRES);
    let identity = creds.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| format!("bad signing parameters: {e}"))?
        .into();
    let request = SignableRequest::new(
        "GET",
        to_sign.as_str(),
        [(CLUSTER_ID_HEADER, cluster)].into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| format!("cannot sign {endpoint_base}: {e}"))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| format!("signing failed: {e}"))?
        .into_parts();
    if instructions.headers().next().is_some() {
        return Err("the signer asked for headers a presigned URL cannot carry".into());
    }
    let mut all: Vec<(&str, &str)> = BASE_QUERY.to_vec();
    all.extend(instructions.params().iter().map(|(k, v)| (*k, v.as_ref())));
    // botocore's order, so that the URL is byte for byte the AWS CLI's
    const ORDER: [&str; 9] = [
        "Action",
        "Version",
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Security-Token",
        "X-Amz-Signature",
    ];
    all.sort_by_key(|(k, _)| (ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()), *k));
    let query = all
        .iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k), uri_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    Ok(format!("{endpoint_base}?{query}"))
}

/// `k8s-aws-v1.` + base64url of the URL, without padding.
pub(crate) fn token_from_url(url: &str) -> String {
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
    )
}

/// RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - _ . ~`.
fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::process::Command;

    const KEY: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn decode(token: &str) -> String {
        let b = token.strip_prefix(TOKEN_PREFIX).expect("prefix");
        String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(b)
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn endpoints_per_partition() {
        for (region, host) in [
            ("eu-north-1", "https://sts.eu-north-1.amazonaws.com/"),
            ("us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com/"),
            (
                "cn-northwest-1",
                "https://sts.cn-northwest-1.amazonaws.com.cn/",
            ),
            ("us-iso-east-1", "https://sts.us-iso-east-1.c2s.ic.gov/"),
            (
                "us-isob-east-1",
                "https://sts.us-isob-east-1.sc2s.sgov.gov/",
            ),
        ] {
            assert_eq!(sts_endpoint(region).unwrap(), host);
        }
        for bad in [
            "",
            "EU-NORTH-1",
            "eu-north-1.evil.com/x",
            "eu north",
            "-x",
            "x-",
        ] {
            assert!(sts_endpoint(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            endpoint_base("http://127.0.0.1:5000").unwrap(),
            "http://127.0.0.1:5000/"
        );
        assert_eq!(
            endpoint_base("https://sts.example.com/").unwrap(),
            "https://sts.example.com/"
        );
        assert!(endpoint_base("ftp://x").is_err());
        assert!(endpoint_base("http://x/?a=b").is_err());
        assert!(endpoint_base("https://").is_err());
    }

    #[test]
    fn expiration_format() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_910_004);
        assert_eq!(rfc3339(t), "2026-11-28T23:53:24Z");
    }

    /// The AWS CLI v1's token for the same credentials, region, cluster and second is
    /// byte-for-byte the same URL. Needs `aws` on PATH (skipped otherwise); no network.
    #[test]
    fn same_url_as_aws_cli() {
        let cases = [
            (None, None),
            (Some("FwoGZXIvYXdzEXAMPLE+/=token"), None),
            (None, Some("http://127.0.0.1:5999")),
        ];
        for (token, endpoint) in cases {
            let mut cmd = Command::new("aws");
            cmd.args([
                "eks",
                "get-token",
                "--cluster-name",
                "my-cluster",
                "--region",
                "eu-north-1",
            ])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", "/nonexistent")
            .env("AWS_ACCESS_KEY_ID", KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
            if let Some(t) = token {
                cmd.env("AWS_SESSION_TOKEN", t);
            }
            if let Some(e) = endpoint {
                cmd.env("AWS_ENDPOINT_URL", e);
            }
            let out = match cmd.output() {
                Ok(o) if o.status.success() => o,
                Ok(o) => panic!(
                    "aws eks get-token failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                ),
                Err(e) => {
                    eprintln!("SKIPPED: the AWS CLI is not installed ({e})");
                    return;
                }
            };
            let cred: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(cred["kind"], "ExecCredential");
            assert_eq!(cred["apiVersion"], EXEC_CREDENTIAL_API_VERSION);
            let cli_token = cred["status"]["token"].as_str().unwrap();
            let cli_url = decode(cli_token);
            // sign at the CLI's second
            let date = cli_url
                .split('&')
                .find_map(|p| p.strip_prefix("X-Amz-Date="))
                .unwrap();
            let time = parse_amz_date(date);
            let creds = Credentials::new(KEY, SECRET, token.map(str::to_string), None, "test");
            let ours = presign_url(
                &creds,
                "my-cluster",
                "eu-north-1",
                &match endpoint {
                    Some(e) => endpoint_base(e).unwrap(),
                    None => sts_endpoint("eu-north-1").unwrap(),
                },
                time,
            )
            .unwrap();
            assert_eq!(ours, cli_url, "same URL as the AWS CLI");
            assert_eq!(
                token_from_url(&ours),
                cli_token,
                "same token as the AWS CLI"
            );
            // the CLI's expiry is its signing time + 14 minutes, whole seconds, Z
            let exp = cred["status"]["expirationTimestamp"].as_str().unwrap();
            assert_eq!(exp, rfc3339(time + TOKEN_LIFETIME));
        }
    }

    fn parse_amz_date(d: &str) -> SystemTime {
        let iso = format!(
            "{}-{}-{}T{}:{}:{}Z",
            &d[0..4],
            &d[4..6],
            &d[6..8],
            &d[9..11],
            &d[11..13],
            &d[13..15]
        );
        crate::aws::time::parse(&iso).unwrap()
    }

    #[test]
    fn url_parameters() {
        let creds = Credentials::new(KEY, SECRET, None, None, "test");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_910_004);
        let url = presign_url(&creds, "c", "eu-north-1", "http://127.0.0.1:9/", t).unwrap();
        let (base, query) = url.split_once('?').unwrap();
        assert_eq!(base, "http://127.0.0.1:9/");
        let params: BTreeMap<&str, &str> = query
            .split('&')
            .map(|p| p.split_once('=').unwrap())
            .collect();
        assert_eq!(
            params["X-Amz-Credential"],
            "AKIDEXAMPLE%2F20261128%2Feu-north-1%2Fsts%2Faws4_request"
        );
        assert_eq!(params["X-Amz-SignedHeaders"], "host%3Bx-k8s-aws-id");
        assert!(!params.contains_key("X-Amz-Security-Token"));
        assert!(!url.contains(SECRET));
    }
}
