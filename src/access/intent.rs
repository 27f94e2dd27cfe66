//! What a script asked for: validated, canonical intents that can be replayed on any later
//! state of aws-auth (after a conflict) and give the same end state. Pure: no I/O.

use super::arn::{self, ArnError, PrincipalKind};
use super::entry::{check_name, NameError};

/// One change a script asked for. ARNs are canonical; names and groups are validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// Ensure one entry for the principal with at least these groups (and this username).
    Grant {
        /// Role or user.
        kind: PrincipalKind,
        /// Canonical ARN (role paths stripped).
        arn: String,
        /// Groups to have (union with what is there).
        groups: Vec<String>,
        /// Username to set; `None` keeps the existing one or uses the default for new roles.
        username: Option<String>,
        /// Whether `groups` is the whole list (extra groups are removed; none removes the
        /// entry), so that a re-run detects drift.
        exact: bool,
        /// Whether guards may be passed.
        force: bool,
    },
    /// Remove the principal's entries, or only some of its groups.
    Revoke {
        /// Role or user.
        kind: PrincipalKind,
        /// Canonical ARN.
        arn: String,
        /// `None` removes every entry for the principal; `Some` removes only these groups.
        groups: Option<Vec<String>>,
        /// Whether guards may be passed.
        force: bool,
    },
    /// A team: exactly these principals of `kind` hold `group`. Listed ones get it (new
    /// entries as a grant makes them); unlisted ones lose it, and their entry when it was
    /// their last group.
    Members {
        /// Role or user: principals of the other kind are left alone.
        kind: PrincipalKind,
        /// The team's Kubernetes group.
        group: String,
        /// Canonical ARNs of the members, without repeats.
        members: Vec<String>,
        /// Whether guards may be passed.
        force: bool,
    },
    /// Ensure a mapAccounts entry.
    GrantAccount {
        /// Twelve-digit account id.
        account: String,
        /// Whether guards may be passed.
        force: bool,
    },
    /// Remove a mapAccounts entry.
    RevokeAccount {
        /// Twelve-digit account id.
        account: String,
        /// Whether guards may be passed.
        force: bool,
    },
}

/// Why a requested change is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntentError {
    /// The ARN is unusable.
    #[error(transparent)]
    Arn(#[from] ArnError),
    /// A username or group is unusable.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The account id is not twelve digits.
    #[error("`{0}` is not an AWS account id: it must be exactly 12 digits (quote it, so that leading zeros survive)")]
    Account(String),
}

/// A note to show the user about how an input was understood.
pub type Note = String;

fn check_groups(groups: &[String]) -> Result<Vec<String>, IntentError> {
    let mut out: Vec<String> = Vec::new();
    for g in groups {
        check_name("group", g)?;
        if !out.contains(g) {
            out.push(g.clone());
        }
    }
    Ok(out)
}

/// The canonical ARN of a principal of `kind`, with a note when it was rewritten.
pub fn canonical(kind: PrincipalKind, text: &str) -> Result<(String, Option<Note>), IntentError> {
    match kind {
        PrincipalKind::Role => {
            let r = arn::role_arn(text)?;
            let note = if let Some(path) = &r.stripped_path {
                Some(format!(
                    "`{}` has the path `{path}`; EKS never matches a role ARN with a path, so okscript maps `{}`",
                    text.trim(),
                    r.arn
                ))
            } else {
                r.from_session.as_ref().map(|s| {
                    format!(
                        "`{}` is an STS session (`{s}`); okscript maps its role `{}`",
                        text.trim(),
                        r.arn
                    )
                })
            };
            Ok((r.arn, note))
        }
        PrincipalKind::User => Ok((arn::user_arn(text)?.canonical(), None)),
    }
}

impl Intent {
    /// Whether the intent may pass guards.
    pub fn force(&self) -> bool {
        match self {
            Intent::Grant { force, .. }
            | Intent::Revoke { force, .. }
            | Intent::Members { force, .. }
            | Intent::GrantAccount { force, .. }
            | Intent::RevokeAccount { force, .. } => *force,
        }
    }

    /// A grant for a role (`username` optional) or a user (`username` required by the API).
    pub fn grant(
        kind: PrincipalKind,
        arn_text: &str,
        groups: &[String],
        username: Option<&str>,
        force: bool,
    ) -> Result<(Intent, Option<Note>), IntentError> {
        Intent::grant_with(kind, arn_text, groups, username, false, force)
    }

    /// A grant that is `exact` or not: an exact one states the principal's whole group list.
    pub fn grant_with(
        kind: PrincipalKind,
        arn_text: &str,
        groups: &[String],
        username: Option<&str>,
        exact: bool,
        force: bool,
    ) -> Result<(Intent, Option<Note>), IntentError> {
        let (arn, note) = canonical(kind, arn_text)?;
        if let Some(u) = username {
            check_name("username", u)?;
        }
        Ok((
            Intent::Grant {
                kind,
                arn,
                groups: check_groups(groups)?,
                username: username.map(str::to_string),
                exact,
                force,
            },
            note,
        ))
    }

    /// The team form: exactly `members` (ARNs of `kind`) hold `group`; notes say how ARNs
    /// were made canonical.
    pub fn members(
        kind: PrincipalKind,
        group: &str,
        members: &[String],
        force: bool,
    ) -> Result<(Intent, Vec<Note>), IntentError> {
        check_name("group", group)?;
        let mut arns: Vec<String> = Vec::new();
        let mut notes = Vec::new();
        for text in members {
            let (arn, note) = canonical(kind, text)?;
            notes.extend(note);
            if !arns
                .iter()
                .any(|a| arn::match_key(a) == arn::match_key(&arn))
            {
                arns.push(arn);
            }
        }
        Ok((
            Intent::Members {
                kind,
                group: group.to_string(),
                members: arns,
                force,
            },
            notes,
        ))
    }

    /// A revoke of every entry for a principal, or of some groups only.
    pub fn revoke(
        kind: PrincipalKind,
        arn_text: &str,
        groups: Option<&[String]>,
        force: bool,
    ) -> Result<(Intent, Option<Note>), IntentError> {
        let (arn, note) = canonical(kind, arn_text)?;
        let groups = groups.map(check_groups).transpose()?;
        Ok((
            Intent::Revoke {
                kind,
                arn,
                groups,
                force,
            },
            note,
        ))
    }

    /// A mapAccounts grant or revoke.
    pub fn account(account: &str, grant: bool, force: bool) -> Result<Intent, IntentError> {
        let account = account.trim();
        if !arn::is_account_id(account) {
            return Err(IntentError::Account(account.to_string()));
        }
        let account = account.to_string();
        Ok(if grant {
            Intent::GrantAccount { account, force }
        } else {
            Intent::RevokeAccount { account, force }
        })
    }
}
