//! Findings about an existing aws-auth: what the authenticator will silently ignore or get
//! wrong (duplicates, role paths, unknown templates, empty groups, malformed ARNs). Pure.

use std::collections::BTreeMap;

use super::arn::{self, PrincipalKind};
use super::entry::{self, unknown_template, Mapping};
use super::model::{self, At, AwsAuth};
use super::section::{Body, SectionName};

/// One problem in an existing aws-auth.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Short code: `duplicate`, `role-path`, `template`, `empty-groups`, `bad-arn`,
    /// `wrong-kind`, `bad-account`, `whitespace`, `section-case`.
    pub code: &'static str,
    /// The data key.
    pub section: &'static str,
    /// 1-based line inside the section, when known.
    pub line: Option<usize>,
    /// The ARN or account concerned.
    pub arn: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// Every finding, in section and line order.
pub fn findings(auth: &AwsAuth) -> Vec<Finding> {
    findings_of(auth, false)
}

/// The findings a read warns about: duplicates and role paths (and the other findings about
/// ARNs, which cost nothing for the usual canonical ARN). The checks of every username and
/// group are skipped: this runs on every read of a large aws-auth.
pub fn read_findings(auth: &AwsAuth) -> Vec<Finding> {
    let mut out = findings_of(auth, true);
    out.retain(|f| f.code == "duplicate" || f.code == "role-path");
    out
}

fn findings_of(auth: &AwsAuth, arns_only: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    for stray in &auth.strays {
        let key = stray.section.key();
        out.push(Finding {
            code: "section-case",
            section: key,
            line: None,
            arn: stray.key.clone(),
            message: format!(
                "the data key `{}`{} is not `{key}`: the authenticator reads data keys case-sensitively and never reads this one, so nobody it lists gets in; did you mean {key}? Rename it (merging it into any `{key}`); okscript will not write `{key}` beside it without #{{force: true}}",
                stray.key,
                stray.line.map_or(String::new(), |l| format!(" (line {l})")),
            ),
        });
    }
    // mapRoles and mapUsers share one key space: the authenticator looks a caller up in
    // both, so duplicates are found across them, by the rule grants and revokes use.
    // (key, ARN as first written, where): sorted by key below, so that duplicates stand
    // together without a map entry per principal (this runs on every read).
    let mut seen: Vec<(&str, &str, At)> = Vec::new();
    let mut accounts: BTreeMap<String, Vec<Option<usize>>> = BTreeMap::new();
    for name in SectionName::ALL {
        let section = auth.section(name);
        for (index, slot) in section.slots.iter().enumerate() {
            let line = slot.line;
            let mut push = |code, arn: &str, message: String| {
                out.push(Finding {
                    code,
                    section: name.key(),
                    line,
                    arn: arn.to_string(),
                    message,
                })
            };
            match &*slot.body {
                Body::Account(a) => {
                    if !arn::is_account_id(a) {
                        push(
                            "bad-account",
                            a,
                            format!("`{a}` is not a 12-digit account id"),
                        );
                    }
                    accounts
                        .entry(slot.key().to_string())
                        .or_default()
                        .push(line);
                }
                Body::Mapping(m) => {
                    mapping_findings(m, arns_only, &mut push);
                    if !m.arn.is_empty() {
                        seen.push((
                            slot.key(),
                            &m.arn,
                            At {
                                section: name,
                                index,
                            },
                        ));
                    }
                }
            }
        }
    }
    // Stable: a principal's entries stay in the order they were read.
    seen.sort_by(|a, b| a.0.cmp(b.0));
    let runs = seen.chunk_by(|a, b| a.0 == b.0).filter(|run| run.len() > 1);
    for run in runs {
        let arn = run[0].1.to_string();
        let found: Vec<At> = run.iter().map(|r| r.2).collect();
        let look = auth.lookup(&arn);
        let last = *found.last().expect("more than one");
        let line_of = |at: At| auth.section(at.section).slots[at.index].line;
        let one_section = found.iter().all(|a| a.section == last.section);
        let (where_, used) = if one_section {
            let lines: Vec<String> = found
                .iter()
                .filter_map(|a| line_of(*a).map(|l| l.to_string()))
                .collect();
            let used = look
                .used
                .and_then(line_of)
                .map_or("none of them as written".to_string(), |l| {
                    format!("only line {l}")
                });
            (format!("lines {}", lines.join(", ")), used)
        } else {
            let places: Vec<String> = found.iter().map(|a| auth.place(*a)).collect();
            let used = look
                .used
                .map_or("none of them as written".to_string(), |u| {
                    format!(
                        "only {} (it looks in mapRoles, then mapUsers)",
                        auth.place(u)
                    )
                });
            (places.join(", "), used)
        };
        out.push(Finding {
            code: "duplicate",
            section: last.section.key(),
            line: line_of(last),
            message: format!(
                "{} entries for {arn} ({where_}): the authenticator uses {used}, whole, and ignores the others; any grant or revoke of it keeps just that one",
                found.len(),
            ),
            arn,
        });
    }
    for (account, lines) in accounts.into_iter().filter(|(_, l)| l.len() > 1) {
        let where_: Vec<String> = lines.iter().flatten().map(|l| l.to_string()).collect();
        out.push(Finding {
            code: "duplicate",
            section: SectionName::MapAccounts.key(),
            line: lines.last().copied().flatten(),
            message: format!(
                "{} entries for {account} (lines {}): one is enough",
                lines.len(),
                where_.join(", ")
            ),
            arn: account,
        });
    }
    out.sort_by_key(|f| {
        (
            SectionName::ALL.iter().position(|n| n.key() == f.section),
            f.line,
        )
    });
    out
}

