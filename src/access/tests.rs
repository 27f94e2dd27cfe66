//! Tests of the model and the manifest over the shared fixtures: every rule the access
//! model promises, checked without I/O.

use super::arn::PrincipalKind;
use super::intent::Intent;
use super::lint::findings;
use super::manifest::{Manifest, ManifestError};
use super::model::{AwsAuth, Protected};
use super::plan::{diff, summarize};
use super::section::{Body, SectionName};

const MESSY: &str = include_str!("../../tests/data/aws-auth/messy.yaml");
const SSO: &str = include_str!("../../tests/data/aws-auth/sso-and-users.yaml");
const NODES: &str = include_str!("../../tests/data/aws-auth/eks-nodes-only.yaml");
const TABS: &str = include_str!("../../tests/data/aws-auth/broken-tabs.yaml");
const SHAPE: &str = include_str!("../../tests/data/aws-auth/broken-shape.yaml");

const SSO_ADMIN: &str =
    "arn:aws:iam::123456789012:role/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef";
const NODE_ROLE: &str =
    "arn:aws:iam::123456789012:role/eksctl-my-cluster-nodegroup-ng-1-NodeInstanceRole-1A2B3C4D5E6F";

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn grant_role(arn: &str, groups: &[&str], username: Option<&str>, force: bool) -> Intent {
    Intent::grant(PrincipalKind::Role, arn, &s(groups), username, force)
        .unwrap()
        .0
}

fn revoke_role(arn: &str, groups: Option<&[&str]>, force: bool) -> Intent {
    let g = groups.map(s);
    Intent::revoke(PrincipalKind::Role, arn, g.as_deref(), force)
        .unwrap()
        .0
}

fn apply(text: &str, intents: &[Intent]) -> Result<(Manifest, AwsAuth, String), String> {
    let m = Manifest::parse(text).map_err(|e| e.to_string())?;
    let mut auth = m.auth.clone();
    for i in intents {
        auth.apply(i, &Protected::default())
            .map_err(|e| e.to_string())?;
    }
    let out = m.render(&auth).map_err(|e| e.to_string())?;
    Ok((m, auth, out))
}

fn roles(text: &str) -> Vec<(String, Option<String>, Vec<String>)> {
    Manifest::parse(text)
        .unwrap()
        .auth
        .roles
        .bodies()
        .map(|b| match b {
            Body::Mapping(m) => (m.arn.clone(), m.username.clone(), m.groups.clone()),
            Body::Account(_) => unreachable!(),
        })
        .collect()
}

#[test]
fn every_good_fixture_round_trips_byte_for_byte() {
    for text in [MESSY, SSO, NODES] {
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.render(&m.auth).unwrap(), text);
        assert!(m.auth.is_unchanged());
    }
}

