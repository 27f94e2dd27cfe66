//! Tests of sections: parsing with lines, rendering that keeps untouched text, errors.
use super::*;

const ROLES: &str = "# node roles - DO NOT REMOVE\n- rolearn: arn:aws:iam::123456789012:role/node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n# the admins\n- rolearn: arn:aws:iam::123456789012:role/admin\n  username: \"admin:{{SessionName}}\"\n  groups:\n    - system:masters\n# trailing comment\n";

fn mapping(s: &Section, i: usize) -> &Mapping {
    match &*s.slots[i].body {
        Body::Mapping(m) => m,
        Body::Account(_) => panic!("not a mapping"),
    }
}

#[test]
fn parses_entries_with_their_lines() {
    let s = Section::parse(SectionName::MapRoles, ROLES).unwrap();
    assert_eq!(s.slots.len(), 2);
    assert_eq!(
        mapping(&s, 0).groups,
        ["system:bootstrappers", "system:nodes"]
    );
    assert_eq!(
        mapping(&s, 1).username.as_deref(),
        Some("admin:{{SessionName}}")
    );
    assert_eq!(s.slots[0].line, Some(2));
    assert_eq!(s.slots[1].line, Some(6));
}

#[test]
fn unchanged_sections_render_byte_identical() {
    for text in [
        ROLES,
        "",
        "[]",
        "# only a comment\n",
        "- rolearn: arn:aws:iam::123456789012:role/a\n  groups: []",
    ] {
        let s = Section::parse(SectionName::MapRoles, text).unwrap();
        assert_eq!(s.render().as_deref(), Some(text));
    }
    assert_eq!(Section::absent(SectionName::MapUsers).render(), None);
}

#[test]
fn changing_one_entry_keeps_the_other_and_its_comments() {
    let mut s = Section::parse(SectionName::MapRoles, ROLES).unwrap();
    let Body::Mapping(mut m) = (*s.slots[1].body).clone() else {
        unreachable!()
    };
    m.groups.push("team".into());
    s.slots[1].set(Body::Mapping(m));
    let out = s.render().unwrap();
    assert_eq!(
        out,
        "# node roles - DO NOT REMOVE\n- rolearn: arn:aws:iam::123456789012:role/node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n# the admins\n- rolearn: arn:aws:iam::123456789012:role/admin\n  username: admin:{{SessionName}}\n  groups:\n  - system:masters\n  - team\n# trailing comment\n"
    );
}

#[test]
fn appending_matches_the_existing_indent() {
    let text = "  - userarn: arn:aws:iam::123456789012:user/a\n    username: a\n";
    let mut s = Section::parse(SectionName::MapUsers, text).unwrap();
    s.slots.push(Slot::new(Body::Mapping(Mapping::new(
        PrincipalKind::User,
        "arn:aws:iam::123456789012:user/b",
        Some("b"),
        &[],
    ))));
    let out = s.render().unwrap();
    assert!(out.starts_with(text), "{out}");
    let back = Section::parse(SectionName::MapUsers, &out).unwrap();
    assert_eq!(back.slots.len(), 2);
}

#[test]
fn appending_after_text_without_a_final_newline() {
    let text = "- \"111111111111\"";
    let mut s = Section::parse(SectionName::MapAccounts, text).unwrap();
    s.slots
        .push(Slot::new(Body::Account("222222222222".into())));
    // Still without a final line break, so a `|-` or quoted section keeps its style.
    assert_eq!(
        s.render().unwrap(),
        "- \"111111111111\"\n- \"222222222222\""
    );
}

#[test]
fn removing_every_entry_leaves_an_empty_list() {
    let mut s = Section::parse(SectionName::MapRoles, ROLES).unwrap();
    s.slots.clear();
    let out = s.render().unwrap();
    assert!(
        Section::parse(SectionName::MapRoles, &out)
            .unwrap()
            .slots
            .is_empty(),
        "{out}"
    );
}

