//! Tests of the model and the manifest over the shared fixtures: every rule the access
//! model promises, checked without I/O.

use super::arn::PrincipalKind;
use super::intent::Intent;
use super::lint::findings;
use super::manifest::{Manifest, ManifestError};
use super::model::{AwsAuth, Protected};
use super::plan::{diff, summarize};
use super::section::{Body, SectionName};

const MESSY: &str = include_str!("../../../tests/data/aws-auth/messy.yaml");
const SSO: &str = include_str!("../../../tests/data/aws-auth/sso-and-users.yaml");
const NODES: &str = include_str!("../../../tests/data/aws-auth/eks-nodes-only.yaml");
const TABS: &str = include_str!("../../../tests/data/aws-auth/broken-tabs.yaml");
const SHAPE: &str = include_str!("../../../tests/data/aws-auth/broken-shape.yaml");

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

mod matching;
mod styles;