#[test]
fn broken_fixtures_are_refused_with_the_file_line() {
    let e = Manifest::parse(TABS).unwrap_err();
    assert!(matches!(e, ManifestError::Section { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("data.mapRoles line 7") && msg.contains("not valid YAML"),
        "{msg}"
    );
    assert!(msg.starts_with("line 10:"), "{msg}");
    let e = Manifest::parse(SHAPE).unwrap_err().to_string();
    assert!(
        e.contains("data.mapUsers line 1") && e.contains("must be a list"),
        "{e}"
    );
    assert!(e.starts_with("line 16:"), "{e}");
}

#[test]
fn granting_a_new_role_appends_and_keeps_everything_else() {
    let arn = "arn:aws:iam::123456789012:role/dev";
    let (_, _, out) = apply(MESSY, &[grant_role(arn, &["team-dev"], None, false)]).unwrap();
    let roles_before = roles(MESSY);
    let roles_after = roles(&out);
    assert_eq!(&roles_after[..roles_before.len()], &roles_before[..]);
    assert_eq!(
        roles_after.last().unwrap(),
        &(
            arn.to_string(),
            Some("dev:{{SessionName}}".into()),
            s(&["team-dev"])
        )
    );
    // mapUsers, mapAccounts, metadata and comments are untouched, byte for byte.
    let tail = &MESSY[MESSY.find("  mapUsers:").unwrap()..];
    assert!(out.ends_with(tail), "{out}");
    let head = &MESSY[..MESSY
        .find("    - rolearn: arn:aws:iam::210987654321")
        .unwrap()];
    assert!(out.starts_with(head), "{out}");
}

#[test]
fn grants_are_idempotent() {
    let arn = "arn:aws:iam::123456789012:role/dev";
    let (_, _, once) = apply(NODES, &[grant_role(arn, &["a", "b"], Some("dev"), false)]).unwrap();
    let (m, auth, twice) =
        apply(&once, &[grant_role(arn, &["b", "a"], Some("dev"), false)]).unwrap();
    assert_eq!(once, twice);
    assert!(auth.is_unchanged());
    assert!(summarize(&m.auth, &auth).is_empty());
}

#[test]
fn grant_unions_groups_and_sets_username() {
    let (_, _, out) = apply(
        SSO,
        &[grant_role(
            SSO_ADMIN,
            &["system:masters", "ops"],
            Some("sso-admin:{{SessionName}}"),
            false,
        )],
    )
    .unwrap();
    let r = roles(&out);
    assert_eq!(
        r[1],
        (
            SSO_ADMIN.to_string(),
            Some("sso-admin:{{SessionName}}".into()),
            s(&["system:masters", "ops"])
        )
    );
}

#[test]
fn grant_matches_arns_ignoring_case_and_paths() {
    let upper = SSO_ADMIN.replace("AWSAdministratorAccess", "awsadministratoraccess");
    let (m, auth, out) =
        apply(SSO, &[grant_role(&upper, &["system:masters"], None, false)]).unwrap();
    assert_eq!(out, SSO);
    assert!(summarize(&m.auth, &auth).is_empty());
    let with_path = SSO_ADMIN.replace("role/", "role/aws-reserved/sso.amazonaws.com/eu-west-1/");
    let (_, _, out) = apply(
        SSO,
        &[grant_role(&with_path, &["system:masters"], None, false)],
    )
    .unwrap();
    assert_eq!(out, SSO);
}

#[test]
fn duplicates_collapse_to_the_last_entry() {
    let arn =
        "arn:aws:iam::123456789012:role/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef";
    let before = roles(MESSY).iter().filter(|r| r.0 == arn).count();
    assert_eq!(before, 2);
    let (m, auth, out) =
        apply(MESSY, &[grant_role(arn, &["system:masters"], None, false)]).unwrap();
    assert_eq!(roles(&out).iter().filter(|r| r.0 == arn).count(), 1);
    let sum = summarize(&m.auth, &auth);
    assert_eq!((sum.added, sum.changed, sum.removed), (0, 1, 0));
    // The duplicate's leading comment went with the removed first copy; the kept one is intact.
    assert!(out.contains("    - rolearn: arn:aws:iam::123456789012:role/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef\n      username: \"admin:{{SessionName}}\"\n"));
}

#[test]
fn last_duplicate_wins_even_when_it_has_fewer_groups() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/a\n      groups: [system:masters, x]\n    - rolearn: arn:aws:iam::123456789012:role/a\n      username: a\n      groups: [y]\n    - rolearn: arn:aws:iam::123456789012:role/b\n      groups: [system:masters]\n";
    let (_, _, out) = apply(
        text,
        &[grant_role(
            "arn:aws:iam::123456789012:role/a",
            &["z"],
            None,
            false,
        )],
    )
    .unwrap();
    let r = roles(&out);
    assert_eq!(r.len(), 2);
    assert_eq!(
        r[0],
        (
            "arn:aws:iam::123456789012:role/a".into(),
            Some("a".into()),
            s(&["y", "z"])
        )
    );
}

#[test]
fn a_dead_path_entry_is_replaced_by_a_matching_one() {
    let readonly = "arn:aws:iam::123456789012:role/AWSReservedSSO_ReadOnly_fedcba9876543210";
    let (_, _, out) = apply(
        MESSY,
        &[grant_role(readonly, &["team-readers"], None, false)],
    )
    .unwrap();
    let r = roles(&out);
    let hit: Vec<_> = r
        .iter()
        .filter(|x| x.0.to_lowercase().contains("readonly"))
        .collect();
    assert_eq!(hit.len(), 1);
    assert_eq!(hit[0].0, readonly);
    assert_eq!(hit[0].1.as_deref(), Some("readonly:{{SessionName}}"));
}

#[test]
fn node_roles_are_guarded() {
    for intent in [
        revoke_role(NODE_ROLE, None, false),
        revoke_role(NODE_ROLE, Some(&["system:nodes"]), false),
        grant_role(NODE_ROLE, &["extra"], None, false),
        grant_role(NODE_ROLE, &[], Some("someone"), false),
    ] {
        let e = apply(SSO, &[intent]).unwrap_err();
        assert!(e.contains("node or Fargate role"), "{e}");
    }
    // An idempotent grant on a node role changes nothing and is fine.
    apply(
        SSO,
        &[grant_role(NODE_ROLE, &["system:nodes"], None, false)],
    )
    .unwrap();
    // force passes the guard.
    let (_, _, out) = apply(SSO, &[revoke_role(NODE_ROLE, None, true)]).unwrap();
    assert!(!out.contains("NodeInstanceRole"));
}

#[test]
fn fargate_roles_are_guarded_too() {
    let e = apply(
        MESSY,
        &[revoke_role(
            "arn:aws:iam::123456789012:role/prod-fargate-pod-execution-role",
            None,
            false,
        )],
    )
    .unwrap_err();
    assert!(e.contains("node or Fargate role"), "{e}");
}

#[test]
fn removing_the_last_admin_is_guarded() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/admin\n      username: admin\n      groups:\n      - system:masters\n";
    let admin = "arn:aws:iam::123456789012:role/admin";
    for intent in [
        revoke_role(admin, None, false),
        revoke_role(admin, Some(&["system:masters"]), false),
    ] {
        let e = apply(text, &[intent]).unwrap_err();
        assert!(e.contains("last `system:masters`"), "{e}");
    }
    // With a second admin, removing the first is fine.
    let second = grant_role(
        "arn:aws:iam::123456789012:role/other",
        &["system:masters"],
        None,
        false,
    );
    apply(text, &[second, revoke_role(admin, None, false)]).unwrap();
    apply(text, &[revoke_role(admin, None, true)]).unwrap();
    // SSO has an admin role and an admin user: removing one leaves the other.
    apply(SSO, &[revoke_role(SSO_ADMIN, None, false)]).unwrap();
}

#[test]
fn the_callers_own_mapping_is_guarded() {
    let m = Manifest::parse(SSO).unwrap();
    let mut auth = m.auth.clone();
    let me = Protected {
        keys: vec![super::arn::match_key(SSO_ADMIN)],
    };
    let e = auth
        .apply(&revoke_role(SSO_ADMIN, None, false), &me)
        .unwrap_err();
    assert!(e.message.contains("lock itself out"), "{e}");
    auth.apply(&revoke_role(SSO_ADMIN, None, true), &me)
        .unwrap();
}

