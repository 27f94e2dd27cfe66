//! What a change set does, for people: counts of principals added, changed and removed, and a
//! unified diff of the data sections. Pure: no I/O.

use std::collections::BTreeMap;

use super::model::AwsAuth;
use super::section::{Body, SectionName};

/// How many principals a change adds, changes and removes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Principals (or accounts) that had no entry before.
    pub added: usize,
    /// Principals whose entry changed (groups, username, ARN text, or duplicates collapsed).
    pub changed: usize,
    /// Principals (or accounts) that have no entry any more.
    pub removed: usize,
}

impl Summary {
    /// True when nothing is added, changed or removed.
    pub fn is_empty(&self) -> bool {
        self.added + self.changed + self.removed == 0
    }

    /// Adds another summary's counts to this one.
    pub fn add(&mut self, other: Summary) {
        self.added += other.added;
        self.changed += other.changed;
        self.removed += other.removed;
    }
}

fn grouped(auth: &AwsAuth, name: SectionName) -> BTreeMap<String, Vec<&Body>> {
    let mut map: BTreeMap<String, Vec<&Body>> = BTreeMap::new();
    for body in auth.section(name).bodies() {
        map.entry(body.match_key()).or_default().push(body);
    }
    map
}

/// Counts principals added, changed and removed between two states.
pub fn summarize(old: &AwsAuth, new: &AwsAuth) -> Summary {
    let mut s = Summary::default();
    for name in SectionName::ALL {
        let before = grouped(old, name);
        let after = grouped(new, name);
        for (key, bodies) in &after {
            match before.get(key) {
                None => s.added += 1,
                Some(prev) if prev != bodies => s.changed += 1,
                Some(_) => {}
            }
        }
        s.removed += before.keys().filter(|k| !after.contains_key(*k)).count();
    }
    s
}

/// How long a section's diff may search for the shortest edit script.
const DIFF_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(100);

/// A unified diff of the data sections that differ, labelled `data.mapRoles` and so on;
/// empty when nothing differs.
pub fn diff(old: &AwsAuth, new: &AwsAuth) -> String {
    let mut out = String::new();
    for name in SectionName::ALL {
        let a = old.section(name).render().unwrap_or_default();
        let b = new.section(name).render().unwrap_or_default();
        if a == b {
            continue;
        }
        let label = format!("data.{}", name.key());
        // Myers costs lines × differences: a section rewritten wholesale would take
        // quadratic time. Past the deadline similar settles for a diff that is correct but
        // may be longer than the shortest; common leading and trailing lines (all but the
        // changed entries, for a grant) are matched in linear time before Myers starts.
        let text = similar::TextDiff::configure()
            .algorithm(similar::Algorithm::Myers)
            .timeout(DIFF_TIMEOUT)
            .diff_lines(&a, &b)
            .unified_diff()
            .context_radius(3)
            .missing_newline_hint(false)
            .header(&format!("a/{label}"), &format!("b/{label}"))
            .to_string();
        out.push_str(&text);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// The one-line summary printed after a run or a dry run.
pub fn describe(summary: Summary, dry_run: bool) -> String {
    let Summary {
        added,
        changed,
        removed,
    } = summary;
    if dry_run {
        format!("{added} to add, {changed} to change, {removed} to remove")
    } else {
        format!("{added} added, {changed} changed, {removed} removed")
    }
}
