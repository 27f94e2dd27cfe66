//! The SSO device login (`sso_login`, `login("sso")`, `sso_logout`, `sso_accounts`,
//! `sso_roles`) against fake SSO OIDC and portal servers (`support::fake_sso`; moto has
//! neither), with role credentials moto issued, so the rest of the flow runs against moto.
//! The cache file is compared byte for byte with what Python's `json.dumps` writes, which is
//! how the AWS CLI v2 writes it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use okscript::aws::{
    sso_accounts, sso_cache_file_name, sso_login, sso_logout, sso_roles, AwsContext, AwsError,
    Sleeper, SsoLoginOptions, TokenSource,
};

use crate::support::fake_sso::{
    FakeSso, Step, CLIENT_SECRET, DEVICE_CODE, USER_CODE, VERIFICATION_URI,
};
use crate::support::{
    create_role, create_user_with_key, rfc3339_from_now, sts_with, MotoServer, TestHome, ACCOUNT,
};
use crate::util::{Cmd, TestDir};

const CONFIG: &str = "[profile sso-admin]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = AWSAdministratorAccess\nregion = eu-west-1\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n";
const START_URL: &str = "https://corp.awsapps.com/start";
const SSO_PATH: &str = "/aws-reserved/sso.amazonaws.com/eu-west-1/";
const SSO_ROLE: &str = "AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef";

