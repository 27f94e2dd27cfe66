//! One aws-auth entry (`mapRoles`/`mapUsers` item) and the rules for usernames, groups and
//! the authenticator's `{{...}}` templates. Pure: no I/O.

use super::arn::{self, PrincipalKind};
use super::yaml;

/// The templates the EKS authenticator expands in usernames and groups.
pub const TEMPLATES: &[&str] = &[
    "{{AccountID}}",
    "{{SessionName}}",
    "{{SessionNameRaw}}",
    "{{AccessKeyID}}",
    "{{EC2PrivateDNSName}}",
];

/// The group that makes a principal a cluster administrator.
pub const MASTERS: &str = "system:masters";

/// The group every node role and Fargate pod execution role carries.
pub const NODES: &str = "system:nodes";

/// Why a username or group is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty text.
    #[error("the {what} is empty")]
    Empty {
        /// `username` or `group`.
        what: &'static str,
    },
    /// White space inside.
    #[error("the {what} `{value}` contains white space, which the authenticator never matches")]
    Whitespace {
        /// `username` or `group`.
        what: &'static str,
        /// The rejected text.
        value: String,
    },
    /// A `{{...}}` the authenticator does not know, or an unbalanced brace pair.
    #[error("the {what} `{value}` uses `{template}`, which is not a template the authenticator knows (use {})", TEMPLATES.join(", "))]
    Template {
        /// `username` or `group`.
        what: &'static str,
        /// The rejected text.
        value: String,
        /// The offending template.
        template: String,
    },
}

/// Checks a username or group: non-empty, no white space, only known templates.
pub fn check_name(what: &'static str, value: &str) -> Result<(), NameError> {
    if value.is_empty() {
        return Err(NameError::Empty { what });
    }
    if value.chars().any(char::is_whitespace) {
        return Err(NameError::Whitespace {
            what,
            value: value.to_string(),
        });
    }
    if let Some(template) = unknown_template(value) {
        return Err(NameError::Template {
            what,
            value: value.to_string(),
            template,
        });
    }
    Ok(())
}

/// The first `{{...}}` (or stray `{{`/`}}`) in `value` that is not a known template.
pub fn unknown_template(value: &str) -> Option<String> {
    // Byte scans: names are short, and this runs for every username and group read, where a
    // substring searcher's set-up costs more than the scan.
    let b = value.as_bytes();
    if !b.iter().any(|&c| c == b'{' || c == b'}') {
        return None;
    }
    let mut rest = 0;
    while let Some(open) = pair_at(&b[rest..], b'{').map(|i| rest + i) {
        match pair_at(&b[open..], b'}') {
            Some(close) => {
                let t = &value[open..open + close + 2];
                if !TEMPLATES.contains(&t) {
                    return Some(t.to_string());
                }
                rest = open + close + 2;
            }
            None => return Some(value[open..].to_string()),
        }
    }
    pair_at(&b[rest..], b'}').map(|_| "}}".to_string())
}

/// Where `cc` (the byte twice) first stands in `b`.
fn pair_at(b: &[u8], c: u8) -> Option<usize> {
    b.windows(2).position(|w| w[0] == c && w[1] == c)
}

/// One mapRoles or mapUsers entry, with any fields okscript does not know kept as they were.
/// Equality is about meaning: key order and an empty `groups` key do not count.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Role or user.
    pub kind: PrincipalKind,
    /// The ARN as written (empty for an entry that maps an SSO permission set by `sso`).
    pub arn: String,
    /// The Kubernetes username, when set.
    pub username: Option<String>,
    /// The Kubernetes groups, in order.
    pub groups: Vec<String>,
    /// Whether the entry had a `groups` key at all.
    pub has_groups_key: bool,
    /// Fields other than the ARN, username and groups: key as written, value as YAML.
    pub extra: Vec<(String, String)>,
    /// The order fields were written in; inline, not one more allocation per entry read.
    pub order: smallvec::SmallVec<[Field; 3]>,
}

/// A field of an entry, for keeping the order it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `rolearn` or `userarn`.
    Arn,
    /// `username`.
    Username,
    /// `groups`.
    Groups,
    /// The n-th of `extra`.
    Extra(usize),
}

