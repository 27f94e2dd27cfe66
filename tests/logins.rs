//! Issue 10, items 7, 8 and 11: logins that fit every place okscript runs. With no `-a`,
//! okscript logs in the way every AWS tool does (the SDK's default chain: keys in the
//! environment, the profile, web identity, ...); `okscript token` is a drop-in for
//! `aws eks get-token` (kubectl through it, ExecCredential in the version kubectl asks
//! for); `okscript kubeconfig` writes exec args that log in the same way again; a broken
//! `~/.aws/config` is reported with its file and line.

use std::path::Path;

use serde_json::Value;

use crate::support::kube_api::{EksAuth, KubeApi, Options};
use crate::support::{create_cluster, create_role, create_user_with_key, MotoServer, ACCOUNT};
use crate::util::{script, Cmd, TestDir};

const CLUSTER: &str = "my-cluster";
const REGION: &str = "eu-north-1";
const KUBECTL: &str = "/usr/bin/kubectl";

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A command pointed at moto with no credentials and no credentials type chosen.
fn bare(dir: &TestDir, moto: &MotoServer) -> Cmd {
    dir.cmd()
        .env("AWS_ENDPOINT_URL", &moto.endpoint())
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
}

/// The same with keys in the environment, as CI and `aws configure export-credentials` leave them.
fn with_env_keys(dir: &TestDir, moto: &MotoServer, key: &str, secret: &str) -> Cmd {
    bare(dir, moto)
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
}

#[test]
fn keys_in_the_environment_log_in_without_a_credentials_type() {
    // Before: "AWS profile `default` does not exist" although the keys were right there.
    let moto = MotoServer::start();
    let (key, secret) = block_on(create_user_with_key(&moto, "ci-bot", None, false));
    let dir = TestDir::new();
    let out = with_env_keys(&dir, &moto, &key, &secret)
        .arg("run")
        .arg(script("whoami.rhai"))
        .run();
    out.expect_code(0).expect_stdout(&[
        &format!("aws-auth maps:  arn:aws:iam::{ACCOUNT}:user/ci-bot"),
        "credentials:    access-key",
    ]);
    assert!(!out.stdout.contains(&secret) && !out.stderr.contains(&secret));
}

#[test]
fn a_web_identity_token_file_and_role_arn_log_in_as_ci_does() {
    // IRSA and GitHub OIDC: a token file and a role ARN in the environment, nothing else.
    let moto = MotoServer::start();
    let role = block_on(create_role(&moto, "ci-deployer", None));
    let dir = TestDir::new();
    dir.write(
        "token.jwt",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmNpIn0.c2ln",
    );
    let out = bare(&dir, &moto)
        .env(
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            &dir.join("token.jwt").display().to_string(),
        )
        .env("AWS_ROLE_ARN", &role)
        .env("AWS_ROLE_SESSION_NAME", "github-run-42")
        .arg("run")
        .arg(script("whoami.rhai"))
        .run();
    out.expect_code(0).expect_stdout(&[
        "credentials:    web-identity",
        &format!("aws-auth maps:  arn:aws:iam::{ACCOUNT}:role/ci-deployer"),
        "github-run-42",
    ]);
    // A role ARN without its token file says which half is missing.
    bare(&dir, &moto)
        .env("AWS_ROLE_ARN", &role)
        .arg("run")
        .arg(script("whoami.rhai"))
        .run()
        .expect_code(1)
        .expect_stderr(&["AWS_WEB_IDENTITY_TOKEN_FILE"]);
}

#[test]
fn with_no_credentials_anywhere_the_error_says_where_it_looked() {
    let moto = MotoServer::start();
    let dir = TestDir::new();
    let started = std::time::Instant::now();
    let out = bare(&dir, &moto)
        .arg("run")
        .arg(script("whoami.rhai"))
        .run();
    out.expect_code(1)
        .expect_stderr(&["no AWS credentials found", "hint:", "AWS_PROFILE"]);
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}

