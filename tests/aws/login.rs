//! Logging in with each credentials type, against moto.

use okscript::aws::{assume_profile, login, whoami, AwsError, CredentialType, FALLBACK_REGION};

use crate::support::{
    create_role, create_user_with_key, rfc3339_from_now, sts_with, FakeSsoPortal, MotoServer,
    TestHome, ACCOUNT,
};

// ---- access-key ----

#[tokio::test]
async fn access_key_logs_in_as_the_iam_user() {
    let moto = MotoServer::start();
    let (key, secret) = create_user_with_key(&moto, "alice", Some("/team/dev/"), false).await;
    let home = TestHome::new();
    let ctx = home.ctx(
        Some(&moto),
        &[
            ("AWS_ACCESS_KEY_ID", &key),
            ("AWS_SECRET_ACCESS_KEY", &secret),
        ],
    );
    let session = login(&ctx, CredentialType::AccessKey).await.unwrap();
    let id = session.identity();
    assert_eq!(id.account, ACCOUNT);
    assert_eq!(id.arn, "arn:aws:iam::123456789012:user/team/dev/alice");
    assert_eq!(id.principal_arn, id.arn, "user paths are kept");
    assert_eq!(id.credential_type, CredentialType::AccessKey);
    assert_eq!(id.profile, None);
    assert_eq!(session.region(), "eu-west-1");
    assert_eq!(whoami(&session).await.unwrap(), *id);
}

#[tokio::test]
async fn access_key_with_session_token_and_default_region() {
    let moto = MotoServer::start();
    // moto hands out real-looking temporary credentials for an assumed role
    let role = create_role(&moto, "ops", None).await;
    let (key, secret) = create_user_with_key(&moto, "bob", None, true).await;
    let creds = sts_with(&moto, &key, &secret, None)
        .assume_role()
        .role_arn(&role)
        .role_session_name("bob@example.com")
        .send()
        .await
        .unwrap();
    let c = creds.credentials().unwrap();
    let home = TestHome::new();
    let mut ctx = home.ctx(
        Some(&moto),
        &[
            ("AWS_ACCESS_KEY_ID", c.access_key_id()),
            ("AWS_SECRET_ACCESS_KEY", c.secret_access_key()),
            ("AWS_SESSION_TOKEN", c.session_token()),
        ],
    );
    ctx.env.remove("AWS_REGION");
    let session = login(&ctx, CredentialType::AccessKey).await.unwrap();
    assert_eq!(
        session.identity().arn,
        "arn:aws:sts::123456789012:assumed-role/ops/bob@example.com"
    );
    assert_eq!(
        session.identity().principal_arn,
        "arn:aws:iam::123456789012:role/ops"
    );
    assert_eq!(session.region(), FALLBACK_REGION);
}

#[tokio::test]
async fn access_key_names_each_missing_variable_and_ignores_profiles() {
    let home = TestHome::new();
    // A perfectly good default profile must not be used as a fallback.
    home.credentials(
        "[default]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = profilesecret\n",
    );
    let only_secret = home.ctx(None, &[("AWS_SECRET_ACCESS_KEY", "s3cretvalue")]);
    let err = login(&only_secret, CredentialType::AccessKey)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AwsError::MissingEnvVar {
                name: "AWS_ACCESS_KEY_ID"
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("AWS_ACCESS_KEY_ID is not set"),
        "{err}"
    );

    let only_key = home.ctx(None, &[("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")]);
    let err = login(&only_key, CredentialType::AccessKey)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AwsError::MissingEnvVar {
                name: "AWS_SECRET_ACCESS_KEY"
            }
        ),
        "{err:?}"
    );

    let empty = home.ctx(
        None,
        &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "x")],
    );
    let err = login(&empty, CredentialType::AccessKey).await.unwrap_err();
    assert!(
        matches!(
            err,
            AwsError::MissingEnvVar {
                name: "AWS_ACCESS_KEY_ID"
            }
        ),
        "empty counts as unset: {err:?}"
    );
    assert!(err.hint().unwrap().contains("aws-profile"));
}

#[test]
fn credential_type_error_lists_valid_values() {
    let err = "ssoo".parse::<CredentialType>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown AWS credentials type `ssoo`: expected one of access-key, aws-profile, sso"
    );
}

// ---- aws-profile ----