#[test]
fn revoking_groups_keeps_the_entry() {
    let (_, _, once) = apply(SSO, &[grant_role(SSO_ADMIN, &["ops"], None, false)]).unwrap();
    let (_, _, out) = apply(&once, &[revoke_role(SSO_ADMIN, Some(&["ops"]), false)]).unwrap();
    assert_eq!(roles(&out), roles(SSO));
}

#[test]
fn revoking_an_unmapped_principal_is_a_noop_with_a_note() {
    let m = Manifest::parse(SSO).unwrap();
    let mut auth = m.auth.clone();
    let done = auth
        .apply(
            &revoke_role("arn:aws:iam::123456789012:role/nobody", None, false),
            &Protected::default(),
        )
        .unwrap();
    assert!(!done.changed);
    assert!(done.notes[0].contains("nothing to revoke"));
    assert!(auth.is_unchanged());
}

#[test]
fn users_and_accounts() {
    let user = "arn:aws:iam::123456789012:user/division/bob";
    let (g, _) =
        Intent::grant(PrincipalKind::User, user, &s(&["devs"]), Some("bob"), false).unwrap();
    let add = Intent::account("111111111111", true, false).unwrap();
    let (_, auth, out) = apply(NODES, &[g, add.clone(), add]).unwrap();
    assert!(out.contains("  mapUsers: |\n    - userarn: arn:aws:iam::123456789012:user/division/bob\n      username: bob\n      groups:\n      - devs\n"), "{out}");
    assert!(
        out.contains("  mapAccounts: |\n    - \"111111111111\"\n"),
        "{out}"
    );
    assert_eq!(auth.mappings().len(), 3);
    let (r, _) = Intent::revoke(PrincipalKind::User, user, None, false).unwrap();
    let (_, _, back) = apply(
        &out,
        &[r, Intent::account("111111111111", false, false).unwrap()],
    )
    .unwrap();
    let m = Manifest::parse(&back).unwrap();
    assert_eq!(m.auth.mappings().len(), 1);
    assert!(Intent::account("12345", true, false).is_err());
}

#[test]
fn data_can_be_missing_null_or_flow() {
    let base =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\n";
    let arn = "arn:aws:iam::123456789012:role/a";
    for text in [
        base.to_string(),
        format!("{base}data:\n"),
        format!("{base}data: null # nothing yet\n"),
        format!("{base}data: {{}}\n"),
        format!("{base}data: {{other: x}}\n"),
        format!("{base}data:\n  other: x\n"),
        "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"aws-auth\"}}".to_string(),
        "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"aws-auth\"}, \"data\": {}}".to_string(),
        "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\",\n  \"data\": {\n    \"mapRoles\": \"- rolearn: arn:aws:iam::123456789012:role/b\\n\",\n    \"x\": \"y\"\n  }\n}\n".to_string(),
    ] {
        let (_, _, out) = apply(&text, &[grant_role(arn, &["g"], None, false)]).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(roles(&out).iter().any(|r| r.0 == arn), "{text}\n=>\n{out}");
        if text.trim_start().starts_with('{') {
            serde_json::from_str::<serde_json::Value>(&out).unwrap_or_else(|e| panic!("not JSON: {e}\n{out}"));
        }
        if text.contains("other") {
            assert!(out.contains("other: x"), "{out}");
        }
    }
}

#[test]
fn the_fresh_manifest_gets_a_data_block() {
    let m = Manifest::fresh();
    let mut auth = m.auth.clone();
    auth.apply(
        &grant_role(
            SSO_ADMIN,
            &["system:masters"],
            Some("admin:{{SessionName}}"),
            false,
        ),
        &Protected::default(),
    )
    .unwrap();
    let out = m.render(&auth).unwrap();
    assert_eq!(
        out,
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    - rolearn: {SSO_ADMIN}\n      username: admin:{{{{SessionName}}}}\n      groups:\n      - system:masters\n")
    );
}

