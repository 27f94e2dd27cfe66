//! IAM principal ARNs as the EKS authenticator sees them: parsing, validation and the
//! canonical, path-less form that `mapRoles` needs. Pure: no I/O.

use std::fmt;

/// The AWS partitions whose IAM ARNs okscript accepts.
pub const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// Why a string is not a usable principal ARN; each message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    /// The text does not have the `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` shape.
    #[error("`{arn}` is not an ARN: expected arn:aws:iam::ACCOUNT:role/NAME or arn:aws:iam::ACCOUNT:user/NAME")]
    Shape {
        /// The rejected text.
        arn: String,
    },
    /// The partition is not one AWS has.
    #[error("`{arn}`: unknown partition `{partition}` (expected one of {})", PARTITIONS.join(", "))]
    Partition {
        /// The rejected ARN.
        arn: String,
        /// The partition found.
        partition: String,
    },
    /// The account is not twelve digits.
    #[error("`{arn}`: the account must be 12 digits, found `{account}`")]
    Account {
        /// The rejected ARN.
        arn: String,
        /// The account found.
        account: String,
    },
    /// The ARN is not an IAM role, IAM user or STS assumed-role ARN.
    #[error("`{arn}` is not an IAM role or user: EKS maps only `iam::ACCOUNT:role/NAME`, `iam::ACCOUNT:user/NAME` and STS `assumed-role/NAME/SESSION` ARNs")]
    NotPrincipal {
        /// The rejected ARN.
        arn: String,
    },
    /// The role, user or session name has characters IAM does not allow, or is too long.
    #[error(
        "`{arn}`: `{name}` is not a valid IAM {what} name (1-64 of letters, digits and +=,.@_-)"
    )]
    Name {
        /// The rejected ARN.
        arn: String,
        /// Which kind of name.
        what: &'static str,
        /// The name found.
        name: String,
    },
    /// The path between `role/` or `user/` and the name is malformed.
    #[error("`{arn}`: the IAM path `{path}` is malformed (it must start and end with `/` and hold printable ASCII)")]
    Path {
        /// The rejected ARN.
        arn: String,
        /// The path found.
        path: String,
    },
    /// A role ARN was given where a user ARN is needed, or the other way round.
    #[error("`{arn}` is an IAM {found} ARN, but this needs an IAM {wanted} ARN")]
    WrongKind {
        /// The rejected ARN.
        arn: String,
        /// What the ARN is.
        found: &'static str,
        /// What the caller needs.
        wanted: &'static str,
    },
}

/// Whether a principal is an IAM role or an IAM user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// An IAM role (or an STS session of one).
    Role,
    /// An IAM user.
    User,
}

impl PrincipalKind {
    /// The word for this kind in messages and in `mappings()`.
    pub fn word(self) -> &'static str {
        match self {
            PrincipalKind::Role => "role",
            PrincipalKind::User => "user",
        }
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// A parsed IAM principal ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Role or user.
    pub kind: PrincipalKind,
    /// `aws`, `aws-cn`, ...
    pub partition: String,
    /// The twelve-digit account.
    pub account: String,
    /// The IAM path, `/` when there is none; for an STS session, `/` (STS never shows it).
    pub path: String,
    /// The role or user name.
    pub name: String,
    /// The STS session name when the ARN was an assumed-role ARN.
    pub session: Option<String>,
}

impl Principal {
    /// The ARN the EKS authenticator matches: roles without their path, users as they are.
    pub fn canonical(&self) -> String {
        match self.kind {
            PrincipalKind::Role => {
                format!(
                    "arn:{}:iam::{}:role/{}",
                    self.partition, self.account, self.name
                )
            }
            PrincipalKind::User => format!(
                "arn:{}:iam::{}:user{}{}",
                self.partition, self.account, self.path, self.name
            ),
        }
    }

    /// True when the original ARN had a role path that the authenticator would never match.
    pub fn has_role_path(&self) -> bool {
        self.kind == PrincipalKind::Role && self.path != "/"
    }
}

