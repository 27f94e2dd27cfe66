//! The clusters of a fleet as people write them down: `--cluster` names and `--clusters-from`
//! files (one name per line with `#` comments, or okctl cluster declarations), checked for
//! names EKS could not have and for clusters named twice. Pure: takes text, does no I/O.

use crate::aws::{self, ClusterDeclaration};

/// One cluster of a fleet, and where it was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The EKS cluster name.
    pub name: String,
    /// Its region, when the list said (a declaration, `--all-clusters=REGION`); else the
    /// login's.
    pub region: Option<String>,
    /// The okctl declaration it came from (its file and line), whose account the login must be.
    pub declaration: Option<(String, ClusterDeclaration)>,
    /// Where it was named, for messages: `--cluster`, `FILE:LINE`, `ListClusters in REGION`.
    pub source: String,
}

impl Member {
    /// A cluster named on the command line.
    pub fn named(name: &str, source: &str) -> Member {
        Member {
            name: name.to_string(),
            region: None,
            declaration: None,
            source: source.to_string(),
        }
    }
}

/// A fleet list that cannot be used; nothing has run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// A line that is neither a cluster name nor a comment.
    #[error("{file}:{line}: {problem}")]
    Line {
        /// The list file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// An okctl declaration in the list that does not parse.
    #[error("{file}:{line}: this cluster declaration does not parse: {detail}")]
    Declaration {
        /// The list file.
        file: String,
        /// 1-based line where the declaration starts.
        line: usize,
        /// The reader's complaint.
        detail: String,
    },
    /// A file with no cluster in it.
    #[error("{file} names no cluster (only blank lines and comments)")]
    Empty {
        /// The list file.
        file: String,
    },
    /// The same cluster twice.
    #[error("cluster {name}{region} is in the fleet twice: {first} and {second}")]
    Duplicate {
        /// The cluster.
        name: String,
        /// ` in REGION` when the list said, else empty.
        region: String,
        /// Where it was named first.
        first: String,
        /// Where it was named again.
        second: String,
    },
}

impl ListError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            ListError::Line { .. } | ListError::Empty { .. } => "write one EKS cluster name per line (`#` starts a comment), or give okctl cluster declarations (apiVersion: okctl.io/v1alpha1, several separated by `---`)".into(),
            ListError::Declaration { .. } => "fix the declaration (okctl reads the same file), or list the cluster by name".into(),
            ListError::Duplicate { .. } => "name each cluster once: running a script twice on one cluster at the same time makes its runs race each other".into(),
        }
    }
}

impl crate::hint::Advice for ListError {
    fn advice(&self) -> Option<String> {
        Some(self.hint())
    }
}

/// Why `name` cannot be an EKS cluster name (EKS: 1–100 letters, digits, `-` and `_`,
/// starting with a letter or digit), or `None` when it can.
pub fn name_problem(name: &str) -> Option<String> {
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if name.is_empty() {
        Some("an empty cluster name".into())
    } else if name.len() > 100 {
        Some(format!(
            "`{name}` is not an EKS cluster name: it has {} characters, EKS allows 100",
            name.len()
        ))
    } else if !first_ok || !rest_ok {
        Some(format!("`{name}` is not an EKS cluster name: EKS allows letters, digits, `-` and `_`, starting with a letter or digit"))
    } else {
        None
    }
}

/// The clusters a `--clusters-from` file names: cluster names one per line (`#` comments,
/// blank lines), or okctl cluster declarations (several separated by `---` lines).
///
/// # Errors
/// The first line that is neither, a declaration that does not parse, or a file naming no
/// cluster; each names the file and line.
pub fn parse(file: &str, text: &str) -> Result<Vec<Member>, ListError> {
    let content = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    let members = match content {
        None => Vec::new(),
        Some(l) if is_yaml_document(l) => declarations(file, text)?,
        Some(_) => names(file, text)?,
    };
    if members.is_empty() {
        return Err(ListError::Empty { file: file.into() });
    }
    Ok(members)
}

/// Whether a list's first line opens a YAML document rather than naming a cluster.
fn is_yaml_document(line: &str) -> bool {
    line == "---" || line.starts_with("apiVersion:") || line.starts_with("kind:")
}