fn mapping_findings(
    m: &Mapping,
    arns_only: bool,
    push: &mut impl FnMut(&'static str, &str, String),
) {
    if m.arn.is_empty() {
        return;
    }
    let home = |k: PrincipalKind| model::home(k).key();
    // A canonical, path-less ARN of the section's kind (nearly every entry) has nothing to
    // report: skip the full parse.
    let canonical = arn::canonical_parts(&m.arn).is_some_and(|(kind, _)| kind == m.kind);
    let parsed = (!canonical).then(|| arn::parse_folded(&m.arn));
    match parsed {
        None => {}
        Some(Err(e)) => push("bad-arn", &m.arn, format!("{e}; the authenticator never matches it")),
        Some(Ok(p)) if p.session.is_some() => push(
            "wrong-kind",
            &m.arn,
            format!(
                "`{}` is an STS session ARN; the authenticator matches a caller by its role's ARN, so no caller matches this entry; map `{}` in mapRoles instead",
                m.arn,
                p.canonical(),
            ),
        ),
        Some(Ok(p)) if p.kind != m.kind => push(
            "wrong-kind",
            &m.arn,
            format!(
                "`{}` is an IAM {} ARN in {}; the authenticator still matches it (it looks every caller up in mapRoles, then in mapUsers), so it grants access, but people and tools look for it in {}: move it there (`{}: {}`)",
                m.arn,
                p.kind,
                home(m.kind),
                home(p.kind),
                entry::arn_key(p.kind),
                p.canonical(),
            ),
        ),
        Some(Ok(p)) if p.has_role_path() => push(
            "role-path",
            &m.arn,
            format!(
                "the role ARN has the path `{}`, which the authenticator never matches; map `{}` instead",
                p.path,
                p.canonical()
            ),
        ),
        Some(Ok(_)) => {}
    }
    if arns_only {
        return;
    }
    let names = m
        .username
        .iter()
        .map(|u| ("username", u))
        .chain(m.groups.iter().map(|g| ("group", g)));
    for (what, value) in names {
        if let Some(t) = unknown_template(value) {
            push(
                "template",
                &m.arn,
                format!("the {what} `{value}` uses `{t}`, which the authenticator does not expand"),
            );
        }
        if value.is_empty() || value.chars().any(char::is_whitespace) {
            push(
                "whitespace",
                &m.arn,
                format!("the {what} `{value}` is empty or has white space"),
            );
        }
    }
    if m.groups.is_empty() {
        push(
            "empty-groups",
            &m.arn,
            format!(
                "{} is mapped to no groups, so it can do only what RBAC grants its username",
                m.arn
            ),
        );
    }
}
