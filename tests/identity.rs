//! Issue 3 end to end: the binary logs in the way the okctl runbook does (access key, named
//! profile, SSO), finds principals in IAM, and refuses to act for the wrong account — all
//! against a real moto server, with a cleared environment and a temp HOME.

use crate::support::{create_role, create_user_with_key, MotoServer, ACCOUNT};
use crate::util::{script, Cmd, TestDir};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

const SSO_PATH: &str = "/aws-reserved/sso.amazonaws.com/eu-west-1/";
const SSO_ROLE: &str = "AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef";

/// A command pointed at moto, with nothing else of AWS in its environment.
fn aws_cmd(dir: &TestDir, moto: &MotoServer) -> Cmd {
    dir.cmd()
        .env("AWS_ENDPOINT_URL", &moto.endpoint())
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
}

fn with_keys(cmd: Cmd, key: &str, secret: &str) -> Cmd {
    cmd.env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
}

#[test]
fn access_key_login_prints_the_identity_and_the_arn_to_map() {
    // Runbook: "export AWS_ACCESS_KEY_ID=myid / export AWS_SECRET_ACCESS_KEY=mykey".
    let moto = MotoServer::start();
    let (key, secret) = block_on(create_user_with_key(
        &moto,
        "ci-bot",
        Some("/automation/"),
        false,
    ));
    let dir = TestDir::new();
    let out = with_keys(aws_cmd(&dir, &moto), &key, &secret)
        .arg("run")
        .arg(script("whoami.rhai"))
        .args(["-a", "access-key"])
        .run();
    out.expect_code(0).expect_stdout(&[
        &format!("account:        {ACCOUNT}"),
        &format!("aws-auth maps:  arn:aws:iam::{ACCOUNT}:user/automation/ci-bot"),
        "credentials:    access-key",
    ]);
    assert!(!out.stdout.contains(&secret));
}

#[test]
fn access_key_login_names_the_missing_variable_and_never_falls_back_to_a_profile() {
    let moto = MotoServer::start();
    let (key, secret) = block_on(create_user_with_key(&moto, "someone", None, false));
    let dir = TestDir::new();
    // A perfectly good default profile is right there; access-key must not use it.
    dir.write(
        ".aws/credentials",
        format!("[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"),
    );
    let out = aws_cmd(&dir, &moto)
        .env("AWS_ACCESS_KEY_ID", &key)
        .arg("run")
        .arg(script("whoami.rhai"))
        .args(["-a", "access-key"])
        .run();
    out.expect_code(1).expect_stderr(&["AWS_SECRET_ACCESS_KEY"]);
    assert!(!out.stdout.contains("account:"));
}

#[test]
fn the_default_type_follows_okctl_flag_then_okscript_then_okctl_env() {
    let moto = MotoServer::start();
    let (key, secret) = block_on(create_user_with_key(&moto, "envuser", None, false));
    let dir = TestDir::new();
    // OKCTL_AWS_CREDENTIALS_TYPE alone picks access-key.
    with_keys(aws_cmd(&dir, &moto), &key, &secret)
        .env("OKCTL_AWS_CREDENTIALS_TYPE", "access-key")
        .arg("run")
        .arg(script("whoami.rhai"))
        .run()
        .expect_code(0)
        .expect_stdout(&["credentials:    access-key"]);
    // OKSCRIPT_AWS_CREDENTIALS_TYPE wins over OKCTL_: aws-profile with no profile fails.
    with_keys(aws_cmd(&dir, &moto), &key, &secret)
        .env("OKCTL_AWS_CREDENTIALS_TYPE", "access-key")
        .env("OKSCRIPT_AWS_CREDENTIALS_TYPE", "aws-profile")
        .arg("run")
        .arg(script("whoami.rhai"))
        .run()
        .expect_code(1);
    // The flag wins over both.
    with_keys(aws_cmd(&dir, &moto), &key, &secret)
        .env("OKSCRIPT_AWS_CREDENTIALS_TYPE", "aws-profile")
        .arg("run")
        .arg(script("whoami.rhai"))
        .args(["-a", "access-key"])
        .run()
        .expect_code(0);
    // A bad value in the environment is a usage error naming the variable.
    aws_cmd(&dir, &moto)
        .env("OKCTL_AWS_CREDENTIALS_TYPE", "password")
        .arg("run")
        .arg(script("whoami.rhai"))
        .run()
        .expect_code(64)
        .expect_stderr(&["OKCTL_AWS_CREDENTIALS_TYPE"]);
}