#[test]
fn other_configmaps_are_refused() {
    let e = Manifest::parse("apiVersion: v1\nkind: Secret\nmetadata:\n  name: aws-auth\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("`kind` is `Secret`"), "{e}");
    let e = Manifest::parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: coredns\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("metadata.name"), "{e}");
    let e = Manifest::parse("kind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: default\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("metadata.namespace"), "{e}");
    let e = Manifest::parse("- a\n").unwrap_err().to_string();
    assert!(e.contains("not a ConfigMap"), "{e}");
    let e = Manifest::parse("kind: ConfigMap\ndata:\n  mapRoles:\n    - rolearn: x\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("must be a string holding YAML"), "{e}");
}

#[test]
fn multi_document_files_edit_only_aws_auth() {
    let text = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n---\n{SSO}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n");
    let (_, _, out) = apply(
        &text,
        &[grant_role(
            "arn:aws:iam::123456789012:role/new",
            &["g"],
            None,
            false,
        )],
    )
    .unwrap();
    assert!(out.starts_with("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n---\n"));
    assert!(out.ends_with("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n"));
    assert!(roles(&out).iter().any(|r| r.0.ends_with("role/new")));
}

#[test]
fn double_quoted_sections_stay_double_quoted() {
    let text = "kind: ConfigMap\ndata:\n  mapRoles: \"- rolearn: arn:aws:iam::123456789012:role/a\\n  groups: [x]\\n\"\n  mapUsers: \"\"\n";
    let (_, _, out) = apply(
        text,
        &[grant_role(
            "arn:aws:iam::123456789012:role/b",
            &["g"],
            None,
            false,
        )],
    )
    .unwrap();
    assert!(out.contains("  mapRoles: \"- rolearn: arn:aws:iam::123456789012:role/a\\n  groups: [x]\\n- rolearn: arn:aws:iam::123456789012:role/b\\n"), "{out}");
    assert!(out.contains("  mapUsers: \"\"\n"));
}

#[test]
fn the_size_limit_is_enforced() {
    let mut auth = Manifest::parse(NODES).unwrap().auth;
    let m = Manifest::parse(NODES).unwrap();
    let groups: Vec<String> = (0..20)
        .map(|g| format!("group-number-{g:03}-with-a-long-name"))
        .collect();
    let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
    for i in 0..1500 {
        auth.apply(
            &grant_role(
                &format!("arn:aws:iam::123456789012:role/r{i:05}-{}", "x".repeat(40)),
                &groups,
                None,
                false,
            ),
            &Protected::default(),
        )
        .unwrap();
    }
    let e = m.render(&auth).unwrap_err();
    assert!(matches!(e, ManifestError::TooLarge(_)), "{e}");
}

#[test]
fn diff_shows_only_changed_sections() {
    let (m, auth, _) = apply(
        SSO,
        &[grant_role(
            "arn:aws:iam::123456789012:role/dev",
            &["devs"],
            None,
            false,
        )],
    )
    .unwrap();
    let d = diff(&m.auth, &auth);
    assert!(
        d.starts_with("--- a/data.mapRoles\n+++ b/data.mapRoles\n"),
        "{d}"
    );
    assert!(
        d.contains("+- rolearn: arn:aws:iam::123456789012:role/dev\n"),
        "{d}"
    );
    assert!(!d.contains("mapUsers"));
    assert_eq!(diff(&m.auth, &m.auth), "");
}

#[test]
fn lint_reports_what_the_authenticator_ignores() {
    let m = Manifest::parse(MESSY).unwrap();
    let f = findings(&m.auth);
    let codes: Vec<&str> = f.iter().map(|x| x.code).collect();
    assert!(codes.contains(&"duplicate"), "{f:?}");
    assert!(codes.contains(&"role-path"), "{f:?}");
    assert!(codes.contains(&"empty-groups"), "{f:?}");
    let dup = f.iter().find(|x| x.code == "duplicate").unwrap();
    assert!(dup.message.contains("lines 12, 16"), "{}", dup.message);
    let text = "kind: ConfigMap\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:user/u\n      username: \"{{Session}}\"\n      groups: [a]\n    - rolearn: not-an-arn\n      groups: [a]\n  mapAccounts: |\n    - \"12\"\n";
    let codes: Vec<&str> = findings(&Manifest::parse(text).unwrap().auth)
        .iter()
        .map(|x| x.code)
        .collect();
    assert_eq!(codes, ["wrong-kind", "template", "bad-arn", "bad-account"]);
    assert!(findings(&Manifest::parse(SSO).unwrap().auth).is_empty());
}

#[test]
fn section_lines_map_to_file_lines() {
    let m = Manifest::parse(MESSY).unwrap();
    assert_eq!(m.file_line(SectionName::MapRoles, 1), Some(17));
    assert_eq!(m.file_line(SectionName::MapUsers, 1), Some(46));
}

#[test]
fn grants_land_after_empty_values_and_comments_at_the_end() {
    // Shapes found by fuzzing: the last value of the document or of `data` is empty, a
    // mapping, or followed by a comment; the root is indented; no final newline.
    let arn = "arn:aws:iam::123456789012:role/a";
    for text in [
        "metadata:\n  name: aws-auth\nimmutable:\n",
        "metadata:\n  name: aws-auth\n  annotations:",
        "kind: ConfigMap\ndata:\n  other:\n",
        "kind: ConfigMap\ndata:\n  other: x # why\n",
        "kind: ConfigMap # a comment\n",
        "  lni:",
        "kind: ConfigMap\r\nmetadata:\r\n  name: aws-auth\r\ndata:\r\n  mapUsers: |\r\n    - userarn: arn:aws:iam::123456789012:user/u\r\n      username: u\r\n",
    ] {
        let (_, _, out) = apply(text, &[grant_role(arn, &["g"], None, false)]).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert!(roles(&out).iter().any(|r| r.0 == arn), "{text:?} => {out:?}");
    }
}

#[test]
fn lone_carriage_returns_and_duplicate_keys_are_refused() {
    let e = Manifest::parse("kind: ConfigMap\rdata: {}\r")
        .unwrap_err()
        .to_string();
    assert!(e.contains("carriage return"), "{e}");
    let e = Manifest::parse("kind: ConfigMap\ndata:\n  mapAccounts: \"- \\\"123456789012\\\"\\r- \\\"210987654321\\\"\\r\"\n").unwrap_err().to_string();
    assert!(
        e.contains("data.mapAccounts") && e.contains("carriage return"),
        "{e}"
    );
    for (text, line) in [
        ("kind: ConfigMap\nkind: Secret\n", 2),
        ("metadata:\n  name: aws-auth\n  name: coredns\n", 3),
        ("data:\n  mapRoles: \"\"\n  mapRoles: \"[]\"\n", 3),
    ] {
        let e = Manifest::parse(text).unwrap_err();
        assert_eq!(e.line(), Some(line), "{text:?}: {e}");
        assert!(e.to_string().contains("appears twice"), "{e}");
    }
}

// ---- The authenticator's matching rule, exact membership and teams (issues 10 and 13) ----

const CROSS: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/admin\n      username: admin\n      groups:\n      - system:masters\n  mapUsers: |\n    - userarn: arn:aws:iam::123456789012:user/bob\n      username: bob\n      groups:\n      - devs\n    - userarn: arn:aws:iam::123456789012:role/sneaky\n      username: sneaky\n      groups:\n      - system:masters\n";
const SNEAKY: &str = "arn:aws:iam::123456789012:role/sneaky";

fn exact(kind: PrincipalKind, arn: &str, groups: &[&str]) -> Intent {
    Intent::grant_with(kind, arn, &s(groups), None, true, false)
        .unwrap()
        .0
}

fn users(text: &str) -> Vec<(String, Option<String>, Vec<String>)> {
    Manifest::parse(text)
        .unwrap()
        .auth
        .users
        .bodies()
        .map(|b| match b {
            Body::Mapping(m) => (m.arn.clone(), m.username.clone(), m.groups.clone()),
            Body::Account(_) => unreachable!(),
        })
        .collect()
}

fn applied(text: &str, intent: &Intent) -> Result<(super::model::Applied, String), String> {
    let m = Manifest::parse(text).map_err(|e| e.to_string())?;
    let mut auth = m.auth.clone();
    let done = auth
        .apply(intent, &Protected::default())
        .map_err(|e| e.to_string())?;
    Ok((done, m.render(&auth).map_err(|e| e.to_string())?))
}

#[test]
fn lookup_searches_map_roles_then_map_users() {
    let auth = Manifest::parse(CROSS).unwrap().auth;
    let look = auth.lookup(SNEAKY);
    assert_eq!(look.found.len(), 1);
    assert_eq!(look.used, look.found.first().copied());
    assert_eq!(look.found[0].section, SectionName::MapUsers);
    assert_eq!(auth.place(look.found[0]), "mapUsers line 5");
    // Upper case matches, as the authenticator compares ignoring case.
    assert_eq!(
        auth.lookup("ARN:AWS:IAM::123456789012:ROLE/SNEAKY").found,
        look.found
    );
}

#[test]
fn revoking_a_role_removes_its_map_users_entry_and_says_where_it_was() {
    let (done, out) = applied(CROSS, &revoke_role(SNEAKY, None, false)).unwrap();
    assert!(done.changed);
    assert!(!out.contains("sneaky"), "{out}");
    assert!(
        done.notes.iter().any(|n| n.contains("mapUsers line 5")),
        "{:?}",
        done.notes
    );
    assert_eq!(users(&out).len(), 1, "bob stays");
}

#[test]
fn a_principal_in_both_sections_is_revoked_in_both_and_granted_once() {
    let text = CROSS.replace(
        "  mapUsers: |\n",
        "    - rolearn: arn:aws:iam::123456789012:role/sneaky\n      groups: [viewers]\n  mapUsers: |\n",
    );
    let auth = Manifest::parse(&text).unwrap().auth;
    let look = auth.lookup(SNEAKY);
    assert_eq!(look.found.len(), 2);
    assert_eq!(look.used.unwrap().section, SectionName::MapRoles);
    let (done, out) = applied(&text, &revoke_role(SNEAKY, None, false)).unwrap();
    assert!(!out.contains("sneaky"), "{out}");
    assert!(
        done.notes[0].contains("mapRoles line 5, mapUsers line 5"),
        "{:?}",
        done.notes
    );
    // A grant keeps the entry the authenticator uses (mapRoles) and drops the shadowed one.
    let (done, out) = applied(&text, &grant_role(SNEAKY, &["devs"], None, false)).unwrap();
    assert_eq!(users(&out).len(), 1);
    let r = roles(&out);
    assert_eq!(r[1].2, s(&["viewers", "devs"]));
    assert!(
        done.notes[0].contains("mapRoles, then mapUsers"),
        "{:?}",
        done.notes
    );
}

#[test]
fn lint_says_a_role_in_map_users_does_match() {
    let f = findings(&Manifest::parse(CROSS).unwrap().auth);
    let wk = f
        .iter()
        .find(|x| x.code == "wrong-kind")
        .expect("wrong-kind");
    assert!(wk.message.contains("still matches it"), "{}", wk.message);
    assert!(!wk.message.contains("no caller matches"), "{}", wk.message);
    // Duplicates across the two sections are one principal, and lint says which is used.
    let text = CROSS.replace(
        "  mapUsers: |\n",
        "    - rolearn: arn:aws:iam::123456789012:role/sneaky\n      groups: [viewers]\n  mapUsers: |\n",
    );
    let f = findings(&Manifest::parse(&text).unwrap().auth);
    let dup = f.iter().find(|x| x.code == "duplicate").expect("duplicate");
    assert!(
        dup.message.contains("uses only mapRoles line 5"),
        "{}",
        dup.message
    );
}

#[test]
fn upper_case_arns_are_matched_not_reported_as_bad() {
    let text = "kind: ConfigMap\ndata:\n  mapRoles: |\n    - rolearn: ARN:AWS:IAM::123456789012:ROLE/UPPER\n      username: upper\n      groups: [devs]\n";
    let f = findings(&Manifest::parse(text).unwrap().auth);
    assert!(f.is_empty(), "{f:?}");
    // A path in upper case is still a path the authenticator never matches.
    let text = text.replace("ROLE/UPPER", "ROLE/P/UPPER");
    let codes: Vec<&str> = findings(&Manifest::parse(&text).unwrap().auth)
        .iter()
        .map(|x| x.code)
        .collect();
    assert_eq!(codes, ["role-path"]);
}

#[test]
fn case_variant_section_keys_are_flagged_and_not_written_beside() {
    let text = "kind: ConfigMap\nmetadata:\n  name: aws-auth\ndata:\n  maproles: |\n    - rolearn: arn:aws:iam::123456789012:role/admin\n      groups: [system:masters]\n";
    let m = Manifest::parse(text).unwrap();
    let f = findings(&m.auth);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].code, "section-case");
    assert!(
        f[0].message.contains("did you mean mapRoles?"),
        "{}",
        f[0].message
    );
    assert!(f[0].message.contains("(line 5)"), "{}", f[0].message);
    let e = applied(
        text,
        &grant_role("arn:aws:iam::123456789012:role/dev", &["devs"], None, false),
    )
    .unwrap_err();
    assert!(
        e.contains("refusing to write `mapRoles`") && e.contains("`maproles` (line 5)"),
        "{e}"
    );
    // Users are another section: writing mapUsers is fine.
    let user = Intent::grant(
        PrincipalKind::User,
        "arn:aws:iam::123456789012:user/u",
        &s(&["devs"]),
        Some("u"),
        false,
    )
    .unwrap()
    .0;
    applied(text, &user).unwrap();
    // force writes mapRoles beside it.
    let (_, out) = applied(
        text,
        &grant_role("arn:aws:iam::123456789012:role/dev", &["devs"], None, true),
    )
    .unwrap();
    assert!(
        out.contains("  maproles: |") && out.contains("  mapRoles: |"),
        "{out}"
    );
}

