//! The shipped scripts in `scripts/`, end to end on copies of the fixtures, each read as the
//! runbook step it replaces (quoted from `shared/seed/okctl-authentication.txt`), plus
//! `okscript demo`. What a mapping ends up as is read back through okscript itself
//! (`TestDir::mappings`); the flags common to every run are `run.rs`'s.

use crate::util::{
    fixture_text, TestDir, NODE_ROLE, RUNBOOK_USER, SSO_ADMIN_ROLE, SSO_ADMIN_ROLE_WITH_PATH,
};

/// The runbook's SSO administrator mapping, as `TestDir::mappings` shows it.
fn sso_admin_mapping() -> String {
    format!("role {SSO_ADMIN_ROLE} admin:{{{{SessionName}}}} system:masters")
}

// ---- list and lint -------------------------------------------------------------------------

#[test]
fn list_prints_a_table_of_every_mapping_and_the_accounts() {
    // Runbook: "Use eksctl get cluster ..." / "kubectl edit configmap -n kube-system aws-auth"
    // — list.rhai is the read-only look at what is mapped.
    let dir = TestDir::new();
    let file = dir.fixture("messy");
    let aged = dir.age(&file);
    let out = dir.cmd().script("list.rhai").target(&file).run();
    out.expect_code(0);
    let rows: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["ARN", "USERNAME", "GROUPS", "ACCOUNT"], "{out}");
    assert!(
        rows.iter().any(|r| r[..]
            == [
                "arn:aws:iam::123456789012:role/prod-fargate-pod-execution-role",
                "system:node:{{SessionName}}",
                "system:bootstrappers,system:nodes,system:node-proxier"
            ]),
        "{out}"
    );
    assert!(
        rows.iter().any(|r| r[..] == ["210987654321"]),
        "no account row:\n{out}"
    );
    assert!(
        rows.iter()
            .any(|r| r[..] == [RUNBOOK_USER, "someone@email.com", "system:masters"]),
        "{out}"
    );
    // 6 roles (the duplicate shown twice, as the file has it), 2 users, 1 account.
    assert_eq!(rows.len(), 1 + 6 + 2 + 1, "{out}");
    // The ACCOUNT column lines up under its header.
    let header = out.stdout.lines().next().unwrap_or_default();
    let account = out.stdout.lines().last().unwrap_or_default();
    assert_eq!(
        header.find("ACCOUNT"),
        account.find("210987654321"),
        "{out}"
    );
    assert_eq!(
        dir.read(&file),
        fixture_text("messy"),
        "list changed the file"
    );
    assert_eq!(dir.mtime(&file), aged, "list rewrote the file");
}

#[test]
fn lint_fails_on_messy_naming_the_duplicate_and_the_role_path() {
    let dir = TestDir::new();
    let file = dir.fixture("messy");
    let out = dir.cmd().script("lint.rhai").target(&file).run();
    out.expect_code(1)
        .expect_stdout(&[
            "problem: data.mapRoles line 16: [duplicate]",
            "AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef",
            "problem: data.mapRoles line 21: [role-path]",
            "map `arn:aws:iam::123456789012:role/AWSReservedSSO_ReadOnly_fedcba9876543210` instead",
        ])
        .expect_stderr(&["problem(s) in aws-auth"]);
    assert_eq!(dir.read(&file), fixture_text("messy"));
}

#[test]
fn lint_allows_the_codes_it_is_told_to() {
    let dir = TestDir::new();
    let file = dir.fixture("messy");
    dir.cmd()
        .script("lint.rhai")
        .target(&file)
        .set("allow", "duplicate,role-path,empty-groups")
        .run()
        .expect_code(0)
        .expect_stdout(&["allowed: data.mapRoles line 16: [duplicate]"]);
}

#[test]
fn lint_passes_on_sso_and_users() {
    let dir = TestDir::new();
    let file = dir.fixture("sso-and-users");
    let out = dir.cmd().script("lint.rhai").target(&file).run();
    out.expect_code(0)
        .expect_stdout(&["aws-auth: no problems found"]);
    assert!(!out.stdout.contains("problem:"), "{out}");
}