fn names(file: &str, text: &str) -> Result<Vec<Member>, ListError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split_once('#').map_or(raw, |(before, _)| before).trim();
        if line.is_empty() {
            continue;
        }
        if let Some(problem) = name_problem(line) {
            return Err(ListError::Line {
                file: file.into(),
                line: i + 1,
                problem,
            });
        }
        out.push(Member::named(line, &format!("{file}:{}", i + 1)));
    }
    Ok(out)
}

fn declarations(file: &str, text: &str) -> Result<Vec<Member>, ListError> {
    let mut out = Vec::new();
    let mut start = 1;
    let mut doc = String::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, raw) in lines.iter().enumerate() {
        let separator = raw.trim_end() == "---";
        if !separator {
            doc.push_str(raw);
            doc.push('\n');
        }
        if separator || i + 1 == lines.len() {
            if let Some(m) = declaration(file, start, &doc)? {
                out.push(m);
            }
            doc.clear();
            start = i + 2;
        }
    }
    Ok(out)
}

fn declaration(file: &str, line: usize, doc: &str) -> Result<Option<Member>, ListError> {
    let blank = doc
        .lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with('#'));
    if blank {
        return Ok(None);
    }
    // Point at the document's first line of content, not at its leading comments.
    let line = line
        + doc
            .lines()
            .take_while(|l| l.trim().is_empty() || l.trim().starts_with('#'))
            .count();
    let decl = aws::parse_cluster_declaration(doc).map_err(|e| ListError::Declaration {
        file: file.into(),
        line,
        detail: e.to_string(),
    })?;
    if let Some(problem) = name_problem(&decl.name) {
        return Err(ListError::Line {
            file: file.into(),
            line,
            problem: format!("metadata.name: {problem}"),
        });
    }
    let source = format!("{file}:{line}");
    Ok(Some(Member {
        name: decl.name.clone(),
        region: Some(decl.region.clone()),
        declaration: Some((source.clone(), decl)),
        source,
    }))
}

