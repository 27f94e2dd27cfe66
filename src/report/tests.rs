//! The report's pure parts against a realistic organisation: two permission sets, groups with
//! several members and a user in both, a directly mapped IAM user, a role assumable by a user
//! of the account, a node role, a dead mapping and a shadowed row; diff properties.

use proptest::prelude::*;

use super::*;
use crate::access::intent::PolicyView;

const ACCOUNT: &str = "111122223333";
const SSO_PATH: &str = "/aws-reserved/sso.amazonaws.com/eu-west-1/";
const ADMIN_SET: &str = "AWSReservedSSO_AdminAccess_0123456789abcdef";
const READ_SET: &str = "AWSReservedSSO_ReadOnly_abcdef0123456789";
const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const EDIT: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";

fn arn(kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{kind}/{name}")
}

fn view(source: &'static str, kind: &'static str, arn: &str, groups: &[&str]) -> MappingView {
    MappingView {
        kind,
        arn: arn.to_string(),
        username: String::new(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        account: ACCOUNT.into(),
        shadowed: false,
        source,
        entry_type: if source == "access-entry" {
            "STANDARD".into()
        } else {
            String::new()
        },
        policies: Vec::new(),
    }
}

fn entry(arn: &str, policy: &str, namespaces: &[&str]) -> MappingView {
    let mut v = view("access-entry", "role", arn, &[]);
    v.policies = vec![PolicyView::new(
        policy,
        namespaces.iter().map(|n| n.to_string()).collect(),
    )];
    if arn.contains(":user/") {
        v.kind = "user";
    }
    v
}

fn organisation() -> Facts {
    let mut bob_row = view("aws-auth", "user", &arn("user", "bob"), &["system:masters"]);
    bob_row.shadowed = true;
    let mut accounts = view("aws-auth", "account", "", &[]);
    accounts.account = "444455556666".into();
    Facts {
        cluster: "prod".into(),
        account: ACCOUNT.into(),
        region: "eu-west-1".into(),
        mode: Some("API_AND_CONFIG_MAP".into()),
        mappings: vec![
            view(
                "aws-auth",
                "role",
                &arn("role", ADMIN_SET),
                &["system:masters"],
            ),
            view("aws-auth", "role", &arn("role", "deployer"), &["deployers"]),
            view(
                "aws-auth",
                "role",
                &arn("role", "nodes"),
                &["system:bootstrappers", "system:nodes"],
            ),
            bob_row,
            view("aws-auth", "user", &arn("user", "gone"), &["viewers"]),
            accounts,
            entry(
                &arn("role", &format!("{SSO_PATH}{READ_SET}")[1..]),
                VIEW,
                &[],
            ),
            entry(&arn("user", "bob"), EDIT, &["dev-*"]),
        ],
        iam: Visible::Seen(Iam {
            roles: vec![
                IamRole {
                    arn: arn("role", &format!("{SSO_PATH}{ADMIN_SET}")[1..]),
                    trusted: vec!["arn:aws:iam::111122223333:saml-provider/AWSSSO".into()],
                    created: None,
                },
                IamRole {
                    arn: arn("role", &format!("{SSO_PATH}{READ_SET}")[1..]),
                    trusted: vec![],
                    created: None,
                },
                IamRole {
                    arn: arn("role", "deployer"),
                    trusted: vec![arn("user", "ci"), "ec2.amazonaws.com".into()],
                    created: None,
                },
                IamRole {
                    arn: arn("role", "nodes"),
                    trusted: vec!["ec2.amazonaws.com".into()],
                    created: None,
                },
            ],
            users: vec![arn("user", "bob"), arn("user", "ci")],
        }),
        identity_center: Visible::Seen(IdentityCenter {
            instance_arn: "arn:aws:sso:::instance/ssoins-1".into(),
            identity_store_id: "d-1".into(),
            region: "eu-west-1".into(),
            assignments: vec![
                assign("AdminAccess", "GROUP", "g-admins"),
                assign("ReadOnly", "GROUP", "g-readers"),
                assign("ReadOnly", "USER", "u-erin"),
            ],
            users: ["alice", "carol", "dave", "erin"]
                .iter()
                .map(|n| (format!("u-{n}"), format!("{n}@example.com")))
                .collect(),
            groups: vec![
                (
                    "g-admins".into(),
                    "admins".into(),
                    vec!["u-alice".into(), "u-carol".into()],
                ),
                (
                    "g-readers".into(),
                    "readers".into(),
                    vec!["u-carol".into(), "u-dave".into()],
                ),
            ],
        }),
        gaps: vec![],
        entries_created: vec![],
    }
}

fn assign(set: &str, kind: &str, id: &str) -> Assignment {
    Assignment {
        permission_set: set.into(),
        principal_type: kind.into(),
        principal_id: id.into(),
    }
}

/// `principal | access | effective | path` of every row, as the report orders them.
fn lines(r: &Report) -> Vec<String> {
    r.rows
        .iter()
        .map(|x| {
            format!(
                "{} | {} | {} | {}",
                x.principal,
                x.access,
                x.effective,
                x.path_text()
            )
        })
        .collect()
}

#[test]
fn the_chain_joins_people_to_cluster_access_most_powerful_first() {
    let r = build(&organisation());
    let admin_role = arn("role", ADMIN_SET);
    let read_role = arn("role", READ_SET);
    let expected = vec![
        format!("alice@example.com | cluster-admin | true | alice@example.com → admins → AdminAccess → {admin_role} → aws-auth mapRoles"),
        format!("carol@example.com | cluster-admin | true | carol@example.com → admins → AdminAccess → {admin_role} → aws-auth mapRoles"),
        format!("arn:aws:iam::{ACCOUNT}:user/bob | edit | true | arn:aws:iam::{ACCOUNT}:user/bob → access entry"),
        format!("carol@example.com | view | true | carol@example.com → readers → ReadOnly → {read_role} → access entry"),
        format!("dave@example.com | view | true | dave@example.com → readers → ReadOnly → {read_role} → access entry"),
        format!("erin@example.com | view | true | erin@example.com → ReadOnly → {read_role} → access entry"),
        format!("arn:aws:iam::{ACCOUNT}:role/nodes | custom | true | arn:aws:iam::{ACCOUNT}:role/nodes → aws-auth mapRoles"),
        format!("arn:aws:iam::{ACCOUNT}:user/ci | custom | true | arn:aws:iam::{ACCOUNT}:user/ci → arn:aws:iam::{ACCOUNT}:role/deployer → aws-auth mapRoles"),
        "every principal of account 444455556666 | none | true | every principal of account 444455556666 → aws-auth mapAccounts".to_string(),
        format!("arn:aws:iam::{ACCOUNT}:user/bob | cluster-admin | false | arn:aws:iam::{ACCOUNT}:user/bob → aws-auth mapUsers"),
        format!("arn:aws:iam::{ACCOUNT}:user/gone | custom | false | arn:aws:iam::{ACCOUNT}:user/gone → aws-auth mapUsers"),
    ];
    assert_eq!(lines(&r), expected);
    assert!(!r.partial);
    assert_eq!(r.schema_version, SCHEMA_VERSION);
    let nodes = r
        .rows
        .iter()
        .find(|x| x.principal.ends_with("role/nodes"))
        .unwrap();
    assert_eq!(
        nodes.custom_groups,
        ["system:bootstrappers", "system:nodes"]
    );
    assert_eq!(nodes.notes, ["assumable by ec2.amazonaws.com"]);
    let bob_row = r
        .rows
        .iter()
        .find(|x| !x.effective && x.principal.ends_with("bob"))
        .unwrap();
    assert!(bob_row.shadowed && bob_row.dead.is_none());
    let gone = r
        .rows
        .iter()
        .find(|x| x.principal.ends_with("gone"))
        .unwrap();
    assert!(
        gone.dead.as_deref().unwrap().contains("does not exist"),
        "{gone:?}"
    );
    let bob_entry = r
        .rows
        .iter()
        .find(|x| x.effective && x.principal.ends_with("bob"))
        .unwrap();
    assert_eq!(bob_entry.mapping.policies[0].namespaces, ["dev-*"]);
}

#[test]
fn a_mapping_whose_principal_is_gone_is_dead_and_names_the_new_sso_role() {
    let mut f = organisation();
    // The admin set was re-provisioned: its role has a new suffix, aws-auth still names the old.
    if let Visible::Seen(iam) = &mut f.iam {
        iam.roles[0].arn = arn(
            "role",
            &format!("{SSO_PATH}AWSReservedSSO_AdminAccess_fedcba9876543210")[1..],
        );
    }
    let r = build(&f);
    let alice = r
        .rows
        .iter()
        .find(|x| x.principal == "alice@example.com")
        .unwrap();
    assert!(!alice.effective);
    let dead = alice.dead.as_deref().unwrap();
    assert!(
        dead.contains("permission set AdminAccess is no longer provisioned"),
        "{dead}"
    );
    assert!(
        dead.contains("role/AWSReservedSSO_AdminAccess_fedcba9876543210"),
        "{dead}"
    );
    // A rolearn with a path never matches.
    let mut f = organisation();
    f.mappings[1].arn = arn("role", "team/deployer");
    let r = build(&f);
    let ci = r
        .rows
        .iter()
        .find(|x| x.principal.ends_with("user/ci"))
        .unwrap();
    assert!(ci.dead.as_deref().unwrap().contains("has a path"), "{ci:?}");
}

#[test]
fn without_identity_center_the_report_is_partial_and_ends_at_the_permission_set() {
    let mut f = organisation();
    f.identity_center = Visible::Hidden(Gap {
        part: "identity-center".into(),
        reason: "sso:ListInstances: AccessDeniedException".into(),
    });
    let r = build(&f);
    assert!(r.partial);
    assert_eq!(r.not_visible[0].part, "identity-center");
    let first = &r.rows[0];
    assert_eq!(first.principal, "AdminAccess");
    assert_eq!(first.principal_kind, "permission-set");
    assert_eq!(first.access, Access::ClusterAdmin);
    assert!(first.notes[0].contains("not visible"), "{:?}", first.notes);
    assert!(text(&r).contains(
        "PARTIAL REPORT: not visible:\n  identity-center: sso:ListInstances: AccessDeniedException"
    ));
    // Without IAM nothing can be called dead.
    f.iam = Visible::Hidden(Gap {
        part: "iam".into(),
        reason: "denied".into(),
    });
    let r = build(&f);
    assert!(r.rows.iter().all(|x| x.dead.is_none()));
    assert_eq!(r.not_visible.len(), 2);
}

#[test]
fn access_classes_rank_groups_and_policies() {
    let m = |groups: &[&str], policies: &[(&str, &str)], t: &str| Mapping {
        source: "access-entry".into(),
        kind: "role".into(),
        arn: String::new(),
        username: String::new(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        policies: policies
            .iter()
            .map(|(n, s)| Policy {
                name: n.to_string(),
                scope: s.to_string(),
                namespaces: vec![],
            })
            .collect(),
        entry_type: t.into(),
    };
    let c = |groups, policies, t| classify(&m(groups, policies, t));
    assert_eq!(
        c(&["system:masters"], &[], ""),
        (Access::ClusterAdmin, vec![])
    );
    assert_eq!(
        c(
            &[],
            &[("AmazonEKSClusterAdminPolicy", "cluster")],
            "STANDARD"
        )
        .0,
        Access::ClusterAdmin
    );
    assert_eq!(
        c(
            &[],
            &[("AmazonEKSClusterAdminPolicy", "namespace")],
            "STANDARD"
        )
        .0,
        Access::Admin
    );
    assert_eq!(
        c(&[], &[("AmazonEKSAdminPolicy", "cluster")], "").0,
        Access::Admin
    );
    assert_eq!(
        c(&[], &[("AmazonEKSEditPolicy", "namespace")], "").0,
        Access::Edit
    );
    assert_eq!(
        c(&[], &[("AmazonEKSAdminViewPolicy", "cluster")], "").0,
        Access::View
    );
    assert_eq!(
        c(&["devs"], &[("AmazonEKSViewPolicy", "cluster")], ""),
        (Access::View, vec!["devs".into()])
    );
    assert_eq!(c(&["devs"], &[], ""), (Access::Custom, vec!["devs".into()]));
    assert_eq!(
        c(&[], &[("AmazonEKSFooPolicy", "cluster")], "").1,
        ["policy AmazonEKSFooPolicy"]
    );
    assert_eq!(
        c(&[], &[], "EC2_LINUX"),
        (Access::Custom, vec!["EC2_LINUX node identity".into()])
    );
    assert_eq!(c(&[], &[], "STANDARD"), (Access::None, vec![]));
    let words: Vec<&str> = Access::ALL.iter().map(|a| a.word()).collect();
    assert_eq!(
        words,
        ["cluster-admin", "admin", "edit", "view", "custom", "none"]
    );
    assert_eq!(
        serde_json::to_string(&Access::ClusterAdmin).unwrap(),
        "\"cluster-admin\""
    );
}

#[test]
fn the_table_groups_by_access_cluster_admin_first_then_what_is_not_in_effect() {
    let t = text(&build(&organisation()));
    let at = |s: &str| t.find(s).unwrap_or_else(|| panic!("{s} missing:\n{t}"));
    assert!(t.starts_with("Access report: cluster prod (account 111122223333, region eu-west-1, authenticationMode API_AND_CONFIG_MAP)\n"));
    let order = [
        "\ncluster-admin (2)\n",
        "\nedit (1)\n",
        "\nview (3)\n",
        "\ncustom: deployers, system:bootstrappers, system:nodes (2)\n",
        "\nnone (1)\n",
        "\nnot in effect (2)\n",
    ];
    for w in order.windows(2) {
        assert!(at(w[0]) < at(w[1]), "{} before {}:\n{t}", w[0], w[1]);
    }
    assert!(t.contains("[shadowed by an access entry]"), "{t}");
    assert!(
        t.contains(
            "[dead: IAM user arn:aws:iam::111122223333:user/gone does not exist (deleted?)]"
        ),
        "{t}"
    );
    assert!(!t.contains("PARTIAL"));
}

#[test]
fn markdown_has_tables_and_a_mermaid_flowchart_of_every_path() {
    let r = build(&organisation());
    let md = markdown(&r);
    assert!(md.starts_with("# Access report: cluster prod"));
    assert!(
        md.contains("## cluster-admin (2)\n\n| principal | grants | path |\n"),
        "{md}"
    );
    let block = md
        .split("```mermaid\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    assert!(block.starts_with("flowchart LR\n"), "{block}");
    for node in [
        "[\"sso-user: alice@example.com\"]",
        "[\"sso-group: admins\"]",
        "[\"permission-set: AdminAccess\"]",
        "[\"aws-auth mapRoles: groups system:masters\"]",
        "[\"access entry: AmazonEKSViewPolicy (cluster)\"]",
        "[\"cluster-admin\"]",
    ] {
        assert!(block.contains(node), "{node}\n{block}");
    }
    assert!(block.contains(" -. shadowed .-> "), "{block}");
    assert!(block.contains(" -. dead .-> "), "{block}");
    // Every line is a node, an edge or the header: nothing a label could have broken.
    for line in block.lines().skip(1) {
        let ok = line.starts_with("    n")
            && (line.ends_with("\"]") || line.contains(" --> n") || line.contains(" .-> n"));
        assert!(ok, "{line}");
    }
}

/// Decodes the entity codes [`label`] writes, for the round trip.
fn unlabel(l: &str) -> String {
    let inner = &l[1..l.len() - 1];
    let mut out = String::new();
    let mut rest = inner;
    while let Some(i) = rest.find('#') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').unwrap() + i;
        out.push(char::from_u32(rest[i + 1..end].parse().unwrap()).unwrap());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

proptest! {
    #[test]
    fn mermaid_labels_cannot_break_out_and_round_trip(text in "\\PC*|[\"\\[\\]{}|<>#;`\n\t]{0,8}") {
        let l = label(&text);
        prop_assert!(l.starts_with('"') && l.ends_with('"'));
        let inner = &l[1..l.len() - 1];
        for bad in ['"', '[', ']', '{', '}', '<', '>', '|', '`', '\n', '\r', '\t', '\\'] {
            prop_assert!(!inner.contains(bad), "{:?} in {}", bad, l);
        }
        prop_assert_eq!(unlabel(&l), text);
    }
}

fn arb_row() -> impl Strategy<Value = Row> {
    let access = prop::sample::select(Access::ALL.to_vec());
    (
        prop::sample::select(vec!["alice", "bob", "carol"]),
        prop::sample::select(vec!["admins", "readers", "AdminAccess"]),
        access,
        any::<bool>(),
    )
        .prop_map(|(who, via, access, effective)| Row {
            access,
            custom_groups: vec![],
            principal: who.into(),
            principal_kind: "sso-user".into(),
            path: vec![
                Hop::new("sso-user", who),
                Hop::new("sso-group", via),
                Hop::new("aws-auth", "aws-auth mapRoles"),
            ],
            mapping: Mapping {
                source: "aws-auth".into(),
                kind: "role".into(),
                arn: String::new(),
                username: String::new(),
                groups: vec![],
                policies: vec![],
                entry_type: String::new(),
            },
            effective,
            shadowed: !effective,
            dead: None,
            notes: vec![],
        })
}

fn report_with(rows: Vec<Row>) -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        cluster: "prod".into(),
        account: ACCOUNT.into(),
        region: "eu-west-1".into(),
        authentication_mode: "CONFIG_MAP".into(),
        partial: false,
        not_visible: vec![],
        identity_center: None,
        rows,
    }
}

proptest! {
    #[test]
    fn a_report_diffed_with_itself_is_empty(rows in prop::collection::vec(arb_row(), 0..12)) {
        let r = report_with(rows);
        prop_assert!(diff(&r, &r).unwrap().is_empty());
    }

    #[test]
    fn gained_and_lost_swap_when_the_reports_swap(
        a in prop::collection::vec(arb_row(), 0..12),
        b in prop::collection::vec(arb_row(), 0..12),
    ) {
        let (a, b) = (report_with(a), report_with(b));
        let ab = diff(&a, &b).unwrap();
        let ba = diff(&b, &a).unwrap();
        let flip = |v: &[Drift]| -> Vec<Drift> {
            let mut v: Vec<Drift> = v.iter().map(|d| Drift { before: d.after, after: d.before, ..d.clone() }).collect();
            v.sort();
            v
        };
        let sorted = |v: &[Drift]| { let mut v = v.to_vec(); v.sort(); v };
        prop_assert_eq!(sorted(&ab.gained), flip(&ba.lost));
        prop_assert_eq!(sorted(&ab.lost), flip(&ba.gained));
        prop_assert_eq!(sorted(&ab.changed), flip(&ba.changed));
        prop_assert_eq!(ab.is_empty(), ba.is_empty());
    }
}

#[test]
fn a_new_admin_grant_is_a_gain_and_other_schemas_or_clusters_are_refused() {
    let old = build(&organisation());
    let mut f = organisation();
    if let Visible::Seen(ic) = &mut f.identity_center {
        ic.groups[0].2.push("u-dave".into());
    }
    let new = build(&f);
    let d = diff(&old, &new).unwrap();
    assert_eq!(d.gained.len(), 1, "{d:?}");
    assert_eq!(d.gained[0].principal, "dave@example.com");
    assert_eq!(d.gained[0].after, Some(Access::ClusterAdmin));
    assert!(d.new_cluster_admin() && d.lost.is_empty() && d.changed.is_empty());
    assert!(render::diff_text(&d).starts_with(
        "+ dave@example.com gained cluster-admin via dave@example.com → admins → AdminAccess"
    ));
    let back = diff(&new, &old).unwrap();
    assert_eq!(back.lost[0].before, Some(Access::ClusterAdmin));
    assert!(!back.new_cluster_admin());

    let mut other = old.clone();
    other.schema_version = 99;
    let e = diff(&other, &new).unwrap_err();
    assert!(e.to_string().contains("schema_version 99"), "{e}");
    assert!(e.hint().contains("new baseline"));
    other = old.clone();
    other.cluster = "staging".into();
    let e = diff(&other, &new).unwrap_err();
    assert!(e.to_string().contains("cluster staging"), "{e}");
    // The JSON round-trips, so an OLD.json reads back as the report it was.
    let json = serde_json::to_string(&old).unwrap();
    assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), old);
}

