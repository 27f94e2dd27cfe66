//! Declared script inputs (issue 10 items 1, 4, 6, 12): unknown `--set` keys refused before
//! anything runs, no silent admin default, exit codes that cannot be confused, `--strict`,
//! and the shipped scripts bundled in the binary.

use crate::util::{fixture_text, script, TestDir, SSO_ADMIN_ROLE};

const DEV_ROLE: &str = "arn:aws:iam::123456789012:role/dev";

#[test]
fn a_typo_in_a_set_key_is_refused_with_the_declared_name_and_nothing_is_written() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    let aged = dir.age(&file);
    let out = dir
        .cmd()
        .script("grant-role.rhai")
        .target(&file)
        .set("arn", DEV_ROLE)
        .set("group", "readers")
        .run();
    out.expect_code(64).expect_stderr(&[
        "`--set group=readers`: [ROOT]/scripts/grant-role.rhai declares no input `group`",
        "hint: did you mean `--set groups=readers`?",
        "nothing was run",
    ]);
    assert_eq!(out.stdout, "", "the script must not have run:\n{out}");
    assert_eq!(dir.read(&file), fixture_text("eks-nodes-only"));
    assert_eq!(dir.mtime(&file), aged);
}

#[test]
fn grant_role_and_grant_user_have_no_admin_default_for_groups() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    for (name, arn) in [
        ("grant-role.rhai", DEV_ROLE),
        ("grant-user.rhai", "arn:aws:iam::123456789012:user/bob"),
    ] {
        let out = dir.cmd().script(name).target(&file).set("arn", arn).run();
        out.expect_code(64).expect_stderr(&[
            &format!("{name} needs `--set groups=...`"),
            "pass it with `--set groups=VALUE` (a list)",
        ]);
        assert!(!out.stdout.contains("system:masters"), "{out}");
    }
    assert_eq!(dir.read(&file), fixture_text("eks-nodes-only"));
}

#[test]
fn a_value_of_the_wrong_form_is_a_usage_error() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    dir.cmd()
        .script("grant-role.rhai")
        .target(&file)
        .set("arn", DEV_ROLE)
        .set("groups", "devs")
        .set("force", "maybe")
        .run()
        .expect_code(64)
        .expect_stderr(&["`--set force=maybe`: not a bool"]);
    assert_eq!(dir.read(&file), fixture_text("eks-nodes-only"));
}

#[test]
fn allow_sso_keeps_its_admin_default_and_says_so() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    dir.cmd()
        .script("allow-sso.rhai")
        .target(&file)
        .set("role_arn", SSO_ADMIN_ROLE)
        .run()
        .expect_code(0)
        .expect_stdout(&[
            "granting system:masters (cluster admin): allow-sso lets the SSO administrators in",
            "groups [\"system:masters\"]",
        ]);
}

#[test]
fn run_script_help_and_check_list_the_declared_inputs() {
    let dir = TestDir::new();
    let out = dir.cmd().args(["run", "grant-role", "--help"]).run();
    out.expect_code(0)
        .expect_stdout(&["Inputs:", "--set groups", "required", "list"]);
    assert!(
        out.stdout.contains("--set force") && out.stdout.contains("default: false"),
        "{out}"
    );

    let plain = dir.write("plain.rhai", "print(arg(\"x\", \"1\"));\n");
    let out = dir
        .cmd()
        .args(["check", &script("grant-role.rhai"), &plain])
        .run();
    out.expect_code(0)
        .expect_stdout(&["inputs:", "--set arn", "--set username  optional"])
        .expect_stderr(&["warning: plain.rhai declares no inputs"]);
}

#[test]
fn a_malformed_declaration_fails_check_and_run_naming_the_line() {
    let dir = TestDir::new();
    let bad = dir.write(
        "bad.rhai",
        "let input = inputs(#{arn: #{required: true, form: \"lst\", help: \"x\"}});\n",
    );
    dir.cmd()
        .args(["check", &bad])
        .run()
        .expect_code(1)
        .expect_stderr(&["bad.rhai:1: the inputs declaration of `arn` has form `lst`"]);
    dir.cmd()
        .args(["run", &bad])
        .run()
        .expect_code(1)
        .expect_stderr(&["has form `lst`"]);
}