impl PartialEq for Mapping {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.arn == other.arn
            && self.username == other.username
            && self.groups == other.groups
            && self.extra == other.extra
    }
}

impl Mapping {
    /// An entry with no fields yet, for a reader to fill in (`fields`: how many it has).
    pub fn empty(kind: PrincipalKind, fields: usize) -> Self {
        Mapping {
            kind,
            arn: String::new(),
            username: None,
            groups: Vec::new(),
            has_groups_key: false,
            extra: Vec::new(),
            order: smallvec::SmallVec::with_capacity(fields),
        }
    }

    /// A new entry with fields in okscript's order: ARN, username, groups.
    pub fn new(kind: PrincipalKind, arn: &str, username: Option<&str>, groups: &[String]) -> Self {
        Mapping {
            kind,
            arn: arn.to_string(),
            username: username.map(str::to_string),
            groups: groups.to_vec(),
            has_groups_key: true,
            extra: Vec::new(),
            order: smallvec::smallvec![Field::Arn, Field::Username, Field::Groups],
        }
    }

    /// The key the authenticator uses to match this entry to a caller.
    pub fn match_key(&self) -> String {
        arn::match_key(&self.arn)
    }

    /// True for node and Fargate roles, whose removal takes nodes down.
    pub fn is_node_role(&self) -> bool {
        self.groups.iter().any(|g| g == NODES)
    }

    /// True when the entry grants `system:masters`.
    pub fn is_admin(&self) -> bool {
        self.groups.iter().any(|g| g == MASTERS)
    }

    /// True when the entry would be matched by no caller because its role ARN has a path.
    pub fn has_role_path(&self) -> bool {
        self.kind == PrincipalKind::Role
            && arn::parse_folded(&self.arn).is_ok_and(|p| p.has_role_path())
    }

    /// The fields in the order to write them: as read, with known keys the entry lacks
    /// after their predecessor in ARN, username, groups order.
    fn write_order(&self) -> smallvec::SmallVec<[Field; 3]> {
        let mut order = self.order.clone();
        let canonical = [Field::Arn, Field::Username, Field::Groups];
        for (i, key) in canonical.iter().enumerate() {
            if !order.contains(key) {
                let at = canonical[..i]
                    .iter()
                    .rev()
                    .find_map(|prev| order.iter().position(|k| k == prev))
                    .map_or(0, |p| p + 1);
                order.insert(at, *key);
            }
        }
        order
    }

    /// Renders the entry as a flow mapping (`{rolearn: "...", groups: ["..."]}`) for a
    /// section written as a flow sequence; values are double-quoted, as flow context needs.
    pub fn render_flow(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for field in self.write_order() {
            match field {
                Field::Arn if self.arn.is_empty() => {}
                Field::Arn => parts.push(format!(
                    "{}: {}",
                    arn_key(self.kind),
                    yaml::double_quoted(&self.arn)
                )),
                Field::Username => {
                    if let Some(u) = &self.username {
                        parts.push(format!("username: {}", yaml::double_quoted(u)));
                    }
                }
                Field::Groups if self.groups.is_empty() && !self.has_groups_key => {}
                Field::Groups => {
                    let groups: Vec<String> =
                        self.groups.iter().map(|g| yaml::double_quoted(g)).collect();
                    parts.push(format!("groups: [{}]", groups.join(", ")));
                }
                Field::Extra(i) => {
                    if let Some((k, v)) = self.extra.get(i) {
                        parts.push(format!("{}: {v}", yaml::double_quoted(k)));
                    }
                }
            }
        }
        format!("{{{}}}", parts.join(", "))
    }