#[test]
fn exact_grants_remove_extra_groups_and_are_idempotent() {
    let (done, out) = applied(
        SSO,
        &exact(PrincipalKind::Role, SSO_ADMIN, &["system:masters", "ops"]),
    )
    .unwrap();
    assert!(done.changed);
    let (_, out2) = applied(&out, &grant_role(SSO_ADMIN, &["drift"], None, false)).unwrap();
    let (done, back) = applied(
        &out2,
        &exact(PrincipalKind::Role, SSO_ADMIN, &["system:masters", "ops"]),
    )
    .unwrap();
    assert!(done.changed, "the hand-added group is drift");
    assert_eq!(back, out);
    let (done, again) = applied(
        &back,
        &exact(PrincipalKind::Role, SSO_ADMIN, &["system:masters", "ops"]),
    )
    .unwrap();
    assert!(!done.changed);
    assert_eq!(again, back);
}

#[test]
fn exact_with_no_groups_removes_the_entry_and_guards_still_apply() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/admin\n      groups: [system:masters]\n    - rolearn: arn:aws:iam::123456789012:role/dev\n      groups: [devs]\n";
    let (done, out) = applied(
        text,
        &exact(
            PrincipalKind::Role,
            "arn:aws:iam::123456789012:role/dev",
            &[],
        ),
    )
    .unwrap();
    assert!(done.changed && !out.contains("role/dev"), "{out}");
    assert!(
        done.notes[0].contains("system:authenticated"),
        "{:?}",
        done.notes
    );
    let e = applied(
        text,
        &exact(
            PrincipalKind::Role,
            "arn:aws:iam::123456789012:role/admin",
            &["devs"],
        ),
    )
    .unwrap_err();
    assert!(e.contains("last `system:masters`"), "{e}");
    let e = applied(
        SSO,
        &exact(PrincipalKind::Role, NODE_ROLE, &["system:nodes"]),
    )
    .unwrap_err();
    assert!(e.contains("node or Fargate role"), "{e}");
    // The caller's own mapping: narrowing it needs force.
    let mut auth = Manifest::parse(SSO).unwrap().auth;
    let me = Protected {
        keys: vec![super::arn::match_key(SSO_ADMIN)],
    };
    let e = auth
        .apply(&exact(PrincipalKind::Role, SSO_ADMIN, &["ops"]), &me)
        .unwrap_err();
    assert!(e.message.contains("lock itself out"), "{e}");
}

