//! The EKS bearer token: every query parameter, an independent check of the signature, the
//! decoded URL sent to an STS stand-in that verifies it (moto cannot), and kubectl running
//! the exec plugin and sending the token.

use okscript::aws::{
    eks_token, login, AwsError, CredentialType, TokenOptions, EXEC_CREDENTIAL_API_VERSION,
    MAX_TOKEN_LEN,
};

use crate::support::{
    create_role, create_user_with_key, query_params, sts_with, token_url, verify_presigned,
    MotoServer, StsVerifier, TestHome, TlsApiServer,
};

/// The names the AWS CLI's token has, in its order (`aws eks get-token`, CLI v1 1.45).
const CLI_PARAMS: [&str; 8] = [
    "Action",
    "Version",
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
];

fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {params:?}"))
}

fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    aws_sdk_sts::primitives::DateTime::from_secs(secs)
        .fmt(aws_sdk_sts::primitives::DateTimeFormat::DateTime)
        .unwrap()[..10]
        .replace('-', "")
}

#[tokio::test]
async fn token_for_moto_has_every_parameter_and_a_valid_signature() {
    let moto = MotoServer::start();
    let (key, secret) = create_user_with_key(&moto, "alice", None, false).await;
    let home = TestHome::new();
    let ctx = home.ctx(
        Some(&moto),
        &[
            ("AWS_ACCESS_KEY_ID", &key),
            ("AWS_SECRET_ACCESS_KEY", &secret),
        ],
    );
    let session = login(&ctx, CredentialType::AccessKey).await.unwrap();
    let options = TokenOptions {
        region: Some("eu-north-1".into()),
        ..TokenOptions::default()
    };
    let before = std::time::SystemTime::now();
    let token = eks_token(&session, "my-cluster", &options).await.unwrap();
    let t = token.token();
    assert!(t.starts_with("k8s-aws-v1."), "{t}");
    assert!(!t.contains('='), "no padding");
    assert!(t.len() <= MAX_TOKEN_LEN);
    assert!(
        t[11..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "base64url alphabet"
    );

    let url = token_url(t);
    assert!(url.starts_with(&format!("{}/?", moto.endpoint())), "{url}");
    let params = query_params(&url);
    let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, CLI_PARAMS, "same names, same order as the AWS CLI");
    assert_eq!(param(&params, "Action"), "GetCallerIdentity");
    assert_eq!(param(&params, "Version"), "2011-06-15");
    assert_eq!(param(&params, "X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
    assert_eq!(
        param(&params, "X-Amz-Credential"),
        format!("{key}/{}/eu-north-1/sts/aws4_request", today_utc())
    );
    let date = param(&params, "X-Amz-Date");
    assert_eq!(date.len(), 16, "{date}");
    assert!(date.ends_with('Z') && date.as_bytes()[8] == b'T', "{date}");
    assert_eq!(param(&params, "X-Amz-Expires"), "60");
    assert_eq!(param(&params, "X-Amz-SignedHeaders"), "host;x-k8s-aws-id");
    let sig = param(&params, "X-Amz-Signature");
    assert_eq!(sig.len(), 64);
    assert!(sig.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!url.contains(&secret), "the secret is never in the token");

    // expiry: signing time + 14 minutes
    let exp = token.expiration().duration_since(before).unwrap().as_secs();
    assert!((14 * 60..14 * 60 + 5).contains(&exp), "{exp}");
    let cred: serde_json::Value = serde_json::from_str(&token.exec_credential_json()).unwrap();
    assert_eq!(cred["kind"], "ExecCredential");
    assert_eq!(cred["apiVersion"], EXEC_CREDENTIAL_API_VERSION);
    assert_eq!(cred["spec"], serde_json::json!({}));
    assert_eq!(cred["status"]["token"], t);
    let ts = cred["status"]["expirationTimestamp"].as_str().unwrap();
    assert!(ts.len() == 20 && ts.ends_with('Z'), "{ts}");
    let keys: Vec<&String> = cred.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["kind", "apiVersion", "spec", "status"],
        "the CLI's order"
    );

    // the signature is valid (independent check), and only for this secret and cluster
    assert_eq!(verify_presigned(&url, &secret, "my-cluster"), "valid");
    assert!(verify_presigned(&url, "wrong-secret", "my-cluster").starts_with("INVALID"));
    assert!(verify_presigned(&url, &secret, "other-cluster").starts_with("INVALID"));

    // moto cannot be the server side of this check: a GET without an Authorization header
    // is routed by moto's dispatcher to S3 (it answers ListBuckets), and moto's STS never
    // reads a query-string signature. So the URL goes to a stand-in that checks it like STS.
    let arn = session.identity().arn.clone();
    assert_eq!(arn, "arn:aws:iam::123456789012:user/alice");
    let sts = StsVerifier::start(&[(&key, &secret, &arn)]);
    let (status, body) = sts.get(&url, &[("x-k8s-aws-id", "my-cluster")]);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!("<Arn>{arn}</Arn>")), "{body}");
    // and refuses it for another cluster, without the header, or tampered with
    let (status, body) = sts.get(&url, &[("x-k8s-aws-id", "other-cluster")]);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
    let (status, _) = sts.get(&url, &[]);
    assert_eq!(status, 403);
    let tampered = url.replace("X-Amz-Expires=60", "X-Amz-Expires=900");
    let (status, _) = sts.get(&tampered, &[("x-k8s-aws-id", "my-cluster")]);
    assert_eq!(status, 403);
}

