//! The access model says what the authenticator does (issues 10 and 13), through the binary:
//! a role mapped in mapUsers is revoked, upper-case ARNs lint clean, section keys in the
//! wrong case are flagged and never written beside, exact membership and teams make drift a
//! pending change, and revoking a principal's last group removes its entry.

use crate::util::TestDir;

const DEV_ROLE: &str = "arn:aws:iam::123456789012:role/dev";
const SNEAKY: &str = "arn:aws:iam::123456789012:role/sneaky";

/// An admin in mapRoles, and a role mapped to `system:masters` in mapUsers (line 5 there),
/// which the authenticator matches after finding nothing in mapRoles.
const ROLE_IN_MAP_USERS: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  mapRoles: |
    - rolearn: arn:aws:iam::123456789012:role/admin
      username: admin
      groups:
      - system:masters
  mapUsers: |
    - userarn: arn:aws:iam::123456789012:user/bob
      username: bob
      groups:
      - devs
    - userarn: arn:aws:iam::123456789012:role/sneaky
      username: sneaky
      groups:
      - system:masters
";

/// aws-auth whose roles sit under `maproles:`, which the authenticator never reads.
const LOWER_CASE_KEY: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  maproles: |
    - rolearn: arn:aws:iam::123456789012:role/admin
      username: admin
      groups:
      - system:masters
";

/// An admin and a developer role with one group.
const ADMIN_AND_DEV: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  mapRoles: |
    - rolearn: arn:aws:iam::123456789012:role/admin
      username: admin
      groups:
      - system:masters
    - rolearn: arn:aws:iam::123456789012:role/dev
      username: dev
      groups:
      - devs
";

#[test]
fn r13_2_revoking_a_role_removes_its_map_users_entry_and_names_where_it_was() {
    let dir = TestDir::new();
    let file = dir.write("aws-auth.yaml", ROLE_IN_MAP_USERS);
    dir.cmd()
        .script("revoke.rhai")
        .target(&file)
        .set("arn", SNEAKY)
        .run()
        .expect_code(0)
        .expect_stdout(&[&format!("revoked {SNEAKY}")])
        .expect_stderr(&["mapUsers line 5"]);
    let after = dir.read(&file);
    assert!(!after.contains("sneaky"), "{after}");
    assert!(
        after.contains("user/bob") && after.contains("role/admin"),
        "{after}"
    );
    // Nothing left for the authenticator to match: a second revoke has nothing to do.
    dir.cmd()
        .script("revoke.rhai")
        .target(&file)
        .set("arn", SNEAKY)
        .run()
        .expect_code(0)
        .expect_stdout(&["had nothing to revoke"]);
    assert_eq!(dir.read(&file), after);
}

#[test]
fn r13_2_lint_says_a_role_in_map_users_does_match() {
    let dir = TestDir::new();
    let file = dir.write("aws-auth.yaml", ROLE_IN_MAP_USERS);
    let out = dir.cmd().script("lint.rhai").target(&file).run();
    out.expect_code(1)
        .expect_stdout(&["[wrong-kind]", "still matches it", "move it there"]);
    assert!(!out.parts().1.contains("no caller matches"), "{out}");
}

#[test]
fn r13_10_lint_and_revoke_agree_on_upper_case_arns() {
    let dir = TestDir::new();
    let file = dir.write(
        "aws-auth.yaml",
        ADMIN_AND_DEV.replace(DEV_ROLE, "ARN:AWS:IAM::123456789012:ROLE/DEV"),
    );
    let out = dir.cmd().script("lint.rhai").target(&file).run();
    out.expect_code(0)
        .expect_stdout(&["aws-auth: no problems found"]);
    assert!(!out.parts().1.contains("bad-arn"), "{out}");
    // The matcher agrees: it is the same principal as the lower-case ARN.
    dir.cmd()
        .script("revoke.rhai")
        .target(&file)
        .set("arn", DEV_ROLE)
        .run()
        .expect_code(0)
        .expect_stdout(&[&format!("revoked {DEV_ROLE}")]);
    assert!(!dir.read(&file).contains("DEV"), "{}", dir.read(&file));
}

#[test]
fn r13_11_case_variant_section_keys_are_flagged_and_grants_refused_without_force() {
    let dir = TestDir::new();
    let file = dir.write("aws-auth.yaml", LOWER_CASE_KEY);
    dir.cmd()
        .script("lint.rhai")
        .target(&file)
        .run()
        .expect_code(1)
        .expect_stdout(&[
            "[section-case]",
            "`maproles` (line 7)",
            "did you mean mapRoles?",
        ]);
    let aged = dir.age(&file);
    dir.cmd()
        .script("grant-role.rhai")
        .target(&file)
        .set("arn", DEV_ROLE)
        .set("groups", "devs")
        .run()
        .expect_code(1)
        .expect_stderr(&[
            "refusing to write `mapRoles`",
            "`maproles` (line 7)",
            "hint: did you mean mapRoles?",
        ]);
    assert_eq!(dir.read(&file), LOWER_CASE_KEY, "nothing written");
    assert_eq!(dir.mtime(&file), aged, "the file was not touched");
    dir.cmd()
        .script("grant-role.rhai")
        .target(&file)
        .set("arn", DEV_ROLE)
        .set("groups", "devs")
        .set("force", "true")
        .run()
        .expect_code(0);
    let after = dir.read(&file);
    assert!(
        after.starts_with(LOWER_CASE_KEY),
        "the stray key is kept: {after}"
    );
    assert!(
        after.contains("  mapRoles: |") && after.contains(DEV_ROLE),
        "{after}"
    );
}

