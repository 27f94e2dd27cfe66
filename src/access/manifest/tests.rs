//! Tests of the manifest's splice and read-back.

use super::render::Wanted;
use super::*;
use crate::access::arn::PrincipalKind;
use crate::access::intent::Intent;
use crate::access::model::Protected;

/// A manifest of `n` role entries under `mapRoles: HEADER`.
fn roles(n: usize, header: &str) -> String {
    let mut text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: {header}\n");
    for i in 0..n {
        text.push_str(&format!("    - rolearn: arn:aws:iam::123456789012:role/r{i}\n      username: r{i}\n      groups:\n      - g\n"));
    }
    text
}

fn grant_new(m: &Manifest) -> AwsAuth {
    let groups = ["new".to_string()];
    let arn = "arn:aws:iam::123456789012:role/new";
    let intent = Intent::grant(PrincipalKind::Role, arn, &groups, None, false)
        .unwrap()
        .0;
    let mut auth = m.auth.clone();
    auth.apply(&intent, &Protected::default()).unwrap();
    auth
}

#[test]
fn a_grant_rewrites_only_the_end_of_a_literal_block() {
    for header in ["|", "|-", "|+", "|  "] {
        let m = Manifest::parse(&roles(50, header)).unwrap();
        let auth = grant_new(&m);
        let loc = m.locs[0].as_ref().unwrap();
        let value = auth.roles.render().unwrap();
        let ((from, to, with), _) = m
            .splice_literal(loc, SectionName::MapRoles, &value)
            .unwrap();
        // The last entry's last line and the new entry: not the 200 lines before.
        let new = "\n    - rolearn: arn:aws:iam::123456789012:role/new\n      username: new:{{SessionName}}\n      groups:\n      - new";
        assert_eq!(with, format!("\n      - g{new}"), "{header:?}");
        assert!(
            from > m.text.len() - 100 && to == loc.value_end,
            "{header:?}"
        );
        let (spliced, whole) = (
            m.render(&auth).unwrap(),
            m.render_with(&auth, false).unwrap(),
        );
        // The same texts, and the same file but where a whole rewrite picks the header
        // (`|` for `|+` over one final line break, no trailing spaces): a splice keeps
        // the one written.
        let texts = |t: &str| read_document(t).unwrap().texts;
        assert_eq!(texts(&spliced), texts(&whole), "{header:?}");
        if header == "|" || header == "|-" {
            assert_eq!(spliced, whole, "{header:?}");
        }
    }
}

#[test]
fn a_spliced_section_must_read_back_as_the_kept_lines_then_the_new_ones() {
    let want = Wanted::After(3, "x\n".into());
    assert!(want.is("ab\nold\n", Some("ab\nx\n")));
    for back in [
        Some("ac\nx\n"),
        Some("ab\ny\n"),
        Some("ab\nx\n\n"),
        Some("ab"),
        None,
    ] {
        assert!(!want.is("ab\nold\n", back), "{back:?}");
    }
    assert!(Wanted::Whole("a\n".into()).is("", Some("a\n")));
    assert!(!Wanted::Whole("a\n".into()).is("", None));
}

#[test]
fn blocks_a_splice_cannot_keep_are_written_whole() {
    // A comment on the header, a folded block, an indentation indicator, CRLF.
    let texts = [
        roles(3, "| # roles"),
        roles(3, "|2"),
        roles(3, "|").replace('\n', "\r\n"),
    ];
    for text in &texts {
        let m = Manifest::parse(text).unwrap();
        let auth = grant_new(&m);
        let loc = m.locs[0].as_ref().unwrap();
        let value = auth.roles.render().unwrap();
        assert_eq!(
            m.splice_literal(loc, SectionName::MapRoles, &value),
            None,
            "{text:?}"
        );
        assert!(Manifest::parse(&m.render(&auth).unwrap()).is_ok());
    }
}