#[test]
fn revoking_the_last_group_removes_the_entry_with_a_note() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/admin\n      groups: [system:masters]\n    - rolearn: arn:aws:iam::123456789012:role/dev\n      groups: [devs]\n";
    let (done, out) = applied(
        text,
        &revoke_role("arn:aws:iam::123456789012:role/dev", Some(&["devs"]), false),
    )
    .unwrap();
    assert!(done.changed);
    assert!(!out.contains("role/dev"), "{out}");
    assert!(!out.contains("groups: []"), "{out}");
    assert!(
        done.notes[0]
            .contains("removed the entry for arn:aws:iam::123456789012:role/dev (mapRoles line 3)")
            && done.notes[0].contains("last group"),
        "{:?}",
        done.notes
    );
    // A group it does not have changes nothing.
    let (done, out) = applied(
        text,
        &revoke_role("arn:aws:iam::123456789012:role/dev", Some(&["ops"]), false),
    )
    .unwrap();
    assert!(!done.changed);
    assert_eq!(out, text);
}

#[test]
fn teams_add_listed_members_and_remove_the_rest() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/admin\n      groups: [system:masters]\n    # keep this comment\n    - rolearn: arn:aws:iam::123456789012:role/old\n      groups: [devs]\n    - rolearn: arn:aws:iam::123456789012:role/both\n      groups: [devs, ops]\n  mapUsers: |\n    - userarn: arn:aws:iam::123456789012:user/u\n      username: u\n      groups: [devs]\n";
    let team = |members: &[&str]| {
        Intent::members(PrincipalKind::Role, "devs", &s(members), false)
            .unwrap()
            .0
    };
    let new = "arn:aws:iam::123456789012:role/new";
    let (done, out) = applied(text, &team(&[new])).unwrap();
    assert!(done.changed);
    let r = roles(&out);
    assert_eq!(r.len(), 3, "{r:?}");
    assert_eq!(r[0].0, "arn:aws:iam::123456789012:role/admin");
    assert_eq!(
        r[1],
        (
            "arn:aws:iam::123456789012:role/both".into(),
            None,
            s(&["ops"])
        )
    );
    assert_eq!(
        r[2],
        (new.into(), Some("new:{{SessionName}}".into()), s(&["devs"]))
    );
    // Users are another team: untouched, text and all.
    assert!(out.ends_with("  mapUsers: |\n    - userarn: arn:aws:iam::123456789012:user/u\n      username: u\n      groups: [devs]\n"), "{out}");
    assert!(
        done.notes
            .iter()
            .any(|n| n.contains("took `devs` from arn:aws:iam::123456789012:role/old")),
        "{:?}",
        done.notes
    );
    // Again: nothing to do.
    let (done, again) = applied(&out, &team(&[new])).unwrap();
    assert!(!done.changed);
    assert_eq!(again, out);
    // Guards: a masters team that would drop the last admin is refused, all or nothing.
    let masters = Intent::members(PrincipalKind::Role, "system:masters", &[], false)
        .unwrap()
        .0;
    let e = applied(text, &masters).unwrap_err();
    assert!(e.contains("last `system:masters`"), "{e}");
}

