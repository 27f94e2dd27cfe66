//! Tests of the kubeconfig merge, its YAML and its file layer.

use super::*;

/// How one string value is written.
fn written(s: &str) -> String {
    to_yaml(&serde_json::json!({ "k": s }))
}

#[test]
fn plain_or_quoted() {
    for plain in [
        "v1",
        "Config",
        "https://ABC.gr7.eu-north-1.eks.amazonaws.com",
        "arn:aws:eks:eu-north-1:123456789012:cluster/my-cluster",
        "--cluster",
        "--region",
        "my-cluster",
        "client.authentication.k8s.io/v1beta1",
        "LS0tLS1CRUdJTi==",
        "/home/me/.kube/ca.crt",
    ] {
        assert_eq!(written(plain), format!("k: {plain}\n"), "{plain}");
    }
    // What a YAML 1.1 reader (kubectl's) or a 1.2 reader would read as anything but
    // this string is quoted.
    for quoted in [
        "",
        "yes",
        "No",
        "ON",
        "off",
        "y",
        "true",
        "null",
        "~",
        "1.31",
        "123456789012",
        "-1",
        ".5",
        "0x1F",
        "1:20",
        "a: b",
        "#x",
        "x #y",
        "@x",
        "*x",
        "&x",
        "!x",
        "-",
        "---",
        "\"q\"",
        "[x]",
        "{x}",
        "%x",
        "`x`",
        "key:",
        "\t",
        ".inf",
        "-.inf",
        "+1",
        "NaN",
    ] {
        let w = written(quoted);
        assert!(
            w.starts_with("k: \"") || w.starts_with("k: '"),
            "{quoted:?}: {w}"
        );
    }
    // Plain or not, the rest reads back as itself (the hand-written emitter quoted them;
    // serde-saphyr's serializer writes them plain or as a block where YAML allows).
    for other in ["a b", "it's", "x,y", "é", "a\nb"] {
        let back: serde_json::Value = serde_saphyr::from_str(&written(other)).unwrap();
        assert_eq!(back["k"], *other, "{other:?}");
    }
}

#[test]
fn round_trips_through_serde_saphyr() {
    let tricky = [
        "",
        "yes",
        "No",
        "1.31",
        "123456789012",
        "-1",
        "a: b",
        "#x",
        "x #y",
        "-",
        "---",
        "a\nb\n",
        "\"q\"",
        "it's",
        "back\\slash",
        "tab\there",
        "é ü 日本",
        "\u{1}",
        "~",
        "null",
        "--cluster",
        "https://x:443/p?q=1#f",
    ];
    let mut m = Map::new();
    for (i, s) in tricky.iter().enumerate() {
        m.insert(format!("k{i}"), (*s).into());
        m.insert((*s).to_string(), i.into());
    }
    m.insert(
            "nested".into(),
            serde_json::json!({"list": [[1, [2, {}]], {"a": [], "b": {"c": null}}, 1.5, true, -3], "empty": {}}),
        );
    let v = Value::Object(m);
    let text = to_yaml(&v);
    let back: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back, v, "{text}");
    // deterministic, and a fixed point
    assert_eq!(to_yaml(&back), text);
}

#[test]
fn kubectl_layout() {
    let v = serde_json::json!({
        "apiVersion": "v1",
        "clusters": [{"cluster": {"server": "https://x"}, "name": "a"}],
        "preferences": {},
        "users": [{"name": "a", "user": {"exec": {"args": ["token", "--cluster", "c"]}}}],
    });
    assert_eq!(
            to_yaml(&v),
            "apiVersion: v1\nclusters:\n- cluster:\n    server: https://x\n  name: a\npreferences: {}\nusers:\n- name: a\n  user:\n    exec:\n      args:\n      - token\n      - --cluster\n      - c\n"
        );
}

fn entry() -> KubeconfigEntry {
    KubeconfigEntry {
        cluster: "prod".into(),
        entry_name: "arn:aws:eks:eu-north-1:123456789012:cluster/prod".into(),
        context_name: "arn:aws:eks:eu-north-1:123456789012:cluster/prod".into(),
        server: "https://ABC.gr7.eu-north-1.eks.amazonaws.com".into(),
        certificate_authority_data: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==".into(),
        region: Some("eu-north-1".into()),
        role_arn: None,
        profile: None,
        credentials_type: None,
        command: DEFAULT_COMMAND.into(),
    }
}

