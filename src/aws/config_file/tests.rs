//! Unit and property tests of the config file editor.

use super::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn profile(n: &str) -> SectionId {
    SectionId::Profile(n.into())
}

fn session(n: &str) -> SectionId {
    SectionId::SsoSession(n.into())
}

const MESSY: &str = "# my AWS config\n; managed by hand\n\n[default]\nregion = eu-north-1\noutput=json\n\n# work\n[profile work]\nrole_arn: arn:aws:iam::123456789012:role/admin\nsource_profile = default\ns3 =\n  max_concurrent_requests = 20\n\n  # tuned\n  multipart_threshold = 64MB\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n  [services x]\n[services local]\ndynamodb =\n  endpoint_url = http://localhost:8000\n";

#[test]
fn a_messy_file_round_trips_and_reads_like_the_aws_cli() {
    let f = ConfigFile::parse(MESSY).unwrap();
    assert_eq!(f.render(), MESSY);
    let ids: Vec<_> = f.sections().iter().map(|s| s.id().clone()).collect();
    assert_eq!(
        ids,
        [
            profile("default"),
            profile("work"),
            session("corp"),
            SectionId::Other("services local".into())
        ]
    );
    let work = f.section(&profile("work")).unwrap();
    assert_eq!(
        work.get("role_arn").as_deref(),
        Some("arn:aws:iam::123456789012:role/admin")
    );
    assert_eq!(
        work.get("S3").as_deref(),
        Some("\nmax_concurrent_requests = 20\nmultipart_threshold = 64MB")
    );
    assert_eq!(work.keys(), ["role_arn", "source_profile", "s3"]);
    // The indented header continues sso_start_url, as configparser reads it.
    let corp = f.section(&session("corp")).unwrap();
    assert_eq!(
        corp.get("sso_start_url").as_deref(),
        Some("https://corp.awsapps.com/start\n[services x]")
    );
    assert!(f.has_profile("default") && f.has_profile("work") && !f.has_profile("corp"));
}

#[test]
fn malformed_lines_are_errors_naming_the_line() {
    let cases = [
        ("region = x\n", 1, "outside any section"),
        ("# c\n\n[default\nregion = x\n", 3, "no closing `]`"),
        ("[default]\nregion\n", 2, "not a `key = value`"),
        ("[default]\n= x\n", 2, "no key"),
        ("[]\n", 1, "without a name"),
        ("[default] junk\n", 1, "unexpected `junk`"),
        ("[a]\n[b]\n[a]\n", 3, "appears twice (first on line 1)"),
        (
            "[a]\nregion = x\nRegion = y\n",
            3,
            "set twice in [a] (first on line 2)",
        ),
        ("  indented = outside\n", 1, "outside any section"),
    ];
    for (text, line, needle) in cases {
        let e = ConfigFile::parse(text).unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.to_string().contains(needle), "{text:?}: {e}");
    }
    // A comment after a header is fine, as are `key: value` and an empty value.
    let ok = "[default] # the default\nregion: eu-west-1\nempty =\n";
    assert_eq!(ConfigFile::parse(ok).unwrap().render(), ok);
}

#[test]
fn upserting_what_is_there_changes_nothing() {
    let mut f = ConfigFile::parse(MESSY).unwrap();
    let edit = f
        .upsert(
            &profile("default"),
            &[("region", "eu-north-1"), ("output", "json")],
            &[],
            false,
        )
        .unwrap();
    assert!(edit.is_empty());
    assert_eq!(f.render(), MESSY);
}

#[test]
fn missing_keys_go_after_the_last_setting_of_their_section() {
    let mut f = ConfigFile::parse(MESSY).unwrap();
    let edit = f
        .upsert(
            &profile("default"),
            &[("region", "eu-north-1"), ("cli_pager", "less")],
            &[],
            false,
        )
        .unwrap();
    assert_eq!(edit.added, ["cli_pager"]);
    assert_eq!(
        f.render(),
        MESSY.replace("output=json\n", "output=json\ncli_pager = less\n")
    );
    // After nested settings (and not between them and their blank/comment lines).
    let mut f = ConfigFile::parse(MESSY).unwrap();
    f.upsert(&profile("work"), &[("region", "eu-west-1")], &[], false)
        .unwrap();
    assert_eq!(
        f.render(),
        MESSY.replace("64MB\n", "64MB\nregion = eu-west-1\n")
    );
}

#[test]
fn a_missing_section_is_appended_after_one_blank_line() {
    let mut f = ConfigFile::parse(MESSY).unwrap();
    let edit = f
        .upsert(&profile("new"), &[("region", "eu-west-1")], &[], false)
        .unwrap();
    assert!(edit.created);
    assert_eq!(
        f.render(),
        format!("{MESSY}\n[profile new]\nregion = eu-west-1\n")
    );
    // No second blank line, and a missing final newline is added first.
    for (before, after) in [
        ("[a]\nk = v\n\n", "[a]\nk = v\n\n[b]\nx = y\n"),
        ("[a]\nk = v", "[a]\nk = v\n\n[b]\nx = y\n"),
        ("", "[b]\nx = y\n"),
        ("# only a comment", "# only a comment\n\n[b]\nx = y\n"),
    ] {
        let mut f = ConfigFile::parse(before).unwrap();
        f.upsert(&SectionId::Other("b".into()), &[("x", "y")], &[], false)
            .unwrap();
        assert_eq!(f.render(), after, "{before:?}");
    }
}

