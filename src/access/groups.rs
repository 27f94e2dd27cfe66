//! Well-known Kubernetes groups and the near misses of them: a grant of `system:master`
//! maps a group no RBAC binding names, so the person silently gets nothing. Pure.

/// Groups Kubernetes and EKS give meaning to by name.
pub const WELL_KNOWN: &[&str] = &[
    "system:masters",
    "system:nodes",
    "system:bootstrappers",
    "system:node-proxier",
    "system:authenticated",
    "system:unauthenticated",
    "system:serviceaccounts",
];

/// The most edits a name may be from a well-known group and still count as a near miss.
const MAX_EDITS: usize = 2;

/// The well-known group `group` is a few edits away from (a likely typo), or `None` when it
/// is one exactly or is not close to any.
pub fn near_miss(group: &str) -> Option<&'static str> {
    if WELL_KNOWN.contains(&group) {
        return None;
    }
    WELL_KNOWN
        .iter()
        .map(|known| (strsim::levenshtein(group, known), *known))
        .filter(|(d, _)| *d <= MAX_EDITS)
        .min()
        .map(|(_, known)| known)
}

/// The warning for a granted group that is a near miss of a well-known one.
pub fn near_miss_warning(group: &str) -> Option<String> {
    near_miss(group).map(|known| {
        format!(
            "group `{group}` is not `{known}` but one typo away from it: did you mean `{known}`? \
             (aws-auth maps the name as written, and nothing in RBAC knows `{group}`)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_letter_is_a_near_miss_of_the_admin_group() {
        assert_eq!(near_miss("system:master"), Some("system:masters"));
        assert_eq!(near_miss("System:masters"), Some("system:masters"));
        assert_eq!(near_miss("system:masters "), Some("system:masters"));
        assert_eq!(near_miss("system:node"), Some("system:nodes"));
        assert_eq!(
            near_miss("system:bootstraper"),
            Some("system:bootstrappers")
        );
    }

    #[test]
    fn exact_and_unrelated_groups_are_not_near_misses() {
        for g in WELL_KNOWN {
            assert_eq!(near_miss(g), None, "{g}");
        }
        for g in [
            "devs",
            "viewers",
            "system:monitoring",
            "eks-console-dashboard-full-access-group",
        ] {
            assert_eq!(near_miss(g), None, "{g}");
        }
    }

    #[test]
    fn the_warning_names_the_group_and_the_suggestion() {
        let w = near_miss_warning("system:master").expect("a near miss");
        assert!(
            w.contains("`system:master`") && w.contains("did you mean `system:masters`?"),
            "{w}"
        );
        assert_eq!(near_miss_warning("devs"), None);
    }
}
