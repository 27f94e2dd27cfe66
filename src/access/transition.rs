//! What replacing one aws-auth state by another would do: the principals it adds, changes
//! and removes, and which guards stand in the way. Used by `okscript restore`, which writes a
//! whole saved state instead of staging intents. The guards are not restated here: the
//! transition is expressed as the intents that would lead from one state to the other and
//! replayed through [`AwsAuth::apply`], so restore refuses exactly what `run` refuses.
//! Pure: no I/O.

use std::collections::BTreeMap;

use super::arn::PrincipalKind;
use super::entry::Mapping;
use super::intent::Intent;
use super::model::{AwsAuth, Protected, Refusal};
use super::plan::{self, Summary};
use super::section::{Body, Section, SectionName};

/// The principals a transition touches, by their ARN (or account id) as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transition {
    /// Counts, as `plan::summarize` gives them.
    pub summary: Summary,
    /// Principals present only in the new state.
    pub added: Vec<String>,
    /// Principals whose entries differ.
    pub changed: Vec<String>,
    /// Principals present only in the old state.
    pub removed: Vec<String>,
}

/// The effective (last) mapping for each match key of a mapping section, keyed in order.
fn effective(section: &Section) -> BTreeMap<String, &Mapping> {
    let mut out = BTreeMap::new();
    for slot in &section.slots {
        if let Body::Mapping(m) = &*slot.body {
            if !m.arn.is_empty() {
                out.insert(slot.key().to_string(), m);
            }
        }
    }
    out
}

/// Every body of a section grouped by match key, with the text to name it by.
fn grouped(section: &Section) -> BTreeMap<String, (String, Vec<&Body>)> {
    let mut out: BTreeMap<String, (String, Vec<&Body>)> = BTreeMap::new();
    for body in section.bodies() {
        let name = match body {
            Body::Mapping(m) => m.arn.clone(),
            Body::Account(a) => format!("account {a}"),
        };
        let e = out.entry(body.match_key()).or_insert((name, Vec::new()));
        e.1.push(body);
    }
    out
}

/// The principals added, changed and removed when `old` is replaced by `new`.
pub fn compare(old: &AwsAuth, new: &AwsAuth) -> Transition {
    let mut t = Transition {
        summary: plan::summarize(old, new),
        ..Transition::default()
    };
    for name in SectionName::ALL {
        let before = grouped(old.section(name));
        let after = grouped(new.section(name));
        for (key, (arn, bodies)) in &after {
            match before.get(key) {
                None => t.added.push(arn.clone()),
                Some((_, prev)) if prev != bodies => t.changed.push(arn.clone()),
                Some(_) => {}
            }
        }
        for (key, (arn, _)) in &before {
            if !after.contains_key(key) {
                t.removed.push(arn.clone());
            }
        }
    }
    t
}

/// The guard refusals of replacing `old` by `new`, for the caller `protected`; empty when
/// no guard objects. Node and Fargate roles changed or removed, the last `system:masters`
/// mapping removed, and the caller's own access removed are each refused, with the same
/// messages as a script's grant or revoke.
pub fn guards(old: &AwsAuth, new: &AwsAuth, protected: &Protected) -> Vec<Refusal> {
    let mut grants = Vec::new();
    let mut narrowings = Vec::new();
    let mut removals = Vec::new();
    for (kind, name) in [
        (PrincipalKind::Role, SectionName::MapRoles),
        (PrincipalKind::User, SectionName::MapUsers),
    ] {
        let before = effective(old.section(name));
        let after = effective(new.section(name));
        for (key, wanted) in &after {
            let Some(had) = before.get(key) else {
                grants.push(grant(kind, wanted));
                continue;
            };
            if *had == *wanted {
                continue;
            }
            let lost: Vec<String> = had
                .groups
                .iter()
                .filter(|g| !wanted.groups.contains(g))
                .cloned()
                .collect();
            let gained = wanted.groups.iter().any(|g| !had.groups.contains(g));
            if gained || had.username != wanted.username || had.extra != wanted.extra {
                grants.push(grant(kind, wanted));
            }
            if !lost.is_empty() {
                narrowings.push(Intent::Revoke {
                    kind,
                    arn: had.arn.clone(),
                    groups: Some(lost),
                    force: false,
                });
            }
        }
        for (key, had) in &before {
            if !after.contains_key(key) {
                removals.push(Intent::Revoke {
                    kind,
                    arn: had.arn.clone(),
                    groups: None,
                    force: false,
                });
            }
        }
    }
    // Additions first, so that an admin the new state brings counts before one it drops.
    let mut state = old.clone();
    let mut refusals = Vec::new();
    for intent in grants.iter().chain(&narrowings).chain(&removals) {
        if let Err(r) = state.apply(intent, protected) {
            // The caller's own guard comes first; say too what else this change would break.
            let other = state.clone().apply(intent, &Protected::default()).err();
            for r in std::iter::once(r).chain(other) {
                if !refusals.contains(&r) {
                    refusals.push(r);
                }
            }
        }
    }
    refusals
}

fn grant(kind: PrincipalKind, m: &Mapping) -> Intent {
    Intent::Grant {
        kind,
        arn: m.arn.clone(),
        groups: m.groups.clone(),
        username: m.username.clone(),
        exact: false,
        force: false,
    }
}

