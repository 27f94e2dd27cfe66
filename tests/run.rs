//! `okscript run`: what a person sees and what the target file ends up as — dry runs and
//! their diff, exit codes, errors that point at the script, JSON output, a missing target,
//! file modes, the guards, secrets kept out of scripts, usage errors, `--help`/`--version`
//! and `import`. Resource limits are in `limits.rs`; the shipped scripts in `scripts.rs`.

use crate::util::{json, script, TestDir, NODE_ROLE};

const DEV_ROLE: &str = "arn:aws:iam::123456789012:role/dev";
const ADMIN_ROLE: &str = "arn:aws:iam::123456789012:role/admin";

/// aws-auth with a node role and exactly one `system:masters` mapping.
const ONE_ADMIN: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  mapRoles: |
    - groups:
      - system:bootstrappers
      - system:nodes
      rolearn: arn:aws:iam::123456789012:role/eksctl-my-cluster-nodegroup-ng-1-NodeInstanceRole-1A2B3C4D5E6F
      username: system:node:{{EC2PrivateDNSName}}
    - groups:
      - system:masters
      rolearn: arn:aws:iam::123456789012:role/admin
      username: admin:{{SessionName}}
";

// ---- dry runs and exit codes -------------------------------------------------------------

#[test]
fn dry_run_prints_a_unified_diff_and_a_summary_and_writes_nothing() {
    // Runbook: "Optional: To verify, you can run: kubectl edit configmap -n kube-system
    // aws-auth and it should look something like this" — the diff shows it before writing.
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    let aged = dir.age(&file);
    let out = dir
        .cmd()
        .script("grant-role.rhai")
        .target(&file)
        .set("arn", DEV_ROLE)
        .set("groups", "devs")
        .arg("--dry-run")
        .run();
    assert_eq!(
        out.snapshot(),
        r#"exit code: 0
----- stdout -----
role arn:aws:iam::123456789012:role/dev -> username dev:{{SessionName}}, groups ["devs"]
--- a/data.mapRoles
+++ b/data.mapRoles
@@ -3,3 +3,7 @@
   - system:nodes
   rolearn: arn:aws:iam::123456789012:role/eksctl-my-cluster-nodegroup-ng-1-NodeInstanceRole-1A2B3C4D5E6F
   username: system:node:{{EC2PrivateDNSName}}
+- rolearn: arn:aws:iam::123456789012:role/dev
+  username: dev:{{SessionName}}
+  groups:
+  - devs
dry run: 1 to add, 0 to change, 0 to remove in file:eks-nodes-only.yaml; nothing was written
----- stderr -----
"#
    );
    assert_eq!(dir.read(&file), crate::util::fixture_text("eks-nodes-only"));
    assert_eq!(dir.mtime(&file), aged, "a dry run rewrote the file");
}

#[test]
fn dry_run_against_a_missing_file_creates_nothing() {
    let dir = TestDir::new();
    dir.cmd()
        .script("grant-role.rhai")
        .set("groups", "system:masters")
        .target("aws-auth.yaml")
        .set("arn", DEV_ROLE)
        .arg("--dry-run")
        .run()
        .expect_code(0)
        .expect_stdout(&["--- a/data.mapRoles", "dry run: 1 to add"]);
    assert!(!dir.exists("aws-auth.yaml"), "a dry run created the target");
    assert!(dir.list().is_empty(), "files appeared: {:?}", dir.list());
}

#[test]
fn detailed_exitcode_is_2_when_changes_are_pending_and_0_when_there_are_none() {
    let dir = TestDir::new();
    let file = dir.fixture("sso-and-users");
    let plan = |arn: &str| {
        dir.cmd()
            .script("grant-role.rhai")
            .set("groups", "system:masters")
            .target(&file)
            .set("arn", arn)
            .args(["--dry-run", "--detailed-exitcode"])
            .run()
    };
    plan(DEV_ROLE)
        .expect_code(2)
        .expect_stdout(&["dry run: 1 to add"]);
    // The SSO administrator is already mapped exactly so.
    plan(crate::util::SSO_ADMIN_ROLE)
        .expect_code(0)
        .expect_stdout(&["no changes"]);
    assert_eq!(dir.read(&file), crate::util::fixture_text("sso-and-users"));
}