#[test]
fn conflicts_are_refused_unless_forced() {
    let mut f = ConfigFile::parse(MESSY).unwrap();
    let err = f
        .upsert(
            &profile("work"),
            &[("source_profile", "other"), ("region", "x")],
            &["role_arn"],
            false,
        )
        .unwrap_err();
    let EditError::Conflicts(c) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].old, "default");
    assert_eq!(c[0].new.as_deref(), Some("other"));
    assert_eq!(c[1].key, "role_arn");
    assert_eq!(c[1].new, None);
    assert!(err
        .to_string()
        .contains("source_profile: \"default\" in the file, \"other\" wanted"));
    assert_eq!(f.render(), MESSY);

    let edit = f
        .upsert(
            &profile("work"),
            &[("source_profile", "other"), ("s3", "none"), ("region", "x")],
            &["role_arn"],
            true,
        )
        .unwrap();
    assert_eq!(edit.replaced.len(), 2);
    assert_eq!(edit.removed.len(), 1);
    assert_eq!(
        f.render(),
        MESSY
            .replace("role_arn: arn:aws:iam::123456789012:role/admin\n", "")
            .replace("source_profile = default", "source_profile = other")
            .replace(
                "s3 =\n  max_concurrent_requests = 20\n\n  # tuned\n  multipart_threshold = 64MB\n",
                "s3 = none\nregion = x\n"
            )
    );
}

#[test]
fn crlf_files_stay_crlf() {
    let text = "[default]\r\nregion = eu-north-1\r\n\r\n[profile a]\r\noutput = json\r\n";
    let mut f = ConfigFile::parse(text).unwrap();
    assert_eq!(f.render(), text);
    f.upsert(&profile("a"), &[("region", "x")], &[], false)
        .unwrap();
    f.upsert(&session("s"), &[("sso_region", "eu-west-1")], &[], false)
        .unwrap();
    assert_eq!(
        f.render(),
        "[default]\r\nregion = eu-north-1\r\n\r\n[profile a]\r\noutput = json\r\nregion = x\r\n\r\n[sso-session s]\r\nsso_region = eu-west-1\r\n"
    );
    assert_eq!(
        f.section(&profile("a")).unwrap().get("region").as_deref(),
        Some("x")
    );
}

#[test]
fn bad_names_keys_and_values_are_refused() {
    let mut f = ConfigFile::default();
    for name in ["", "a b", "a]", "[a"] {
        assert!(matches!(
            f.upsert(&profile(name), &[], &[], false),
            Err(EditError::BadName(_))
        ));
    }
    assert!(matches!(
        f.upsert(&profile("a"), &[("Bad Key", "v")], &[], false),
        Err(EditError::BadKey(_))
    ));
    for v in ["", " v", "a\nb"] {
        assert!(matches!(
            f.upsert(&profile("a"), &[("k", v)], &[], false),
            Err(EditError::BadValue { .. })
        ));
    }
    assert_eq!(f.render(), "");
}

#[test]
fn the_default_profile_is_found_either_way_and_written_as_default() {
    let f = ConfigFile::parse("[profile default]\nregion = x\n").unwrap();
    assert!(f.has_profile("default"));
    let mut f = ConfigFile::default();
    f.upsert(&profile("default"), &[("region", "x")], &[], false)
        .unwrap();
    assert_eq!(f.render(), "[default]\nregion = x\n");
}

#[test]
fn a_bom_is_kept_and_ignored() {
    let text = "\u{feff}[default]\nregion = x\n";
    let f = ConfigFile::parse(text).unwrap();
    assert_eq!(f.render(), text);
    assert!(f.has_profile("default"));
}

#[test]
fn write_atomic_creates_0600_keeps_modes_and_notices_concurrent_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/.aws/config");
    write_atomic(&path, "[a]\n", None).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    write_atomic(&path, "[b]\n", Some("[a]\n")).unwrap();
    assert_eq!(read(&path).unwrap().as_deref(), Some("[b]\n"));
    assert_eq!(mode(&path), 0o640);
    let err = write_atomic(&path, "[c]\n", Some("[a]\n")).unwrap_err();
    assert!(matches!(err, FileError::ChangedMeanwhile(_)), "{err}");
    assert_eq!(read(&path).unwrap().as_deref(), Some("[b]\n"));
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["config"], "temporary files left behind");
    assert_eq!(read(&dir.path().join("missing")).unwrap(), None);
}

mod proptests {
    use super::*;
    use proptest::prelude::*;