#[test]
fn a_named_profile_logs_in_and_a_missing_one_lists_those_that_exist() {
    // Runbook: "export AWS_PROFILE=myprofile".
    let moto = MotoServer::start();
    let (key, secret) = block_on(create_user_with_key(&moto, "profiled", None, false));
    let dir = TestDir::new();
    dir.write(
        ".aws/credentials",
        format!("[myprofile]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"),
    );
    dir.write(".aws/config", "[profile other]\nregion = eu-north-1\n");
    aws_cmd(&dir, &moto)
        .env("AWS_PROFILE", "myprofile")
        .arg("run")
        .arg(script("whoami.rhai"))
        .run()
        .expect_code(0)
        .expect_stdout(&["credentials:    aws-profile (profile myprofile)"]);
    aws_cmd(&dir, &moto)
        .env("AWS_PROFILE", "myprofil")
        .arg("run")
        .arg(script("whoami.rhai"))
        .run()
        .expect_code(1)
        .expect_stderr(&["myprofil", "myprofile", "other"]);
}

#[test]
fn an_sso_profile_without_a_cached_login_says_to_log_in() {
    let moto = MotoServer::start();
    let dir = TestDir::new();
    dir.write(
        ".aws/config",
        "[profile sso-admin]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = AWSAdministratorAccess\nregion = eu-north-1\n\n[sso-session corp]\nsso_start_url = https://osloorigo.awsapps.com/start/\nsso_region = eu-west-1\n",
    );
    let out = aws_cmd(&dir, &moto)
        .env("AWS_PROFILE", "sso-admin")
        .arg("run")
        .arg(script("whoami.rhai"))
        .args(["-a", "sso"])
        .run();
    // Deliberately changed (issue 10 item 9): the hint names okscript's own login command.
    out.expect_code(1)
        .expect_stderr(&["okscript login --profile sso-admin"]);
}

#[test]
fn allow_sso_finds_the_permission_set_role_in_iam_and_maps_it_without_its_path() {
    // Runbook: "Replace the 0s below with what you find in red circle above" — no more.
    let moto = MotoServer::start();
    block_on(create_role(&moto, SSO_ROLE, Some(SSO_PATH)));
    block_on(create_role(
        &moto,
        "AWSReservedSSO_ReadOnly_fedcba9876543210",
        Some(SSO_PATH),
    ));
    let (key, secret) = block_on(create_user_with_key(&moto, "creator", None, true));
    let dir = TestDir::new();
    dir.fixture("eks-nodes-only");
    let out = with_keys(aws_cmd(&dir, &moto), &key, &secret)
        .arg("run")
        .arg(script("allow-sso.rhai"))
        .args(["-a", "access-key"])
        .target("eks-nodes-only.yaml")
        .run();
    out.expect_code(0);
    let text = dir.read("eks-nodes-only.yaml");
    assert!(
        text.contains(&format!(
            "- rolearn: arn:aws:iam::{ACCOUNT}:role/{SSO_ROLE}\n"
        )),
        "{text}"
    );
    assert!(!text.contains("aws-reserved"), "{text}");
    // A permission set that does not exist lists those that do.
    with_keys(aws_cmd(&dir, &moto), &key, &secret)
        .arg("run")
        .arg(script("allow-sso.rhai"))
        .args(["-a", "access-key"])
        .set("permission_set", "PowerUser")
        .target("eks-nodes-only.yaml")
        .run()
        .expect_code(1)
        .expect_stderr(&["PowerUser", "AWSAdministratorAccess", "ReadOnly"]);
}

