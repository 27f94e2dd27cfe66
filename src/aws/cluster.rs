//! The okctl cluster declaration (`cluster.yaml`): only `metadata.name`, `metadata.region`
//! and `metadata.accountID` matter to okscript; every other section belongs to okctl and is
//! ignored. Pure: takes the text, does no I/O.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::error::AwsError;

/// The `apiVersion` of an okctl cluster declaration.
pub const OKCTL_API_VERSION: &str = "okctl.io/v1alpha1";

/// The `kind` of an okctl cluster declaration.
pub const OKCTL_KIND: &str = "Cluster";

/// What okscript takes from an okctl cluster declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterDeclaration {
    /// `metadata.name`: the EKS cluster name.
    pub name: String,
    /// `metadata.region`: the AWS region of the cluster.
    pub region: String,
    /// `metadata.accountID`: the 12-digit AWS account ID.
    pub account_id: String,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "apiVersion")]
    api_version: Option<String>,
    kind: Option<String>,
    metadata: Option<RawMetadata>,
}

#[derive(Deserialize)]
struct RawMetadata {
    name: Option<String>,
    region: Option<String>,
    #[serde(rename = "accountID")]
    account_id: Option<AccountIdValue>,
}

/// `accountID` as written: a string, or a number (accepted only when it has 12 digits).
enum AccountIdValue {
    Text(String),
    Number(String),
    Other(&'static str),
}

impl<'de> Deserialize<'de> for AccountIdValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AccountIdValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a 12-digit account ID")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(AccountIdValue::Text(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(AccountIdValue::Text(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(AccountIdValue::Number(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(AccountIdValue::Number(v.to_string()))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
                Ok(AccountIdValue::Number(v.to_string()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
                Ok(AccountIdValue::Number(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(AccountIdValue::Other("a decimal number"))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(AccountIdValue::Other("a boolean"))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(AccountIdValue::Other("empty (null)"))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(AccountIdValue::Other("empty (null)"))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
                Ok(AccountIdValue::Other("a list"))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
                Ok(AccountIdValue::Other("a mapping"))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses an okctl cluster declaration.
///
/// # Errors
/// [`AwsError::ClusterYaml`] for YAML that does not parse, [`AwsError::ClusterField`] naming
/// the field for a wrong `apiVersion`/`kind`, a missing name or region, or an `accountID`
/// that is not exactly 12 digits.
pub fn parse_cluster_declaration(text: &str) -> Result<ClusterDeclaration, AwsError> {
    let raw: Raw = serde_saphyr::from_str(text).map_err(|e| AwsError::ClusterYaml {
        detail: e.to_string(),
    })?;
    let field = |field: &'static str, problem: String| AwsError::ClusterField { field, problem };
    match raw.api_version.as_deref() {
        Some(OKCTL_API_VERSION) => {}
        Some(other) => {
            return Err(field(
                "apiVersion",
                format!("it is `{other}`, but okscript reads `{OKCTL_API_VERSION}`"),
            ))
        }
        None => {
            return Err(field(
                "apiVersion",
                format!("it is missing; expected `{OKCTL_API_VERSION}`"),
            ))
        }
    }
    match raw.kind.as_deref() {
        Some(OKCTL_KIND) => {}
        Some(other) => {
            return Err(field(
                "kind",
                format!("it is `{other}`, but a cluster declaration has kind `{OKCTL_KIND}`"),
            ))
        }
        None => {
            return Err(field(
                "kind",
                format!("it is missing; expected `{OKCTL_KIND}`"),
            ))
        }
    }
    let meta = raw.metadata.ok_or_else(|| {
        field(
            "metadata",
            "it is missing; it must hold name, region and accountID".into(),
        )
    })?;
    let name = required(meta.name, "metadata.name")?;
    let region = required(meta.region, "metadata.region")?;
    if !region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(field(
            "metadata.region",
            format!("`{region}` is not an AWS region name (like eu-north-1)"),
        ));
    }
    let account_id = match meta.account_id {
        None => return Err(field("metadata.accountID", "it is missing".into())),
        Some(AccountIdValue::Text(s)) => check_account_id(&s).map_err(|p| field("metadata.accountID", p))?,
        Some(AccountIdValue::Number(n)) if n.len() == 12 => n,
        Some(AccountIdValue::Number(n)) => {
            return Err(field(
                "metadata.accountID",
                format!(
                    "it is the number {n}, which has {} digits instead of 12 (an unquoted number loses its leading zeros)",
                    n.trim_start_matches('-').len()
                ),
            ))
        }
        Some(AccountIdValue::Other(what)) => {
            return Err(field(
                "metadata.accountID",
                format!("it is {what}, not a 12-digit account ID"),
            ))
        }
    };
    Ok(ClusterDeclaration {
        name,
        region,
        account_id,
    })
}

fn required(v: Option<String>, name: &'static str) -> Result<String, AwsError> {
    match v.map(|s| s.trim().to_string()) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(AwsError::ClusterField {
            field: name,
            problem: "it is missing or empty".into(),
        }),
    }
}

/// Exactly 12 ASCII digits; otherwise a sentence saying what is wrong.
fn check_account_id(s: &str) -> Result<String, String> {
    let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
    let others: Vec<String> = s
        .chars()
        .filter(|c| !c.is_ascii_digit())
        .map(|c| format!("{c:?}"))
        .collect();
    if others.is_empty() && digits == 12 {
        return Ok(s.to_string());
    }
    let mut problem = format!("`{s}` is not a 12-digit AWS account ID: it has {digits} digits");
    if !others.is_empty() {
        problem.push_str(&format!(" and {} other character", others.len()));
        if others.len() > 1 {
            problem.push('s');
        }
        problem.push_str(&format!(" ({})", others.join(", ")));
    }
    Err(problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(account: &str) -> String {
        format!("apiVersion: okctl.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: c\n  region: eu-north-1\n  accountID: {account}\n")
    }

    #[test]
    fn account_id_forms() {
        assert_eq!(
            parse_cluster_declaration(&doc("\"012345678901\""))
                .unwrap()
                .account_id,
            "012345678901"
        );
        assert_eq!(
            parse_cluster_declaration(&doc("123456789012"))
                .unwrap()
                .account_id,
            "123456789012"
        );
        let e = parse_cluster_declaration(&doc("12345678901"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("metadata.accountID") && e.contains("11 digits"),
            "{e}"
        );
        let e = parse_cluster_declaration(&doc("\"1234567890123\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("13 digits"), "{e}");
        let e = parse_cluster_declaration(&doc("true"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("boolean"), "{e}");
        let e = parse_cluster_declaration(&doc("")).unwrap_err().to_string();
        assert!(e.contains("metadata.accountID"), "{e}");
    }

    #[test]
    fn wrong_kind_and_yaml() {
        let e = parse_cluster_declaration("apiVersion: okctl.io/v1alpha1\nkind: Pod\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`kind`"), "{e}");
        let e = parse_cluster_declaration("a: [1,\n").unwrap_err();
        assert!(matches!(e, AwsError::ClusterYaml { .. }), "{e}");
    }
}