#[test]
fn flow_sections_stay_flow_when_changed() {
    let text = "[{rolearn: \"arn:aws:iam::123456789012:role/a\", groups: [x]}]";
    let mut s = Section::parse(SectionName::MapRoles, text).unwrap();
    assert_eq!(s.render().as_deref(), Some(text));
    let Body::Mapping(mut m) = (*s.slots[0].body).clone() else {
        unreachable!()
    };
    m.username = Some("u".into());
    s.slots[0].set(Body::Mapping(m));
    let out = s.render().unwrap();
    assert_eq!(
        out,
        "[{rolearn: \"arn:aws:iam::123456789012:role/a\", username: \"u\", groups: [\"x\"]}]"
    );
    let back = Section::parse(SectionName::MapRoles, &out).unwrap();
    assert_eq!(mapping(&back, 0).username.as_deref(), Some("u"));
}

#[test]
fn keys_are_read_ignoring_case_and_unknown_fields_are_kept() {
    let text = "- RoleArn: arn:aws:iam::123456789012:role/a\n  USERNAME: a\n  Groups: [x]\n  note: {why: \"on-call\", n: 2}\n";
    let mut s = Section::parse(SectionName::MapRoles, text).unwrap();
    let m = mapping(&s, 0).clone();
    assert_eq!(m.arn, "arn:aws:iam::123456789012:role/a");
    assert_eq!(m.username.as_deref(), Some("a"));
    let mut changed = m.clone();
    changed.groups.push("y".into());
    s.slots[0].set(Body::Mapping(changed));
    let out = s.render().unwrap();
    assert!(out.contains("note: {\"why\":\"on-call\",\"n\":2}"), "{out}");
    let back = Section::parse(SectionName::MapRoles, &out).unwrap();
    assert_eq!(mapping(&back, 0).extra, m.extra);
}

#[test]
fn broken_sections_name_their_line() {
    let cases = [
        (
            SectionName::MapRoles,
            "- groups:\n\t- system:masters\n  rolearn: x\n",
            2,
            "not valid YAML",
        ),
        (
            SectionName::MapUsers,
            "userarn: arn:aws:iam::123456789012:user/a\nusername: a\n",
            1,
            "must be a list",
        ),
        (
            SectionName::MapRoles,
            "- username: a\n  groups: []\n",
            1,
            "has no `rolearn`",
        ),
        (
            SectionName::MapRoles,
            "- rolearn: a\n  groups: x\n",
            2,
            "must be a list",
        ),
        (
            SectionName::MapRoles,
            "- rolearn: a\n  rolearn: b\n",
            2,
            "appears twice",
        ),
        (
            SectionName::MapRoles,
            "- rolearn: a\n  groups:\n  - [x]\n",
            3,
            "each group",
        ),
        (
            SectionName::MapRoles,
            "- just-a-string\n",
            1,
            "must be a mapping",
        ),
        (SectionName::MapAccounts, "- {a: 1}\n", 1, "12-digit"),
        (
            SectionName::MapRoles,
            "- rolearn: a\n---\n- rolearn: b\n",
            3,
            "more than one",
        ),
    ];
    for (name, text, line, want) in cases {
        let e = Section::parse(name, text).unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.message.contains(want), "{text:?}: {e}");
    }
}

#[test]
fn sso_entries_without_an_arn_are_kept() {
    let text =
        "- sso:\n    permissionSetName: Admin\n    accountID: \"123456789012\"\n  username: a\n";
    let s = Section::parse(SectionName::MapRoles, text).unwrap();
    assert_eq!(mapping(&s, 0).arn, "");
}

#[test]
fn numbers_are_read_as_their_text() {
    let s = Section::parse(
        SectionName::MapAccounts,
        "- 210987654321\n- \"123456789012\"\n",
    )
    .unwrap();
    let got: Vec<_> = s.bodies().cloned().collect();
    assert_eq!(
        got,
        [
            Body::Account("210987654321".into()),
            Body::Account("123456789012".into())
        ]
    );
}
