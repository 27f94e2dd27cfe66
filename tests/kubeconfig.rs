//! The kubeconfig writer against real files, read back by serde-saphyr and by the real
//! `kubectl config view` (skipped, saying so, when kubectl is not installed).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use okscript::aws::ClusterInfo;
use okscript::kube::{update_kubeconfig_file, FileOutcome, KubeconfigEntry, KubeconfigError};
use serde_json::Value;

const KUBECTL: &str = "/usr/bin/kubectl";
const ARN: &str = "arn:aws:eks:eu-north-1:123456789012:cluster/prod";
const CA: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCnByb2QKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=";

fn info() -> ClusterInfo {
    ClusterInfo {
        name: "prod".into(),
        arn: ARN.into(),
        region: "eu-north-1".into(),
        endpoint: "https://ABCDEF0123456789.gr7.eu-north-1.eks.amazonaws.com".into(),
        certificate_authority_data: CA.into(),
        certificate_authority_pem: None,
        status: "ACTIVE".into(),
        authentication_mode: Some("API_AND_CONFIG_MAP".into()),
        version: Some("1.31".into()),
    }
}

fn fixture() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kube/two-clusters.yaml");
    std::fs::read_to_string(p).unwrap()
}

fn yaml(path: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn named<'a>(doc: &'a Value, list: &str, name: &str) -> &'a Value {
    doc[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no {list} entry {name}"))
}

fn names(doc: &Value, list: &str) -> Vec<String> {
    doc[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

/// `kubectl config view --raw -o json` of the file, or `None` (with a message) without kubectl.
fn kubectl_view(path: &Path) -> Option<Value> {
    if !Path::new(KUBECTL).exists() {
        eprintln!("SKIPPED kubectl check: {KUBECTL} is not installed");
        return None;
    }
    let out = Command::new(KUBECTL)
        .args(["config", "view", "--raw", "-o", "json", "--kubeconfig"])
        .arg(path)
        .env_remove("KUBECONFIG")
        .output()
        .expect("run kubectl");
    assert!(
        out.status.success(),
        "kubectl could not read {}: {}\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(path).unwrap()
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

fn check_exec_in_kubectl(view: &Value, user: &str, profile: Option<&str>, args: &[&str]) {
    let exec = &named(view, "users", user)["user"]["exec"];
    assert_eq!(exec["apiVersion"], "client.authentication.k8s.io/v1beta1");
    assert_eq!(exec["command"], "okscript");
    assert_eq!(exec["args"], serde_json::json!(args));
    assert_eq!(exec["interactiveMode"], "Never");
    assert_eq!(exec["provideClusterInfo"], false);
    match profile {
        Some(p) => assert_eq!(
            exec["env"],
            serde_json::json!([{"name": "AWS_PROFILE", "value": p}])
        ),
        None => assert!(exec["env"].is_null(), "{exec}"),
    }
}

fn leftovers(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect()
}

#[test]
fn missing_file_is_created_0600_and_kubectl_reads_it() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join(".kube/config");
    let entry = KubeconfigEntry::for_cluster(&info()).with_profile("dev");
    assert_eq!(
        update_kubeconfig_file(&path, &entry).unwrap(),
        FileOutcome::Created
    );
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    let doc = yaml(&path);
    assert_eq!(doc["current-context"], ARN);
    assert_eq!(names(&doc, "clusters"), [ARN]);

    let Some(view) = kubectl_view(&path) else {
        return;
    };
    assert_eq!(view["current-context"], ARN);
    let cluster = &named(&view, "clusters", ARN)["cluster"];
    assert_eq!(cluster["server"], info().endpoint);
    assert_eq!(cluster["certificate-authority-data"], CA);
    let ctx = &named(&view, "contexts", ARN)["context"];
    assert_eq!(ctx["cluster"], ARN);
    assert_eq!(ctx["user"], ARN);
    check_exec_in_kubectl(
        &view,
        ARN,
        Some("dev"),
        &["token", "--cluster", "prod", "--region", "eu-north-1"],
    );
}

#[test]
fn merges_into_a_kubeconfig_with_other_clusters_keeping_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, fixture()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before: Value = serde_saphyr::from_str(&fixture()).unwrap();

    let entry = KubeconfigEntry::for_cluster(&info())
        .with_alias("prod")
        .with_role_arn("arn:aws:iam::123456789012:role/eks-admins");
    assert_eq!(
        update_kubeconfig_file(&path, &entry).unwrap(),
        FileOutcome::Updated
    );
    assert_eq!(mode(&path), 0o644, "the existing mode is kept");
    assert!(leftovers(dir.path()).is_empty());
    let after = yaml(&path);

    // the top-level keys, in their order, and every entry okscript does not own, unchanged
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&after), keys(&before));
    for key in ["apiVersion", "kind", "preferences", "x-top-level-unknown"] {
        assert_eq!(after[key], before[key], "{key}");
    }
    assert_eq!(
        after["x-top-level-unknown"]["nested"], "on",
        "a string stays a string"
    );
    assert_eq!(names(&after, "clusters"), ["kind-dev", "onprem", ARN]);
    assert_eq!(names(&after, "users"), ["kind-dev", "onprem-admin", ARN]);
    assert_eq!(names(&after, "contexts"), ["kind-dev", "onprem", "prod"]);
    for (list, name) in [
        ("clusters", "kind-dev"),
        ("clusters", "onprem"),
        ("users", "kind-dev"),
        ("users", "onprem-admin"),
        ("contexts", "kind-dev"),
        ("contexts", "onprem"),
    ] {
        assert_eq!(
            named(&after, list, name),
            named(&before, list, name),
            "{list} {name}"
        );
    }
    assert_eq!(after["current-context"], "prod");
    let ctx = &named(&after, "contexts", "prod")["context"];
    assert_eq!(ctx["cluster"], ARN);
    assert_eq!(ctx["user"], ARN);

    let Some(view) = kubectl_view(&path) else {
        return;
    };
    assert_eq!(view["current-context"], "prod");
    assert_eq!(view["preferences"]["colors"], true);
    let onprem = &named(&view, "clusters", "onprem")["cluster"];
    assert_eq!(onprem["insecure-skip-tls-verify"], true);
    assert_eq!(onprem["proxy-url"], "http://proxy.corp:3128");
    assert_eq!(
        named(&view, "users", "onprem-admin")["user"]["token"],
        "yes"
    );
    assert_eq!(
        named(&view, "contexts", "onprem")["context"]["namespace"],
        "123"
    );
    check_exec_in_kubectl(
        &view,
        ARN,
        None,
        &[
            "token",
            "--cluster",
            "prod",
            "--region",
            "eu-north-1",
            "--role-arn",
            "arn:aws:iam::123456789012:role/eks-admins",
        ],
    );
}