#[test]
fn detailed_exitcode_still_reports_a_failure_as_1() {
    let dir = TestDir::new();
    let file = dir.fixture("broken-tabs");
    dir.cmd()
        .script("grant-role.rhai")
        .set("groups", "system:masters")
        .target(&file)
        .set("arn", DEV_ROLE)
        .args(["--dry-run", "--detailed-exitcode"])
        .run()
        .expect_code(1);
}

#[test]
fn detailed_exitcode_without_dry_run_writes_and_exits_0() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    dir.cmd()
        .script("grant-role.rhai")
        .set("groups", "system:masters")
        .target(&file)
        .set("arn", DEV_ROLE)
        .arg("--detailed-exitcode")
        .run()
        .expect_code(0);
    assert!(dir.read(&file).contains(DEV_ROLE));
}

#[test]
fn a_script_that_fails_after_staging_writes_nothing() {
    let dir = TestDir::new();
    let file = dir.fixture("sso-and-users");
    let aged = dir.age(&file);
    let s = dir.write(
        "fails.rhai",
        format!(
            r#"grant_role("{DEV_ROLE}", ["devs"]);
grant_user("arn:aws:iam::123456789012:user/bob", "bob", ["devs"]);
revoke_role("{}");
fail("changed my mind");
"#,
            crate::util::SSO_ADMIN_ROLE
        ),
    );
    dir.cmd()
        .args(["run", &s])
        .target(&file)
        .run()
        .expect_code(1)
        .expect_stderr(&["error: fails.rhai:4:1: changed my mind"]);
    assert_eq!(dir.read(&file), crate::util::fixture_text("sso-and-users"));
    assert_eq!(dir.mtime(&file), aged, "the file was rewritten");
    assert_eq!(
        dir.list(),
        ["fails.rhai", "sso-and-users.yaml"],
        "stray files"
    );
}

// ---- errors that point at the script -------------------------------------------------------

#[test]
fn a_script_error_shows_script_line_column_the_source_line_and_the_call_chain() {
    let dir = TestDir::new();
    let s = dir.write(
        "guard.rhai",
        "fn refuse(env) {\n    if env == \"prod\" {\n        fail(`refusing to touch ${env}`);\n    }\n}\nrefuse(arg(\"env\", \"prod\"));\n",
    );
    let out = dir.cmd().args(["run", &s]).run();
    assert_eq!(
        out.snapshot(),
        "exit code: 1
----- stdout -----
----- stderr -----
error: guard.rhai:3:9: refusing to touch prod
  |
3 |         fail(`refusing to touch ${env}`);
  |         ^
  in `refuse`, called at guard.rhai:6:1
"
    );
}

#[test]
fn a_syntax_error_shows_script_line_and_column() {
    let dir = TestDir::new();
    let s = dir.write("syntax.rhai", "let x = 1;\nlet y = x +;\n");
    dir.cmd()
        .args(["run", &s])
        .run()
        .expect_code(1)
        .expect_stderr(&["syntax.rhai:2:12:", "2 | let y = x +;"]);
}

#[test]
fn a_missing_set_value_names_the_flag() {
    let dir = TestDir::new();
    let s = dir.write(
        "need.rhai",
        "// which role to map\nlet role = arg(\"role\");\n",
    );
    let out = dir.cmd().args(["run", &s]).run();
    assert_eq!(
        out.snapshot(),
        "exit code: 1
----- stdout -----
----- stderr -----
error: need.rhai:2:12: this script needs a value for `role`
  |
2 | let role = arg(\"role\");
  |            ^

hint: pass it with `--set role=VALUE`
"
    );
}

#[test]
fn a_shipped_script_missing_its_arn_names_the_flag() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    dir.cmd()
        .script("grant-role.rhai")
        .target(&file)
        .run()
        .expect_code(64)
        .expect_stderr(&[
            "[ROOT]/scripts/grant-role.rhai needs `--set arn=...`",
            "--set arn=VALUE",
        ]);
}

