//! The SSO profile `configure_sso` writes into `~/.aws/config` (the runbook's `aws configure
//! sso`, without the questions): its checked values, and the planned edit of the file, pure;
//! every line okscript does not change stays byte for byte.

use crate::aws::config_file::{self, ConfigFile, Conflict, Edit, EditError, SectionId};

/// The SSO region of the okctl runbook ("note that the SSO region is eu-west-1").
pub const DEFAULT_SSO_REGION: &str = "eu-west-1";
/// The output format the runbook picks.
pub const DEFAULT_OUTPUT: &str = "json";
/// The scope the AWS CLI registers for an sso-session.
pub const REGISTRATION_SCOPE: &str = "sso:account:access";

/// Settings that give a profile credentials some other way; an SSO profile must not have them.
const OTHER_CREDENTIAL_KEYS: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "role_arn",
    "source_profile",
    "credential_source",
    "credential_process",
    "web_identity_token_file",
];

/// What `configure_sso` writes, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoProfileConfig {
    /// The profile name (`AWS_PROFILE`).
    pub profile: String,
    /// The sso-session name (the profile name unless given).
    pub session: String,
    /// `https://...awsapps.com/start/`.
    pub start_url: String,
    /// Where IAM Identity Center lives.
    pub sso_region: String,
    /// The 12-digit account.
    pub account_id: String,
    /// The permission set to sign in with.
    pub role_name: String,
    /// The CLI default region.
    pub region: String,
    /// The CLI output format.
    pub output: String,
    /// Overwrite other values.
    pub force: bool,
}

/// Whether `text` looks like an AWS region (`eu-west-1`).
pub fn is_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
}

/// Whether `text` can be a permission set (role) name.
pub fn is_role_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// What [`plan`] found: the new text (when it differs) and what changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The file's text after the change.
    pub text: String,
    /// The profile's edit.
    pub profile: Edit,
    /// The session's edit.
    pub session: Edit,
}

impl Plan {
    /// Whether anything changes.
    pub fn changed(&self) -> bool {
        !(self.profile.is_empty() && self.session.is_empty())
    }
}

/// Why [`plan`] refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// The existing file cannot be parsed.
    Parse(config_file::ParseError),
    /// The profile or session holds other values, and `force` was not given.
    Conflicts(Vec<Conflict>),
    /// Something okscript would not write.
    Invalid(String),
}

/// Plans the change to a config file's text (empty for a missing file). Pure.
pub fn plan(old: &str, want: &SsoProfileConfig) -> Result<Plan, PlanError> {
    let mut file = ConfigFile::parse(old).map_err(PlanError::Parse)?;
    let pid = SectionId::Profile(want.profile.clone());
    let sid = SectionId::SsoSession(want.session.clone());
    let mut pset = vec![
        ("sso_session", want.session.as_str()),
        ("sso_account_id", want.account_id.as_str()),
        ("sso_role_name", want.role_name.as_str()),
        ("region", want.region.as_str()),
        ("output", want.output.as_str()),
    ];
    // A profile still holding the legacy keys: the AWS CLI insists they match the session.
    if let Some(p) = file.section(&pid) {
        for (k, v) in [
            ("sso_start_url", want.start_url.as_str()),
            ("sso_region", want.sso_region.as_str()),
        ] {
            if p.get(k).is_some() {
                pset.push((k, v));
            }
        }
    }
    let mut sset = vec![
        ("sso_start_url", want.start_url.as_str()),
        ("sso_region", want.sso_region.as_str()),
    ];
    // Extra scopes are the user's business, as long as account access is among them.
    let has_scope = file
        .section(&sid)
        .and_then(|s| s.get("sso_registration_scopes"))
        .is_some_and(|v| v.split(',').any(|s| s.trim() == REGISTRATION_SCOPE));
    if !has_scope {
        sset.push(("sso_registration_scopes", REGISTRATION_SCOPE));
    }
    let mut conflicts = Vec::new();
    let mut edit =
        |file: &mut ConfigFile, id: &SectionId, set: &[(&str, &str)], absent: &[&str]| match file
            .upsert(id, set, absent, want.force)
        {
            Ok(e) => Ok(e),
            Err(EditError::Conflicts(c)) => {
                conflicts.extend(c);
                Ok(Edit::default())
            }
            Err(e) => Err(PlanError::Invalid(e.to_string())),
        };
    let profile = edit(&mut file, &pid, &pset, OTHER_CREDENTIAL_KEYS)?;
    let session = edit(&mut file, &sid, &sset, &[])?;
    if !conflicts.is_empty() {
        return Err(PlanError::Conflicts(conflicts));
    }
    Ok(Plan {
        text: file.render(),
        profile,
        session,
    })
}

/// Values of keys that may hold secrets are never shown.
pub fn shown(key: &str, value: &str) -> String {
    let k = key.to_ascii_lowercase();
    if k.contains("secret") || k.contains("session_token") {
        "(hidden)".into()
    } else {
        format!("{value:?}")
    }
}