/// A canonical role ARN plus what was done to get it, for notes in the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalRole {
    /// `arn:PARTITION:iam::ACCOUNT:role/NAME`.
    pub arn: String,
    /// The path that was removed, when there was one.
    pub stripped_path: Option<String>,
    /// The STS session name, when an assumed-role ARN was turned into its role.
    pub from_session: Option<String>,
}

fn valid_name(name: &str, max: usize) -> bool {
    // Bytes, not chars: every allowed character is ASCII, and any byte of another character
    // is refused alike; a `contains` per character costs a search (this runs for every ARN
    // read, twice).
    !name.is_empty() && name.len() <= max && name.bytes().all(|b| NAME_BYTES[usize::from(b)])
}

/// The bytes an IAM name may hold, as a table: one load per byte instead of a chain of tests.
static NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(c, b'+' | b'=' | b',' | b'.' | b'@' | b'_' | b'-');
        b += 1;
    }
    table
};

fn valid_path(path: &str) -> bool {
    path.starts_with('/')
        && path.ends_with('/')
        && path.len() <= 512
        && !path.contains("//")
        && path.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// Parses an IAM role, IAM user or STS assumed-role ARN. Surrounding white space is ignored.
pub fn parse_principal(text: &str) -> Result<Principal, ArnError> {
    let arn = text.trim();
    let owned = || arn.to_string();
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return Err(ArnError::Shape { arn: owned() });
    }
    let (partition, service, region, account, resource) =
        (parts[1], parts[2], parts[3], parts[4], parts[5]);
    if !PARTITIONS.contains(&partition) {
        return Err(ArnError::Partition {
            arn: owned(),
            partition: partition.to_string(),
        });
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ArnError::Account {
            arn: owned(),
            account: account.to_string(),
        });
    }
    if !region.is_empty() {
        return Err(ArnError::NotPrincipal { arn: owned() });
    }
    let (kind, rest, session) = match service {
        "iam" => {
            if let Some(rest) = resource.strip_prefix("role/") {
                (PrincipalKind::Role, rest, None)
            } else if let Some(rest) = resource.strip_prefix("user/") {
                (PrincipalKind::User, rest, None)
            } else {
                return Err(ArnError::NotPrincipal { arn: owned() });
            }
        }
        "sts" => {
            let rest = resource
                .strip_prefix("assumed-role/")
                .ok_or_else(|| ArnError::NotPrincipal { arn: owned() })?;
            let (role, session) = rest
                .split_once('/')
                .ok_or_else(|| ArnError::Shape { arn: owned() })?;
            if !valid_name(session, 64) || session.contains('/') {
                return Err(ArnError::Name {
                    arn: owned(),
                    what: "session",
                    name: session.to_string(),
                });
            }
            (PrincipalKind::Role, role, Some(session.to_string()))
        }
        _ => return Err(ArnError::NotPrincipal { arn: owned() }),
    };
    let (path, name) = match rest.rfind('/') {
        Some(i) => (format!("/{}", &rest[..=i]), &rest[i + 1..]),
        None => ("/".to_string(), rest),
    };
    if session.is_some() && path != "/" {
        return Err(ArnError::Shape { arn: owned() });
    }
    if path != "/" && !valid_path(&path) {
        return Err(ArnError::Path { arn: owned(), path });
    }
    if !valid_name(name, 64) {
        return Err(ArnError::Name {
            arn: owned(),
            what: kind.word(),
            name: name.to_string(),
        });
    }
    Ok(Principal {
        kind,
        partition: partition.to_string(),
        account: account.to_string(),
        path,
        name: name.to_string(),
        session,
    })
}

/// The canonical path-less role ARN for a role ARN (with or without a path) or an STS
/// assumed-role ARN; an error for anything else.
pub fn role_arn(text: &str) -> Result<CanonicalRole, ArnError> {
    let p = parse_principal(text)?;
    if p.kind != PrincipalKind::Role {
        return Err(ArnError::WrongKind {
            arn: text.trim().to_string(),
            found: "user",
            wanted: "role",
        });
    }
    Ok(CanonicalRole {
        arn: p.canonical(),
        stripped_path: p.has_role_path().then(|| p.path.clone()),
        from_session: p.session.clone(),
    })
}