    /// A generated body line: a setting (possibly nested), a blank or a comment.
    fn body_line(i: usize) -> impl Strategy<Value = String> {
        let key = format!("key_{i}");
        prop_oneof![
            4 => (
                prop_oneof![Just(" = "), Just("="), Just(" =\t"), Just(": "), Just(" : ")],
                "[a-zA-Z0-9:/._-]{0,12}",
                prop_oneof![Just(""), Just("  ")],
            )
                .prop_map({
                    let key = key.clone();
                    move |(d, v, pre)| format!("{pre}{key}{d}{v}")
                }),
            1 => proptest::collection::vec("[a-z_]{1,8} = [a-z0-9]{1,6}", 1..3).prop_map({
                let key = key.clone();
                move |subs| {
                    let mut s = format!("{key} =");
                    for sub in subs {
                        s.push_str("\n  ");
                        s.push_str(&sub);
                    }
                    s
                }
            }),
            1 => Just(String::new()),
            1 => "[#;][ -~]{0,20}".prop_map(|c| c),
            1 => "  [#;][ a-z]{0,10}".prop_map(|c| c),
        ]
    }

    fn header(i: usize) -> impl Strategy<Value = String> {
        prop_oneof![
            Just(format!("[profile p{i}]")),
            Just(format!("[ profile  p{i} ]")),
            Just(format!("[sso-session s{i}]")),
            Just(format!("[services svc{i}]")),
            Just(format!("[profile p{i}] # note")),
            Just(if i == 0 {
                "[default]".to_string()
            } else {
                format!("[plain{i}]")
            }),
        ]
    }

    fn section(i: usize) -> impl Strategy<Value = Vec<String>> {
        (header(i), proptest::collection::vec(0usize..1, 0..6)).prop_flat_map(move |(h, n)| {
            let lines: Vec<_> = (0..n.len()).map(body_line).collect();
            (Just(h), lines).prop_map(|(h, body)| {
                let mut v = vec![h];
                v.extend(body);
                v
            })
        })
    }

    /// A valid config file, its line ending and whether the last line has one.
    fn file() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(prop_oneof![Just(String::new()), "# [ -~]{0,15}"], 0..3),
            (0usize..5).prop_flat_map(|n| (0..n).map(section).collect::<Vec<_>>()),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(pre, sections, crlf, final_nl)| {
                let nl = if crlf { "\r\n" } else { "\n" };
                let mut lines = pre;
                sections.into_iter().for_each(|s| lines.extend(s));
                let mut text = lines.join("\n").replace('\n', nl);
                if final_nl && !text.is_empty() {
                    text.push_str(nl);
                }
                text
            })
    }

    fn target() -> impl Strategy<Value = SectionId> {
        prop_oneof![
            (0usize..6).prop_map(|i| SectionId::Profile(if i == 0 {
                "default".into()
            } else {
                format!("p{i}")
            })),
            (0usize..6).prop_map(|i| SectionId::SsoSession(format!("s{i}"))),
        ]
    }

    fn wants() -> impl Strategy<Value = Vec<(String, String)>> {
        proptest::collection::btree_map("key_[0-7]|region|output", "[a-z0-9:/.-]{1,10}", 0..5)
            .prop_map(|m| m.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn parse_then_render_is_the_identity(text in file()) {
            let f = ConfigFile::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text:?}")))?;
            prop_assert_eq!(f.render(), text.clone());
            prop_assert_eq!(ConfigFile::parse(&f.render()).unwrap(), f);
        }

        #[test]
        fn upsert_changes_only_its_section_and_is_idempotent(
            text in file(), id in target(), set in wants(), force in any::<bool>(),
        ) {
            let before = ConfigFile::parse(&text).unwrap();
            let mut after = before.clone();
            let pairs: Vec<(&str, &str)> = set.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            match after.upsert(&id, &pairs, &[], force) {
                Err(EditError::Conflicts(c)) => {
                    prop_assert!(!force && !c.is_empty());
                    prop_assert_eq!(after.render(), text);
                    return Ok(());
                }
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
                Ok(_) => {}
            }
            let rendered = after.render();
            let reparsed = ConfigFile::parse(&rendered)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{rendered:?}")))?;
            // The section holds every wanted value.
            let s = reparsed.section(&id).expect("the section exists");
            for (k, v) in &set {
                prop_assert_eq!(s.get(k), Some(v.clone()));
            }
            // Every other section is as it was (the last may gain a line ending and a blank).
            let n = before.sections.len();
            let (o, w) = (before.preamble.concat(), reparsed.preamble.concat());
            if n == 0 {
                prop_assert!(w.starts_with(&o) && w[o.len()..].trim().is_empty(), "{:?} -> {:?}", o, w);
            } else {
                prop_assert_eq!(o, w);
            }
            for (i, old) in before.sections.iter().enumerate() {
                if old.id == id {
                    continue;
                }
                let new = reparsed.section(&old.id).expect("other sections stay");
                if i + 1 == n {
                    let (o, w) = (old.render(), new.render());
                    prop_assert!(w.starts_with(&o) && w[o.len()..].trim().is_empty(), "{:?} -> {:?}", o, w);
                } else {
                    prop_assert_eq!(old.render(), new.render());
                }
            }
            // A second time changes nothing.
            let mut again = reparsed.clone();
            let edit = again.upsert(&id, &pairs, &[], false).unwrap();
            prop_assert!(edit.is_empty());
            prop_assert_eq!(again.render(), rendered);
        }
    }
}