#[test]
fn an_entry_older_than_its_role_is_dead_because_the_role_was_recreated() {
    let mut f = organisation();
    let read_real = arn("role", &format!("{SSO_PATH}{READ_SET}")[1..]);
    f.entries_created = vec![(read_real.clone(), 1_000.0)];
    if let Visible::Seen(iam) = &mut f.iam {
        iam.roles[1].created = Some(2_000.0);
        iam.roles[0].created = Some(3_000.0);
    }
    let r = build(&f);
    let dave = r
        .rows
        .iter()
        .find(|x| x.principal == "dave@example.com")
        .unwrap();
    assert!(!dave.effective);
    assert!(
        dave.dead
            .as_deref()
            .unwrap()
            .contains("was created after its access entry"),
        "{dave:?}"
    );
    // aws-auth matches by ARN: a recreated role is still admitted through its row.
    let alice = r
        .rows
        .iter()
        .find(|x| x.principal == "alice@example.com")
        .unwrap();
    assert!(alice.effective && alice.dead.is_none());
    // An entry made after its role is fine.
    f.entries_created = vec![(read_real, 2_500.0)];
    let r = build(&f);
    assert!(
        r.rows
            .iter()
            .find(|x| x.principal == "dave@example.com")
            .unwrap()
            .effective
    );
}