#[test]
fn profile_flag_picks_the_profile_over_keys_in_the_environment() {
    let moto = MotoServer::start();
    let (key, secret) = block_on(create_user_with_key(&moto, "env-user", None, false));
    let (key2, secret2) = block_on(create_user_with_key(&moto, "profile-user", None, false));
    let dir = TestDir::new();
    dir.write(
        ".aws/credentials",
        format!("[other]\naws_access_key_id = {key2}\naws_secret_access_key = {secret2}\n"),
    );
    with_env_keys(&dir, &moto, &key, &secret)
        .arg("run")
        .arg(script("whoami.rhai"))
        .args(["--profile", "other"])
        .run()
        .expect_code(0)
        .expect_stdout(&[
            &format!("aws-auth maps:  arn:aws:iam::{ACCOUNT}:user/profile-user"),
            "(profile other)",
        ]);
    // A --profile that does not exist is an error, never a quiet fall back to the keys.
    with_env_keys(&dir, &moto, &key, &secret)
        .arg("run")
        .arg(script("whoami.rhai"))
        .args(["--profile", "othr"])
        .run()
        .expect_code(1)
        .expect_stderr(&["othr", "other"]);
}

#[test]
fn a_broken_aws_config_is_reported_with_its_file_and_line_by_every_login() {
    let moto = MotoServer::start();
    let (key, secret) = block_on(create_user_with_key(&moto, "someone", None, false));
    let dir = TestDir::new();
    dir.write(
        ".aws/credentials",
        format!("[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"),
    );
    let config = "[default]\nregion = eu-west-1\n\n[profile dev]\nregion eu-north-1\n";
    dir.write(".aws/config", config);
    // The default chain, an explicit profile login, and the token command all say so.
    for extra in [&[][..], &["-a", "aws-profile"][..]] {
        let out = bare(&dir, &moto)
            .arg("run")
            .arg(script("whoami.rhai"))
            .args(extra)
            .run();
        out.expect_code(1)
            .expect_stderr(&[".aws/config:5:", "region eu-north-1", "hint:"]);
        assert!(!out.stderr.contains("could not parse profile file"));
    }
    bare(&dir, &moto)
        .args(["token", "--cluster", CLUSTER])
        .run()
        .expect_code(1)
        .expect_stderr(&[".aws/config:5:"]);
    assert_eq!(dir.read(".aws/config"), config, "never rewritten");
}

#[test]
fn token_answers_in_the_exec_credential_version_kubectl_asks_for() {
    let moto = MotoServer::start();
    let (key, secret) = block_on(create_user_with_key(&moto, "kubectl-user", None, false));
    let dir = TestDir::new();
    let token = |exec_info: Option<&str>| {
        let mut cmd = with_env_keys(&dir, &moto, &key, &secret);
        if let Some(info) = exec_info {
            cmd = cmd.env("KUBERNETES_EXEC_INFO", info);
        }
        let out = cmd.args(["token", "--cluster", CLUSTER]).run();
        out.expect_code(0);
        let cred: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(cred["kind"], "ExecCredential");
        assert!(cred["status"]["token"]
            .as_str()
            .unwrap()
            .starts_with("k8s-aws-v1."));
        (
            cred["apiVersion"].as_str().unwrap().to_string(),
            out.stderr.clone(),
        )
    };
    let v1 = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#;
    let v1beta1 = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}"#;
    assert_eq!(token(Some(v1)).0, "client.authentication.k8s.io/v1");
    assert_eq!(
        token(Some(v1beta1)).0,
        "client.authentication.k8s.io/v1beta1"
    );
    // kubectl before 1.20 says nothing: v1beta1, as `aws eks get-token` answers.
    assert_eq!(token(None).0, "client.authentication.k8s.io/v1beta1");
    let (version, stderr) = token(Some("{not json"));
    assert_eq!(version, "client.authentication.k8s.io/v1beta1");
    assert!(stderr.contains("KUBERNETES_EXEC_INFO"), "{stderr}");
}

/// moto with a cluster, a fake apiserver that checks EKS tokens against moto, and an IAM
/// user mapped to system:masters.
struct World {
    moto: MotoServer,
    kube: KubeApi,
    key: String,
    secret: String,
    dir: TestDir,
}

