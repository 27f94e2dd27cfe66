//! Property tests of the access model over generated aws-auth maps and intent sequences:
//! rendering reads back as the staged entries, untouched entries keep their exact text,
//! and every sequence of grants and revokes is idempotent.

use proptest::prelude::*;

use super::arn::{self, PrincipalKind};
use super::intent::Intent;
use super::manifest::Manifest;
use super::model::{AwsAuth, Protected};
use super::section::Body;

const GROUPS: &[&str] = &[
    "system:masters",
    "devs",
    "ops",
    "team-readers",
    "{{SessionName}}-grp",
];

fn role_arn(i: u8, path: bool) -> String {
    let p = if path {
        "aws-reserved/sso.amazonaws.com/eu-west-1/"
    } else {
        ""
    };
    format!("arn:aws:iam::123456789012:role/{p}Role{i}")
}

fn user_arn(i: u8) -> String {
    format!("arn:aws:iam::123456789012:user/team/user{i}")
}

/// One generated entry: (is_role, principal number, path, username, groups, flow-style groups).
type Gen = (bool, u8, bool, Option<String>, Vec<usize>, bool);

fn entry() -> impl Strategy<Value = Gen> {
    (
        any::<bool>(),
        0u8..6,
        prop::bool::weighted(0.15),
        prop::option::of("[a-z]{1,6}(:\\{\\{SessionName\\}\\})?"),
        prop::collection::vec(0usize..GROUPS.len(), 0..3),
        any::<bool>(),
    )
}

fn scalar(s: &str) -> String {
    super::yaml::scalar(s)
}

/// Writes entries the way people and tools do: varying indentation, comments, flow lists.
fn manifest(entries: &[Gen], indent: usize, comments: bool) -> String {
    let pad = " ".repeat(indent);
    let mut roles = String::new();
    let mut users = String::new();
    for (n, (is_role, i, path, username, groups, flow)) in entries.iter().enumerate() {
        let out = if *is_role { &mut roles } else { &mut users };
        if comments && n % 3 == 0 {
            out.push_str(&format!("{pad}# entry {n}\n"));
        }
        let (key, arn) = if *is_role {
            ("rolearn", role_arn(*i, *path))
        } else {
            ("userarn", user_arn(*i))
        };
        out.push_str(&format!("{pad}- {key}: {arn}\n"));
        if let Some(u) = username {
            out.push_str(&format!("{pad}  username: {}\n", scalar(u)));
        }
        let gs: Vec<String> = groups.iter().map(|g| scalar(GROUPS[*g])).collect();
        if *flow {
            out.push_str(&format!("{pad}  groups: [{}]\n", gs.join(", ")));
        } else {
            out.push_str(&format!("{pad}  groups:\n"));
            for g in gs {
                out.push_str(&format!("{pad}    - {g}\n"));
            }
        }
    }
    let block = |text: &str| -> String { text.lines().map(|l| format!("    {l}\n")).collect() };
    let mut doc = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\n  labels:\n    keep: \"me\"\ndata:\n");
    if !roles.is_empty() {
        doc.push_str(&format!("  mapRoles: |\n{}", block(&roles)));
    }
    if !users.is_empty() {
        doc.push_str(&format!("  mapUsers: |\n{}", block(&users)));
    }
    doc.push_str("  mapAccounts: |\n    - \"210987654321\"\n  other: keep\n");
    doc
}

#[derive(Debug, Clone)]
enum Op {
    GrantRole(u8, bool, Vec<usize>, Option<String>),
    GrantUser(u8, String, Vec<usize>),
    RevokeRole(u8, Option<Vec<usize>>),
    RevokeUser(u8, Option<Vec<usize>>),
    Account(bool, u8),
}