/// Refuses a cluster named twice (the same name in the same region; a name without a region
/// is in `default_region`).
///
/// # Errors
/// [`ListError::Duplicate`] naming both places.
pub fn check_unique(members: &[Member], default_region: Option<&str>) -> Result<(), ListError> {
    let mut seen: std::collections::HashMap<(String, Option<&str>), &Member> =
        std::collections::HashMap::new();
    for m in members {
        let region = m.region.as_deref().or(default_region);
        if let Some(first) = seen.insert((m.name.clone(), region), m) {
            return Err(ListError::Duplicate {
                name: m.name.clone(),
                region: region.map(|r| format!(" in {r}")).unwrap_or_default(),
                first: first.source.clone(),
                second: m.source.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DECL: &str = "apiVersion: okctl.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: NAME\n  region: eu-north-1\n  accountID: \"123456789012\"\n";

    #[test]
    fn names_one_per_line_with_comments_and_blank_lines() {
        let text = "# the team's clusters\nprod\n\n  staging   # moved in May\ndev_2\n";
        let got = parse("fleet.txt", text).unwrap();
        let names: Vec<_> = got
            .iter()
            .map(|m| (m.name.as_str(), m.source.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("prod", "fleet.txt:2"),
                ("staging", "fleet.txt:4"),
                ("dev_2", "fleet.txt:5")
            ]
        );
        assert!(got
            .iter()
            .all(|m| m.region.is_none() && m.declaration.is_none()));
    }

    #[test]
    fn a_line_that_is_no_cluster_name_is_named_with_its_line() {
        let e = parse("fleet.txt", "prod\nstaging east\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "fleet.txt:2: `staging east` is not an EKS cluster name: EKS allows letters, digits, `-` and `_`, starting with a letter or digit"
        );
        assert!(e.hint().contains("one EKS cluster name per line"));
        // Another format (JSON, a kubeconfig) is refused at its first line, never guessed at.
        let e = parse("f.json", "{\"clusters\": [\"a\"]}\n").unwrap_err();
        assert!(
            e.to_string().starts_with("f.json:1: `{\"clusters\":"),
            "{e}"
        );
        let e = parse("k.yaml", "clusters:\n- name: a\n").unwrap_err();
        assert!(e.to_string().starts_with("k.yaml:1: `clusters:`"), "{e}");
    }

    #[test]
    fn a_file_naming_no_cluster_is_an_error() {
        for text in ["", "\n\n", "# nothing yet\n   \n", "---\n# none\n---\n"] {
            assert_eq!(
                parse("fleet.txt", text),
                Err(ListError::Empty {
                    file: "fleet.txt".into()
                }),
                "{text:?}"
            );
        }
    }

    #[test]
    fn okctl_declarations_give_name_region_and_account() {
        let text = format!(
            "{}---\n# the second\n{}",
            DECL.replace("NAME", "prod"),
            DECL.replace("NAME", "staging")
                .replace("eu-north-1", "eu-west-1")
        );
        let got = parse("clusters.yaml", &text).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].name, "prod");
        assert_eq!(got[0].region.as_deref(), Some("eu-north-1"));
        assert_eq!(got[0].source, "clusters.yaml:1");
        assert_eq!(got[1].name, "staging");
        assert_eq!(got[1].region.as_deref(), Some("eu-west-1"));
        assert_eq!(got[1].source, "clusters.yaml:9");
        let (_, decl) = got[1].declaration.as_ref().unwrap();
        assert_eq!(decl.account_id, "123456789012");
    }

    #[test]
    fn the_shared_fixture_declaration_is_a_fleet_of_one() {
        let text = include_str!("../../tests/data/okctl/cluster.yaml");
        let got = parse("cluster.yaml", text).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].name, "my-cluster");
        assert_eq!(
            got[0].source, "cluster.yaml:4",
            "its first line after the comments"
        );
        let bad = include_str!("../../tests/data/okctl/cluster-bad-account.yaml");
        let e = parse("bad.yaml", bad).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("bad.yaml:2: this cluster declaration does not parse: "),
            "{e}"
        );
        assert!(e.to_string().contains("accountID"), "{e}");
    }

    #[test]
    fn a_cluster_named_twice_is_refused_with_both_places() {
        let mut list = parse("fleet.txt", "prod\nstaging\n").unwrap();
        list.push(Member::named("prod", "--cluster"));
        let e = check_unique(&list, Some("eu-west-1")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cluster prod in eu-west-1 is in the fleet twice: fleet.txt:1 and --cluster"
        );
        // The same name in two regions is two clusters.
        let mut other = Member::named("prod", "ListClusters in eu-north-1");
        other.region = Some("eu-north-1".into());
        assert_eq!(
            check_unique(&[list[0].clone(), other.clone()], Some("eu-west-1")),
            Ok(())
        );
        // A name without a region is in the login's region.
        let mut here = other.clone();
        here.region = Some("eu-west-1".into());
        assert!(check_unique(&[list[0].clone(), here], Some("eu-west-1")).is_err());
    }

    proptest! {
        #[test]
        fn any_list_of_valid_names_reads_back_in_order(
            names in proptest::collection::vec("[a-zA-Z0-9][a-zA-Z0-9_-]{0,20}", 1..20),
            comments in proptest::collection::vec(proptest::option::of("[ -~]{0,20}"), 20),
        ) {
            let mut text = String::new();
            for (i, n) in names.iter().enumerate() {
                match &comments[i] {
                    Some(c) => text.push_str(&format!("# {c}\n  {n}  # {c}\n\n")),
                    None => text.push_str(&format!("{n}\n")),
                }
            }
            let got = parse("f", &text).unwrap();
            let got: Vec<_> = got.iter().map(|m| m.name.clone()).collect();
            prop_assert_eq!(got, names);
        }

        #[test]
        fn a_line_with_any_other_character_is_refused_at_its_line(
            before in proptest::collection::vec("[a-z][a-z0-9-]{0,10}", 0..5),
            bad in "x[a-z]{0,5}[ .:/@!{}]{1,3}[a-z]{1,5}",
        ) {
            let mut text: String = before.iter().map(|n| format!("{n}\n")).collect();
            text.push_str(&bad);
            text.push('\n');
            match parse("f", &text) {
                Err(ListError::Line { line, .. }) => prop_assert_eq!(line, before.len() + 1),
                other => prop_assert!(false, "{:?}", other),
            }
        }
    }
}
