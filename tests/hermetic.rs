//! The AWS layer never reads the process environment: with every AWS variable of this
//! process pointing somewhere wrong, logins driven by the context alone still work.
//! One test in its own binary, because it changes the process environment.

#[path = "support/mod.rs"]
mod support;

use okscript::aws::{login, CredentialType};
use support::{
    create_role, create_user_with_key, rfc3339_from_now, sts_with, FakeSsoPortal, MotoServer,
    TestHome,
};

const POISON: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "AKIAPROCESSENVIRONMT"),
    ("AWS_SECRET_ACCESS_KEY", "process-env-secret"),
    ("AWS_SESSION_TOKEN", "process-env-token"),
    ("AWS_PROFILE", "from-the-process-env"),
    ("AWS_DEFAULT_PROFILE", "from-the-process-env"),
    ("AWS_CONFIG_FILE", "/nonexistent/aws/config"),
    (
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/aws/credentials",
    ),
    ("HOME", "/nonexistent-home"),
    ("AWS_REGION", "xx-nowhere-1"),
    ("AWS_DEFAULT_REGION", "xx-nowhere-1"),
    // port 9 (discard) on loopback: nothing listens there
    ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
    ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9"),
    ("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:9"),
    ("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:9"),
];

#[test]
fn the_process_environment_is_never_read() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let moto = MotoServer::start();
        let (key, secret) = create_user_with_key(&moto, "hermes", None, true).await;
        let role = create_role(
            &moto,
            "AWSReservedSSO_Admin_0123456789abcdef",
            Some("/aws-reserved/sso.amazonaws.com/eu-west-1/"),
        )
        .await;
        let role_creds = sts_with(&moto, &key, &secret, None)
            .assume_role()
            .role_arn(&role)
            .role_session_name("sso-user")
            .send()
            .await
            .unwrap();
        let c = role_creds.credentials().unwrap();
        let portal =
            FakeSsoPortal::start(c.access_key_id(), c.secret_access_key(), c.session_token());
        create_role(&moto, "chained", None).await;

        // From here on every AWS variable of the process is wrong.
        for (k, v) in POISON {
            std::env::set_var(k, v);
        }

        let home = TestHome::new();
        home.config(
            "[profile base]\nregion = eu-west-1\n[profile chain]\nrole_arn = arn:aws:iam::123456789012:role/chained\nsource_profile = base\nrole_session_name = hermetic\n[profile sso]\nsso_session = s\nsso_account_id = 123456789012\nsso_role_name = Admin\n[sso-session s]\nsso_start_url = https://s.awsapps.com/start\nsso_region = eu-west-1\n"
        )
        .credentials(&format!(
            "[base]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
        ));
        home.sso_token("s", "https://s.awsapps.com/start", "tok", &rfc3339_from_now(3600));

        let ctx = home.ctx(
            Some(&moto),
            &[("AWS_ACCESS_KEY_ID", &key), ("AWS_SECRET_ACCESS_KEY", &secret)],
        );
        let s = login(&ctx, CredentialType::AccessKey).await.unwrap();
        assert_eq!(s.identity().arn, "arn:aws:iam::123456789012:user/hermes");
        assert_eq!(s.region(), "eu-west-1");

        let ctx = home.ctx(Some(&moto), &[("AWS_PROFILE", "chain")]);
        let s = login(&ctx, CredentialType::AwsProfile).await.unwrap();
        assert_eq!(
            s.identity().arn,
            "arn:aws:sts::123456789012:assumed-role/chained/hermetic"
        );

        let ctx = home.ctx(
            Some(&moto),
            &[("AWS_PROFILE", "sso"), ("AWS_ENDPOINT_URL_SSO", &portal.endpoint)],
        );
        let s = login(&ctx, CredentialType::Sso).await.unwrap();
        assert_eq!(
            s.identity().principal_arn,
            "arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0123456789abcdef"
        );
        assert_eq!(portal.requests.lock().unwrap()[0].bearer_token.as_deref(), Some("tok"));

        let found = okscript::aws::sso_role_arn(&s, "Admin").await.unwrap();
        assert_eq!(
            found,
            "arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0123456789abcdef"
        );
    });
}