fn op() -> impl Strategy<Value = Op> {
    let groups = || prop::collection::vec(0usize..GROUPS.len(), 0..3);
    prop_oneof![
        (
            0u8..8,
            any::<bool>(),
            groups(),
            prop::option::of("[a-z]{1,5}")
        )
            .prop_map(|(i, p, g, u)| Op::GrantRole(i, p, g, u)),
        (0u8..8, "[a-z]{1,5}", groups()).prop_map(|(i, u, g)| Op::GrantUser(i, u, g)),
        (0u8..8, prop::option::of(groups())).prop_map(|(i, g)| Op::RevokeRole(i, g)),
        (0u8..8, prop::option::of(groups())).prop_map(|(i, g)| Op::RevokeUser(i, g)),
        (any::<bool>(), 0u8..3).prop_map(|(g, i)| Op::Account(g, i)),
    ]
}

fn names(g: &[usize]) -> Vec<String> {
    g.iter().map(|i| GROUPS[*i].to_string()).collect()
}

fn intent(op: &Op) -> Intent {
    match op {
        Op::GrantRole(i, p, g, u) => {
            Intent::grant(
                PrincipalKind::Role,
                &role_arn(*i, *p),
                &names(g),
                u.as_deref(),
                true,
            )
            .unwrap()
            .0
        }
        Op::GrantUser(i, u, g) => {
            Intent::grant(PrincipalKind::User, &user_arn(*i), &names(g), Some(u), true)
                .unwrap()
                .0
        }
        Op::RevokeRole(i, g) => {
            Intent::revoke(
                PrincipalKind::Role,
                &role_arn(*i, false),
                g.as_ref().map(|g| names(g)).as_deref(),
                true,
            )
            .unwrap()
            .0
        }
        Op::RevokeUser(i, g) => {
            Intent::revoke(
                PrincipalKind::User,
                &user_arn(*i),
                g.as_ref().map(|g| names(g)).as_deref(),
                true,
            )
            .unwrap()
            .0
        }
        Op::Account(grant, i) => {
            Intent::account(&format!("11111111111{i}"), *grant, false).unwrap()
        }
    }
}

fn touched_keys(ops: &[Op]) -> Vec<String> {
    ops.iter()
        .filter_map(|o| match o {
            Op::GrantRole(i, ..) | Op::RevokeRole(i, _) => {
                Some(arn::match_key(&role_arn(*i, false)))
            }
            Op::GrantUser(i, ..) | Op::RevokeUser(i, _) => Some(arn::match_key(&user_arn(*i))),
            Op::Account(..) => None,
        })
        .collect()
}

fn bodies(auth: &AwsAuth) -> Vec<Body> {
    auth.roles
        .bodies()
        .chain(auth.users.bodies())
        .chain(auth.accounts.bodies())
        .cloned()
        .collect()
}