impl World {
    fn new() -> World {
        let moto = MotoServer::start();
        block_on(create_cluster(&moto, REGION, CLUSTER));
        let (key, secret) = block_on(create_user_with_key(&moto, "cluster-admin", None, true));
        let kube = KubeApi::start(
            Options::new()
                .admin_token("static-admin")
                .eks(EksAuth::new(CLUSTER, &moto.endpoint()).with_secret(&key, &secret)),
        );
        kube.seed_aws_auth(&[(
            "mapUsers",
            &format!("- userarn: arn:aws:iam::{ACCOUNT}:user/cluster-admin\n  username: cluster-admin\n  groups:\n  - system:masters\n"),
        )]);
        World {
            moto,
            kube,
            key,
            secret,
            dir: TestDir::new(),
        }
    }

    /// `okscript kubeconfig` into FILE, with keys in the environment and `extra` settings.
    fn kubeconfig(&self, file: &Path, extra: &[(&str, &str)]) -> Value {
        let mut cmd = with_env_keys(&self.dir, &self.moto, &self.key, &self.secret);
        for (k, v) in extra {
            cmd = cmd.env(k, v);
        }
        cmd.args([
            "kubeconfig",
            "--cluster",
            CLUSTER,
            "--server",
            self.kube.url(),
        ])
        .arg("--certificate-authority")
        .arg(self.kube.ca_file())
        .arg("--kubeconfig")
        .arg(file)
        .run()
        .expect_code(0);
        let doc: Value = serde_saphyr::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        doc["users"][0]["user"]["exec"].clone()
    }
}

#[test]
fn kubeconfig_exec_args_reproduce_the_login_that_wrote_them() {
    let w = World::new();
    // Chosen through the environment: a fresh shell may not have that variable, so -a goes in.
    let file = w.dir.join("chosen.kubeconfig");
    let exec = w.kubeconfig(&file, &[("OKSCRIPT_AWS_CREDENTIALS_TYPE", "access-key")]);
    let args: Vec<&str> = exec["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        args,
        [
            "token",
            "--cluster",
            CLUSTER,
            "--region",
            REGION,
            "-a",
            "access-key"
        ]
    );
    // The default chain chose: nothing to repeat, the chain chooses again.
    let file = w.dir.join("default.kubeconfig");
    let exec = w.kubeconfig(&file, &[]);
    assert_eq!(
        exec["args"],
        serde_json::json!(["token", "--cluster", CLUSTER, "--region", REGION])
    );
    assert!(exec["env"].is_null(), "{exec}");
}

#[test]
fn kubectl_works_through_okscript_token_with_keys_only_in_the_environment() {
    if !Path::new(KUBECTL).exists() {
        eprintln!(
            "SKIPPED: {KUBECTL} is not installed, so kubectl cannot be run through okscript token"
        );
        return;
    }
    let w = World::new();
    let file = w.dir.join("kubeconfig");
    w.kubeconfig(&file, &[]);
    // A client.authentication.k8s.io/v1 kubeconfig: kubectl then asks for v1 ExecCredentials.
    let text = std::fs::read_to_string(&file).unwrap();
    let v1 = text.replace(
        "client.authentication.k8s.io/v1beta1",
        "client.authentication.k8s.io/v1",
    );
    assert_ne!(text, v1, "the kubeconfig names an exec apiVersion");
    std::fs::write(&file, v1).unwrap();
    w.kube.seed_pod("default", "web-1");
    let kubectl = std::process::Command::new(KUBECTL)
        .arg("--kubeconfig")
        .arg(&file)
        .args(["get", "pods", "-o", "name"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", w.dir.path())
        .env("AWS_ACCESS_KEY_ID", &w.key)
        .env("AWS_SECRET_ACCESS_KEY", &w.secret)
        .env("AWS_ENDPOINT_URL", w.moto.endpoint())
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&kubectl.stdout);
    assert!(
        kubectl.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&kubectl.stderr)
    );
    assert!(stdout.contains("pod/web-1"), "{stdout}");
}

// Item 9: `okscript login` / `okscript logout`, the authorization code grant with PKCE.

