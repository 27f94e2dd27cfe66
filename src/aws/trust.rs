//! IAM trust policies: who may assume a role. GetRole returns the policy URL-encoded; the
//! principals of its `Allow` statements for `sts:AssumeRole*` are what the report follows.

use serde_json::Value;

/// The principals a trust policy lets assume the role: AWS principals as written (ARNs,
/// account IDs, `*`), then `service NAME` and `federated NAME`. An unreadable policy gives
/// none (the report then shows the role itself).
pub fn trusted_principals(document: &str) -> Vec<String> {
    let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    let Ok(policy) = serde_json::from_str::<Value>(&decoded) else {
        return Vec::new();
    };
    let statements = match &policy["Statement"] {
        Value::Array(s) => s.clone(),
        one @ Value::Object(_) => vec![one.clone()],
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for s in statements {
        if s["Effect"] != "Allow" || !assumes(&s["Action"]) {
            continue;
        }
        match &s["Principal"] {
            Value::String(p) => out.push(p.clone()),
            Value::Object(kinds) => {
                for (kind, names) in kinds {
                    for name in strings(names) {
                        out.push(match kind.as_str() {
                            "AWS" => name,
                            "Service" => format!("service {name}"),
                            "Federated" => format!("federated {name}"),
                            other => format!("{other} {name}"),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    out.dedup();
    out
}

/// True when an `Action` lets a principal assume the role.
fn assumes(action: &Value) -> bool {
    strings(action).iter().any(|a| {
        let a = a.to_ascii_lowercase();
        a == "*" || a == "sts:*" || a.starts_with("sts:assumerole")
    })
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_of_allow_statements_for_assume_role() {
        let doc = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:user/ci","222233334444"]},"Action":"sts:AssumeRole"},
            {"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]},
            {"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/AWSSSO"},"Action":"sts:AssumeRoleWithSAML"},
            {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/evil"},"Action":"sts:AssumeRole"},
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/tagger"},"Action":"sts:TagSession"}]}"#;
        let encoded: String =
            percent_encoding::utf8_percent_encode(doc, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        for d in [doc, encoded.as_str()] {
            assert_eq!(
                trusted_principals(d),
                [
                    "arn:aws:iam::111122223333:user/ci",
                    "222233334444",
                    "service ec2.amazonaws.com",
                    "federated arn:aws:iam::111122223333:saml-provider/AWSSSO"
                ]
            );
        }
        let one = r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:*"}}"#;
        assert_eq!(trusted_principals(one), ["*"]);
        assert!(trusted_principals("not json").is_empty());
    }
}
