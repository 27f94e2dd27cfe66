//! The okctl cluster declaration fixtures from shared/.

use okscript::aws::{parse_cluster_declaration, AwsError};

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/okctl")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn valid_cluster_declaration() {
    let c = parse_cluster_declaration(&fixture("cluster.yaml")).unwrap();
    assert_eq!(c.name, "my-cluster");
    assert_eq!(c.region, "eu-north-1");
    assert_eq!(c.account_id, "123456789012");
}

#[test]
fn bad_account_id_is_rejected_naming_the_field() {
    let err = parse_cluster_declaration(&fixture("cluster-bad-account.yaml")).unwrap_err();
    assert!(
        matches!(
            err,
            AwsError::ClusterField {
                field: "metadata.accountID",
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("metadata.accountID"), "{text}");
    assert!(text.contains("12345 678901"), "{text}");
    assert!(text.contains("11 digits"), "{text}");
    assert!(text.contains("' '"), "names the stray space: {text}");
    assert!(err.hint().unwrap().contains("12 digits"));
}