/// Parses each data section on its own, standing in an absent section for one that does not
/// parse (as the authenticator drops it); returns the notes about the ones dropped.
pub fn parse_lenient(data: &BTreeMap<String, String>) -> (AwsAuth, Vec<String>) {
    let mut auth = AwsAuth::empty();
    let mut notes = Vec::new();
    for name in SectionName::ALL {
        let Some(text) = data.get(name.key()) else {
            continue;
        };
        let section = match Section::parse(name, text) {
            Ok(s) => s,
            Err(e) => {
                notes.push(format!(
                    "{e}: the authenticator ignores this section, so okscript treats it as empty"
                ));
                Section::absent(name)
            }
        };
        match name {
            SectionName::MapRoles => auth.roles = section,
            SectionName::MapUsers => auth.users = section,
            SectionName::MapAccounts => auth.accounts = section,
        }
    }
    (auth, notes)
}

/// Parses each data section strictly, as `run` reads aws-auth.
pub fn parse_strict(
    data: &BTreeMap<String, String>,
) -> Result<AwsAuth, super::section::SectionError> {
    AwsAuth::parse(
        data.get("mapRoles").map(String::as_str),
        data.get("mapUsers").map(String::as_str),
        data.get("mapAccounts").map(String::as_str),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE: &str = "- rolearn: arn:aws:iam::111122223333:role/node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n";
    const ADMIN: &str =
        "- userarn: arn:aws:iam::111122223333:user/admin\n  username: admin\n  groups:\n  - system:masters\n";

    fn auth(roles: Option<&str>, users: Option<&str>) -> AwsAuth {
        AwsAuth::parse(roles, users, None).unwrap()
    }

    #[test]
    fn emptying_everything_trips_the_node_and_admin_guards() {
        let live = auth(Some(NODE), Some(ADMIN));
        let refusals = guards(&live, &AwsAuth::empty(), &Protected::default());
        let text: Vec<&str> = refusals.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(refusals.len(), 2, "{text:?}");
        assert!(text[0].contains("role/node") && text[0].contains("node or Fargate role"));
        assert!(text[1].contains("last `system:masters`"), "{text:?}");
    }

    #[test]
    fn the_caller_losing_access_is_refused() {
        let live = auth(Some(NODE), Some(ADMIN));
        let other =
            "- userarn: arn:aws:iam::111122223333:user/other\n  groups:\n  - system:masters\n";
        let new = auth(Some(NODE), Some(other));
        let me = Protected {
            keys: vec![crate::access::arn::match_key(
                "arn:aws:iam::111122223333:user/admin",
            )],
        };
        let refusals = guards(&live, &new, &me);
        assert_eq!(refusals.len(), 1, "{refusals:?}");
        assert!(refusals[0].message.contains("logged in as"));
        // Alone and logged in: both the caller's guard and the last-admin guard are named.
        let refusals = guards(&live, &auth(Some(NODE), None), &me);
        assert_eq!(refusals.len(), 2, "{refusals:?}");
        assert!(refusals[1].message.contains("last `system:masters`"));
        assert!(guards(&live, &new, &Protected::default()).is_empty());
    }

    #[test]
    fn narrowing_a_node_role_is_refused_and_adding_principals_is_not() {
        let live = auth(Some(NODE), Some(ADMIN));
        let narrowed = NODE.replace("  - system:nodes\n", "");
        let refusals = guards(
            &live,
            &auth(Some(&narrowed), Some(ADMIN)),
            &Protected::default(),
        );
        assert_eq!(refusals.len(), 1, "{refusals:?}");
        let more =
            format!("{NODE}- rolearn: arn:aws:iam::111122223333:role/dev\n  groups:\n  - devs\n");
        assert!(guards(
            &live,
            &auth(Some(&more), Some(ADMIN)),
            &Protected::default()
        )
        .is_empty());
        assert!(guards(&live, &live, &Protected::default()).is_empty());
    }

    #[test]
    fn swapping_the_only_admin_for_another_is_allowed() {
        let live = auth(Some(NODE), Some(ADMIN));
        let other = ADMIN.replace("user/admin", "user/other");
        assert!(guards(
            &live,
            &auth(Some(NODE), Some(&other)),
            &Protected::default()
        )
        .is_empty());
    }

    #[test]
    fn compare_names_the_principals() {
        let live = auth(Some(NODE), Some(ADMIN));
        let dev = "- rolearn: arn:aws:iam::111122223333:role/dev\n  groups:\n  - devs\n";
        let t = compare(
            &live,
            &auth(
                Some(dev),
                Some(&ADMIN.replace("admin\n  groups", "root\n  groups")),
            ),
        );
        assert_eq!(t.added, ["arn:aws:iam::111122223333:role/dev"]);
        assert_eq!(t.removed, ["arn:aws:iam::111122223333:role/node"]);
        assert_eq!(t.changed, ["arn:aws:iam::111122223333:user/admin"]);
        assert_eq!(
            (t.summary.added, t.summary.changed, t.summary.removed),
            (1, 1, 1)
        );
    }

    #[test]
    fn lenient_parsing_drops_only_the_broken_section() {
        let mut data = BTreeMap::new();
        data.insert(
            "mapRoles".to_string(),
            "- rolearn: x\n\tgroups: []\n".to_string(),
        );
        data.insert("mapUsers".to_string(), ADMIN.to_string());
        assert!(parse_strict(&data).is_err());
        let (auth, notes) = parse_lenient(&data);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("data.mapRoles line"), "{notes:?}");
        assert_eq!(auth.users.slots.len(), 1);
        assert!(auth.roles.slots.is_empty());
    }
}
