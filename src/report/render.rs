//! The report for people: a terminal table grouped by effective access (cluster-admin first,
//! then the paths EKS does not use, then what could not be seen) and a Markdown page with
//! the same tables and a Mermaid picture of the paths.

use super::{flowchart, Access, Report, ReportDiff, Row};

/// What a row's mapping grants, in words: username, groups, policies with their scope.
fn grants(row: &Row) -> String {
    let m = &row.mapping;
    let mut parts = Vec::new();
    if !m.username.is_empty() {
        parts.push(format!("user {}", m.username));
    }
    if !m.groups.is_empty() {
        parts.push(format!("groups {}", m.groups.join(",")));
    }
    for p in &m.policies {
        if p.scope == "cluster" {
            parts.push(format!("{} (cluster)", p.name));
        } else {
            parts.push(format!("{} ({})", p.name, p.namespaces.join(",")));
        }
    }
    if !m.entry_type.is_empty() && m.entry_type != "STANDARD" {
        parts.push(format!("type {}", m.entry_type));
    }
    if parts.is_empty() {
        parts.push("no groups".into());
    }
    parts.join("; ")
}

/// Why a path is not in effect.
fn why_not(row: &Row) -> String {
    match &row.dead {
        Some(d) => format!("dead: {d}"),
        None if row.shadowed => "shadowed by an access entry".into(),
        None => row.notes.join("; "),
    }
}

/// The group title of an access class, with the custom groups named.
fn title(access: Access, rows: &[&Row]) -> String {
    if access != Access::Custom {
        return format!("{access} ({})", rows.len());
    }
    let mut groups: Vec<&str> = rows
        .iter()
        .flat_map(|r| r.custom_groups.iter().map(String::as_str))
        .collect();
    groups.sort_unstable();
    groups.dedup();
    format!("custom: {} ({})", groups.join(", "), rows.len())
}

fn header(r: &Report) -> String {
    format!(
        "cluster {} (account {}, region {}, authenticationMode {})",
        r.cluster, r.account, r.region, r.authentication_mode
    )
}

/// Text safe for a terminal: control characters (an escape sequence in a display name)
/// written as `\u{1b}`.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The paths in effect, grouped by access class, most powerful first; empty classes left out.
fn by_access(r: &Report) -> Vec<(Access, Vec<&Row>)> {
    Access::ALL
        .iter()
        .map(|a| {
            let rows: Vec<&Row> = r
                .rows
                .iter()
                .filter(|x| x.effective && x.access == *a)
                .collect();
            (*a, rows)
        })
        .filter(|(_, rows)| !rows.is_empty())
        .collect()
}

/// The terminal table.
pub fn text(r: &Report) -> String {
    let mut out = format!("Access report: {}\n", printable(&header(r)));
    if let Some(ic) = &r.identity_center {
        out.push_str(&format!("Identity Center: {ic}\n"));
    }
    let width = r
        .rows
        .iter()
        .map(|x| x.principal.chars().count())
        .max()
        .unwrap_or(0)
        .min(48);
    for (access, rows) in by_access(r) {
        out.push_str(&format!("\n{}\n", printable(&title(access, &rows))));
        for row in rows {
            out.push_str(&format!(
                "  {:width$}  {}  via {}\n",
                printable(&row.principal),
                printable(&grants(row)),
                printable(&row.path_text())
            ));
        }
    }
    let idle: Vec<&Row> = r.rows.iter().filter(|x| !x.effective).collect();
    if !idle.is_empty() {
        out.push_str(&format!("\nnot in effect ({})\n", idle.len()));
        for row in idle {
            out.push_str(&format!(
                "  {:width$}  {} [{}]  via {}\n",
                printable(&row.principal),
                row.access,
                printable(&why_not(row)),
                printable(&row.path_text())
            ));
        }
    }
    if r.rows.is_empty() {
        out.push_str("\nno mapping and no access entry: nobody is admitted through IAM\n");
    }
    if r.partial {
        out.push_str("\nPARTIAL REPORT: not visible:\n");
        for g in &r.not_visible {
            out.push_str(&format!("  {}: {}\n", g.part, printable(&g.reason)));
        }
    }
    out
}

/// A Markdown table cell: pipes, backticks and line breaks made harmless.
fn cell(text: &str) -> String {
    printable(text)
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('`', "'")
        .replace('<', "&lt;")
        .replace(['\n', '\r'], " ")
}

/// The Markdown page: tables by access class and a Mermaid flowchart of the paths.
pub fn markdown(r: &Report) -> String {
    let mut out = format!("# Access report: {}\n\n", cell(&header(r)));
    if r.partial {
        out.push_str("> **Partial report.** Not visible:\n");
        for g in &r.not_visible {
            out.push_str(&format!("> - {}: {}\n", cell(&g.part), cell(&g.reason)));
        }
        out.push('\n');
    }
    for (access, rows) in by_access(r) {
        out.push_str(&format!(
            "## {}\n\n| principal | grants | path |\n| --- | --- | --- |\n",
            cell(&title(access, &rows))
        ));
        for row in rows {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                cell(&row.principal),
                cell(&grants(row)),
                cell(&row.path_text())
            ));
        }
        out.push('\n');
    }
    let idle: Vec<&Row> = r.rows.iter().filter(|x| !x.effective).collect();
    if !idle.is_empty() {
        out.push_str(
            "## not in effect\n\n| principal | access | why | path |\n| --- | --- | --- | --- |\n",
        );
        for row in idle {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                cell(&row.principal),
                row.access,
                cell(&why_not(row)),
                cell(&row.path_text())
            ));
        }
        out.push('\n');
    }
    out.push_str("## Paths\n\n```mermaid\n");
    out.push_str(&flowchart(r));
    out.push_str("```\n");
    out
}

/// A diff in words: one line per path that gained, lost or changed access.
pub fn diff_text(d: &ReportDiff) -> String {
    if d.is_empty() {
        return "no change in who can reach the cluster\n".into();
    }
    let word = |a: Option<Access>| a.map_or("nothing".to_string(), |a| a.word().to_string());
    let mut out = String::new();
    for (mark, list) in [("+", &d.gained), ("~", &d.changed), ("-", &d.lost)] {
        for x in list {
            let what = match mark {
                "+" => format!("gained {}", word(x.after)),
                "-" => format!("lost {}", word(x.before)),
                _ => format!("changed {} -> {}", word(x.before), word(x.after)),
            };
            out.push_str(&format!(
                "{mark} {} {what} via {}\n",
                printable(&x.principal),
                printable(&x.path)
            ));
        }
    }
    out
}
