//! The runbook's "Configure AWS SSO" (`aws configure sso`) as `scripts/configure-sso.rhai`:
//! the exact AWS CLI v2 config it writes (mode 0600), idempotence, other profiles and comments
//! kept byte for byte, the guard on a profile with other values, a malformed file left alone,
//! `--set` names in CI errors, `AWS_CONFIG_FILE` and `--dry-run`. HOME is the temp folder.
//! Unit and property tests of the file editor live in `src/aws/config_file.rs`.

use crate::util::{added_lines, Cmd, TestDir};

const CONFIG: &str = ".aws/config";

/// Every value the script takes, as the runbook fills them in.
const VALUES: &[(&str, &str)] = &[
    ("profile", "myprofile"),
    ("start_url", "https://osloorigo.awsapps.com/start/"),
    ("sso_region", "eu-west-1"),
    ("account_id", "123456789012"),
    ("role_name", "AWSAdministratorAccess"),
    ("region", "eu-north-1"),
    ("output", "json"),
];

/// What `VALUES` write, as `aws configure sso` would.
const WRITTEN: &str = "[profile myprofile]
sso_session = myprofile
sso_account_id = 123456789012
sso_role_name = AWSAdministratorAccess
region = eu-north-1
output = json

[sso-session myprofile]
sso_start_url = https://osloorigo.awsapps.com/start/
sso_region = eu-west-1
sso_registration_scopes = sso:account:access
";

/// A hand-written config with comments, a default profile and two others.
const EXISTING: &str = "# My AWS config; do not lose these comments.
; managed by hand

[default]
region = eu-north-1
output=json

# the old account
[profile legacy]
cli_pager = less
role_arn: arn:aws:iam::210987654321:role/ops
source_profile = default
s3 =
  max_concurrent_requests = 20
  # tuned
  multipart_threshold = 64MB

[profile ci]
credential_process = /usr/local/bin/creds --json
region    =    us-east-1
";

/// `configure-sso.rhai` with every value of `VALUES` but those in `skip`, then `extra`.
fn configure(dir: &TestDir, skip: &[&str], extra: &[(&str, &str)]) -> Cmd {
    let mut cmd = dir.cmd().script("configure-sso.rhai");
    for (k, v) in VALUES
        .iter()
        .filter(|(k, _)| !skip.contains(k))
        .chain(extra)
    {
        cmd = cmd.set(k, v);
    }
    cmd
}

