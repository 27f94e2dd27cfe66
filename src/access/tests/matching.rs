//! The authenticator's matching rule, exact membership and teams (issues 10 and 13).

use super::*;

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

fn applied(text: &str, intent: &Intent) -> Result<(crate::access::model::Applied, String), String> {
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
        keys: vec![crate::access::arn::match_key(SSO_ADMIN)],
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

#[test]
fn the_read_lint_finds_exactly_the_duplicates_and_role_paths_of_the_full_lint() {
    let dup = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/teams/a\n      username: a {{Bad}}\n      groups: []\n    - rolearn: arn:aws:iam::123456789012:role/b\n      groups: [x]\n  mapUsers: |\n    - userarn: arn:aws:iam::123456789012:role/B\n      groups: [y z]\n  mapAccounts: |\n    - \"111111111111\"\n    - \"111111111111\"\n";
    for text in [MESSY, SSO, NODES, CROSS, dup] {
        let auth = Manifest::parse(text).unwrap().auth;
        let mut all = findings(&auth);
        all.retain(|f| f.code == "duplicate" || f.code == "role-path");
        assert_eq!(super::super::lint::read_findings(&auth), all, "{text}");
    }
    let auth = Manifest::parse(dup).unwrap().auth;
    let codes: Vec<&str> = super::super::lint::read_findings(&auth)
        .iter()
        .map(|f| f.code)
        .collect();
    assert_eq!(codes, ["role-path", "duplicate", "duplicate"]);
}
