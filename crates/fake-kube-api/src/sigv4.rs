//! AWS Signature Version 4 for query-string (presigned) requests: enough to presign an STS
//! `GetCallerIdentity` URL the way `aws eks get-token` does, and to check such a signature
//! when the secret key is known. Hashing and HMAC come from aws-lc-rs; no I/O.

use aws_lc_rs::{digest, hmac};

use super::clock;

/// The algorithm name in `X-Amz-Algorithm`.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The payload hash presigned URLs for S3 use; other services hash the empty body.
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Credentials to sign with.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// `AKIA…`/`ASIA…`.
    pub access_key_id: String,
    /// The secret key.
    pub secret_access_key: String,
    /// The session token of temporary credentials.
    pub session_token: Option<String>,
}

/// RFC 3986 percent-encoding of everything but unreserved characters, as SigV4 wants.
pub fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

fn hmac_sha256(key: &[u8], data: &str) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&key, data.as_bytes()).as_ref().to_vec()
}

/// The canonical query string: pairs sorted by encoded key (then value), `X-Amz-Signature`
/// left out.
fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "X-Amz-Signature")
        .map(|(k, v)| (uri_encode(k), uri_encode(v)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The signature of a presigned GET of `/` with the given query pairs and signed headers
/// (`name`, `value`, names lower-case and sorted), using `payload_hash`.
fn signature(
    secret: &str,
    pairs: &[(String, String)],
    headers: &[(&str, &str)],
    payload_hash: &str,
) -> Option<String> {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let amz_date = get("X-Amz-Date")?;
    let credential = get("X-Amz-Credential")?;
    let (_key, scope) = credential.split_once('/')?;
    let mut scope_fields = scope.split('/');
    let (date, region, service) = (
        scope_fields.next()?,
        scope_fields.next()?,
        scope_fields.next()?,
    );
    let canonical_headers: String = headers
        .iter()
        .map(|(n, v)| format!("{n}:{}\n", v.trim()))
        .collect();
    let signed: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    let canonical_request = format!(
        "GET\n/\n{}\n{canonical_headers}\n{}\n{payload_hash}",
        canonical_query(pairs),
        signed.join(";")
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date);
    let k_region = hmac_sha256(&k_date, region);
    let k_service = hmac_sha256(&k_region, service);
    let k_signing = hmac_sha256(&k_service, "aws4_request");
    Some(hex(&hmac_sha256(&k_signing, &string_to_sign)))
}

/// Presigns `GET {endpoint}/?Action=GetCallerIdentity&Version=2011-06-15` with the signed
/// header `x-k8s-aws-id: cluster`, valid for 60 s from `now` (Unix seconds): the URL an EKS
/// token wraps. `endpoint` is a base URL such as `https://sts.eu-west-1.amazonaws.com` or
/// `http://127.0.0.1:5000`.
pub fn presign_get_caller_identity(
    endpoint: &str,
    region: &str,
    cluster: &str,
    creds: &Credentials,
    now: i64,
) -> String {
    let endpoint = endpoint.trim_end_matches('/');
    let host = endpoint
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(endpoint);
    let amz_date = clock::amz_date(now);
    let scope = format!("{}/{region}/sts/aws4_request", &amz_date[..8]);
    let mut pairs: Vec<(String, String)> = vec![
        ("Action".into(), "GetCallerIdentity".into()),
        ("Version".into(), "2011-06-15".into()),
        ("X-Amz-Algorithm".into(), ALGORITHM.into()),
        (
            "X-Amz-Credential".into(),
            format!("{}/{scope}", creds.access_key_id),
        ),
        ("X-Amz-Date".into(), amz_date),
        ("X-Amz-Expires".into(), "60".into()),
        ("X-Amz-SignedHeaders".into(), "host;x-k8s-aws-id".into()),
    ];
    if let Some(token) = &creds.session_token {
        pairs.push(("X-Amz-Security-Token".into(), token.clone()));
    }
    let sig = signature(
        &creds.secret_access_key,
        &pairs,
        &[("host", host), ("x-k8s-aws-id", cluster)],
        &sha256_hex(b""),
    )
    .expect("all signing parameters are present");
    pairs.push(("X-Amz-Signature".into(), sig));
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k), uri_encode(v)))
        .collect();
    format!("{endpoint}/?{}", query.join("&"))
}

/// Whether the presigned query `pairs` carry a valid signature for a GET of `/` on `host`
/// with `x-k8s-aws-id: cluster`, given the secret key. Accepts both payload-hash conventions.
pub fn verify(secret: &str, pairs: &[(String, String)], host: &str, cluster: &str) -> bool {
    let Some(given) = pairs
        .iter()
        .find(|(k, _)| k == "X-Amz-Signature")
        .map(|(_, v)| v.to_ascii_lowercase())
    else {
        return false;
    };
    let signed_headers = pairs
        .iter()
        .find(|(k, _)| k == "X-Amz-SignedHeaders")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let mut headers: Vec<(&str, &str)> = Vec::new();
    for name in signed_headers.split(';') {
        match name {
            "host" => headers.push(("host", host)),
            "x-k8s-aws-id" => headers.push(("x-k8s-aws-id", cluster)),
            // The authenticator sends no other header, so a URL signing one cannot verify.
            _ => return false,
        }
    }
    [sha256_hex(b""), UNSIGNED_PAYLOAD.to_string()]
        .iter()
        .any(|payload| signature(secret, pairs, &headers, payload).as_deref() == Some(&given))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presigned_url_verifies_only_for_its_cluster_and_secret() {
        let creds = Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: Some("tok/en+=".into()),
        };
        let url = presign_get_caller_identity(
            "http://127.0.0.1:5000",
            "us-east-1",
            "my-cluster",
            &creds,
            1_700_000_000,
        );
        let parsed = url::Url::parse(&url).unwrap();
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert!(verify(
            &creds.secret_access_key,
            &pairs,
            "127.0.0.1:5000",
            "my-cluster"
        ));
        assert!(!verify(
            &creds.secret_access_key,
            &pairs,
            "127.0.0.1:5000",
            "other"
        ));
        assert!(!verify("wrong", &pairs, "127.0.0.1:5000", "my-cluster"));
    }
}