#[test]
fn an_unknown_function_suggests_the_nearest_name() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    let s = dir.write(
        "typo.rhai",
        format!("let groups = [\"devs\"];\ngrant_rol(\"{DEV_ROLE}\", groups);\n"),
    );
    dir.cmd()
        .args(["run", &s])
        .target(&file)
        .run()
        .expect_code(1)
        .expect_stderr(&[
            "error: typo.rhai:2:1: unknown function `grant_rol",
            "2 | grant_rol(",
            "hint: did you mean `grant_role`, `grant_policy`?",
        ]);
    assert_eq!(dir.read(&file), crate::util::fixture_text("eks-nodes-only"));
}

// ---- JSON ----------------------------------------------------------------------------------

#[test]
fn output_json_is_one_document_with_ok_summary_diff_and_output() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    let out = dir
        .cmd()
        .script("grant-role.rhai")
        .set("groups", "system:masters")
        .target(&file)
        .set("arn", DEV_ROLE)
        .args(["--output", "json"])
        .run();
    out.expect_code(0);
    let doc = json(&out.stdout);
    assert_eq!(doc["ok"], true, "{doc:#}");
    assert_eq!(doc["summary"]["added"], 1, "{doc:#}");
    assert_eq!(doc["summary"]["removed"], 0, "{doc:#}");
    assert_eq!(doc["written"], true, "{doc:#}");
    assert_eq!(doc["target"], "file:eks-nodes-only.yaml", "{doc:#}");
    let diff = doc["diff"].as_str().expect("diff is a string");
    assert!(
        diff.starts_with("--- a/data.mapRoles\n+++ b/data.mapRoles\n"),
        "{diff}"
    );
    assert!(diff.contains(&format!("+- rolearn: {DEV_ROLE}")), "{diff}");
    let printed = doc["output"].as_array().expect("output is an array");
    assert!(
        printed.iter().any(|l| l
            .as_str()
            .is_some_and(|l| l.starts_with(&format!("role {DEV_ROLE}")))),
        "{doc:#}"
    );
    assert!(dir.read(&file).contains(DEV_ROLE));
}

#[test]
fn output_json_reports_a_failure_with_ok_false_and_the_hint() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    let out = dir
        .cmd()
        .script("grant-role.rhai")
        .set("groups", "system:masters")
        .target(&file)
        .args(["--output", "json"])
        .run();
    // A missing required input is a usage error, refused before the script runs.
    out.expect_code(64);
    let doc = json(&out.stdout);
    assert_eq!(doc["ok"], false, "{doc:#}");
    assert!(
        doc["error"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("--set arn=VALUE")),
        "{doc:#}"
    );
}

// ---- the file target -----------------------------------------------------------------------

#[test]
fn a_missing_target_is_created_as_a_fresh_aws_auth_manifest_with_a_warning() {
    let dir = TestDir::new();
    let out = dir
        .cmd()
        .script("grant-role.rhai")
        .set("groups", "system:masters")
        .target("aws-auth.yaml")
        .set("arn", DEV_ROLE)
        .run();
    out.expect_code(0)
        .expect_stderr(&["warning: aws-auth.yaml does not exist", "node roles"]);
    let text = dir.read("aws-auth.yaml");
    for line in [
        "apiVersion: v1\n",
        "kind: ConfigMap\n",
        "  name: aws-auth\n",
        "  namespace: kube-system\n",
        "  mapRoles: |\n",
    ] {
        assert!(text.contains(line), "lacks {line:?}:\n{text}");
    }
    // What was created reads back.
    dir.cmd()
        .script("list.rhai")
        .target("aws-auth.yaml")
        .run()
        .expect_code(0)
        .expect_stdout(&[DEV_ROLE]);
}

