//! `merge_kubeconfig` on arbitrary existing text never panics; when it succeeds the result
//! parses as YAML to a mapping with our context current, and merging again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use okscript::kube::{merge_kubeconfig, KubeconfigEntry, DEFAULT_COMMAND};

fn entry() -> KubeconfigEntry {
    KubeconfigEntry {
        cluster: "prod".into(),
        entry_name: "arn:aws:eks:eu-north-1:123456789012:cluster/prod".into(),
        context_name: "prod".into(),
        server: "https://ABCDEF0123456789.gr7.eu-north-1.eks.amazonaws.com".into(),
        certificate_authority_data:
            "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCnByb2QKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
                .into(),
        region: Some("eu-north-1".into()),
        role_arn: None,
        profile: Some("prod".into()),
        command: DEFAULT_COMMAND.into(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let entry = entry();
    let Ok(out) = merge_kubeconfig(text, &entry) else {
        return;
    };
    let doc: serde_json::Value = serde_saphyr::from_str(&out).unwrap_or_else(|e| {
        panic!("the merged kubeconfig does not parse: {e}\n--- input\n{text}\n--- output\n{out}")
    });
    assert_eq!(doc["current-context"], "prod", "{out}");
    let twice = merge_kubeconfig(&out, &entry)
        .unwrap_or_else(|e| panic!("merging into our own output failed: {e}\n{out}"));
    assert_eq!(twice, out, "not idempotent\n--- input\n{text}");
});
