//! Undoing an access-entries commit that locked its caller out: which writes need the check
//! (the caller's own principal, a ClusterAdmin), and the calls that put the touched principals
//! back as the first read had them. Pure: no I/O.

use std::collections::BTreeSet;

use super::entries_model::{calls, project, rows, Call, Projection};
use crate::access::arn;
use crate::access::model::Refusal;

/// Whether a write that touched `touched` (real ARNs) needs the lockout check: it touched a
/// protected principal (the caller) or one that was a ClusterAdmin in `original`.
pub fn sensitive(original: &Projection, touched: &BTreeSet<String>, protected: &[String]) -> bool {
    let admins = rows(&original.auth);
    touched
        .iter()
        .map(|a| arn::match_key(a))
        .any(|k| protected.contains(&k) || admins.get(&k).is_some_and(|m| m.is_admin()))
}

/// The calls that put the principals `keys` (match keys) back as `original` had them, from
/// `now`; the other principals are left as they are now (another writer's changes stay).
///
/// # Errors
/// A principal `original` had that calls cannot recreate (a deleted node entry).
pub fn undo_calls(
    original: &Projection,
    now: &Projection,
    keys: &BTreeSet<String>,
) -> Result<Vec<Call>, Refusal> {
    let mut wanted = now.entries.clone();
    for key in keys {
        match original.entries.get(key) {
            Some(e) => {
                if e.kind != "STANDARD" && !now.entries.contains_key(key) {
                    return Err(Refusal {
                        message: format!(
                            "cannot recreate {}: it was an access entry of type {}, which only EKS and the node-group tools create",
                            e.principal_arn, e.kind
                        ),
                        hint: format!("`aws eks create-access-entry --type {} --principal-arn {}`", e.kind, e.principal_arn),
                    });
                }
                wanted.insert(key.clone(), e.clone())
            }
            None => wanted.remove(key),
        };
    }
    let target = project(&wanted.into_values().collect::<Vec<_>>());
    let real = |k: &str| original.entries.get(k).map(|e| e.principal_arn.clone());
    Ok(calls(now, &target.auth, &real)?
        .into_iter()
        .flat_map(|(_, c)| c)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::entries_model::tests::{entry, world, NODE, SSO};

    #[test]
    fn a_lockout_is_undone_for_the_touched_principals_only() {
        let before = world();
        let bob = "arn:aws:iam::123456789012:user/bob";
        let carol = entry(
            "arn:aws:iam::123456789012:user/carol",
            "STANDARD",
            &["x"],
            false,
        );
        // The run deleted the SSO admin; another writer added carol meanwhile.
        let now = project(&[
            entry(NODE, "EC2_LINUX", &["system:nodes"], false),
            entry(bob, "STANDARD", &[], false),
            carol,
        ]);
        let touched: BTreeSet<String> = [SSO.to_string()].into();
        assert!(
            sensitive(&before, &touched, &[]),
            "a ClusterAdmin was touched"
        );
        assert!(sensitive(
            &before,
            &[bob.to_string()].into(),
            &[arn::match_key(bob)]
        ));
        assert!(!sensitive(&before, &[bob.to_string()].into(), &[]));
        let keys = touched.iter().map(|a| arn::match_key(a)).collect();
        let undo = undo_calls(&before, &now, &keys).unwrap();
        let text: Vec<String> = undo.iter().map(Call::to_string).collect();
        assert_eq!(
            text,
            [
                format!("CreateAccessEntry {SSO} (groups [devs], username u)"),
                format!("AssociateAccessPolicy {SSO} AmazonEKSClusterAdminPolicy (cluster)"),
            ]
        );
        // A deleted node entry cannot be recreated by okscript: said, not attempted.
        let gone = project(&[entry(SSO, "STANDARD", &["devs"], true)]);
        let keys = [arn::match_key(NODE)].into();
        let e = undo_calls(&before, &gone, &keys).unwrap_err();
        assert!(e.message.contains("type EC2_LINUX"), "{}", e.message);
    }
}