    /// Renders the entry as a block sequence item whose dash stands at column `indent`.
    pub fn render(&self, indent: usize) -> String {
        let pad = " ".repeat(indent);
        let mut out = String::new();
        let mut first = true;
        for field in self.write_order() {
            let line = match field {
                Field::Arn if self.arn.is_empty() => continue,
                Field::Arn => format!("{}: {}\n", arn_key(self.kind), yaml::scalar(&self.arn)),
                Field::Username => match &self.username {
                    Some(u) => format!("username: {}\n", yaml::scalar(u)),
                    None => continue,
                },
                Field::Groups if self.groups.is_empty() => {
                    if self.has_groups_key {
                        "groups: []\n".to_string()
                    } else {
                        continue;
                    }
                }
                Field::Groups => {
                    let mut s = "groups:\n".to_string();
                    for g in &self.groups {
                        s.push_str(&format!("{pad}  - {}\n", yaml::scalar(g)));
                    }
                    s
                }
                Field::Extra(i) => match self.extra.get(i) {
                    Some((k, v)) => format!("{}: {v}\n", yaml::scalar(k)),
                    None => continue,
                },
            };
            out.push_str(&pad);
            out.push_str(if first { "- " } else { "  " });
            out.push_str(&line);
            first = false;
        }
        if first {
            out.push_str(&format!("{pad}- {{}}\n"));
        }
        out
    }
}

/// The ARN key of an entry of this kind.
pub fn arn_key(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::Role => "rolearn",
        PrincipalKind::User => "userarn",
    }
}

/// Adds `groups` to `into`, keeping order and skipping any already present.
pub fn union_groups(into: &mut Vec<String>, groups: &[String]) {
    for g in groups {
        if !into.contains(g) {
            into.push(g.clone());
        }
    }
}

#[cfg(test)]
mod tests {

    /// The substring-search version this replaced, as the oracle of the byte scan.
    fn unknown_template_by_find(value: &str) -> Option<String> {
        let mut rest = value;
        while let Some(open) = rest.find("{{") {
            let after = &rest[open..];
            match after.find("}}") {
                Some(close) => {
                    let t = &after[..close + 2];
                    if !TEMPLATES.contains(&t) {
                        return Some(t.to_string());
                    }
                    rest = &after[close + 2..];
                }
                None => return Some(after.to_string()),
            }
        }
        rest.find("}}").map(|_| "}}".to_string())
    }

    proptest::proptest! {
        #[test]
        fn the_template_scan_agrees_with_substring_search(
            value in "([a-z:@-]|\\{|\\}|\\{\\{SessionName\\}\\}|\\{\\{AccountID\\}\\}|é){0,12}"
        ) {
            proptest::prop_assert_eq!(unknown_template(&value), unknown_template_by_find(&value));
        }
    }
    use super::*;

    #[test]
    fn names_follow_the_authenticator_rules() {
        assert!(check_name("username", "admin:{{SessionName}}").is_ok());
        assert!(check_name("username", "system:node:{{EC2PrivateDNSName}}").is_ok());
        assert!(check_name("group", "system:masters").is_ok());
        for t in TEMPLATES {
            assert!(check_name("username", &format!("u-{t}")).is_ok());
        }
        let bad = [
            ("", "is empty"),
            ("a b", "white space"),
            ("a\tb", "white space"),
            ("{{SessionNme}}", "{{SessionNme}}"),
            ("admin:{{SessionName}", "{{SessionName}"),
            ("admin}}", "}}"),
            ("{{sessionname}}", "{{sessionname}}"),
        ];
        for (value, want) in bad {
            let e = check_name("username", value).unwrap_err().to_string();
            assert!(e.contains(want), "{value:?}: {e}");
        }
    }

    #[test]
    fn union_keeps_order_and_skips_duplicates() {
        let mut g = vec!["a".to_string(), "b".to_string()];
        union_groups(&mut g, &["b".into(), "c".into(), "c".into()]);
        assert_eq!(g, ["a", "b", "c"]);
    }

    #[test]
    fn new_entries_render_in_arn_username_groups_order() {
        let m = Mapping::new(
            PrincipalKind::Role,
            "arn:aws:iam::123456789012:role/x",
            Some("x:{{SessionName}}"),
            &["system:masters".into()],
        );
        assert_eq!(
            m.render(0),
            "- rolearn: arn:aws:iam::123456789012:role/x\n  username: x:{{SessionName}}\n  groups:\n  - system:masters\n"
        );
        let m = Mapping::new(
            PrincipalKind::User,
            "arn:aws:iam::123456789012:user/u",
            Some("{{SessionName}}"),
            &[],
        );
        assert_eq!(
            m.render(2),
            "  - userarn: arn:aws:iam::123456789012:user/u\n    username: \"{{SessionName}}\"\n    groups: []\n"
        );
    }
}