#[tokio::test]
async fn session_token_and_assumed_role() {
    let moto = MotoServer::start();
    let role = create_role(&moto, "eks-admins", None).await;
    let (key, secret) = create_user_with_key(&moto, "bob", None, true).await;
    // temporary credentials: the token carries their session token
    let sts = sts_with(&moto, &key, &secret, None);
    let tmp = sts
        .assume_role()
        .role_arn(&role)
        .role_session_name("bob")
        .send()
        .await
        .unwrap();
    let c = tmp.credentials().unwrap();
    let home = TestHome::new();
    let ctx = home.ctx(
        Some(&moto),
        &[
            ("AWS_ACCESS_KEY_ID", c.access_key_id()),
            ("AWS_SECRET_ACCESS_KEY", c.secret_access_key()),
            ("AWS_SESSION_TOKEN", c.session_token()),
        ],
    );
    let session = login(&ctx, CredentialType::AccessKey).await.unwrap();
    let token = eks_token(&session, "prod", &TokenOptions::default())
        .await
        .unwrap();
    let url = token_url(token.token());
    let params = query_params(&url);
    assert_eq!(param(&params, "X-Amz-Security-Token"), c.session_token());
    assert!(
        param(&params, "X-Amz-Credential").contains("/eu-west-1/sts/"),
        "session region"
    );
    let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names[7], "X-Amz-Security-Token",
        "before the signature, like the CLI"
    );
    assert_eq!(
        verify_presigned(&url, c.secret_access_key(), "prod"),
        "valid"
    );
    let sts = StsVerifier::start(&[(
        c.access_key_id(),
        c.secret_access_key(),
        &session.identity().arn,
    )]);
    let (status, body) = sts.get(&url, &[("x-k8s-aws-id", "prod")]);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<Arn>arn:aws:sts::123456789012:assumed-role/eks-admins/bob</Arn>"),
        "{body}"
    );
    assert!(!url.contains(c.secret_access_key()));
    assert!(token.token().len() <= MAX_TOKEN_LEN);

    // role_arn: assume first, sign with the role's keys
    let plain_ctx = home.ctx(
        Some(&moto),
        &[
            ("AWS_ACCESS_KEY_ID", &key),
            ("AWS_SECRET_ACCESS_KEY", &secret),
        ],
    );
    let plain = login(&plain_ctx, CredentialType::AccessKey).await.unwrap();
    let options = TokenOptions {
        role_arn: Some(role.clone()),
        ..TokenOptions::default()
    };
    let token = eks_token(&plain, "prod", &options).await.unwrap();
    let params = query_params(&token_url(token.token()));
    let cred = param(&params, "X-Amz-Credential");
    assert!(
        !cred.starts_with(&key),
        "signed with the role's key, not bob's: {cred}"
    );
    assert!(cred.starts_with("ASIA"), "{cred}");
    assert!(params.iter().any(|(k, _)| k == "X-Amz-Security-Token"));
    // a role that does not exist fails at AssumeRole... (moto accepts any ARN), so check
    // at least that a non-role ARN is refused before any call
    let bad = TokenOptions {
        role_arn: Some("arn:aws:iam::123456789012:user/bob".into()),
        ..TokenOptions::default()
    };
    let err = eks_token(&plain, "prod", &bad).await.unwrap_err();
    assert!(matches!(err, AwsError::InvalidArn { .. }), "{err:?}");
}