/// Parses an IAM user ARN (its path is kept: STS reports users with their path).
pub fn user_arn(text: &str) -> Result<Principal, ArnError> {
    let p = parse_principal(text)?;
    if p.kind != PrincipalKind::User {
        return Err(ArnError::WrongKind {
            arn: text.trim().to_string(),
            found: "role",
            wanted: "user",
        });
    }
    Ok(p)
}

/// Parses an ARN the way the authenticator compares one, ignoring case: an entry written
/// `ARN:AWS:IAM::...:ROLE/NAME` matches that role, so it is that principal here too.
pub fn parse_folded(text: &str) -> Result<Principal, ArnError> {
    parse_principal(text).or_else(|e| parse_principal(&text.to_ascii_lowercase()).map_err(|_| e))
}

/// Whether the authenticator matches an entry whose ARN is written `entry_arn` to the caller
/// whose canonical ARN is `canonical`: it compares the text, ignoring case, and nothing more
/// (a role path or an STS session ARN in an entry never matches).
pub fn authenticator_matches(entry_arn: &str, canonical: &str) -> bool {
    entry_arn.eq_ignore_ascii_case(canonical)
}

/// The key two ARNs share when the authenticator treats them as one principal: the
/// canonical form, lower-cased (it compares with EqualFold). Unparseable text keys as itself.
pub fn match_key(text: &str) -> String {
    // Nearly every aws-auth ARN is already canonical and path-less; its key is its
    // lower-cased text, without building a `Principal` (this runs for every entry read).
    canonical_key(text).unwrap_or_else(|| parsed_key(text))
}

/// [`match_key`] the long way, by parsing the ARN (the property tests compare the two).
pub(crate) fn parsed_key(text: &str) -> String {
    match parse_folded(text) {
        Ok(p) => p.canonical().to_lowercase(),
        Err(_) => text.trim().to_lowercase(),
    }
}

/// [`match_key`] of an ARN that is already in canonical form without a path
/// (`arn:P:iam::ACCOUNT:role/NAME` or `.../user/NAME`, any case); `None` for anything else.
fn canonical_key(text: &str) -> Option<String> {
    canonical_parts(text).map(|_| text.to_ascii_lowercase())
}

/// The kind and account of an ARN already in canonical form without a path
/// (`arn:P:iam::ACCOUNT:role/NAME` or `.../user/NAME`, any case), read without building a
/// [`Principal`]: what the linter and `mappings()` need of nearly every entry. `None` for
/// anything else, which then takes the full parse.
pub fn canonical_parts(text: &str) -> Option<(PrincipalKind, &str)> {
    let rest = text
        .strip_prefix("arn:")
        .or_else(|| text.strip_prefix("ARN:"))?;
    let (partition, rest) = split_at_byte(rest, b':')?;
    let rest = rest
        .strip_prefix("iam::")
        .or_else(|| rest.strip_prefix("IAM::"))?;
    let (account, resource) = split_at_byte(rest, b':')?;
    let (kind, name) = split_at_byte(resource, b'/')?;
    let kind = if kind.eq_ignore_ascii_case("role") {
        PrincipalKind::Role
    } else if kind.eq_ignore_ascii_case("user") {
        PrincipalKind::User
    } else {
        return None;
    };
    // Nearly every ARN is in `aws`: that one is checked before the list.
    let known_partition =
        partition == "aws" || PARTITIONS.iter().any(|p| p.eq_ignore_ascii_case(partition));
    (known_partition && is_account_id(account) && valid_name(name, 64)).then_some((kind, account))
}

/// `str::split_once` for an ASCII byte. A plain loop: the parts of an ARN before the byte
/// sought are a few bytes long, where a `char` pattern's searcher or a memchr call costs more
/// to set up than the scan (this runs several times for every entry read).
fn split_at_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    debug_assert!(b.is_ascii());
    let i = s.bytes().position(|c| c == b)?;
    Some((&s[..i], &s[i + 1..]))
}