#[test]
fn names_cannot_send_escape_sequences_to_the_terminal_or_break_a_table() {
    let mut f = organisation();
    if let Visible::Seen(ic) = &mut f.identity_center {
        ic.users[0].1 = "alice\u{1b}[2J|`x`\nevil".into();
    }
    let r = build(&f);
    let t = text(&r);
    assert!(!t.contains('\u{1b}'), "{t}");
    assert!(t.contains("alice\\u{1b}[2J|`x`\\u{a}evil"), "{t}");
    let md = markdown(&r);
    assert!(!md.contains('\u{1b}'));
    assert!(
        md.contains("| alice\\\\u{1b}[2J\\|'x'\\\\u{a}evil |"),
        "{md}"
    );
}

fn arb_view() -> impl Strategy<Value = MappingView> {
    let groups = prop::collection::vec(
        prop::sample::select(vec!["system:masters", "devs", "system:nodes", "a\"b]"]),
        0..3,
    );
    let policies = prop::collection::vec(
        (
            prop::sample::select(vec![
                VIEW,
                EDIT,
                "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            ]),
            prop::collection::vec("[a-z]{1,4}", 0..2),
        ),
        0..2,
    );
    let names = prop::sample::select(vec![
        "role/deployer".to_string(),
        "role/nodes".to_string(),
        format!("role/{ADMIN_SET}"),
        format!("role/{READ_SET}"),
        "role/team/pathy".to_string(),
        "user/bob".to_string(),
        "user/gone".to_string(),
        "account".to_string(),
    ]);
    (names, groups, policies, any::<bool>(), any::<bool>()).prop_map(
        |(name, groups, policies, entry, shadowed)| {
            if name == "account" {
                let mut v = view("aws-auth", "account", "", &[]);
                v.account = "444455556666".into();
                return v;
            }
            let kind = if name.starts_with("role/") {
                "role"
            } else {
                "user"
            };
            let source = if entry { "access-entry" } else { "aws-auth" };
            let mut v = view(source, kind, &arn(kind, &name[kind.len() + 1..]), &groups);
            if entry {
                v.policies = policies
                    .iter()
                    .map(|(p, ns)| PolicyView::new(p, ns.clone()))
                    .collect();
            }
            v.shadowed = shadowed && !entry;
            v
        },
    )
}

proptest! {
    #[test]
    fn every_mapping_is_reported_in_order_and_flags_are_consistent(
        views in prop::collection::vec(arb_view(), 0..10),
        iam_seen in any::<bool>(),
        ic_seen in any::<bool>(),
    ) {
        let mut f = organisation();
        f.mappings = views;
        if !iam_seen {
            f.iam = Visible::Hidden(Gap { part: "iam".into(), reason: "denied".into() });
        }
        if !ic_seen {
            f.identity_center = Visible::Hidden(Gap { part: "identity-center".into(), reason: "denied".into() });
        }
        let r = build(&f);
        prop_assert_eq!(r.partial, !iam_seen || !ic_seen);
        for v in &f.mappings {
            let wanted = if v.kind == "account" { v.account.clone() } else { v.arn.clone() };
            prop_assert!(r.rows.iter().any(|x| x.mapping.arn == wanted && x.mapping.source == v.source), "{:?} has no row", v);
        }
        for x in &r.rows {
            prop_assert_eq!(x.effective, x.dead.is_none() && !x.shadowed);
            prop_assert_eq!(&x.principal, &x.path[0].name);
            prop_assert!(matches!(x.path.last().unwrap().kind.as_str(), "aws-auth" | "access-entry"));
            if !iam_seen {
                prop_assert!(x.dead.is_none() || x.dead.as_deref().unwrap().contains("has a path"));
            }
        }
        let order: Vec<(bool, Access)> = r.rows.iter().map(|x| (!x.effective, x.access)).collect();
        let mut sorted = order.clone();
        sorted.sort();
        prop_assert_eq!(order, sorted);
        for line in flowchart(&r).lines().skip(1) {
            let node = line.ends_with("\"]") && line.matches('"').count() == 2;
            let edge = !line.contains('"') && (line.contains(" --> n") || line.contains(" .-> n"));
            prop_assert!(line.starts_with("    n") && (node || edge), "{}", line);
        }
    }
}