#[test]
fn usage_errors_exit_64_and_pending_changes_exit_2() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    dir.cmd().args(["run", "--bogus"]).run().expect_code(64);
    dir.cmd()
        .args(["run", "no-such-script.rhai"])
        .run()
        .expect_code(64);
    dir.cmd()
        .script("grant-role.rhai")
        .target(&file)
        .set("arn", DEV_ROLE)
        .set("groups", "devs")
        .args(["--dry-run", "--detailed-exitcode"])
        .run()
        .expect_code(2);
    let help = dir.cmd().args(["run", "--help"]).run();
    help.expect_code(0)
        .expect_stdout(&["2   with --detailed-exitcode", "64  usage error"]);
}

#[test]
fn strict_refuses_a_near_miss_of_system_masters_before_writing() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    let aged = dir.age(&file);
    let grant = |strict: &[&str], env: Option<&str>| {
        let mut cmd = dir
            .cmd()
            .script("grant-role.rhai")
            .target(&file)
            .set("arn", DEV_ROLE)
            .set("groups", "system:master")
            .args(strict);
        if let Some(v) = env {
            cmd = cmd.env("OKSCRIPT_STRICT", v);
        }
        cmd.run()
    };
    for out in [grant(&["--strict"], None), grant(&[], Some("1"))] {
        out.expect_code(1).expect_stderr(&[
            "warning: group `system:master` is not `system:masters`",
            "did you mean `system:masters`?",
            "error: --strict: 1 warning (above); nothing was written",
        ]);
        assert_eq!(dir.read(&file), fixture_text("eks-nodes-only"));
        assert_eq!(dir.mtime(&file), aged);
    }
    // Without --strict it is a warning, and the grant is written as asked.
    grant(&[], None)
        .expect_code(0)
        .expect_stderr(&["did you mean `system:masters`?"]);
    assert!(
        dir.read(&file).contains("system:master\n") || dir.read(&file).contains("- system:master")
    );
}

#[test]
fn strict_fails_on_lint_findings_in_the_aws_auth_to_write() {
    let dir = TestDir::new();
    let file = dir.fixture("messy");
    let out = dir
        .cmd()
        .script("grant-role.rhai")
        .target(&file)
        .set("arn", DEV_ROLE)
        .set("groups", "devs")
        .args(["--strict", "--dry-run"])
        .run();
    out.expect_code(1)
        .expect_stderr(&["warning: data.map", "--strict:"]);
    assert_eq!(dir.read(&file), fixture_text("messy"));
}

#[test]
fn run_allow_sso_works_from_an_empty_folder_with_only_the_binary() {
    let dir = TestDir::new();
    let bin = dir.copy_binary("bin/okscript");
    std::fs::create_dir(dir.join("work")).expect("mkdir");
    let out = dir
        .cmd()
        .program(&bin)
        .current_dir(dir.join("work"))
        .args(["run", "allow-sso", "--target", "file:aws-auth.yaml"])
        .set("role_arn", SSO_ADMIN_ROLE)
        .run();
    out.expect_code(0).expect_stdout(&[&format!(
        "verified: file:aws-auth.yaml maps {SSO_ADMIN_ROLE}"
    )]);
    assert!(dir.read("work/aws-auth.yaml").contains(SSO_ADMIN_ROLE));
}

#[test]
fn a_fork_named_by_path_wins_over_the_bundled_script() {
    let dir = TestDir::new();
    dir.write("allow-sso.rhai", "print(\"the team's fork\");\n");
    dir.cmd()
        .args(["run", "allow-sso.rhai"])
        .run()
        .expect_code(0)
        .expect_stdout(&["the team's fork"]);
    dir.cmd()
        .args(["run", "./allow-sso.rhai"])
        .run()
        .expect_code(0)
        .expect_stdout(&["the team's fork"]);
}

#[test]
fn scripts_lists_the_bundled_scripts_and_new_writes_a_starter_that_checks() {
    let dir = TestDir::new();
    dir.cmd()
        .arg("scripts")
        .run()
        .expect_code(0)
        .expect_stdout(&["allow-sso ", "grant-role ", "verify "]);
    dir.cmd()
        .args(["new", "onboarding"])
        .run()
        .expect_code(0)
        .expect_stdout(&["wrote onboarding.rhai"]);
    let text = dir.read("onboarding.rhai");
    assert!(text.contains("let input = inputs(#{"), "{text}");
    dir.cmd()
        .args(["check", "onboarding.rhai"])
        .run()
        .expect_code(0)
        .expect_stdout(&["ok: onboarding.rhai", "--set groups"]);
    // Never over a team's edits.
    dir.write("onboarding.rhai", "// ours\n");
    dir.cmd()
        .args(["new", "onboarding"])
        .run()
        .expect_code(1)
        .expect_stderr(&["onboarding.rhai exists"]);
    assert_eq!(dir.read("onboarding.rhai"), "// ours\n");
}