/// True when `account` is exactly twelve ASCII digits.
pub fn is_account_id(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

// ---- Any ARN, and the canonical forms of both mechanisms (the AWS layer's one truth) ----

/// The six parts of an ARN, `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArnParts<'a> {
    /// `aws`, `aws-cn`, ...
    pub partition: &'a str,
    /// `iam`, `sts`, `eks`, ...
    pub service: &'a str,
    /// Empty for IAM and STS.
    pub region: &'a str,
    /// The twelve-digit account.
    pub account: &'a str,
    /// What follows the account (`role/NAME`, `cluster/NAME`, `root`).
    pub resource: &'a str,
}

/// Splits any ARN, not only a principal's: a known partition, a twelve-digit account and a
/// resource are required.
pub fn split(text: &str) -> Result<ArnParts<'_>, ArnError> {
    let shape = || ArnError::Shape {
        arn: text.to_string(),
    };
    let mut parts = text.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(shape());
    };
    if !PARTITIONS.contains(&partition) {
        return Err(ArnError::Partition {
            arn: text.to_string(),
            partition: partition.to_string(),
        });
    }
    if !is_account_id(account) {
        return Err(ArnError::Account {
            arn: text.to_string(),
            account: account.to_string(),
        });
    }
    if resource.is_empty() {
        return Err(shape());
    }
    Ok(ArnParts {
        partition,
        service,
        region,
        account,
        resource,
    })
}

/// The principal behind a caller's ARN (STS GetCallerIdentity's answer), as the EKS
/// authenticator matches it: an assumed-role session becomes its role without a path (STS
/// never shows one); IAM users (paths kept), roles, the account root and federated users
/// stay as they are.
pub fn caller_principal(text: &str) -> Result<String, ArnError> {
    let a = split(text)?;
    let not_principal = || ArnError::NotPrincipal {
        arn: text.to_string(),
    };
    match a.service {
        "sts" => {
            if let Some(rest) = a.resource.strip_prefix("assumed-role/") {
                match rest.split_once('/') {
                    Some((role, session)) if !role.is_empty() && !session.is_empty() => Ok(
                        format!("arn:{}:iam::{}:role/{role}", a.partition, a.account),
                    ),
                    _ => Err(ArnError::Shape {
                        arn: text.to_string(),
                    }),
                }
            } else if a.resource.starts_with("federated-user/") {
                Ok(text.to_string())
            } else {
                Err(not_principal())
            }
        }
        "iam"
            if a.resource == "root"
                || a.resource.starts_with("user/")
                || a.resource.starts_with("role/") =>
        {
            Ok(text.to_string())
        }
        _ => Err(not_principal()),
    }
}

/// The aws-auth form of an IAM role ARN: `arn:P:iam::A:role/NAME`, its path dropped (a
/// `mapRoles` entry with a path never matches). Only IAM role ARNs are accepted.
pub fn role_without_path(text: &str) -> Result<String, ArnError> {
    let p = parse_principal(text)?;
    if p.kind != PrincipalKind::Role || p.session.is_some() {
        return Err(ArnError::WrongKind {
            arn: text.trim().to_string(),
            found: if p.kind == PrincipalKind::User {
                "user"
            } else {
                "STS session"
            },
            wanted: "role",
        });
    }
    Ok(p.canonical())
}

impl Principal {
    /// The ARN with its IAM path, the form EKS access entries take (`role/PATH/NAME`); for an
    /// STS session, whose role path STS never shows, the path-less role.
    pub fn with_path(&self) -> String {
        format!(
            "arn:{}:iam::{}:{}{}{}",
            self.partition,
            self.account,
            self.kind.word(),
            self.path,
            self.name
        )
    }
}

#[cfg(test)]
mod forms_tests {
    use super::*;

