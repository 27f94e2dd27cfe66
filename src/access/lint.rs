//! Findings about an existing aws-auth: what the authenticator will silently ignore or get
//! wrong (duplicates, role paths, unknown templates, empty groups, malformed ARNs). Pure.

use std::collections::BTreeMap;

use super::arn::{self, PrincipalKind};
use super::entry::{unknown_template, Mapping};
use super::model::AwsAuth;
use super::section::{Body, SectionName};

/// One problem in an existing aws-auth.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Short code: `duplicate`, `role-path`, `template`, `empty-groups`, `bad-arn`,
    /// `wrong-kind`, `bad-account`, `whitespace`.
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
    let mut out = Vec::new();
    for name in SectionName::ALL {
        let section = auth.section(name);
        let mut seen: BTreeMap<String, Vec<Option<usize>>> = BTreeMap::new();
        for slot in &section.slots {
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
            match &slot.body {
                Body::Account(a) => {
                    if !arn::is_account_id(a) {
                        push(
                            "bad-account",
                            a,
                            format!("`{a}` is not a 12-digit account id"),
                        );
                    }
                }
                Body::Mapping(m) => mapping_findings(m, &mut push),
            }
            if !matches!(&slot.body, Body::Mapping(m) if m.arn.is_empty()) {
                seen.entry(slot.body.match_key()).or_default().push(line);
            }
        }
        for (key, lines) in seen.into_iter().filter(|(_, l)| l.len() > 1) {
            let arn = section
                .bodies()
                .find(|b| b.match_key() == key)
                .map(|b| match b {
                    Body::Mapping(m) => m.arn.clone(),
                    Body::Account(a) => a.clone(),
                })
                .unwrap_or(key);
            let where_: Vec<String> = lines.iter().flatten().map(|l| l.to_string()).collect();
            out.push(Finding {
                code: "duplicate",
                section: name.key(),
                line: lines.last().copied().flatten(),
                message: format!(
                    "{} entries for {arn} (lines {}): the authenticator uses only the last one, whole, and ignores the others; any grant or revoke of it keeps just that one",
                    lines.len(),
                    where_.join(", ")
                ),
                arn,
            });
        }
    }
    out.sort_by_key(|f| {
        (
            SectionName::ALL.iter().position(|n| n.key() == f.section),
            f.line,
        )
    });
    out
}

fn mapping_findings(m: &Mapping, push: &mut impl FnMut(&'static str, &str, String)) {
    if m.arn.is_empty() {
        return;
    }
    match arn::parse_principal(&m.arn) {
        Err(e) => push("bad-arn", &m.arn, format!("{e}; the authenticator never matches it")),
        Ok(p) if p.kind != m.kind || p.session.is_some() => push(
            "wrong-kind",
            &m.arn,
            format!(
                "`{}` is not an IAM {} ARN, so no caller matches it here; map `{}` in map{}s instead",
                m.arn,
                m.kind,
                p.canonical(),
                if p.kind == PrincipalKind::Role { "Role" } else { "User" }
            ),
        ),
        Ok(p) if p.has_role_path() => push(
            "role-path",
            &m.arn,
            format!(
                "the role ARN has the path `{}`, which the authenticator never matches; map `{}` instead",
                p.path,
                p.canonical()
            ),
        ),
        Ok(_) => {}
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