// ---- allow-sso -----------------------------------------------------------------------------

/// Runs allow-sso.rhai with `role_arn` on a copy of eks-nodes-only.yaml and checks what the
/// runbook says it "should look something like": the path-less role, admin:{{SessionName}},
/// system:masters; then that a second run changes nothing.
fn allow_sso_maps_the_admin_role(role_arn: &str, note: &str) {
    // Runbook: "eksctl create iamidentitymapping --cluster ${CLUSTER} --arn ${ROLE_ARN}
    //   --group system:masters --username "admin:{{SessionName}}""
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    let out = dir
        .cmd()
        .script("allow-sso.rhai")
        .target(&file)
        .set("role_arn", role_arn)
        .run();
    out.expect_code(0).expect_stderr(&["note:", note]);
    let text = dir.read(&file);
    assert!(
        text.contains(&format!("rolearn: {SSO_ADMIN_ROLE}\n")),
        "{text}"
    );
    assert!(
        !text.contains("aws-reserved/"),
        "the path was written:\n{text}"
    );
    assert!(
        !text.contains("assumed-role"),
        "the STS ARN was written:\n{text}"
    );
    let mappings = dir.mappings(&file);
    assert!(mappings.contains(&sso_admin_mapping()), "{mappings:#?}");
    assert!(
        mappings.contains(&format!(
            "role {NODE_ROLE} system:node:{{{{EC2PrivateDNSName}}}} system:bootstrappers,system:nodes"
        )),
        "{mappings:#?}"
    );

    let aged = dir.age(&file);
    dir.cmd()
        .script("allow-sso.rhai")
        .target(&file)
        .set("role_arn", role_arn)
        .run()
        .expect_code(0)
        .expect_stdout(&["no changes"]);
    assert_eq!(dir.mtime(&file), aged);
}

#[test]
fn allow_sso_maps_the_path_less_role_of_a_console_arn() {
    // Runbook: "NB! If the AWS role name contains a path, you must remove this as it is not
    // supported. E.g. change role/some/path/rolename to role/rolename"
    allow_sso_maps_the_admin_role(
        SSO_ADMIN_ROLE_WITH_PATH,
        "has the path `/aws-reserved/sso.amazonaws.com/eu-west-1/`",
    );
}

#[test]
fn allow_sso_maps_the_role_of_an_sts_assumed_role_arn() {
    allow_sso_maps_the_admin_role(
        "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef/someone@email.com",
        "is an STS session",
    );
}

#[test]
fn grant_role_strips_an_sso_path_and_says_so() {
    // The same runbook step as allow-sso, through grant-role.rhai with explicit values.
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    dir.cmd()
        .script("grant-role.rhai")
        .target(&file)
        .set("arn", SSO_ADMIN_ROLE_WITH_PATH)
        .set("username", "admin:{{SessionName}}")
        .set("groups", "system:masters")
        .run()
        .expect_code(0)
        .expect_stderr(&[
            "note:",
            "has the path `/aws-reserved/sso.amazonaws.com/eu-west-1/`",
        ]);
    let text = dir.read(&file);
    assert!(!text.contains("aws-reserved/"), "{text}");
    assert!(dir.mappings(&file).contains(&sso_admin_mapping()));
}

// ---- grant-user ----------------------------------------------------------------------------

#[test]
fn grant_user_adds_a_map_users_entry_keeping_the_user_path() {
    // Runbook: "For IAM user add an element to the mapUsers field"
    let dir = TestDir::new();
    let file = dir.fixture("sso-and-users");
    let bob = "arn:aws:iam::123456789012:user/team/bob";
    let grant = || {
        dir.cmd()
            .script("grant-user.rhai")
            .target(&file)
            .set("arn", bob)
            .set("groups", "devs,viewers")
            .run()
    };
    grant().expect_code(0).expect_stdout(&["1 added"]);
    let mappings = dir.mappings(&file);
    assert!(
        mappings.contains(&format!("user {bob} bob devs,viewers")),
        "{mappings:#?}"
    );
    assert!(
        mappings.contains(&format!(
            "user {RUNBOOK_USER} someone@email.com system:masters"
        )),
        "{mappings:#?}"
    );
    let after = dir.read(&file);
    grant().expect_code(0).expect_stdout(&["no changes"]);
    assert_eq!(dir.read(&file), after);
}