const SSO_CONFIG: &str = "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = AWSAdministratorAccess\nregion = eu-west-1\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n";

/// A "browser" that fetches the URL it is given and follows the redirect, as a person's
/// browser does after they approve.
const BROWSER: &str = "#!/bin/sh\nexec python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1]).read()' \"$1\"\n";

fn sso_cmd(dir: &TestDir, fake: &crate::support::fake_sso::FakeSso) -> Cmd {
    dir.write(".aws/config", SSO_CONFIG);
    dir.cmd()
        .env("AWS_ENDPOINT_URL_SSO_OIDC", &fake.oidc_endpoint)
        .env("AWS_ENDPOINT_URL_SSO", &fake.portal_endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true")
}

fn with_browser(dir: &TestDir, cmd: Cmd) -> Cmd {
    dir.write("browser.sh", BROWSER);
    dir.set_mode("browser.sh", 0o755);
    cmd.env("BROWSER", &dir.join("browser.sh").display().to_string())
}

/// The SSO token cache files (not the client registrations) under the temp HOME.
fn cached_tokens(dir: &TestDir) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join(".aws/sso/cache")) else {
        return Vec::new();
    };
    entries
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .filter(|t| t.contains("accessToken"))
        .collect()
}

#[test]
fn login_runs_the_authorization_code_flow_with_pkce_and_logout_removes_the_token() {
    use crate::support::fake_sso::{FakeSso, CLIENT_SECRET};
    let fake = FakeSso::start();
    let dir = TestDir::new();
    let out = with_browser(&dir, sso_cmd(&dir, &fake))
        .args(["login", "--profile", "dev"])
        .run();
    out.expect_code(0)
        .expect_stderr(&["logged in to AWS SSO for profile `dev`", "/authorize?"]);
    // RegisterClient asked for the authorization code grant and a loopback redirect.
    let register = &fake.requests_to("/client/register")[0].body;
    assert_eq!(
        register["grantTypes"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(register["issuerUrl"], "https://corp.awsapps.com/start");
    assert!(register["redirectUris"][0]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1"));
    // The browser went to the authorize page; CreateToken sent the code and its verifier
    // (the fake checks that the verifier hashes to the challenge).
    let authorize = &fake.requests_to("/authorize")[0].query;
    assert_eq!(authorize["code_challenge_method"], "S256");
    assert_eq!(authorize["scopes"], "sso:account:access");
    let token = &fake.requests_to("/token")[0].body;
    assert_eq!(token["grantType"], "authorization_code");
    assert!(!token["codeVerifier"].as_str().unwrap().is_empty());
    // The same cache file the device flow and the AWS CLI v2 write.
    let tokens = cached_tokens(&dir);
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert!(tokens[0].contains("\"startUrl\": \"https://corp.awsapps.com/start\""));
    assert_eq!(
        dir.mode(&format!(
            ".aws/sso/cache/{}",
            std::fs::read_dir(dir.join(".aws/sso/cache"))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .find(|n| dir
                    .read(&format!(".aws/sso/cache/{n}"))
                    .contains("accessToken"))
                .unwrap()
        )),
        0o600
    );
    for secret in fake
        .issued_tokens()
        .iter()
        .map(String::as_str)
        .chain([CLIENT_SECRET])
    {
        assert!(!out.stderr.contains(secret) && !out.stdout.contains(secret));
    }
    sso_cmd(&dir, &fake)
        .args(["logout", "--profile", "dev"])
        .run()
        .expect_code(0)
        .expect_stderr(&["logged out", "removed"]);
    assert!(cached_tokens(&dir).is_empty());
}

#[test]
fn a_redirect_with_another_state_is_refused_and_nothing_is_cached() {
    use crate::support::fake_sso::FakeSso;
    let fake = FakeSso::start();
    fake.forge_state();
    let dir = TestDir::new();
    let out = with_browser(&dir, sso_cmd(&dir, &fake))
        .args(["login", "--profile", "dev"])
        .run();
    out.expect_code(1)
        .expect_stderr(&["state this login did not send", "hint:"]);
    assert!(
        fake.requests_to("/token").is_empty(),
        "no code was redeemed"
    );
    assert!(cached_tokens(&dir).is_empty());
}

#[test]
fn a_login_without_a_terminal_or_browser_fails_at_once_with_the_command_to_run() {
    use crate::support::fake_sso::FakeSso;
    let fake = FakeSso::start();
    let dir = TestDir::new();
    let started = std::time::Instant::now();
    let out = sso_cmd(&dir, &fake)
        .args(["login", "--profile", "dev"])
        .run();
    let took = started.elapsed();
    out.expect_code(1).expect_stderr(&[
        "needs a person",
        "okscript login --profile dev",
        "--use-device-code",
    ]);
    assert!(took < std::time::Duration::from_secs(1), "took {took:?}");
    assert!(fake.requests().is_empty(), "nothing was asked of SSO");
}

#[test]
fn use_device_code_logs_in_headless_printing_the_url_and_code() {
    use crate::support::fake_sso::{FakeSso, USER_CODE};
    let fake = FakeSso::start();
    let dir = TestDir::new();
    sso_cmd(&dir, &fake)
        .args(["login", "--profile", "dev", "--use-device-code"])
        .run()
        .expect_code(0)
        .expect_stderr(&[USER_CODE, "logged in to AWS SSO for profile `dev`"]);
    assert!(fake.requests_to("/authorize").is_empty());
    assert_eq!(cached_tokens(&dir).len(), 1);
}

#[test]
fn an_expired_sso_token_that_cannot_be_refreshed_is_reported_as_exactly_that() {
    use crate::support::fake_sso::{FakeSso, CLIENT_SECRET};
    let fake = FakeSso::start();
    fake.refresh_ok(false);
    let dir = TestDir::new();
    let cmd = sso_cmd(&dir, &fake);
    let key = okscript::aws::sso_cache_file_name("corp");
    let in_a_day = crate::support::rfc3339_from_now(24 * 3600);
    dir.write(
        &format!(".aws/sso/cache/{key}"),
        serde_json::json!({
            "startUrl": "https://corp.awsapps.com/start",
            "region": "eu-west-1",
            "accessToken": "fake-access-token-expired-0000",
            "expiresAt": crate::support::rfc3339_from_now(-3600),
            "refreshToken": "fake-refresh-token-revoked-0000",
            "clientId": "fake-client-id-okscript",
            "clientSecret": CLIENT_SECRET,
            "registrationExpiresAt": in_a_day,
        })
        .to_string(),
    );
    let out = cmd
        .env("AWS_PROFILE", "dev")
        .args(["token", "--cluster", CLUSTER, "-a", "sso"])
        .run();
    out.expect_code(1)
        .expect_stderr(&["expired", "okscript login --profile dev"]);
    assert!(!out.stderr.contains("could not reach"), "{}", out.stderr);
    assert!(!out.stderr.contains(CLIENT_SECRET));
}

/// Issue #9 (one parser for `~/.aws/config`): settings written `key: value`, which the AWS
/// CLI reads, make an SSO profile for the login as they do for `configure_sso`; the login's
/// own reader once skipped them and called `dev` no SSO profile.
#[test]
fn r9_colon_settings_are_read_by_the_login_as_by_the_config_editor() {
    let dir = TestDir::new();
    dir.write(
        ".aws/config",
        "[profile dev]\nsso_session: corp\nsso_account_id: 123456789012\nsso_role_name: Admin\n\n[sso-session corp]\nsso_start_url: https://corp.awsapps.com/start\nsso_region: eu-west-1\n",
    );
    dir.cmd()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(["logout", "--profile", "dev"])
        .run()
        .expect_code(0)
        .expect_stderr(&["no cached SSO login for profile `dev`: nothing to remove"]);
    // A profile that is not SSO is still told so.
    dir.write(".aws/config", "[profile dev]\nregion: eu-west-1\n");
    dir.cmd()
        .args(["logout", "--profile", "dev"])
        .run()
        .expect_code(1)
        .expect_stderr(&["profile `dev` is not an SSO profile"]);
}
