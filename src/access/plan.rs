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
        .map(|slot| (slot.key(), &*slot.body))
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
                        && run_b
                            .iter()
                            .zip(run_a)
                            // A slot the script left alone shares its entry with the old state.
                            .all(|(x, y)| std::ptr::eq(x.1, y.1) || x.1 == y.1);
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
        let a = old.section(name).text().unwrap_or_default();
        let b = new.section(name).text().unwrap_or_default();
        if a == b {
            continue;
        }
        let label = format!("data.{}", name.key());
        out.push_str(&unified(&a, &b, &label));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// The unified diff of `a` and `b` (both non-empty or different). The lines both share at
/// the start and at the end, beyond the context, are set aside first: a grant into a large
/// section then diffs a few lines instead of tokenizing every line of both texts.
fn unified(a: &str, b: &str, label: &str) -> String {
    let (skip, a_mid, b_mid) = middle(a, b);
    // Myers costs lines × differences: a section rewritten wholesale would take quadratic
    // time. Past the deadline similar settles for a diff that is correct but may be longer
    // than the shortest.
    let text = similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        .timeout(DIFF_TIMEOUT)
        .diff_lines(a_mid, b_mid)
        .unified_diff()
        .context_radius(CONTEXT)
        .missing_newline_hint(false)
        .header(&format!("a/{label}"), &format!("b/{label}"))
        .to_string();
    if skip == 0 {
        return text;
    }
    text.lines()
        .map(|l| shift_hunk(l, skip).unwrap_or_else(|| l.to_string()) + "\n")
        .collect()
}

/// The common leading lines beyond the context (how many), and what is left of `a` and `b`
/// without them and without the common trailing lines beyond the context. Line breaks are
/// counted only where needed (vectorised): no table of every line of a large section.
fn middle<'a>(a: &'a str, b: &'a str) -> (usize, &'a str, &'a str) {
    let breaks = |t: &[u8]| memchr::memchr_iter(b'\n', t).count();
    // Whole lines the texts share at the start: the line breaks must agree too.
    let same = common_prefix(a.as_bytes(), b.as_bytes());
    let head = &a.as_bytes()[..same];
    let lead = breaks(head);
    let skip = lead.saturating_sub(CONTEXT);
    // Where line `n` (0-based) starts in the shared head: just past its n-th line break.
    let start_of = |n: usize| {
        n.checked_sub(1).map_or(0, |k| {
            memchr::memchr_iter(b'\n', head).nth(k).map_or(0, |i| i + 1)
        })
    };
    let lead_start = memchr::memrchr(b'\n', head).map_or(0, |i| i + 1);
    let tail_same = common_suffix(&a.as_bytes()[lead_start..], &b.as_bytes()[lead_start..]);
    // Lines that start inside the shared tail (a final line break starts no line).
    let starts_in_tail = |t: &[u8]| {
        let Some(last) = t.len().checked_sub(1) else {
            return 0;
        };
        let from = t.len() - tail_same;
        breaks(&t[from.saturating_sub(1)..last]) + usize::from(from == 0)
    };
    let tail = starts_in_tail(a.as_bytes())
        .min(starts_in_tail(b.as_bytes()))
        .saturating_sub(CONTEXT + 1);
    let from = start_of(skip);
    let cut = |t: &'a str| -> &'a str {
        // The start of the `tail`-th line from the end.
        let end = match tail {
            0 => t.len(),
            _ => memchr::memrchr_iter(b'\n', &t.as_bytes()[..t.len() - 1])
                .nth(tail - 1)
                .map_or(0, |i| i + 1),
        };
        &t[from..end.max(from)]
    };
    (skip, cut(a), cut(b))
}

/// How many bytes `a` and `b` share at the start, compared a block at a time (each block
/// compare is one vectorised memcmp; a byte loop costs several instructions a byte).
pub(super) fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 256;
    let n = a.len().min(b.len());
    let mut at = 0;
    while at + BLOCK <= n && a[at..at + BLOCK] == b[at..at + BLOCK] {
        at += BLOCK;
    }
    at + a[at..n]
        .iter()
        .zip(&b[at..n])
        .take_while(|(x, y)| x == y)
        .count()
}

/// How many bytes `a` and `b` share at the end, compared a block at a time.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 256;
    let n = a.len().min(b.len());
    let (a, b) = (&a[a.len() - n..], &b[b.len() - n..]);
    let mut at = n;
    while at >= BLOCK && a[at - BLOCK..at] == b[at - BLOCK..at] {
        at -= BLOCK;
    }
    n - at
        + a[..at]
            .iter()
            .rev()
            .zip(b[..at].iter().rev())
            .take_while(|(x, y)| x == y)
            .count()
}