#[test]
fn list_prints_json_and_yaml_and_output_json_carries_structured_data() {
    let dir = TestDir::new();
    let file = dir.fixture("sso-and-users");
    let out = dir
        .cmd()
        .script("list.rhai")
        .target(&file)
        .set("format", "json")
        .run();
    out.expect_code(0);
    let v = crate::util::json(&out.stdout);
    let items = v.as_array().expect("a JSON array");
    assert!(
        items
            .iter()
            .any(|m| m["arn"] == SSO_ADMIN_ROLE && m["groups"][0] == "system:masters"),
        "{out}"
    );
    dir.cmd()
        .script("list.rhai")
        .target(&file)
        .set("format", "yaml")
        .run()
        .expect_code(0)
        .expect_stdout(&[&format!(
            "- arn: \"{SSO_ADMIN_ROLE}\"\n  groups:\n  - \"system:masters\"\n  kind: \"role\"\n"
        )]);
    let out = dir
        .cmd()
        .script("list.rhai")
        .target(&file)
        .args(["--output", "json"])
        .run();
    out.expect_code(0);
    let doc = crate::util::json(&out.stdout);
    let data = doc["data"].as_array().expect("data is a list");
    assert!(
        data.iter()
            .any(|m| m["arn"] == SSO_ADMIN_ROLE && m["kind"] == "role"),
        "{out}"
    );
    assert!(
        data.iter().all(|m| m.is_object()),
        "items, not text lines: {out}"
    );
}

#[test]
fn guard_errors_of_a_shipped_script_speak_of_set_force_without_script_frames() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    let node = crate::util::NODE_ROLE;
    let out = dir
        .cmd()
        .script("revoke.rhai")
        .target(&file)
        .set("arn", node)
        .run();
    out.expect_code(1)
        .expect_stderr(&["hint:", "`--set force=true`"]);
    assert!(!out.stderr.contains("#{force: true}"), "{out}");
    assert!(!out.stderr.contains("  in `"), "{out}");
    assert_eq!(dir.read(&file), fixture_text("eks-nodes-only"));
}

#[test]
fn script_frames_show_only_with_verbose_for_a_script_with_declared_inputs() {
    let dir = TestDir::new();
    let s = dir.write(
        "nested.rhai",
        "let input = inputs(#{});\nfn deeper() { fail(\"boom\"); }\ndeeper();\n",
    );
    let out = dir.cmd().args(["run", &s]).run();
    out.expect_code(1)
        .expect_stderr(&["nested.rhai:2:", "boom"]);
    assert!(!out.stderr.contains("in `deeper`, called at"), "{out}");
    dir.cmd()
        .args(["run", &s, "--verbose"])
        .run()
        .expect_code(1)
        .expect_stderr(&["in `deeper`, called at nested.rhai:3:1"]);
}

#[test]
fn completions_and_the_man_page_come_from_the_clap_definitions() {
    let dir = TestDir::new();
    dir.cmd()
        .args(["completions", "bash"])
        .run()
        .expect_code(0)
        .expect_stdout(&["_okscript()", "--detailed-exitcode", "--strict"]);
    dir.cmd()
        .args(["completions", "zsh"])
        .run()
        .expect_code(0)
        .expect_stdout(&["#compdef okscript"]);
    dir.cmd()
        .args(["completions", "tcsh"])
        .run()
        .expect_code(64);
    dir.cmd()
        .arg("man")
        .run()
        .expect_code(0)
        .expect_stdout(&[".TH okscript", "Exit codes:", "64"]);
}

#[test]
fn every_shipped_script_declares_its_inputs_however_deep_its_functions_nest() {
    // The inputs reader compiled with a raw engine's nesting limits: a script with a deep
    // function body (migrate-to-access-entries) seemed to declare nothing, so a typo in
    // `--set aply=true` was ignored and the script quietly only planned.
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    let out = dir
        .cmd()
        .script("migrate-to-access-entries.rhai")
        .target(&file)
        .set("aply", "true")
        .run();
    out.expect_code(64).expect_stderr(&[
        "`--set aply=true`: [ROOT]/scripts/migrate-to-access-entries.rhai declares no input `aply`",
        "hint: did you mean `--set apply=true`?",
        "nothing was run",
    ]);
    let scripts: Vec<String> = std::fs::read_dir(script(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
        .map(|p| p.display().to_string())
        .collect();
    let out = dir.cmd().arg("check").args(&scripts).run();
    out.expect_code(0);
    assert!(
        !out.stderr.contains("declares no inputs"),
        "every shipped script declares its inputs:\n{out}"
    );
}