#[test]
fn a_write_keeps_the_file_mode() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    dir.set_mode(&file, 0o640);
    dir.cmd()
        .script("grant-role.rhai")
        .set("groups", "system:masters")
        .target(&file)
        .set("arn", DEV_ROLE)
        .run()
        .expect_code(0);
    assert!(dir.read(&file).contains(DEV_ROLE), "not written");
    assert_eq!(dir.mode(&file), 0o640);
    assert_eq!(dir.list(), [file.as_str()], "the temp file was left behind");
}

#[test]
fn a_symlinked_target_is_written_through_the_link() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    std::os::unix::fs::symlink(&file, dir.join("link.yaml")).expect("symlink");
    dir.cmd()
        .script("grant-role.rhai")
        .set("groups", "system:masters")
        .target("link.yaml")
        .set("arn", DEV_ROLE)
        .run()
        .expect_code(0);
    let link = std::fs::symlink_metadata(dir.join("link.yaml")).expect("link.yaml");
    assert!(
        link.file_type().is_symlink(),
        "link.yaml is no longer a symlink"
    );
    assert!(
        dir.read(&file).contains(DEV_ROLE),
        "the linked file was not updated"
    );
}

// ---- guards --------------------------------------------------------------------------------

#[test]
fn revoking_a_node_role_is_refused_without_force_and_passes_with_it() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    let aged = dir.age(&file);
    dir.cmd()
        .script("revoke.rhai")
        .target(&file)
        .set("arn", NODE_ROLE)
        .run()
        .expect_code(1)
        .expect_stderr(&["node", "hint:", "`--set force=true`"]);
    assert_eq!(dir.read(&file), crate::util::fixture_text("eks-nodes-only"));
    assert_eq!(dir.mtime(&file), aged);

    let s = dir.write(
        "replace-nodes.rhai",
        format!("revoke_role(\"{NODE_ROLE}\", #{{force: true}});\n"),
    );
    dir.cmd()
        .args(["run", &s])
        .target(&file)
        .run()
        .expect_code(0)
        .expect_stdout(&["1 removed"]);
    assert!(!dir.read(&file).contains(NODE_ROLE));
}

#[test]
fn revoking_the_only_system_masters_mapping_is_refused_without_force_and_passes_with_it() {
    // Runbook: "only the user/role that created the cluster has admin access out of the
    // box" — removing the last admin mapping locks everyone else out.
    let dir = TestDir::new();
    let file = dir.write("aws-auth.yaml", ONE_ADMIN);
    let aged = dir.age(&file);
    for groups in [None, Some("system:masters")] {
        let mut cmd = dir
            .cmd()
            .script("revoke.rhai")
            .target(&file)
            .set("arn", ADMIN_ROLE);
        if let Some(g) = groups {
            cmd = cmd.set("groups", g);
        }
        cmd.run()
            .expect_code(1)
            .expect_stderr(&["system:masters", "hint:", "`--set force=true`"]);
    }
    assert_eq!(dir.read(&file), ONE_ADMIN);
    assert_eq!(dir.mtime(&file), aged);

    let s = dir.write(
        "remove-admin.rhai",
        format!("revoke_role(\"{ADMIN_ROLE}\", #{{force: true}});\n"),
    );
    dir.cmd()
        .args(["run", &s])
        .target(&file)
        .run()
        .expect_code(0);
    let after = dir.read(&file);
    assert!(!after.contains(ADMIN_ROLE), "{after}");
    assert!(after.contains(NODE_ROLE), "{after}");
}

// ---- the environment -----------------------------------------------------------------------

#[test]
fn env_refuses_secrets_even_when_set_and_never_prints_them() {
    // Runbook: "export AWS_SECRET_ACCESS_KEY=mykey" — the key stays with okscript.
    let secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
    let dir = TestDir::new();
    for (i, call) in [
        r#"env("AWS_SECRET_ACCESS_KEY")"#,
        r#"env("AWS_SECRET_ACCESS_KEY", "fallback")"#,
        r#"env("aws_secret_access_key", "fallback")"#,
        r#"env("AWS_SESSION_TOKEN")"#,
    ]
    .iter()
    .enumerate()
    {
        let s = dir.write(&format!("leak{i}.rhai"), format!("print({call});\n"));
        for format in ["text", "json"] {
            let out = dir
                .cmd()
                .env("AWS_SECRET_ACCESS_KEY", secret)
                .env("aws_secret_access_key", secret)
                .env("AWS_SESSION_TOKEN", secret)
                .args(["run", &s, "--output", format])
                .run();
            out.expect_code(1).expect_stderr(&["refused"]);
            assert!(
                !out.stdout.contains(secret) && !out.stderr.contains(secret),
                "the secret leaked from {call}:\n{out}"
            );
        }
    }
}