#[test]
fn updates_in_place_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    // okscript's entries already there, with a stale server, a CA file path and a token
    let stale = format!(
        "{}\n",
        fixture()
            .replace(
                "clusters:\n",
                &format!("clusters:\n- name: {ARN}\n  cluster:\n    server: https://old.example\n    certificate-authority: /tmp/ca.crt\n    tls-server-name: keep\n")
            )
            .replace(
                "users:\n",
                &format!("users:\n- name: {ARN}\n  user:\n    token: stale-token\n    exec: {{command: aws}}\n    x-mine: keep\n- name: {ARN}\n  user: {{token: duplicate}}\n")
            )
    );
    std::fs::write(&path, &stale).unwrap();
    let entry = KubeconfigEntry::for_cluster(&info());
    assert_eq!(
        update_kubeconfig_file(&path, &entry).unwrap(),
        FileOutcome::Updated
    );
    let doc = yaml(&path);
    assert_eq!(
        names(&doc, "clusters"),
        [ARN, "kind-dev", "onprem"],
        "updated where it was"
    );
    assert_eq!(
        names(&doc, "users"),
        [ARN, "kind-dev", "onprem-admin"],
        "duplicate dropped"
    );
    assert_eq!(names(&doc, "contexts"), ["kind-dev", "onprem", ARN]);
    let cluster = &named(&doc, "clusters", ARN)["cluster"];
    assert_eq!(cluster["server"], info().endpoint);
    assert_eq!(cluster["certificate-authority-data"], CA);
    assert!(cluster.get("certificate-authority").is_none(), "{cluster}");
    assert_eq!(cluster["tls-server-name"], "keep");
    let user = &named(&doc, "users", ARN)["user"];
    assert!(user.get("token").is_none(), "{user}");
    assert_eq!(user["x-mine"], "keep");
    assert_eq!(user["exec"]["command"], "okscript");

    // a new server and region: still one entry each
    let mut moved = info();
    moved.endpoint = "https://NEW.gr7.eu-north-1.eks.amazonaws.com".into();
    let entry = KubeconfigEntry::for_cluster(&moved);
    assert_eq!(
        update_kubeconfig_file(&path, &entry).unwrap(),
        FileOutcome::Updated
    );
    let doc = yaml(&path);
    assert_eq!(names(&doc, "clusters"), [ARN, "kind-dev", "onprem"]);
    assert_eq!(
        named(&doc, "clusters", ARN)["cluster"]["server"],
        moved.endpoint
    );
    if let Some(view) = kubectl_view(&path) {
        check_exec_in_kubectl(
            &view,
            ARN,
            None,
            &["token", "--cluster", "prod", "--region", "eu-north-1"],
        );
    }
}