fn python() -> String {
    std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Runs a few lines of Python (stdlib only) and returns stdout as it is.
fn py(code: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(python())
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The cache file name as the AWS CLI v2 computes it: `hashlib.sha1(name).hexdigest()`.
fn cli_cache_name(key: &str) -> String {
    py(
        "import hashlib,sys; print(hashlib.sha1(sys.argv[1].encode('utf-8')).hexdigest() + '.json', end='')",
        &[key],
    )
}

/// The token file the AWS CLI v2 writes (`json.dumps` of the dict, in its key order).
fn cli_token_json(fields: &[(&str, &str)]) -> String {
    let pairs = serde_json::Value::Array(
        fields
            .iter()
            .map(|(k, v)| serde_json::json!([k, v]))
            .collect(),
    )
    .to_string();
    py(
        "import json,sys; print(json.dumps(dict(json.loads(sys.argv[1]))), end='')",
        &[&pairs],
    )
}

fn ctx(home: &TestHome, fake: &FakeSso, extra: &[(&str, &str)]) -> AwsContext {
    let mut vars = vec![
        ("AWS_PROFILE", "sso-admin"),
        ("AWS_ENDPOINT_URL_SSO_OIDC", fake.oidc_endpoint.as_str()),
        ("AWS_ENDPOINT_URL_SSO", fake.portal_endpoint.as_str()),
    ];
    vars.extend_from_slice(extra);
    home.ctx(None, &vars)
}

/// A sleeper that records each wait and returns at once.
fn recorder() -> (Sleeper, Arc<Mutex<Vec<Duration>>>) {
    let waits = Arc::new(Mutex::new(Vec::new()));
    let w = waits.clone();
    let sleeper: Sleeper = Arc::new(move |d| {
        w.lock().unwrap().push(d);
        Box::pin(async {})
    });
    (sleeper, waits)
}

fn fast() -> (SsoLoginOptions, Arc<Mutex<Vec<Duration>>>) {
    let (sleeper, waits) = recorder();
    (
        SsoLoginOptions {
            sleeper: Some(sleeper),
            ..SsoLoginOptions::default()
        },
        waits,
    )
}

fn never() -> std::future::Pending<()> {
    std::future::pending()
}

fn cache_path(home: &TestHome) -> PathBuf {
    home.path()
        .join(".aws/sso/cache")
        .join(sso_cache_file_name("corp"))
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn json_field(p: &Path, k: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    v[k].as_str().unwrap_or_default().to_string()
}

// ---- the cache file ----

#[tokio::test]
async fn a_device_login_writes_the_cli_cache_file_byte_for_byte_with_mode_0600() {
    let fake = FakeSso::start();
    let home = TestHome::new();
    home.config(CONFIG);
    let (opts, _) = fast();
    let mut shown = Vec::new();
    let login = sso_login(
        &ctx(&home, &fake, &[]),
        "sso-admin",
        &opts,
        &mut |l: &str| shown.push(l.to_string()),
        never(),
    )
    .await
    .unwrap();
    assert_eq!(login.source, TokenSource::DeviceFlow);
    assert_eq!(login.start_url, START_URL);

    // The name: SHA-1 of the sso-session name, as the CLI computes it.
    assert_eq!(sso_cache_file_name("corp"), cli_cache_name("corp"));
    let path = home
        .path()
        .join(".aws/sso/cache")
        .join(cli_cache_name("corp"));
    assert_eq!(login.cache_file, path);
    assert_eq!(mode(&path), 0o600);

    // The contents: what `json.dumps` makes of the CLI's dict, byte for byte.
    let expires_at = json_field(&path, "expiresAt");
    let reg_expires_at = json_field(&path, "registrationExpiresAt");
    assert_eq!(login.expires_at, expires_at);
    for date in [&expires_at, &reg_expires_at] {
        assert_eq!(date.len(), "2026-01-02T03:04:05Z".len(), "{date}");
        assert!(date.ends_with('Z') && date.as_bytes()[10] == b'T', "{date}");
    }
    let token = &fake.issued_tokens()[0];
    let expected = cli_token_json(&[
        ("startUrl", START_URL),
        ("region", "eu-west-1"),
        ("accessToken", token),
        ("expiresAt", &expires_at),
        ("clientId", "fake-client-id-okscript"),
        ("clientSecret", CLIENT_SECRET),
        ("registrationExpiresAt", &reg_expires_at),
        ("refreshToken", "fake-refresh-token-0001-f6e5d4c3b2a1"),
    ]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    // About 8 hours (the fake's expiresIn) and 90 days from now.
    let in_8h = rfc3339_from_now(8 * 3600);
    assert!(
        expires_at[..13] == in_8h[..13] || expires_at <= in_8h,
        "{expires_at} vs {in_8h}"
    );
    assert!(reg_expires_at > rfc3339_from_now(89 * 24 * 3600));

    // The registration request okscript sent.
    let reg = &fake.requests_to("/client/register")[0];
    assert_eq!(reg.body["clientName"], "okscript");
    assert_eq!(reg.body["clientType"], "public");
    assert_eq!(
        reg.body["scopes"],
        serde_json::json!(["sso:account:access"])
    );
    let auth = &fake.requests_to("/device_authorization")[0];
    assert_eq!(auth.body["startUrl"], START_URL);
    // What the person is shown: the URL with the code, and the code; never a secret.
    let text = shown.join("\n");
    assert!(
        text.contains(&format!("{VERIFICATION_URI}?user_code={USER_CODE}")),
        "{text}"
    );
    assert!(text.contains(USER_CODE), "{text}");
    for secret in [CLIENT_SECRET, DEVICE_CODE, token.as_str()] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[tokio::test]
async fn a_valid_cli_cache_is_used_without_a_new_login() {
    let fake = FakeSso::start();
    let home = TestHome::new();
    home.config(CONFIG);
    let path = home.sso_token(
        "corp",
        START_URL,
        "cli-access-token",
        &rfc3339_from_now(3600),
    );
    let before = std::fs::read(&path).unwrap();
    let (opts, _) = fast();
    let login = sso_login(
        &ctx(&home, &fake, &[]),
        "sso-admin",
        &opts,
        &mut |_| {},
        never(),
    )
    .await
    .unwrap();
    assert_eq!(login.source, TokenSource::Cached);
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the CLI's file is untouched"
    );
}

#[tokio::test]
async fn an_expired_token_is_refreshed_with_its_refresh_token() {
    let fake = FakeSso::start();
    let home = TestHome::new();
    home.config(CONFIG);
    let c = ctx(&home, &fake, &[]);
    let (opts, _) = fast();
    sso_login(&c, "sso-admin", &opts, &mut |_| {}, never())
        .await
        .unwrap();
    // Age the token as time would.
    let path = cache_path(&home);
    let text = std::fs::read_to_string(&path).unwrap();
    let old_expiry = json_field(&path, "expiresAt");
    std::fs::write(&path, text.replace(&old_expiry, &rfc3339_from_now(-60))).unwrap();

    let login = sso_login(&c, "sso-admin", &opts, &mut |_| {}, never())
        .await
        .unwrap();
    assert_eq!(login.source, TokenSource::Refreshed);
    let tokens = fake.requests_to("/token");
    let last = tokens.last().unwrap();
    assert_eq!(last.body["grantType"], "refresh_token");
    assert_eq!(
        last.body["refreshToken"],
        "fake-refresh-token-0001-f6e5d4c3b2a1"
    );
    assert_eq!(
        fake.requests_to("/device_authorization").len(),
        1,
        "no second device login"
    );
    assert_eq!(
        fake.requests_to("/client/register").len(),
        1,
        "the registration was cached"
    );
    assert_eq!(json_field(&path, "accessToken"), fake.issued_tokens()[1]);
    assert!(json_field(&path, "expiresAt") > rfc3339_from_now(3600));
    assert_eq!(mode(&path), 0o600);
}

#[tokio::test]
async fn a_refused_refresh_or_an_unrefreshable_expired_token_runs_the_device_flow() {
    let fake = FakeSso::start();
    fake.refresh_ok(false);
    let home = TestHome::new();
    home.config(CONFIG);
    let c = ctx(&home, &fake, &[]);
    let (opts, _) = fast();
    // Expired, from the CLI, without a refresh token.
    home.sso_token(
        "corp",
        START_URL,
        "cli-access-token",
        &rfc3339_from_now(-60),
    );
    let login = sso_login(&c, "sso-admin", &opts, &mut |_| {}, never())
        .await
        .unwrap();
    assert_eq!(login.source, TokenSource::DeviceFlow);
    assert_eq!(fake.requests_to("/device_authorization").len(), 1);

    // Expired with a refresh token the server refuses: a device login again.
    let path = cache_path(&home);
    let expiry = json_field(&path, "expiresAt");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace(&expiry, &rfc3339_from_now(-60))).unwrap();
    let mut shown = Vec::new();
    let login = sso_login(
        &c,
        "sso-admin",
        &opts,
        &mut |l: &str| shown.push(l.to_string()),
        never(),
    )
    .await
    .unwrap();
    assert_eq!(login.source, TokenSource::DeviceFlow);
    assert_eq!(fake.requests_to("/device_authorization").len(), 2);
    assert!(
        shown[0].contains("could not be refreshed (InvalidGrantException)"),
        "{shown:?}"
    );
    assert!(
        !shown.join("\n").contains("fake-refresh-token"),
        "{shown:?}"
    );
}

// ---- polling ----

#[tokio::test]
async fn pending_and_slow_down_are_honoured_with_the_servers_interval() {
    let fake = FakeSso::start();
    fake.interval(2)
        .steps(&[Step::Pending, Step::Pending, Step::SlowDown, Step::Pending]);
    let home = TestHome::new();
    home.config(CONFIG);
    let (opts, waits) = fast();
    let login = sso_login(
        &ctx(&home, &fake, &[]),
        "sso-admin",
        &opts,
        &mut |_| {},
        never(),
    )
    .await
    .unwrap();
    assert_eq!(login.source, TokenSource::DeviceFlow);
    let s = Duration::from_secs;
    // A wait before every poll; slow_down adds 5 s for good.
    assert_eq!(*waits.lock().unwrap(), vec![s(2), s(2), s(2), s(7), s(7)]);
    let polls = fake.requests_to("/token");
    assert_eq!(polls.len(), 5);
    assert!(polls.iter().all(|p| p.body["deviceCode"] == DEVICE_CODE
        && p.body["grantType"] == "urn:ietf:params:oauth:grant-type:device_code"));
}

#[tokio::test]
async fn polling_in_real_time_keeps_the_interval_between_requests() {
    let fake = FakeSso::start();
    fake.interval(1).steps(&[Step::Pending, Step::Pending]);
    let home = TestHome::new();
    home.config(CONFIG);
    sso_login(
        &ctx(&home, &fake, &[]),
        "sso-admin",
        &SsoLoginOptions::default(),
        &mut |_| {},
        never(),
    )
    .await
    .unwrap();
    let start = fake.requests_to("/device_authorization")[0].at;
    let polls: Vec<_> = fake.requests_to("/token").iter().map(|r| r.at).collect();
    assert_eq!(polls.len(), 3);
    let mut previous = start;
    for at in polls {
        assert!(at.duration_since(previous) >= Duration::from_millis(990));
        previous = at;
    }
}

#[tokio::test]
async fn an_expired_device_code_is_a_clear_error_and_nothing_is_cached() {
    let fake = FakeSso::start();
    fake.steps(&[Step::Pending, Step::Expired]);
    let home = TestHome::new();
    home.config(CONFIG);
    let (opts, _) = fast();
    let err = sso_login(
        &ctx(&home, &fake, &[]),
        "sso-admin",
        &opts,
        &mut |_| {},
        never(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, AwsError::SsoDeviceCodeExpired { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("the code expired"), "{err}");
    assert!(err.hint().unwrap().contains("run it again"));
    assert!(!cache_path(&home).exists());

    // A code that outlives its expiresIn without the server saying so ends the same way.
    let fake = FakeSso::start();
    fake.device_expires_in(3)
        .steps(&[Step::Pending, Step::Pending, Step::Pending, Step::Pending]);
    let err = sso_login(
        &ctx(&home, &fake, &[]),
        "sso-admin",
        &opts,
        &mut |_| {},
        never(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, AwsError::SsoDeviceCodeExpired { .. }),
        "{err:?}"
    );
    assert_eq!(fake.requests_to("/token").len(), 3);
    assert!(!cache_path(&home).exists());
}

#[tokio::test]
async fn a_declined_login_says_so_and_caches_nothing() {
    let fake = FakeSso::start();
    fake.steps(&[Step::Pending, Step::Denied]);
    let home = TestHome::new();
    home.config(CONFIG);
    let (opts, _) = fast();
    let err = sso_login(
        &ctx(&home, &fake, &[]),
        "sso-admin",
        &opts,
        &mut |_| {},
        never(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AwsError::SsoLoginDeclined { .. }), "{err:?}");
    assert!(err.to_string().contains("declined"), "{err}");
    assert!(!cache_path(&home).exists());
}

#[tokio::test]
async fn cancelling_stops_the_wait_cleanly_without_a_cache_file() {
    let fake = FakeSso::start();
    fake.interval(5).steps(&[Step::Pending; 10]);
    let home = TestHome::new();
    home.config(CONFIG);
    let started = std::time::Instant::now();
    let err = sso_login(
        &ctx(&home, &fake, &[]),
        "sso-admin",
        &SsoLoginOptions::default(),
        &mut |_| {},
        tokio::time::sleep(Duration::from_millis(300)),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AwsError::SsoLoginCancelled { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(fake.requests_to("/token").is_empty());
    assert!(!cache_path(&home).exists());
    let leftovers: Vec<_> = std::fs::read_dir(home.path().join(".aws/sso/cache"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

// ---- logout, accounts, roles ----

#[tokio::test]
async fn logout_removes_the_cached_token_and_says_whether_there_was_one() {
    let fake = FakeSso::start();
    let home = TestHome::new();
    home.config(CONFIG);
    let c = ctx(&home, &fake, &[]);
    let path = home.sso_token(
        "corp",
        START_URL,
        "cli-access-token",
        &rfc3339_from_now(3600),
    );
    assert_eq!(sso_logout(&c, "sso-admin").unwrap(), Some(path.clone()));
    assert!(!path.exists());
    assert_eq!(sso_logout(&c, "sso-admin").unwrap(), None);
    let err = sso_logout(&c, "nope").unwrap_err();
    assert!(matches!(err, AwsError::ProfileNotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn accounts_and_roles_are_listed_over_every_page() {
    let fake = FakeSso::start();
    fake.accept_token("cli-access-token")
        .account(
            ACCOUNT,
            "prod",
            "prod@example.com",
            &["AWSAdministratorAccess", "ReadOnly", "Billing"],
        )
        .account("210987654321", "dev", "dev@example.com", &["Developer"])
        .account("111111111111", "sandbox", "sandbox@example.com", &[]);
    let home = TestHome::new();
    home.config(CONFIG);
    home.sso_token(
        "corp",
        START_URL,
        "cli-access-token",
        &rfc3339_from_now(3600),
    );
    let c = ctx(&home, &fake, &[]);
    let accounts = sso_accounts(&c, "sso-admin").await.unwrap();
    let ids: Vec<_> = accounts.iter().map(|a| a.account_id.as_str()).collect();
    assert_eq!(ids, [ACCOUNT, "210987654321", "111111111111"]);
    assert_eq!(accounts[1].name, "dev");
    assert_eq!(accounts[1].email, "dev@example.com");
    let pages = fake.requests_to("/assignment/accounts");
    assert_eq!(pages.len(), 3, "one account per page");
    assert!(pages
        .iter()
        .all(|p| p.bearer.as_deref() == Some("cli-access-token")));
    assert_eq!(
        sso_roles(&c, "sso-admin", ACCOUNT).await.unwrap(),
        ["AWSAdministratorAccess", "ReadOnly", "Billing"]
    );
    assert_eq!(
        fake.requests_to("/assignment/roles")[0].query["account_id"],
        ACCOUNT
    );
}

// ---- through the binary ----

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Role credentials moto issued for the SSO role (with its path), as the portal would.
fn sso_role_credentials(moto: &MotoServer) -> (String, String, String) {
    block_on(async {
        let role = create_role(moto, SSO_ROLE, Some(SSO_PATH)).await;
        let (key, secret) = create_user_with_key(moto, "sso-federation", None, true).await;
        let out = sts_with(moto, &key, &secret, None)
            .assume_role()
            .role_arn(role)
            .role_session_name("someone@example.com")
            .send()
            .await
            .unwrap();
        let c = out.credentials().unwrap();
        (
            c.access_key_id().to_string(),
            c.secret_access_key().to_string(),
            c.session_token().to_string(),
        )
    })
}

fn sso_cmd(dir: &TestDir, fake: &FakeSso, moto: Option<&MotoServer>) -> Cmd {
    let mut cmd = dir
        .cmd()
        .env("AWS_PROFILE", "sso-admin")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ENDPOINT_URL_SSO_OIDC", &fake.oidc_endpoint)
        .env("AWS_ENDPOINT_URL_SSO", &fake.portal_endpoint);
    if let Some(m) = moto {
        cmd = cmd.env("AWS_ENDPOINT_URL", &m.endpoint());
    }
    cmd
}

fn dir_cache_file() -> String {
    format!(".aws/sso/cache/{}", sso_cache_file_name("corp"))
}

/// Every file under `dir` except the SSO cache (which holds tokens by design).
fn files_outside_the_sso_cache(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.ends_with(".aws/sso/cache") {
            continue;
        }
        if p.is_dir() {
            files_outside_the_sso_cache(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn login_sso_runs_the_device_flow_and_ends_as_the_path_less_sso_role() {
    let moto = MotoServer::start();
    let (key, secret, session_token) = sso_role_credentials(&moto);
    let fake = FakeSso::start();
    fake.interval(1)
        .steps(&[Step::Pending])
        .role_credentials(&key, &secret, &session_token);
    let dir = TestDir::new();
    dir.write(".aws/config", CONFIG);
    dir.write(
        "login.rhai",
        "let me = login(\"sso\");\nprint(me.principal_arn);\nprint(whoami().principal_arn);\nprint(me.type);\n",
    );
    let out = sso_cmd(&dir, &fake, Some(&moto))
        .args(["run", "login.rhai", "--no-browser"])
        .run();
    let role = format!("arn:aws:iam::{ACCOUNT}:role/{SSO_ROLE}");
    out.expect_code(0)
        .expect_stdout(&[&format!("{role}\n{role}\nsso\n")])
        .expect_stderr(&[
            &format!("{VERIFICATION_URI}?user_code={USER_CODE}"),
            &format!("the code {USER_CODE}"),
        ]);
    // GetRoleCredentials got the token the device flow produced.
    let creds = fake.requests_to("/federation/credentials");
    assert!(!creds.is_empty());
    for c in &creds {
        assert_eq!(c.query["role_name"], "AWSAdministratorAccess");
        assert_eq!(c.query["account_id"], ACCOUNT);
        assert_eq!(c.bearer.as_deref(), Some(fake.issued_tokens()[0].as_str()));
    }
    // Not a terminal: no spinner in the log.
    assert!(
        !out.stderr.contains("waiting for the login:") && !out.stderr.contains('\r'),
        "{out}"
    );
    let cache = dir_cache_file();
    assert_eq!(dir.mode(&cache), 0o600);
    assert_eq!(
        json_field(&dir.join(&cache), "accessToken"),
        fake.issued_tokens()[0]
    );

    // The second run uses the cached login: no OIDC request at all.
    let before = fake.requests().len();
    sso_cmd(&dir, &fake, Some(&moto))
        .args(["run", "login.rhai", "--no-browser"])
        .run()
        .expect_code(0);
    let oidc_after: Vec<_> = fake.requests()[before..]
        .iter()
        .filter(|r| !r.path.starts_with("/federation"))
        .map(|r| r.path.clone())
        .collect();
    assert!(oidc_after.is_empty(), "{oidc_after:?}");

    // No secret in the output or in any file but the SSO cache.
    let mut files = Vec::new();
    files_outside_the_sso_cache(dir.path(), &mut files);
    let token = fake.issued_tokens()[0].clone();
    let secrets = [
        CLIENT_SECRET,
        DEVICE_CODE,
        token.as_str(),
        "fake-refresh-token-0001",
        &secret,
        &session_token,
    ];
    for s in secrets {
        assert!(
            !out.stdout.contains(s) && !out.stderr.contains(s),
            "leaked {s}:\n{out}"
        );
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            assert!(!text.contains(s), "{} holds {s}", f.display());
        }
    }
}

#[test]
fn the_browser_is_opened_with_a_display_and_never_with_no_browser() {
    let fake = FakeSso::start();
    fake.interval(1).accept_token("unused");
    let dir = TestDir::new();
    dir.write(".aws/config", CONFIG);
    dir.write("login.rhai", "print(sso_login().start_url);\n");
    let opened = dir.join("opened.txt");
    dir.write(
        "bin/xdg-open",
        format!("#!/bin/sh\necho \"$1\" >> '{}'\n", opened.display()),
    );
    dir.set_mode("bin/xdg-open", 0o755);
    let path = format!(
        "{}:{}",
        dir.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    sso_cmd(&dir, &fake, None)
        .env("PATH", &path)
        .env("DISPLAY", ":0")
        .args(["run", "login.rhai"])
        .run()
        .expect_code(0)
        .expect_stdout(&[START_URL])
        .expect_stderr(&["a browser was opened"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !opened.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        std::fs::read_to_string(&opened).unwrap().trim(),
        format!("{VERIFICATION_URI}?user_code={USER_CODE}")
    );

    // --no-browser: the URL and code are printed, the browser is left alone.
    std::fs::remove_file(&opened).unwrap();
    dir.write("logout.rhai", "print(sso_logout());\n");
    sso_cmd(&dir, &fake, None)
        .args(["run", "logout.rhai"])
        .run()
        .expect_code(0)
        .expect_stdout(&["true"]);
    sso_cmd(&dir, &fake, None)
        .env("PATH", &path)
        .env("DISPLAY", ":0")
        .args(["run", "login.rhai", "--no-browser"])
        .run()
        .expect_code(0)
        .expect_stderr(&[
            &format!("{VERIFICATION_URI}?user_code={USER_CODE}"),
            USER_CODE,
        ]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!opened.exists(), "--no-browser opened a browser");
}

#[test]
fn sso_functions_use_the_cli_login_list_what_it_reaches_and_log_out() {
    let fake = FakeSso::start();
    fake.accept_token("cli-access-token")
        .account(
            ACCOUNT,
            "prod",
            "prod@example.com",
            &["AWSAdministratorAccess", "ReadOnly"],
        )
        .account("210987654321", "dev", "dev@example.com", &["Developer"]);
    let dir = TestDir::new();
    dir.write(".aws/config", CONFIG);
    let cache = dir_cache_file();
    dir.write(
        &cache,
        cli_token_json(&[
            ("startUrl", START_URL),
            ("region", "eu-west-1"),
            ("accessToken", "cli-access-token"),
            ("expiresAt", &rfc3339_from_now(3600)),
        ]),
    );
    dir.write(
        "sso.rhai",
        "let l = sso_login();\nprint(`${l.profile} ${l.start_url} ${l.expires_at.len()}`);\nprint(l.keys());\nfor a in sso_accounts() { print(`${a.account_id} ${a.name} ${a.email}`); }\nprint(sso_roles(\"123456789012\"));\nprint(sso_logout());\nprint(sso_logout(\"sso-admin\"));\n",
    );
    let out = sso_cmd(&dir, &fake, None).args(["run", "sso.rhai"]).run();
    out.expect_code(0).expect_stdout(&[
        &format!("sso-admin {START_URL} 20\n"),
        "[\"expires_at\", \"profile\", \"start_url\"]",
        &format!("{ACCOUNT} prod prod@example.com\n210987654321 dev dev@example.com\n"),
        "[\"AWSAdministratorAccess\", \"ReadOnly\"]\ntrue\nfalse\n",
    ]);
    assert!(!dir.exists(&cache));
    assert!(
        fake.requests_to("/token").is_empty(),
        "the CLI's login was used"
    );
    assert!(!out.stdout.contains("cli-access-token") && !out.stderr.contains("cli-access-token"));
}

#[test]
fn an_expired_device_code_fails_the_script_with_advice_and_no_cache() {
    let fake = FakeSso::start();
    fake.interval(1).steps(&[Step::Expired]);
    let dir = TestDir::new();
    dir.write(".aws/config", CONFIG);
    dir.write("login.rhai", "sso_login();\n");
    sso_cmd(&dir, &fake, None)
        .args(["run", "login.rhai", "--no-browser"])
        .run()
        .expect_code(1)
        .expect_stderr(&["the code expired", "run it again"]);
    assert!(!dir.exists(&dir_cache_file()));
}