#[test]
fn assume_role_into_the_sso_role_reports_the_path_less_principal() {
    let moto = MotoServer::start();
    let role = block_on(create_role(&moto, SSO_ROLE, Some(SSO_PATH)));
    let (key, secret) = block_on(create_user_with_key(&moto, "creator", None, true));
    let dir = TestDir::new();
    dir.write(
        "assume.rhai",
        format!("login(\"access-key\");\nlet me = assume_role(\"{role}\", \"someone@email.com\");\nprint(me.arn);\nprint(me.principal_arn);\nprint(whoami().principal_arn);\n"),
    );
    let out = with_keys(aws_cmd(&dir, &moto), &key, &secret)
        .args(["run", "assume.rhai"])
        .run();
    out.expect_code(0).expect_stdout(&[
        &format!("arn:aws:sts::{ACCOUNT}:assumed-role/{SSO_ROLE}/someone@email.com"),
        &format!("arn:aws:iam::{ACCOUNT}:role/{SSO_ROLE}\narn:aws:iam::{ACCOUNT}:role/{SSO_ROLE}"),
    ]);
}

#[test]
fn iam_lookups_find_principals_and_say_clearly_when_there_is_none() {
    let moto = MotoServer::start();
    block_on(create_role(&moto, "ci-deployer", Some("/ci/")));
    let (key, secret) = block_on(create_user_with_key(&moto, "someone@email.com", None, true));
    let dir = TestDir::new();
    dir.write(
        "lookup.rhai",
        "login(\"access-key\");\nlet r = iam_role(\"ci-deployer\");\nprint(`${r.arn} ${r.principal_arn}`);\nlet u = iam_user(\"someone@email.com\");\nprint(u.arn);\niam_role(\"ghost\");\n",
    );
    let out = with_keys(aws_cmd(&dir, &moto), &key, &secret)
        .args(["run", "lookup.rhai"])
        .run();
    out.expect_code(1)
        .expect_stdout(&[
            &format!("arn:aws:iam::{ACCOUNT}:role/ci/ci-deployer arn:aws:iam::{ACCOUNT}:role/ci-deployer"),
            &format!("arn:aws:iam::{ACCOUNT}:user/someone@email.com"),
        ])
        .expect_stderr(&["lookup.rhai:6:", "ghost", ACCOUNT]);
}

#[test]
fn a_login_to_another_account_than_the_cluster_declaration_stops_before_any_change() {
    let moto = MotoServer::start();
    let (key, secret) = block_on(create_user_with_key(&moto, "creator", None, true));
    let dir = TestDir::new();
    dir.fixture("eks-nodes-only");
    let before = dir.read("eks-nodes-only.yaml");
    dir.write("cluster.yaml", "apiVersion: okctl.io/v1alpha1\nkind: Cluster\nmetadata:\n  accountID: \"111111111111\"\n  name: my-cluster\n  region: eu-north-1\n");
    // The script catches the error and tries to go on anyway: still nothing is written.
    dir.write(
        "sneaky.rhai",
        "try { login(\"access-key\"); } catch (e) { print(\"caught\"); }\ngrant_role(\"arn:aws:iam::111111111111:role/x\", [\"devs\"]);\n",
    );
    let out = with_keys(aws_cmd(&dir, &moto), &key, &secret)
        .args(["run", "sneaky.rhai", "-c", "cluster.yaml"])
        .target("eks-nodes-only.yaml")
        .run();
    out.expect_code(1)
        .expect_stderr(&["logged in to 123456789012 but cluster.yaml is for 111111111111"]);
    assert_eq!(dir.read("eks-nodes-only.yaml"), before);
}

#[test]
fn a_malformed_cluster_declaration_names_the_field() {
    let dir = TestDir::new();
    dir.write(
        "cluster.yaml",
        crate::util::fixture_text("../okctl/cluster-bad-account"),
    );
    dir.write("empty.rhai", "");
    dir.cmd()
        .args(["run", "empty.rhai", "-c", "cluster.yaml"])
        .run()
        .expect_code(64)
        .expect_stderr(&["metadata.accountID"]);
}

