//! Every aws-auth fixture in `tests/data/aws-auth/` through `scripts/grant-role.rhai`: a
//! good manifest gains the new role and loses nothing (every other line byte for byte,
//! metadata, labels, annotations, mapAccounts), and a second run changes nothing; a broken
//! manifest is refused with the line and section that are wrong, and is left untouched.
//!
//! What the runbook did by hand: "kubectl edit configmap -n kube-system aws-auth ... For IAM
//! user add an element to the mapUsers field, and for roles, add to mapRoles."
//! This file owns the fixture sweep only; the flags and the other scripts live elsewhere.

use crate::util::{added_lines, fixture_names, fixture_text, TestDir};

/// The role every fixture is granted.
const NEW_ROLE: &str = "arn:aws:iam::123456789012:role/fixture-test-dev";

/// What a fixture is expected to do under a grant.
enum Expect {
    /// Parses: the grant lands and nothing else changes.
    Good,
    /// Does not fully parse: refused, naming the file line and the section.
    Broken {
        /// The data key that is wrong, e.g. `data.mapRoles`.
        section: &'static str,
        /// The line of the file the problem is on.
        file_line: usize,
    },
}

/// Every fixture, classified. A fixture added to `tests/data/aws-auth/` must be added here.
fn expectation(name: &str) -> Option<Expect> {
    Some(match name {
        "eks-nodes-only" | "sso-and-users" | "messy" => Expect::Good,
        // mapRoles is one double-quoted scalar on line 10 with a tab in it.
        "broken-tabs" => Expect::Broken {
            section: "data.mapRoles",
            file_line: 10,
        },
        // mapUsers' first content line (16) is a mapping, not a list.
        "broken-shape" => Expect::Broken {
            section: "data.mapUsers",
            file_line: 16,
        },
        _ => return None,
    })
}

/// `okscript run scripts/grant-role.rhai --target file:FILE --set arn=NEW_ROLE --set groups=devs`
fn grant_new_role(dir: &TestDir, file: &str) -> crate::util::Outcome {
    dir.cmd()
        .script("grant-role.rhai")
        .target(file)
        .set("arn", NEW_ROLE)
        .set("groups", "devs")
        .run()
}

/// The text of the block that starts at the line `header` and runs until the next line
/// indented no deeper than it (e.g. the whole `metadata:` block).
fn block(text: &str, header: &str) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let start = lines.iter().position(|l| l.trim_end() == header)?;
    let indent = header.len() - header.trim_start().len();
    let mut out = vec![lines[start]];
    for l in &lines[start + 1..] {
        let deeper = l.len() - l.trim_start().len() > indent;
        if !deeper && !l.trim().is_empty() {
            break;
        }
        out.push(l);
    }
    Some(out.join("\n"))
}

fn good_fixture_gains_the_role_and_keeps_everything_else(name: &str) {
    let dir = TestDir::new();
    let file = dir.fixture(name);
    let before = dir.read(&file);

    let out = grant_new_role(&dir, &file);
    out.expect_code(0);
    let after = dir.read(&file);
    assert!(
        after.contains(&format!("rolearn: {NEW_ROLE}")),
        "{name}: the new role is missing:\n{after}"
    );

    // Every line that was there is still there, byte for byte and in order; the only new
    // lines are the new entry's.
    let added = added_lines(&before, &after)
        .unwrap_or_else(|| panic!("{name}: a line of the original changed or vanished:\n{after}"));
    let mut added: Vec<String> = added.iter().map(|l| l.trim().to_string()).collect();
    added.sort();
    let mut want = vec![
        format!("- rolearn: {NEW_ROLE}"),
        "username: fixture-test-dev:{{SessionName}}".to_string(),
        "groups:".to_string(),
        "- devs".to_string(),
    ];
    want.sort();
    assert_eq!(added, want, "{name}: unexpected new lines:\n{after}");

    // metadata (with labels and annotations) and mapAccounts are kept whole.
    for header in ["metadata:", "  mapAccounts: |", "  mapUsers: |"] {
        if let Some(kept) = block(&before, header) {
            assert!(
                after.contains(&kept),
                "{name}: `{header}` block changed:\n{after}"
            );
        }
    }

    // A second, identical run: "no changes", and the file is not even rewritten.
    let aged = dir.age(&file);
    let again = grant_new_role(&dir, &file);
    again.expect_code(0).expect_stdout(&["no changes"]);
    assert_eq!(
        dir.read(&file),
        after,
        "{name}: the second run changed the file"
    );
    assert_eq!(
        dir.mtime(&file),
        aged,
        "{name}: the second run rewrote the file"
    );
}

fn broken_fixture_is_refused_and_left_alone(name: &str, section: &str, file_line: usize) {
    let dir = TestDir::new();
    let file = dir.fixture(name);
    let aged = dir.age(&file);

    for dry_run in [false, true] {
        let mut cmd = dir
            .cmd()
            .script("grant-role.rhai")
            .set("groups", "system:masters")
            .target(&file)
            .set("arn", NEW_ROLE);
        if dry_run {
            cmd = cmd.arg("--dry-run");
        }
        let out = cmd.run();
        out.expect_code(1)
            .expect_stderr(&[section, "nothing was written", "hint:"]);
        let at_line = [
            format!("{file}:{file_line}:"),
            format!("{file}:line {file_line}:"),
        ];
        assert!(
            at_line.iter().any(|l| out.stderr.contains(l.as_str())),
            "{name}: stderr does not name {file} line {file_line}:\n{out}"
        );
    }
    assert_eq!(dir.read(&file), fixture_text(name), "{name} was changed");
    assert_eq!(dir.mtime(&file), aged, "{name} was rewritten");
    assert_eq!(dir.list(), [file.as_str()], "{name}: stray files were left");
}

