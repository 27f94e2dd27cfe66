//! What changed between two reports of one cluster: the paths (principal and every hop) that
//! gained, lost or changed their effective access.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Access, Report, SCHEMA_VERSION};

/// Why two reports cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    /// The old report has another schema version.
    #[error("the old report has schema_version {found}, this okscript writes {SCHEMA_VERSION}: they cannot be compared")]
    Schema {
        /// The old report's version.
        found: u32,
    },
    /// The reports are of different clusters.
    #[error("the old report is of cluster {old} (account {old_account}), this one of {new} (account {new_account}): they cannot be compared")]
    Cluster {
        /// The old report's cluster.
        old: String,
        /// Its account.
        old_account: String,
        /// This report's cluster.
        new: String,
        /// Its account.
        new_account: String,
    },
}

impl DiffError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            DiffError::Schema { .. } => "make a new baseline with `okscript report --output json > OLD.json` and compare against that from now on".into(),
            DiffError::Cluster { new, .. } => format!("compare with a report of cluster {new}, or leave out --diff"),
        }
    }
}

/// One path whose access changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Drift {
    /// The principal.
    pub principal: String,
    /// The path, as one line.
    pub path: String,
    /// The access before (`None`: the path did not exist or was not in effect).
    pub before: Option<Access>,
    /// The access now (`None`: the path is gone or no longer in effect).
    pub after: Option<Access>,
}

/// What changed between two reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReportDiff {
    /// Paths in effect now that were not before.
    pub gained: Vec<Drift>,
    /// Paths in effect before that are not now.
    pub lost: Vec<Drift>,
    /// Paths in effect in both, with another access class.
    pub changed: Vec<Drift>,
}

impl ReportDiff {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.gained.is_empty() && self.lost.is_empty() && self.changed.is_empty()
    }

    /// True when some path now reaches cluster-admin that did not before.
    pub fn new_cluster_admin(&self) -> bool {
        self.gained
            .iter()
            .chain(&self.changed)
            .any(|d| d.after == Some(Access::ClusterAdmin))
    }
}

/// The effective paths of a report by key: the most powerful access of each.
fn effective(r: &Report) -> BTreeMap<String, (String, String, Access)> {
    let mut out: BTreeMap<String, (String, String, Access)> = BTreeMap::new();
    for row in r.rows.iter().filter(|r| r.effective) {
        let e =
            out.entry(row.key())
                .or_insert((row.principal.clone(), row.path_text(), row.access));
        e.2 = e.2.min(row.access);
    }
    out
}

/// What changed from `old` to `new`.
///
/// # Errors
/// [`DiffError`] when `old` has another schema version or is of another cluster.
pub fn diff(old: &Report, new: &Report) -> Result<ReportDiff, DiffError> {
    if old.schema_version != SCHEMA_VERSION {
        return Err(DiffError::Schema {
            found: old.schema_version,
        });
    }
    if old.cluster != new.cluster || old.account != new.account {
        return Err(DiffError::Cluster {
            old: old.cluster.clone(),
            old_account: old.account.clone(),
            new: new.cluster.clone(),
            new_account: new.account.clone(),
        });
    }
    Ok(compare(&effective(old), &effective(new)))
}

fn compare(
    old: &BTreeMap<String, (String, String, Access)>,
    new: &BTreeMap<String, (String, String, Access)>,
) -> ReportDiff {
    let drift = |(p, path, _): &(String, String, Access), before, after| Drift {
        principal: p.clone(),
        path: path.clone(),
        before,
        after,
    };
    let mut out = ReportDiff::default();
    for (key, n) in new {
        match old.get(key) {
            None => out.gained.push(drift(n, None, Some(n.2))),
            Some(o) if o.2 != n.2 => out.changed.push(drift(n, Some(o.2), Some(n.2))),
            Some(_) => {}
        }
    }
    for (key, o) in old {
        if !new.contains_key(key) {
            out.lost.push(drift(o, Some(o.2), None));
        }
    }
    // Most powerful first, as the report is ordered.
    let rank = |d: &Drift| {
        (
            [d.before, d.after]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(Access::None),
            d.principal.clone(),
            d.path.clone(),
        )
    };
    for list in [&mut out.gained, &mut out.lost, &mut out.changed] {
        list.sort_by_key(rank);
    }
    out
}