#[test]
fn the_cluster_declaration_supplies_the_region_and_name() {
    let dir = TestDir::new();
    dir.write(
        "cluster.yaml",
        crate::util::fixture_text("../okctl/cluster"),
    );
    dir.write(
        "c.rhai",
        "let c = cluster(); print(`${c.name} ${c.region} ${c.account_id}`);",
    );
    dir.cmd()
        .args(["run", "c.rhai", "-c", "cluster.yaml"])
        .run()
        .expect_code(0)
        .expect_stdout(&["my-cluster eu-north-1 123456789012"]);
}

#[test]
fn granting_a_principal_iam_does_not_know_warns_about_the_typo() {
    let moto = MotoServer::start();
    block_on(create_role(&moto, "developers", None));
    let (key, secret) = block_on(create_user_with_key(&moto, "creator", None, true));
    let dir = TestDir::new();
    dir.fixture("eks-nodes-only");
    dir.write(
        "grant.rhai",
        "login(\"access-key\");\ngrant_role(\"arn:aws:iam::123456789012:role/developers\", [\"devs\"]);\ngrant_role(\"arn:aws:iam::123456789012:role/developrs\", [\"devs\"]);\ngrant_role(\"arn:aws:iam::999999999999:role/partner\", [\"devs\"]);\n",
    );
    let out = with_keys(aws_cmd(&dir, &moto), &key, &secret)
        .args(["run", "grant.rhai"])
        .target("eks-nodes-only.yaml")
        .run();
    out.expect_code(0).expect_stderr(&[
        "warning: arn:aws:iam::123456789012:role/developrs does not exist in IAM",
        "warning: arn:aws:iam::999999999999:role/partner belongs to account 999999999999",
    ]);
    assert!(
        !out.stderr.contains("role/developers does not exist"),
        "{}",
        out.stderr
    );
}

#[test]
fn revoking_your_own_mapping_is_a_guard() {
    let moto = MotoServer::start();
    let role = block_on(create_role(&moto, "platform-admin", None));
    let (key, secret) = block_on(create_user_with_key(&moto, "creator", None, true));
    let dir = TestDir::new();
    dir.write(
        "aws-auth.yaml",
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    - rolearn: {role}\n      username: admin\n      groups:\n      - system:masters\n    - rolearn: arn:aws:iam::123456789012:role/other-admin\n      username: other\n      groups:\n      - system:masters\n"),
    );
    let before = dir.read("aws-auth.yaml");
    dir.write(
        "revoke-me.rhai",
        format!("login(\"access-key\");\nlet me = assume_role(\"{role}\");\nrevoke_role(me.principal_arn);\n"),
    );
    with_keys(aws_cmd(&dir, &moto), &key, &secret)
        .args(["run", "revoke-me.rhai"])
        .target("aws-auth.yaml")
        .run()
        .expect_code(1)
        .expect_stderr(&["lock itself out", "#{force: true}"]);
    assert_eq!(dir.read("aws-auth.yaml"), before);
}