#[test]
fn every_fixture_is_classified() {
    let names = fixture_names();
    assert!(names.len() >= 5, "fixtures went missing: {names:?}");
    for name in &names {
        assert!(
            expectation(name).is_some(),
            "tests/data/aws-auth/{name}.yaml is not classified in tests/fixtures.rs"
        );
    }
}

#[test]
fn granting_a_role_works_on_every_good_fixture_and_is_refused_on_every_broken_one() {
    for name in fixture_names() {
        match expectation(&name) {
            Some(Expect::Good) => good_fixture_gains_the_role_and_keeps_everything_else(&name),
            Some(Expect::Broken { section, file_line }) => {
                broken_fixture_is_refused_and_left_alone(&name, section, file_line)
            }
            None => panic!("{name} is not classified"),
        }
    }
}

#[test]
fn messy_keeps_its_comments_labels_annotations_and_accounts() {
    let dir = TestDir::new();
    let file = dir.fixture("messy");
    grant_new_role(&dir, &file).expect_code(0);
    let after = dir.read(&file);
    for kept in [
        "  labels:\n    app.kubernetes.io/managed-by: hand\n",
        "  annotations:\n    team.example.com/owner: platform\n",
        "  resourceVersion: \"993311\"\n",
        "    # node roles - DO NOT REMOVE\n",
        "      groups: [system:bootstrappers, system:nodes]\n",
        "      username: 'readonly:{{SessionName}}'\n",
        "  mapAccounts: |\n    - \"210987654321\"\n",
        // Both copies of the duplicated entry: an unrelated grant must not "tidy" them.
        "    # added twice by 'eksctl create iamidentitymapping'\n    - rolearn: arn:aws:iam::123456789012:role/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef\n      username: \"admin:{{SessionName}}\"\n      groups:\n        - system:masters\n    - rolearn: arn:aws:iam::123456789012:role/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef\n",
    ] {
        assert!(after.contains(kept), "lost {kept:?}:\n{after}");
    }
}

#[test]
fn messy_warns_about_its_findings_with_file_lines() {
    let dir = TestDir::new();
    let file = dir.fixture("messy");
    let out = grant_new_role(&dir, &file);
    // The duplicate's last copy is on line 32, the path-carrying role on line 37.
    out.expect_code(0).expect_stderr(&[
        "warning: messy.yaml:32: data.mapRoles",
        "warning: messy.yaml:37: data.mapRoles",
    ]);
}

#[test]
fn a_crlf_manifest_keeps_its_line_endings() {
    let dir = TestDir::new();
    let crlf = fixture_text("sso-and-users").replace('\n', "\r\n");
    let file = dir.write("aws-auth.yaml", &crlf);
    grant_new_role(&dir, &file).expect_code(0);
    let after = dir.read(&file);
    let added = added_lines(&crlf, &after)
        .unwrap_or_else(|| panic!("an untouched CRLF line changed:\n{after:?}"));
    assert_eq!(added.len(), 4, "{added:?}");
    assert!(
        after.split_inclusive('\n').all(|l| l.ends_with("\r\n")),
        "mixed line endings:\n{after:?}"
    );
}

/// Issue 13 item 14: a section keeps the style it was written in when a script edits it:
/// `|-` stays `|-`, `>` stays `>`, a flow list stays a flow list (its untouched item byte
/// for byte), and an empty `""` becomes a `|` block only because it now holds entries.
#[test]
fn edited_sections_keep_their_yaml_style() {
    let dir = TestDir::new();
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |-\n    - rolearn: arn:aws:iam::123456789012:role/node\n      username: system:node:{{EC2PrivateDNSName}}\n      groups:\n      - system:nodes\n  mapUsers: '[{userarn: arn:aws:iam::123456789012:user/alice, username: alice, groups: [devs]}]'\n  mapAccounts: \"\"\n";
    let file = dir.write("aws-auth.yaml", text);
    let script = dir.write(
        "grant.rhai",
        "grant_role(\"arn:aws:iam::123456789012:role/ops\", [\"ops\"]);\ngrant_user(\"arn:aws:iam::123456789012:user/bob\", \"bob\", [\"devs\"]);\ngrant_account(\"210987654321\");\n",
    );
    dir.cmd()
        .args(["run", &script])
        .target(&file)
        .run()
        .expect_code(0);
    let after = dir.read("aws-auth.yaml");
    assert!(
        after.contains("  mapRoles: |-\n    - rolearn: arn:aws:iam::123456789012:role/node\n      username: system:node:{{EC2PrivateDNSName}}\n      groups:\n      - system:nodes\n    - rolearn: arn:aws:iam::123456789012:role/ops\n"),
        "{after}"
    );
    assert!(
        after.contains("  mapUsers: '[{userarn: arn:aws:iam::123456789012:user/alice, username: alice, groups: [devs]}, {userarn: \"arn:aws:iam::123456789012:user/bob\", username: \"bob\", groups: [\"devs\"]}]'\n"),
        "{after}"
    );
    assert!(
        after.contains("  mapAccounts: |\n    - \"210987654321\"\n"),
        "{after}"
    );
    assert_eq!(
        dir.mappings("aws-auth.yaml"),
        [
            "role arn:aws:iam::123456789012:role/node system:node:{{EC2PrivateDNSName}} system:nodes",
            "role arn:aws:iam::123456789012:role/ops ops:{{SessionName}} ops",
            "user arn:aws:iam::123456789012:user/alice alice devs",
            "user arn:aws:iam::123456789012:user/bob bob devs",
            "account 210987654321",
        ]
    );
}