#[tokio::test]
async fn bad_inputs_are_refused() {
    let moto = MotoServer::start();
    let home = TestHome::new();
    let ctx = home.ctx(
        Some(&moto),
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAANYKEY0000000000"),
            ("AWS_SECRET_ACCESS_KEY", "anysecretanysecret"),
        ],
    );
    let session = login(&ctx, CredentialType::AccessKey).await.unwrap();
    let err = eks_token(&session, "a\r\nx: y", &TokenOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, AwsError::InvalidClusterName { .. }),
        "{err:?}"
    );
    let err = eks_token(
        &session,
        "c",
        &TokenOptions {
            region: Some("eu-north-1.evil.example/".into()),
            ..TokenOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AwsError::InvalidRegion { .. }), "{err:?}");
}

/// kubectl itself runs the exec plugin okscript's kubeconfig names, takes the
/// `ExecCredential` okscript prints, and sends the token as `Authorization: Bearer`.
/// The plugin is a stub printing a real token; the API server an HTTPS stand-in
/// (`tests/support/tls_apiserver.py`): client-go runs exec plugins only over TLS.
#[tokio::test]
async fn kubectl_runs_the_exec_plugin_and_sends_the_token() {
    use base64::Engine as _;
    use okscript::kube::{update_kubeconfig_file, KubeconfigEntry};
    let kubectl = std::path::Path::new("/usr/bin/kubectl");
    if !kubectl.exists() {
        eprintln!("SKIPPED: /usr/bin/kubectl is not installed");
        return;
    }
    let moto = MotoServer::start();
    let home = TestHome::new();
    let ctx = home.ctx(
        Some(&moto),
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAANYKEY0000000000"),
            ("AWS_SECRET_ACCESS_KEY", "anysecretanysecret"),
        ],
    );
    let session = login(&ctx, CredentialType::AccessKey).await.unwrap();
    let token = eks_token(&session, "my-cluster", &TokenOptions::default())
        .await
        .unwrap();
    let cred = home.path().join("cred.json");
    std::fs::write(&cred, token.exec_credential_json()).unwrap();
    let seen = home.path().join("plugin-saw.txt");
    let plugin = home.script(
        "okscript",
        &format!(
            "echo \"$AWS_PROFILE $*\" > '{}'\ncat '{}'",
            seen.display(),
            cred.display()
        ),
    );

    let api = TlsApiServer::start(home.path());
    let entry = KubeconfigEntry {
        cluster: "my-cluster".into(),
        entry_name: "my-cluster".into(),
        context_name: "my-cluster".into(),
        server: api.url(),
        certificate_authority_data: base64::engine::general_purpose::STANDARD.encode(api.ca_pem()),
        region: Some("eu-west-1".into()),
        role_arn: None,
        profile: Some("dev".into()),
        credentials_type: None,
        command: plugin.display().to_string(),
    };
    let kubeconfig = home.path().join("kubeconfig");
    update_kubeconfig_file(&kubeconfig, &entry).unwrap();
    let out = std::process::Command::new(kubectl)
        .args(["get", "--raw", "/version", "--kubeconfig"])
        .arg(&kubeconfig)
        .env_remove("KUBECONFIG")
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("v1.31.0"));
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap().trim(),
        "dev token --cluster my-cluster --region eu-west-1",
        "kubectl ran the plugin with the kubeconfig's args and env"
    );
    let auth = api.authorizations();
    assert!(!auth.is_empty(), "kubectl sent no request");
    for a in &auth {
        assert_eq!(
            a,
            &format!("Bearer {}", token.token()),
            "kubectl sent another token"
        );
    }
}