#[test]
fn grant_user_with_the_runbook_example_changes_nothing_where_it_is_mapped() {
    // Runbook: "- userarn: arn:aws:iam::123456789012:user/someone@email.com
    //   username: someone@email.com  groups: - system:masters"
    let dir = TestDir::new();
    let file = dir.fixture("sso-and-users");
    let aged = dir.age(&file);
    dir.cmd()
        .script("grant-user.rhai")
        .set("groups", "system:masters")
        .target(&file)
        .set("arn", RUNBOOK_USER)
        .run()
        .expect_code(0)
        .expect_stdout(&["no changes"]);
    assert_eq!(dir.mtime(&file), aged);
}

// ---- revoke --------------------------------------------------------------------------------

#[test]
fn revoke_removes_a_user_and_keeps_everything_else() {
    let dir = TestDir::new();
    let file = dir.fixture("sso-and-users");
    dir.cmd()
        .script("revoke.rhai")
        .target(&file)
        .set("arn", RUNBOOK_USER)
        .run()
        .expect_code(0)
        .expect_stdout(&[&format!("revoked {RUNBOOK_USER}"), "1 removed"]);
    let mappings = dir.mappings(&file);
    assert!(
        !mappings.iter().any(|m| m.contains(RUNBOOK_USER)),
        "{mappings:#?}"
    );
    assert!(mappings.contains(&sso_admin_mapping()), "{mappings:#?}");
    assert_eq!(mappings.len(), 2, "{mappings:#?}");

    // Again: nothing to revoke, nothing written.
    let aged = dir.age(&file);
    dir.cmd()
        .script("revoke.rhai")
        .target(&file)
        .set("arn", RUNBOOK_USER)
        .run()
        .expect_code(0)
        .expect_stdout(&["had nothing to revoke", "no changes"]);
    assert_eq!(dir.mtime(&file), aged);
}

#[test]
fn revoke_removes_a_role_given_as_its_sts_session() {
    let dir = TestDir::new();
    let file = dir.fixture("messy");
    dir.cmd()
        .script("revoke.rhai")
        .target(&file)
        .set(
            "arn",
            "arn:aws:sts::210987654321:assumed-role/ci-deployer/github-actions",
        )
        .run()
        .expect_code(0)
        .expect_stdout(&["1 removed"]);
    let text = dir.read(&file);
    assert!(!text.contains("role/ci-deployer"), "{text}");
    assert!(
        text.contains("mapAccounts: |\n    - \"210987654321\"\n"),
        "{text}"
    );
}

#[test]
fn revoke_with_groups_removes_only_those_groups() {
    let dir = TestDir::new();
    let file = dir.fixture("sso-and-users");
    let dev = "arn:aws:iam::123456789012:role/dev";
    dir.cmd()
        .script("grant-role.rhai")
        .target(&file)
        .set("arn", dev)
        .set("groups", "devs,viewers,deployers")
        .run()
        .expect_code(0);
    dir.cmd()
        .script("revoke.rhai")
        .target(&file)
        .set("arn", dev)
        .set("groups", "viewers,deployers")
        .run()
        .expect_code(0)
        .expect_stdout(&[&format!("revoked {dev}")]);
    let mappings = dir.mappings(&file);
    assert!(
        mappings.contains(&format!("role {dev} dev:{{{{SessionName}}}} devs")),
        "{mappings:#?}"
    );
}

#[test]
fn revoke_with_an_account_removes_it_from_map_accounts() {
    let dir = TestDir::new();
    let file = dir.fixture("messy");
    let revoke = || {
        dir.cmd()
            .script("revoke.rhai")
            .target(&file)
            .set("account", "210987654321")
            .run()
    };
    revoke()
        .expect_code(0)
        .expect_stdout(&["revoked account 210987654321", "1 removed"]);
    let mappings = dir.mappings(&file);
    assert!(
        !mappings.contains(&"account 210987654321".to_string()),
        "{mappings:#?}"
    );
    // The role of that account is a different thing and stays.
    assert!(
        mappings.iter().any(|m| m.contains("role/ci-deployer")),
        "{mappings:#?}"
    );
    revoke()
        .expect_code(0)
        .expect_stdout(&["account 210987654321 was not mapped", "no changes"]);
}