#[test]
fn new_file_is_what_aws_cli_would_write_with_okscript() {
    let text = merge_kubeconfig("", &entry().with_profile("dev")).unwrap();
    assert_eq!(
        text,
        "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    server: https://ABC.gr7.eu-north-1.eks.amazonaws.com
  name: arn:aws:eks:eu-north-1:123456789012:cluster/prod
contexts:
- context:
    cluster: arn:aws:eks:eu-north-1:123456789012:cluster/prod
    user: arn:aws:eks:eu-north-1:123456789012:cluster/prod
  name: arn:aws:eks:eu-north-1:123456789012:cluster/prod
current-context: arn:aws:eks:eu-north-1:123456789012:cluster/prod
kind: Config
preferences: {}
users:
- name: arn:aws:eks:eu-north-1:123456789012:cluster/prod
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - token
      - --cluster
      - prod
      - --region
      - eu-north-1
      command: okscript
      env:
      - name: AWS_PROFILE
        value: dev
      interactiveMode: Never
      provideClusterInfo: false
"
    );
    assert_eq!(
        merge_kubeconfig(&text, &entry().with_profile("dev")).unwrap(),
        text
    );
    // comments-only and `~` files count as empty
    assert_eq!(
        merge_kubeconfig("# nothing yet\n", &entry().with_profile("dev")).unwrap(),
        text
    );
}

#[test]
fn refuses_what_it_cannot_read() {
    let err = merge_kubeconfig("apiVersion: v1\nclusters: [\nusers: x\n", &entry()).unwrap_err();
    match &err {
        KubeconfigError::Malformed { line, .. } => assert!(*line >= 2, "{err}"),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("line"), "{err}");
    for (text, word) in [
        ("- a\n- b\n", "top level is a list"),
        ("clusters: {}\n", "`clusters` is a mapping"),
        ("users: 3\n", "`users` is a number"),
        ("kind: Pod\n", "not Config"),
        (
            "clusters:\n- name: arn:aws:eks:eu-north-1:123456789012:cluster/prod\n  cluster: x\n",
            "not a mapping",
        ),
    ] {
        let err = merge_kubeconfig(text, &entry()).unwrap_err();
        assert!(
            matches!(err, KubeconfigError::NotAKubeconfig { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(word), "{err}");
    }
    let mut e = entry();
    e.certificate_authority_data = "not base64!".into();
    assert!(matches!(
        merge_kubeconfig("", &e),
        Err(KubeconfigError::InvalidEntry {
            field: "certificate_authority_data",
            ..
        })
    ));
    let mut e = entry();
    e.server = "ftp://x".into();
    assert!(matches!(
        merge_kubeconfig("", &e),
        Err(KubeconfigError::InvalidEntry {
            field: "server",
            ..
        })
    ));
}

#[test]
fn says_what_it_changed_refuses_a_repoint_and_keeps_json() {
    let other = "contexts:\n- name: prod\n  context: {cluster: other, user: other, namespace: team}\ncurrent-context: other\n";
    let e = entry().with_alias("prod");
    let err = merge_into_kubeconfig(other, &e, false).unwrap_err();
    assert!(
        matches!(&err, KubeconfigError::Repoint { cluster, .. } if cluster == "other"),
        "{err:?}"
    );
    assert!(err.hint().unwrap().contains("--force"));
    let m = merge_into_kubeconfig(other, &e, true).unwrap();
    assert_eq!(m.repointed_from.as_deref(), Some("other"));
    assert_eq!(m.dropped_namespace.as_deref(), Some("team"));
    assert_eq!(m.previous_context.as_deref(), Some("other"));
    // Once it points here, updating it is no repoint and the current context stays.
    let again = merge_into_kubeconfig(&m.text, &e, false).unwrap();
    assert_eq!((again.repointed_from, again.previous_context), (None, None));
    assert_eq!(again.text, m.text);
    // JSON in, JSON out (the same data as the YAML would hold).
    let json =
        merge_into_kubeconfig("{\"apiVersion\": \"v1\", \"kind\": \"Config\"}", &e, false).unwrap();
    let doc: Value = serde_json::from_str(&json.text).unwrap();
    assert_eq!(doc["current-context"], "prod");
    assert_eq!(json.previous_context.as_deref(), Some(""));
    let yaml = merge_into_kubeconfig("apiVersion: v1\nkind: Config\n", &e, false).unwrap();
    assert_eq!(serde_saphyr::from_str::<Value>(&yaml.text).unwrap(), doc);
}

#[test]
fn kubeconfig_path() {
    assert_eq!(
        default_kubeconfig_path(Some("/a:/b"), Some("/home/x")),
        Some(PathBuf::from("/a"))
    );
    assert_eq!(
        default_kubeconfig_path(Some(""), Some("/home/x")),
        Some(PathBuf::from("/home/x/.kube/config"))
    );
    assert_eq!(default_kubeconfig_path(None, None), None);
}