    #[test]
    fn any_arn_splits_and_a_caller_becomes_its_principal() {
        let a = split("arn:aws:eks:eu-west-1:123456789012:cluster/prod").unwrap();
        assert_eq!(
            (a.service, a.region, a.resource),
            ("eks", "eu-west-1", "cluster/prod")
        );
        assert!(matches!(
            split("arn:aws:iam::1234:user/x"),
            Err(ArnError::Account { .. })
        ));
        assert!(matches!(
            split("arn:nope:iam::123456789012:user/x"),
            Err(ArnError::Partition { .. })
        ));
        assert!(matches!(
            split("arn:aws:iam::123456789012:"),
            Err(ArnError::Shape { .. })
        ));
        assert_eq!(
            caller_principal("arn:aws:sts::123456789012:assumed-role/Admin/alice").unwrap(),
            "arn:aws:iam::123456789012:role/Admin"
        );
        for same in [
            "arn:aws:iam::123456789012:user/dev/alice",
            "arn:aws:iam::123456789012:root",
            "arn:aws:sts::123456789012:federated-user/bob",
        ] {
            assert_eq!(caller_principal(same).unwrap(), same);
        }
        assert!(caller_principal("arn:aws:sts::123456789012:assumed-role/Admin").is_err());
        assert!(caller_principal("arn:aws:s3:::bucket").is_err());
    }