#[tokio::test]
async fn profile_with_static_keys_from_home() {
    let moto = MotoServer::start();
    let (key, secret) = create_user_with_key(&moto, "carol", None, false).await;
    let home = TestHome::new();
    home.config("[profile work]\nregion = eu-north-1\n")
        .credentials(&format!(
            "[work]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
        ));
    let mut ctx = home.ctx(Some(&moto), &[("AWS_PROFILE", "work")]);
    ctx.env.remove("AWS_REGION");
    let session = login(&ctx, CredentialType::AwsProfile).await.unwrap();
    assert_eq!(
        session.identity().arn,
        "arn:aws:iam::123456789012:user/carol"
    );
    assert_eq!(session.identity().profile.as_deref(), Some("work"));
    assert_eq!(
        session.identity().credential_type,
        CredentialType::AwsProfile
    );
    assert_eq!(
        session.region(),
        "eu-north-1",
        "region comes from the profile"
    );
}

#[tokio::test]
async fn profile_files_from_explicit_paths_and_default_profile() {
    let moto = MotoServer::start();
    let (key, secret) = create_user_with_key(&moto, "dave", None, false).await;
    let home = TestHome::new();
    // HOME's files say something else: they must not be read.
    home.credentials(
        "[default]\naws_access_key_id = AKIAWRONG\naws_secret_access_key = wrongwrong\n",
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let cfg = elsewhere.path().join("cfg");
    let creds = elsewhere.path().join("creds");
    std::fs::write(&cfg, "[default]\nregion = eu-west-1\n").unwrap();
    std::fs::write(
        &creds,
        format!("[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"),
    )
    .unwrap();
    let ctx = home.ctx(
        Some(&moto),
        &[
            ("AWS_CONFIG_FILE", cfg.to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", creds.to_str().unwrap()),
        ],
    );
    let session = login(&ctx, CredentialType::AwsProfile).await.unwrap();
    assert_eq!(
        session.identity().arn,
        "arn:aws:iam::123456789012:user/dave"
    );
    assert_eq!(session.identity().profile.as_deref(), Some("default"));
}

#[tokio::test]
async fn profile_with_credential_process() {
    let moto = MotoServer::start();
    let (key, secret) = create_user_with_key(&moto, "erin", None, false).await;
    let home = TestHome::new();
    let script = home.script(
        "creds.sh",
        &format!(
            r#"echo '{{"Version": 1, "AccessKeyId": "{key}", "SecretAccessKey": "{secret}", "Expiration": "{}"}}'"#,
            rfc3339_from_now(3600)
        ),
    );
    home.config(&format!(
        "[profile proc]\ncredential_process = {}\n",
        script.display()
    ));
    let ctx = home.ctx(Some(&moto), &[("AWS_PROFILE", "proc")]);
    let session = login(&ctx, CredentialType::AwsProfile).await.unwrap();
    assert_eq!(
        session.identity().arn,
        "arn:aws:iam::123456789012:user/erin"
    );
}

#[tokio::test]
async fn profile_with_failing_credential_process_says_so() {
    let home = TestHome::new();
    let script = home.script("broken.sh", "echo 'not json'; exit 3");
    home.config(&format!(
        "[profile proc]\ncredential_process = {}\n",
        script.display()
    ));
    let ctx = home.ctx(None, &[("AWS_PROFILE", "proc")]);
    let err = login(&ctx, CredentialType::AwsProfile).await.unwrap_err();
    assert!(
        matches!(err, AwsError::CredentialsUnavailable { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("from profile `proc`"), "{err}");
    assert!(err.hint().unwrap().contains("--profile proc"));
}

#[tokio::test]
async fn profile_role_chain_uses_the_passed_endpoint() {
    let moto = MotoServer::start();
    let (key, secret) = create_user_with_key(&moto, "frank", None, true).await;
    create_role(&moto, "deployer", Some("/automation/")).await;
    let home = TestHome::new();
    home.config(
        "[profile base]\nregion = eu-west-1\n\n[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/automation/deployer\nsource_profile = base\nrole_session_name = chain-test\n",
    )
    .credentials(&format!(
        "[base]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
    ));
    // The endpoint comes only from the context override, not from AWS_ENDPOINT_URL: the
    // chain's own STS client must see it too.
    let ctx = home
        .ctx(None, &[("AWS_PROFILE", "deploy")])
        .with_endpoint_url(moto.endpoint());
    let session = login(&ctx, CredentialType::AwsProfile).await.unwrap();
    let id = session.identity();
    assert_eq!(
        id.arn,
        "arn:aws:sts::123456789012:assumed-role/deployer/chain-test"
    );
    assert_eq!(
        id.principal_arn, "arn:aws:iam::123456789012:role/deployer",
        "path-less"
    );
    assert_eq!(id.profile.as_deref(), Some("deploy"));
}

#[tokio::test]
async fn missing_profile_lists_the_existing_ones() {
    let home = TestHome::new();
    home.config("[default]\nregion = eu-west-1\n[profile dev]\nregion = eu-west-1\n[sso-session corp]\nsso_start_url = https://x\n[services s]\n")
        .credentials("[ci]\naws_access_key_id = A\naws_secret_access_key = B\n[dev]\n");
    let ctx = home.ctx(None, &[("AWS_PROFILE", "prod")]);
    let err = login(&ctx, CredentialType::AwsProfile).await.unwrap_err();
    match &err {
        AwsError::ProfileNotFound {
            name, available, ..
        } => {
            assert_eq!(name, "prod");
            assert_eq!(available, &["ci", "default", "dev"]);
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("`prod` does not exist"), "{text}");
    assert!(text.contains("ci, default, dev"), "{text}");
    // and for assume_profile too
    let err = assume_profile(&ctx, "staging").await.unwrap_err();
    assert!(
        err.to_string().contains("`staging` does not exist"),
        "{err}"
    );
}

#[tokio::test]
async fn no_files_at_all() {
    let home = TestHome::new();
    let ctx = home.ctx(None, &[]);
    let err = login(&ctx, CredentialType::AwsProfile).await.unwrap_err();
    assert!(err.to_string().contains("no profiles are defined"), "{err}");
    let mut ctx = ctx;
    ctx.env.remove("HOME");
    let err = login(&ctx, CredentialType::AwsProfile).await.unwrap_err();
    assert!(matches!(err, AwsError::NoHome), "{err:?}");
}

#[tokio::test]
async fn assume_profile_switches_profiles() {
    let moto = MotoServer::start();
    let (k1, s1) = create_user_with_key(&moto, "one", None, false).await;
    let (k2, s2) = create_user_with_key(&moto, "two", None, false).await;
    let home = TestHome::new();
    home.credentials(&format!(
        "[default]\naws_access_key_id = {k1}\naws_secret_access_key = {s1}\n[other]\naws_access_key_id = {k2}\naws_secret_access_key = {s2}\n"
    ));
    let ctx = home.ctx(Some(&moto), &[]);
    let first = login(&ctx, CredentialType::AwsProfile).await.unwrap();
    assert_eq!(first.identity().arn, "arn:aws:iam::123456789012:user/one");
    let second = assume_profile(&ctx, "other").await.unwrap();
    assert_eq!(second.identity().arn, "arn:aws:iam::123456789012:user/two");
    assert_eq!(second.profile(), Some("other"));
}

// ---- sso ----

const SSO_CONFIG: &str = "[profile sso-admin]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = AWSAdministratorAccess\nregion = eu-west-1\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n\n[profile legacy]\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = eu-west-1\nsso_account_id = 123456789012\nsso_role_name = ReadOnly\n\n[profile keys]\nregion = eu-west-1\n";

#[tokio::test]
async fn sso_without_cached_token_says_to_log_in() {
    let home = TestHome::new();
    home.config(SSO_CONFIG);
    for profile in ["sso-admin", "legacy"] {
        let ctx = home.ctx(None, &[("AWS_PROFILE", profile)]);
        let err = login(&ctx, CredentialType::Sso).await.unwrap_err();
        assert!(matches!(err, AwsError::SsoLoginRequired { .. }), "{err:?}");
        assert!(err.to_string().contains("no cached token"), "{err}");
        assert_eq!(
            err.hint().unwrap(),
            // Deliberately changed (issue 10 item 9): hints send people to okscript login.
            format!("log in first: `okscript login --profile {profile}` (the same cached login as `aws sso login`)")
        );
        // aws-profile on an SSO profile checks the same
        let err = login(&ctx, CredentialType::AwsProfile).await.unwrap_err();
        assert!(matches!(err, AwsError::SsoLoginRequired { .. }), "{err:?}");
    }
}

#[tokio::test]
async fn sso_with_expired_token_says_to_log_in() {
    let home = TestHome::new();
    home.config(SSO_CONFIG);
    home.sso_token(
        "corp",
        "https://corp.awsapps.com/start",
        "tok",
        &rfc3339_from_now(-60),
    );
    let ctx = home.ctx(None, &[("AWS_PROFILE", "sso-admin")]);
    let err = login(&ctx, CredentialType::Sso).await.unwrap_err();
    assert!(err.to_string().contains("expired at"), "{err}");
}

#[tokio::test]
async fn sso_type_needs_an_sso_profile() {
    let home = TestHome::new();
    home.config(SSO_CONFIG);
    let ctx = home.ctx(None, &[("AWS_PROFILE", "keys")]);
    let err = login(&ctx, CredentialType::Sso).await.unwrap_err();
    assert!(matches!(err, AwsError::NotAnSsoProfile { .. }), "{err:?}");
    let home = TestHome::new();
    home.config("[profile broken]\nsso_session = nope\nsso_account_id = 1\nsso_role_name = x\n");
    let ctx = home.ctx(None, &[("AWS_PROFILE", "broken")]);
    let err = login(&ctx, CredentialType::Sso).await.unwrap_err();
    assert!(
        err.to_string().contains("no [sso-session nope] section"),
        "{err}"
    );
}

/// The whole SSO path with a token cached like the AWS CLI v2 does: aws-config reads the
/// cache, calls the portal (a stand-in here, moto has none) with the bearer token, and the
/// role credentials it returns (real moto assumed-role credentials) are verified by moto's STS.
#[tokio::test]
async fn sso_with_cached_token_reaches_the_portal_and_sts() {
    let moto = MotoServer::start();
    let role = create_role(
        &moto,
        "AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef",
        Some("/aws-reserved/sso.amazonaws.com/eu-west-1/"),
    )
    .await;
    let (key, secret) = create_user_with_key(&moto, "portal", None, true).await;
    let out = sts_with(&moto, &key, &secret, None)
        .assume_role()
        .role_arn(&role)
        .role_session_name("alice@example.com")
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    let portal = FakeSsoPortal::start(c.access_key_id(), c.secret_access_key(), c.session_token());

    let home = TestHome::new();
    home.config(SSO_CONFIG);
    home.sso_token(
        "corp",
        "https://corp.awsapps.com/start",
        "cached-access-token",
        &rfc3339_from_now(3600),
    );
    let ctx = home.ctx(
        Some(&moto),
        &[
            ("AWS_PROFILE", "sso-admin"),
            ("AWS_ENDPOINT_URL_SSO", &portal.endpoint),
        ],
    );
    let session = login(&ctx, CredentialType::Sso).await.unwrap();
    let id = session.identity();
    assert_eq!(
        id.arn,
        "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef/alice@example.com"
    );
    assert_eq!(
        id.principal_arn,
        "arn:aws:iam::123456789012:role/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef"
    );
    assert_eq!(id.credential_type, CredentialType::Sso);
    let seen = portal.requests.lock().unwrap().clone();
    assert!(!seen.is_empty());
    assert!(
        seen[0]
            .request_line
            .starts_with("GET /federation/credentials?"),
        "{seen:?}"
    );
    assert!(
        seen[0].request_line.contains("account_id=123456789012"),
        "{seen:?}"
    );
    assert!(
        seen[0]
            .request_line
            .contains("role_name=AWSAdministratorAccess"),
        "{seen:?}"
    );
    assert_eq!(seen[0].bearer_token.as_deref(), Some("cached-access-token"));
}

/// A token the portal refuses (revoked, or expired server-side) asks for a new login.
#[tokio::test]
async fn sso_token_refused_by_the_portal_says_to_log_in() {
    let moto = MotoServer::start();
    let portal = FakeSsoPortal::start_rejecting();
    let home = TestHome::new();
    home.config(SSO_CONFIG);
    home.sso_token(
        "corp",
        "https://corp.awsapps.com/start",
        "revoked",
        &rfc3339_from_now(3600),
    );
    let ctx = home.ctx(
        Some(&moto),
        &[
            ("AWS_PROFILE", "sso-admin"),
            ("AWS_ENDPOINT_URL_SSO", &portal.endpoint),
        ],
    );
    let err = login(&ctx, CredentialType::Sso).await.unwrap_err();
    assert!(matches!(err, AwsError::SsoLoginRequired { .. }), "{err:?}");
    assert!(
        err.to_string().contains("refused the cached token"),
        "{err}"
    );
    assert_eq!(
        err.hint().unwrap(),
        "log in first: `okscript login --profile sso-admin` (the same cached login as `aws sso login`)"
    );
}

/// A legacy profile (sso_start_url in the profile) uses the SHA-1 of the start URL.
#[tokio::test]
async fn legacy_sso_profile_uses_the_start_url_cache_key() {
    let moto = MotoServer::start();
    let portal = FakeSsoPortal::start("ASIAPORTAL", "portal-secret-value", "portal-token-value");
    let home = TestHome::new();
    home.config(SSO_CONFIG);
    home.sso_token(
        "https://legacy.awsapps.com/start",
        "https://legacy.awsapps.com/start",
        "legacy-token",
        &rfc3339_from_now(3600),
    );
    let ctx = home.ctx(
        Some(&moto),
        &[
            ("AWS_PROFILE", "legacy"),
            ("AWS_ENDPOINT_URL_SSO", &portal.endpoint),
        ],
    );
    let session = login(&ctx, CredentialType::Sso).await.unwrap();
    // moto answers unknown keys with its placeholder identity; the login still works
    assert_eq!(
        session.identity().arn,
        "arn:aws:sts::123456789012:user/moto"
    );
    let seen = portal.requests.lock().unwrap().clone();
    assert_eq!(seen[0].bearer_token.as_deref(), Some("legacy-token"));
    assert!(
        seen[0].request_line.contains("role_name=ReadOnly"),
        "{seen:?}"
    );
}

// ---- rejected credentials and unreachable endpoints ----

#[tokio::test]
async fn rejected_credentials_carry_the_code_and_meaning() {
    let moto = MotoServer::start();
    let (key, secret) = create_user_with_key(&moto, "gina", None, false).await;
    moto.enforce_auth();
    let home = TestHome::new();

    let unknown = home.ctx(
        Some(&moto),
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000"),
            ("AWS_SECRET_ACCESS_KEY", &secret),
        ],
    );
    let err = login(&unknown, CredentialType::AccessKey)
        .await
        .unwrap_err();
    match &err {
        AwsError::Rejected {
            code,
            meaning,
            operation,
            ..
        } => {
            assert_eq!(code, "InvalidClientTokenId");
            assert_eq!(meaning, "the access key does not exist or was deleted");
            assert_eq!(*operation, "sts:GetCallerIdentity");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.hint().is_some());

    let wrong_secret = home.ctx(
        Some(&moto),
        &[
            ("AWS_ACCESS_KEY_ID", &key),
            ("AWS_SECRET_ACCESS_KEY", "definitely-not-the-secret"),
        ],
    );
    let err = login(&wrong_secret, CredentialType::AccessKey)
        .await
        .unwrap_err();
    match &err {
        AwsError::Rejected { code, meaning, .. } => {
            assert_eq!(code, "SignatureDoesNotMatch");
            assert_eq!(meaning, "the secret access key is wrong");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("SignatureDoesNotMatch: the secret access key is wrong"),
        "{err}"
    );

    // the right keys still work with auth enforced
    let good = home.ctx(
        Some(&moto),
        &[
            ("AWS_ACCESS_KEY_ID", &key),
            ("AWS_SECRET_ACCESS_KEY", &secret),
        ],
    );
    let session = login(&good, CredentialType::AccessKey).await.unwrap();
    // ... but an unprivileged user may not read IAM: AccessDenied is a rejection too
    let err = okscript::aws::iam_role(&session, "anything")
        .await
        .unwrap_err();
    match &err {
        AwsError::Rejected {
            code, operation, ..
        } => {
            assert_eq!(code, "AccessDenied");
            assert_eq!(*operation, "iam:GetRole");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn closed_port_is_unreachable() {
    let port = crate::support::moto::free_port();
    let home = TestHome::new();
    let ctx = home
        .ctx(
            None,
            &[
                ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "secretsecret"),
            ],
        )
        .with_endpoint_url(format!("http://127.0.0.1:{port}"));
    let err = login(&ctx, CredentialType::AccessKey).await.unwrap_err();
    assert!(matches!(err, AwsError::Unreachable { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

#[tokio::test]
async fn profile_without_credentials_says_so() {
    let home = TestHome::new();
    home.config("[profile empty]\nregion = eu-west-1\n");
    let ctx = home.ctx(
        None,
        &[
            ("AWS_PROFILE", "empty"),
            ("AWS_ACCESS_KEY_ID", "AKIAENVKEY"),
            ("AWS_SECRET_ACCESS_KEY", "envsecretvalue"),
        ],
    );
    let started = std::time::Instant::now();
    let err = login(&ctx, CredentialType::AwsProfile).await.unwrap_err();
    assert!(matches!(err, AwsError::InvalidProfile { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("profile `empty` is not usable: it holds no credentials"),
        "{err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "no IMDS/ECS probing"
    );
}