fn source_lines(m: &Manifest, skip: &[String]) -> Vec<String> {
    m.auth
        .roles
        .slots
        .iter()
        .chain(m.auth.users.slots.iter())
        .filter(|s| !skip.iter().any(|k| k == s.key()))
        .filter_map(|s| match &*s.body {
            Body::Mapping(mp) => Some(format!(
                "- {}: {}\n",
                if mp.kind == PrincipalKind::Role {
                    "rolearn"
                } else {
                    "userarn"
                },
                mp.arn
            )),
            Body::Account(_) => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn exact_is_idempotent_and_never_touches_other_principals(
        entries in prop::collection::vec(entry(), 0..12),
        comments: bool,
        is_role: bool,
        i in 0u8..8,
        groups in prop::collection::vec(0usize..GROUPS.len(), 0..3),
    ) {
        let text = manifest(&entries, 2, comments);
        let m = Manifest::parse(&text).unwrap();
        let (kind, arn) = if is_role { (PrincipalKind::Role, role_arn(i, false)) } else { (PrincipalKind::User, user_arn(i)) };
        let intent = Intent::grant_with(kind, &arn, &names(&groups), Some("u"), true, true).unwrap().0;
        let mut auth = m.auth.clone();
        auth.apply(&intent, &Protected::default()).unwrap();
        let out = m.render(&auth).unwrap();
        let back = Manifest::parse(&out).unwrap();
        // The principal ends with exactly those groups (or no entry when there are none).
        let key = arn::match_key(&arn);
        let mine: Vec<&Body> = back.auth.roles.bodies().chain(back.auth.users.bodies()).filter(|b| b.match_key() == key).collect();
        if groups.is_empty() {
            prop_assert!(mine.is_empty());
        } else {
            prop_assert_eq!(mine.len(), 1);
            let mut want = names(&groups);
            want.dedup();
            if let Body::Mapping(mp) = mine[0] {
                let mut have = mp.groups.clone();
                have.sort();
                want.sort();
                want.dedup();
                prop_assert_eq!(have, want);
            }
        }
        // Every other principal's entry keeps its exact text.
        for line in source_lines(&m, std::slice::from_ref(&key)) {
            prop_assert!(out.contains(&line), "lost {line:?}");
        }
        // Exact again changes nothing.
        let mut again = back.auth.clone();
        let done = again.apply(&intent, &Protected::default()).unwrap();
        prop_assert!(!done.changed);
        prop_assert!(again.is_unchanged());
    }

    #[test]
    fn teams_are_idempotent_and_leave_the_other_kind_alone(
        entries in prop::collection::vec(entry(), 0..12),
        group in 0usize..GROUPS.len(),
        members in prop::collection::vec((0u8..8, any::<bool>()), 0..5),
        is_role: bool,
    ) {
        let text = manifest(&entries, 0, true);
        let m = Manifest::parse(&text).unwrap();
        let kind = if is_role { PrincipalKind::Role } else { PrincipalKind::User };
        let arns: Vec<String> = members.iter().map(|(i, p)| if is_role { role_arn(*i, *p) } else { user_arn(*i) }).collect();
        let intent = Intent::members(kind, GROUPS[group], &arns, true).unwrap().0;
        let mut auth = m.auth.clone();
        auth.apply(&intent, &Protected::default()).unwrap();
        let out = m.render(&auth).unwrap();
        let back = Manifest::parse(&out).unwrap();
        // Exactly the listed principals of that kind hold the group.
        let listed: Vec<String> = arns.iter().map(|a| arn::match_key(a)).collect();
        for b in back.auth.roles.bodies().chain(back.auth.users.bodies()) {
            if let Body::Mapping(mp) = b {
                if mp.kind == kind {
                    prop_assert_eq!(mp.groups.iter().any(|g| g == GROUPS[group]), listed.contains(&b.match_key()), "{:?}", mp);
                }
            }
        }
        // The other kind's section is byte for byte what it was.
        let other = |a: &AwsAuth| if is_role { a.users.render() } else { a.roles.render() };
        prop_assert_eq!(other(&back.auth), other(&m.auth));
        let mut again = back.auth.clone();
        let done = again.apply(&intent, &Protected::default()).unwrap();
        prop_assert!(!done.changed);
        prop_assert!(again.is_unchanged());
    }

    #[test]
    fn unchanged_manifests_render_byte_identical(entries in prop::collection::vec(entry(), 0..12), indent in 0usize..3, comments: bool) {
        let text = manifest(&entries, indent, comments);
        let m = Manifest::parse(&text).unwrap();
        prop_assert_eq!(m.render(&m.auth).unwrap(), text);
    }

    #[test]
    fn any_sequence_renders_to_what_was_staged_and_keeps_untouched_text(
        entries in prop::collection::vec(entry(), 0..12),
        indent in 0usize..3,
        comments: bool,
        ops in prop::collection::vec(op(), 1..12),
    ) {
        let text = manifest(&entries, indent, comments);
        let m = Manifest::parse(&text).unwrap();
        let mut auth = m.auth.clone();
        for o in &ops {
            auth.apply(&intent(o), &Protected::default()).unwrap();
        }
        // render() re-parses and checks every section itself; compare the entries too.
        let out = m.render(&auth).unwrap();
        // Rewriting a block from its first changed line writes what rewriting it whole does.
        prop_assert_eq!(&out, &m.render_with(&auth, false).unwrap());
        let back = Manifest::parse(&out).unwrap();
        prop_assert_eq!(bodies(&back.auth), bodies(&auth));
        // Metadata and other data keys survive.
        prop_assert!(out.contains("    keep: \"me\"\n"));
        prop_assert!(out.contains("  other: keep\n"));
        // Entries for principals no intent named keep their order and values.
        let touched = touched_keys(&ops);
        let untouched = |a: &AwsAuth| -> Vec<Body> {
            a.roles.bodies().chain(a.users.bodies()).filter(|b| !touched.contains(&b.match_key())).cloned().collect()
        };
        prop_assert_eq!(untouched(&back.auth), untouched(&m.auth));
        // Every entry untouched by the intents keeps its exact source text.
        for slot in m.auth.roles.slots.iter().chain(m.auth.users.slots.iter()) {
            if let Body::Mapping(mp) = &*slot.body {
                if !touched.iter().any(|k| k == slot.key()) {
                    let line = format!("- {}: {}\n", if mp.kind == PrincipalKind::Role { "rolearn" } else { "userarn" }, mp.arn);
                    prop_assert!(out.contains(&line), "lost {line:?}");
                }
            }
        }
    }

    #[test]
    fn every_sequence_is_idempotent(entries in prop::collection::vec(entry(), 0..10), ops in prop::collection::vec(op(), 1..10)) {
        let text = manifest(&entries, 0, false);
        let m = Manifest::parse(&text).unwrap();
        let mut auth = m.auth.clone();
        for o in &ops {
            auth.apply(&intent(o), &Protected::default()).unwrap();
        }
        let once = m.render(&auth).unwrap();
        let m2 = Manifest::parse(&once).unwrap();
        let mut again = m2.auth.clone();
        for o in &ops {
            // Replaying the same script must not flip anything back.
            let _ = again.apply(&intent(o), &Protected::default()).unwrap();
        }
        let grants_only = ops.iter().all(|o| matches!(o, Op::GrantRole(..) | Op::GrantUser(..) | Op::Account(true, _)));
        if grants_only {
            prop_assert!(again.is_unchanged(), "second run changed {:?}", super::plan::diff(&m2.auth, &again));
        }
        prop_assert!(!m2.render(&again).unwrap().is_empty());
    }

    #[test]
    fn arn_parsing_never_panics_and_canonical_forms_are_fixed_points(text in "\\PC{0,80}") {
        if let Ok(p) = arn::parse_principal(&text) {
            let c = p.canonical();
            let again = arn::parse_principal(&c).unwrap();
            prop_assert_eq!(again.canonical(), c);
            prop_assert!(!again.has_role_path());
        }
    }

    #[test]
    fn arbitrary_section_text_never_panics(text in "[-a-z:#\\[\\]{}\" \n]{0,120}") {
        let _ = super::section::Section::parse(super::section::SectionName::MapRoles, &text);
        let _ = Manifest::parse(&format!("kind: ConfigMap\ndata:\n  mapRoles: {}\n", super::yaml::double_quoted(&text)));
    }
}

/// The line-by-line reader of the usual section shape and the general parser agree: the
/// same entries, lines and layout, or (when the text is not in that shape, or broken) the
/// same error.
fn readers_agree(name: super::section::SectionName, text: &str) -> Result<(), TestCaseError> {
    use super::section::Section;
    let fast = Section::parse_with(name, text, false);
    let general = Section::parse_with(name, text, true);
    prop_assert_eq!(fast, general, "{:?}", text);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_simple_reader_agrees_with_the_general_parser(entries in prop::collection::vec(entry(), 0..12), indent in 0usize..3, comments: bool) {
        let text = manifest(&entries, indent, comments);
        let m = Manifest::parse(&text).unwrap();
        for name in super::section::SectionName::ALL {
            if let Some(src) = m.auth.section(name).source.as_deref() {
                readers_agree(name, src)?;
            }
        }
    }

    #[test]
    fn the_simple_reader_agrees_on_arbitrary_text(text in "(- |  |    |rolearn: |groups:|username: |[-a-z:#,'\"\\[\\]{} ]{0,12}|\n){0,40}") {
        for name in super::section::SectionName::ALL {
            readers_agree(name, &text)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_simple_document_reader_agrees_with_the_general_parser(entries in prop::collection::vec(entry(), 0..12), indent in 0usize..3, comments: bool) {
        let text = manifest(&entries, indent, comments);
        if let Some(fast) = super::simple_doc::parse(&text) {
            prop_assert_eq!(Ok(fast), super::yaml::parse_documents(&text), "{}", text);
        }
    }

    #[test]
    fn the_simple_document_reader_agrees_on_arbitrary_text(text in "(a: |b:|  c: \\||  d: \\|-\n|  e: \\|\\+\n|    - x|    y|data:\n|  mapRoles: \\|\n|#c|  |    |[-a-z:#'\"\\[\\]{} ]{0,10}|\n){0,30}") {
        if let Some(fast) = super::simple_doc::parse(&text) {
            prop_assert_eq!(Ok(fast), super::yaml::parse_documents(&text), "{:?}", text);
        }
    }
}

/// ARN-like text: the pieces of principal ARNs in any case, with the near misses (paths,
/// sessions, short accounts, white space, unknown partitions) mixed in.
fn arn_like() -> impl Strategy<Value = String> {
    let piece = |options: &'static [&'static str]| proptest::sample::select(options);
    (
        piece(&["arn:", "ARN:", "Arn:", "", " arn:"]),
        piece(&["aws", "AWS", "aws-cn", "aws-eusc", "aws-x", ""]),
        piece(&[":iam::", ":IAM::", ":sts::", ":iam:eu-west-1:", ":Iam::"]),
        piece(&["123456789012", "12345678901", "12345678901a", ""]),
        piece(&[
            ":role/",
            ":user/",
            ":ROLE/",
            ":User/",
            ":assumed-role/",
            ":group/",
        ]),
        piece(&["", "team/", "aws-reserved/sso.amazonaws.com/", "/"]),
        "[A-Za-z0-9+=,.@_ -]{0,6}",
        piece(&["", "/session", " ", "\u{e9}"]),
    )
        .prop_map(|(a, p, s, acct, kind, path, name, tail)| {
            format!("{a}{p}{s}{acct}{kind}{path}{name}{tail}")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// The fast key of canonical ARNs is the key the full parse gives, for any input.
    #[test]
    fn the_fast_match_key_agrees_with_the_parse(text in arn_like()) {
        prop_assert_eq!(arn::match_key(&text), arn::parsed_key(&text), "{:?}", text);
        // A slot keeps no key of its own when it is the ARN's text: the key it gives is the same.
        let slot = super::section::Slot::new(Body::Mapping(super::entry::Mapping::new(PrincipalKind::Role, &text, None, &[])));
        prop_assert_eq!(slot.key(), arn::parsed_key(&text), "{:?}", text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// What the fast reading of a canonical ARN says (kind, account, nothing to report) is
    /// what the full parse says.
    #[test]
    fn canonical_parts_agree_with_the_parse(text in arn_like()) {
        if let Some((kind, account)) = arn::canonical_parts(&text) {
            let p = arn::parse_folded(&text);
            prop_assert!(p.is_ok(), "{:?}: {:?}", text, p);
            let p = p.unwrap();
            prop_assert_eq!(p.kind, kind, "{:?}", text);
            prop_assert_eq!(p.account.as_str(), account, "{:?}", text);
            prop_assert!(p.session.is_none() && !p.has_role_path(), "{:?}", text);
        }
    }
}

/// A section of well-formed entries with comment lines (at any indent) and blank lines
/// between any two lines: `spacers[i]` goes before line `i`.
fn spaced_section(entries: &[Gen], spacers: &[u8]) -> String {
    let mut lines = Vec::new();
    for (is_role, i, path, username, groups, flow) in entries {
        lines.push(format!("- rolearn: {}", role_arn(*i, *path && *is_role)));
        if let Some(u) = username {
            lines.push(format!("  username: {}", scalar(u)));
        }
        let gs: Vec<String> = groups.iter().map(|g| scalar(GROUPS[*g])).collect();
        if *flow {
            lines.push(format!("  groups: [{}] # flow", gs.join(", ")));
        } else if !gs.is_empty() {
            lines.push("  groups:".into());
            lines.extend(gs.iter().map(|g| format!("  - {g}")));
        }
    }
    let mut out = String::new();
    for (n, line) in lines.iter().enumerate() {
        match spacers.get(n).copied().unwrap_or(0) {
            1 => out.push_str("# above\n"),
            2 => out.push_str("      # deep\n"),
            3 => out.push('\n'),
            4 => out.push_str("# one\n\n# two\n# three\n"),
            5 => out.push_str("   \n"),
            _ => {}
        }
        out.push_str(line);
        out.push('\n');
    }
    if spacers.last() == Some(&1) {
        out.push_str("# trailing\n");
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The entry reader takes well-formed sections however comments and blank lines fall,
    /// and gives the general parser's entries, lines and layout.
    #[test]
    fn the_entry_reader_agrees_with_the_general_parser_around_comments(
        entries in prop::collection::vec(entry(), 1..8),
        spacers in prop::collection::vec(0u8..8, 0..40),
    ) {
        let text = spaced_section(&entries, &spacers);
        prop_assert!(super::simple_entries::read(&text, Some(PrincipalKind::Role)).is_some(), "{}", text);
        readers_agree(super::section::SectionName::MapRoles, &text)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The line-by-line document reader gives the general parser's nodes whenever it takes a
    /// manifest: literal blocks with every chomping, blank and comment-like lines inside and
    /// after them, keys after them, and texts without a final line break.
    #[test]
    fn the_document_reader_agrees_with_the_general_parser(
        blocks in prop::collection::vec((0usize..3, prop::collection::vec(0u8..6, 1..8), 0usize..3), 1..4),
        tail in 0u8..4,
    ) {
        let mut text = String::from("apiVersion: v1\nkind: ConfigMap\n# about data\ndata:\n");
        for (n, (chomp, lines, after)) in blocks.iter().enumerate() {
            text.push_str(&format!("  key{n}: |{}\n", ["", "-", "+"][*chomp]));
            for (i, l) in lines.iter().enumerate() {
                text.push_str(match l {
                    0 if i > 0 => "\n",
                    1 if i > 0 => "  \n",
                    2 => "    # looks like a comment\n",
                    3 => "      - deeper\n",
                    _ => "    - rolearn: a\n",
                });
            }
            for _ in 0..*after {
                text.push('\n');
            }
        }
        match tail {
            0 => text.push_str("metadata:\n  name: aws-auth\n"),
            1 => text.push_str("# end\n"),
            2 => { text.pop(); }
            _ => {}
        }
        if let Some(fast) = super::simple_doc::parse(&text) {
            prop_assert_eq!(Ok(fast), super::yaml::parse_documents(&text), "{:?}", text);
        }
    }
}

proptest! {
    /// The one-pass check of the text the line readers take is the three checks it replaced.
    #[test]
    fn plain_ascii_is_ascii_without_tabs_or_carriage_returns(text in "(\\PC|[\t\r\n a-z]){0,600}") {
        let slow = text.is_ascii() && !text.contains('\t') && !text.contains('\r');
        prop_assert_eq!(super::simple_list::plain_ascii(&text), slow);
    }
}

proptest! {
    /// The word-at-a-time line-break search finds what memchr finds, from any offset.
    #[test]
    fn next_break_agrees_with_memchr(bytes in prop::collection::vec(prop::sample::select(vec![b'\n', b'a', 0u8, 0x0b, 0x8a, 0xff, b' ']), 0..80), from in 0usize..80) {
        let from = from.min(bytes.len());
        let want = memchr::memchr(b'\n', &bytes[from..]).map(|i| from + i);
        prop_assert_eq!(super::simple_list::next_break(&bytes, from), want);
    }
}