/// A hunk header `@@ -A,B +C,D @@` with `by` added to both start lines; `None` for any
/// other line.
fn shift_hunk(line: &str, by: usize) -> Option<String> {
    let rest = line.strip_prefix("@@ -")?;
    let (ranges, after) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let shift = |r: &str| -> Option<String> {
        let (start, len) = match r.split_once(',') {
            Some((s, l)) => (s.parse::<usize>().ok()?, Some(l)),
            None => (r.parse::<usize>().ok()?, None),
        };
        let start = if start == 0 { by } else { start + by };
        Some(match len {
            Some(l) => format!("{start},{l}"),
            None => start.to_string(),
        })
    };
    Some(format!("@@ -{} +{} @@{after}", shift(old)?, shift(new)?))
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The diff of the whole texts, as before the common lines were set aside.
    fn whole(a: &str, b: &str) -> String {
        similar::TextDiff::configure()
            .algorithm(similar::Algorithm::Myers)
            .diff_lines(a, b)
            .unified_diff()
            .context_radius(CONTEXT)
            .missing_newline_hint(false)
            .header("a/x", "b/x")
            .to_string()
    }

    #[test]
    fn one_entry_added_deep_in_a_long_section_has_the_whole_texts_hunk() {
        let a: String = (0..200).map(|i| format!("- line {i}\n")).collect();
        let b = a.replace("- line 120\n", "- line 120\n- new\n");
        assert_eq!(unified(&a, &b, "x"), whole(&a, &b));
        assert!(
            unified(&a, &b, "x").contains("@@ -119,6 +119,7 @@"),
            "{}",
            unified(&a, &b, "x")
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Setting the shared lines aside changes nothing in the printed diff.
        #[test]
        fn the_trimmed_diff_is_the_whole_diff(
            head in proptest::collection::vec(0u8..4, 0..12),
            a in proptest::collection::vec(0u8..4, 0..12),
            b in proptest::collection::vec(0u8..4, 0..12),
            tail in proptest::collection::vec(0u8..4, 0..12),
            a_end in any::<bool>(),
            b_end in any::<bool>(),
        ) {
            let a = [head.clone(), a, tail.clone()].concat();
            let b = [head, b, tail].concat();
            let text = |v: &[u8], end: bool| {
                let mut t: String = v.iter().map(|n| format!("l{n}\n")).collect();
                if !end && t.ends_with('\n') {
                    t.pop();
                }
                t
            };
            let (a, b) = (text(&a, a_end), text(&b, b_end));
            prop_assume!(a != b);
            let d = unified(&a, &b, "x");
            prop_assert_eq!(apply(&a, &d), b.lines().collect::<Vec<_>>(), "{}", d);
            prop_assert_eq!(middle(&a, &b), middle_by_table(&a, &b));
            // Never more lines than the whole texts' diff shows.
            prop_assert!(d.lines().count() <= whole(&a, &b).lines().count(), "{}", d);
        }
    }

    /// `middle` as first written, from a table of every line's start: the reference.
    fn middle_by_table<'a>(a: &'a str, b: &'a str) -> (usize, &'a str, &'a str) {
        let starts = |t: &str| -> Vec<usize> {
            std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', t.as_bytes()).map(|i| i + 1))
                .filter(|i| *i <= t.len())
                .collect()
        };
        let (sa, sb) = (starts(a), starts(b));
        let same = common_prefix(a.as_bytes(), b.as_bytes());
        let lead = sa
            .iter()
            .take_while(|s| **s <= same)
            .count()
            .saturating_sub(1);
        let lead = lead.min(sa.len() - 1).min(sb.len() - 1);
        let skip = lead.saturating_sub(CONTEXT);
        let tail_same = common_suffix(&a.as_bytes()[sa[lead]..], &b.as_bytes()[sb[lead]..]);
        let full = |t: &str, s: &[usize]| {
            s.iter()
                .filter(|st| **st >= t.len() - tail_same && **st < t.len())
                .count()
        };
        let tail = full(a, &sa).min(full(b, &sb)).saturating_sub(CONTEXT + 1);
        let cut = |t: &'a str, s: &[usize]| -> &'a str {
            let lines = s.len() - usize::from(s.last() == Some(&t.len()));
            let end = if tail == 0 { t.len() } else { s[lines - tail] };
            &t[s[skip]..end.max(s[skip])]
        };
        (skip, cut(a, &sa), cut(b, &sb))
    }

    proptest! {
        /// The block-wise common prefix and suffix agree with a byte-by-byte count.
        #[test]
        fn common_ends_agree_with_a_byte_loop(
            shared in proptest::collection::vec(0u8..3, 0..1200),
            a in proptest::collection::vec(0u8..3, 0..600),
            b in proptest::collection::vec(0u8..3, 0..600),
        ) {
            let (x, y) = ([shared.clone(), a].concat(), [shared.clone(), b].concat());
            let naive = x.iter().zip(&y).take_while(|(p, q)| p == q).count();
            prop_assert_eq!(common_prefix(&x, &y), naive);
            let (x, y) = ([x, shared.clone()].concat(), [y, shared].concat());
            let naive = x.iter().rev().zip(y.iter().rev()).take_while(|(p, q)| p == q).count();
            prop_assert_eq!(common_suffix(&x, &y), naive);
        }
    }

    /// `a` patched with the unified diff `d`, as lines (the diff says nothing about a
    /// missing last line break).
    fn apply<'a>(a: &'a str, d: &'a str) -> Vec<&'a str> {
        let old: Vec<&str> = a.lines().collect();
        let mut out = Vec::new();
        let mut at = 0;
        for line in d.lines().skip(2) {
            if let Some(rest) = line.strip_prefix("@@ -") {
                let start: usize = rest
                    .split([',', ' '])
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("a hunk header");
                // An empty old range names the line after which the hunk goes.
                let upto = if rest.split(' ').next().is_some_and(|r| r.ends_with(",0")) {
                    start
                } else {
                    start - 1
                };
                out.extend_from_slice(&old[at..upto]);
                at = upto;
            } else if let Some(l) = line.strip_prefix('+') {
                out.push(l);
            } else if line.starts_with('-') {
                at += 1;
            } else {
                out.push(old[at]);
                at += 1;
            }
        }
        out.extend_from_slice(&old[at..]);
        out
    }
}