#[test]
fn env_reads_ordinary_variables_and_the_harness_is_hermetic() {
    let dir = TestDir::new();
    let s = dir.write(
        "env.rhai",
        "print(env(\"OKSCRIPT_CLUSTER\"));\nprint(env(\"HOME\"));\nprint(env(\"AWS_PROFILE\", \"<unset>\"));\nprint(env(\"KUBECONFIG\", \"<unset>\"));\n",
    );
    dir.cmd()
        .env("OKSCRIPT_CLUSTER", "my-cluster")
        .args(["run", &s])
        .run()
        .expect_code(0)
        .expect_stdout(&["my-cluster\n[TMP]\n<unset>\n<unset>\n"]);
}

// ---- the command line ----------------------------------------------------------------------

#[test]
fn usage_errors_exit_64_and_touch_nothing() {
    let dir = TestDir::new();
    let list = script("list.rhai");
    for args in [
        vec!["run", &list, "--bogus"],
        vec!["run", &list, "--set", "novalue"],
        vec!["run", &list, "--target", "s3:x"],
        vec!["run", "no-such-script.rhai"],
        vec!["run"],
        vec!["frobnicate"],
    ] {
        let out = dir.cmd().args(&args).run();
        assert_eq!(out.code, 64, "{args:?}:\n{out}");
        assert!(out.stderr.contains("error:"), "{args:?}:\n{out}");
        assert!(out.stdout.is_empty(), "{args:?}:\n{out}");
    }
    assert!(dir.list().is_empty(), "files appeared: {:?}", dir.list());
}

#[test]
fn help_lists_the_exit_codes() {
    let dir = TestDir::new();
    for args in [vec!["--help"], vec!["run", "--help"]] {
        let out = dir.cmd().args(&args).run();
        out.expect_code(0).expect_stdout(&[
            "Exit codes:",
            "  0   success",
            "  1   the script failed",
            "  2   with --detailed-exitcode after a successful --dry-run: changes pending",
            "  64  usage error",
        ]);
    }
}

#[test]
fn version_prints_the_crate_version() {
    let out = TestDir::new().cmd().arg("--version").run();
    let (code, stdout, stderr) = out.parts();
    assert_eq!(code, 0, "{out}");
    assert_eq!(stdout, format!("okscript {}\n", env!("CARGO_PKG_VERSION")));
    assert_eq!(stderr, "");
}

// ---- imports -------------------------------------------------------------------------------

#[test]
fn a_module_next_to_the_script_is_imported_whatever_the_cwd() {
    let dir = TestDir::new();
    dir.write("ops/lib/helpers.rhai", "fn hello(who) { `hello ${who}` }\n");
    dir.write(
        "ops/main.rhai",
        "import \"lib/helpers\" as h;\nprint(h::hello(\"team\"));\n",
    );
    std::fs::create_dir(dir.join("elsewhere")).expect("mkdir");
    dir.cmd()
        .current_dir(dir.join("elsewhere"))
        .args(["run", "../ops/main.rhai"])
        .run()
        .expect_code(0)
        .expect_stdout(&["hello team\n"]);
}

#[test]
fn a_module_next_to_the_script_wins_over_the_bundled_one() {
    let dir = TestDir::new();
    dir.write("okctl.rhai", "fn split_list(text) { \"local okctl\" }\n");
    let s = dir.write(
        "main.rhai",
        "import \"okctl\" as okctl;\nprint(okctl::split_list(\"a,b\"));\n",
    );
    dir.cmd()
        .args(["run", &s])
        .run()
        .expect_code(0)
        .expect_stdout(&["local okctl\n"]);
}