#[test]
fn it_writes_the_aws_cli_v2_sso_profile_with_mode_0600() {
    // Runbook: "aws configure sso ... SSO start URL ... SSO Region: eu-west-1 ... CLI default
    // client Region [eu-west-1]: eu-north-1 / CLI default output format [None]: json".
    let dir = TestDir::new();
    let out = configure(&dir, &[], &[]).run();
    out.expect_code(0).expect_stdout(&[
        "[TMP]/.aws/config: added [profile myprofile] and added [sso-session myprofile]",
        "export AWS_PROFILE=myprofile",
        "okscript run whoami -a sso",
    ]);
    assert_eq!(dir.read(CONFIG), WRITTEN);
    assert_eq!(dir.mode(CONFIG), 0o600);
    assert_eq!(dir.mode(".aws"), 0o700);
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(dir.join(".aws"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["config"]);
}

#[test]
fn running_it_again_changes_nothing_and_says_so() {
    let dir = TestDir::new();
    configure(&dir, &[], &[]).run().expect_code(0);
    let aged = dir.age(CONFIG);
    let out = configure(&dir, &[], &[]).run();
    out.expect_code(0).expect_stdout(&[
        "no changes: [TMP]/.aws/config already has [profile myprofile] and [sso-session myprofile] as wanted",
    ]);
    assert_eq!(dir.read(CONFIG), WRITTEN);
    assert_eq!(dir.mtime(CONFIG), aged, "the file was rewritten");
}

#[test]
fn every_other_byte_of_an_existing_config_is_kept() {
    let dir = TestDir::new();
    dir.write(CONFIG, EXISTING);
    dir.set_mode(CONFIG, 0o644);
    configure(&dir, &[], &[]).run().expect_code(0);
    let after = dir.read(CONFIG);
    assert_eq!(after, format!("{EXISTING}\n{WRITTEN}"));
    assert_eq!(added_lines(EXISTING, &after).map(|a| a.len()), Some(12));
    assert_eq!(dir.mode(CONFIG), 0o644, "an existing file keeps its mode");

    // Missing keys of an existing profile go at its end; the rest stays where it is.
    let partial = EXISTING.replace(
        "[profile ci]",
        "[profile myprofile]\nsso_session = myprofile\n# pick a role\n\n[profile ci]",
    );
    let dir = TestDir::new();
    dir.write(CONFIG, &partial);
    configure(&dir, &[], &[])
        .run()
        .expect_code(0)
        .expect_stdout(&[
            "added sso_account_id, sso_role_name, region, output in [profile myprofile] and added [sso-session myprofile]",
        ]);
    let after = dir.read(CONFIG);
    assert!(
        after.contains("[profile myprofile]\nsso_session = myprofile\nsso_account_id = 123456789012\nsso_role_name = AWSAdministratorAccess\nregion = eu-north-1\noutput = json\n# pick a role\n\n[profile ci]"),
        "{after}"
    );
    assert_eq!(
        added_lines(&partial, &after).unwrap_or_default().len(),
        4 + 5,
        "{after}"
    );
}

#[test]
fn crlf_line_endings_are_kept() {
    let dir = TestDir::new();
    let crlf = EXISTING.replace('\n', "\r\n");
    dir.write(CONFIG, &crlf);
    configure(&dir, &[], &[]).run().expect_code(0);
    assert_eq!(
        dir.read(CONFIG),
        format!("{crlf}\r\n{}", WRITTEN.replace('\n', "\r\n"))
    );
}

#[test]
fn a_profile_with_other_values_is_refused_unless_forced() {
    let dir = TestDir::new();
    let other = WRITTEN.replace("123456789012", "210987654321").replace(
        "https://osloorigo.awsapps.com/start/",
        "https://other.awsapps.com/start",
    );
    let text = format!("{EXISTING}\n{other}");
    dir.write(CONFIG, &text);
    let aged = dir.age(CONFIG);
    let out = configure(&dir, &[], &[]).run();
    out.expect_code(1).expect_stderr(&[
        "refusing to change [TMP]/.aws/config",
        "[profile myprofile] sso_account_id: \"210987654321\" in the file, \"123456789012\" wanted",
        "[sso-session myprofile] sso_start_url: \"https://other.awsapps.com/start\" in the file, \"https://osloorigo.awsapps.com/start/\" wanted",
        "--set force=true",
    ]);
    assert_eq!(dir.read(CONFIG), text);
    assert_eq!(dir.mtime(CONFIG), aged);

    // force=true overwrites exactly those two values.
    let out = configure(&dir, &[], &[("force", "true")]).run();
    out.expect_code(0).expect_stdout(&[
        "overwrote sso_account_id in [profile myprofile] and overwrote sso_start_url in [sso-session myprofile]",
    ]);
    assert_eq!(dir.read(CONFIG), format!("{EXISTING}\n{WRITTEN}"));
}

#[test]
fn a_profile_with_other_credentials_is_refused_and_force_removes_them() {
    let dir = TestDir::new();
    let text = "[profile myprofile]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = default\n";
    dir.write(CONFIG, text);
    configure(&dir, &[], &[])
        .run()
        .expect_code(1)
        .expect_stderr(&["[profile myprofile] role_arn:", "must not set it"]);
    assert_eq!(dir.read(CONFIG), text);
    configure(&dir, &[], &[("force", "true")])
        .run()
        .expect_code(0);
    assert_eq!(dir.read(CONFIG), WRITTEN);
}

#[test]
fn a_malformed_config_is_refused_naming_its_line_and_left_alone() {
    let dir = TestDir::new();
    let broken = EXISTING.replace("[profile ci]", "[profile ci");
    dir.write(CONFIG, &broken);
    let aged = dir.age(CONFIG);
    let out = configure(&dir, &[], &[]).run();
    out.expect_code(1).expect_stderr(&[
        "cannot read [TMP]/.aws/config: line 18: section header `[profile ci` has no closing `]`",
        "fix line 18",
    ]);
    assert_eq!(dir.read(CONFIG), broken);
    assert_eq!(dir.mtime(CONFIG), aged);

    // has_profile says the same rather than guessing.
    let s = dir.write("has.rhai", "print(has_profile(\"ci\"));\n");
    dir.cmd()
        .args(["run", &s])
        .run()
        .expect_code(1)
        .expect_stderr(&["line 18"]);
}

#[test]
fn a_missing_value_without_a_terminal_names_its_set_flag() {
    let dir = TestDir::new();
    let out = configure(&dir, &["account_id"], &[]).run();
    out.expect_code(1)
        .expect_stderr(&["account_id", "--set account_id=VALUE"]);
    assert!(!dir.exists(CONFIG), "{out}");
    // Values with a runbook default take it: sso_region eu-west-1, region eu-north-1, json.
    configure(&dir, &["sso_region", "region", "output"], &[])
        .run()
        .expect_code(0);
    assert_eq!(dir.read(CONFIG), WRITTEN);
}

#[test]
fn bad_values_are_refused_before_anything_is_written() {
    let dir = TestDir::new();
    for (k, v, needle) in [
        ("account_id", "12345", "not a 12-digit AWS account id"),
        (
            "start_url",
            "http://osloorigo.awsapps.com/start/",
            "is not an https:// URL",
        ),
        (
            "profile",
            "my profile",
            "cannot be used in the AWS config file",
        ),
    ] {
        configure(&dir, &[k], &[(k, v)])
            .run()
            .expect_code(1)
            .expect_stderr(&[needle]);
    }
    assert!(!dir.exists(CONFIG));
}

#[test]
fn aws_config_file_is_honoured() {
    let dir = TestDir::new();
    let out = configure(&dir, &[], &[])
        .env(
            "AWS_CONFIG_FILE",
            &dir.join("elsewhere/config").to_string_lossy(),
        )
        .run();
    out.expect_code(0)
        .expect_stdout(&["[TMP]/elsewhere/config: added [profile myprofile]"]);
    assert_eq!(dir.read("elsewhere/config"), WRITTEN);
    assert_eq!(dir.mode("elsewhere/config"), 0o600);
    assert!(!dir.exists(CONFIG));
    // has_profile reads the same file.
    let s = dir.write(
        "has.rhai",
        "print(`${has_profile(\"myprofile\")} ${has_profile(\"other\")}`);\n",
    );
    let out = dir
        .cmd()
        .env(
            "AWS_CONFIG_FILE",
            &dir.join("elsewhere/config").to_string_lossy(),
        )
        .args(["run", &s])
        .run();
    out.expect_code(0);
    assert_eq!(out.stdout, "true false\n");
}

#[test]
fn dry_run_shows_the_change_and_writes_nothing() {
    let dir = TestDir::new();
    dir.write(CONFIG, EXISTING);
    let aged = dir.age(CONFIG);
    let out = configure(&dir, &[], &[]).arg("--dry-run").run();
    out.expect_code(0).expect_stdout(&[
        "+[profile myprofile]\n",
        "+sso_registration_scopes = sso:account:access\n",
        "dry run: would add [profile myprofile] and add [sso-session myprofile] in [TMP]/.aws/config; nothing was written",
    ]);
    assert!(!out.stdout.contains("export AWS_PROFILE"), "{out}");
    assert_eq!(dir.read(CONFIG), EXISTING);
    assert_eq!(dir.mtime(CONFIG), aged);
    // Without a file, it creates none (and no folder).
    let dir = TestDir::new();
    configure(&dir, &[], &[])
        .arg("--dry-run")
        .run()
        .expect_code(0);
    assert!(dir.list().is_empty(), "{:?}", dir.list());
}
