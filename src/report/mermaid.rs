//! The report's paths as a Mermaid `flowchart` (person → group → permission set → role →
//! mapping or entry → access), which GitHub renders in a pull request or wiki page.
//!
//! Node IDs are generated (`n0`, `n1`, ...) and every label is quoted with everything but
//! plain letters, digits and a few safe marks written as Mermaid entity codes (`#35;`), so no
//! ARN, template (`{{SessionName}}`) or odd group name can end a label or start a statement.

use std::collections::BTreeMap;

use super::{Access, Report, Row};

/// A Mermaid label: quoted, every character outside a safe set as an entity code.
pub fn label(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || " .:/@_+=,()-".contains(c) {
            out.push(c);
        } else {
            out.push_str(&format!("#{};", c as u32));
        }
    }
    out.push('"');
    out
}

/// The node text of a mapping: where it is and what it grants.
fn mapping_text(row: &Row) -> String {
    let m = &row.mapping;
    let mut what = Vec::new();
    if !m.groups.is_empty() {
        what.push(format!("groups {}", m.groups.join(", ")));
    }
    for p in &m.policies {
        let scope = if p.scope == "cluster" {
            "cluster".to_string()
        } else {
            p.namespaces.join(", ")
        };
        what.push(format!("{} ({scope})", p.name));
    }
    if what.is_empty() {
        what.push("no groups".into());
    }
    let place = match (m.source.as_str(), m.kind.as_str()) {
        ("access-entry", _) => "access entry",
        (_, "role") => "aws-auth mapRoles",
        (_, "user") => "aws-auth mapUsers",
        _ => "aws-auth mapAccounts",
    };
    format!("{place}: {}", what.join("; "))
}

/// The flowchart of every path in `report` (a ```` ```mermaid ```` block's body).
pub fn flowchart(report: &Report) -> String {
    let mut ids: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut nodes = Vec::new();
    let mut edges: Vec<String> = Vec::new();
    let mut node = |kind: &str, key: &str, text: &str, nodes: &mut Vec<String>| -> String {
        let n = ids.len();
        ids.entry((kind.to_string(), key.to_string()))
            .or_insert_with(|| {
                let id = format!("n{n}");
                nodes.push(format!("    {id}[{}]", label(text)));
                id
            })
            .clone()
    };
    let edge = |line: String, edges: &mut Vec<String>| {
        if !edges.contains(&line) {
            edges.push(line);
        }
    };
    for row in &report.rows {
        let mut prev: Option<String> = None;
        for hop in row
            .path
            .iter()
            .filter(|h| h.kind != "aws-auth" && h.kind != "access-entry")
        {
            let text = format!("{}: {}", hop.kind, hop.name);
            let id = node(&hop.kind, &hop.name, &text, &mut nodes);
            if let Some(p) = prev {
                edge(format!("    {p} --> {id}"), &mut edges);
            }
            prev = Some(id);
        }
        let mkey = format!("{}|{}", row.mapping.source, row.mapping.arn);
        let mapping = node("mapping", &mkey, &mapping_text(row), &mut nodes);
        if let Some(p) = prev {
            edge(format!("    {p} --> {mapping}"), &mut edges);
        }
        let class = if row.access == Access::Custom && !row.custom_groups.is_empty() {
            format!("custom: {}", row.custom_groups.join(", "))
        } else {
            row.access.word().to_string()
        };
        let access = node("access", &class, &class, &mut nodes);
        let arrow = match (&row.dead, row.shadowed, row.effective) {
            (Some(_), _, _) => format!("    {mapping} -. dead .-> {access}"),
            (None, true, _) => format!("    {mapping} -. shadowed .-> {access}"),
            (None, false, false) => format!("    {mapping} -. ignored .-> {access}"),
            (None, false, true) => format!("    {mapping} --> {access}"),
        };
        edge(arrow, &mut edges);
    }
    let mut out = String::from("flowchart LR\n");
    for n in nodes {
        out.push_str(&n);
        out.push('\n');
    }
    for e in edges {
        out.push_str(&e);
        out.push('\n');
    }
    out
}
