//! `configure-sso.rhai` picking the account and role after the login (numbered list on a
//! terminal through `script(1)`, `--set` in CI, a clear refusal without a terminal, the
//! single choice taken automatically), and an expired SSO token that cannot be refreshed
//! reported as exactly that. Fake SSO servers (`support::fake_sso`); HOME is the temp folder.

use crate::support::fake_sso::FakeSso;
use crate::support::rfc3339_from_now;
use crate::util::{Cmd, TestDir};

const CONFIG: &str = "[profile sso-admin]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = AWSAdministratorAccess\nregion = eu-west-1\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n";

fn sso_cmd(dir: &TestDir, fake: &FakeSso) -> Cmd {
    dir.cmd()
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ENDPOINT_URL_SSO_OIDC", &fake.oidc_endpoint)
        .env("AWS_ENDPOINT_URL_SSO", &fake.portal_endpoint)
}

fn cache_file(session: &str) -> String {
    format!(
        ".aws/sso/cache/{}",
        okscript::aws::sso_cache_file_name(session)
    )
}

/// A cached login for `corp` that expired an hour ago, with a refresh token and a live
/// client registration (so it looks refreshable until CreateToken refuses).
fn expired_refreshable_token(dir: &TestDir) {
    let token = serde_json::json!({
        "startUrl": "https://corp.awsapps.com/start",
        "region": "eu-west-1",
        "accessToken": "old-access-token",
        "expiresAt": rfc3339_from_now(-3600),
        "clientId": "fake-client-id-okscript",
        "clientSecret": "old-client-secret",
        "registrationExpiresAt": rfc3339_from_now(30 * 24 * 3600),
        "refreshToken": "old-refresh-token",
    });
    dir.write(&cache_file("corp"), token.to_string());
}

#[test]
fn an_expired_unrefreshable_token_says_so_and_names_the_login_command() {
    let fake = FakeSso::start();
    fake.refresh_ok(false);
    let dir = TestDir::new();
    dir.write(".aws/config", CONFIG);
    expired_refreshable_token(&dir);
    dir.write("who.rhai", "print(whoami().principal_arn);\n");
    let out = sso_cmd(&dir, &fake)
        .env("AWS_PROFILE", "sso-admin")
        .args(["token", "-a", "sso", "--cluster", "prod"])
        .run();
    out.expect_code(1).expect_stderr(&[
        "your SSO login for corp expired and could not be refreshed; run `okscript login --profile sso-admin`",
        "hint: log in again: `okscript login --profile sso-admin`",
    ]);
    assert!(!out.stderr.contains("could not reach AWS"), "{out}");
    assert!(!out.stderr.contains("revoked"), "{out}");
    assert!(out.stdout.is_empty(), "{out}");
    for secret in ["old-access-token", "old-client-secret", "old-refresh-token"] {
        assert!(!out.stderr.contains(secret), "leaked {secret}:\n{out}");
    }
    // The refresh was tried (and refused) before the message.
    assert!(!fake.requests_to("/token").is_empty());
}

#[test]
fn an_expired_token_without_a_refresh_token_says_it_expired() {
    let fake = FakeSso::start();
    let dir = TestDir::new();
    dir.write(".aws/config", CONFIG);
    let token = serde_json::json!({
        "startUrl": "https://corp.awsapps.com/start",
        "region": "eu-west-1",
        "accessToken": "old-access-token",
        "expiresAt": rfc3339_from_now(-60),
    });
    dir.write(&cache_file("corp"), token.to_string());
    let out = sso_cmd(&dir, &fake)
        .env("AWS_PROFILE", "sso-admin")
        .args(["token", "-a", "sso", "--cluster", "prod"])
        .run();
    out.expect_code(1).expect_stderr(&[
        "your SSO login for corp expired and could not be refreshed; run `okscript login --profile sso-admin`",
    ]);
    assert!(!out.stderr.contains("old-access-token"), "{out}");
}