/// The `data` of a manifest whose only section is `mapRoles` written as `value`.
fn with_roles(value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: {value}\n  other: kept\n")
}

const NEW_ROLE: &str = "arn:aws:iam::123456789012:role/new-team";

/// Grants NEW_ROLE into `value`; checks that the re-parsed result holds the old entries
/// and the new one, and returns the new manifest text.
fn grant_into(value: &str) -> String {
    let text = with_roles(value);
    let before = roles(&text);
    let (_, _, out) = apply(&text, &[grant_role(NEW_ROLE, &["new-team"], None, false)]).unwrap();
    let after = roles(&out);
    assert_eq!(&after[..before.len()], &before[..], "{out}");
    assert_eq!(after.len(), before.len() + 1, "{out}");
    assert_eq!(after.last().unwrap().0, NEW_ROLE, "{out}");
    assert!(out.ends_with("  other: kept\n"), "{out}");
    out
}

const A: &str =
    "- rolearn: arn:aws:iam::123456789012:role/a\n      username: a\n      groups:\n      - devs";

#[test]
fn strip_chomped_sections_stay_strip_chomped() {
    let out = grant_into(&format!("|-\n    {A}"));
    assert!(
        out.contains(&format!(
            "mapRoles: |-\n    {A}\n    - rolearn: {NEW_ROLE}\n"
        )),
        "{out}"
    );
}

#[test]
fn kept_sections_stay_kept_with_their_blank_lines() {
    let out = grant_into(&format!("|+\n    {A}\n"));
    assert!(
        out.contains(&format!("mapRoles: |+\n    {A}\n    - rolearn: {NEW_ROLE}")),
        "{out}"
    );
    assert!(out.contains("- new-team\n\n  other: kept\n"), "{out}");
}

#[test]
fn folded_sections_stay_folded() {
    let out = grant_into(&format!(">\n    {A}"));
    assert!(
        out.contains(&format!(
            "mapRoles: >\n    {A}\n    - rolearn: {NEW_ROLE}\n"
        )),
        "{out}"
    );
    // Two unindented lines in a row (accounts, flow entries) need a blank line between them
    // in a folded block, or they would be joined into one line.
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapAccounts: >-\n    - \"111111111111\"\n\n    - \"222222222222\"\n";
    let (_, _, out) = apply(
        text,
        &[Intent::account("333333333333", true, false).unwrap()],
    )
    .unwrap();
    assert!(out.contains("mapAccounts: >-\n"), "{out}");
    let back = Manifest::parse(&out).unwrap();
    let got: Vec<_> = back.auth.accounts.bodies().cloned().collect();
    assert_eq!(
        got,
        ["111111111111", "222222222222", "333333333333"].map(|a| Body::Account(a.into()))
    );
}

#[test]
fn flow_sections_stay_flow_and_keep_untouched_items() {
    let first = "{rolearn: arn:aws:iam::123456789012:role/a, groups: [devs]}";
    let out = grant_into(&format!("'[{first}]'"));
    assert!(
        out.contains(&format!("mapRoles: '[{first}, {{rolearn: \"{NEW_ROLE}\"")),
        "{out}"
    );
    let out = grant_into(&format!("|\n    [\n      {first}\n    ]"));
    assert!(
        out.contains(&format!(
            "mapRoles: |\n    [\n      {first}, {{rolearn: \"{NEW_ROLE}\""
        )),
        "{out}"
    );
    // Changing the only item rewrites just that item, still as a flow mapping.
    let text = with_roles(&format!("\"[{first}]\""));
    let (_, _, out) = apply(
        &text,
        &[grant_role(
            "arn:aws:iam::123456789012:role/a",
            &["ops"],
            None,
            false,
        )],
    )
    .unwrap();
    assert!(out.contains("mapRoles: \"[{rolearn: \\\"arn:aws:iam::123456789012:role/a\\\", groups: [\\\"devs\\\", \\\"ops\\\"]}]\"\n"), "{out}");
    assert_eq!(roles(&out)[0].2, ["devs", "ops"]);
}