#[test]
fn the_bundled_stdlib_is_embedded_in_a_copied_binary() {
    let dir = TestDir::new();
    let copy = dir.copy_binary("bin/okscript");
    dir.write(
        "elsewhere/std.rhai",
        "import \"okctl\" as okctl;\nimport \"table\" as table;\nprint(okctl::split_list(\"a, b,,a\"));\ntable::print_table([\"ARN\", \"USERNAME\"], [[\"x\", \"y\"]]);\n",
    );
    dir.cmd()
        .program(&copy)
        .current_dir(dir.join("elsewhere"))
        .args(["run", "std.rhai"])
        .run()
        .expect_code(0)
        .expect_stdout(&["[\"a\", \"b\"]\nARN   USERNAME\nx     y\n"]);
}

#[test]
fn the_okctl_module_exports_its_runbook_constants() {
    let dir = TestDir::new();
    let s = dir.write(
        "consts.rhai",
        "import \"okctl\" as okctl;\nprint(okctl::ADMIN_USERNAME);\nprint(okctl::ADMIN_GROUP);\nprint(okctl::DEFAULT_PERMISSION_SET);\n",
    );
    dir.cmd()
        .args(["run", &s])
        .run()
        .expect_code(0)
        .expect_stdout(&["admin:{{SessionName}}\nsystem:masters\nAWSAdministratorAccess\n"]);
}

#[test]
fn importing_a_parent_path_is_refused() {
    let dir = TestDir::new();
    dir.write("x.rhai", "print(\"escaped the script folder\");\n");
    dir.write(
        "scripts/up.rhai",
        "import \"../x\" as x;\nprint(\"ran\");\n",
    );
    for cmd in ["run", "check"] {
        let out = dir.cmd().args([cmd, "scripts/up.rhai"]).run();
        out.expect_code(1)
            .expect_stderr(&["cannot import `../x`", "`..`"]);
        assert!(
            !out.stdout.contains("escaped") && !out.stdout.contains("ran"),
            "{cmd}:\n{out}"
        );
    }
}

#[test]
fn a_refused_import_points_at_the_import_line() {
    let dir = TestDir::new();
    let s = dir.write("up.rhai", "// reach out\nimport \"../x\" as x;\n");
    dir.cmd()
        .args(["run", &s])
        .run()
        .expect_code(1)
        .expect_stderr(&["up.rhai:2:", "2 | import \"../x\" as x;"]);
}

/// Issue #9 (settings resolved once, one exit decision): a settings error is reported after
/// the script's own problems, as before the command line resolved everything up front, and
/// each failure is printed once with its exit code.
#[test]
fn r9_a_bad_script_is_named_before_a_bad_setting_and_each_failure_once() {
    let dir = TestDir::new();
    let bad_type = |cmd: crate::util::Cmd| cmd.env("OKSCRIPT_AWS_CREDENTIALS_TYPE", "password");
    let out = bad_type(dir.cmd()).args(["run", "missing.rhai"]).run();
    out.expect_code(64)
        .expect_stderr(&["cannot read script missing.rhai"]);
    assert!(
        !out.stderr.contains("OKSCRIPT_AWS_CREDENTIALS_TYPE"),
        "{out}"
    );
    let s = dir.write("ok.rhai", "print(\"ran\");\n");
    let out = bad_type(dir.cmd()).args(["run", &s]).run();
    out.expect_code(64)
        .expect_stderr(&["OKSCRIPT_AWS_CREDENTIALS_TYPE: unknown AWS credentials type `password`"]);
    assert!(!out.stdout.contains("ran"), "{out}");
    assert_eq!(out.stderr.matches("error:").count(), 1, "{out}");
    // A command outside scripts takes the same path: one error, exit 64.
    let out = bad_type(dir.cmd()).args(["token", "--cluster", "c"]).run();
    out.expect_code(64);
    assert_eq!(out.stderr.matches("error:").count(), 1, "{out}");
}
