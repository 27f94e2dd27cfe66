//! The shipped scripts, compiled into the binary: `okscript run allow-sso` works with only the
//! binary installed. A name that is a file on disk (a path, or a team's fork in the current
//! folder) always wins over the bundled script of that name.

use std::path::Path;

/// The bundled scripts: name (without `.rhai`) and source.
pub const SCRIPTS: &[(&str, &str)] = &[
    ("allow-sso", include_str!("../../scripts/allow-sso.rhai")),
    (
        "configure-sso",
        include_str!("../../scripts/configure-sso.rhai"),
    ),
    ("demo", include_str!("../../scripts/demo.rhai")),
    ("grant-role", include_str!("../../scripts/grant-role.rhai")),
    ("grant-user", include_str!("../../scripts/grant-user.rhai")),
    ("lint", include_str!("../../scripts/lint.rhai")),
    ("list", include_str!("../../scripts/list.rhai")),
    (
        "migrate-to-access-entries",
        include_str!("../../scripts/migrate-to-access-entries.rhai"),
    ),
    ("onboard", include_str!("../../scripts/onboard.rhai")),
    ("revoke", include_str!("../../scripts/revoke.rhai")),
    ("verify", include_str!("../../scripts/verify.rhai")),
    ("whoami", include_str!("../../scripts/whoami.rhai")),
];

/// The bundled script `given` names, when it is a bare name (`allow-sso` or
/// `allow-sso.rhai`, no folder) and no such file exists.
pub fn lookup(given: &Path) -> Option<(&'static str, &'static str)> {
    if given.exists() || given.components().count() != 1 {
        return None;
    }
    let name = given.to_str()?;
    let name = name.strip_suffix(".rhai").unwrap_or(name);
    SCRIPTS.iter().find(|(n, _)| *n == name).copied()
}

/// The first comment paragraph of a script: what it is for, in one line.
pub fn summary(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("//") else {
            break;
        };
        let rest = rest.trim();
        if rest.is_empty() {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(rest);
    }
    match out.find(". ") {
        Some(i) if i > 20 => out[..=i].trim_end_matches(':').to_string(),
        _ => out,
    }
}

/// The starter script `okscript new NAME` writes: an inputs declaration, a grant, comments
/// that say what to change.
pub fn starter(name: &str) -> String {
    format!(
        r#"// {name}: what this script is for, in one line (shown by `okscript check`).
//
// Run it:
//   okscript run {name}.rhai --target file:aws-auth.yaml --set arn=ARN --dry-run
//   okscript run {name}.rhai --cluster my-cluster --set arn=ARN
// `okscript run {name}.rhai --help` lists the inputs below; `okscript fns` lists every function.

// The --set values this script takes: okscript refuses an unknown key (a typo) and a missing
// required one before anything runs. Forms: string, list, bool, int, arn, account.
let input = inputs(#{{
    arn: #{{required: true, form: "arn", help: "the IAM role to let in"}},
    groups: #{{required: true, form: "list", help: "Kubernetes groups, comma-separated (bind them with RBAC)"}},
    force: #{{fallback: false, help: "pass the guards (node roles, the last system:masters)"}},
}});

// Staged, not written yet: the end of a successful run writes everything at once, and a
// failing script writes nothing. Grants are idempotent: running it twice changes nothing.
let entry = grant_role(input.arn, input.groups, #{{force: input.force}});
print(`${{entry.arn}} -> username ${{entry.username}}, groups ${{entry.groups}}`);
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_name_finds_the_bundled_script_and_a_path_does_not() {
        assert_eq!(
            lookup(Path::new("allow-sso")).map(|s| s.0),
            Some("allow-sso")
        );
        assert_eq!(
            lookup(Path::new("allow-sso.rhai")).map(|s| s.0),
            Some("allow-sso")
        );
        assert_eq!(lookup(Path::new("./allow-sso.rhai")), None);
        assert_eq!(lookup(Path::new("team/allow-sso.rhai")), None);
        assert_eq!(lookup(Path::new("nonesuch")), None);
    }

    #[test]
    fn every_bundled_script_has_a_summary() {
        for (name, text) in SCRIPTS {
            let s = summary(text);
            assert!(s.len() > 10, "{name}: {s:?}");
        }
    }
}