#[test]
fn secrets_never_reach_output_errors_or_files() {
    const SECRET: &str = "SECRETSECRETSECRET0123456789abcdefghijKL";
    const TOKEN: &str = "FQoGZXIvYXdzEXAMPLESESSIONTOKENVALUE0123456789";
    let moto = MotoServer::start();
    let (key, secret) = block_on(create_user_with_key(&moto, "creator", None, true));
    let dir = TestDir::new();
    dir.fixture("eks-nodes-only");
    dir.write(
        "leak.rhai",
        "let me = login(\"access-key\");\nprint(me);\nprint(whoami());\ntry { print(env(\"AWS_SECRET_ACCESS_KEY\")); } catch (e) { print(e); }\ntry { print(env(\"AWS_SESSION_TOKEN\")); } catch (e) { print(e); }\nlet r = me.principal_arn;\nr.replace(\"user/creator\", \"role/x\");\ngrant_role(r, [\"devs\"]);\n",
    );
    // A good login (moto's real key), verbose, as text and as JSON.
    let mut outputs = Vec::new();
    for output in ["text", "json"] {
        let out = with_keys(aws_cmd(&dir, &moto), &key, &secret)
            .args(["run", "leak.rhai", "--verbose", "--output", output])
            .target("eks-nodes-only.yaml")
            .run();
        out.expect_code(0);
        outputs.push((out.stdout.clone(), out.stderr.clone(), secret.clone()));
    }
    // Rejected credentials with a known secret and session token.
    moto.enforce_auth();
    let out = with_keys(aws_cmd(&dir, &moto), "AKIAIOSFODNN7EXAMPLE", SECRET)
        .env("AWS_SESSION_TOKEN", TOKEN)
        .args(["run", "leak.rhai", "--verbose", "--output", "json"])
        .target("eks-nodes-only.yaml")
        .run();
    out.expect_code(1);
    outputs.push((out.stdout.clone(), out.stderr.clone(), SECRET.to_string()));
    for (stdout, stderr, secret) in &outputs {
        for needle in [secret.as_str(), TOKEN] {
            assert!(
                !stdout.contains(needle) && !stderr.contains(needle),
                "leaked {needle}:\n{stdout}\n{stderr}"
            );
        }
    }
    for name in dir.list() {
        let Ok(text) = std::fs::read_to_string(dir.join(&name)) else {
            continue;
        };
        for needle in [secret.as_str(), SECRET, TOKEN] {
            assert!(!text.contains(needle), "{name} holds a secret");
        }
    }
}

#[test]
fn many_grants_are_checked_against_iam_in_one_listing() {
    let moto = MotoServer::start();
    for i in 0..24 {
        block_on(create_role(&moto, &format!("team-{i}"), Some("/teams/")));
    }
    let (key, secret) = block_on(create_user_with_key(&moto, "creator", None, true));
    let dir = TestDir::new();
    dir.fixture("eks-nodes-only");
    dir.write(
        "many.rhai",
        "login(\"access-key\");\nfor i in 0..25 { grant_role(`arn:aws:iam::123456789012:role/team-${i}`, [\"devs\"]); }\n",
    );
    let out = with_keys(aws_cmd(&dir, &moto), &key, &secret)
        .args(["run", "many.rhai"])
        .target("eks-nodes-only.yaml")
        .run();
    // team-24 was never created; the others exist (with a path, which aws-auth leaves out).
    out.expect_code(0)
        .expect_stderr(&["role/team-24 does not exist in IAM"]);
    assert_eq!(
        out.stderr.matches("does not exist in IAM").count(),
        1,
        "{}",
        out.stderr
    );
}

/// Opens `fifo` for writing without blocking: it succeeds only while a reader holds it open.
fn fifo_has_reader(fifo: &std::path::Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(fifo)
        .is_ok()
}

#[test]
fn the_system_root_certificates_are_read_only_for_https_endpoints() {
    // SSL_CERT_FILE is where the root store is read from; as a FIFO, a read of it blocks
    // until a writer comes, so a run that finishes never opened it.
    let moto = MotoServer::start();
    let (key, secret) = block_on(create_user_with_key(&moto, "roots", None, false));
    let dir = TestDir::new();
    let fifo = dir.path().join("roots.pem");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("running mkfifo");
    assert!(made.success(), "mkfifo failed");
    let fifo_text = fifo.to_str().unwrap();
    let out = with_keys(aws_cmd(&dir, &moto), &key, &secret)
        .env("SSL_CERT_FILE", fifo_text)
        .script("whoami.rhai")
        .args(["-a", "access-key"])
        .run();
    out.expect_code(0)
        .expect_stdout(&[&format!("account:        {ACCOUNT}")]);

    // The control: an https endpoint (nothing listens there) does read the root store.
    let running = with_keys(dir.cmd(), &key, &secret)
        .env("AWS_ENDPOINT_URL", "https://127.0.0.1:9")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("SSL_CERT_FILE", fifo_text)
        .script("whoami.rhai")
        .args(["-a", "access-key"])
        .spawn();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !fifo_has_reader(&fifo) {
        assert!(
            std::time::Instant::now() < deadline,
            "an https endpoint never read the root store"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The writer opened and closed it: the reader sees an empty file and goes on.
    let out = running.wait();
    assert_ne!(out.code, 0, "{out:?}");
}