#[test]
fn empty_quoted_sections_become_literal_blocks_only_when_filled() {
    let out = grant_into("\"\"");
    assert!(
        out.contains(&format!("mapRoles: |\n    - rolearn: {NEW_ROLE}\n")),
        "{out}"
    );
    let out = grant_into("''");
    assert!(out.contains("mapRoles: |\n"), "{out}");
    // A section that is already non-empty and double-quoted stays double-quoted.
    let out = grant_into("\"- rolearn: arn:aws:iam::123456789012:role/a\\n\"");
    assert!(
        out.contains("mapRoles: \"- rolearn: arn:aws:iam::123456789012:role/a\\n- rolearn:"),
        "{out}"
    );
}

#[test]
fn revoking_everything_from_a_flow_section_leaves_empty_brackets() {
    let text = with_roles("'[{rolearn: arn:aws:iam::123456789012:role/a, groups: [devs]}]'");
    let (_, _, out) = apply(
        &text,
        &[revoke_role("arn:aws:iam::123456789012:role/a", None, false)],
    )
    .unwrap();
    assert!(out.contains("mapRoles: '[]'\n"), "{out}");
}

#[test]
fn the_simple_reader_agrees_with_the_general_parser_on_every_fixture() {
    use super::section::Section;
    let mut texts: Vec<(SectionName, String)> = Vec::new();
    for text in [MESSY, SSO, NODES] {
        let m = Manifest::parse(text).unwrap();
        for name in SectionName::ALL {
            if let Some(src) = m.auth.section(name).source.as_deref() {
                texts.push((name, src.to_string()));
            }
        }
    }
    for (name, t) in [
        (SectionName::MapRoles, "- rolearn: a\n  groups:\n  - x\n  - \"y\" # c\n  username: 'u'\n"),
        (SectionName::MapRoles, "  -   rolearn: a # c\n      groups: [x, \"y, z\", 'w']\n\n# gap\n  - rolearn: b\n      groups: []\n"),
        (SectionName::MapRoles, "- rolearn: a\n  groups:\n    - x\n  username:\n- rolearn: b\n  username: ~\n"),
        (SectionName::MapRoles, "- rolearn: a\n  rolearn: b\n"),
        (SectionName::MapRoles, "- rolearn: a\n  groups: x\n"),
        (SectionName::MapRoles, "- username: a\n"),
        (SectionName::MapRoles, "- rolearn: a\n  note: {x: 1}\n"),
        (SectionName::MapRoles, "- rolearn: a\n  groups:\n  - - x\n"),
        (SectionName::MapRoles, "- rolearn: a:\n"),
        (SectionName::MapRoles, "- rolearn: a\n   groups: []\n"),
        (SectionName::MapRoles, "- rolearn: \"a\\\"b\"\n"),
        (SectionName::MapRoles, "- rolearn: 'a''b'\n"),
        (SectionName::MapRoles, "- rolearn: a\n---\n- rolearn: b\n"),
        (SectionName::MapRoles, "- rolearn: a\n  groups: [x,\n    y]\n"),
        (SectionName::MapRoles, "- rolearn: multi\n    line\n"),
        (SectionName::MapAccounts, "- 111111111111\n- \"222222222222\" # c\n-   '333333333333'\n"),
        (SectionName::MapAccounts, "- 1\n  - 2\n"),
        (SectionName::MapUsers, "- userarn: arn:aws:iam::123456789012:user/a\n  username: a\n  groups:\n  - system:masters"),
    ] {
        texts.push((name, t.to_string()));
    }
    for (name, text) in texts {
        let fast = super::section::Section::parse_with(name, &text, false);
        let general = Section::parse_with(name, &text, true);
        assert_eq!(fast, general, "{text:?}");
    }
}

#[test]
fn the_usual_section_shape_takes_the_line_by_line_reader() {
    let m = Manifest::parse(NODES).unwrap();
    let src = m.auth.roles.source.as_deref().unwrap();
    assert!(super::simple_list::parse(src).is_some(), "{src}");
    let bench = "- rolearn: arn:aws:iam::123456789012:role/team-00001-developers\n  username: team-00001:{{SessionName}}\n  groups:\n  - team-00001\n  - viewers\n";
    assert!(super::simple_list::parse(bench).is_some());
}

#[test]
fn the_simple_document_reader_agrees_with_the_general_parser() {
    let manifest = |value: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\n  labels:\n    app.kubernetes.io/name: x # c\ndata:\n  mapRoles: {value}\n  other: \"kept\"\n# end\n")
    };
    let mut texts: Vec<String> = [MESSY, SSO, NODES, TABS, SHAPE]
        .map(str::to_string)
        .to_vec();
    for v in [
        "|\n    - rolearn: a\n\n    # c\n      groups: []\n",
        "|-\n    - a\n",
        "|+\n    - a\n\n\n",
        "|+\n    - a\n  \n",
        "| # c\n      - a\n     - b\n",
        "|2\n    - a\n",
        ">\n    - a\n",
        "|\n\n    - a\n",
        "|\n",
        "\"\"",
        "",
        "'- a'",
    ] {
        texts.push(manifest(v));
    }
    texts.push("a: |\n  x".into());
    texts.push("a: |+\n  x\n\n".into());
    texts.push("a:\n  b: c\n d: e\n".into());
    texts.push("a:\n  - b\n".into());
    let mut taken = 0;
    for text in &texts {
        if let Some(fast) = super::simple_doc::parse(text) {
            taken += 1;
            assert_eq!(Ok(fast), super::yaml::parse_documents(text), "{text:?}");
        }
    }
    assert!(taken >= 8, "{taken}");
    assert!(super::simple_doc::parse(NODES).is_some());
}