/// One conflict as a line of the refusal (secret values hidden).
pub fn conflict_line(c: &Conflict) -> String {
    match &c.new {
        Some(new) => format!(
            "  {} {}: {} in the file, {} wanted",
            c.section,
            c.key,
            shown(&c.key, &c.old),
            shown(&c.key, new)
        ),
        None => format!(
            "  {} {}: {} in the file, but an SSO profile must not set it",
            c.section,
            c.key,
            shown(&c.key, &c.old)
        ),
    }
}

/// A unified diff of the file, secret values hidden.
pub fn diff(file: &str, old: &str, new: &str) -> String {
    let text = similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .missing_newline_hint(false)
        .header(&format!("a/{file}"), &format!("b/{file}"))
        .to_string();
    let mut out: String = text
        .split_inclusive('\n')
        .map(|line| {
            let body = line.get(1..).unwrap_or("");
            match body.split_once(['=', ':']) {
                Some((k, _))
                    if !line.starts_with("---")
                        && !line.starts_with("+++")
                        && shown(k.trim(), "") == "(hidden)" =>
                {
                    let end = if line.ends_with('\n') { "\n" } else { "" };
                    format!("{}{} = (hidden){end}", &line[..1], k.trim_end())
                }
                _ => line.to_string(),
            }
        })
        .collect();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// What an edit of one section does (`done`: in the past tense), or `None` for no change.
pub fn describe(id: &SectionId, e: &Edit, done: bool) -> Option<String> {
    let [add, overwrite, remove] = if done {
        ["added", "overwrote", "removed"]
    } else {
        ["add", "overwrite", "remove"]
    };
    if e.is_empty() {
        return None;
    }
    if e.created {
        return Some(format!("{add} {id}"));
    }
    let keys = |c: &[Conflict]| {
        c.iter()
            .map(|c| c.key.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if !e.added.is_empty() {
        parts.push(format!("{add} {}", e.added.join(", ")));
    }
    if !e.replaced.is_empty() {
        parts.push(format!("{overwrite} {}", keys(&e.replaced)));
    }
    if !e.removed.is_empty() {
        parts.push(format!("{remove} {}", keys(&e.removed)));
    }
    Some(format!("{} in {id}", parts.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want() -> SsoProfileConfig {
        SsoProfileConfig {
            profile: "myprofile".into(),
            session: "myprofile".into(),
            start_url: "https://osloorigo.awsapps.com/start/".into(),
            sso_region: "eu-west-1".into(),
            account_id: "123456789012".into(),
            role_name: "AWSAdministratorAccess".into(),
            region: "eu-north-1".into(),
            output: "json".into(),
            force: false,
        }
    }

    const WRITTEN: &str = "[profile myprofile]\nsso_session = myprofile\nsso_account_id = 123456789012\nsso_role_name = AWSAdministratorAccess\nregion = eu-north-1\noutput = json\n\n[sso-session myprofile]\nsso_start_url = https://osloorigo.awsapps.com/start/\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n";

    #[test]
    fn a_new_file_gets_the_profile_and_its_session_and_a_second_plan_changes_nothing() {
        let p = plan("", &want()).unwrap();
        assert_eq!(p.text, WRITTEN);
        let again = plan(&p.text, &want()).unwrap();
        assert!(!again.changed());
        assert_eq!(again.text, WRITTEN);
    }

    #[test]
    fn extra_scopes_are_kept_and_legacy_keys_must_match() {
        let text = WRITTEN.replace(
            "sso:account:access",
            "sso:account:access, codewhisperer:completions",
        );
        assert!(!plan(&text, &want()).unwrap().changed());
        let legacy = WRITTEN.replace(
            "output = json\n",
            "output = json\nsso_start_url = https://other.awsapps.com/start\n",
        );
        let Err(PlanError::Conflicts(c)) = plan(&legacy, &want()) else {
            panic!("legacy start URL accepted")
        };
        assert_eq!(c[0].key, "sso_start_url");
    }

    #[test]
    fn other_credentials_in_the_profile_are_conflicts_and_secrets_are_never_shown() {
        let text = "[profile myprofile]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s3cr3t\n";
        let Err(PlanError::Conflicts(c)) = plan(text, &want()) else {
            panic!("keys accepted")
        };
        let lines: Vec<String> = c.iter().map(conflict_line).collect();
        assert!(lines.iter().all(|l| !l.contains("s3cr3t")), "{lines:?}");
        let forced = plan(
            text,
            &SsoProfileConfig {
                force: true,
                ..want()
            },
        )
        .unwrap();
        assert!(!forced.text.contains("aws_secret_access_key"));
        let d = diff("config", text, &forced.text);
        assert!(
            !d.contains("s3cr3t") && d.contains("-aws_secret_access_key = (hidden)"),
            "{d}"
        );
    }
}
