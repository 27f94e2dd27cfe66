//! No secret ever shows up in `Debug` of a session or context, or in any error text.

use okscript::aws::{assume_role, login, AwsError, CredentialType};

use crate::support::{create_role, create_user_with_key, MotoServer, TestHome};

const SECRET: &str = "SECRETSECRETSECRET0123456789";
const TOKEN: &str = "TOKENTOKENTOKEN0123456789abcdef";

fn assert_clean(what: &str, text: &str) {
    for s in [SECRET, TOKEN] {
        assert!(!text.contains(s), "{what} leaks a secret: {text}");
    }
}

fn assert_error_clean(err: &AwsError) {
    assert_clean("Display", &err.to_string());
    assert_clean("Debug", &format!("{err:?}"));
    assert_clean("hint", &err.hint().unwrap_or_default());
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        assert_clean("source", &s.to_string());
        source = s.source();
    }
}

#[tokio::test]
async fn sessions_contexts_and_errors_never_show_secrets() {
    let moto = MotoServer::start();
    let home = TestHome::new();
    let vars = [
        ("AWS_ACCESS_KEY_ID", "AKIAKNOWNKEY00000000"),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        ("AWS_SESSION_TOKEN", TOKEN),
    ];
    let ctx = home.ctx(Some(&moto), &vars);
    assert_clean("AwsContext Debug", &format!("{ctx:?}"));

    // a successful login (moto accepts any key by default)
    let session = login(&ctx, CredentialType::AccessKey).await.unwrap();
    assert_clean("Session Debug", &format!("{session:?}"));
    assert_clean("Identity Debug", &format!("{:?}", session.identity()));
    assert_clean(
        "Identity JSON",
        &serde_json::to_string(session.identity()).unwrap(),
    );

    // an assumed role's session
    let role = create_role(&moto, "ops", None).await;
    let assumed = assume_role(&session, &role, None).await.unwrap();
    assert_clean("assumed Session Debug", &format!("{assumed:?}"));

    // rejected: auth enforced, our key unknown
    create_user_with_key(&moto, "someone", None, false).await;
    moto.enforce_auth();
    let err = login(&ctx, CredentialType::AccessKey).await.unwrap_err();
    assert!(matches!(err, AwsError::Rejected { .. }), "{err:?}");
    assert_error_clean(&err);

    // missing variable, with the secret set
    let only_secret = home.ctx(None, &[("AWS_SECRET_ACCESS_KEY", SECRET)]);
    let err = login(&only_secret, CredentialType::AccessKey)
        .await
        .unwrap_err();
    assert_error_clean(&err);

    // unreachable endpoint
    let port = crate::support::moto::free_port();
    let closed = home
        .ctx(None, &vars)
        .with_endpoint_url(format!("http://127.0.0.1:{port}"));
    let err = login(&closed, CredentialType::AccessKey).await.unwrap_err();
    assert_error_clean(&err);

    // a credential_process that fails and prints the secret on stderr: aws-config quotes
    // the process's stderr in its error, and okscript cuts known secrets out of it
    let script = home.script(
        "leaky.sh",
        &format!("echo 'cannot refresh {SECRET} / {TOKEN}' >&2; exit 1"),
    );
    home.config(&format!(
        "[profile leaky]\ncredential_process = {}\n",
        script.display()
    ));
    let leaky = home.ctx(
        Some(&moto),
        &[
            ("AWS_PROFILE", "leaky"),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_SESSION_TOKEN", TOKEN),
        ],
    );
    let err = login(&leaky, CredentialType::AwsProfile).await.unwrap_err();
    assert!(
        matches!(err, AwsError::CredentialsUnavailable { .. }),
        "{err:?}"
    );
    assert_error_clean(&err);
}

#[tokio::test]
async fn the_token_path_never_shows_the_secret_key() {
    use okscript::aws::{eks_token, TokenOptions};
    let moto = MotoServer::start();
    let home = TestHome::new();
    let vars = [
        ("AWS_ACCESS_KEY_ID", "AKIAKNOWNKEY00000000"),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        ("AWS_SESSION_TOKEN", TOKEN),
    ];
    let session = login(&home.ctx(Some(&moto), &vars), CredentialType::AccessKey)
        .await
        .unwrap();
    let token = eks_token(&session, "my-cluster", &TokenOptions::default())
        .await
        .unwrap();
    // Debug shows neither the token nor anything in it
    let shown = format!("{token:?}");
    assert_clean("EksToken Debug", &shown);
    assert!(!shown.contains(token.token()), "{shown}");
    assert!(!shown.contains("k8s-aws-v1."), "{shown}");
    // the token carries the signature and (by design, like the AWS CLI's) the session
    // token, never the secret key
    let url = crate::support::token_url(token.token());
    assert!(!url.contains(SECRET), "{url}");
    assert!(!token.token().contains(SECRET));
    assert!(!token.exec_credential_json().contains(SECRET));
    assert!(url.contains("X-Amz-Signature="));
    assert!(url.contains(&format!("X-Amz-Security-Token={TOKEN}")));

    // errors on the token path
    let err = eks_token(&session, "bad name", &TokenOptions::default())
        .await
        .unwrap_err();
    assert_error_clean(&err);
    let err = eks_token(
        &session,
        "c",
        &TokenOptions {
            region: Some("Not A Region".into()),
            ..TokenOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AwsError::InvalidRegion { .. }), "{err:?}");
    assert_error_clean(&err);
    // an assume-role that AWS refuses (auth enforced, our key unknown)
    create_user_with_key(&moto, "someone", None, false).await;
    moto.enforce_auth();
    let err = eks_token(
        &session,
        "c",
        &TokenOptions {
            role_arn: Some("arn:aws:iam::123456789012:role/nope".into()),
            ..TokenOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert_error_clean(&err);
}