#[test]
fn running_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (i, start) in [None, Some(fixture())].into_iter().enumerate() {
        let path = dir.path().join(format!("config{i}"));
        if let Some(text) = &start {
            std::fs::write(&path, text).unwrap();
        }
        let entry = KubeconfigEntry::for_cluster(&info()).with_profile("dev");
        update_kubeconfig_file(&path, &entry).unwrap();
        let first = std::fs::read(&path).unwrap();
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&path).unwrap());
        assert_eq!(
            update_kubeconfig_file(&path, &entry).unwrap(),
            FileOutcome::Unchanged
        );
        assert_eq!(std::fs::read(&path).unwrap(), first, "byte-identical");
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.modified().unwrap(), modified, "not even rewritten");
        assert_eq!(std::os::unix::fs::MetadataExt::ino(&meta), inode);
    }
}

#[test]
fn a_malformed_kubeconfig_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    let broken = "apiVersion: v1\nclusters:\n- name: a\n  cluster:\n    server: https://x\n   bad-indent: y\nusers: []\n";
    std::fs::write(&path, broken).unwrap();
    let err = update_kubeconfig_file(&path, &KubeconfigEntry::for_cluster(&info())).unwrap_err();
    match &err {
        KubeconfigError::Malformed { file, line, .. } => {
            assert_eq!(file.as_deref(), Some(path.as_path()));
            assert!((5..=6).contains(line), "line {line}: {err}");
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains(&path.display().to_string()) && text.contains("line"),
        "{text}"
    );
    assert!(err.hint().unwrap().contains("never overwrites"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken, "unchanged");
    assert!(leftovers(dir.path()).is_empty());

    // YAML, but not a kubeconfig
    std::fs::write(&path, "clusters: nope\n").unwrap();
    let err = update_kubeconfig_file(&path, &KubeconfigEntry::for_cluster(&info())).unwrap_err();
    assert!(
        matches!(err, KubeconfigError::NotAKubeconfig { .. }),
        "{err:?}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "clusters: nope\n");
}

#[test]
fn a_symlinked_kubeconfig_stays_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real-config");
    std::fs::write(&real, fixture()).unwrap();
    let link = dir.path().join("config");
    std::os::unix::fs::symlink("real-config", &link).unwrap();
    update_kubeconfig_file(&link, &KubeconfigEntry::for_cluster(&info())).unwrap();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(names(&yaml(&real), "clusters"), ["kind-dev", "onprem", ARN]);
}

// Issue 13 item 13: `okscript kubeconfig` through the binary, against moto's EKS: it says
// what it changes, keeps a JSON kubeconfig JSON, and refuses to repoint a context.

/// moto with an EKS cluster, and `okscript kubeconfig --cluster NAME --kubeconfig FILE`.
struct Eks {
    moto: crate::support::MotoServer,
    key: String,
    secret: String,
    dir: crate::util::TestDir,
    arn: String,
}

const REGION: &str = "eu-north-1";

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

impl Eks {
    fn new() -> Eks {
        let moto = crate::support::MotoServer::start();
        let arn = block_on(crate::support::create_cluster(&moto, REGION, "prod"));
        let (key, secret) = block_on(crate::support::create_user_with_key(
            &moto,
            "kube-user",
            None,
            true,
        ));
        Eks {
            moto,
            key,
            secret,
            dir: crate::util::TestDir::new(),
            arn,
        }
    }

    fn kubeconfig(&self, file: &Path, args: &[&str]) -> crate::util::Outcome {
        self.dir
            .cmd()
            .env("AWS_ACCESS_KEY_ID", &self.key)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
            .env("AWS_ENDPOINT_URL", &self.moto.endpoint())
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("OKSCRIPT_AWS_CREDENTIALS_TYPE", "access-key")
            .args(["kubeconfig", "--cluster", "prod", "--kubeconfig"])
            .arg(file)
            .args(args)
            .run()
    }
}

#[test]
fn kubeconfig_command_says_when_it_changes_the_current_context() {
    let eks = Eks::new();
    let file = eks.dir.join("config");
    std::fs::write(&file, fixture()).unwrap();
    eks.kubeconfig(&file, &["--alias", "prod"])
        .expect_code(0)
        .expect_stdout(&[
            "context prod",
            "current-context changed from kind-dev to prod",
        ]);
    assert_eq!(yaml(&file)["current-context"], "prod");
    // Again: nothing changes, so nothing is said about the current context.
    let out = eks.kubeconfig(&file, &["--alias", "prod"]);
    out.expect_code(0).expect_stdout(&["already up to date"]);
    assert!(!out.stdout.contains("current-context"), "{}", out.stdout);
}

#[test]
fn kubeconfig_command_refuses_to_repoint_an_existing_context_without_force() {
    let eks = Eks::new();
    let file = eks.dir.join("config");
    std::fs::write(&file, fixture()).unwrap();
    let before = std::fs::read(&file).unwrap();
    eks.kubeconfig(&file, &["--alias", "onprem"])
        .expect_code(1)
        .expect_stderr(&[
            "already has a context `onprem` for the cluster `onprem`",
            "left unchanged",
            "hint:",
            "--force",
        ]);
    assert_eq!(std::fs::read(&file).unwrap(), before, "byte-identical");
    // With --force it is repointed, and the other cluster's namespace goes with it.
    eks.kubeconfig(&file, &["--alias", "onprem", "--force"])
        .expect_code(0)
        .expect_stdout(&[
            "context onprem pointed at cluster `onprem` before",
            "namespace `123` was dropped",
            "current-context changed from kind-dev to onprem",
        ]);
    let doc = yaml(&file);
    let ctx = &named(&doc, "contexts", "onprem")["context"];
    assert_eq!(ctx["cluster"], eks.arn.as_str());
    assert!(ctx.get("namespace").is_none(), "{ctx}");
    assert_eq!(
        names(&doc, "clusters"),
        ["kind-dev", "onprem", eks.arn.as_str()]
    );
}

#[test]
fn kubeconfig_command_keeps_a_json_kubeconfig_json() {
    let eks = Eks::new();
    let file = eks.dir.join("config.json");
    let start: Value = serde_saphyr::from_str(&fixture()).unwrap();
    std::fs::write(&file, serde_json::to_string(&start).unwrap()).unwrap();
    eks.kubeconfig(&file, &[])
        .expect_code(0)
        .expect_stdout(&["updated"]);
    let text = std::fs::read_to_string(&file).unwrap();
    let doc: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));
    assert_eq!(doc["current-context"], eks.arn.as_str());
    assert_eq!(
        names(&doc, "contexts"),
        ["kind-dev", "onprem", eks.arn.as_str()]
    );
    assert_eq!(doc["x-top-level-unknown"], start["x-top-level-unknown"]);
    if let Some(view) = kubectl_view(&file) {
        assert_eq!(view["current-context"], eks.arn.as_str());
    }
    // Running again leaves the JSON file as it is.
    let out = eks.kubeconfig(&file, &[]);
    out.expect_code(0).expect_stdout(&["already up to date"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}