// ---- demo ----------------------------------------------------------------------------------

#[test]
fn demo_in_an_empty_folder_maps_the_sso_admin_and_is_idempotent() {
    let dir = TestDir::new();
    let out = dir.cmd().arg("demo").run();
    out.expect_code(0)
        .expect_stdout(&["dry run:", "2 added", "no changes"]);
    assert_eq!(dir.list(), ["okscript-demo"]);
    let file = "okscript-demo/aws-auth.yaml";
    let text = dir.read(file);
    assert!(
        text.contains(&format!("rolearn: {SSO_ADMIN_ROLE}\n")),
        "{text}"
    );
    assert!(!text.contains("aws-reserved/"), "{text}");
    assert!(dir.mappings(file).contains(&sso_admin_mapping()));
    assert!(text.contains(NODE_ROLE), "{text}");

    let aged = dir.age(file);
    let again = dir.cmd().arg("demo").run();
    again.expect_code(0).expect_stdout(&["no changes"]);
    assert!(!again.stdout.contains("added"), "{again}");
    assert_eq!(dir.read(file), text);
    assert_eq!(dir.mtime(file), aged);
}

// ---- the runbook, as a story ---------------------------------------------------------------

/// `okscript run scripts/grant-user.rhai` for the runbook's mapUsers example.
fn add_user_to_map_users(dir: &TestDir, file: &str, arn: &str, username: &str) {
    dir.cmd()
        .script("grant-user.rhai")
        .set("groups", "system:masters")
        .target(file)
        .set("arn", arn)
        .set("username", username)
        .run()
        .expect_code(0);
}

/// `okscript run scripts/grant-role.rhai` for the runbook's mapRoles example.
fn add_role_to_map_roles(dir: &TestDir, file: &str, arn: &str) {
    dir.cmd()
        .script("grant-role.rhai")
        .set("groups", "system:masters")
        .target(file)
        .set("arn", arn)
        .set("username", "admin:{{SessionName}}")
        .run()
        .expect_code(0)
        .expect_stderr(&["note:"]);
}

/// `okscript run scripts/lint.rhai`: what the authenticator would silently ignore.
fn verify(dir: &TestDir, file: &str) {
    dir.cmd()
        .script("lint.rhai")
        .target(file)
        .run()
        .expect_code(0)
        .expect_stdout(&["no problems found"]);
}

#[test]
fn runbook_give_access_to_other_users() {
    let dir = TestDir::new();
    // "When you create a Kubernetes cluster with Okctl, you are automatically assigned owner
    // roles which gives you access."
    let file = dir.fixture("eks-nodes-only");

    // "kubectl edit configmap -n kube-system aws-auth"
    assert_eq!(
        dir.mappings(&file).len(),
        1,
        "only the node role to start with"
    );

    // "For IAM user add an element to the mapUsers field ... Replace someone@email.com with
    // the e-mail of the user who wants access"
    add_user_to_map_users(
        &dir,
        &file,
        "arn:aws:iam::123456789012:user/alice@example.com",
        "alice@example.com",
    );

    // "and for roles, add to mapRoles ... NB! If the AWS role name contains a path, you must
    // remove this as it is not supported. E.g. change role/some/path/rolename to role/rolename"
    add_role_to_map_roles(
        &dir,
        &file,
        "arn:aws:iam::123456789012:role/some/path/rolename",
    );

    // "Verify"
    verify(&dir, &file);
    let mappings = dir.mappings(&file);
    assert!(
        mappings.contains(
            &"user arn:aws:iam::123456789012:user/alice@example.com alice@example.com system:masters"
                .to_string()
        ),
        "{mappings:#?}"
    );
    assert!(
        mappings.contains(
            &"role arn:aws:iam::123456789012:role/rolename admin:{{SessionName}} system:masters"
                .to_string()
        ),
        "{mappings:#?}"
    );
    assert!(!dir.read(&file).contains("some/path"));
}