/// The code `--dry-run --detailed-exitcode` gives when changes are pending, learnt from a
/// run that certainly has one (so a renumbered usage-error code does not break this).
fn changes_pending_code(dir: &TestDir) -> i32 {
    let file = dir.write("probe.yaml", ADMIN_AND_DEV);
    let code = dir
        .cmd()
        .script("grant-role.rhai")
        .target(&file)
        .set("arn", "arn:aws:iam::123456789012:role/probe")
        .set("groups", "devs")
        .args(["--dry-run", "--detailed-exitcode"])
        .run()
        .parts()
        .0;
    assert_ne!(code, 0);
    code
}

const TEAM: &str = r#"
ensure_exactly("arn:aws:iam::123456789012:role/dev", ["devs"], "dev");
ensure_members(#{kind: "role", group: "devs", members: ["arn:aws:iam::123456789012:role/dev", "arn:aws:iam::123456789012:role/qa"]});
"#;

#[test]
fn r10_2_exact_membership_makes_drift_a_pending_change() {
    let dir = TestDir::new();
    let pending = changes_pending_code(&dir);
    let file = dir.write("aws-auth.yaml", ADMIN_AND_DEV);
    let team = dir.write("team.rhai", TEAM);
    dir.cmd()
        .arg("run")
        .arg(&team)
        .target(&file)
        .run()
        .expect_code(0);
    let settled = dir.read(&file);
    assert!(settled.contains("role/qa"), "{settled}");
    let plan = |dir: &TestDir| {
        dir.cmd()
            .arg("run")
            .arg(&team)
            .target(&file)
            .args(["--dry-run", "--detailed-exitcode"])
            .run()
    };
    plan(&dir).expect_code(0).expect_stdout(&["no changes"]);
    // Someone hand-adds system:masters to the developer role: drift.
    let drifted = settled.replacen(
        "      username: dev\n      groups:\n      - devs\n",
        "      username: dev\n      groups:\n      - devs\n      - system:masters\n",
        1,
    );
    assert_ne!(drifted, settled);
    dir.write("aws-auth.yaml", &drifted);
    plan(&dir)
        .expect_code(pending)
        .expect_stdout(&["-  - system:masters", "0 to add, 1 to change, 0 to remove"]);
    assert_eq!(dir.read(&file), drifted, "a dry run writes nothing");
    // Someone hand-adds a member to the team: drift too, and the real run removes it.
    let extra = format!(
        "{drifted}    - rolearn: arn:aws:iam::123456789012:role/intruder\n      groups:\n      - devs\n"
    );
    dir.write("aws-auth.yaml", &extra);
    plan(&dir)
        .expect_code(pending)
        .expect_stdout(&["-- rolearn: arn:aws:iam::123456789012:role/intruder"]);
    dir.cmd()
        .arg("run")
        .arg(&team)
        .target(&file)
        .run()
        .expect_code(0)
        .expect_stderr(&["took `devs` from arn:aws:iam::123456789012:role/intruder"]);
    assert_eq!(dir.read(&file), settled);
}

#[test]
fn r10_2_teams_are_guarded_and_all_or_nothing() {
    let dir = TestDir::new();
    let file = dir.write("aws-auth.yaml", ADMIN_AND_DEV);
    let s = dir.write(
        "admins.rhai",
        r#"ensure_members(#{kind: "role", group: "system:masters", members: []});"#,
    );
    dir.cmd()
        .arg("run")
        .arg(&s)
        .target(&file)
        .run()
        .expect_code(1)
        .expect_stderr(&["last `system:masters`", "hint:"]);
    assert_eq!(dir.read(&file), ADMIN_AND_DEV);
}

#[test]
fn r10_3_revoking_the_last_group_removes_the_entry_and_says_so() {
    let dir = TestDir::new();
    let file = dir.write("aws-auth.yaml", ADMIN_AND_DEV);
    dir.cmd()
        .script("revoke.rhai")
        .target(&file)
        .set("arn", DEV_ROLE)
        .set("groups", "devs")
        .run()
        .expect_code(0)
        .expect_stderr(&[
            "removed the entry for arn:aws:iam::123456789012:role/dev (mapRoles line 5)",
            "its last group went",
            "system:authenticated",
        ]);
    let after = dir.read(&file);
    assert!(!after.contains(DEV_ROLE), "{after}");
    assert!(!after.contains("groups: []"), "{after}");
    assert!(after.contains("role/admin"), "{after}");
}

#[test]
fn new_functions_are_listed_by_fns() {
    TestDir::new()
        .cmd()
        .arg("fns")
        .run()
        .expect_code(0)
        .expect_stdout(&["ensure_exactly", "ensure_members"]);
}
