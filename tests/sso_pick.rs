//! `configure-sso.rhai` picking the account and role after the login (numbered list on a
//! terminal through `script(1)`, `--set` in CI, a clear refusal without a terminal, the
//! single choice taken automatically), and an expired SSO token that cannot be refreshed
//! reported as exactly that. Fake SSO servers (`support::fake_sso`); HOME is the temp folder.

use crate::support::fake_sso::FakeSso;
use crate::support::rfc3339_from_now;
use crate::util::{script, Cmd, Outcome, TestDir};

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

// ---- configure-sso: picking the account and role ----

const PORTAL: &str = "https://osloorigo.awsapps.com/start/";

/// `configure-sso.rhai` with the profile and portal given, and `extra` besides.
fn configure(dir: &TestDir, fake: &FakeSso, extra: &[(&str, &str)]) -> Cmd {
    let mut cmd = sso_cmd(dir, fake)
        .script("configure-sso.rhai")
        .set("profile", "myprofile")
        .set("start_url", PORTAL)
        .set("sso_region", "eu-west-1")
        .set("region", "eu-north-1")
        .set("output", "json");
    for (k, v) in extra {
        cmd = cmd.set(k, v);
    }
    cmd
}

/// Runs `cmd` on a terminal: `script(1)` gives it a pseudo-terminal as stdin, stdout and
/// stderr, and `answers` are typed into it (all of its output comes back on stdout).
fn on_terminal(dir: &TestDir, fake: &FakeSso, extra: &[(&str, &str)], answers: &str) -> Outcome {
    let bin = assert_cmd::cargo::cargo_bin("okscript");
    let mut line = format!("'{}' run '{}'", bin.display(), script("configure-sso.rhai"));
    for (k, v) in [
        ("profile", "myprofile"),
        ("start_url", PORTAL),
        ("sso_region", "eu-west-1"),
        ("region", "eu-north-1"),
        ("output", "json"),
    ]
    .iter()
    .chain(extra)
    {
        line.push_str(&format!(" --set '{k}={v}'"));
    }
    let shell = format!(
        "(sleep 1; printf '{answers}'; sleep 5) | script -qec \"{line} --no-browser\" /dev/null"
    );
    sso_cmd(dir, fake)
        .program("/bin/sh")
        .args(["-c", &shell])
        .run()
}

/// A valid cached login for the sso-session `session` (as `aws sso login` leaves it).
fn cached_login(dir: &TestDir, fake: &FakeSso, session: &str) {
    fake.accept_token("cached-access-token");
    let token = serde_json::json!({
        "startUrl": PORTAL,
        "region": "eu-west-1",
        "accessToken": "cached-access-token",
        "expiresAt": rfc3339_from_now(3600),
    });
    dir.write(&cache_file(session), token.to_string());
}

#[test]
fn on_a_terminal_the_account_and_role_are_picked_from_numbered_lists() {
    let fake = FakeSso::start();
    fake.account(
        "123456789012",
        "prod",
        "prod@example.com",
        &["AWSAdministratorAccess", "ReadOnly"],
    )
    .account("210987654321", "dev", "dev@example.com", &["Developer"]);
    let dir = TestDir::new();
    cached_login(&dir, &fake, "myprofile");
    // A bad answer is asked again; then account 1, role 2.
    let out = on_terminal(&dir, &fake, &[], "9\\n1\\n2\\n");
    out.expect_code(0).expect_stdout(&[
        "AWS account:",
        "   1) 123456789012  prod (prod@example.com)",
        "   2) 210987654321  dev (dev@example.com)",
        "`9` is not one of the numbers 1 to 2",
        "Role in 123456789012:",
        "   1) AWSAdministratorAccess",
        "   2) ReadOnly",
        "profile myprofile uses sso-session myprofile",
    ]);
    let config = dir.read(".aws/config");
    assert!(
        config.contains("sso_account_id = 123456789012\nsso_role_name = ReadOnly\n"),
        "{config}"
    );
    assert!(!out.stdout.contains("cached-access-token"), "{out}");
    // The listing used the login cached under the session name.
    for r in fake.requests_to("/assignment/accounts") {
        assert_eq!(r.bearer.as_deref(), Some("cached-access-token"));
    }
    assert!(
        fake.requests_to("/token").is_empty(),
        "no new login was needed"
    );
}

#[test]
fn a_single_account_and_role_are_taken_after_a_login_for_the_new_session() {
    let fake = FakeSso::start();
    fake.account(
        "123456789012",
        "prod",
        "prod@example.com",
        &["AWSAdministratorAccess"],
    );
    let dir = TestDir::new();
    // No cached login: the device flow runs for the sso-session before the profile exists.
    let out = on_terminal(&dir, &fake, &[], "");
    out.expect_code(0).expect_stdout(&[
        "AWS account: 123456789012  prod (prod@example.com) (the only one)",
        "Role in 123456789012: AWSAdministratorAccess (the only one)",
        "profile myprofile uses sso-session myprofile",
    ]);
    assert!(!out.stdout.contains("1)"), "{out}");
    // On a terminal the wait shows a spinner with the time left (the code lives 600 s).
    assert!(out.stdout.contains(" left (Ctrl-C cancels)"), "{out}");
    assert!(
        out.stdout.contains("waiting for the login: 10:00 left")
            || out.stdout.contains("waiting for the login: 9:5"),
        "{out}"
    );
    let config = dir.read(".aws/config");
    assert!(
        config.contains("sso_account_id = 123456789012\nsso_role_name = AWSAdministratorAccess\n"),
        "{config}"
    );
    // The token is cached under the session name, where `aws sso login` would look.
    assert!(dir.exists(&cache_file("myprofile")));
    assert_eq!(fake.requests_to("/device_authorization").len(), 1);
    for t in fake.issued_tokens() {
        assert!(!out.stdout.contains(&t), "leaked the token:\n{out}");
    }
}

#[test]
fn without_a_terminal_a_missing_account_or_role_is_refused_naming_set() {
    let fake = FakeSso::start();
    let dir = TestDir::new();
    let out = configure(&dir, &fake, &[]).run();
    out.expect_code(1).expect_stderr(&[
        "no terminal to log in and pick them on",
        "pass --set account_id=VALUE --set role_name=VALUE",
    ]);
    configure(&dir, &fake, &[("account_id", "123456789012")])
        .run()
        .expect_code(1)
        .expect_stderr(&["pass --set role_name=VALUE ("]);
    assert!(!dir.exists(".aws/config"), "{out}");
    assert!(fake.requests().is_empty(), "nothing was asked of SSO");
}

#[test]
fn in_ci_with_set_nothing_is_asked_and_no_login_happens() {
    let fake = FakeSso::start();
    let dir = TestDir::new();
    configure(
        &dir,
        &fake,
        &[("account_id", "123456789012"), ("role_name", "ReadOnly")],
    )
    .run()
    .expect_code(0)
    .expect_stdout(&["profile myprofile uses sso-session myprofile"]);
    assert!(dir
        .read(".aws/config")
        .contains("sso_role_name = ReadOnly\n"));
    assert!(fake.requests().is_empty(), "no login in CI");
    assert!(!dir.exists(&cache_file("myprofile")));
}
