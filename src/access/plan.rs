//! What a change set does, for people: counts of principals added, changed and removed, and a
//! unified diff of the data sections. Pure: no I/O.

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

/// The section's items sorted by the authenticator's match key (stable: a principal's
/// entries stay in file order), borrowing the keys the slots cache.
fn by_key(auth: &AwsAuth, name: SectionName) -> Vec<(&str, &Body)> {
    let mut items: Vec<(&str, &Body)> = auth
        .section(name)
        .slots
        .iter()
        .map(|slot| (slot.key.as_str(), &slot.body))
        .collect();
    items.sort_by(|a, b| a.0.cmp(b.0));
    items
}

/// Items paired with their match keys, sorted by key.
type Keyed<'a, 'b> = &'b [(&'a str, &'a Body)];

/// Splits off the run of items that share the first item's key.
fn next_run<'a, 'b>(items: Keyed<'a, 'b>) -> (Keyed<'a, 'b>, Keyed<'a, 'b>) {
    let n = items.iter().take_while(|(k, _)| *k == items[0].0).count();
    items.split_at(n)
}

/// Counts principals added, changed and removed between two states.
pub fn summarize(old: &AwsAuth, new: &AwsAuth) -> Summary {
    let mut s = Summary::default();
    for name in SectionName::ALL {
        let (before, after) = (by_key(old, name), by_key(new, name));
        let (mut b, mut a) = (before.as_slice(), after.as_slice());
        // A merge walk over both sorted lists: linear after the sorts.
        while !b.is_empty() || !a.is_empty() {
            let order = match (b.first(), a.first()) {
                (Some(x), Some(y)) => x.0.cmp(y.0),
                (Some(_), None) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            match order {
                std::cmp::Ordering::Less => {
                    s.removed += 1;
                    b = next_run(b).1;
                }
                std::cmp::Ordering::Greater => {
                    s.added += 1;
                    a = next_run(a).1;
                }
                std::cmp::Ordering::Equal => {
                    let ((run_b, rest_b), (run_a, rest_a)) = (next_run(b), next_run(a));
                    let same = run_b.len() == run_a.len()
                        && run_b.iter().zip(run_a).all(|(x, y)| x.1 == y.1);
                    if !same {
                        s.changed += 1;
                    }
                    (b, a) = (rest_b, rest_a);
                }
            }
        }
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
