//! Several okscript processes writing one aws-auth manifest at once: every change lands,
//! nothing anyone else wrote is lost, and the file still parses. The file target serialises
//! writers and replays a script's changes when the file moved under it; these tests see only
//! the result, as a team running scripts from CI and laptops would.

use crate::util::{TestDir, NODE_ROLE, RUNBOOK_USER, SSO_ADMIN_ROLE};

const WRITERS: usize = 10;

fn role(i: usize) -> String {
    format!("arn:aws:iam::123456789012:role/concurrent-{i}")
}

/// Starts one grant-role.rhai per writer against `file`, all at once.
fn start_grants(dir: &TestDir, file: &str) -> Vec<crate::util::Running> {
    (0..WRITERS)
        .map(|i| {
            dir.cmd()
                .script("grant-role.rhai")
                .target(file)
                .set("arn", &role(i))
                .set("groups", "devs")
                .spawn()
        })
        .collect()
}

/// Checks that `file` parses and passes lint, and returns its mappings.
fn read_back(dir: &TestDir, file: &str) -> Vec<String> {
    dir.cmd()
        .script("list.rhai")
        .target(file)
        .run()
        .expect_code(0)
        .expect_stdout(&["ARN", "USERNAME", "GROUPS", "ACCOUNT"]);
    dir.cmd()
        .script("lint.rhai")
        .target(file)
        .run()
        .expect_code(0);
    dir.mappings(file)
}

#[test]
fn ten_concurrent_grants_all_land() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    for run in start_grants(&dir, &file) {
        run.wait().expect_code(0);
    }
    let mappings = read_back(&dir, &file);
    for i in 0..WRITERS {
        let want = format!("role {} concurrent-{i}:{{{{SessionName}}}} devs", role(i));
        assert!(mappings.contains(&want), "lost {want}:\n{mappings:#?}");
    }
    assert!(
        mappings.contains(&format!(
            "role {NODE_ROLE} system:node:{{{{EC2PrivateDNSName}}}} system:bootstrappers,system:nodes"
        )),
        "the node role was damaged:\n{mappings:#?}"
    );
    assert_eq!(mappings.len(), WRITERS + 1, "{mappings:#?}");
    assert_eq!(dir.list(), [file.as_str()], "temp or lock files were left");
}

#[test]
fn concurrent_grants_and_a_revoke_of_another_role_all_land() {
    let dir = TestDir::new();
    let file = dir.fixture("sso-and-users");
    let mut runs = start_grants(&dir, &file);
    runs.insert(
        WRITERS / 2,
        dir.cmd()
            .script("revoke.rhai")
            .target(&file)
            .set("arn", SSO_ADMIN_ROLE)
            .spawn(),
    );
    for run in runs {
        run.wait().expect_code(0);
    }
    let mappings = read_back(&dir, &file);
    for i in 0..WRITERS {
        assert!(
            mappings
                .iter()
                .any(|m| m.starts_with(&format!("role {} ", role(i)))),
            "lost {}:\n{mappings:#?}",
            role(i)
        );
    }
    assert!(
        !mappings.iter().any(|m| m.contains(SSO_ADMIN_ROLE)),
        "the revoke was lost:\n{mappings:#?}"
    );
    assert!(
        mappings.iter().any(|m| m.contains(NODE_ROLE)),
        "{mappings:#?}"
    );
    assert!(
        mappings.contains(&format!(
            "user {RUNBOOK_USER} someone@email.com system:masters"
        )),
        "{mappings:#?}"
    );
    assert_eq!(mappings.len(), WRITERS + 2, "{mappings:#?}");
    let text = dir.read(&file);
    assert!(
        text.starts_with(
            "# A cluster after the SSO administrator role and one IAM user were given access.\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  uid: 9e1d7c2a-4b3f-4f60-8d1e-2a7b9c0d3e44\n"),
        "{text}"
    );
}