    #[test]
    fn both_canonical_forms_of_a_role_with_a_path() {
        let text = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef";
        let p = parse_principal(text).unwrap();
        // aws-auth: the path never matches; access entries: the full ARN.
        assert_eq!(
            p.canonical(),
            "arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0123456789abcdef"
        );
        assert_eq!(p.with_path(), text);
        assert_eq!(role_without_path(text).unwrap(), p.canonical());
        assert!(role_without_path("arn:aws:iam::123456789012:user/x").is_err());
        assert!(role_without_path("arn:aws:sts::123456789012:assumed-role/A/s").is_err());
        let u = parse_principal("arn:aws:iam::123456789012:user/dev/alice").unwrap();
        assert_eq!(u.with_path(), u.canonical());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_role_is_its_own_canonical_form() {
        let r = role_arn("arn:aws:iam::123456789012:role/admin").unwrap();
        assert_eq!(r.arn, "arn:aws:iam::123456789012:role/admin");
        assert_eq!(r.stripped_path, None);
        assert_eq!(r.from_session, None);
    }

    #[test]
    fn sso_role_path_is_stripped() {
        let r = role_arn("arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef").unwrap();
        assert_eq!(
            r.arn,
            "arn:aws:iam::123456789012:role/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef"
        );
        assert_eq!(
            r.stripped_path.as_deref(),
            Some("/aws-reserved/sso.amazonaws.com/eu-west-1/")
        );
    }

    #[test]
    fn assumed_role_becomes_its_role() {
        let r = role_arn("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_ReadOnly_fedcba9876543210/someone@email.com").unwrap();
        assert_eq!(
            r.arn,
            "arn:aws:iam::123456789012:role/AWSReservedSSO_ReadOnly_fedcba9876543210"
        );
        assert_eq!(r.from_session.as_deref(), Some("someone@email.com"));
    }

    #[test]
    fn every_partition_is_accepted() {
        for p in PARTITIONS {
            let arn = format!("arn:{p}:iam::123456789012:role/x");
            assert_eq!(role_arn(&arn).unwrap().arn, arn);
        }
    }

    #[test]
    fn user_paths_are_kept() {
        let u = user_arn("arn:aws:iam::123456789012:user/division/team/bob").unwrap();
        assert_eq!(
            u.canonical(),
            "arn:aws:iam::123456789012:user/division/team/bob"
        );
        assert_eq!(u.path, "/division/team/");
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        assert!(role_arn("  arn:aws:iam::123456789012:role/x\n").is_ok());
    }

    #[test]
    fn bad_inputs_are_rejected_with_the_reason() {
        let cases: &[(&str, &str)] = &[
            ("", "is not an ARN"),
            ("admin", "is not an ARN"),
            ("arn:aws:iam::123456789012", "is not an ARN"),
            ("arn:aws:iam::12345678901:role/x", "12 digits"),
            ("arn:aws:iam::12345 678901:role/x", "12 digits"),
            ("arn:aws:iam::1234567890123:role/x", "12 digits"),
            ("arn:awz:iam::123456789012:role/x", "unknown partition"),
            ("arn:aws:s3:::bucket", "12 digits"),
            ("arn:aws:s3::123456789012:bucket", "not an IAM role or user"),
            (
                "arn:aws:iam::123456789012:group/devs",
                "not an IAM role or user",
            ),
            (
                "arn:aws:iam:eu-west-1:123456789012:role/x",
                "not an IAM role or user",
            ),
            (
                "arn:aws:iam::123456789012:role/",
                "not a valid IAM role name",
            ),
            (
                "arn:aws:iam::123456789012:role/has space",
                "not a valid IAM role name",
            ),
            ("arn:aws:iam::123456789012:role/a//b", "malformed"),
            ("arn:aws:sts::123456789012:assumed-role/x", "is not an ARN"),
            ("arn:aws:sts::123456789012:assumed-role/x/", "session"),
            (
                "arn:aws:sts::123456789012:federated-user/x",
                "not an IAM role or user",
            ),
            ("arn:aws:iam::123456789012:root", "not an IAM role or user"),
        ];
        for (input, want) in cases {
            let err = parse_principal(input).unwrap_err().to_string();
            assert!(err.contains(want), "{input:?}: {err}");
        }
        let long = format!("arn:aws:iam::123456789012:role/{}", "a".repeat(65));
        assert!(role_arn(&long).is_err());
    }

    #[test]
    fn kinds_are_checked() {
        let e = role_arn("arn:aws:iam::123456789012:user/bob").unwrap_err();
        assert!(e.to_string().contains("needs an IAM role ARN"), "{e}");
        let e = user_arn("arn:aws:iam::123456789012:role/bob").unwrap_err();
        assert!(e.to_string().contains("needs an IAM user ARN"), "{e}");
    }

    #[test]
    fn match_keys_fold_case_and_paths() {
        let a = match_key("arn:aws:iam::123456789012:role/Admin");
        assert_eq!(
            a,
            match_key(
                "ARN:AWS:IAM::123456789012:ROLE/admin"
                    .to_lowercase()
                    .as_str()
            )
        );
        assert_eq!(
            a,
            match_key("arn:aws:iam::123456789012:role/some/path/ADMIN")
        );
        assert_eq!(
            a,
            match_key("arn:aws:sts::123456789012:assumed-role/admin/s")
        );
        assert_ne!(a, match_key("arn:aws:iam::123456789012:user/admin"));
        assert_eq!(match_key(" Not An Arn "), "not an arn");
        assert_eq!(
            match_key("ARN:AWS:IAM::123456789012:ROLE/SOME/PATH/ADMIN"),
            a,
            "upper case with a path is still the same principal"
        );
    }

    #[test]
    fn upper_case_arns_parse_as_the_authenticator_reads_them() {
        let p = parse_folded("ARN:AWS:IAM::123456789012:ROLE/UPPER").unwrap();
        assert_eq!(p.kind, PrincipalKind::Role);
        assert_eq!(p.canonical(), "arn:aws:iam::123456789012:role/upper");
        assert!(parse_principal("ARN:AWS:IAM::123456789012:ROLE/UPPER").is_err());
        assert!(authenticator_matches(
            "ARN:AWS:IAM::123456789012:ROLE/UPPER",
            "arn:aws:iam::123456789012:role/upper"
        ));
        assert!(!authenticator_matches(
            "arn:aws:iam::123456789012:role/path/upper",
            "arn:aws:iam::123456789012:role/upper"
        ));
        // Errors still name the text as written.
        let e = parse_folded("ARN:AWS:IAM::123:ROLE/X")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ARN:AWS:IAM::123:ROLE/X"), "{e}");
    }

    #[test]
    fn account_ids() {
        assert!(is_account_id("012345678901"));
        assert!(!is_account_id("12345678901"));
        assert!(!is_account_id("12345678901a"));
    }
}
